"""The real readers on synthetic copies written in the release layouts."""

from pathlib import Path

import pandas as pd

from dfer import labels
from dfer.data.check import check_dataset
from dfer.data.dfew import read_dfew, split_file
from dfer.data.ferv39k import cross_scenario, read_ferv39k
from dfer.data.formats import detect_format, read_dataset
from dfer.data.mafw import read_mafw, shared_classes


def test_dfew_folds_partition_the_single_labeled_clips(synthetic):
    root = synthetic("dfew")
    assert detect_format(root) == "dfew"
    everything = read_dfew(root)
    assert everything.attrs["problems"] == []
    tests = []
    for fold in range(1, 6):
        table = read_dfew(root, fold=fold)
        test = set(table.loc[table["split"] == "test", "clip_id"])
        train = set(table.loc[table["split"] == "train", "clip_id"])
        assert test and train and not test & train
        assert test | train == set(everything["clip_id"])
        tests.append(test)
    assert sum(map(len, tests)) == len(everything)
    # ids are written unpadded in the train files and padded in the test files
    assert not split_file(root, "train", 1).read_text().splitlines()[1].startswith("0")
    assert split_file(root, "test", 1).read_text().splitlines()[1].startswith("0")
    assert all(len(key) == 5 for key in everything["clip_id"])


def test_dfew_sources_agree(synthetic):
    root = synthetic("dfew")
    faces = read_dfew(root, fold=1)
    sixteen = read_dfew(root, fold=1, source="clip_224x224_16f")
    videos = read_dfew(root, fold=1, source="original")
    assert list(faces["clip_id"]) == list(sixteen["clip_id"]) == list(videos["clip_id"])
    assert (sixteen["num_frames"] == 16).all()
    assert (faces["num_frames"] < 16).any()  # short clips exist
    assert (faces["num_frames"].to_numpy() == videos["num_frames"].to_numpy()).all()
    assert [Path(p).name for p in sixteen.loc[0, "frames"]][8:11] == ["9.jpg", "10.jpg", "11.jpg"]
    votes = pd.DataFrame(faces["votes"].tolist())
    assert (votes.sum(axis=1) == 10).all() and (votes.max(axis=1) > 6).all()


def test_ferv39k_setups(synthetic):
    root = synthetic("ferv39k", clips=80)
    assert detect_format(root) == "ferv39k"
    table = read_ferv39k(root, with_scene=True)
    assert len(table) == 80 and set(table["scenario"]) == {"DL", "WIS", "SIA", "AI"}
    assert (table["num_frames"] == table["scene_frames"].map(len)).all()
    for scenario in ("DL", "WIS", "SIA", "AI"):
        subset = read_ferv39k(root, setup=scenario)
        assert set(subset["scenario"]) == {scenario} and len(subset) > 0
    cross = cross_scenario(table, "DL", "AI")
    assert set(cross.loc[cross["split"] == "test", "scenario"]) == {"AI"}
    assert set(cross.loc[cross["split"] == "train", "scenario"]) == {"DL"}
    assert len(read_ferv39k(root, source="video")) == 80


def test_manifest_and_checks(synthetic):
    root = synthetic("manifest")
    table = read_dataset(root)
    assert len(table) == 60 and set(table["split"]) == {"train", "test"}
    assert table["video"].notna().all() and (table["label"] >= 0).all()
    for format in ("dfew", "ferv39k", "manifest"):
        report = check_dataset(synthetic(format, clips=80 if format == "ferv39k" else 60), progress=False)
        assert report.ok, report.problems


def test_afew_and_caer_splits(synthetic):
    for format, splits in (("afew", {"train": 48, "test": 12}), ("caer", {"train": 42, "val": 6, "test": 12})):
        root = synthetic(format)
        assert detect_format(root) == format
        table = read_dataset(root)
        assert table["split"].value_counts().to_dict() == splits
        assert table.attrs["classes"] == labels.EXPRESSIONS and set(table["label"]) == set(range(7))
        assert table["num_frames"].between(8, 48).all() and table["video"].notna().all()
        expression = table["clip_id"].str.split("/").str[1]  # the emotion folder names the label
        to_canonical = labels.from_afew if format == "afew" else labels.from_caer
        assert (expression.map(to_canonical) == table["label"]).all()


def test_mafw_folds_sources_and_shared_classes(synthetic):
    root = synthetic("mafw")
    assert detect_format(root) == "mafw"
    everything = read_mafw(root)
    assert len(everything) == 60 and set(everything["label"]) == set(range(11))
    assert sorted(everything["fold"].value_counts()) == [12] * 5
    for fold in (1, 5):
        table = read_mafw(root, fold=fold)
        assert set(table.loc[table["split"] == "test", "clip_id"]) == set(
            everything.loc[everything["fold"] == fold, "clip_id"])
        assert (table["split"] == "train").sum() == 48
    frames = read_mafw(root, source="frames")
    assert (frames["num_frames"].to_numpy() == everything["num_frames"].to_numpy()).all()
    shared = shared_classes(everything)
    assert 0 < len(shared) < 60 and set(shared["label"]) == set(range(7))


def test_checks_of_the_video_formats(synthetic):
    for format in ("afew", "caer", "mafw"):
        report = check_dataset(synthetic(format), images="ends", progress=False)
        assert report.ok and report.clips == 60, report.problems
