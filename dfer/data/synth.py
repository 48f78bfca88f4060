"""Small, learnable synthetic video datasets written in the exact release layouts of the real ones.

Each clip is a cartoon face over a background scene. The seven expressions are distinct
deformations of brows, eyes, nose, cheeks and mouth that follow an onset → apex → offset
intensity curve; identity, head pose, lighting and sensor noise vary as nuisances, and the scene's
look depends on its name (plus a slight expression-dependent mood tint away from the face, so
face crops do not show it), so scene context carries some information. Readers are tested on
these trees exactly as they would meet the releases:

* ``dfew``: ``Clip/original``, ``Clip/clip_224x224``, ``Clip/clip_224x224_16f`` (TIM, unpadded
  names), ``Annotation/annotation.xlsx`` (10 votes per clip) and five stratified folds of
  single-labeled clips in ``EmoLabel_DataSplit`` (train ids unpadded, test ids zero-padded).
* ``ferv39k``: ``0_7_LabelClips``, ``2_ClipsforFaceCrop``, ``3_ClipsforScenImages`` per
  scene/emotion and header-less, space-separated ``4_setups/All_scenes`` split files.
* ``manifest``: ``videos/clip_NNNN.mp4`` and ``manifest.csv`` (path,label,split,scene,subject).

Everything a clip shows comes from random streams seeded by ``(seed, stream, clip index)``, so a
clip's content does not depend on how many clips are written.
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from PIL import Image, ImageChops
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from dfer import labels
from dfer.data.tim import tim_frames_uint8
from dfer.data.splits import stratified_folds, stratified_holdout
from dfer.io.atomic import atomic_path
from dfer.io.video import write_video

FORMATS: tuple[str, ...] = ("dfew", "ferv39k", "manifest", "long")
SCENE_HEIGHT, SCENE_WIDTH = 336, 504
FPS = 25
MIN_DFEW_CLIPS = 10
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

# Random-stream ids: every (seed, stream, index) triple seeds an independent generator.
_RENDER, _LABEL, _AMBIGUOUS, _NO_FACE, _VOTES, _SCENE_ORDER, _SUBJECT, _SPLIT, _USER_SCENE = range(9)

# Facial action parameters, each in "apex units" (0 = rest).
PARAMETERS: tuple[str, ...] = (
    "brow_raise", "brow_inner", "brow_squeeze", "eye_open", "cheek", "nose_wrinkle",
    "upper_lip", "mouth_corner", "mouth_open", "mouth_stretch", "lip_press", "asymmetry",
)
_P = {name: i for i, name in enumerate(PARAMETERS)}

#: Apex deformation of each expression (parameters not named stay at 0).
APEX: dict[str, dict[str, float]] = {
    "angry": {"brow_raise": -0.6, "brow_inner": -1.1, "brow_squeeze": 1.2, "eye_open": 0.3,
              "lip_press": 1.0, "mouth_stretch": -0.2, "mouth_corner": -0.4},
    "disgust": {"brow_raise": -0.35, "brow_squeeze": 0.35, "eye_open": -0.45, "nose_wrinkle": 1.0,
                "upper_lip": 1.0, "mouth_corner": -0.35, "asymmetry": 0.8},
    "fear": {"brow_raise": 0.8, "brow_inner": 0.7, "brow_squeeze": 0.8, "eye_open": 1.0,
             "mouth_open": 0.4, "mouth_stretch": 1.0, "mouth_corner": -0.25},
    "happy": {"cheek": 1.0, "eye_open": -0.4, "mouth_corner": 1.0, "mouth_open": 0.3,
              "mouth_stretch": 0.45},
    "neutral": {},
    "sad": {"brow_inner": 1.2, "brow_raise": -0.1, "brow_squeeze": 0.3, "eye_open": -0.3,
            "mouth_corner": -1.2, "lip_press": 0.3, "mouth_stretch": -0.1},
    "surprise": {"brow_raise": 1.0, "brow_inner": 0.2, "eye_open": 1.1, "mouth_open": 1.0,
                 "mouth_stretch": -0.45},
}
_APEX_MATRIX = np.array(
    [[APEX[name].get(p, 0.0) for p in PARAMETERS] for name in labels.EXPRESSIONS], np.float32
)
#: Slight per-expression colour cast of the scene (film "mood" lighting), canonical order. It is
#: applied only beyond :data:`_MOOD_FREE` face radii from the face centre, outside the face crop
#: (whose corners lie 1.63 radii away), so that it is a cue of the scene stream, not a shortcut of
#: face-only models.
_MOOD = np.array(
    [[1.06, 0.97, 0.95], [1.0, 1.04, 0.96], [0.95, 0.98, 1.06], [1.06, 1.03, 0.95],
     [1.0, 1.0, 1.0], [0.95, 0.97, 1.05], [1.02, 1.02, 1.0]], np.float32
)

_MOOD_FREE = 1.8
_GRID_EXTENT = 1.25  # the canonical face canvas spans [-1.25, 1.25]² face units
_GRID = 128  # canonical canvas side in pixels
_HEAD_EXTENT = 1.1  # the drawn head (face and hair) lies within this radius, face units
_PIXEL = 2 * _GRID_EXTENT / _GRID
#: Half-width of drawn lines (eye outlines, creases, the lip line), face units: ~1 px of a 32² crop.
_STROKE = 0.02
_NOISE_BIAS = 64  # sensor noise is stored as uint8 around this level and subtracted when added
_COORDS = (-_GRID_EXTENT + (np.arange(_GRID, dtype=np.float32) + 0.5) * _PIXEL)


@dataclass(frozen=True)
class Identity:
    """A synthetic person: face geometry and colours, in face units (face half-height = 1)."""

    face_width: float
    radius_px: float
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    iris: tuple[float, float, float]
    lips: tuple[float, float, float]
    eye_spacing: float
    eye_height: float
    mouth_height: float
    mouth_width: float
    brow_thickness: float
    hairline: float
    rest: tuple[float, ...]


class RenderedClip(NamedTuple):
    """One rendered clip: scene frames, face boxes ``(x0, y0, x1, y1)`` and expression intensity."""

    frames: np.ndarray  # (T, 336, 504, 3) uint8
    boxes: np.ndarray  # (T, 4) float32, pixels
    intensity: np.ndarray  # (T,) float32 in [0, 1], 1 at the apex


def random_identity(rng: np.random.Generator) -> Identity:
    """Draw a face shape, skin/hair/eye colours and a resting-face offset."""
    tone = rng.uniform(0, 1)
    skin = np.array([238, 198, 168]) * (1 - tone) + np.array([112, 72, 52]) * tone
    skin = skin * rng.uniform(0.95, 1.05, 3)
    hair = np.array([40, 28, 20]) + rng.uniform(0, 1) * np.array([150, 110, 60])
    return Identity(
        face_width=float(rng.uniform(0.72, 0.86)),
        radius_px=float(rng.uniform(54, 66)),
        skin=tuple(np.clip(skin, 0, 255).tolist()),
        hair=tuple(hair.tolist()),
        iris=tuple(rng.uniform([40, 30, 20], [110, 120, 140]).tolist()),
        lips=tuple((np.clip(skin * 0.75 + np.array([60, -10, -5]), 0, 255)).tolist()),
        eye_spacing=float(rng.uniform(0.3, 0.35)),
        eye_height=float(rng.uniform(-0.16, -0.1)),
        mouth_height=float(rng.uniform(0.46, 0.54)),
        mouth_width=float(rng.uniform(0.27, 0.32)),
        brow_thickness=float(rng.uniform(0.055, 0.07)),
        hairline=float(rng.uniform(-0.76, -0.66)),
        rest=tuple(rng.normal(0, 0.06, len(PARAMETERS)).tolist()),
    )


def intensity_curve(num_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Onset → apex → partial offset: 0 at the first frame, 1 over the apex, a residual at the end.

    The apex plateau lasts 40–60% of the clip and the offset keeps 45–80% of it, so uniformly
    sampled frames show the expression clearly however few they are.
    """
    time = np.linspace(0, 1, num_frames)
    onset = rng.uniform(0.0, 0.15)
    apex_start = onset + rng.uniform(0.08, 0.18)
    apex_end = min(apex_start + rng.uniform(0.4, 0.6), 0.9)
    residual = rng.uniform(0.45, 0.8)
    rise = _smoothstep((time - onset) / (apex_start - onset))
    fall = _smoothstep((time - apex_end) / (1 - apex_end))
    return (rise * (1 - (1 - residual) * fall)).astype(np.float32)


