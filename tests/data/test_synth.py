"""Synthetic datasets: exact release layouts, determinism, clip lengths and learnable expressions."""

import csv
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from dfer import labels
from dfer.data import splits, synth
from dfer.data.synth import FORMATS, write_synthetic


def _jpegs(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.jpg"))}


def _dfew_split(root: Path, split: str, fold: int) -> list[list[str]]:
    path = root / "EmoLabel_DataSplit" / f"{split}(single-labeled)" / f"set_{fold}.csv"
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize(
    "format, clips, message",
    [("dfeww", 20, "dfew, ferv39k, afew, caer, mafw, manifest, long"), ("ferv39k", 0, "positive"),
     ("dfew", 9, "dfew format needs at least 10"), ("mafw", 9, "mafw format needs at least 10")],
)
def test_bad_arguments_are_refused_with_the_choices(tmp_path, format, clips, message):
    with pytest.raises(ValueError, match=message):
        write_synthetic(tmp_path, format, clips, progress=False)
    assert FORMATS == ("dfew", "ferv39k", "afew", "caer", "mafw", "manifest", "long")


def test_dfew_layout_and_file_names(synthetic):
    root = synthetic("dfew")
    assert (root / "Clip" / "original" / "00001.mp4").is_file()
    assert (root / "Clip" / "original" / "00060.mp4").is_file()
    assert not (root / "Clip" / "original" / "00061.mp4").exists()
    assert (root / "Annotation" / "annotation.xlsx").is_file()
    with_faces = sorted(p.name for p in (root / "Clip" / "clip_224x224").iterdir())
    assert 0 < 60 - len(with_faces) <= 3  # a few clips lost their face crops, as in the release
    first = with_faces[0]
    assert (root / "Clip" / "clip_224x224" / first / f"{first}_00001.jpg").is_file()
    assert (root / "Clip" / "clip_224x224_16f" / first / "1.jpg").is_file()
    assert (root / "Clip" / "clip_224x224_16f" / first / "16.jpg").is_file()
    assert Image.open(root / "Clip" / "clip_224x224" / first / f"{first}_00001.jpg").size == (64, 64)

    lengths = []
    for name in with_faces:
        frames = sorted((root / "Clip" / "clip_224x224" / name).iterdir())
        lengths.append(len(frames))
        assert [p.name for p in frames] == [f"{name}_{k:05d}.jpg" for k in range(1, len(frames) + 1)]
        tim_names = {p.name for p in (root / "Clip" / "clip_224x224_16f" / name).iterdir()}
        assert tim_names == {f"{k}.jpg" for k in range(1, 17)}
    assert min(lengths) >= 8 and max(lengths) <= 48
    assert any(n < 16 for n in lengths) and any(n >= 16 for n in lengths)


def test_dfew_splits_votes_and_folds(synthetic):
    root = synthetic("dfew")
    sheet = pd.read_excel(root / "Annotation" / "annotation.xlsx")
    assert list(sheet.columns) == ["video_name", "happy", "sad", "neutral", "angry", "surprise", "disgust", "fear"]
    assert len(sheet) == 60 and (sheet.iloc[:, 1:].sum(axis=1) == 10).all()
    votes = {int(row[0]): np.asarray(row[1:]) for row in sheet.itertuples(index=False)}
    has_faces = {int(p.name) for p in (root / "Clip" / "clip_224x224").iterdir()}

    test_sets = []
    for fold in range(1, 6):
        test, train = _dfew_split(root, "test", fold), _dfew_split(root, "train", fold)
        assert test[0] == ["video_name", "label"] and train[0] == ["video_name", "label"]
        assert all(re.fullmatch(r"\d{5}", name) for name, _ in test[1:])  # zero-padded
        assert all(re.fullmatch(r"[1-9]\d*", name) for name, _ in train[1:])  # unpadded
        test_ids = {int(name) for name, _ in test[1:]}
        train_ids = {int(name) for name, _ in train[1:]}
        assert test_ids and not test_ids & train_ids
        test_sets.append(test_ids)
        for name, code in test[1:] + train[1:]:
            clip_votes = votes[int(name)]
            assert clip_votes.max() >= 7  # single-labeled: at least 7 of 10 annotators agree
            assert labels.DFEW_LABELS[int(code)] == sheet.columns[1 + int(np.argmax(clip_votes))]
            assert int(name) in has_faces
    listed = set().union(*test_sets)
    assert sum(len(s) for s in test_sets) == len(listed)  # the five test folds are disjoint
    for fold in range(1, 6):
        assert {int(name) for name, _ in _dfew_split(root, "train", fold)[1:]} == listed - test_sets[fold - 1]
    assert max(map(len, test_sets)) - min(map(len, test_sets)) <= 1
    unlisted = set(votes) - listed
    assert unlisted and all(votes[i].max() <= 6 or i not in has_faces for i in unlisted)
    assert any(votes[i].max() <= 6 for i in unlisted)


def test_ferv39k_layout_and_split_files(synthetic):
    root = synthetic("ferv39k")
    lines = {split: (root / "4_setups" / "All_scenes" / f"{split}_All.csv").read_text().splitlines()
             for split in ("train", "test")}
    entries = {}
    for split, rows in lines.items():
        for line in rows:  # no header: every line is a clip
            match = re.fullmatch(r"([A-Za-z]+)/([A-Za-z]+)/(\d{4}) ([A-Za-z]+)", line)
            assert match, line
            scene, emotion, _, label = match.groups()
            assert scene in labels.SCENES and emotion == label and label in labels.FERV39K_LABELS
            assert line.split()[0] not in entries
            entries[line.split()[0]] = split
    assert len(entries) == 60 and Counter(entries.values()) == {"train": 48, "test": 12}
    assert {key.split("/")[0] for key in entries} == set(labels.SCENES)
    assert {key.split("/")[1] for key in entries} == set(labels.FERV39K_LABELS)
    first = min(entries)
    assert first.endswith("/0001")
    assert (root / "0_7_LabelClips" / f"{first}.mp4").is_file()
    faces = sorted((root / "2_ClipsforFaceCrop" / first).iterdir())
    scenes = sorted((root / "3_ClipsforScenImages" / first).iterdir())
    assert [p.name for p in faces] == [f"{k:04d}.jpg" for k in range(1, len(faces) + 1)]
    assert [p.name for p in scenes] == [p.name for p in faces]
    assert Image.open(faces[0]).size == (64, 64) and Image.open(scenes[0]).size == (504, 336)


def test_manifest_layout(synthetic):
    root = synthetic("manifest")
    table = pd.read_csv(root / "manifest.csv", dtype=str)
    assert list(table.columns) == ["path", "label", "split", "scene", "subject"]
    assert table["path"].iloc[0] == "videos/clip_0001.mp4"
    assert all((root / path).is_file() for path in table["path"])
    assert set(table["label"]) == set(labels.EXPRESSIONS)
    assert table["split"].value_counts().to_dict() == {"train": 48, "test": 12}
    assert table["subject"].value_counts().min() >= 2


def test_afew_and_caer_layouts(synthetic):
    afew, caer = synthetic("afew"), synthetic("caer")
    afew_clips = sorted(p.relative_to(afew).as_posix() for p in afew.rglob("*.avi"))
    assert len(afew_clips) == 60 and {path.split("/")[0] for path in afew_clips} == {"Train", "Val"}
    assert all(re.fullmatch(r"(Train|Val)/[A-Z][a-z]+/\d{9}\.avi", path) for path in afew_clips)
    assert {path.split("/")[1] for path in afew_clips} == set(labels.AFEW_LABELS)
    assert sum(path.startswith("Val/") for path in afew_clips) == 12
    caer_clips = sorted(p.relative_to(caer).as_posix() for p in caer.rglob("*.avi"))
    assert Counter(path.split("/")[0] for path in caer_clips) == {"train": 42, "validation": 6, "test": 12}
    assert {path.split("/")[1] for path in caer_clips} == set(labels.CAER_LABELS)
    assert "train/Anger/0001.avi" in caer_clips and "test/Anger/0001.avi" in caer_clips  # numbered per folder
    import av

    with av.open(str(caer / caer_clips[0])) as container:  # an AVI container, as the suffix says
        assert container.format.name == "avi" and container.streams.video[0].height == 336


def test_mafw_layout_and_split_files(synthetic):
    root = synthetic("mafw")
    assert sorted(p.name for p in (root / "data" / "clips").iterdir())[:2] == ["00001.mp4", "00002.mp4"]
    tests, classes = [], Counter()
    for fold in range(1, 6):
        folder = root / "Train & Test Set" / "single" / "no_caption" / f"set_{fold}"
        test, train = ((folder / f"{split}.txt").read_text().splitlines() for split in ("test", "train"))
        assert all(re.fullmatch(r"\d{5}\.mp4 [a-z]+", line) for line in test + train)
        assert not set(test) & set(train) and len(test) + len(train) == 60
        tests.append(set(test))
        classes.update(line.split()[1] for line in test)
    assert len(set().union(*tests)) == 60
    assert set(classes) == set(labels.MAFW_EXPRESSIONS) and classes["anger"] == 9 and classes["contempt"] == 3
    frames = sorted((root / "data" / "frames" / "00001").iterdir())
    assert [p.name for p in frames] == [f"{k:04d}.jpg" for k in range(1, len(frames) + 1)]
    assert Image.open(frames[0]).size == (64, 64)


def test_same_seed_same_bytes_and_clips_independent_of_count(tmp_path):
    write_synthetic(tmp_path / "a", "ferv39k", 3, seed=5, size=32, progress=False)
    write_synthetic(tmp_path / "b", "ferv39k", 3, seed=5, size=32, progress=False)
    write_synthetic(tmp_path / "c", "ferv39k", 3, seed=6, size=32, progress=False)
    write_synthetic(tmp_path / "d", "ferv39k", 1, seed=5, size=32, progress=False)
    a, b, c, d = (_jpegs(tmp_path / name) for name in "abcd")
    assert a and a == b
    assert set(a.values()).isdisjoint(c.values())
    assert d and all(a[name] == data for name, data in d.items())
    assert not list(tmp_path.rglob("*.part"))


def test_clip_lengths_include_short_clips():
    lengths = np.array([synth.clip_length(synth.clip_rng(0, 0, i)) for i in range(2000)])
    assert lengths.min() == 8 and lengths.max() == 48
    assert 0.12 < (lengths < 16).mean() < 0.18



def test_votes_single_labeled_and_ambiguous():
    rng = np.random.default_rng(0)
    for expression in range(labels.NUM_CLASSES):
        for ambiguous in (False, True):
            votes = synth.dfew_votes(expression, ambiguous, rng)
            assert votes.sum() == 10 and np.sum(votes == votes.max()) == 1
            assert np.argmax(votes) == expression and (votes.max() <= 6) == ambiguous


def test_stratified_folds_and_holdout():
    rng = np.random.default_rng(0)
    classes = np.repeat(np.arange(7), [12, 2, 5, 20, 20, 9, 1])
    folds = splits.stratified_folds(classes, 5, rng)
    assert set(folds) == {1, 2, 3, 4, 5} and np.ptp(np.bincount(folds)[1:]) <= 1
    assert all(np.ptp(np.bincount(folds[classes == c], minlength=6)[1:]) <= 1 for c in (0, 3, 4))
    held = splits.stratified_holdout(classes, 0.2, rng)
    assert held.sum() == round(0.2 * len(classes)) and held[classes == 3].sum() >= 4
