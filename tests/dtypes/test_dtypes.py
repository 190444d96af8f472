"""Half precision, exact integers and promotion of mixed dtypes, on every backend and method."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv
from xpconv.testing import assert_array, assert_close

from conv_cases import Problem, check, random_problem
from matrix import half_dtypes, methods

# -- dtypes ---------------------------------------------------------------------------


def test_half_precision(fw):
    problem = random_problem(np.random.default_rng(5), padding="same", stride=2, groups=2)
    for dtype in half_dtypes(fw):
        for method in methods(fw):
            if method == "native" and not fw.backend.native_takes(fw.dtype(dtype)):  # MXNet's CPU convolution: no float16
                with pytest.raises(ValueError, match=rf"method='native': the {fw.name} convolution does not support dtype {dtype}"):
                    check(fw, problem, dtype, method)
                continue
            check(fw, problem, dtype, method)


@pytest.mark.parametrize("dtype", ["int32", "int64", "int16", "uint8"])
def test_integers_are_exact(fw, dtype):
    problem = random_problem(np.random.default_rng(6), integers=True, padding=1, stride=(1, 2), groups=2)
    if dtype == "uint8":
        problem = Problem(np.abs(problem.x), np.abs(problem.w), np.abs(problem.b), problem.options)
    for method in ["portable", "auto"]:
        x, w, b = problem.arrays(fw, dtype)
        y = xpconv.conv2d(x, w, b, method=method, **problem.options)
        expected = problem.oracle()
        if dtype == "uint8" or dtype == "int16":
            expected = expected.astype(np.int64).astype(dtype)  # wrap-around, as the dtype does
        assert_array(fw, y, dtype=dtype, shape=expected.shape)
        np.testing.assert_array_equal(fw.to_numpy(y), expected)


def test_mixed_dtypes_promote(fw):
    problem = random_problem(np.random.default_rng(8), bias=False)
    x = fw.asarray(problem.x, "float32")
    w = fw.asarray(problem.w, "float64")
    # float32 x meets float64 weight: the result is float64, computed from x as float32 holds it
    expected = Problem(problem.x.astype(np.float32).astype(np.float64), problem.w, None).oracle()
    for method in ["portable", "auto"]:
        y = xpconv.conv2d(x, w, method=method)
        assert_close(fw, y, expected, dtype="float64", reduction_length=problem.reduction_length,
                     magnitude=problem.oracle(absolute=True))
    int_x = fw.asarray(np.ones((1, 2, 3, 3)), "int16" if fw.has_dtype("int16") else "int8")  # MXNet: no int16
    y = xpconv.conv2d(int_x, fw.asarray(np.ones((1, 2, 1, 1)), "int32"), method="portable")
    assert_array(fw, y, dtype="int32", shape=(1, 1, 3, 3))




