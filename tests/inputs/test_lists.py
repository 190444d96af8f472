"""Python lists: named errors without a NumPy backend, options checked before conversion."""

from __future__ import annotations

import subprocess
import sys

import pytest

import xpconv
from xpconv import backends


@pytest.mark.needs("numpy")
def test_lists_alone_without_a_numpy_backend_are_a_named_error():
    code = """
import xpconv
from xpconv import backends
backends.unregister_backend("numpy")
try:
    xpconv.corr2d([[1.0, 2.0], [3.0, 4.0]], [[1.0]])
except TypeError as error:
    print(error)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("Python lists alone are NumPy arrays, but no 'numpy' backend is registered")


@pytest.mark.needs("numpy")
def test_options_are_checked_before_lists_are_converted(monkeypatch):
    def trap(*args, **kwargs):
        raise AssertionError("a list was converted before the options were checked")

    monkeypatch.setattr(backends.get_backend("numpy"), "asarray_like", trap)
    with pytest.raises(ValueError, match=r"stride must be a positive int or one positive int per spatial axis\. Received: stride=0"):
        xpconv.conv2d([[[[1.0, 2.0], [3.0, 4.0]]]], [[[[1.0]]]], stride=0)