def expression_parameters(
    expression: int, intensity: np.ndarray, identity: Identity, rng: np.random.Generator,
    blend: int | None = None,
) -> np.ndarray:
    """(T, len(PARAMETERS)) action parameters: apex × intensity, resting face, twitches, blinks.

    ``blend`` mixes in a second expression at 60% strength (an ambiguous clip).
    """
    apex = _APEX_MATRIX[expression].copy()
    if blend is not None:
        apex += 0.6 * _APEX_MATRIX[blend]
    apex[_P["asymmetry"]] *= rng.choice([-1.0, 1.0])
    num_frames = len(intensity)
    params = rng.uniform(0.8, 1.15) * intensity[:, None] * apex[None, :]
    params += np.asarray(identity.rest, np.float32)
    time = np.linspace(0, 1, num_frames)
    twitch_scale = 0.15 if expression == labels.INDEX["neutral"] else 0.12
    for _ in range(rng.integers(1, 4)):
        centre, width = rng.uniform(0, 1), rng.uniform(0.05, 0.2)
        params[:, rng.integers(len(PARAMETERS))] += (
            rng.uniform(-twitch_scale, twitch_scale) * np.exp(-0.5 * ((time - centre) / width) ** 2)
        )
    if rng.random() < 0.5:  # a blink: one frame (40 ms) with the eyes shut
        params[rng.integers(num_frames), _P["eye_open"]] = -1.0
    return params.astype(np.float32)


