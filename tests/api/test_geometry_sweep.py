"""Every small geometry, on every backend and method, against the float64 oracle and docs/guide/options.md's
output-size formula: forward and transposed 1-D convolutions exhaustively (crops larger than the
uncropped output, windows that read only padding, strides that step over the input), and a
seeded sample of 2-D and 3-D ones with groups and both layouts. A geometry the formula says is
empty must be refused with a named ValueError on every path."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import xpconv
from xpconv.testing import assert_close, conv_oracle, conv_transpose_oracle

from matrix import methods

SIZES, KERNELS, STRIDES, DILATIONS, PADS = (1, 2, 3), (1, 2, 3), (1, 2, 3), (1, 2), range(3)


def _forward_size(n, k, s, d, p0, p1):
    return (n + p0 + p1 - d * (k - 1) - 1) // s + 1 if n + p0 + p1 >= d * (k - 1) + 1 else 0


def _transposed_size(n, k, s, d, p0, p1, op):
    return (n - 1) * s - p0 - p1 + d * (k - 1) + op + 1  # docs/guide/options.md's formula


def _transposed_1d():
    for n, k, s, d, p0, p1 in itertools.product(SIZES, KERNELS, STRIDES, DILATIONS, PADS, PADS):
        for op in range(max(s, d)):
            yield n, k, s, d, p0, p1, op


def _forward_1d():
    yield from itertools.product(SIZES, KERNELS, STRIDES, DILATIONS, PADS, PADS)


def _data(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def _check(fw, function, arrays, options, expected, size, message, length):
    """``function(*arrays, method=..., **options)`` gives ``expected`` (the oracle and its magnitude,
    when the formula's size is positive) or a named ValueError, with every method."""
    for method in methods(fw):
        if size < 1:
            with pytest.raises(ValueError, match=message):
                function(*arrays, method=method, **options)
            continue
        y = function(*arrays, method=method, **options)
        assert_close(fw, y, expected[0], dtype="float64", magnitude=expected[1], reduction_length=length)


def test_every_small_transposed_1d_geometry(fw):
    for index, (n, k, s, d, p0, p1, op) in enumerate(_transposed_1d()):
        groups = 1 + index % 2
        x, w, b = _data(index, (1, 2, n)), _data(10**6 + index, (2, 2 // groups, k)), _data(index + 7, (2,))
        size = _transposed_size(n, k, s, d, p0, p1, op)
        options = {"stride": s, "dilation": d, "padding": ((p0, p1),), "output_padding": op, "groups": groups}
        expected = None
        if size >= 1:
            expected = [conv_transpose_oracle(x, w, b, stride=(s,), dilation=(d,), padding=((p0, p1),),
                                              output_padding=(op,), groups=groups, absolute=a) for a in (False, True)]
            assert expected[0].shape == (1, 2, size), (options, expected[0].shape)
        arrays = [fw.asarray(a, "float64") for a in (x, w, b)]
        _check(fw, xpconv.conv_transpose1d, arrays, options, expected, size,
               r"transposed convolution's output must have at least one element", 2 // groups * k)


def test_every_small_forward_1d_geometry(fw):
    for index, (n, k, s, d, p0, p1) in enumerate(_forward_1d()):
        groups = 1 + index % 2
        x, w, b = _data(index, (1, 2, n)), _data(10**6 + index, (2, 2 // groups, k)), _data(index + 7, (2,))
        size = _forward_size(n, k, s, d, p0, p1)
        options = {"stride": s, "dilation": d, "padding": ((p0, p1),), "groups": groups}
        expected = None
        if size >= 1:
            expected = [conv_oracle(x, w, b, stride=(s,), dilation=(d,), padding=((p0, p1),), groups=groups,
                                    absolute=a) for a in (False, True)]
            assert expected[0].shape == (1, 2, size)
        arrays = [fw.asarray(a, "float64") for a in (x, w, b)]
        _check(fw, xpconv.conv1d, arrays, options, expected, size, r"The kernel must not be larger than the padded input",
               2 // groups * k)


def _sample(rank, count, seed):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = tuple(int(v) for v in rng.integers(1, 4, rank))
        k = tuple(int(v) for v in rng.integers(1, 4, rank))
        s = tuple(int(v) for v in rng.integers(1, 4, rank))
        d = tuple(int(v) for v in rng.integers(1, 3, rank))
        pads = tuple((int(a), int(b)) for a, b in rng.integers(0, 4, (rank, 2)))
        op = tuple(int(rng.integers(0, max(si, di))) for si, di in zip(s, d))
        yield n, k, s, d, pads, op, int(rng.integers(1, 3)), bool(rng.integers(0, 2))


@pytest.mark.parametrize("rank", [2, 3])
@pytest.mark.parametrize("transposed", [False, True], ids=["forward", "transposed"])
def test_small_geometries_in_2d_and_3d(fw, rank, transposed):
    for index, (n, k, s, d, pads, op, groups, last) in enumerate(_sample(rank, 16, [rank, transposed])):
        x, b = _data(index, (1, 2, *n)), _data(index + 3, (2,))
        w = _data(10**6 + index, (2, 2 // groups, *k))
        common = {"stride": s, "dilation": d, "padding": pads, "groups": groups}
        if transposed:
            sizes = [_transposed_size(*a, *p, o) for a, p, o in zip(zip(n, k, s, d), pads, op)]
            options = {**common, "output_padding": op}
            function, message = xpconv.conv_transpose, r"transposed convolution's output must have at least one element"
            expected = [conv_transpose_oracle(x, w, b, output_padding=op, absolute=a, **common) for a in (False, True)] \
                if min(sizes) >= 1 else None
        else:
            sizes = [_forward_size(*a, *p) for a, p in zip(zip(n, k, s, d), pads)]
            options = common
            function, message = xpconv.conv, r"The kernel must not be larger than the padded input"
            expected = [conv_oracle(x, w, b, absolute=a, **common) for a in (False, True)] if min(sizes) >= 1 else None
        if expected is not None and last:
            expected = [np.moveaxis(e, 1, -1) for e in expected]
        data_x = np.ascontiguousarray(np.moveaxis(x, 1, -1)) if last else x
        arrays = [fw.asarray(a, "float64") for a in (data_x, w, b)]
        layout = "channels_last" if last else "channels_first"
        _check(fw, function, arrays, {**options, "data_format": layout}, expected, min(sizes), message,
               2 // groups * int(np.prod(k)))
