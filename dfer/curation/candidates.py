"""FERV39k's four-stage candidate-clip generation, as pure functions over tables.

1. :func:`balance_scenes` — raw material balanced per scene by total duration (seeded random
   removal of whole videos until no scene exceeds the target, by default the smallest scene's total).
2. :func:`random_cuts` — each video cut into consecutive clips of random length (0.5–4 s).
3. :func:`check_clip` — named rules on a clip's rows of the per-frame face table (from
   ``dfer preprocess``), in this order: ``shot_cut`` (no shot change inside), ``multiple_faces``
   (no frame with more than one face), ``identity_change`` (one person throughout: one track,
   embedding distances within the threshold), ``face_coverage`` (the clip's person in ≥ 90% of
   frames), ``face_too_small`` (the person's median face size at least ``min_face_size``); then
   :func:`cap_candidates` keeps at most ``oversample ×`` the target (paper: 20×), with a per-video cap.
4. :func:`balance_expressions` — with each clip's expression probabilities from a FER model, keep
   clips whose top probability passes a threshold and remove at random down to ``keep ×`` the target
   (paper: 2×) so that the predicted expressions follow a target distribution.

Every decision is kept: each function returns its table with a ``kept`` flag and, for the removed
rows, the ``reason`` (the rule or stage that removed them).

Where this differs from the paper: its rule list (supplementary B.1) also removes clips with a
virtual face, captions or picture in picture; those are not detected here and are left to the
annotators (who remove them in the paper too). Stage 4's detector is the paper's ResNet-50 trained
on RAF-DB, which is not public: dfer scores with its default model (mini-Xception on FER2013) or
any dfer checkpoint given with ``--model``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from dfer import labels
from dfer.errors import InputError
from dfer.preprocess.table import NO_FACE


@dataclass(frozen=True)
class CandidateOptions:
    """Parameters of the four stages (the paper's values where it gives them)."""

    scene_seconds: float | None = None  # stage 1: raw seconds per scene (None: the smallest scene's total)
    min_seconds: float = 0.5
    max_seconds: float = 4.0
    cut_distribution: Literal["uniform", "log-uniform"] = "uniform"  # of clip lengths in stage 2
    min_face_size: float = 48.0  # pixels, geometric mean of the face box's sides
    min_face_share: float = 0.9
    max_identity_distance: float = 0.6
    target: int = 1000  # clips wanted in the final dataset
    oversample: float = 20.0  # stage 3 keeps at most this × target
    per_video_cap: int | None = None  # stage 3: at most this many clips per video
    keep: float = 2.0  # stage 4 keeps this × target
    min_confidence: float = 0.0  # stage 4: top expression probability a clip needs
    seed: int = 0


def balance_scenes(videos: pd.DataFrame, target: float | None = None, seed: int = 0) -> pd.DataFrame:
    """Stage 1 on a table with ``scene`` and ``duration`` (s): ``kept``/``reason`` per video.

    Videos of each scene are dropped in a seeded random order while the scene's total exceeds
    ``target`` seconds (default: the smallest scene's total), but a scene always keeps one video:
    balancing the mix must not remove a scene from it."""
    rng = np.random.default_rng(seed)
    totals = videos.groupby("scene").duration.sum()
    target = float(totals.min()) if target is None else float(target)
    result = videos.assign(kept=True, reason="")
    for scene, rows in videos.groupby("scene"):
        total, left = float(rows.duration.sum()), len(rows)
        for index in rng.permutation(rows.index.to_numpy(copy=True)):  # a view is read-only under pandas 3
            if total <= target or left == 1:
                break
            left -= 1
            result.loc[index, ["kept", "reason"]] = [False, f"scene balance: {scene} over {target:.0f} s"]
            total -= float(rows.duration[index])
    return result


def random_cuts(frames: int, fps: float, rng: np.random.Generator, min_seconds: float = 0.5,
                max_seconds: float = 4.0, distribution: str = "uniform") -> list[tuple[int, int]]:
    """Stage 2: consecutive ``(start, end)`` frame ranges (inclusive) of random length in
    [min_seconds, max_seconds] — ``uniform`` in seconds, or ``log-uniform`` (more short clips) —
    from the first frame on; a last piece shorter than ``min_seconds`` is dropped."""
    if distribution not in ("uniform", "log-uniform"):
        raise InputError(f"unknown clip-length distribution {distribution!r}; expected uniform or log-uniform")
    if not 0 < min_seconds <= max_seconds:
        raise InputError(f"clip lengths need 0 < min_seconds ≤ max_seconds, got {min_seconds}, {max_seconds}")
    cuts, start = [], 0
    shortest = max(int(round(min_seconds * fps)), 1)
    while frames - start >= shortest:
        seconds = (rng.uniform(min_seconds, max_seconds) if distribution == "uniform"
                   else float(np.exp(rng.uniform(np.log(min_seconds), np.log(max_seconds)))))
        length = int(round(seconds * fps))
        length = min(max(length, shortest), frames - start)
        cuts.append((start, start + length - 1))
        start += length
    return cuts


def check_clip(rows: pd.DataFrame, options: CandidateOptions = CandidateOptions()) -> tuple[str, dict]:
    """Stage 3 rules on one clip's rows of the per-frame table: the first rule it breaks ("" if
    none) and the figures the rules looked at."""
    frames = rows.frame.nunique()
    faces = rows[(rows.track != NO_FACE) & rows.success]
    per_frame = rows.drop_duplicates("frame")
    tracks = faces.track.value_counts()
    person = int(tracks.index[0]) if len(tracks) else NO_FACE
    share = (faces[faces.track == person].frame.nunique() / frames) if frames else 0.0
    size = float(faces[faces.track == person].face_size.median()) if len(tracks) else 0.0
    distance = float(faces.identity_distance.max()) if faces.identity_distance.notna().any() else 0.0
    figures = {"frames": int(frames), "person": person, "face_share": round(share, 4), "median_face_size": size,
               "tracks": int(len(tracks)), "max_identity_distance": distance,
               "max_faces": int(per_frame.faces.max()) if len(per_frame) else 0}
    if per_frame.cut.iloc[1:].any():
        return "shot_cut", figures
    if figures["max_faces"] > 1:
        return "multiple_faces", figures
    if len(tracks) > 1 or distance > options.max_identity_distance:
        return "identity_change", figures
    if share < options.min_face_share:
        return "face_coverage", figures
    if size < options.min_face_size:
        return "face_too_small", figures
    return "", figures


def cap_candidates(clips: pd.DataFrame, options: CandidateOptions = CandidateOptions()) -> pd.DataFrame:
    """Stage 3's cap: among clips that passed the rules (``reason`` empty), keep a random
    ``oversample × target`` with at most ``per_video_cap`` per video."""
    rng = np.random.default_rng(options.seed)
    result = clips.copy()
    passed = result.index[result.reason == ""].to_numpy(copy=True)  # permutation shuffles it: a writable copy
    kept_per_video: dict[str, int] = {}
    limit = int(options.oversample * options.target)
    kept = 0
    for index in rng.permutation(passed):
        video = result.at[index, "video"]
        if options.per_video_cap is not None and kept_per_video.get(video, 0) >= options.per_video_cap:
            result.at[index, "reason"] = f"per-video cap {options.per_video_cap}"
        elif kept >= limit:
            result.at[index, "reason"] = f"oversample cap {limit}"
        else:
            kept_per_video[video] = kept_per_video.get(video, 0) + 1
            kept += 1
    result["kept"] = result.reason == ""
    return result


def balance_expressions(clips: pd.DataFrame, target_distribution: dict[str, float] | None = None,
                        options: CandidateOptions = CandidateOptions()) -> pd.DataFrame:
    """Stage 4 on clips with one probability column per expression: ``predicted``, and ``kept`` for
    at most ``keep × target`` clips whose shares of predicted expressions follow
    ``target_distribution`` (default uniform) as closely as the clips allow."""
    rng = np.random.default_rng(options.seed)
    result = clips.copy()
    probabilities = result[list(labels.EXPRESSIONS)].to_numpy()
    result["predicted"] = [labels.EXPRESSIONS[i] for i in probabilities.argmax(axis=1)]
    result["confidence"] = probabilities.max(axis=1)
    result["reason"] = np.where(result.confidence < options.min_confidence, "expression confidence", "")
    wanted = target_distribution or {name: 1.0 / len(labels.EXPRESSIONS) for name in labels.EXPRESSIONS}
    total = sum(wanted.values())
    available = result[result.reason == ""].groupby("predicted").size()
    budget = int(options.keep * options.target)
    quotas = _quotas({k: v / total for k, v in wanted.items()}, available.to_dict(), budget)
    for name, rows in result[result.reason == ""].groupby("predicted"):
        order = rng.permutation(rows.index.to_numpy(copy=True))
        result.loc[order[quotas.get(name, 0):], "reason"] = f"expression balance ({name})"
    result["kept"] = result.reason == ""
    return result


def _quotas(shares: dict[str, float], available: dict[str, int], budget: int) -> dict[str, int]:
    """Per-class counts near ``shares × budget`` without exceeding what is available; what a
    short class cannot use goes to the others in proportion (water filling)."""
    quotas = {name: 0 for name in shares}
    open_classes = {name for name in shares if available.get(name, 0) > 0}
    remaining = min(budget, sum(available.get(name, 0) for name in shares))
    while remaining > 0 and open_classes:
        weight = sum(shares[name] for name in open_classes) or 1.0
        progressed = False
        for name in sorted(open_classes):
            room = available.get(name, 0) - quotas[name]
            give = min(room, max(int(np.floor(remaining * shares[name] / weight)), 0))
            quotas[name] += give
            progressed |= give > 0
        remaining = min(budget, sum(available.get(n, 0) for n in shares)) - sum(quotas.values())
        open_classes = {name for name in open_classes if quotas[name] < available.get(name, 0)}
        if not progressed and remaining > 0:  # rounding left a few: largest shares first
            for name in sorted(open_classes, key=lambda n: -shares[n])[:remaining]:
                quotas[name] += 1
            remaining = 0
    return quotas
