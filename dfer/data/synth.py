"""Small, learnable synthetic video datasets written in the exact release layouts of the real ones.

Each clip is rendered by :mod:`dfer.data.synth_render` (a cartoon face with one of the seven
expressions over a background scene). Readers are tested on these trees exactly as they would meet
the releases:

* ``dfew``: ``Clip/original``, ``Clip/clip_224x224``, ``Clip/clip_224x224_16f`` (TIM, unpadded
  names), ``Annotation/annotation.xlsx`` (10 votes per clip) and five stratified folds of
  single-labeled clips in ``EmoLabel_DataSplit`` (train ids unpadded, test ids zero-padded).
* ``ferv39k``: ``0_7_LabelClips``, ``2_ClipsforFaceCrop``, ``3_ClipsforScenImages`` per
  scene/emotion and header-less, space-separated ``4_setups/All_scenes`` split files.
* ``afew``: ``Train/<Emotion>/<9 digits>.avi`` and ``Val/<Emotion>/…``, an 80/20 stratified split.
* ``caer``: ``train|validation|test/<Emotion>/<4 digits>.avi`` (numbered per folder), 70/10/20.
* ``mafw``: ``data/clips/<5 digits>.mp4``, face crops in ``data/frames/<5 digits>/<4 digits>.jpg``
  and five stratified folds in ``Train & Test Set/single/no_caption/set_<k>/train.txt|test.txt``
  (``00001.mp4 anger``) over MAFW's 11 classes; the 4 outside dfer's 7 are rendered as blends of
  two of the face's expressions (:data:`MAFW_RENDER`).
* ``manifest``: ``videos/clip_NNNN.mp4`` and ``manifest.csv`` (path,label,split,scene,subject).
* ``long``: long videos with expression episodes and five annotators (:mod:`dfer.data.synth_long`).

Everything a clip shows comes from random streams seeded by ``(seed, stream, clip index)``, so a
clip's content does not depend on how many clips are written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from dfer import labels
from dfer.data import afew, caer, mafw
from dfer.data.splits import stratified_folds, stratified_holdout
from dfer.data.synth_face import random_identity
from dfer.data.synth_render import crop_faces, render_clip
from dfer.data.tim import tim_frames_uint8
from dfer.errors import InputError
from dfer.io.atomic import atomic_path
from dfer.io.video import write_video

FORMATS: tuple[str, ...] = ("dfew", "ferv39k", "afew", "caer", "mafw", "manifest", "long")
FPS = 25
#: Fewest clips of the 5-fold formats (dfew, mafw).
MIN_FOLD_CLIPS = 10
DFEW_ANNOTATORS = 10
#: Manifest clips per subject (consecutive clip indices share a subject and its identity).
CLIPS_PER_SUBJECT = 5
MANIFEST_SCENES: tuple[str, ...] = ("office", "living_room", "street", "classroom", "studio")

#: Per 20 clips: realistic skew (happy/neutral/sad/angry common, disgust/fear rare but present).
_LABEL_BLOCK: tuple[int, ...] = tuple(
    labels.INDEX[name]
    for name, count in (("angry", 3), ("disgust", 1), ("fear", 2), ("happy", 4), ("neutral", 4),
                        ("sad", 3), ("surprise", 3))
    for _ in range(count)
)
_AMBIGUOUS_BLOCK: tuple[bool, ...] = (True,) * 3 + (False,) * 17  # 15% of DFEW clips
_NO_FACE_BLOCK: tuple[bool, ...] = (True,) + (False,) * 31  # ~3% of DFEW clips lack face crops
#: Per 20 MAFW clips: its 11 classes (indices into labels.MAFW_EXPRESSIONS), the common ones more often.
MAFW_BLOCK: tuple[int, ...] = tuple(
    labels.MAFW_INDEX[name]
    for name, count in (("anger", 3), ("disgust", 1), ("fear", 1), ("happiness", 3), ("neutral", 3),
                        ("sadness", 3), ("surprise", 1), ("contempt", 1), ("anxiety", 2), ("helplessness", 1),
                        ("disappointment", 1))
    for _ in range(count)
)
#: MAFW class → (rendered expression, expression blended in at 60% or None).
MAFW_RENDER: dict[str, tuple[str, str | None]] = {
    **{name: (canonical, None) for name, canonical in labels.MAFW_SHARED.items()},
    "contempt": ("disgust", "happy"), "anxiety": ("fear", "sad"),
    "helplessness": ("sad", "surprise"), "disappointment": ("sad", "angry"),
}

# Random-stream ids: every (seed, stream, index) triple seeds an independent generator.
_RENDER, _LABEL, _AMBIGUOUS, _NO_FACE, _VOTES, _SCENE_ORDER, _SUBJECT, _SPLIT, _USER_SCENE, _MAFW_LABEL = range(10)


def write_synthetic(
    out: Path, format: str, clips: int, seed: int = 0, size: int = 224, progress: bool = True
) -> dict:
    """Write ``clips`` synthetic clips under ``out`` in a release layout; returns a summary.

    ``format`` is one of :data:`FORMATS`; ``size`` is the face-crop side of the dfew, ferv39k and
    mafw trees (DFEW keeps its ``clip_224x224`` folder names whatever the size; afew, caer and
    manifest videos hold whole scene frames) and of long videos' face crops; for ``long``, ``clips`` counts long videos
    (:mod:`dfer.data.synth_long`). The same ``seed`` gives identical images.
    """
    if format not in FORMATS:
        raise InputError(f"unknown synthetic format {format!r}; expected one of {', '.join(FORMATS)}")
    if isinstance(clips, bool) or not isinstance(clips, (int, np.integer)) or clips < 1:
        raise InputError(f"clips must be a positive integer, got {clips!r}")
    if format in ("dfew", "mafw") and clips < MIN_FOLD_CLIPS:
        raise InputError(f"the {format} format needs at least {MIN_FOLD_CLIPS} clips for its 5 folds, got {clips}")
    if size < 8:
        raise InputError(f"size must be at least 8 pixels, got {size}")
    from dfer.data.synth_long import write_long  # long videos for spotting

    writer = {"dfew": _write_dfew, "ferv39k": _write_ferv39k, "afew": _write_afew, "caer": _write_caer,
              "mafw": _write_mafw, "manifest": _write_manifest, "long": write_long}[format]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(limits=1, user_api="blas"):  # clips run on threads; BLAS threads would oversubscribe
        summary = writer(out, int(clips), seed, size, progress)
    return {"format": format, "out": str(out), "clips": int(clips), "seed": seed, **summary}


# ---------------------------------------------------------------------------------------------
# Per-clip plans (pure functions of seed and clip index)


def clip_rng(seed: int, stream: int, index: int) -> np.random.Generator:
    """The random stream ``stream`` of clip ``index``."""
    return np.random.default_rng([seed, stream, index])


def clip_expression(seed: int, index: int) -> int:
    """Canonical expression of clip ``index`` (a seeded shuffle of :data:`_LABEL_BLOCK` per block)."""
    return _block_draw(seed, _LABEL, index, _LABEL_BLOCK)


def clip_length(rng: np.random.Generator) -> int:
    """Frames in a clip: ~15% short (8..15, below the usual 16-frame input), else 16..48."""
    return int(rng.integers(8, 16)) if rng.random() < 0.15 else int(rng.integers(16, 49))


def dfew_votes(expression: int, ambiguous: bool, rng: np.random.Generator) -> np.ndarray:
    """10 annotators' votes (canonical order) with a unique plurality for ``expression``.

    Single-labeled clips give it ≥ 7 votes; ambiguous ones 4..6 with every other class below.
    """
    top = int(rng.integers(4, 7)) if ambiguous else int(rng.integers(7, DFEW_ANNOTATORS + 1))
    others = [i for i in range(labels.NUM_CLASSES) if i != expression]
    while True:
        spread = rng.multinomial(DFEW_ANNOTATORS - top, np.full(len(others), 1 / len(others)))
        if spread.max() < top:
            break
    votes = np.zeros(labels.NUM_CLASSES, int)
    votes[expression] = top
    votes[others] = spread
    return votes


def scene_order(seed: int) -> tuple[str, ...]:
    """FERV39k scenes in a seeded order that cycles through the 4 scenarios first."""
    rng = np.random.default_rng([seed, _SCENE_ORDER])
    pools = [list(rng.permutation(scenes)) for scenes in labels.SCENARIOS.values()]
    order: list[str] = []
    while any(pools):
        order.extend(str(pool.pop()) for pool in pools if pool)
    return tuple(order)


# ---------------------------------------------------------------------------------------------
# Format writers


def _write_dfew(root: Path, clips: int, seed: int, size: int, progress: bool) -> dict:
    """DFEW tree: videos, face crops, TIM 16-frame crops, vote workbook, 5 folds."""
    ids = list(range(1, clips + 1))
    expression = [clip_expression(seed, i) for i in range(clips)]
    ambiguous = [_block_draw(seed, _AMBIGUOUS, i, _AMBIGUOUS_BLOCK) for i in range(clips)]
    no_face = [_block_draw(seed, _NO_FACE, i, _NO_FACE_BLOCK) for i in range(clips)]
    votes = [dfew_votes(expression[i], ambiguous[i], clip_rng(seed, _VOTES, i)) for i in range(clips)]

    def write_clip(i: int) -> int:
        rng = clip_rng(seed, _RENDER, i)
        runner_up = _runner_up(votes[i], expression[i]) if ambiguous[i] else None
        clip = render_clip(expression[i], clip_length(rng), rng, blend=runner_up)
        name = f"{ids[i]:05d}"
        write_video(root / "Clip" / "original" / f"{name}.mp4", clip.frames, FPS, crf=28)
        if not no_face[i]:
            crops = crop_faces(clip.frames, clip.boxes, size)
            for k, crop in enumerate(crops, start=1):
                _write_jpeg(root / "Clip" / "clip_224x224" / name / f"{name}_{k:05d}.jpg", crop)
            for k, frame in enumerate(tim_frames_uint8(crops, 16), start=1):
                _write_jpeg(root / "Clip" / "clip_224x224_16f" / name / f"{k}.jpg", frame)
        return len(clip.frames)

    frames = _run(write_clip, range(clips), "synth dfew", progress)

    dfew_order = [labels.DFEW_LABELS[code] for code in sorted(labels.DFEW_LABELS)]
    sheet = pd.DataFrame({"video_name": ids,
                          **{name: [int(v[labels.INDEX[name]]) for v in votes] for name in dfew_order}})
    _write_atomic(root / "Annotation" / "annotation.xlsx",
                  lambda path: sheet.to_excel(path, index=False, engine="openpyxl"))

    usable = [i for i in range(clips) if not ambiguous[i] and not no_face[i]]
    fold_of = stratified_folds([expression[i] for i in usable], 5, np.random.default_rng([seed, _SPLIT]))
    for fold in range(1, 6):
        test = [i for i, f in zip(usable, fold_of) if f == fold]
        train = [i for i, f in zip(usable, fold_of) if f != fold]
        for split, members, width in (("test", test, 5), ("train", train, 0)):
            lines = ["video_name,label"] + [
                f"{str(ids[i]).zfill(width)},{labels.to_dfew(expression[i])}" for i in members
            ]
            _write_text(root / "EmoLabel_DataSplit" / f"{split}(single-labeled)" / f"set_{fold}.csv", lines)
    return {
        "frames": sum(frames),
        "per_class": _per_class(expression),
        "single_labeled": len(usable),
        "ambiguous": int(sum(ambiguous)),
        "without_faces": int(sum(no_face)),
        "fold_sizes": {fold: int((fold_of == fold).sum()) for fold in range(1, 6)},
    }


def _write_ferv39k(root: Path, clips: int, seed: int, size: int, progress: bool) -> dict:
    """FERV39k tree: videos, face crops and scene frames per scene/emotion, 80/20 split files."""
    scenes = scene_order(seed)
    expression = [clip_expression(seed, i) for i in range(clips)]
    scene = [scenes[i % len(scenes)] for i in range(clips)]
    counters: dict[tuple[str, int], int] = {}
    keys = []
    for i in range(clips):
        counters[scene[i], expression[i]] = counters.get((scene[i], expression[i]), 0) + 1
        keys.append(f"{scene[i]}/{labels.to_ferv39k(expression[i])}/{counters[scene[i], expression[i]]:04d}")

    def write_clip(i: int) -> int:
        rng = clip_rng(seed, _RENDER, i)
        clip = render_clip(expression[i], clip_length(rng), rng, scene=scene[i])
        write_video(root / "0_7_LabelClips" / f"{keys[i]}.mp4", clip.frames, FPS, crf=28)
        for k, crop in enumerate(crop_faces(clip.frames, clip.boxes, size), start=1):
            _write_jpeg(root / "2_ClipsforFaceCrop" / keys[i] / f"{k:04d}.jpg", crop)
        for k, frame in enumerate(clip.frames, start=1):
            _write_jpeg(root / "3_ClipsforScenImages" / keys[i] / f"{k:04d}.jpg", frame)
        return len(clip.frames)

    frames = _run(write_clip, range(clips), "synth ferv39k", progress)
    strata = [f"{scene[i]}/{expression[i]}" for i in range(clips)]
    test = stratified_holdout(strata, 0.2, np.random.default_rng([seed, _SPLIT]))
    for split, members in (("train", ~test), ("test", test)):
        lines = [f"{keys[i]} {labels.to_ferv39k(expression[i])}" for i in np.flatnonzero(members)]
        _write_text(root / "4_setups" / "All_scenes" / f"{split}_All.csv", lines)
    return {
        "frames": sum(frames),
        "per_class": _per_class(expression),
        "train": int((~test).sum()),
        "test": int(test.sum()),
        "scenes": len(set(scene)),
    }


def _write_manifest(root: Path, clips: int, seed: int, size: int, progress: bool) -> dict:
    """User-style footage: scene videos (so ``size`` is unused) and a manifest CSV."""
    expression = [clip_expression(seed, i) for i in range(clips)]
    subjects = [i // CLIPS_PER_SUBJECT for i in range(clips)]
    paths = [f"videos/clip_{i + 1:04d}.mp4" for i in range(clips)]
    scene = [MANIFEST_SCENES[int(clip_rng(seed, _USER_SCENE, i).integers(len(MANIFEST_SCENES)))]
             for i in range(clips)]

    def write_clip(i: int) -> int:
        rng = clip_rng(seed, _RENDER, i)
        identity = random_identity(clip_rng(seed, _SUBJECT, subjects[i]))
        clip = render_clip(expression[i], clip_length(rng), rng, scene=scene[i], identity=identity)
        write_video(root / paths[i], clip.frames, FPS, crf=28)
        return len(clip.frames)

    frames = _run(write_clip, range(clips), "synth manifest", progress)
    test = stratified_holdout(expression, 0.2, np.random.default_rng([seed, _SPLIT]))
    table = pd.DataFrame({
        "path": paths,
        "label": [labels.EXPRESSIONS[e] for e in expression],
        "split": np.where(test, "test", "train"),
        "scene": scene,
        "subject": [f"s{s + 1:03d}" for s in subjects],
    })
    _write_atomic(root / "manifest.csv", lambda path: table.to_csv(path, index=False))
    return {
        "frames": sum(frames),
        "per_class": _per_class(expression),
        "train": int((~test).sum()),
        "test": int(test.sum()),
        "subjects": len(set(subjects)),
    }


def _write_afew(root: Path, clips: int, seed: int, size: int, progress: bool) -> dict:
    """AFEW tree: ``Train``/``Val`` emotion folders of ``.avi`` scene videos (``size`` unused)."""
    expression = [clip_expression(seed, i) for i in range(clips)]
    test = stratified_holdout(expression, 0.2, np.random.default_rng([seed, _SPLIT]))
    paths = [Path(afew.SPLIT_DIRS["test" if test[i] else "train"], labels.to_afew(expression[i]), f"{i + 1:09d}.avi")
             for i in range(clips)]
    frames = _run(lambda i: _write_scene_video(root / paths[i], expression[i], seed, i), range(clips), "synth afew",
                  progress)
    return {"frames": sum(frames), "per_class": _per_class(expression), "train": int((~test).sum()),
            "test": int(test.sum())}


def _write_caer(root: Path, clips: int, seed: int, size: int, progress: bool) -> dict:
    """CAER tree: ``train``/``validation``/``test`` emotion folders of ``.avi`` scene videos numbered per
    folder (``size`` unused)."""
    expression = [clip_expression(seed, i) for i in range(clips)]
    rng = np.random.default_rng([seed, _SPLIT])
    test = stratified_holdout(expression, 0.2, rng)
    rest = np.flatnonzero(~test)
    val = np.zeros(clips, bool)
    val[rest[stratified_holdout([expression[i] for i in rest], 0.125, rng)]] = True  # 10% of all clips
    splits = ["test" if test[i] else "val" if val[i] else "train" for i in range(clips)]
    counters: dict[tuple[str, int], int] = {}
    paths = []
    for i in range(clips):
        counters[splits[i], expression[i]] = counters.get((splits[i], expression[i]), 0) + 1
        paths.append(Path(caer.SPLIT_DIRS[splits[i]], labels.to_caer(expression[i]),
                          f"{counters[splits[i], expression[i]]:04d}.avi"))
    frames = _run(lambda i: _write_scene_video(root / paths[i], expression[i], seed, i), range(clips), "synth caer",
                  progress)
    return {"frames": sum(frames), "per_class": _per_class(expression),
            **{split: splits.count(split) for split in caer.SPLIT_DIRS}}


def _write_mafw(root: Path, clips: int, seed: int, size: int, progress: bool) -> dict:
    """MAFW tree: clips, face-crop frame folders and the 5-fold single-label split files."""
    classes = [_block_draw(seed, _MAFW_LABEL, i, MAFW_BLOCK) for i in range(clips)]
    names = [f"{i + 1:05d}" for i in range(clips)]

    def write_clip(i: int) -> int:
        expression, blend = MAFW_RENDER[labels.to_mafw(classes[i])]
        rng = clip_rng(seed, _RENDER, i)
        clip = render_clip(labels.INDEX[expression], clip_length(rng), rng,
                           blend=None if blend is None else labels.INDEX[blend])
        write_video(root / mafw.CLIPS_DIR / f"{names[i]}.mp4", clip.frames, FPS, crf=28)
        for k, crop in enumerate(crop_faces(clip.frames, clip.boxes, size), start=1):
            _write_jpeg(root / mafw.FRAMES_DIR / names[i] / f"{k:04d}.jpg", crop)
        return len(clip.frames)

    frames = _run(write_clip, range(clips), "synth mafw", progress)
    fold_of = stratified_folds(classes, 5, np.random.default_rng([seed, _SPLIT]))
    for fold in mafw.FOLDS:
        for split, members in (("test", fold_of == fold), ("train", fold_of != fold)):
            lines = [f"{names[i]}.mp4 {labels.to_mafw(classes[i])}" for i in np.flatnonzero(members)]
            _write_text(mafw.split_file(root, split, fold), lines)
    counts = np.bincount(classes, minlength=len(labels.MAFW_EXPRESSIONS))
    return {"frames": sum(frames), "per_class": dict(zip(labels.MAFW_EXPRESSIONS, counts.tolist())),
            "fold_sizes": {fold: int((fold_of == fold).sum()) for fold in mafw.FOLDS}}


# ---------------------------------------------------------------------------------------------
# Small helpers: blocks, votes, I/O


def _write_scene_video(path: Path, expression: int, seed: int, index: int) -> int:
    """Render clip ``index`` of ``expression`` over a random scene and write its video."""
    rng = clip_rng(seed, _RENDER, index)
    clip = render_clip(expression, clip_length(rng), rng)
    return write_video(path, clip.frames, FPS, crf=28)


def _block_draw(seed: int, stream: int, index: int, block: Sequence):
    """``block``'s items in a seeded order per consecutive block of ``len(block)`` clips."""
    order = np.random.default_rng([seed, stream, index // len(block)]).permutation(len(block))
    return block[order[index % len(block)]]


def _runner_up(votes: np.ndarray, expression: int) -> int | None:
    """The most-voted other class of an ambiguous clip, if it drew at least two votes."""
    others = votes.copy()
    others[expression] = -1
    best = int(np.argmax(others))
    return best if others[best] >= 2 else None


def _per_class(expressions: Iterable[int]) -> dict[str, int]:
    counts = np.bincount(list(expressions), minlength=labels.NUM_CLASSES)
    return {name: int(count) for name, count in zip(labels.EXPRESSIONS, counts)}


def _run(job: Callable[[int], int], items: range, description: str, progress: bool) -> list[int]:
    """``job`` over ``items`` on a few threads (numpy, Pillow and PyAV release the GIL)."""
    workers = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        return list(tqdm(pool.map(job, items), total=len(items), desc=description, unit="clip",
                         disable=None if progress else True))


def _write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Run ``write`` on a temporary name beside ``path``, then move it into place."""
    with atomic_path(path) as temporary:
        write(temporary)


def _write_jpeg(path: Path, image: np.ndarray) -> None:
    _write_atomic(path, lambda temporary: Image.fromarray(image).save(temporary, format="JPEG", quality=90))


def _write_text(path: Path, lines: list[str]) -> None:
    _write_atomic(path, lambda temporary: temporary.write_text("".join(f"{line}\n" for line in lines)))
