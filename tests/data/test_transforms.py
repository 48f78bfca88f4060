import pytest
import torch

from dfer.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    CenterCrop,
    Compose,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    RandomIllumination,
    Resize,
    ToFloat,
    clip_transform,
)


def random_clip(frames=4, height=32, width=40, seed=0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (frames, 3, height, width), dtype=torch.uint8, generator=generator)


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("seed", range(8))
def test_identical_frames_stay_identical_after_train_transform(seed):
    clip = random_clip(frames=1, seed=seed).expand(5, -1, -1, -1)
    out = clip_transform(train=True, size=16)(clip, generator(seed))
    assert out.shape == (5, 3, 16, 16)
    for t in range(1, 5):
        assert torch.equal(out[t], out[0])


@pytest.mark.parametrize("seed", range(10))
def test_flip_applies_to_all_frames_or_none(seed):
    clip = random_clip()
    out = RandomHorizontalFlip(0.5)(clip, generator(seed))
    assert torch.equal(out, clip) or torch.equal(out, clip.flip(-1))


def test_flip_probability_extremes():
    clip = random_clip()
    assert torch.equal(RandomHorizontalFlip(1.0)(clip, generator(0)), clip.flip(-1))
    assert torch.equal(RandomHorizontalFlip(0.0)(clip, generator(0)), clip)


@pytest.mark.parametrize("seed", range(6))
def test_random_crop_takes_the_same_region_from_every_frame(seed):
    base = random_clip(frames=1, seed=seed).to(torch.int16) // 2
    clip = torch.cat([base + t for t in range(4)])  # frame t = frame 0 + t everywhere
    out = RandomCrop(scale=(0.5, 0.9))(clip, generator(seed))
    assert out.shape[-2] < 32 and out.shape[-1] < 40
    for t in range(4):
        assert torch.equal(out[t] - out[0], torch.full_like(out[0], t))


def test_random_crop_keeps_aspect_ratio_and_fixed_size():
    clip = random_clip(height=40, width=60)
    out = RandomCrop(scale=(0.5, 0.5))(clip, generator(1))
    assert out.shape[-2:] == (20, 30)
    fixed = RandomCrop(size=(36, 30), padding=2)(clip, generator(1))
    assert fixed.shape == (4, 3, 36, 30)
    with pytest.raises(ValueError, match="larger"):
        RandomCrop(size=64)(clip)


def test_illumination_is_shared_by_all_frames_and_needs_float():
    frame = ToFloat()(random_clip(frames=1))
    clip = torch.cat([frame, frame, frame])
    out = RandomIllumination(0.4, 0.4, 0.4)(clip, generator(3))
    assert not torch.equal(out, clip)
    assert torch.equal(out[1], out[0]) and torch.equal(out[2], out[0])
    assert out.min() >= 0 and out.max() <= 1
    with pytest.raises(TypeError, match="ToFloat"):
        RandomIllumination()(random_clip())


def test_illumination_zero_is_identity():
    clip = ToFloat()(random_clip())
    assert torch.allclose(RandomIllumination(0, 0, 0)(clip, generator(0)), clip, atol=1e-6)


@pytest.mark.parametrize(
    "train, size, expected",
    [(True, 112, (112, 112)), (False, 112, (112, 112)), (True, (112, 168), (112, 168)), (False, (24, 36), (24, 36))],
)
def test_recipes_output_float_clips_of_the_requested_size(train, size, expected):
    out = clip_transform(train, size)(random_clip(frames=3, height=48, width=72), generator(0))
    assert out.shape == (3, 3, *expected)
    assert out.dtype == torch.float32


def test_test_recipe_is_deterministic_and_center_crops():
    clip = random_clip()
    transform = clip_transform(False, 16, test_crop=0.8)
    assert isinstance(transform.transforms[1], CenterCrop)
    assert torch.equal(transform(clip, generator(0)), transform(clip, generator(1)))
    assert transform(clip).shape == (4, 3, 16, 16)


def test_train_recipe_is_reproducible_with_a_seed():
    clip = random_clip()
    transform = clip_transform(True, 16)
    assert torch.equal(transform(clip, generator(5)), transform(clip, generator(5)))
    outputs = {transform(clip, generator(seed)).sum().item() for seed in range(5)}
    assert len(outputs) > 1


def test_global_rng_is_used_without_a_generator():
    clip = random_clip()
    transform = clip_transform(True, 16)
    torch.manual_seed(11)
    first = transform(clip)
    torch.manual_seed(11)
    assert torch.equal(transform(clip), first)


def test_normalize_uses_imagenet_statistics_by_default():
    clip = torch.ones(2, 3, 4, 4)
    out = Normalize()(clip)
    for channel in range(3):
        expected = (1 - IMAGENET_MEAN[channel]) / IMAGENET_STD[channel]
        assert torch.allclose(out[:, channel], torch.full((2, 4, 4), expected))
    assert torch.allclose(Normalize([0.5] * 3, [0.5] * 3)(clip), torch.ones_like(clip))


def test_compose_resize_and_to_float():
    out = Compose([Resize((8, 12)), ToFloat()])(random_clip())
    assert out.shape == (4, 3, 8, 12) and out.dtype == torch.float32
    assert 0 <= out.min() and out.max() <= 1


def test_normalize_from_uint8_equals_float_then_normalize():
    clip = torch.randint(0, 256, (5, 3, 9, 7), dtype=torch.uint8)
    fused = Normalize()(clip)
    two_step = Normalize()(ToFloat()(clip))
    assert fused.dtype == torch.float32 and fused.shape == clip.shape
    torch.testing.assert_close(fused, two_step, rtol=1e-5, atol=1e-5)
    reference = (clip.float() / 255 - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(
        IMAGENET_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(fused, reference, rtol=1e-5, atol=1e-5)
