import subprocess
import sys

import numpy as np
from PIL import Image

from dfer.data.normalize import tim_folders
from tests.conftest import write_frames


def test_writes_16f_folders_and_resumes(tmp_path):
    src, dst = tmp_path / "clip_224x224", tmp_path / "clip_224x224_16f"
    write_frames(src / "00001", [f"00001_{k:05d}.jpg" for k in range(1, 6)])
    write_frames(src / "00002", [f"00002_{k:05d}.jpg" for k in range(1, 31)])
    summary = tim_folders(src, dst, frames=16, progress=False)
    assert (summary.written, summary.skipped, summary.failed) == (2, 0, [])
    for clip in ("00001", "00002"):
        assert sorted(p.name for p in (dst / clip).iterdir()) == sorted(f"{k}.jpg" for k in range(1, 17))

    # a killed run leaves an incomplete folder and a staging folder: the re-run repairs both
    (dst / "00002" / "16.jpg").unlink()
    (dst / ".00001.partial").mkdir()
    summary = tim_folders(src, dst, frames=16, progress=False)
    assert (summary.written, summary.skipped) == (1, 1)
    assert (dst / "00002" / "16.jpg").is_file()


def test_k_equal_n_keeps_the_frames(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "c").mkdir(parents=True)
    ramp = np.linspace(0, 1, 24)
    originals = []
    for k in range(16):  # smooth frames, so JPEG loss stays small
        frame = (255 * np.stack([np.outer(ramp, ramp) * (k / 15), np.tile(ramp, (24, 1)),
                                 np.full((24, 24), 0.5)], axis=-1)).astype(np.uint8)
        Image.fromarray(frame).save(src / "c" / f"{k + 1}.png")
        originals.append(frame.astype(float))
    tim_folders(src, dst, frames=16, progress=False)
    for k, original in enumerate(originals, start=1):
        normalised = np.asarray(Image.open(dst / "c" / f"{k}.jpg"), dtype=float)
        assert np.abs(original - normalised).mean() < 2  # only JPEG loss


def test_failures_are_reported_and_exit_non_zero(tmp_path):
    src = tmp_path / "src"
    write_frames(src / "good", ["1.jpg", "2.jpg"])
    write_frames(src / "mixed", ["1.jpg"], size=16)
    write_frames(src / "mixed", ["2.jpg"], size=20)
    result = subprocess.run([sys.executable, "-m", "dfer.cli", "data", "tim", str(src), str(tmp_path / "dst"),
                             "--frames", "8"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "mixed: frames differ in size" in result.stdout
    assert "1 clips written" in result.stdout
