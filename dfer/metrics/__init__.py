"""Evaluation metrics as pure numpy functions: classification (WAR/UAR, confusion, fold and group
aggregates) in :mod:`dfer.metrics.classification`, interval overlaps in :mod:`dfer.metrics.temporal`,
proposal recall (AR@AN, AUC) and spotting F1 in :mod:`dfer.metrics.proposals`; their figures in
:mod:`dfer.metrics.plots`."""
