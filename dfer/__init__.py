"""dfer: dynamic facial expression recognition toolkit.

``dfer.predict(video)`` gives expressions over time for every face in a video (see
:mod:`dfer.predict`); the other stages live in their sub-packages (data, faces, preprocess, models,
engine, metrics).
"""
__version__ = "0.1.0"


def __getattr__(name):
    """Import ``dfer.predict`` on first use, so ``import dfer; dfer.predict(video)`` works."""
    if name == "predict":
        import importlib

        return importlib.import_module("dfer.predict")
    raise AttributeError(f"module 'dfer' has no attribute {name!r}")