def head_pose(num_frames: int, radius_px: float, rng: np.random.Generator) -> np.ndarray:
    """(T, 4) centre x, centre y, rotation (radians) and scale: drift plus a slow wobble."""
    time = np.linspace(0, 1, num_frames)[:, None]
    start = np.array([SCENE_WIDTH / 2 + rng.uniform(-90, 90), SCENE_HEIGHT / 2 + rng.uniform(-20, 20),
                      rng.uniform(-0.09, 0.09), rng.uniform(0.92, 1.08)])
    drift = rng.uniform([-30, -12, -0.08, -0.08], [30, 12, 0.08, 0.08])
    wobble = rng.uniform([0, 0, 0, 0], [8, 5, 0.04, 0.02])
    phase = rng.uniform(0, 2 * np.pi, 4)
    frequency = rng.uniform(0.5, 2.0, 4)
    pose = start + drift * time + wobble * np.sin(2 * np.pi * frequency * time + phase)
    half = _HEAD_EXTENT * radius_px * pose[:, 3] + 2
    pose[:, 0] = np.clip(pose[:, 0], half, SCENE_WIDTH - half)
    pose[:, 1] = np.clip(pose[:, 1], half, SCENE_HEIGHT - half)
    return pose


def render_clip(
    expression: int,
    num_frames: int,
    rng: np.random.Generator,
    *,
    scene: str | None = None,
    identity: Identity | None = None,
    blend: int | None = None,
) -> RenderedClip:
    """Render a clip of ``expression`` (canonical index) as scene frames with a moving face.

    ``scene`` names the background style (default: a random FERV39k scene); ``identity`` defaults
    to a random one; ``blend`` mixes in a second expression (see :func:`expression_parameters`).
    """
    if not 0 <= expression < labels.NUM_CLASSES:
        raise ValueError(f"expression must be a canonical index 0..{labels.NUM_CLASSES - 1}, got {expression}")
    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    if identity is None:
        identity = random_identity(rng)
    scene = scene or str(rng.choice(labels.SCENES))
    intensity = intensity_curve(num_frames, rng)
    params = expression_parameters(expression, intensity, identity, rng, blend)
    pose = head_pose(num_frames, identity.radius_px, rng)
    background = _background(scene, rng)
    faces = _draw_faces(params, identity, rng)
    frames = _compose(background, faces, pose, identity.radius_px, rng, mood=_MOOD[expression])
    half_height = identity.radius_px * pose[:, 3]
    half_width = identity.face_width * half_height
    boxes = np.stack([pose[:, 0] - half_width, pose[:, 1] - half_height,
                      pose[:, 0] + half_width, pose[:, 1] + half_height], axis=1)
    return RenderedClip(frames, boxes.astype(np.float32), intensity)


