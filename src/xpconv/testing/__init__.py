"""Testing helpers for xpconv and for code built on it: the float64 oracle, the tolerance model,
assertions that check a result's library, dtype, shape and device, and one adapter per framework.

Importing this module imports NumPy (the oracle's library) and no framework; an adapter imports
its framework when loaded (:meth:`Adapter.load`).

Examples
--------
>>> import numpy as np, xpconv
>>> from xpconv import testing
>>> numpy = testing.adapter("numpy").load()
>>> x, w = np.ones((1, 2, 4, 4)), np.ones((3, 2, 3, 3))
>>> y = xpconv.conv2d(x, w, padding=1)
>>> testing.assert_close(numpy, y, testing.conv_oracle(x, w, padding=((1, 1), (1, 1))), dtype="float64", reduction_length=18)
0.0
"""

from .adapters import Adapter, adapter
from .assertions import assert_array, assert_close
from .oracle import conv2d_oracle, conv2d_oracle_grad, conv_oracle, conv_transpose_oracle
from .tolerance import EPS, allowed_error

__all__ = [
    "EPS",
    "Adapter",
    "adapter",
    "allowed_error",
    "assert_array",
    "assert_close",
    "conv2d_oracle",
    "conv2d_oracle_grad",
    "conv_oracle",
    "conv_transpose_oracle",
]
