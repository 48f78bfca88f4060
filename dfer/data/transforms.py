"""Clip transforms: small callables on ``(T, C, H, W)`` tensors that treat a clip as one image.

Every random transform draws its parameters once per call, so all frames of a clip get the same
crop, flip and illumination change. A transform is called as ``transform(clip, generator)``;
``generator`` is a :class:`torch.Generator` (the dataset passes one seeded per sample) or None
for torch's global RNG. Geometric transforms accept uint8 or float clips; the illumination change
and :class:`Normalize` need the float clip that :class:`ToFloat` makes.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torchvision.transforms.v2 import functional as F

from dfer.errors import InputError
from dfer.io.frames import Size, as_hw

#: ``transform(clip, generator)``: a ``(T, C, H, W)`` clip → the transformed clip.
ClipTransform = Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _uniform(low: float, high: float, generator: torch.Generator | None) -> float:
    return low + (high - low) * float(torch.rand(1, generator=generator))


def _factor_range(value: float | tuple[float, float], name: str) -> tuple[float, float]:
    """``[1 - value, 1 + value]`` for a float, or the given (low, high) range."""
    low, high = (1 - value, 1 + value) if isinstance(value, (int, float)) else value
    if not 0 <= low <= high:
        raise InputError(f"{name} range must satisfy 0 <= low <= high, got {(low, high)}")
    return float(low), float(high)


class Compose:
    """Apply transforms in order, passing each the same generator."""

    def __init__(self, transforms: Sequence[ClipTransform]):
        self.transforms = list(transforms)

    def __call__(self, clip: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        for transform in self.transforms:
            clip = transform(clip, generator)
        return clip

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


class Resize:
    """Resize every frame to ``size`` (an int means square), bilinear with antialiasing.

    A uint8 clip on the CPU is resized by ATen's fixed-point uint8 kernel on every CPU, so a clip
    gives the same pixels everywhere (:mod:`dfer.data.resize` reproduces them without torch).
    torchvision's ``resize`` takes that kernel only where PyTorch's CPU capability is AVX2 or
    AVX-512 (or on ARM) and otherwise resizes in float and rounds, one grey level off in ~19% of
    pixels: training and test inputs would depend on the CPU.
    """

    def __init__(self, size: Size):
        self.size = as_hw(size)

    def __call__(self, clip: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if clip.dtype != torch.uint8 or clip.device.type != "cpu" or tuple(clip.shape[-2:]) == self.size:
            return F.resize(clip, list(self.size), antialias=True)
        frames = clip.reshape(-1, *clip.shape[-3:])
        resized = torch.nn.functional.interpolate(frames, size=self.size, mode="bilinear", align_corners=False,
                                                  antialias=True)
        return resized.reshape(*clip.shape[:-2], *self.size)

    def __repr__(self) -> str:
        return f"Resize({self.size})"


class CenterCrop:
    """Crop the central ``size`` region (an int means square) of every frame."""

    def __init__(self, size: Size):
        self.size = as_hw(size)

    def __call__(self, clip: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return F.center_crop(clip, list(self.size))

    def __repr__(self) -> str:
        return f"CenterCrop({self.size})"


class RandomCrop:
    """Crop one random region, the same for every frame.

    With ``size`` the region is that fixed size; otherwise each side is a random fraction in
    ``scale`` of the frame's side (one fraction for both, so the aspect ratio is kept). ``padding``
    pads every border with zeros first.
    """

    def __init__(self, size: Size | None = None, scale: tuple[float, float] = (0.8, 1.0), padding: int = 0):
        if not 0 < scale[0] <= scale[1] <= 1:
            raise InputError(f"crop scale must satisfy 0 < low <= high <= 1, got {scale}")
        self.size = None if size is None else as_hw(size)
        self.scale = scale
        self.padding = padding

    def __call__(self, clip: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.padding:
            clip = F.pad(clip, [self.padding])
        height, width = clip.shape[-2:]
        if self.size is None:
            fraction = _uniform(*self.scale, generator)
            crop_h, crop_w = max(1, round(height * fraction)), max(1, round(width * fraction))
        else:
            crop_h, crop_w = self.size
            if crop_h > height or crop_w > width:
                raise InputError(f"crop {self.size} is larger than the frames ({height}, {width})")
        top = int(torch.randint(height - crop_h + 1, (1,), generator=generator))
        left = int(torch.randint(width - crop_w + 1, (1,), generator=generator))
        return F.crop(clip, top, left, crop_h, crop_w)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, scale={self.scale}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror all frames of the clip with probability ``p`` (all or none)."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, clip: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if float(torch.rand(1, generator=generator)) < self.p:
            return F.horizontal_flip(clip)
        return clip

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomIllumination:
    """One random brightness, contrast and gamma change for the whole clip (float in [0, 1]).

    Each argument is a float ``x`` (factor drawn uniformly from ``[1 - x, 1 + x]``) or a
    ``(low, high)`` range; 0 disables that change.
    """

    def __init__(
        self,
        brightness: float | tuple[float, float] = 0.2,
        contrast: float | tuple[float, float] = 0.2,
        gamma: float | tuple[float, float] = 0.2,
    ):
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")
        self.gamma = _factor_range(gamma, "gamma")

    def __call__(self, clip: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if not clip.is_floating_point():
            raise TypeError("RandomIllumination needs a float clip in [0, 1]; apply ToFloat first")
        brightness = _uniform(*self.brightness, generator)
        contrast = _uniform(*self.contrast, generator)
        gamma = _uniform(*self.gamma, generator)
        clip = F.adjust_brightness(clip, brightness)
        clip = F.adjust_contrast(clip, contrast)
        return F.adjust_gamma(clip, gamma)

    def __repr__(self) -> str:
        return f"RandomIllumination(brightness={self.brightness}, contrast={self.contrast}, gamma={self.gamma})"


def _channels_first_float(clip: torch.Tensor) -> torch.Tensor:
    """float32 copy of a ``(T, C, H, W)`` clip, laid out in memory as ``(C, T, H, W)`` (one pass).

    Per-channel float ops then run on contiguous channel planes, and the dataset's final permute to
    ``(C, T, H, W)`` costs no copy.
    """
    return clip.transpose(0, 1).to(torch.float32, memory_format=torch.contiguous_format).transpose(0, 1)


class ToFloat:
    """uint8 ``[0, 255]`` → float32 ``[0, 1]`` (float clips pass through unchanged)."""

    def __call__(self, clip: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if clip.is_floating_point():
            return clip
        return _channels_first_float(clip).div_(255)

    def __repr__(self) -> str:
        return "ToFloat()"


class Normalize:
    """Subtract the per-channel ``mean`` and divide by ``std``.

    A uint8 clip is first scaled to [0, 1]; conversion and normalisation then take one fused
    pass, the cheapest path for test-time loading.
    """

    def __init__(self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD):
        self.mean = [float(m) for m in mean]
        self.std = [float(s) for s in std]
        mean_tensor = torch.tensor(self.mean).view(1, -1, 1, 1)
        std_tensor = torch.tensor(self.std).view(1, -1, 1, 1)
        self._mean, self._std = mean_tensor, std_tensor
        self._scale, self._shift = 1 / (255 * std_tensor), -mean_tensor / std_tensor

    def __call__(self, clip: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if clip.is_floating_point():
            return clip.sub(self._mean).div_(self._std)
        return _channels_first_float(clip).mul_(self._scale).add_(self._shift)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


def clip_transform(
    train: bool,
    size: Size,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    crop_scale: tuple[float, float] = (0.8, 1.0),
    test_crop: float = 1.0,
) -> Compose:
    """The papers' recipes (FERV39k, DFEW baselines) for clips of ``size``.

    Train: random crop (side fraction in ``crop_scale``), horizontal flip, resize to ``size``,
    random illumination. Test: resize to ``size`` (with ``test_crop < 1``, resize to
    ``size / test_crop`` and take the central ``size``). Both end with float [0, 1] normalised by
    ``mean``/``std`` (at test in one fused step from uint8). Faces use 112 (baselines) or 224
    (CEFLNet); scenes ``(112, 168)``.
    """
    if not 0 < test_crop <= 1:
        raise InputError(f"test_crop must be in (0, 1], got {test_crop}")
    height, width = as_hw(size)
    if train:
        steps = [
            RandomCrop(scale=crop_scale),
            RandomHorizontalFlip(),
            Resize((height, width)),
            ToFloat(),
            RandomIllumination(),
        ]
    elif test_crop < 1:
        steps = [
            Resize((round(height / test_crop), round(width / test_crop))),
            CenterCrop((height, width)),
        ]
    else:
        steps = [Resize((height, width))]
    return Compose([*steps, Normalize(mean, std)])