def crop_faces(frames: np.ndarray, boxes: np.ndarray, size: int, margin: float = 1.15) -> np.ndarray:
    """Square crops around each face box (side = ``margin`` × box height), resized to ``size``²."""
    height, width = frames.shape[1:3]
    crops = np.empty((len(frames), size, size, 3), np.uint8)
    for t, (frame, (x0, y0, x1, y1)) in enumerate(zip(frames, boxes)):
        side = min(margin * max(x1 - x0, y1 - y0), height, width)
        left = float(np.clip((x0 + x1 - side) / 2, 0, width - side))
        top = float(np.clip((y0 + y1 - side) / 2, 0, height - side))
        crop = Image.fromarray(frame).resize((size, size), Image.BILINEAR, box=(left, top, left + side, top + side))
        crops[t] = np.asarray(crop)
    return crops


def write_synthetic(
    out: Path, format: str, clips: int, seed: int = 0, size: int = 224, progress: bool = True
) -> dict:
    """Write ``clips`` synthetic clips under ``out`` in a release layout; returns a summary.

    ``format`` is one of :data:`FORMATS`; ``size`` is the face-crop side of the dfew and ferv39k
    trees (DFEW keeps its ``clip_224x224`` folder names whatever the size; manifest videos hold
    whole scene frames) and of long videos' face crops; for ``long``, ``clips`` counts long videos
    (:mod:`dfer.data.synth_long`). The same ``seed`` gives identical images.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown synthetic format {format!r}; expected one of {', '.join(FORMATS)}")
    if isinstance(clips, bool) or not isinstance(clips, (int, np.integer)) or clips < 1:
        raise ValueError(f"clips must be a positive integer, got {clips!r}")
    if format == "dfew" and clips < MIN_DFEW_CLIPS:
        raise ValueError(f"the dfew format needs at least {MIN_DFEW_CLIPS} clips for its 5 folds, got {clips}")
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    from dfer.data.synth_long import write_long  # long videos for spotting (it builds on this module)

    writer = {"dfew": _write_dfew, "ferv39k": _write_ferv39k, "manifest": _write_manifest, "long": write_long}[format]
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


# ---------------------------------------------------------------------------------------------
# Rendering internals


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def _soft(distance: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage of a signed distance (negative inside), one canvas pixel wide."""
    return np.clip(0.5 - distance / _PIXEL, 0, 1)


def _window(v_low: float, v_high: float, u_half: float) -> tuple[slice, slice, np.ndarray, np.ndarray]:
    """Canvas rows with v in [v_low, v_high] and columns with |u| <= u_half, with their coordinates."""
    rows = slice(int(np.searchsorted(_COORDS, v_low)), int(np.searchsorted(_COORDS, v_high)))
    cols = slice(int(np.searchsorted(_COORDS, -u_half)), int(np.searchsorted(_COORDS, u_half)))
    return rows, cols, _COORDS[None, None, cols], _COORDS[None, rows, None]


