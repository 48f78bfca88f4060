import av
import numpy as np
import pandas as pd
import pytest

from dfer import labels
from dfer.data.manifest import read_manifest
from dfer.errors import DatasetError
from tests.conftest import write_frames


def write_video(path, frames=7, size=32):
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            image = np.full((size, size, 3), index * 20, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())


def test_csv_with_folders_and_videos(tmp_path):
    write_frames(tmp_path / "clips" / "a", [f"{k}.png" for k in (1, 2, 10)])
    write_video(tmp_path / "b.mp4")
    (tmp_path / "m.csv").write_text("path,label,split,scene,subject\n"
                                    "clips/a,Happiness,train,office,s1\n"
                                    f"{tmp_path / 'b.mp4'},sad,test,,s2\n"
                                    "clips/a,,val,,\n")
    # the third row repeats a path: ids are paths unless clip_id is given
    with pytest.raises(DatasetError, match=r"m\.csv, row 4: clip 'clips/a' listed twice"):
        read_manifest(tmp_path / "m.csv")
    table = read_manifest(tmp_path / "m.csv", errors="collect")
    assert list(table["label"]) == [labels.INDEX["happy"], labels.INDEX["sad"]]
    assert list(table["num_frames"]) == [3, 7]
    assert table.loc[0, "frames"][-1].endswith("10.png")
    assert table.loc[1, "video"].endswith("b.mp4") and table.loc[1, "frames"] is None
    assert list(table["scene"]) == ["office", ""]


def test_parquet_and_unlabeled(tmp_path):
    write_frames(tmp_path / "x", ["1.jpg", "2.jpg"])
    pd.DataFrame({"path": ["x"], "label": [""], "clip_id": ["clip-x"]}).to_parquet(tmp_path / "m.parquet")
    table = read_manifest(tmp_path / "m.parquet")
    assert table.loc[0, "clip_id"] == "clip-x" and table.loc[0, "label"] == -1


@pytest.mark.parametrize("row, message", [
    ("x,3", "label '3' is a number"),
    ("x,contempt", "unknown expression 'contempt'"),
    ("missing,happy", "is neither a frame folder nor a video"),
])
def test_bad_rows_name_the_row(tmp_path, row, message):
    write_frames(tmp_path / "x", ["1.jpg"])
    (tmp_path / "m.csv").write_text(f"path,label\n{row}\n")
    with pytest.raises(DatasetError, match=rf"m\.csv, row 2: .*{message}"):
        read_manifest(tmp_path / "m.csv")


def test_missing_columns(tmp_path):
    (tmp_path / "m.csv").write_text("file,emotion\na,happy\n")
    with pytest.raises(DatasetError, match=r"missing column\(s\) \['path', 'label'\]"):
        read_manifest(tmp_path / "m.csv")
