"""``dfer predict``: expressions over time in any video, segments, plots and a report.

The package is callable: ``dfer.predict(video, model="default")`` is :func:`predict`.
"""

import sys
import types

from dfer.predict.pipeline import predict
from dfer.predict.result import PredictionResult, PredictOptions

__all__ = ["PredictOptions", "PredictionResult", "predict"]


class _CallableModule(types.ModuleType):
    """Lets ``dfer.predict(...)`` call :func:`predict` while ``dfer.predict.segments`` stays a module."""

    def __call__(self, video, model="default", options: PredictOptions = PredictOptions(), on_frame=None):
        return predict(video, model, options, on_frame)


sys.modules[__name__].__class__ = _CallableModule
