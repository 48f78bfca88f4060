"""MODEL_CARD.md for every trained model: what it is, what it was trained and tested on, what not
to use it for, and how to use it — with YAML front matter as model hubs read it.

Written by each training run beside its checkpoints (:func:`write_model_card`), from the run's
config and its test metrics; the limitations come from what is known of each dataset's material.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from dfer.engine.config import RunConfig, to_dict
from dfer.io.atomic import atomic_path
from dfer.io.hashing import sha256

#: What each dataset's faces are, and the biases a user should know of.
DATASETS = {
    "dfew": ("DFEW (Jiang et al., ACM MM 2020): 16,372 clips cut from over 1,500 movies, 10 annotators each",
             "Faces are actors in movies: expressions are performed and lit for the screen, and the "
             "demographics follow the films chosen; the single labels keep only clips where one class has more "
             "than 6 of 10 votes, so ambiguous expressions are under-represented; disgust is 1.2% of the clips."),
    "ferv39k": ("FERV39k (Wang et al., CVPR 2022): 38,935 clips of 22 scenes in 4 scenarios, crowd-annotated",
                "Clips come from web videos of 22 scenes; scenes and expressions are unevenly represented "
                "(long-tailed), and a model may learn scene context along with the face."),
    "afew": ("AFEW 7.0 (Dhall et al.): 1,809 clips from 54 movies", "Few clips, acted movie faces; tested on Val, "
             "as AFEW's test labels are not public."),
    "mafw": ("MAFW (Liu et al., ACM MM 2022): clips from movies and TV with 11 single-label classes",
             "Movie and TV faces; four of its classes are not among the seven basic expressions."),
    "caer": ("CAER (Lee et al., ICCV 2019): 13,201 clips from 79 TV shows", "TV-show faces, strongly tied to "
             "their context; few shows, so identities repeat across splits."),
    "manifest": ("the user's own clips (a manifest)", "Unknown: whatever the user's clips contain."),
    "packed": ("a packed store of clips", "As the dataset the store was packed from."),
}


def model_card(config: RunConfig, metrics: dict, weights_sha256: str, classes: list[str]) -> str:
    """The card's text for a run of ``config`` tested with ``metrics`` (its ``metrics.json``)."""
    dataset, limits = DATASETS.get(config.data.format, DATASETS["manifest"])
    base = config.model.pretrained or "none (trained from scratch)"
    front = {
        "library_name": "dfer", "license": "other",
        "license_details": "the terms of the training data apply (most DFER datasets are for research only)",
        "tags": ["video", "facial-expression-recognition", config.model.name],
        "datasets": [config.data.format], "base_model": base,
    }
    tested = "war" in metrics and "uar" in metrics
    if tested:
        front["metrics"] = [{"name": "WAR", "value": round(float(metrics["war"]), 4)},
                            {"name": "UAR", "value": round(float(metrics["uar"]), 4)}]
    config_text = yaml.safe_dump(to_dict(config), sort_keys=False)
    per_class = metrics.get("recall", {})
    recall = "\n".join(f"| {name} | {'–' if value is None else f'{value:.1%}'} |" for name, value in per_class.items())
    evaluation = (f"On the test split ({metrics.get('clips', '?')} clips): WAR {metrics['war']:.2%}, UAR "
                  f"{metrics['uar']:.2%}.\n\n| class | recall |\n|---|---|\n{recall}" if tested else
                  "No test metrics were recorded with these weights; `dfer evaluate` measures them.")
    return f"""---
{yaml.safe_dump(front, sort_keys=False).strip()}
---

# {config.name}

## Description
A `{config.model.name}` video expression classifier trained with dfer (`dfer train`), classifying face
clips into {len(classes)} classes: {", ".join(classes)}. Starting weights: {base}.

## Intended use
Research on dynamic facial expression recognition: reproducing and comparing the papers' protocols on
{dataset.split(":")[0]}, and as a baseline for new methods.

## Out-of-scope use
Decisions about people (hiring, policing, health, education, credit), inferring emotions or inner states
as facts (a face shows an expression, not a feeling), surveillance, and use on faces unlike the training
data without testing there first.

## Limitations and biases
{limits} Expressions are reduced to a few discrete classes; labels are the annotators' judgement of the
face. The model sees the face crop only{" and the scene" if config.data.scene else ""}.

## Training data and protocol
{dataset}. Protocol `{config.protocol}`{f", fold {config.data.fold}" if config.protocol == "dfew_folds" else ""};
the best epoch was chosen on a validation split carved from training ({config.data.val_fraction:.0%}); the
test split was used once.

## Procedure
The run's config (`dfer train` reproduces it):

```yaml
{config_text.strip()}
```

## Evaluation
{evaluation}

## How to use
```
dfer predict video.mp4 --model checkpoints/best.pt --out predictions
dfer evaluate CONFIG --checkpoint checkpoints/best.pt
```

## Weights
`checkpoints/best.pt`, sha256 `{weights_sha256}`.
"""


def write_model_card(run_dir: Path, config: RunConfig, metrics: dict, classes: list[str]) -> Path:
    """Write ``run_dir/MODEL_CARD.md`` for the run's best checkpoint (atomically)."""
    target = Path(run_dir) / "MODEL_CARD.md"
    text = model_card(config, metrics, sha256(Path(run_dir) / "checkpoints" / "best.pt"), classes)
    with atomic_path(target) as partial:
        partial.write_text(text)
    return target
