"""Precision: byte order, long double, and half precision widened block by block."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv
from xpconv.testing import assert_close

from conv_cases import random_problem
from matrix import ADAPTERS


# -- 1. precision ------------------------------------------------------------------------------
@pytest.mark.needs("numpy")
@pytest.mark.parametrize("method", ["portable", "auto"])
def test_big_endian_float64_is_computed_in_float64(method):
    problem = random_problem(np.random.default_rng(1), padding=1, stride=2)
    big = [a.astype(">f8") for a in (problem.x, problem.w, problem.b)]
    before = [a.copy() for a in big]
    y = xpconv.conv2d(*big, padding=1, stride=2, method=method)
    assert y.dtype == np.float64 and y.dtype.isnative
    np.testing.assert_allclose(y, problem.oracle(), rtol=1e-13, atol=1e-13)  # was 1.6e-6: float32 inside
    for a, b in zip(big, before):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype  # inputs untouched, byte order included
    one_by_one = xpconv.corr2d_multi_in_out_1x1(big[0][0], big[1][:, :, :1, :1])
    assert one_by_one.dtype == np.float64
    np.testing.assert_allclose(one_by_one, np.einsum("chw,oc->ohw", problem.x[0], problem.w[:, :, 0, 0]), rtol=1e-13)


@pytest.mark.needs("numpy")
def test_long_double_is_refused_naming_the_argument():
    x = np.ones((1, 2, 4, 4), np.longdouble)
    if np.dtype(np.longdouble) == np.float64:
        pytest.fail("unreachable on x86-64 Linux, where long double is 80-bit")  # pragma: no cover
    with pytest.raises(TypeError, match=r"x must have a dtype the numpy backend computes .*Received: x with dtype float\d+; long double is not computed: convert to float64"):
        xpconv.conv2d(x, np.ones((1, 2, 2, 2)))


class _SpyNamespace:
    """The real namespace, recording the size of every array widened by ``astype``."""

    def __init__(self, xp):
        self._xp, self.widened = xp, []

    def __getattr__(self, name):
        return getattr(self._xp, name)

    def astype(self, a, dtype, **kwargs):
        if dtype == self._xp.float32 and a.dtype != self._xp.float32:
            self.widened.append(int(np.prod(a.shape)))
        return self._xp.astype(a, dtype, **kwargs)


@pytest.mark.needs("numpy")
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("options", [{"padding": 1}, {"stride": 2}, {"groups": 4, "padding": 1}, {}], ids=str)
def test_half_precision_is_widened_block_by_block(options, layout):
    """The portable kernel never converts the whole float16 input to float32 at once."""
    import array_api_compat.numpy as xp

    from xpconv.kernels import direct

    kernel = (1, 1) if options == {} else (3, 3)
    groups = options.get("groups", 1)
    problem = random_problem(np.random.default_rng(2), n=2, c_in=4, c_out=4, hw=(16, 12), kernel=kernel, **options)
    problem.data_format = layout
    rounded = problem.rounded("float16")
    x = rounded.to_layout(rounded.x).astype(np.float16)
    plan = xpconv.plan(x.shape, problem.w.shape, problem.b.shape, stride=options.get("stride", 1),
                       padding=options.get("padding", 0), groups=groups, data_format=layout)
    spy = _SpyNamespace(xp)
    y = direct.conv(spy, x, rounded.w.astype(np.float16), rounded.b.astype(np.float16), plan, scratch_elements=600)
    assert y.dtype == np.float16
    assert max(spy.widened) < x.size, spy.widened  # weight and bias are small; x only ever in pieces
    assert_close(ADAPTERS["numpy"], y, rounded.oracle(), dtype="float16", magnitude=rounded.oracle(absolute=True),
                 reduction_length=problem.reduction_length)




