"""Padding modes on transposed convolutions (which no framework's transposed convolution has):
the input continued beyond its border. The values against the float64 oracle are in
``test_nd.py`` (its transposed cases with a mode); here, what the definition promises."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv


@pytest.mark.parametrize("rank", [1, 2])
def test_circular_transpose_is_the_adjoint_of_strided_circular_conv(fw, rank):
    """On a periodic signal, ``conv_transpose(padding_mode="circular")`` is the transpose of the strided
    circular ``conv``: ``<conv(a), b> = <a, conv_transpose(b)>`` (the periodic upsampling of pytorch#46027)."""
    rng = np.random.default_rng(11)
    a = rng.standard_normal((2, 3, *(8,) * rank))
    w = rng.standard_normal((2, 3, *(3,) * rank))
    options = {"stride": 2, "padding": 1, "padding_mode": "circular"}
    y = fw.to_numpy(xpconv.conv(fw.asarray(a), fw.asarray(w), **options))
    b = rng.standard_normal(y.shape)
    z = xpconv.conv_transpose(fw.asarray(b), fw.asarray(w), output_padding=1, **options)
    assert fw.to_numpy(z).shape == a.shape
    np.testing.assert_allclose(np.vdot(a, fw.to_numpy(z)), np.vdot(y, b), rtol=1e-12)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_a_constant_input_stays_constant_inside(fw, mode):
    """A constant signal continued by any mode is the same constant: with stride 1, every output
    element reads a full window, so each equals the sum of the kernel times the constant (with
    zeros, the borders would fall short)."""
    w = np.arange(1.0, 7.0).reshape(1, 2, 3)
    y = fw.to_numpy(xpconv.conv_transpose1d(fw.asarray(np.full((1, 1, 6), 2.0)), fw.asarray(w), padding=1,
                                            padding_mode=mode))
    np.testing.assert_allclose(y, np.broadcast_to(2.0 * w.sum(axis=2)[..., None], (1, 2, 6)), rtol=1e-12)
    zeros = fw.to_numpy(xpconv.conv_transpose1d(fw.asarray(np.full((1, 1, 6), 2.0)), fw.asarray(w), padding=1))
    assert not np.allclose(zeros, y)
