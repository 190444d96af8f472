"""Adding a backend is one class: a throwaway library (a NumPy subclass) registered here gets every
operation, rank, padding mode and error of xpconv, its own array type back, and a place in the
catalog that nox, CI, the CLI and the test matrix read."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv
from xpconv.backends import Backend, catalog, get_backend, unregister_backend
from xpconv.testing import conv_oracle, conv_transpose_oracle

pytestmark = pytest.mark.needs("numpy")


class Tagged(np.ndarray):
    """Someone else's array type."""


class TaggedBackend(Backend):
    """The whole backend: what it is, what it recognizes, its namespace, its result type."""

    name = "tagged"
    module = "numpy"
    priority = 5
    lane = "tagged"
    requirements = ("numpy.txt",)
    dtypes = frozenset({"float32", "float64"})

    def matches(self, x):
        return isinstance(x, Tagged)

    def namespace(self, x):
        import array_api_compat.numpy

        return array_api_compat.numpy

    def adapt(self, kernel):
        return lambda x, weight, bias, plan: kernel(x, weight, bias, plan).view(Tagged)


@pytest.fixture
def tagged():
    xpconv.register_backend(TaggedBackend())
    yield lambda a: np.asarray(a).view(Tagged)
    unregister_backend("tagged")


CASES = [  # (x shape, weight shape, options, transposed)
    ((2, 4, 9), (6, 2, 3), {"groups": 2, "stride": 2, "padding": "same"}, False),
    ((4, 7, 6), (3, 4, 3, 2), {"padding": ((2, 1), (0, 1)), "padding_mode": "reflect"}, False),
    ((1, 2, 5, 4, 6), (2, 2, 2, 3, 2), {"padding": 1, "dilation": (1, 2, 1), "padding_mode": "circular"}, False),
    ((1, 4, 5, 4), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}, True),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "options", "transposed"), CASES, ids=str)
def test_a_new_backend_gets_every_operation(tagged, x_shape, w_shape, options, transposed):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    plan = xpconv.plan(x_shape, w_shape, transposed=transposed, **options)
    batched = x if plan.batched else x[None]
    common = {"stride": plan.stride, "padding": plan.padding, "dilation": plan.dilation, "groups": plan.groups}
    if transposed:
        expected = conv_transpose_oracle(batched, w, None, output_padding=plan.output_padding, **common)
    else:
        expected = conv_oracle(batched, w, None, padding_mode=plan.padding_mode, **common)
    expected = expected if plan.batched else expected[0]
    function = xpconv.conv_transpose if transposed else xpconv.conv
    for method in ("auto", "portable"):
        y = function(tagged(x), tagged(w), method=method, **options)
        assert type(y) is Tagged and y.dtype == np.float64 and y.shape == plan.output_shape
        np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-12, atol=1e-12)


def test_a_new_backend_declares_and_is_read(tagged):
    backend = get_backend("tagged")
    assert catalog()[0] is backend and backend.lane == "tagged"  # consulted first; the lanes read the catalog
    x = tagged(np.ones((1, 1, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"method='native' needs a backend with a native convolution\. "
                                         r"Received: arrays of backend 'tagged', which has none"):
        xpconv.conv2d(x, x, method="native")
    with pytest.raises(TypeError, match=r"x must have a dtype the tagged backend computes .*Received: x with dtype int64"):
        xpconv.conv2d(tagged(np.ones((1, 1, 3, 3), np.int64)), x)
    assert type(xpconv.conv2d(x, np.ones((1, 1, 3, 3), np.float32))) is Tagged  # a NumPy weight is adopted


def test_unregistered_the_arrays_are_numpys_again(tagged):
    unregister_backend("tagged")
    y = xpconv.conv2d(tagged(np.ones((1, 1, 3, 3))), np.ones((1, 1, 2, 2)))
    xpconv.register_backend(TaggedBackend())  # for the fixture's teardown
    assert type(y) is np.ndarray
