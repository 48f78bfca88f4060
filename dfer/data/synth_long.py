"""Synthetic long videos for expression spotting (``dfer synth --format long``).

Each video shows one synthetic person (the faces of :mod:`dfer.data.synth_face`) for tens of seconds:
neutral stretches and expression episodes, each rising from neutral (onset), holding (apex) and
returning to neutral (offset), of varied length — short (0.2–0.5 s), typical (0.5–4 s) and long
(4–8 s) — in the six SDFE-LV categories. Five simulated annotators mark each video (onsets and
offsets off by a few frames, now and then a missed episode, a wrong category or a spurious short
interval); their lists are max-voted into the final intervals exactly as ``dfer annotate
intervals`` does (:func:`dfer.data.intervals.aggregate_intervals`). Videos are split 6:2:2
into train, validation and test, whole subjects per split (subject-independent).

Layout::

    videos/<video>.mp4             scene video (336 × 504, 25 frames/s)
    faces/<video>/000000.jpg …     face crops (``size``²), one per frame
    annotations.json               dfer-long-video: fps, frames, subject, split, 5 annotators, final
    episodes.csv                   the true episodes (video, onset, offset, category, expression)

Rendering goes in pieces of :data:`PIECE` frames so memory stays flat with video length; lighting
and pose are planned for the whole video first, so pieces join without jumps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from dfer import labels
from dfer.data.intervals import aggregate_intervals
from dfer.data.long_video import FORMAT, VERSION
from dfer.data.splits import subject_splits
from dfer.data.synth_face import APEX_MATRIX, PARAMETER_INDEX, PARAMETERS, Identity, draw_faces, random_identity
from dfer.data.synth_render import compose, crop_faces, head_pose, scene_background, smoothstep
from dfer.io.atomic import atomic_path, write_table
from dfer.io.video import write_video

FPS = 25
PIECE = 100
SPLIT_SHARES = (("train", 0.6), ("validation", 0.2), ("test", 0.2))
#: Episode length classes: (share, shortest s, longest s).
LENGTHS = ((0.2, 0.2, 0.5), (0.6, 0.5, 4.0), (0.2, 4.0, 8.0))


@dataclass(frozen=True)
class Episode:
    """One expression episode: inclusive frames and the SDFE-LV category (1..6)."""

    onset: int
    offset: int
    category: int


def plan_episodes(frames: int, fps: float, rng: np.random.Generator) -> list[Episode]:
    """Episodes separated by 0.5–3 s of neutral face, lengths drawn from :data:`LENGTHS`."""
    episodes, start = [], int(rng.uniform(0.5, 2.0) * fps)
    shares = np.array([share for share, _, _ in LENGTHS])
    while True:
        _, low, high = LENGTHS[rng.choice(len(LENGTHS), p=shares / shares.sum())]
        length = max(int(round(rng.uniform(low, high) * fps)), 3)
        if start + length > frames - int(0.5 * fps):
            return episodes
        episodes.append(Episode(start, start + length - 1, int(rng.integers(1, 7))))
        start += length + int(rng.uniform(0.5, 3.0) * fps)


def intensities(frames: int, episodes: list[Episode], rng: np.random.Generator) -> np.ndarray:
    """``(frames, 7)`` intensity per canonical expression: 0 outside the episodes; inside, a
    smooth rise over 20–35% of the episode, the apex, and a smooth fall back to 0 at the offset."""
    track = np.zeros((frames, labels.NUM_CLASSES), np.float32)
    for episode in episodes:
        length = episode.offset - episode.onset + 1
        time = np.arange(length, dtype=np.float32) / max(length - 1, 1)
        rise, fall = rng.uniform(0.2, 0.35), rng.uniform(0.25, 0.4)
        curve = smoothstep(time / rise) * smoothstep((1 - time) / fall)
        track[episode.onset:episode.offset + 1, labels.from_sdfe_lv(episode.category)] = curve * rng.uniform(0.85, 1.15)
    return track


def annotate(episodes: list[Episode], frames: int, rng: np.random.Generator, annotators: int = 5) -> dict:
    """Simulated annotators' ``{name: [[onset, offset, category], …]}``: boundaries off by about 5%
    of the episode (± 1 frame), 5% missed, 5% with another category, 3% chance of a spurious short
    interval per annotator; intervals stay within their episode's neutral surroundings."""
    bounds = [0] + [(a.offset + b.onset) // 2 for a, b in zip(episodes, episodes[1:])] + [frames - 1]
    result = {}
    for number in range(1, annotators + 1):
        marked = []
        for index, episode in enumerate(episodes):
            if rng.random() < 0.05:
                continue
            spread = 0.05 * (episode.offset - episode.onset + 1) + 1
            low, high = bounds[index] + (index > 0), bounds[index + 1] - (index < len(episodes) - 1)
            onset = int(np.clip(episode.onset + round(rng.normal(0, spread)), low, high))
            offset = int(np.clip(episode.offset + round(rng.normal(0, spread)), onset, high))
            category = episode.category if rng.random() >= 0.05 else int(rng.choice(
                [c for c in range(1, 7) if c != episode.category]))
            marked.append([onset, offset, category])
        free = [(a[1] + 2, b[0] - 2) for a, b in zip(marked, marked[1:]) if b[0] - a[1] > 8]
        if rng.random() < 0.03 and free:  # a spurious short interval in a gap this annotator left free
            start = free[int(rng.integers(len(free)))][0]
            marked.append([start, start + 3, int(rng.integers(1, 7))])
            marked.sort()
        result[f"a{number}"] = marked
    return result


def render_long_video(episodes: list[Episode], frames: int, identity: Identity, scene: str,
                      rng: np.random.Generator):
    """Yield pieces ``(scene frames, face boxes)`` of a long video (see the module docstring)."""
    track = intensities(frames, episodes, rng)
    params = np.asarray(identity.rest, np.float32)[None, :] + track @ APEX_MATRIX
    time = np.arange(frames) / FPS
    for _ in range(max(frames // (4 * FPS), 1)):  # slow idle twitches of single actions
        centre, width = rng.uniform(0, time[-1]), rng.uniform(0.3, 1.5)
        params[:, rng.integers(len(PARAMETERS))] += rng.uniform(-0.1, 0.1) * np.exp(
            -0.5 * ((time - centre) / width) ** 2)
    for blink in rng.choice(frames, size=max(frames // (3 * FPS), 1), replace=False):
        params[blink, PARAMETER_INDEX["eye_open"]] = -1.0  # a blink every 3 s on average, one frame
    pose = head_pose(frames, identity.radius_px, rng)
    background = scene_background(scene, rng)
    lighting = tuple(np.interp(time, [0, time[-1]], rng.uniform(low, high, 2)) for low, high in
                     ((0.8, 1.15), (0.85, 1.1), (-10, 10)))
    for start in range(0, frames, PIECE):
        end = min(start + PIECE, frames)
        faces = draw_faces(params[start:end], identity, rng)
        images = compose(background, faces, pose[start:end], identity.radius_px, rng,
                                lighting=tuple(part[start:end] for part in lighting))
        half_height = identity.radius_px * pose[start:end, 3]
        half_width = identity.face_width * half_height
        boxes = np.stack([pose[start:end, 0] - half_width, pose[start:end, 1] - half_height,
                          pose[start:end, 0] + half_width, pose[start:end, 1] + half_height], axis=1)
        yield images, boxes


def write_long(root: Path, videos: int, seed: int, size: int, progress: bool, seconds=(20.0, 40.0),
               videos_per_subject: int = 2) -> dict:
    """Write ``videos`` synthetic long videos with annotations under ``root`` (see the module docstring)."""
    from tqdm import tqdm

    subjects = [f"s{index // videos_per_subject + 1:02d}" for index in range(videos)]
    splits = subject_splits(subjects, seed)
    entries, truth = {}, []
    for index in tqdm(range(videos), desc="synth long", unit="video", disable=None if progress else True):
        rng = np.random.default_rng([seed, 7001, index])
        identity = random_identity(np.random.default_rng([seed, 7002, int(subjects[index][1:])]))
        frames = int(rng.uniform(*seconds) * FPS)
        episodes = plan_episodes(frames, FPS, rng)
        name = f"long_{index + 1:03d}"
        scene = str(rng.choice(labels.SCENES))
        pieces = render_long_video(episodes, frames, identity, scene, rng)
        faces = root / "faces" / name
        faces.mkdir(parents=True, exist_ok=True)
        number = 0

        def scene_frames():
            nonlocal number
            for images, boxes in pieces:
                for crop in crop_faces(images, boxes, size):
                    with atomic_path(faces / f"{number:06d}.jpg") as partial:
                        Image.fromarray(crop).save(partial, format="JPEG", quality=90)
                    number += 1
                yield from images

        write_video(root / "videos" / f"{name}.mp4", scene_frames(), FPS, crf=28)
        marks = annotate(episodes, frames, rng)
        final, agreement = aggregate_intervals(marks, frames)
        entries[name] = {"fps": float(FPS), "frames": frames, "subject": subjects[index],
                         "split": splits[subjects[index]], "scene": scene, "annotators": marks, "final": final,
                         "agreement": agreement}
        truth += [{"video": name, "onset": e.onset, "offset": e.offset, "category": e.category,
                   "expression": labels.EXPRESSIONS[labels.from_sdfe_lv(e.category)]} for e in episodes]
    with atomic_path(root / "annotations.json") as partial:
        import json

        partial.write_text(json.dumps({"format": FORMAT, "version": VERSION, "videos": entries}, indent=1))
    table = pd.DataFrame(truth, columns=["video", "onset", "offset", "category", "expression"])
    write_table(root / "episodes.csv", table)
    lengths = (table.offset - table.onset + 1) / FPS
    return {"frames": int(sum(e["frames"] for e in entries.values())), "episodes": len(table),
            "short": int((lengths <= 0.5).sum()), "long": int((lengths > 4).sum()),
            "splits": {split: sorted(v for v, e in entries.items() if e["split"] == split)
                       for split, _ in SPLIT_SHARES}}
