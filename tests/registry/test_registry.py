"""The backend registry: detection, caching, listing and registering a backend of one's own."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv
from xpconv import backends
from xpconv.backends import catalog


def test_detects_each_framework_and_caches_per_type(fw):
    x = fw.asarray(np.ones((2, 2), np.float32))
    backend = backends.backend_for(x)
    assert backend.name == fw.name
    assert backends.backend_of_type(type(x)) is backend


def test_lists_registered_and_available_backends():
    names = xpconv.registered_backends()
    assert names == [b.name for b in sorted(catalog(), key=lambda b: b.priority)]  # consulted by priority
    assert names[0] == "numpy"  # the cheapest isinstance check first
    assert names[-1] == "array_api"  # the generic fallback is consulted last
    available = xpconv.available_backends()
    assert available["numpy"] is True and set(available) == set(names)


class Grid:
    """A tiny array type of someone else's, exposing a NumPy buffer."""

    def __init__(self, data):
        self.data = np.asarray(data)
        self.shape = self.data.shape
        self.dtype = self.data.dtype


class GridBackend(backends.Backend):
    """A backend for :class:`Grid`, written as a user would: recognition, a namespace for its data,
    and :meth:`adapt` to unwrap the arrays around xpconv's own kernels and wrap the result."""

    name = "grid"
    module = "numpy"

    def matches(self, x):
        return isinstance(x, Grid)

    def namespace(self, x):
        import array_api_compat.numpy as xp

        return xp

    def adapt(self, kernel):
        def run(x, weight, bias, plan):
            return Grid(kernel(x.data, weight.data, None if bias is None else bias.data, plan))

        return run

    def add_batch(self, x):
        return Grid(x.data[None])

    def drop_batch(self, y):
        return Grid(y.data[0])


@pytest.fixture
def grid_backend():
    backend = xpconv.register_backend(GridBackend())
    yield backend
    backends.unregister_backend("grid")


def test_register_a_backend(grid_backend):
    from chapter_data import K3, MULTI_OUT, X

    assert "grid" in xpconv.registered_backends()
    assert xpconv.registered_backends()[-1] == "array_api"
    result = xpconv.corr2d_multi_in_out(Grid(X), Grid(K3))
    assert isinstance(result, Grid)
    np.testing.assert_array_equal(result.data, MULTI_OUT)
    with pytest.raises(ValueError, match="already registered"):
        xpconv.register_backend(GridBackend())


def test_register_refuses_non_backends():
    with pytest.raises(TypeError, match=r"backend must be an instance of xpconv\.backends\.Backend\. Received: str"):
        xpconv.register_backend("grid")
