"""Two-stream face + scene networks: FERV39k's "Two …" baselines (Sec. 4.2, Table 2), after CAER-Net.

A face stream reads the face clip (112 × 112 in the paper) and a context stream the scene clip
(112 × 168); each is a single-stream model of the zoo without its classifier head. Late fusion
concatenates the two feature vectors and classifies them with one linear layer. The zoo's
``two_*`` models are built by :func:`dfer.models.zoo.two_stream`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from dfer.errors import InputError
from dfer.models.base import ClipModel


class TwoStream(ClipModel):
    """Late fusion of a face stream and a scene stream.

    ``face`` and ``scene`` are :class:`~dfer.models.base.ClipModel` models; their classifier heads are
    removed here and only their ``forward_features`` are used. ``features`` is the concatenation
    [face features, scene features] (``feature_dim = face.feature_dim + scene.feature_dim``);
    dropout is applied on the way into the fused classifier only.
    """

    def __init__(self, face: ClipModel, scene: ClipModel, num_classes: int = 7, dropout: float = 0.5) -> None:
        super().__init__()
        for role, stream in (("face", face), ("scene", scene)):
            if not isinstance(stream, ClipModel) or not hasattr(stream, "classifier"):
                raise InputError(f"the {role} stream ({type(stream).__name__}) must be a ClipModel with the shared "
                                 "classifier head (forward_features, feature_dim) to be used in a two-stream network")
            stream.remove_head()
        self.face = face
        self.scene = scene
        self.feature_dim = face.feature_dim + scene.feature_dim
        self.torchvision_arch = face.torchvision_arch
        self.init_head(num_classes, dropout)

    def forward_features(self, video: Tensor, scene: Tensor | None = None) -> Tensor:
        if scene is None:
            raise InputError("a two-stream model needs the scene clip: call model(video, scene) with scene "
                             "(B, C, T, H, W), e.g. a dataset built with the scene frames")
        return torch.cat([self.face.forward_features(video), self.scene.forward_features(scene)], 1)
