"""conv2d against the float64 oracle (hypothesis), PyTorch's conv2d and written-out "same" tables, on every backend and method."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpconv
from xpconv.testing import assert_array, assert_close

from conv_cases import check, problems, random_problem
from matrix import methods


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(), data=st.data())
def test_hypothesis_against_the_float64_oracle(fw, dtype, problem, data):
    method = data.draw(st.sampled_from(methods(fw)))
    check(fw, problem, dtype, method)


# -- against torch.nn.functional.conv2d, on the same data, for every backend --------------
TORCH_CASES = [
    {},
    {"stride": 2},
    {"padding": 1},
    {"padding": "same"},
    {"padding": "same", "stride": 2},
    {"padding": "same", "stride": (2, 3), "dilation": (2, 1)},
    {"padding": ((0, 2), (1, 0))},
    {"dilation": 2, "padding": (2, 1)},
    {"groups": 2},
    {"groups": 2, "stride": 2, "padding": "same"},
]


@pytest.mark.needs("torch")
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("options", TORCH_CASES, ids=str)
def test_agrees_with_torch_functional_conv2d(fw, options, layout):
    import torch

    problem = random_problem(np.random.default_rng(3), **options)
    problem.data_format = layout
    (pt, pb), (pl, pr) = problem.pads
    expected = torch.nn.functional.conv2d(
        torch.nn.functional.pad(torch.tensor(problem.x), (pl, pr, pt, pb)), torch.tensor(problem.w),
        torch.tensor(problem.b), options.get("stride", 1), 0, options.get("dilation", 1), options.get("groups", 1),
    ).numpy()
    for method in methods(fw):
        x, w, b = problem.arrays(fw, "float64")
        result = xpconv.conv2d(x, w, b, data_format=layout, method=method, **options)
        assert_close(fw, result, problem.to_layout(expected), dtype="float64",
                     magnitude=problem.oracle(absolute=True), reduction_length=2 * problem.reduction_length)


# -- "same" padding with stride, even kernels and dilation: expected values written out ----
SAME_TABLE = [
    # (H, W), (kH, kW), stride, dilation, expected padding, expected output of ones(k) on arange(H*W)
    ((5, 5), (2, 2), (2, 2), (1, 1), ((0, 1), (0, 1)), [[12, 20, 13], [52, 60, 33], [41, 45, 24]]),
    ((6, 6), (3, 3), (2, 2), (1, 1), ((0, 1), (0, 1)), [[63, 81, 63], [171, 189, 135], [168, 180, 126]]),
    ((5, 5), (3, 3), (1, 1), (2, 2), ((2, 2), (2, 2)),
     [[24, 28, 42, 28, 32], [44, 48, 72, 48, 52], [66, 72, 108, 72, 78], [44, 48, 72, 48, 52], [64, 68, 102, 68, 72]]),
    ((7, 7), (4, 4), (2, 2), (1, 1), ((1, 2), (1, 2)),
     [[72, 114, 138, 75], [222, 320, 352, 184], [390, 544, 576, 296], [237, 328, 344, 176]]),
    ((5, 6), (2, 3), (2, 2), (1, 2), ((0, 1), (1, 2)), [[20, 36, 28], [68, 108, 76], [52, 81, 56]]),
    ((4, 4), (1, 1), (3, 3), (1, 1), ((0, 0), (0, 0)), [[0, 3], [12, 15]]),
    ((6, 5), (2, 2), (2, 3), (2, 1), ((0, 1), (0, 0)), [[22, 34], [62, 74], [41, 47]]),
]


@pytest.mark.parametrize(("hw", "kernel", "stride", "dilation", "pads", "expected"), SAME_TABLE)
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_same_padding_table(fw, hw, kernel, stride, dilation, pads, expected, layout):
    x_np = np.arange(hw[0] * hw[1], dtype=np.float32).reshape(1, *hw)
    if layout == "NHWC":
        x_np = x_np.reshape(*hw, 1)
    w = fw.asarray(np.ones((1, 1, *kernel), np.float32))
    assert xpconv.conv2d_cost((1, *hw), (1, 1, *kernel), stride=stride, dilation=dilation, padding="same").output_shape == (1, *np.shape(expected))
    for method in methods(fw):
        y = xpconv.conv2d(fw.asarray(x_np), w, stride=stride, dilation=dilation, padding="same",
                          data_format=layout, method=method)
        shape = (1, *np.shape(expected)) if layout == "NCHW" else (*np.shape(expected), 1)
        assert_array(fw, y, dtype="float32", shape=shape)
        np.testing.assert_array_equal(fw.to_numpy(y).reshape(np.shape(expected)), expected)
        explicit = xpconv.conv2d(fw.asarray(x_np), w, stride=stride, dilation=dilation, padding=pads,
                                 data_format=layout, method=method)
        np.testing.assert_array_equal(fw.to_numpy(explicit).reshape(np.shape(expected)), expected)


@pytest.mark.parametrize("method", ["portable", "auto"])
def test_a_block_of_only_padding_rows(fw, method):
    """Stride 2 with one padding row on top: the first output row reads padding alone
    (found by hypothesis on array_api_strict, where an empty input slice has no edge row)."""
    x = fw.asarray(np.array([[[0.5, -1.0]]], np.float32))
    w = fw.asarray(np.array([[[[2.0, 3.0]]]], np.float32))
    y = xpconv.conv2d(x, w, stride=(2, 1), padding=((1, 0), (0, 0)), method=method)
    assert_array(fw, y, dtype="float32", shape=(1, 1, 1))
    np.testing.assert_array_equal(fw.to_numpy(y), [[[0.0]]])
    # padded rows: [0 0 0], [0 .5 -1], [0 0 0]; the 1x2 kernel [2 3] gives [0 0], [1.5 -2], [0 0]
    y = xpconv.conv2d(x, w, padding=((1, 1), (1, 0)), method=method)
    np.testing.assert_array_equal(fw.to_numpy(y), [[[0.0, 0.0], [1.5, -2.0], [0.0, 0.0]]])




