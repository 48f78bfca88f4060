import cv2
import numpy as np
import pytest
import torch

from dfer.models.flow import farneback_flow
from dfer.models.tsn import TSN


def texture(size: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth random grey texture, uint8 (size, size)."""
    noise = np.random.default_rng(seed).uniform(0, 255, (size, size)).astype(np.float32)
    return cv2.normalize(cv2.GaussianBlur(noise, (0, 0), 2.0), None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def shifted(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``image`` moved right by dx and down by dy pixels (wrapping around)."""
    return np.roll(image, (dy, dx), axis=(0, 1))


def test_farneback_flow_recovers_a_known_translation():
    first = texture()
    frames = np.stack([first, shifted(first, 2, -1), shifted(first, 4, -2)])
    flow = farneback_flow(frames)
    assert flow.shape == (2, 2, 64, 64) and flow.dtype == np.float32
    inner = flow[:, :, 16:48, 16:48]
    np.testing.assert_allclose(np.median(inner[:, 0]), 2.0, atol=0.2)  # u: rightwards
    np.testing.assert_allclose(np.median(inner[:, 1]), -1.0, atol=0.2)  # v: upwards
    assert np.abs(farneback_flow(np.stack([first, first]))).max() < 0.25  # still frames: (almost) no motion
    with pytest.raises(ValueError, match="at least 2 uint8 grey frames"):
        farneback_flow(first[None])


def moving_clip(segments: int, length: int, dx: int, dy: int, size: int = 64) -> torch.Tensor:
    """(1, 3, segments·length, size, size): a texture translating by (dx, dy) per frame, normalised."""
    start = texture(size)
    frames = [shifted(start, dx * i, dy * i) for i in range(segments * length)]
    grey = torch.from_numpy(np.stack(frames)).float() / 255
    return ((grey - 0.5) / 0.25)[None, None].repeat(1, 3, 1, 1, 1)


def test_flow_stream_input_is_the_bounded_stacked_flow():
    model = TSN(backbone="resnet18", segments=2, flow_length=3, flow_bound=4.0)
    video = moving_clip(2, 4, dx=1, dy=2)
    snippets = video.reshape(1, 3, 2, 4, 64, 64)
    flows = model.optical_flow(snippets)
    assert flows.shape == (1, 2, 6, 64, 64)
    inner = flows[..., 16:48, 16:48]
    # channels alternate x, y; values are pixels / flow_bound
    torch.testing.assert_close(inner[:, :, 0::2].median(), torch.tensor(0.25), atol=0.05, rtol=0)
    torch.testing.assert_close(inner[:, :, 1::2].median(), torch.tensor(0.5), atol=0.05, rtol=0)
    fast = model.optical_flow(moving_clip(2, 4, dx=6, dy=0).reshape(1, 3, 2, 4, 64, 64))
    assert fast.abs().max() <= 1.0 and fast[:, :, 0::2].max() == 1.0  # 6 px truncated to the 4 px bound


def test_streams_see_the_middle_frames_and_the_flow_of_each_segment():
    torch.manual_seed(0)
    model = TSN(backbone="resnet18", segments=3, flow_length=2).eval()
    video = torch.randn(2, 3, 9, 40, 40)
    with torch.no_grad():
        features = model(video)["features"]
        snippets = video.reshape(2, 3, 3, 3, 40, 40)
        middle = snippets[:, :, :, 1].transpose(1, 2).reshape(6, 3, 40, 40)
        spatial = model.spatial(middle).reshape(2, 3, -1).mean(1)
        temporal = model.temporal(model.optical_flow(snippets).flatten(0, 1)).reshape(2, 3, -1).mean(1)
    torch.testing.assert_close(features, torch.cat([spatial, temporal], 1))
    assert model.feature_dim == 1024 and model.frames == 9


def test_clip_length_and_backbone_are_checked():
    model = TSN(segments=3, flow_length=5)
    with pytest.raises(ValueError, match=r"takes clips \(B, C, 18, H, W\).*'segments' sampler \(segments: 3, length: 6\)"):
        model(torch.randn(1, 3, 16, 32, 32))
    with pytest.raises(ValueError, match="resnet18, resnet50, resnet101"):
        TSN(backbone="vgg19")
    with pytest.raises(ValueError, match="flow_length ≥ 1"):
        TSN(flow_length=0)


def test_a_given_flow_gives_the_features_of_the_computed_one():
    torch.manual_seed(0)
    model = TSN(backbone="resnet18", segments=2, flow_length=2).eval()
    video = torch.randn(2, 3, 6, 40, 40)
    flow = model.optical_flow(video.reshape(2, 3, 2, 3, 40, 40))
    with torch.no_grad():
        features = model(video)["features"]
        assert torch.equal(model.forward_features(video, flow=flow), features)
        assert not torch.equal(model.forward_features(video, flow=torch.zeros_like(flow)), features)
