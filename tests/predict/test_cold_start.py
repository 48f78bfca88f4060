"""The default path of ``dfer predict`` runs without torch: onnxruntime runs the ONNX file."""

import subprocess
import sys

from tests.conftest import SHARED


def test_predict_with_the_default_model_imports_no_torch(dfer_home, tmp_path):
    script = ("import sys\nfrom dfer.cli import main\n"
              f"status = main(['predict', {str(SHARED / 'videos' / 'single_face.mp4')!r}, '--out', {str(tmp_path / 'o')!r}])\n"
              "print('status', status, 'torch' in sys.modules, 'torchvision' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "status 0 False False"
    assert (tmp_path / "o" / "report.html").is_file()
