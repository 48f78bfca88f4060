"""Synthetic clips: an expression arc with the face in frame, and expressions a linear model tells apart."""

import numpy as np

from dfer import labels
from dfer.data.synth_render import crop_faces, render_clip


def test_render_clip_has_an_expression_arc_and_faces_in_frame():
    clip = render_clip(labels.INDEX["happy"], 20, np.random.default_rng(0))
    assert clip.frames.shape == (20, 336, 504, 3) and clip.frames.dtype == np.uint8
    assert clip.intensity[0] == 0 and clip.intensity.max() > 0.9 and clip.intensity[-1] < clip.intensity.max()
    x0, y0, x1, y1 = clip.boxes.T
    assert (x0 >= 0).all() and (y0 >= 0).all() and (x1 <= 504).all() and (y1 <= 336).all()
    assert crop_faces(clip.frames, clip.boxes, 48).shape == (20, 48, 48, 3)


def test_expressions_are_distinct_at_the_apex():
    """A linear classifier on small grey apex crops of 140 clips does far better than chance."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    features, targets = [], []
    for expression in range(labels.NUM_CLASSES):
        for index in range(20):
            rng = np.random.default_rng([expression, index])
            clip = render_clip(expression, 10, rng)
            apex = int(np.argmax(clip.intensity))
            crop = crop_faces(clip.frames[apex:apex + 1], clip.boxes[apex:apex + 1], 32)[0]
            grey = crop.astype(np.float32).mean(axis=2)
            features.append(((grey - grey.mean()) / (grey.std() + 1e-6)).ravel())
            targets.append(expression)
    model = LogisticRegression(C=0.05, max_iter=2000)
    accuracy = cross_val_score(model, np.array(features), np.array(targets), cv=4).mean()
    assert accuracy > 0.5  # chance is 1/7; measured 0.929, the same with NumPy's SIMD kernels off