def _paint(canvas: np.ndarray, rows: slice, cols: slice, alpha: np.ndarray, colour) -> None:
    """Blend ``colour`` over ``canvas[:, rows, cols]`` with coverage ``alpha``, only where it covers."""
    shape = (canvas.shape[0], rows.stop - rows.start, cols.stop - cols.start)
    alpha = np.broadcast_to(alpha, shape)
    covered = alpha > 1 / 512
    used_rows = np.flatnonzero(covered.any(axis=(0, 2)))
    used_cols = np.flatnonzero(covered.any(axis=(0, 1)))
    if used_rows.size == 0:
        return
    r0, r1 = used_rows[0], used_rows[-1] + 1
    c0, c1 = used_cols[0], used_cols[-1] + 1
    region = canvas[:, rows.start + r0:rows.start + r1, cols.start + c0:cols.start + c1]
    region += alpha[:, r0:r1, c0:c1, None] * (np.asarray(colour, np.float32) - region)


def _ellipse_distance(du, dv, a, b):
    """Approximate signed distance to the ellipse with half-axes a, b centred at (du, dv) = 0."""
    x, y = du / a, dv / b
    ratio = np.sqrt(x * x + y * y)
    gradient = np.sqrt((x / a) ** 2 + (y / b) ** 2) + 1e-6
    return (ratio - 1) * ratio / gradient


def _segment_distance(u, v, u0, v0, u1, v1):
    """Distance from (u, v) to the segment (u0, v0)–(u1, v1); all arrays broadcast."""
    du, dv = u1 - u0, v1 - v0
    t = np.clip(((u - u0) * du + (v - v0) * dv) / (du * du + dv * dv + 1e-9), 0, 1)
    return np.hypot(u - u0 - t * du, v - v0 - t * dv)


def _base_face(identity: Identity) -> tuple[np.ndarray, np.ndarray]:
    """Static canvas (G, G, 3) with shaded skin, hair and nose, and its coverage (G, G)."""
    u, v = _COORDS[None, :], _COORDS[:, None]
    a = identity.face_width
    radius = np.sqrt((u / a) ** 2 + v ** 2)
    face = _soft(_ellipse_distance(u, v, a, 1.0))
    head = _soft(_ellipse_distance(u, v, 1.07 * a, 1.07))
    hair = head * np.maximum(_soft(v - (identity.hairline + 0.22 * u ** 2)), _soft(v) * (1 - face))
    skin = np.asarray(identity.skin, np.float32)
    shade = 1 - 0.2 * np.clip(radius, 0, 1.2) ** 2 + 0.06 * u
    canvas = np.ones((_GRID, _GRID, 3), np.float32) * skin * shade[..., None]
    ridge = 0.25 * _soft(np.maximum(np.abs(u - 0.05) - 0.012, np.abs(v - 0.14) - 0.12))
    canvas *= 1 - ridge[..., None] * 0.35
    canvas += hair[..., None] * (np.asarray(identity.hair, np.float32) - canvas)
    return canvas, np.maximum(face, hair)


