"""Raw video → face tracks → aligned face crops, scene frames and a per-frame table.

``preprocess(inputs, out, options)`` runs many videos (process pool or Ray), resumably;
``process_video(job, out, options)`` is the per-video unit; the papers' rules are pure functions in
:mod:`dfer.preprocess.rules`.
"""

from dfer.preprocess.run import PreprocessSummary, find_jobs, options_from, preprocess
from dfer.preprocess.video import RULES, PreprocessOptions, VideoJob, process_video

__all__ = ["PreprocessOptions", "PreprocessSummary", "RULES", "VideoJob", "find_jobs", "options_from",
           "preprocess", "process_video"]
