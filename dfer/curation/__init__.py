"""Dataset construction: candidate clips, annotation quality control, label aggregation and export.

Pure functions over tidy tables: :mod:`~dfer.curation.candidates` (FERV39k's four candidate stages),
:mod:`~dfer.curation.agreement` (Fleiss' kappa, capture–recapture),
:mod:`~dfer.curation.votes` (DFEW's vote distributions and single labels),
:mod:`~dfer.curation.aggregate` (weighted winner-take-all and crowd-kit's methods on one table) and
:mod:`~dfer.curation.simulate` (a crowd of simulated workers, for tests and planning). With I/O:
:mod:`~dfer.curation.pipeline` (``dfer build candidates``) with its stage-4
:mod:`~dfer.curation.scoring` and :mod:`~dfer.curation.report`, :mod:`~dfer.curation.annotation`
(the SQLite annotation store and workflow) and :mod:`~dfer.curation.export` (labels → FERV39k/DFEW).
SDFE-LV's max-voting of several annotators' intervals is :mod:`dfer.data.intervals` (the synthetic
long videos use it too).
"""