def _draw_faces(params: np.ndarray, identity: Identity, rng: np.random.Generator) -> np.ndarray:
    """Canonical-pose faces (T, G, G, 4) uint8 RGBA: the base face plus the dynamic features."""
    base, coverage = _base_face(identity)
    num_frames = len(params)
    canvas = np.broadcast_to(base, (num_frames,) + base.shape).copy()
    p = {name: params[:, i, None, None] for i, name in enumerate(PARAMETERS)}
    skin = np.asarray(identity.skin, np.float32)
    crease = skin * 0.45
    ink = np.minimum(np.asarray(identity.hair, np.float32), skin) * 0.45  # brows: dark on any skin
    es, ey, my = identity.eye_spacing, identity.eye_height, identity.mouth_height

    # Eyes (mirrored about u = 0: q = |u|).
    rows, cols, u, v = _window(ey - 0.22, ey + 0.22, es + 0.2)
    q, side = np.abs(u), np.sign(u)
    eye_half_height = 0.08 * np.clip(1 + p["eye_open"], 0.06, 2.6)
    eye = _ellipse_distance(q - es, v - ey, 0.15, eye_half_height)
    white = _soft(eye)
    gaze_u, gaze_v = rng.uniform(-0.03, 0.03), rng.uniform(-0.015, 0.015)
    pupil_distance = np.hypot(q - es - side * gaze_u, v - ey - gaze_v)
    _paint(canvas, rows, cols, white, (236, 234, 228))
    _paint(canvas, rows, cols, white * _soft(pupil_distance - 0.058), identity.iris)
    _paint(canvas, rows, cols, white * _soft(pupil_distance - 0.028), (15, 12, 12))
    _paint(canvas, rows, cols, _soft(np.abs(eye) - _STROKE), (55, 38, 34))

    # Brows, the frown lines between them and the nose wrinkle.
    rows, cols, u, v = _window(ey - 0.75, ey + 0.22, es + 0.24)
    q = np.abs(u)
    inner = es - 0.13 - 0.08 * p["brow_squeeze"]
    outer = es + 0.18
    t = np.clip((q - inner) / (outer - inner), 0, 1)
    brow_v = (ey - 0.26 - 0.2 * p["brow_raise"] - 0.2 * p["brow_inner"] * (1 - t)
              - 0.035 * np.sin(np.pi * t))
    brow = np.maximum(np.abs(v - brow_v) - identity.brow_thickness * (1 - 0.3 * t),
                      np.maximum(inner - q, q - outer))
    _paint(canvas, rows, cols, _soft(brow), ink)
    frown = np.maximum(np.abs(q - 0.05) - 1.5 * _STROKE, np.abs(v - (ey - 0.1)) - 0.11)
    _paint(canvas, rows, cols, 0.9 * np.clip(p["brow_squeeze"], 0, 1) * _soft(frown), crease)
    wrinkle = np.clip(p["nose_wrinkle"], 0, 1)
    for offset in (0.0, 0.07, 0.14):
        line = np.maximum(np.abs(v - (ey + offset)) - _STROKE, q - 0.1)
        _paint(canvas, rows, cols, wrinkle * _soft(line), crease)

    # Nostrils, nasolabial folds and cheeks.
    mouth_width = identity.mouth_width * np.maximum(1 + 0.35 * p["mouth_stretch"] - 0.15 * p["lip_press"], 0.45)
    rows, cols, u, v = _window(0.0, my + 0.2, 0.62)
    q = np.abs(u)
    asymmetry = 1 + p["asymmetry"] * np.sign(u)
    nostril_v = 0.3 - 0.06 * wrinkle - 0.04 * p["upper_lip"]
    nostril = _ellipse_distance(q - 0.065, v - nostril_v, 0.04 * (1 + 0.4 * wrinkle), 0.026)
    _paint(canvas, rows, cols, _soft(nostril), skin * 0.35)
    fold = _segment_distance(q, v, 0.12, nostril_v + 0.01, mouth_width + 0.04, my + 0.02) - _STROKE
    fold_strength = np.clip((0.9 * np.clip(p["cheek"], 0, 1) + 0.9 * wrinkle) * asymmetry, 0, 1)
    _paint(canvas, rows, cols, fold_strength * _soft(fold), crease)
    blush = np.exp(-((q - 0.43) ** 2 + (v - 0.27) ** 2) / (2 * 0.12 ** 2))
    _paint(canvas, rows, cols, 0.75 * np.clip(p["cheek"], 0, 1) * blush, (225, 80, 90))

    # Mouth: interior, teeth, lips and the line between them.
    rows, cols, u, v = _window(my - 0.4, my + 0.45, 0.52)
    x = u / mouth_width
    outside = np.abs(u) - mouth_width
    lopsided = np.clip(1 + p["asymmetry"] * x, 0, 2)
    middle = my - 0.34 * p["mouth_corner"] * x ** 2 * (1 + 0.5 * p["asymmetry"] * x)
    profile = np.sqrt(np.clip(1 - x ** 2, 0, 1))
    upper = middle - profile * (0.08 * p["mouth_open"] + 0.14 * np.clip(p["upper_lip"], 0, None) * lopsided)
    lower = middle + profile * 0.45 * np.clip(p["mouth_open"], 0, None)
    interior = np.maximum(np.maximum(upper - v, v - lower), outside)
    _paint(canvas, rows, cols, _soft(interior), (70, 20, 25))
    _paint(canvas, rows, cols, _soft(np.maximum(interior, v - upper - 0.05)), (232, 230, 220))
    lip = 0.07 * np.clip(1 - 0.75 * p["lip_press"], 0.2, 1.5) * np.sqrt(profile)
    _paint(canvas, rows, cols, _soft(np.maximum(np.abs(v - upper + lip / 2) - lip / 2, outside)), identity.lips)
    _paint(canvas, rows, cols, _soft(np.maximum(np.abs(v - lower - 0.65 * lip) - 0.65 * lip, outside)), identity.lips)
    _paint(canvas, rows, cols, _soft(np.maximum(np.abs(v - middle) - _STROKE, outside)), skin * 0.3)

    alpha = np.broadcast_to(coverage[..., None] * 255, (num_frames, _GRID, _GRID, 1))
    return np.concatenate([np.clip(canvas, 0, 255), alpha], axis=-1).round().astype(np.uint8)


