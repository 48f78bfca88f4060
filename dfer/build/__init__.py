"""Dataset construction: candidate clips, annotation quality control, label aggregation and export.

Pure functions over tidy tables: :mod:`~dfer.build.candidates` (FERV39k's four candidate stages),
:mod:`~dfer.build.agreement` (Fleiss' kappa, capture–recapture, interval IoU),
:mod:`~dfer.build.votes` (DFEW's vote distributions and single labels), :mod:`~dfer.build.intervals`
(SDFE-LV's frame-level max-voting of onset/offset intervals), :mod:`~dfer.build.aggregate`
(weighted winner-take-all and crowd-kit's methods on one table) and :mod:`~dfer.build.simulate`
(a crowd of simulated workers, for tests and planning). With I/O: :mod:`~dfer.build.pipeline`
(``dfer build candidates``) and its :mod:`~dfer.build.report`, :mod:`~dfer.build.annotation`
(the SQLite annotation store and workflow) and :mod:`~dfer.build.export` (labels → FERV39k/DFEW).
"""
