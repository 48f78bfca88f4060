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


def test_the_dataset_commands_do_not_import_torch(tmp_path):
    """A dataset builder's machine may have no GPU stack: making, checking, describing and packing a
    dataset run on NumPy, Pillow and PyAV alone (torch costs seconds of import per command)."""
    root, packed = tmp_path / "data", tmp_path / "packed"
    code = ("import sys; from dfer.cli import main; "
            f"codes = [main(['synth', '--format', 'ferv39k', '--out', {str(root)!r}, '--clips', '8', '--size', '32']), "
            f"main(['data', 'check', {str(root)!r}, '--strict']), main(['data', 'stats', {str(root)!r}]), "
            f"main(['data', 'pack', {str(root)!r}, '--out', {str(packed)!r}, '--size', '32'])]; "
            "print(codes, 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[0, 0, 0, 0] False", result.stdout
