"""The cartoon face of ``dfer synth``: facial action parameters, identities and drawing.

A face is drawn on a canonical canvas of :data:`GRID`² pixels spanning ±:data:`GRID_EXTENT` face
units (face half-height = 1), as RGBA, from its :class:`Identity` (geometry and colours) and per
frame the facial action :data:`PARAMETERS` (0 = rest, 1 = an expression's :data:`APEX`). The seven
expressions are distinct deformations of brows, eyes, nose, cheeks and mouth;
:mod:`dfer.data.synth_render` moves the drawn face over a scene.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dfer import labels

# Facial action parameters, each in "apex units" (0 = rest).
PARAMETERS: tuple[str, ...] = (
    "brow_raise", "brow_inner", "brow_squeeze", "eye_open", "cheek", "nose_wrinkle",
    "upper_lip", "mouth_corner", "mouth_open", "mouth_stretch", "lip_press", "asymmetry",
)
PARAMETER_INDEX = {name: i for i, name in enumerate(PARAMETERS)}

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
APEX_MATRIX = np.array(
    [[APEX[name].get(p, 0.0) for p in PARAMETERS] for name in labels.EXPRESSIONS], np.float32
)

GRID_EXTENT = 1.25  # the canonical face canvas spans [-1.25, 1.25]² face units
GRID = 128  # canonical canvas side in pixels
HEAD_EXTENT = 1.1  # the drawn head (face and hair) lies within this radius, face units
_PIXEL = 2 * GRID_EXTENT / GRID
#: Half-width of drawn lines (eye outlines, creases, the lip line), face units: ~1 px of a 32² crop.
_STROKE = 0.02
_COORDS = (-GRID_EXTENT + (np.arange(GRID, dtype=np.float32) + 0.5) * _PIXEL)


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


def expression_parameters(
    expression: int, intensity: np.ndarray, identity: Identity, rng: np.random.Generator,
    blend: int | None = None,
) -> np.ndarray:
    """(T, len(PARAMETERS)) action parameters: apex × intensity, resting face, twitches, blinks.

    ``blend`` mixes in a second expression at 60% strength (an ambiguous clip).
    """
    apex = APEX_MATRIX[expression].copy()
    if blend is not None:
        apex += 0.6 * APEX_MATRIX[blend]
    apex[PARAMETER_INDEX["asymmetry"]] *= rng.choice([-1.0, 1.0])
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
        params[rng.integers(num_frames), PARAMETER_INDEX["eye_open"]] = -1.0
    return params.astype(np.float32)


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


def _exact_hypot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """√(x² + y²) in float64, returned as float32. NumPy's float32 transcendentals (hypot, sin, exp)
    differ in the last bit between its SIMD kernels, which moved a pixel of a face by a grey level
    on CPUs without AVX2; in float64 such a difference no longer reaches a grey level."""
    return np.hypot(np.asarray(x, np.float64), y).astype(np.float32)


def _segment_distance(u, v, u0, v0, u1, v1):
    """Distance from (u, v) to the segment (u0, v0)–(u1, v1); all arrays broadcast."""
    du, dv = u1 - u0, v1 - v0
    t = np.clip(((u - u0) * du + (v - v0) * dv) / (du * du + dv * dv + 1e-9), 0, 1)
    return _exact_hypot(u - u0 - t * du, v - v0 - t * dv)


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
    canvas = np.ones((GRID, GRID, 3), np.float32) * skin * shade[..., None]
    ridge = 0.25 * _soft(np.maximum(np.abs(u - 0.05) - 0.012, np.abs(v - 0.14) - 0.12))
    canvas *= 1 - ridge[..., None] * 0.35
    canvas += hair[..., None] * (np.asarray(identity.hair, np.float32) - canvas)
    return canvas, np.maximum(face, hair)


def draw_faces(params: np.ndarray, identity: Identity, rng: np.random.Generator) -> np.ndarray:
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
    pupil_distance = _exact_hypot(q - es - side * gaze_u, v - ey - gaze_v)
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
              - 0.035 * np.sin(np.pi * t.astype(np.float64)).astype(np.float32))
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
    blush = np.exp(-((q - 0.43) ** 2 + (v - 0.27) ** 2).astype(np.float64) / (2 * 0.12 ** 2)).astype(np.float32)
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

    alpha = np.broadcast_to(coverage[..., None] * 255, (num_frames, GRID, GRID, 1))
    return np.concatenate([np.clip(canvas, 0, 255), alpha], axis=-1).round().astype(np.uint8)
