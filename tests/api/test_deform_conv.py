"""``xpconv.deform_conv`` (ONNX ``DeformConv``; its node tests are in ``tests/onnx_nodes``) against a
loop reference of our own in 1-D, 2-D and 3-D, with groups, offset groups, stride, dilation,
padding and a mask; zero offsets give the plain convolution; gradients with respect to the input,
weight, offsets and mask checked numerically; bad input named before any work."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import xpconv
from xpconv.testing import conv_oracle


def _interpolate(image: np.ndarray, point: np.ndarray) -> float:
    """Multilinear interpolation of ``image`` (one channel) at ``point``, zeros outside."""
    total = 0.0
    low = np.floor(point).astype(int)
    for corner in itertools.product((0, 1), repeat=image.ndim):
        at = low + np.array(corner)
        if all(0 <= a < n for a, n in zip(at, image.shape)):
            share = np.prod([f if c else 1 - f for f, c in zip(point - low, corner)])
            total += share * image[tuple(at)]
    return total


def _reference(x, w, offset, b, mask, stride, padding, dilation, groups, offset_groups):
    """The definition, one output element at a time (slow; small cases only)."""
    n, c = x.shape[:2]
    rank, kernel = x.ndim - 2, w.shape[2:]
    out_size = offset.shape[2:]
    taps = list(itertools.product(*(range(k) for k in kernel)))
    offset = offset.reshape(n, offset_groups, len(taps), rank, *out_size)
    mask = np.ones((n, offset_groups, len(taps), *out_size)) if mask is None else mask.reshape(
        n, offset_groups, len(taps), *out_size)
    y = np.zeros((n, w.shape[0], *out_size))
    per_group, out_per_group = c // groups, w.shape[0] // groups
    for b_, o, *pos in itertools.product(range(n), range(w.shape[0]), *(range(s) for s in out_size)):
        g = o // out_per_group
        for ci in range(g * per_group, (g + 1) * per_group):
            og = ci // (c // offset_groups)
            for t, tap in enumerate(taps):
                point = np.array([p * s - pad + k * d for p, s, pad, k, d in zip(pos, stride, padding, tap, dilation)],
                                 dtype=float) + offset[(b_, og, t, slice(None), *pos)]
                value = _interpolate(x[b_, ci], point) * mask[(b_, og, t, *pos)]
                y[(b_, o, *pos)] += value * w[(o, ci - g * per_group, *tap)]
    return y if b is None else y + b.reshape(1, -1, *(1,) * rank)


CASES = [
    ("1-D stride 2", (2, 4, 9), (4, 2, 3), {"stride": 2, "padding": 1, "groups": 2}, 2),
    ("2-D dilation, mask", (1, 4, 6, 5), (3, 4, 2, 3), {"dilation": (2, 1), "padding": 1}, 2),
    ("3-D", (1, 2, 4, 3, 4), (2, 1, 2, 2, 2), {"groups": 2, "padding": (1, 0, 1)}, 1),
]


def _data(x_shape, w_shape, options, offset_groups, seed=0):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    plan = xpconv.plan(x_shape, w_shape, **options)
    taps = offset_groups * int(np.prod(w_shape[2:]))
    offset = rng.uniform(-2.5, 2.5, (x_shape[0], taps * plan.rank, *plan.out_size))
    mask = rng.uniform(0, 1, (x_shape[0], taps, *plan.out_size))
    full = {"stride": plan.stride, "padding": tuple(a for a, _ in plan.padding), "dilation": plan.dilation,
            "groups": plan.groups}
    return x, w, b, offset, mask, full


@pytest.mark.parametrize(("name", "x_shape", "w_shape", "options", "offset_groups"), CASES, ids=[c[0] for c in CASES])
def test_against_the_definition(fw, name, x_shape, w_shape, options, offset_groups):
    x, w, b, offset, mask, full = _data(x_shape, w_shape, options, offset_groups)
    if fw.backend.container:  # taps read across blocks
        with pytest.raises(TypeError, match=r"^deform_conv needs in-memory arrays"):
            xpconv.deform_conv(*(fw.asarray(a) for a in (x, w, offset)), **options)
        return
    expected = _reference(x, w, offset, b, mask, offset_groups=offset_groups, **full)
    y = xpconv.deform_conv(*(fw.asarray(a) for a in (x, w, offset, b, mask)), offset_groups=offset_groups, **options)
    assert fw.to_numpy(y).shape == expected.shape
    np.testing.assert_allclose(fw.to_numpy(y), expected, rtol=1e-10, atol=1e-10)
    plain = xpconv.deform_conv(*(fw.asarray(a) for a in (x, w, np.zeros_like(offset), b)), offset_groups=offset_groups,
                               **options)
    np.testing.assert_allclose(fw.to_numpy(plain), conv_oracle(x, w, b, stride=full["stride"], dilation=full["dilation"],
                                                               groups=full["groups"],
                                                               padding=tuple((p, p) for p in full["padding"])),
                               rtol=1e-10, atol=1e-10)


@pytest.mark.needs("torch")
def test_gradients_with_respect_to_everything_are_the_numerical_ones():
    """torch.autograd.gradcheck (float64 central differences) for input, weight, bias, offsets and
    mask, offsets kept away from integers (where the interpolation has a kink)."""
    import torch

    x, w, b, offset, mask, _ = _data((1, 2, 4, 4), (2, 2, 2, 2), {"padding": 1}, 1, seed=3)
    offset = np.floor(offset) + np.clip(offset - np.floor(offset), 0.2, 0.8)
    args = [torch.tensor(a, requires_grad=True) for a in (x, w, offset, b, mask)]
    assert torch.autograd.gradcheck(lambda *a: xpconv.deform_conv(*a, padding=1), args, eps=1e-6, atol=1e-6)


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"offset": np.zeros((1, 7, 3, 3))}, r"^offset must have shape \(1, 8, 3, 3\), \(N, offset_groups·prod\(kernel\)·rank"),
    ({"mask": np.ones((1, 4, 3, 2))}, r"^mask must have shape \(1, 4, 3, 3\), \(N, offset_groups·prod\(kernel\), \*output\)"),
    ({"offset_groups": 3}, r"^offset_groups must be a positive int dividing the input channels \(2\)\. Received: offset_groups=3"),
    ({"x": np.ones((1, 2, 4, 4), np.int32)}, r"^x must have a real floating-point dtype\. Received: x with dtype int32"),
])
def test_bad_input_is_named_before_any_work(fw, kwargs, pattern):
    arguments = {"x": np.ones((1, 2, 4, 4)), "weight": np.ones((1, 2, 2, 2)), "offset": np.zeros((1, 8, 3, 3)),
                 "mask": None, "offset_groups": 1, **kwargs}
    arrays = {k: (fw.asarray(v) if isinstance(v, np.ndarray) else v) for k, v in arguments.items()}
    # Dask arrays are refused whatever their shapes (their taps read across blocks)
    with pytest.raises((ValueError, TypeError), match=pattern if not fw.backend.container else "^deform_conv needs"):
        xpconv.deform_conv(arrays["x"], arrays["weight"], arrays["offset"], mask=arrays["mask"],
                           offset_groups=arrays["offset_groups"])
