"""Expression spotting in long videos (SDFE-LV): interval formats (:mod:`~dfer.spot.annotations`),
proposal evaluation exactly as ActivityNet (:mod:`~dfer.spot.evaluate`), snippet features from
trained dfer models (:mod:`~dfer.spot.features`), the localizers :mod:`~dfer.spot.bmn`,
:mod:`~dfer.spot.bsn` and :mod:`~dfer.spot.turn`, their training and proposals
(:mod:`~dfer.spot.train`), and segments of one video (:mod:`~dfer.spot.predict`).
"""
