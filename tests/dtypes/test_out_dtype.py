"""``out_dtype``: exact integer accumulation, no half rounding, and refusal of what loses values."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv
from xpconv.testing import assert_array, assert_close

from conv_cases import random_problem
from matrix import half_dtypes, methods


# -- 4. out_dtype ---------------------------------------------------------------------------------
def test_int8_with_out_dtype_int32_is_exact(fw):
    """int8 100·100·36 wrapped to 64 on every backend; with out_dtype=int32 it is 360000."""
    x = fw.asarray(np.full((1, 1, 6, 6), 100), "int8")
    w = fw.asarray(np.full((1, 1, 6, 6), 100), "int8")
    wrapped = xpconv.conv2d(x, w)
    assert_array(fw, wrapped, dtype="int8", shape=(1, 1, 1, 1))
    assert int(fw.to_numpy(wrapped).ravel()[0]) == 64  # documented: integers wrap in their own dtype
    for method in methods(fw):
        if method == "native" and not fw.backend.native_takes(fw.dtype("int32")):
            with pytest.raises(ValueError, match=rf"the {fw.name} convolution does not support dtype int32\. Received: x with dtype int8, out_dtype=int32"):
                xpconv.conv2d(x, w, method=method, out_dtype="int32")
            continue
        for out in ("int32", fw.dtype("int32")):
            y = xpconv.conv2d(x, w, method=method, out_dtype=out)
            assert_array(fw, y, dtype="int32", shape=(1, 1, 1, 1))
            assert int(fw.to_numpy(y).ravel()[0]) == 360000
    u = fw.asarray(np.full((1, 2, 4, 4), 255), "uint8")
    y = xpconv.conv2d(u, u[:, :, :3, :3], out_dtype="int32")
    assert_array(fw, y, dtype="int32", shape=(1, 1, 2, 2))
    np.testing.assert_array_equal(fw.to_numpy(y), np.full((1, 1, 2, 2), 255 * 255 * 18))




def test_half_precision_with_out_dtype_float32_has_no_half_rounding(fw):
    problem = random_problem(np.random.default_rng(4), c_in=8, hw=(6, 6), padding=1, bias=True)
    for half in half_dtypes(fw):
        rounded = problem.rounded(half)
        x, w, b = rounded.arrays(fw, half)
        for method in methods(fw):
            y = xpconv.conv2d(x, w, b, padding=1, method=method, out_dtype="float32")
            # float32 tolerance: a float16 rounding of the result would be ~1000x outside it
            assert_close(fw, y, rounded.oracle(), dtype="float32", magnitude=rounded.oracle(absolute=True),
                         reduction_length=problem.reduction_length)


@pytest.mark.parametrize(("dtype", "out", "pattern"), [
    ("float32", "int32", r"out_dtype must hold every value of the inputs' dtype .*Received: out_dtype=int32 for inputs of dtype float32"),
    ("int32", "int8", r"Received: out_dtype=int8 for inputs of dtype int32"),
    ("float64", "float32", r"Received: out_dtype=float32 for inputs of dtype float64"),
    ("complex64", "float64", r"Received: out_dtype=float64 for inputs of dtype complex64"),
    ("float32", 3, r"out_dtype must be None or a dtype the \w+ backend computes .*Received: out_dtype=3"),
])
def test_out_dtype_that_loses_values_is_refused(fw, dtype, out, pattern):
    x = fw.asarray(np.ones((1, 1, 3, 3)), dtype)
    with pytest.raises((ValueError, TypeError), match=pattern):
        xpconv.conv2d(x, x, out_dtype=out)




@pytest.mark.parametrize(("dtype", "out", "ok"), [("int32", "float16", False), ("int16", "float16", False),
                                                   ("int8", "float16", True), ("int32", "float64", True),
                                                   ("int32", "float32", False), ("int16", "float32", True)])
def test_out_dtype_float_must_hold_every_integer(fw, dtype, out, ok):
    """int32 4097 with out_dtype=float16 gave 4096: a float accumulator must hold the integers."""
    if out not in fw.backend.dtypes:
        out = "float64"
        ok = True
    x = fw.asarray(np.ones((1, 1, 3, 3)), dtype)
    if ok:
        assert_array(fw, xpconv.conv2d(x, x, out_dtype=out), dtype=out, shape=(1, 1, 1, 1))
    else:
        with pytest.raises(ValueError, match=rf"Received: out_dtype={out} for inputs of dtype {dtype}$"):
            xpconv.conv2d(x, x, out_dtype=out)




