"""Synthetic clips of ``dfer synth``: the cartoon face (:mod:`dfer.data.synth_face`) moving over a scene.

Each clip follows an onset → apex → offset intensity curve; identity, head pose, lighting and
sensor noise vary as nuisances, and the scene's look depends on its name (plus a slight
expression-dependent mood tint away from the face, so face crops do not show it), so scene context
carries some information. :func:`render_clip` renders a whole clip; the long videos of
:mod:`dfer.data.synth_long` are rendered in pieces from the same steps (:func:`head_pose`,
:func:`scene_background`, :func:`compose`). Every function draws from the generator it is given,
so the same generator state gives the same images.
"""

from __future__ import annotations

import math
import zlib
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageChops

from dfer import labels
from dfer.data.synth_face import (GRID, GRID_EXTENT, HEAD_EXTENT, Identity, draw_faces, expression_parameters,
                                  random_identity)
from dfer.errors import InputError

SCENE_HEIGHT, SCENE_WIDTH = 336, 504
#: Slight per-expression colour cast of the scene (film "mood" lighting), canonical order. It is
#: applied only beyond :data:`MOOD_FREE` face radii from the face centre, outside the face crop
#: (whose corners lie 1.63 radii away), so that it is a cue of the scene stream, not a shortcut of
#: face-only models.
MOOD = np.array(
    [[1.06, 0.97, 0.95], [1.0, 1.04, 0.96], [0.95, 0.98, 1.06], [1.06, 1.03, 0.95],
     [1.0, 1.0, 1.0], [0.95, 0.97, 1.05], [1.02, 1.02, 1.0]], np.float32
)

MOOD_FREE = 1.8
_NOISE_BIAS = 64  # sensor noise is stored as uint8 around this level and subtracted when added


class RenderedClip(NamedTuple):
    """One rendered clip: scene frames, face boxes ``(x0, y0, x1, y1)`` and expression intensity."""

    frames: np.ndarray  # (T, 336, 504, 3) uint8
    boxes: np.ndarray  # (T, 4) float32, pixels
    intensity: np.ndarray  # (T,) float32 in [0, 1], 1 at the apex


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
    rise = smoothstep((time - onset) / (apex_start - onset))
    fall = smoothstep((time - apex_end) / (1 - apex_end))
    return (rise * (1 - (1 - residual) * fall)).astype(np.float32)


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
    half = HEAD_EXTENT * radius_px * pose[:, 3] + 2
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
        raise InputError(f"expression must be a canonical index 0..{labels.NUM_CLASSES - 1}, got {expression}")
    if num_frames < 1:
        raise InputError(f"num_frames must be at least 1, got {num_frames}")
    if identity is None:
        identity = random_identity(rng)
    scene = scene or str(rng.choice(labels.SCENES))
    intensity = intensity_curve(num_frames, rng)
    params = expression_parameters(expression, intensity, identity, rng, blend)
    pose = head_pose(num_frames, identity.radius_px, rng)
    background = scene_background(scene, rng)
    faces = draw_faces(params, identity, rng)
    frames = compose(background, faces, pose, identity.radius_px, rng, mood=MOOD[expression])
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


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def scene_background(scene: str, rng: np.random.Generator) -> np.ndarray:
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
    # in float64: NumPy's float32 sine differs in the last bit between its SIMD kernels, enough to
    # move a few pixels of a few clips by a grey level on CPUs without AVX2
    texture = (np.sin(SCENE_WIDTH * frequency[0] * x.astype(np.float64) + rng.uniform(0, 6)) *
               np.sin(SCENE_HEIGHT * frequency[1] * y.astype(np.float64) + rng.uniform(0, 6)))
    image += (12 * texture[..., None]).astype(np.float32)
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


def compose(
    background: np.ndarray, faces: np.ndarray, pose: np.ndarray, radius_px: float, rng: np.random.Generator,
    mood: np.ndarray | None = None, lighting: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Warp each canonical face into the scene, then apply a lighting ramp and sensor noise.

    ``mood`` (an RGB factor) tints the scene beyond :data:`MOOD_FREE` face radii from the face.
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
        patch = int(np.ceil(2 * HEAD_EXTENT * radius_px * scale)) + 2
        left, top = round(cx - patch / 2), round(cy - patch / 2)
        k = GRID / (2 * GRID_EXTENT * radius_px * scale)
        cos, sin = np.cos(angle), np.sin(angle)
        dx, dy = left - cx, top - cy
        affine = (k * cos, k * sin, k * (cos * dx + sin * dy) + GRID / 2,
                  -k * sin, k * cos, k * (-sin * dx + cos * dy) + GRID / 2)
        face = Image.fromarray(faces[t]).transform((patch, patch), Image.AFFINE, affine, Image.BILINEAR)
        frame = tinted.copy()
        if mood is not None:  # the untinted scene around the face, with a soft edge
            reach = MOOD_FREE * radius_px * scale
            size = int(np.ceil(2 * reach)) + 4
            corner = (round(cx - size / 2), round(cy - size / 2))
            xs = np.arange(size, dtype=np.float64) + corner[0] + 0.5 - cx  # float64: as the scene's texture
            ys = np.arange(size, dtype=np.float64) + corner[1] + 0.5 - cy
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
