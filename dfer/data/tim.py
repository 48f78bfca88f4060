"""Temporal Interpolation Model (TIM): resample a clip to any number of frames.

Zhou, Zhao & Pietikäinen, "Towards a practical lipreading system", CVPR 2011; DFEW uses it to
make its 16-frame clips (DFEW §4.1, "Preprocessing"). The model: with the frames as columns of
X (D×N) and μ their mean, the economy SVD X − μ = U S Vᵀ keeps N−1 components and Y = S Vᵀ; T
holds the eigenvectors of (YYᵀ)⁻¹ Y L Yᵀ (L the Laplacian of the path graph on the frames) by
ascending eigenvalue, v_j(t) = sin(πjt + π(N−j)/(2N)) are the Laplacian's eigenvectors as curves
of t = i/N, m_j = (y₁ᵀT_j) / v_j(1/N), and the new frames are x(t) = U (Tᵀ)⁻¹ (v(t) ∘ m) + μ.

The recipe collapses to a closed form, which is what :func:`tim` evaluates. Y's rows span the
centred vectors 1⊥ and YYᵀ = S², so (YYᵀ)⁻¹ Y L Yᵀ = S⁻¹ (Vᵀ L V) S and YᵀT_j is proportional to
v_j(i/N), the Laplacian eigenvector of the j-th smallest nonzero eigenvalue 2 − 2cos(πj/N).
Substituting, U, S and T cancel and, since Σᵢ v_j(i/N)² = N/2,

    x(t) = μ + (2/N) Σ_{j=1}^{N−1} v_j(t) Σ_{i=1}^{N} v_j(i/N) xᵢ,

a fixed K×N matrix applied to the frames. For full-rank input this equals the step-by-step
recipe to rounding (tests/data/test_tim.py checks it against a literal SVD + eig route); it never
forms a D×D (or even a D×N float SVD) and it stays defined when YYᵀ is singular — identical or
duplicated frames, or fewer pixels than frames — where it is the continuous extension of TIM
(identical frames give that frame back K times).
"""

from __future__ import annotations

import numpy as np

from dfer.errors import InputError


def tim(frames: np.ndarray, k: int) -> np.ndarray:
    """Resample ``frames`` (N, H, W[, C]) to ``k`` frames with TIM; float64, same trailing shape.

    Outputs lie at t = linspace(1/N, 1, k), so the first and last frames are kept and ``k == N``
    gives the input back; ``k == 1`` gives the frame at the clip's temporal centre, and a single
    input frame is repeated ``k`` times.
    """
    frames = np.asarray(frames)
    if frames.ndim not in (3, 4):
        raise InputError(f"frames must have shape (N, H, W) or (N, H, W, C), got {frames.shape}")
    if frames.shape[0] == 0:
        raise InputError("frames is empty: TIM needs at least one frame")
    if not (np.issubdtype(frames.dtype, np.integer) or np.issubdtype(frames.dtype, np.floating)):
        raise InputError(f"frames must hold real numbers, got dtype {frames.dtype}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    num_frames = frames.shape[0]
    weights = _interpolation_weights(num_frames, int(k))
    pixels = frames.reshape(num_frames, -1).astype(np.float64, copy=False)
    return (weights @ pixels).reshape((int(k),) + frames.shape[1:])


def tim_frames_uint8(frames: np.ndarray, k: int) -> np.ndarray:
    """:func:`tim` rounded and clipped to uint8 images, ready to write as JPEG/PNG."""
    return np.clip(np.rint(tim(frames, k)), 0, 255).astype(np.uint8)


def _interpolation_weights(num_frames: int, k: int) -> np.ndarray:
    """The (k, num_frames) matrix mapping input frames to TIM frames (module docstring)."""
    sample_times = np.arange(1, num_frames + 1) / num_frames
    if k == 1:
        output_times = np.array([(1 / num_frames + 1) / 2])
    else:
        output_times = np.linspace(1 / num_frames, 1, k)
    orders = np.arange(1, num_frames)
    phases = np.pi * (num_frames - orders) / (2 * num_frames)
    basis_at_samples = np.sin(np.pi * np.outer(sample_times, orders) + phases)
    basis_at_outputs = np.sin(np.pi * np.outer(output_times, orders) + phases)
    return 1 / num_frames + (2 / num_frames) * basis_at_outputs @ basis_at_samples.T
