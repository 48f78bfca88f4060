"""The contract every zoo model follows: features from the clip, then one shared classifier head.

A :class:`ClipModel` implements ``forward_features(video, scene=None) → (B, feature_dim)`` — the
input of the final classifier — and calls :meth:`ClipModel.init_head` where its head belongs
(last, so the random initialisation of the other layers does not depend on it). ``forward``
returns ``{"logits": classifier(dropout(features)), "features": features}``. Dropout acts only on
the way into the classifier, so ``features`` are the same in training and evaluation mode except
for the model's own inner dropout and batch norm.

A stream inside a two-stream model has its head removed (:meth:`ClipModel.remove_head`); the
fused model classifies the concatenated stream features with its own head.
"""

from __future__ import annotations

from torch import Tensor, nn


class ClipModel(nn.Module):
    """Base of the zoo's clip classifiers (see the module docstring)."""

    feature_dim: int
    #: The torchvision architecture whose weights fit this model's backbone (``model.pretrained:
    #: torchvision:<WEIGHTS>``); None when torchvision has none.
    torchvision_arch: str | None = None

    def init_head(self, num_classes: int, dropout: float) -> None:
        """Dropout (rate ``dropout``) and a linear layer from ``feature_dim`` to ``num_classes``."""
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.feature_dim, num_classes)

    def remove_head(self) -> None:
        """Drop the classifier head: the model then only gives :meth:`forward_features`."""
        self.dropout = self.classifier = None

    def forward_features(self, video: Tensor, scene: Tensor | None = None) -> Tensor:
        """``(B, feature_dim)`` features of ``video`` ``(B, C, T, H, W)`` (and ``scene`` for two-stream models)."""
        raise NotImplementedError

    def forward(self, video: Tensor, scene: Tensor | None = None) -> dict[str, Tensor]:
        if self.classifier is None:
            raise RuntimeError(f"this {type(self).__name__} has no classifier head (it is a stream of a "
                               "two-stream model); call forward_features")
        features = self.forward_features(video, scene)
        return {"logits": self.classifier(self.dropout(features)), "features": features}
