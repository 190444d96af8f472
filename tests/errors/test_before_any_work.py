"""Checks come before any copy or kernel; empty batches and unknown sizes."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv
from xpconv.testing import assert_array

from conv_cases import random_problem
from matrix import methods


# -- 5. before any work -----------------------------------------------------------------------------
@pytest.mark.needs("torch")
def test_native_dtype_check_comes_before_any_copy(monkeypatch):
    """method='native' with int32 x and int64 weight promoted (copied) first, then refused."""
    import array_api_compat.torch as xp
    import torch

    def trap(*args, **kwargs):
        raise AssertionError("an array was converted before validation finished")

    monkeypatch.setattr(xp, "astype", trap)
    with pytest.raises(ValueError, match=r"the torch convolution does not support dtype int64"):
        xpconv.conv2d(torch.ones(1, 1, 3, 3, dtype=torch.int32), torch.ones(1, 1, 2, 2, dtype=torch.int64), method="native")


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_a_batch_of_zero_gives_an_empty_result(fw, layout):
    problem = random_problem(np.random.default_rng(5), n=0, groups=2, padding=1, stride=2)
    problem.data_format = layout
    for method in methods(fw):
        x, w, b = problem.arrays(fw, "float32")
        y = xpconv.conv2d(x, w, b, groups=2, padding=1, stride=2, data_format=layout, method=method)
        assert_array(fw, y, dtype="float32", shape=(0, 6, 4, 4) if layout == "NCHW" else (0, 4, 4, 6))
    with pytest.raises(ValueError, match=r"x must have no zero-sized dimension\. Received: x with shape \(2, 4, 0, 8\)"):
        xpconv.conv2d(fw.asarray(np.ones((2, 4, 0, 8)), "float32"), fw.asarray(np.ones((6, 4, 3, 3)), "float32"))


def test_unknown_nan_sizes_are_refused_naming_the_argument():
    with pytest.raises(ValueError, match=r"input_shape must have known sizes\. Received: input_shape with shape \(1, 4, nan, 8\); for a lazy array with unknown \(NaN\) chunk sizes, call compute_chunk_sizes\(\) first"):
        xpconv.plan((1, 4, float("nan"), 8), (6, 4, 3, 3))
    with pytest.raises(ValueError, match=r"input_shape must have known sizes"):
        xpconv.plan((1, float("nan"), 8, 8), (6, 2, 3, 3), groups=2)


@pytest.mark.parametrize(("call", "pattern"), [
    (lambda: xpconv.conv2d_cost((1, -3, 4, 4), (1, 1, 1, 1)), r"input_shape must be a tuple of positive ints\. Received: input_shape=\(1, -3, 4, 4\)"),
    (lambda: xpconv.conv2d_cost((1, 3, 4, 4), (0, 3, 1, 1)), r"weight_shape must be a tuple of positive ints\. Received: weight_shape=\(0, 3, 1, 1\)"),
    (lambda: xpconv.param_count(0, 4, 3), r"c_in must be a positive int\. Received: c_in=0"),
    (lambda: xpconv.param_count(3, -4, 3), r"c_out must be a positive int\. Received: c_out=-4"),
    (lambda: xpconv.param_count(3, 4, (3, 0)), r"kernel_size must be a positive int or one positive int per spatial axis"),
])
def test_costs_refuse_zero_and_negative_sizes(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()




