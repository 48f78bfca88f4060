"""The default classifier under real conditions: accuracy on variants of the fixture videos against
frame labels set by eye, for each way of cutting the face out of the frame.

Labels (``bench/data/expression_labels.csv``, set by looking at the frames; ambiguous stretches and
transitions are left out): the sample video's actress is sad (crying) from 1.0 to 9.5 s and happy
(laughing) from 10.8 s; the man in ``single_face.mp4`` is neutral to 0.55 s and smiles from 0.75 to
2.15 s. Each video is made in the variants a phone or webcam gives: as it is, dim (a quarter of the
light, gamma 1.5), noisy (Gaussian σ 20), the head rolled (the frame turned 30°), small (the frame
shrunk to 45% on a grey canvas of the same size), 1080p (upscaled to 1920 × 1080) and mirrored.

Per variant the video is tracked once (the ``dfer predict`` tracker) and every labelled frame's main
face is cut out by each crop method and classified: ``box`` (a grey square around the face box, as
``fer`` does, and dfer did before), ``levelled`` (the same square turned so the eyes are level),
``levelled + CLAHE always`` (with contrast-limited histogram equalisation of every crop) and what
``dfer predict`` does now (levelled, equalised only when underexposed). Printed: per variant, the
share of labelled frames with a face found, and each method's accuracy over the labelled frames
with a face.

    python bench/quality.py [--videos DIR] [--variants original,dim,...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from dfer import labels
from dfer.assets import asset_path
from dfer.faces.align import roll
from dfer.faces.track import FaceTracker, TrackerOptions, face_stream
from dfer.io.video import iter_frames, probe, write_video
from dfer.models.default import DefaultClassifier, box_crop, equalise, levelled_crop

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "videos"
LABELS = Path(__file__).resolve().parent / "data" / "expression_labels.csv"


def _dim(image):
    return (255 * (image / 255.0) ** 1.5 * 0.25).astype(np.uint8)


def _noisy(image, generator=np.random.default_rng(0)):
    return np.clip(image + generator.normal(0, 20, image.shape), 0, 255).astype(np.uint8)


def _rolled(image):
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 30, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)


def _small(image):
    height, width = image.shape[:2]
    canvas = np.full_like(image, 128)
    small = cv2.resize(image, (int(width * 0.45), int(height * 0.45)), interpolation=cv2.INTER_AREA)
    top, left = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    canvas[top:top + small.shape[0], left:left + small.shape[1]] = small
    return canvas


VARIANTS = {
    "original": None, "dim": _dim, "noisy": _noisy, "rolled 30°": _rolled, "small": _small,
    "1080p": lambda image: cv2.resize(image, (1920, 1080), interpolation=cv2.INTER_CUBIC),
    "mirrored": lambda image: np.ascontiguousarray(image[:, ::-1]),
}

METHODS = {
    "box (before)": lambda grey, face: box_crop(grey, face.box),
    "levelled": lambda grey, face: levelled_crop(grey, face.box, roll(face.landmarks)),
    "levelled + CLAHE always": lambda grey, face: equalise(levelled_crop(grey, face.box, roll(face.landmarks))),
    "dfer (levelled, CLAHE if dark)": lambda grey, face: DefaultClassifier.crop(grey, face.box, roll(face.landmarks)),
}


def make_variant(video: Path, name: str, folder: Path) -> Path:
    """``video`` with every frame changed as the variant says (H.264, same fps and frame count)."""
    if VARIANTS[name] is None:
        return video
    target = folder / f"{video.stem}-{name.split()[0]}.mp4"
    if not target.is_file():
        write_video(target, (VARIANTS[name](frame.image) for frame in iter_frames(video)), probe(video).fps, crf=18)
    return target


def frame_labels(video: Path, spans: pd.DataFrame) -> dict[int, str]:
    """Frame index → the label set by eye (frames outside every span are left out)."""
    wanted = {}
    for frame in iter_frames(video):
        inside = spans[(spans.start <= frame.time) & (frame.time <= spans.end)]
        if len(inside):
            wanted[frame.index] = inside.label.iloc[0]
    return wanted


def evaluate(video: Path, wanted: dict[int, str], classifier: DefaultClassifier) -> dict:
    """Faces found and per-method hits over the labelled frames (the largest face of each frame)."""
    tracker = FaceTracker(TrackerOptions())
    crops = {method: [] for method in METHODS}
    truth, found = [], 0
    for frame, faces in face_stream(video, tracker):
        if frame.index not in wanted or not faces:
            continue
        found += 1
        face = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        grey = cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY)
        for method, crop in METHODS.items():
            crops[method].append(crop(grey, face))
        truth.append(labels.EXPRESSIONS.index(wanted[frame.index]))
    hits = {method: int((classifier(np.stack(c)).argmax(axis=1) == np.array(truth)).sum()) if c else 0
            for method, c in crops.items()}
    return {"labelled": len(wanted), "found": found, **hits}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=Path, default=FIXTURES)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    spans = pd.read_csv(LABELS)
    classifier = DefaultClassifier(asset_path("emotion_model"))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for variant in args.variants.split(","):
            totals = {}
            for name, video_spans in spans.groupby("video"):
                video = make_variant(args.videos / name, variant, Path(folder))
                result = evaluate(video, frame_labels(video, video_spans), classifier)
                totals = {key: totals.get(key, 0) + value for key, value in result.items()}
            row = {"variant": variant, "faces found": f"{totals['found'] / totals['labelled']:.0%}"}
            row.update({method: f"{totals[method] / max(totals['found'], 1):.1%}" for method in METHODS})
            rows.append(row)
            print(pd.DataFrame([row]).to_string(index=False, header=len(rows) == 1), flush=True)
    table = pd.DataFrame(rows)
    print("\n| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(map(str, row)) + " |")


if __name__ == "__main__":
    main()
