"""Two-stream face + scene networks: FERV39k's "Two …" baselines (Sec. 4.2, Table 2), after CAER-Net.

A face stream reads the face clip (112 × 112 in the paper) and a context stream the scene clip
(112 × 168); each is a single-stream model of the zoo without its classifier. Late fusion
concatenates the two feature vectors and classifies them with one linear layer.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class TwoStream(nn.Module):
    """Late fusion of a face stream and a scene stream.

    ``face`` and ``scene`` are models following the zoo's contract (``forward(video)`` returning
    ``features``, a ``feature_dim`` and a final layer named ``classifier``); their classifiers are
    removed here. ``features`` is the concatenation [face features, scene features]
    (``feature_dim = face.feature_dim + scene.feature_dim``); dropout is applied on the way into
    the fused classifier only.
    """

    def __init__(self, face: nn.Module, scene: nn.Module, num_classes: int = 7, dropout: float = 0.5) -> None:
        super().__init__()
        for role, stream in (("face", face), ("scene", scene)):
            if not isinstance(getattr(stream, "classifier", None), nn.Module) or not hasattr(stream, "feature_dim"):
                raise ValueError(f"the {role} stream ({type(stream).__name__}) needs a 'classifier' layer and "
                                 f"a 'feature_dim' to be used in a two-stream network")
            stream.classifier = nn.Identity()
        self.face = face
        self.scene = scene
        self.feature_dim = face.feature_dim + scene.feature_dim
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.feature_dim, num_classes)

    def forward(self, video: Tensor, scene: Tensor | None = None) -> dict[str, Tensor]:
        if scene is None:
            raise ValueError("a two-stream model needs the scene clip: call model(video, scene) with scene "
                             "(B, C, T, H, W), e.g. a dataset built with the scene frames")
        features = torch.cat([self.face(video)["features"], self.scene(scene)["features"]], 1)
        return {"logits": self.classifier(self.dropout(features)), "features": features}


def two_stream(kind: str, num_classes: int = 7, dropout: float = 0.5, **options) -> TwoStream:
    """A :class:`TwoStream` whose face and scene streams are both the zoo's single-stream ``kind``.

    ``dropout`` is the fusion classifier's. ``options`` are ``kind``'s other options (e.g.
    ``hidden`` of an LSTM model, ``num_frames`` of a 2D model) and apply to both streams, which
    keep their default dropout (it matters only inside C3D, between fc6 and fc7).
    """
    from dfer.models.zoo import MODELS, build_model  # the zoo imports this module

    if kind not in MODELS or MODELS[kind].family == "two-stream":
        singles = [name for name, spec in MODELS.items() if spec.family != "two-stream"]
        raise ValueError(f"two-stream kind must be a single-stream model name ({', '.join(singles)}), not {kind!r}")
    face = build_model(kind, num_classes, **options)
    scene = build_model(kind, num_classes, **options)
    return TwoStream(face, scene, num_classes, dropout)
