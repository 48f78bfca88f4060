"""``dfer annotate export``: aggregated labels → a dataset in the FERV39k or DFEW release layout.

Input: the annotation database (labels of one aggregation method, and the usable answers for
DFEW-style vote counts) and the candidate table of ``dfer build candidates`` (clip_id, path of the
cut video, faces and scenes folders, scene). Output, read back by :mod:`dfer.data.ferv39k` and
:mod:`dfer.data.dfew`:

``ferv39k``  ``0_7_LabelClips/<Scene>/<Emotion>/<clip>.mp4``, ``2_ClipsforFaceCrop/…/<clip>/0001.jpg``,
             ``3_ClipsforScenImages/…``, ``4_setups/All_scenes/{train,test}_All.csv`` (80/20, stratified
             by scene and expression) — scenes must be FERV39k's 22 scene names;
``dfew``     ``Clip/original/<id>.mp4``, ``Clip/clip_224x224/<id>/<id>_00001.jpg`` (ids 00001, …),
             ``Annotation/annotation.xlsx`` (vote counts per expression from the usable answers),
             ``Annotation/clip_ids.csv`` (id → clip), ``EmoLabel_DataSplit/{train,test}(single-labeled)/
             set_1..5.csv`` (5 folds stratified by label).

Files are hard-linked where possible (else copied). The dataset is written into ``<out>.partial``
and renamed to ``<out>`` when complete, so a killed export leaves no half dataset behind.
"""

from __future__ import annotations

import os
import shutil
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

from dfer import labels
from dfer.curation.annotation import connect, usable_answers
from dfer.data.records import list_frames
from dfer.data.splits import stratified_folds, stratified_holdout
from dfer.errors import DatasetError, InputError
from dfer.io.atomic import link_or_copy, write_table

FORMATS = ("ferv39k", "dfew")


def labelled_clips(database: str | Path, candidates: pd.DataFrame, method: str = "wta") -> pd.DataFrame:
    """The candidates that have a label of ``method`` (columns of the candidate table plus ``label``)."""
    with closing(connect(database)) as connection:
        stored = pd.read_sql_query("SELECT clip_id, label FROM labels WHERE method = ?", connection, params=(method,))
    if stored.empty:
        raise InputError(f"no labels of method {method!r} in {database}; run `dfer annotate aggregate --method {method}`")
    missing = sorted(set(stored.clip_id) - set(candidates.clip_id))
    if missing:
        raise InputError(f"{len(missing)} labelled clip(s) are not in the candidate table, e.g. {missing[:3]}")
    return candidates.merge(stored, on="clip_id").sort_values("clip_id", ignore_index=True)


def vote_counts(database: str | Path, clip_ids) -> pd.DataFrame:
    """DFEW-style votes: per clip, how many usable answers chose each expression (canonical order)."""
    answers = usable_answers(database)
    counts = pd.crosstab(answers.task, answers.label).reindex(index=list(clip_ids), columns=list(labels.EXPRESSIONS),
                                                             fill_value=0)
    return counts.fillna(0).astype(int)


def export_dataset(database: str | Path, candidates: pd.DataFrame, out: str | Path, format: str = "ferv39k",
                   method: str = "wta", seed: int = 0, test_share: float = 0.2) -> dict:
    """Write the labelled candidates as a ``format`` dataset at ``out``; returns counts."""
    if format not in FORMATS:
        raise InputError(f"unknown export format {format!r}; expected one of {FORMATS}")
    out = Path(out)
    if out.exists():
        raise InputError(f"{out} already exists; export into a new folder")
    missing = {"clip_id", "path", "faces"} - set(candidates.columns)
    if missing:
        raise DatasetError("candidates", f"missing column(s) {sorted(missing)}; give the candidates.csv of "
                                         "`dfer build candidates`", row=1)
    clips = labelled_clips(database, candidates, method)
    for number, clip in enumerate(clips.itertuples(), start=2):
        if not list_frames(Path(clip.faces)):
            raise DatasetError(clip.faces, f"clip {clip.clip_id}: face-crop folder missing or empty")
        if not Path(clip.path).is_file():
            raise DatasetError(clip.path, f"clip {clip.clip_id}: video missing")
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    rng = np.random.default_rng(seed)
    try:
        if format == "ferv39k":
            facts = _ferv39k(partial, clips, rng, test_share)
        else:
            facts = _dfew(partial, clips, vote_counts(database, clips.clip_id), rng)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    os.replace(partial, out)
    return {"format": format, "method": method, "clips": len(clips), "out": str(out),
            "per_class": clips.label.value_counts().reindex(list(labels.EXPRESSIONS), fill_value=0).to_dict(), **facts}


