import subprocess
import sys

import numpy as np

import dfer.data


def test_tim_is_the_public_function():
    frames = np.random.default_rng(0).random((9, 6, 5, 3))
    assert np.abs(dfer.data.tim(frames, 9) - frames).max() < 1e-6
    assert dfer.data.tim(frames, 16).shape == (16, 6, 5, 3)


def test_lazy_names_resolve_and_reading_does_not_import_torch():
    assert dfer.data.ClipDataset.__name__ == "ClipDataset"
    assert callable(dfer.data.pack) and callable(dfer.data.write_synthetic)
    code = "import sys, dfer.data, dfer.cli; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
