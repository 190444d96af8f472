"""The MXNet tests' fixture: the ``mxnet`` module."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def mx():
    import mxnet

    return mxnet
