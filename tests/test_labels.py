import numpy as np
import pytest

from dfer import labels


def test_canonical_order_is_fixed():
    assert labels.EXPRESSIONS == ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


@pytest.mark.parametrize("code, name", [(1, "happy"), (2, "sad"), (3, "neutral"), (4, "angry"),
                                        (5, "surprise"), (6, "disgust"), (7, "fear")])
def test_dfew_mapping(code, name):
    assert labels.EXPRESSIONS[labels.from_dfew(code)] == name
    assert labels.from_dfew(str(code)) == labels.from_dfew(float(code)) == labels.INDEX[name]
    assert labels.to_dfew(labels.INDEX[name]) == code


@pytest.mark.parametrize("bad", [0, 8, "x", 2.5, -1])
def test_dfew_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match="DFEW label"):
        labels.from_dfew(bad)


@pytest.mark.parametrize("code, name", [(1, "angry"), (2, "disgust"), (3, "fear"), (4, "happy"),
                                        (5, "sad"), (6, "surprise")])
def test_sdfe_lv_mapping(code, name):
    assert labels.EXPRESSIONS[labels.from_sdfe_lv(code)] == name
    assert labels.to_sdfe_lv(labels.INDEX[name]) == code


def test_sdfe_lv_has_no_neutral():
    with pytest.raises(ValueError):
        labels.from_sdfe_lv(7)
    with pytest.raises(ValueError, match="no code"):
        labels.to_sdfe_lv(labels.INDEX["neutral"])


def test_ferv39k_folder_names_round_trip():
    for folder in ("Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"):
        assert labels.to_ferv39k(labels.from_ferv39k(folder)) == folder
    with pytest.raises(ValueError, match="FERV39k"):
        labels.from_ferv39k("happy")  # folder spellings are case-sensitive


def test_fer2013_permutation_reorders_model_outputs():
    # a FER2013-ordered probability row with a distinct value per class
    fer_row = np.array([0.10, 0.02, 0.03, 0.50, 0.15, 0.05, 0.15])  # angry..surprise, neutral
    canonical = fer_row[labels.fer2013_permutation()]
    for name, value in zip(labels.FER2013_ORDER, fer_row):
        assert canonical[labels.INDEX[name]] == value


def test_synonyms():
    assert labels.canonical("Happiness") == labels.INDEX["happy"]
    assert labels.canonical(" ANGER ") == labels.INDEX["angry"]
    with pytest.raises(ValueError, match="unknown expression"):
        labels.canonical("contempt")


def test_scenes_and_scenarios():
    assert len(labels.SCENES) == 22 and len(set(labels.SCENES)) == 22
    assert {k: len(v) for k, v in labels.SCENARIOS.items()} == {"DL": 6, "WIS": 6, "SIA": 6, "AI": 4}
    assert labels.SCENE_TO_SCENARIO["DailyLife"] == "DL"
    assert labels.SCENE_TO_SCENARIO["Talkshow"] == "WIS"
    assert labels.SCENE_TO_SCENARIO["OfficialEvent"] == "SIA"
    assert labels.SCENE_TO_SCENARIO["Crisis"] == "AI"


def test_afew_and_caer_folder_names_round_trip():
    for folder in ("Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"):
        assert labels.to_afew(labels.from_afew(folder)) == folder
    assert labels.from_caer("Anger") == labels.INDEX["angry"]
    for index in range(labels.NUM_CLASSES):
        assert labels.from_caer(labels.to_caer(index)) == index
    with pytest.raises(ValueError, match="unknown CAER emotion folder 'Angry'"):
        labels.from_caer("Angry")  # AFEW's spelling, not CAER's
    with pytest.raises(ValueError, match="unknown AFEW emotion folder 'Anger'"):
        labels.from_afew("Anger")


def test_mafw_vocabulary_is_mafws_own_order():
    assert labels.MAFW_EXPRESSIONS == ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise",
                                       "contempt", "anxiety", "helplessness", "disappointment")
    assert [labels.from_mafw(name) for name in labels.MAFW_EXPRESSIONS] == list(range(11))
    assert labels.to_mafw(9) == "helplessness"
    with pytest.raises(ValueError, match="unknown MAFW label 'Anger'"):
        labels.from_mafw("Anger")
    with pytest.raises(ValueError, match="out of range"):
        labels.to_mafw(11)


@pytest.mark.parametrize("mafw, canonical", [
    ("anger", "angry"), ("disgust", "disgust"), ("fear", "fear"), ("happiness", "happy"), ("neutral", "neutral"),
    ("sadness", "sad"), ("surprise", "surprise"), ("contempt", None), ("anxiety", None), ("helplessness", None),
    ("disappointment", None),
])
def test_mafw_to_canonical(mafw, canonical):
    expected = -1 if canonical is None else labels.INDEX[canonical]
    assert labels.mafw_to_canonical(labels.from_mafw(mafw)) == expected