def _background(scene: str, rng: np.random.Generator) -> np.ndarray:
    """Scene image (H, W, 3) float32: a style fixed by the scene's name, a layout drawn per clip."""
    style = np.random.default_rng(zlib.crc32(scene.encode()))
    palette = style.uniform(30, 230, (4, 3)).astype(np.float32)
    angle = float(style.uniform(0, np.pi))
    frequency = style.uniform(0.02, 0.12, 2).tolist()
    kind = style.integers(3)  # 0 blocks, 1 discs, 2 stripes
    count = int(style.integers(3, 9))
    y = np.arange(SCENE_HEIGHT, dtype=np.float32)[:, None] / SCENE_HEIGHT
    x = np.arange(SCENE_WIDTH, dtype=np.float32)[None, :] / SCENE_WIDTH
    ramp = np.clip(math.cos(angle) * x + math.sin(angle) * y, 0, 1)[..., None]
    image = palette[0] + (palette[1] - palette[0]) * ramp
    texture = (np.sin(SCENE_WIDTH * frequency[0] * x + rng.uniform(0, 6)) *
               np.sin(SCENE_HEIGHT * frequency[1] * y + rng.uniform(0, 6)))
    image += 12 * texture[..., None]
    for _ in range(count):
        colour = palette[2 + style.integers(2)] * np.float32(rng.uniform(0.85, 1.15))
        cx, cy = rng.uniform(0, SCENE_WIDTH), rng.uniform(0, SCENE_HEIGHT)
        extent = rng.uniform(20, 90)
        if kind == 0:
            top, left = int(max(cy - extent, 0)), int(max(cx - extent * 0.7, 0))
            image[top:int(cy + extent), left:int(cx + extent * 0.7)] = colour
        elif kind == 1:
            top, left = int(max(cy - extent, 0)), int(max(cx - extent, 0))
            rows, cols = slice(top, int(cy + extent) + 1), slice(left, int(cx + extent) + 1)
            disc = ((x[:, cols] * SCENE_WIDTH - cx) ** 2 + (y[rows] * SCENE_HEIGHT - cy) ** 2) < extent ** 2
            image[rows, cols][disc] = colour
        else:
            left = int(max(cx - extent / 4, 0))
            image[:, left:int(cx + extent / 4)] = 0.6 * image[:, left:int(cx + extent / 4)] + 0.4 * colour
    return image


