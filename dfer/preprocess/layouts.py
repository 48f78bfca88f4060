"""Where a video's face crops and scene frames go, for each output layout.

``frames``  plain folders:  ``faces_224/<video>/<track>/<frame>.jpg``, ``scenes_336x504/<video>/<frame>.jpg``
            (frame = the frame's index in the video, 6 digits, so files join the per-frame table).
``dfew``    the DFEW release: ``Clip/clip_224x224/<video>/<video>_<n>.jpg`` (n = 1, 2, … 5 digits)
            for the video's main face; other sizes in ``Clip/clip_112x112/`` and so on.
``ferv39k`` the FERV39k release: ``2_ClipsforFaceCrop/<Scene>/<Emotion>/<video>/<n>.jpg`` and
            ``3_ClipsforScenImages/<Scene>/<Emotion>/<video>/<n>.jpg`` for the main face; other
            sizes in sibling trees suffixed with the size (``2_ClipsforFaceCrop_112x112``).

Each layout gives, per video, the top-level folders it owns (what is staged and moved into place
as a whole) and the relative path of every file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

LAYOUTS = ("frames", "dfew", "ferv39k")


@dataclass(frozen=True)
class Placement:
    """The output paths of one video in one layout."""

    layout: str
    video: str
    scene: str = ""
    expression: str = ""  # FERV39k folder name, e.g. "Happy"

    @property
    def main_face_only(self) -> bool:
        """Release layouts hold one face per clip: the video's main track."""
        return self.layout != "frames"

    def face_folder(self, size: int, primary: bool, track: int) -> PurePosixPath:
        """The folder of one track's face crops at ``size``²."""
        if self.layout == "frames":
            return PurePosixPath(f"faces_{size}", self.video, f"track_{track}")
        if self.layout == "dfew":
            return PurePosixPath("Clip", f"clip_{size}x{size}", self.video)
        tree = "2_ClipsforFaceCrop" if primary else f"2_ClipsforFaceCrop_{size}x{size}"
        return PurePosixPath(tree, self.scene, self.expression, self.video)

    def scene_folder(self, size: tuple[int, int], primary: bool) -> PurePosixPath | None:
        """The folder of scene frames at ``size`` = (height, width); None where the layout has none."""
        height, width = size
        if self.layout == "frames":
            return PurePosixPath(f"scenes_{height}x{width}", self.video)
        if self.layout == "dfew":
            return None
        tree = "3_ClipsforScenImages" if primary else f"3_ClipsforScenImages_{height}x{width}"
        return PurePosixPath(tree, self.scene, self.expression, self.video)

    def file_name(self, frame: int, number: int) -> str:
        """File name of a frame: its index in ``frames``; its 1-based number in the release layouts."""
        if self.layout == "frames":
            return f"{frame:06d}.jpg"
        if self.layout == "dfew":
            return f"{self.video}_{number:05d}.jpg"
        return f"{number:04d}.jpg"
