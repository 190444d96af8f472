"""Fixtures and helpers of the Dask tests: the module, a 2-process LocalCluster, graphs built under a scheduler that fails on any compute, and the reference cases."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st

import xpconv


def no_compute(*args, **kwargs):
    raise AssertionError("building the graph computed something")


def build(da, xn, chunks, wn, bn=None, *, weight_chunks=None, fn=xpconv.conv2d, **options):
    """``fn`` (xpconv's conv2d unless told) on ``xn`` as a Dask array in ``chunks``, under a
    scheduler that fails on any compute."""
    import dask

    x = da.from_array(xn, chunks=chunks)
    w = wn if weight_chunks is None else da.from_array(wn, chunks=weight_chunks)
    with dask.config.set(scheduler=no_compute):
        return fn(x, w, bn, **options)


def check(da, y, xn, wn, bn, options, *, fn=xpconv.conv2d, **compute):
    """``y`` is a lazy Dask array of NumPy chunks; computed, it equals in-memory ``fn``."""
    expected = fn(xn, wn, bn, **options)
    assert isinstance(y, da.Array)
    assert type(y._meta) is np.ndarray
    assert y.dtype == expected.dtype and y.shape == expected.shape
    assert all(sum(c) == s for c, s in zip(y.chunks, y.shape))
    result = y.compute(**compute)
    assert type(result) is np.ndarray and result.dtype == expected.dtype and result.shape == expected.shape
    if np.issubdtype(expected.dtype, np.integer):
        np.testing.assert_array_equal(result, expected)
    else:
        np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)
    return result


def xpconv_tasks(y) -> dict[str, int]:
    """The tasks xpconv added, by kind (halo bundles, block convolutions and sums)."""
    counts: dict[str, int] = {}
    for key in dict(y.__dask_graph__()):
        name = key[0] if isinstance(key, tuple) else key
        if name.startswith("xpconv-"):
            kind = name.split("-")[1] + ("-sum" if "-sum" in name else "")
            counts[kind] = counts.get(kind, 0) + 1
    return counts


rng = np.random.default_rng(9)

# (x shape, x chunks, weight shape, weight chunks or None, options)
CASES = {
    "same-2x2-blocks": ((4, 16, 64, 64), (1, 16, 32, 32), (32, 16, 3, 3), None, {"padding": 1}),
    "channels-split": ((2, 12, 30, 31), (1, 5, 11, 9), (8, 12, 3, 3), (3, 12, 3, 3), {"padding": "same"}),
    "tree-of-9": ((1, 9, 12, 12), (1, 1, 6, 12), (4, 9, 3, 3), None, {"padding": ((1, 0), (0, 2))}),
    "nhwc-stride-2": ((2, 30, 31, 12), (1, 11, 9, 5), (6, 12, 3, 2), None, {"padding": "same", "stride": 2, "data_format": "NHWC"}),
    "unbatched": ((12, 30, 31), (5, 11, 9), (6, 12, 3, 3), None, {"padding": "valid", "stride": (2, 1)}),
    "groups-realigned": ((2, 12, 20, 21), (1, (5, 7), 7, 8), (9, 4, 3, 3), None, {"groups": 3, "padding": 1}),
    "depthwise-dilated": ((2, 6, 20, 21), (1, 4, 8, 5), (12, 1, 3, 3), None, {"groups": 6, "dilation": 2, "padding": "same"}),
    "stride-3-asymmetric": ((1, 3, 29, 31), (1, 2, 10, 7), (4, 3, 3, 4), None, {"stride": 3, "padding": ((2, 0), (1, 3))}),
    "chunks-below-halo": ((1, 2, 17, 19), (1, 1, 2, 3), (3, 2, 5, 5), None, {"dilation": 2, "padding": 4}),
    "portable": ((1, 4, 16, 16), (1, 2, 9, 7), (5, 4, 3, 3), None, {"padding": 1, "method": "portable"}),
}




def partition(draw, size: int, most: int = 4) -> tuple[int, ...]:
    cuts = draw(st.lists(st.integers(1, max(size - 1, 1)), max_size=most, unique=True)) if size > 1 else []
    edges = [0, *sorted(cuts), size]
    return tuple(b - a for a, b in itertools.pairwise(edges))



