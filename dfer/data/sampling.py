"""Frame sampling strategies: pure functions of (number of frames, mode, rng) → frame indices.

Every sampler returns int64 indices into a clip of ``num_frames`` frames, each in
[0, num_frames − 1] and in temporal order (snippet by snippet for :func:`segment_indices` on short
clips). ``mode`` is "train" (random choices drawn from ``rng``, a :class:`numpy.random.Generator`,
which is then required) or "test" (deterministic: centres). For multi-clip testing, ``view=(j, n)``
asks for the j-th of n test clips spread evenly over the choices training draws from (view (0, 1),
the default, is the single centred test clip).
Clips too short for a request repeat frames: indices past either end are clamped to the edge frame.
"""

from __future__ import annotations

import inspect
from typing import Callable

import numpy as np

from dfer.errors import InputError

MODES = ("train", "test")

Sampler = Callable[..., np.ndarray]  # (num_frames, mode, rng=None, view=(0, 1)) → indices


def uniform_indices(num_frames: int, k: int, mode: str, rng: np.random.Generator | None = None,
                    view: tuple[int, int] = (0, 1)) -> np.ndarray:
    """``k`` frames, one per equal segment: its centre at test, a random frame of it in training.

    FERV39k uses k = 8, DFEW k = 16. Segment i is the time span [i·n/k, (i+1)·n/k) (frame f lasting
    [f, f+1)); a time u in it gives frame ⌊u⌋: u is the segment's centre (i + ½)·n/k at test and
    uniform in the segment in training. With fewer frames than k, frames repeat in order. Test
    view (j, m) takes u = (i + (j + ½)/m)·n/k.
    """
    _check_clip(num_frames, mode, rng, view)
    _check_positive(k=k)
    return _segment_picks(num_frames, k, mode, rng, view)


def segment_indices(
    num_frames: int, segments: int, length: int, mode: str, rng: np.random.Generator | None = None,
    view: tuple[int, int] = (0, 1),
) -> np.ndarray:
    """TSN-style: ``segments`` equal segments, ``length`` consecutive frames from each; (segments·length,).

    Segment i spans frames [⌊i·n/s⌋, ⌊(i+1)·n/s⌋). In training its snippet starts at a random frame
    that keeps it inside the segment; at test it is centred on the segment. A segment shorter than
    ``length`` gets a snippet that covers it and spills over its edges (randomly placed in training,
    centred at test), clamped to the clip: snippets then overlap or repeat edge frames, so the
    result is non-decreasing within each snippet and overall only when n ≥ segments·length. Test
    view (j, m) starts the snippet at the ((j + ½)/m)-th point of its possible starts.
    """
    _check_clip(num_frames, mode, rng, view)
    _check_positive(segments=segments, length=length)
    bounds = np.arange(segments + 1) * num_frames // segments
    lowest = np.minimum(bounds[:-1], bounds[1:] - length)
    highest = np.maximum(bounds[:-1], bounds[1:] - length)
    if mode == "train":
        starts = rng.integers(lowest, highest + 1)
    else:
        starts = lowest + (highest - lowest) * (2 * view[0] + 1) // (2 * view[1])
    indices = starts[:, None] + np.arange(length)
    return np.clip(indices, 0, num_frames - 1).astype(np.int64).ravel()