def _compose(
    background: np.ndarray, faces: np.ndarray, pose: np.ndarray, radius_px: float, rng: np.random.Generator,
    mood: np.ndarray | None = None, lighting: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Warp each canonical face into the scene, then apply a lighting ramp and sensor noise.

    ``mood`` (an RGB factor) tints the scene beyond :data:`_MOOD_FREE` face radii from the face.
    Lighting is an affine map of the levels, ``gain·(contrast·(x − 128) + 128) + brightness``,
    applied together with the noise in one saturating add: a linear ramp over the clip, or the
    per-frame ``lighting`` = (gain, contrast, brightness) given (long videos rendered in pieces).
    """
    num_frames = len(faces)
    base = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
    tinted = base if mood is None else Image.fromarray(np.clip(background * mood, 0, 255).astype(np.uint8))
    if lighting is None:
        gain = np.linspace(rng.uniform(0.75, 1.2), rng.uniform(0.75, 1.2), num_frames)
        contrast = np.linspace(rng.uniform(0.8, 1.15), rng.uniform(0.8, 1.15), num_frames)
        brightness = np.linspace(rng.uniform(-15, 15), rng.uniform(-15, 15), num_frames)
    else:
        gain, contrast, brightness = lighting
    slope = gain * contrast
    intercept = gain * 128 * (1 - contrast) + brightness
    margin = 16
    noise = rng.uniform(2, 7) * rng.standard_normal((SCENE_HEIGHT + margin, SCENE_WIDTH + margin, 3), np.float32)
    biased_noise = Image.fromarray(np.clip(noise + _NOISE_BIAS, 0, 255).round().astype(np.uint8))
    offsets = rng.integers(0, margin, (num_frames, 2))
    frames = np.empty((num_frames, SCENE_HEIGHT, SCENE_WIDTH, 3), np.uint8)
    for t in range(num_frames):
        cx, cy, angle, scale = pose[t]
        patch = int(np.ceil(2 * _HEAD_EXTENT * radius_px * scale)) + 2
        left, top = round(cx - patch / 2), round(cy - patch / 2)
        k = _GRID / (2 * _GRID_EXTENT * radius_px * scale)
        cos, sin = np.cos(angle), np.sin(angle)
        dx, dy = left - cx, top - cy
        affine = (k * cos, k * sin, k * (cos * dx + sin * dy) + _GRID / 2,
                  -k * sin, k * cos, k * (-sin * dx + cos * dy) + _GRID / 2)
        face = Image.fromarray(faces[t]).transform((patch, patch), Image.AFFINE, affine, Image.BILINEAR)
        frame = tinted.copy()
        if mood is not None:  # the untinted scene around the face, with a soft edge
            reach = _MOOD_FREE * radius_px * scale
            size = int(np.ceil(2 * reach)) + 4
            corner = (round(cx - size / 2), round(cy - size / 2))
            xs = np.arange(size, dtype=np.float32) + corner[0] + 0.5 - cx
            ys = np.arange(size, dtype=np.float32) + corner[1] + 0.5 - cy
            distance = np.hypot(xs[None, :], ys[:, None])
            disc = Image.fromarray((np.clip(reach - distance, 0, 1) * 255).astype(np.uint8))
            frame.paste(base.crop((*corner, corner[0] + size, corner[1] + size)), corner, disc)
        frame.paste(face, (left, top), face)
        box = (int(offsets[t, 1]), int(offsets[t, 0]),
               int(offsets[t, 1]) + SCENE_WIDTH, int(offsets[t, 0]) + SCENE_HEIGHT)
        # (x + noise + bias) / scale + offset = slope·(x + noise) + intercept
        frame = ImageChops.add(frame, biased_noise.crop(box), scale=1 / slope[t],
                               offset=round(intercept[t] - _NOISE_BIAS * slope[t]))
        frames[t] = np.asarray(frame)
    return frames


# ---------------------------------------------------------------------------------------------
# Small helpers: blocks, votes, I/O


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
                         disable=not progress))


def _write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Run ``write`` on a temporary name beside ``path``, then move it into place."""
    with atomic_path(path) as temporary:
        write(temporary)


def _write_jpeg(path: Path, image: np.ndarray) -> None:
    _write_atomic(path, lambda temporary: Image.fromarray(image).save(temporary, format="JPEG", quality=90))


def _write_text(path: Path, lines: list[str]) -> None:
    _write_atomic(path, lambda temporary: temporary.write_text("".join(f"{line}\n" for line in lines)))
