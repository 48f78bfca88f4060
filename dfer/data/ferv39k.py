"""Reader for FERV39k as released (Wang et al., CVPR 2022) and its protocol setups (§4.1: 27 setups, 80/20).

Layout under ``root``::

    0_7_LabelClips/<Scene>/<Emotion>/<id>.mp4           original clips
    2_ClipsforFaceCrop/<Scene>/<Emotion>/<id>/*.jpg     face crops (224²)
    3_ClipsforScenImages/<Scene>/<Emotion>/<id>/*.jpg   scene frames (336×504)
    4_setups/All_scenes/train_All.csv, test_All.csv     no header: "Action/Sad/0010 Sad"

The paper splits all clips once (80/20) and reads its 27 setups — all scenes, each of the 4
scenarios, each of the 22 scenes — as subsets of that split; cross-scenario tests train on one
scenario's training clips and test on another's test clips.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dfer import labels
from dfer.data.records import ProblemLog, list_frames, make_table
from dfer.errors import InputError
from dfer.io.frames import count_video_frames

FACES_DIR = "2_ClipsforFaceCrop"
SCENES_DIR = "3_ClipsforScenImages"
VIDEOS_DIR = "0_7_LabelClips"
SPLIT_FILES = {"train": "4_setups/All_scenes/train_All.csv", "test": "4_setups/All_scenes/test_All.csv"}
SOURCES = ("faces", "video")

#: The paper's 27 setups: all scenes, the 4 scenarios, the 22 scenes.
SETUPS: tuple[str, ...] = ("All", *labels.SCENARIOS, *labels.SCENES)


def read_split_file(path: Path, log: ProblemLog) -> list[tuple[str, int, int]]:
    """``(clip_id, canonical label, row)`` per line of a header-less, space-separated split file."""
    path = Path(path)
    if not path.is_file():
        log.add(path, "split file not found")
        return []
    entries = []
    with open(path, encoding="utf-8-sig") as handle:
        for row_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2:
                log.add(path, f"expected '<Scene>/<Emotion>/<id> <Emotion>', found {line.strip()!r}", row=row_number)
                continue
            key, name = parts
            pieces = key.strip("/").split("/")
            if len(pieces) != 3:
                log.add(path, f"clip path {key!r} is not <Scene>/<Emotion>/<id>", row=row_number)
                continue
            scene, folder_emotion, _ = pieces
            try:
                label = labels.from_ferv39k(name)
            except ValueError as error:
                log.add(path, str(error), row=row_number)
                continue
            if folder_emotion != name:
                log.add(path, f"label {name!r} disagrees with the emotion folder {folder_emotion!r}", row=row_number)
                continue
            if scene not in labels.SCENE_TO_SCENARIO:
                log.add(path, f"unknown scene {scene!r}; expected one of {', '.join(labels.SCENES)}", row=row_number)
                continue
            entries.append(("/".join(pieces), label, row_number))
    return entries


def read_ferv39k(
    root: Path, setup: str = "All", source: str = "faces", with_scene: bool = False, errors: str = "raise"
) -> pd.DataFrame:
    """Clip table of FERV39k for one protocol ``setup`` (see :data:`SETUPS`).

    ``source`` is ``faces`` (face-crop frame folders) or ``video`` (original clips);
    ``with_scene`` also lists the scene frames (for two-stream models). Clip ids are
    ``<Scene>/<Emotion>/<id>`` as in the split files.
    """
    root = Path(root)
    if source not in SOURCES:
        raise InputError(f"unknown FERV39k source {source!r}; expected one of {', '.join(SOURCES)}")
    log = ProblemLog(errors)
    if not (root / "4_setups").is_dir():
        log.add(root, "not a FERV39k root: no 4_setups folder")
        return log.attach(make_table([]))
    seen: dict[str, str] = {}
    rows = []
    for split, relative in SPLIT_FILES.items():
        split_path = root / relative
        for key, label, row_number in read_split_file(split_path, log):
            if key in seen:
                log.add(split_path, f"clip {key} already listed in the {seen[key]} split", row=row_number)
                continue
            seen[key] = split
            scene = key.split("/")[0]
            row = {"clip_id": key, "dataset": "ferv39k", "label": label, "split": split, "scene": scene,
                   "scenario": labels.SCENE_TO_SCENARIO[scene]}
            video = root / VIDEOS_DIR / f"{key}.mp4"
            row["video"] = str(video) if video.is_file() else None
            if source == "video":
                if row["video"] is None:
                    log.add(video, f"original clip not found ({split_path.name}, row {row_number})")
                    continue
                row["num_frames"] = count_video_frames(video)
            else:
                frames = list_frames(root / FACES_DIR / key)
                if not frames:
                    log.add(root / FACES_DIR / key, f"face-crop folder missing or empty ({split_path.name}, row {row_number})")
                    continue
                row.update(frames=frames, num_frames=len(frames))
            if with_scene:
                scene_frames = list_frames(root / SCENES_DIR / key)
                if not scene_frames:
                    log.add(root / SCENES_DIR / key, f"scene-frame folder missing or empty ({split_path.name}, row {row_number})")
                    continue
                if source == "faces" and len(scene_frames) != row["num_frames"]:
                    log.add(root / SCENES_DIR / key, f"{len(scene_frames)} scene frames but {row['num_frames']} face crops")
                    continue
                row["scene_frames"] = scene_frames
            rows.append(row)
    return log.attach(select_setup(make_table(rows), setup))


def select_setup(table: pd.DataFrame, setup: str) -> pd.DataFrame:
    """Rows of one of the 27 setups: ``All``, a scenario (DL, WIS, SIA, AI) or a scene."""
    if setup == "All":
        return table
    if setup in labels.SCENARIOS:
        return table[table["scenario"] == setup].reset_index(drop=True)
    if setup in labels.SCENE_TO_SCENARIO:
        return table[table["scene"] == setup].reset_index(drop=True)
    raise InputError(f"unknown FERV39k setup {setup!r}; expected one of {', '.join(SETUPS)}")


def cross_scenario(table: pd.DataFrame, train: str, test: str) -> pd.DataFrame:
    """Train on scenario ``train``'s training clips, test on scenario ``test``'s test clips."""
    for name in (train, test):
        if name not in labels.SCENARIOS:
            raise InputError(f"unknown scenario {name!r}; expected one of {', '.join(labels.SCENARIOS)}")
    keep = ((table["split"] != "test") & (table["scenario"] == train)) | (
        (table["split"] == "test") & (table["scenario"] == test)
    )
    return table[keep].reset_index(drop=True)