def _ferv39k(root: Path, clips: pd.DataFrame, rng, test_share: float) -> dict:
    unknown = clips[~clips.scene.isin(labels.SCENES)] if "scene" in clips else clips
    if len(unknown):
        raise DatasetError("candidates", f"the FERV39k layout needs one of its 22 scenes per clip; clip "
                                         f"{unknown.clip_id.iloc[0]} has {unknown.get('scene', pd.Series([''])).iloc[0]!r} "
                                         f"(scenes: {', '.join(labels.SCENES)})")
    keys = [f"{c.scene}/{labels.to_ferv39k(labels.canonical(c.label))}/{c.clip_id}" for c in clips.itertuples()]
    for key, clip in zip(keys, clips.itertuples()):
        link_or_copy(clip.path, root / "0_7_LabelClips" / f"{key}.mp4")
        _link_frames(Path(clip.faces), root / "2_ClipsforFaceCrop" / key, lambda n: f"{n:04d}.jpg")
        if isinstance(getattr(clip, "scenes", None), str) and clip.scenes:
            _link_frames(Path(clip.scenes), root / "3_ClipsforScenImages" / key, lambda n: f"{n:04d}.jpg")
    test = stratified_holdout([f"{c.scene}/{c.label}" for c in clips.itertuples()], test_share, rng)
    for split, members in (("train", ~test), ("test", test)):
        lines = [f"{keys[i]} {keys[i].split('/')[1]}\n" for i in np.flatnonzero(members)]
        path = root / "4_setups" / "All_scenes" / f"{split}_All.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(lines))
    return {"train": int((~test).sum()), "test": int(test.sum())}


def _dfew(root: Path, clips: pd.DataFrame, votes: pd.DataFrame, rng) -> dict:
    ids = [f"{n:05d}" for n in range(1, len(clips) + 1)]
    for key, clip in zip(ids, clips.itertuples()):
        link_or_copy(clip.path, root / "Clip" / "original" / f"{key}.mp4")
        _link_frames(Path(clip.faces), root / "Clip" / "clip_224x224" / key, lambda n, key=key: f"{key}_{n:05d}.jpg")
    dfew_order = [labels.DFEW_LABELS[code] for code in sorted(labels.DFEW_LABELS)]
    sheet = pd.DataFrame({"video_name": [int(k) for k in ids],
                          **{name: votes.loc[clips.clip_id, name].to_numpy() for name in dfew_order}})
    write_table(root / "Annotation" / "clip_ids.csv", pd.DataFrame({"video_name": ids, "clip_id": clips.clip_id}))
    (root / "Annotation").mkdir(parents=True, exist_ok=True)
    sheet.to_excel(root / "Annotation" / "annotation.xlsx", index=False, engine="openpyxl")
    codes = [labels.canonical(label) for label in clips.label]
    folds = stratified_folds(codes, 5, rng)
    for fold in range(1, 6):
        for split, members in (("test", folds == fold), ("train", folds != fold)):
            path = root / "EmoLabel_DataSplit" / f"{split}(single-labeled)" / f"set_{fold}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("video_name,label\n" + "".join(
                f"{ids[i]},{labels.to_dfew(codes[i])}\n" for i in np.flatnonzero(members)))
    return {"fold_sizes": {fold: int((folds == fold).sum()) for fold in range(1, 6)}}


def _link_frames(folder: Path, target: Path, name) -> None:
    for number, frame in enumerate(list_frames(folder), start=1):
        link_or_copy(frame, target / name(number))

