"""The model zoo (2D, 2D-LSTM, 3D, two-stream, CEFLNet) and the losses of the papers.

``build_model(name, num_classes=7, **options)`` builds any model of :data:`MODELS`; every model
maps ``video`` ``(B, C, T, H, W)`` (and ``scene`` for two-stream models) to
``{"logits", "features", …}``.
"""

from dfer.models.zoo import MODELS, build_model, complexity

__all__ = ["MODELS", "build_model", "complexity"]