def ceflnet_indices(
    num_frames: int,
    mode: str,
    rng: np.random.Generator | None = None,
    total: int = 105,
    window: int = 75,
    max_start: int = 30,
    clips: int = 7,
    clip_length: int = 15,
    overlap: int = 5,
    per_clip: int = 5,
    view: tuple[int, int] = (0, 1),
) -> np.ndarray:
    """CEFLNet sampling (Liu et al., Information Sciences 2022, §4.1); shape (clips, per_clip).

    The paper: "We kept each video to 105 frames via interpolation and clipping. [...] A randomly
    selected frame within the first 30 frames was used as the starting frame and the following 75
    consecutive frames were extracted. We split the 75 frames into seven sub-Videos, each of which
    had 15 frames, with five frames overlapping between each sub-video. [...] five frames were
    randomly sampled from each sub-video". Here the clip is mapped onto a ``total``-frame timeline
    by nearest-frame resampling, round(linspace(0, n − 1, total)), which repeats frames of short
    clips and drops frames of long ones. In training the window starts at one of the first
    ``max_start`` frames (0 … max_start − 1, as the paper says); sub-videos start every
    ``clip_length − overlap`` frames; each gives ``per_clip`` frames, one per equal sub-segment
    (random in training, centres at test). The paper does not say how it samples at test; we start
    the window at ``max_start // 2`` (frame 15), which centres the 75-frame window on the
    105-frame timeline; test view (j, m) starts it at frame ⌊(j + ½)·max_start/m⌋ (sub-video
    frames stay at their centres).
    """
    _check_clip(num_frames, mode, rng, view)
    _check_positive(
        total=total, window=window, max_start=max_start, clips=clips, clip_length=clip_length, per_clip=per_clip
    )
    if not 0 <= overlap < clip_length:
        raise InputError(f"overlap must be in [0, clip_length={clip_length}), got {overlap}")
    if max_start - 1 + window > total:
        raise InputError(f"a window of {window} frames starting at {max_start - 1} overruns the {total}-frame timeline")
    stride = clip_length - overlap
    if (clips - 1) * stride + clip_length > window:
        raise InputError(
            f"{clips} sub-videos of {clip_length} frames overlapping by {overlap} span "
            f"{(clips - 1) * stride + clip_length} frames, more than the window of {window}"
        )
    timeline = np.rint(np.linspace(0, num_frames - 1, total)).astype(np.int64)
    start = int(rng.integers(0, max_start)) if mode == "train" else (2 * view[0] + 1) * max_start // (2 * view[1])
    clip_starts = start + stride * np.arange(clips)
    within_clip = np.stack([_segment_picks(clip_length, per_clip, mode, rng) for _ in range(clips)])
    return timeline[clip_starts[:, None] + within_clip]


SAMPLERS: dict[str, Callable[..., np.ndarray]] = {
    "uniform": uniform_indices,
    "segments": segment_indices,
    "ceflnet": ceflnet_indices,
}


def make_sampler(name: str, **params) -> Sampler:
    """The sampler ``name`` (one of :data:`SAMPLERS`) with its parameters bound: f(num_frames, mode, rng, view)."""
    if name not in SAMPLERS:
        raise InputError(f"unknown sampler {name!r}; choose one of {sorted(SAMPLERS)}")
    function = SAMPLERS[name]
    own = {
        key: spec for key, spec in inspect.signature(function).parameters.items()
        if key not in ("num_frames", "mode", "rng", "view")
    }
    unknown = sorted(set(params) - set(own))
    if unknown:
        raise InputError(f"sampler {name!r} takes parameters {list(own)}, not {unknown}")
    missing = [key for key, spec in own.items() if spec.default is inspect.Parameter.empty and key not in params]
    if missing:
        raise InputError(f"sampler {name!r} needs parameters {missing}")
    function(1, mode="test", **params)  # reject bad values now rather than at the first clip

    def sampler(num_frames: int, mode: str, rng: np.random.Generator | None = None,
                view: tuple[int, int] = (0, 1)) -> np.ndarray:
        return function(num_frames, mode=mode, rng=rng, view=view, **params)

    return sampler


def _segment_picks(num_frames: int, count: int, mode: str, rng: np.random.Generator | None,
                   view: tuple[int, int] = (0, 1)) -> np.ndarray:
    """One frame per equal segment of [0, num_frames): uniform in training; at test the point
    (j + ½)/m of the way through it for view (j, m) (the centre for (0, 1))."""
    offsets = rng.random(count) if mode == "train" else np.full(count, (view[0] + 0.5) / view[1])
    positions = np.floor((np.arange(count) + offsets) * num_frames / count)
    return np.clip(positions, 0, num_frames - 1).astype(np.int64)


def _check_clip(num_frames: int, mode: str, rng: np.random.Generator | None,
                view: tuple[int, int] = (0, 1)) -> None:
    """Validate the arguments every sampler shares."""
    _check_positive(num_frames=num_frames)
    if len(view) != 2 or not 0 <= view[0] < view[1]:
        raise InputError(f"view must be (j, m) with 0 ≤ j < m, got {view!r}")
    if mode not in MODES:
        raise InputError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "train" and not isinstance(rng, np.random.Generator):
        raise InputError("mode 'train' needs rng, a numpy.random.Generator")


def _check_positive(**values: int) -> None:
    """Raise ValueError naming the first value that is not a positive integer."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InputError(f"{name} must be a positive integer, got {value!r}")
