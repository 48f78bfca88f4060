"""3D networks' export-friendly parts: C3D's adaptive max pool."""

import io
import warnings
from unittest import mock

import numpy as np
import onnxruntime
import pytest
import torch

from dfer.models.video3d import AdaptiveMaxPool3d


@pytest.mark.parametrize("shape, size", [((2, 5, 1, 3, 3), (1, 4, 4)), ((2, 4, 3, 5, 7), (2, 4, 4)),
                                         ((1, 2, 2, 9, 6), (None, 4, 4)), ((2, 3, 1, 4, 4), (1, 4, 4))])
def test_the_adaptive_max_pool_exports_to_the_same_numbers(shape, size):
    pool = AdaptiveMaxPool3d(size).eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    with mock.patch("torch.onnx.is_in_onnx_export", return_value=True):
        sliced = pool(x)
    assert torch.equal(sliced, torch.nn.functional.adaptive_max_pool3d(x, size))  # as PyTorch pools
    graph = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(pool, x, graph, input_names=["x"], output_names=["y"], opset_version=17, dynamo=False,
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    session = onnxruntime.InferenceSession(graph.getvalue(), providers=["CPUExecutionProvider"])
    other = torch.randn(3, *shape[1:])  # another batch size
    np.testing.assert_array_equal(session.run(None, {"x": other.numpy()})[0], pool(other).numpy())
