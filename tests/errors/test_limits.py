"""Sizes and option values past the limits are refused before any work."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv

from matrix import methods

LIMIT = 2**31 - 1


# -- 2. limits -----------------------------------------------------------------------------------
LIMIT_CASES = [
    ({"padding": 2**31}, r"padding must be at most 2\*\*31 - 1 = 2147483647\. Received: padding=2147483648"),
    ({"padding": 2**64}, r"padding must be at most .* Received: padding=18446744073709551616"),
    ({"stride": 2**62}, r"stride must be at most .* Received: stride=4611686018427387904"),
    ({"dilation": 2**40}, r"dilation must be at most .* Received: dilation=1099511627776"),
    ({"padding": ((0, LIMIT), (0, 0))}, r"The padded input size must be below 2\*\*31 along each axis .*Received: padded input size 2147483650x3"),
    ({"dilation": 2**30 + 1, "padding": 2**30}, r"The padded input size must be below 2\*\*31 .*Received: padded input size 2147483651x2147483651"),
]


@pytest.mark.parametrize(("options", "pattern"), LIMIT_CASES, ids=lambda v: str(v)[:40])
def test_huge_values_are_refused_before_any_work(fw, options, pattern):
    """JAX aborted the process on padding=2**31 (XLA: overflow in static extent product);
    NumPy, JAX and TF leaked OverflowError and TypeError for others."""
    x, w = fw.asarray(np.ones((1, 1, 3, 3), np.float32)), fw.asarray(np.ones((1, 1, 3, 3), np.float32))
    for method in methods(fw):
        with pytest.raises(ValueError, match=pattern):
            xpconv.conv2d(x, w, method=method, **options)




