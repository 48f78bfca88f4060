"""The model zoo (2D, 2D-LSTM, 3D, two-stream, CEFLNet) and the losses of the papers.

``build_model(name, num_classes=7, **options)`` builds any model of :data:`MODELS`; every model
maps ``video`` ``(B, C, T, H, W)`` (and ``scene`` for two-stream models) to
``{"logits", "features", …}``. The zoo (torch, torchvision) loads on first use of these names, so
that ``dfer.models.default`` runs without it.
"""

__all__ = ["MODELS", "build_model", "complexity"]


def __getattr__(name: str):
    if name in __all__:
        from dfer.models import zoo

        return getattr(zoo, name)
    raise AttributeError(f"module 'dfer.models' has no attribute {name!r}")
