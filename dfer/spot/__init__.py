"""Expression spotting in long videos (SDFE-LV): snippet features from trained dfer models
(:mod:`~dfer.spot.features`), the localizers :mod:`~dfer.spot.bmn`, :mod:`~dfer.spot.bsn`,
:mod:`~dfer.spot.turn` and :mod:`~dfer.spot.rc3d` with their shared operations
(:mod:`~dfer.spot.ops`: Soft-NMS, the balanced logistic loss), their training and proposals
(:mod:`~dfer.spot.train`), and segments of one video (:mod:`~dfer.spot.predict`). The interval
formats live in :mod:`dfer.data.long_video`, the proposal evaluation in :mod:`dfer.metrics.proposals`.
"""
