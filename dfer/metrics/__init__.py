"""Evaluation metrics as pure numpy functions: classification (WAR/UAR, confusion, fold and group
aggregates) in :mod:`dfer.metrics.classification`."""
