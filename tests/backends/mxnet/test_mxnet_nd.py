"""MXNet in every rank and padding mode, transposed through npx.deconvolution where it is right, gradients and empty batches."""

from __future__ import annotations

import numpy as np
import pytest
from mxnet_cases import METHODS, ND_CASES, nd_case, nd_oracle, nd_plan, to_channels_last

import xpconv
from xpconv.testing import conv_oracle

pytestmark = pytest.mark.needs("mxnet")


@pytest.mark.parametrize("kind", ["np", "nd"])
@pytest.mark.parametrize("channels_last", [False, True], ids=["channels_first", "channels_last"])
@pytest.mark.parametrize("name", ND_CASES)
def test_every_rank_padding_mode_and_transposed_against_the_oracle(mx, name, channels_last, kind):
    x, w, b, options, transposed = nd_case(name)
    rank = w.ndim - 2
    expected = nd_oracle(x, w, b, options, transposed)
    if channels_last:
        x, expected = to_channels_last(x, rank), to_channels_last(expected, rank)
    make = mx.np.array if kind == "np" else mx.nd.array
    function = xpconv.conv_transpose if transposed else xpconv.conv
    layout = "channels_last" if channels_last else "channels_first"
    for method in METHODS:
        y = function(make(x, dtype="float64"), make(w, dtype="float64"), make(b, dtype="float64"),
                     data_format=layout, method=method, **options)
        assert type(y) is (mx.np.ndarray if kind == "np" else mx.nd.NDArray), method
        assert y.shape == expected.shape, method
        np.testing.assert_allclose(y.asnumpy(), expected, rtol=1e-12, atol=1e-12, err_msg=method)


@pytest.mark.parametrize("name", [n for n in ND_CASES if ND_CASES[n][3]])
def test_transposed_native_takes_deconvolution_only_where_it_is_right(mx, monkeypatch, name):
    """MXNet's CPU deconvolution has no 3-D and is wrong with a dilation: those take the forward twin."""
    calls = []
    deconvolution = mx.npx.deconvolution
    monkeypatch.setattr(mx.npx, "deconvolution", lambda *a, **k: calls.append(1) or deconvolution(*a, **k))
    x, w, b, options, _ = nd_case(name, seed=3)
    y = xpconv.conv_transpose(mx.np.array(x), mx.np.array(w), mx.np.array(b), method="native", **options)
    np.testing.assert_allclose(y.asnumpy(), nd_oracle(x, w, b, options, True), rtol=1e-12, atol=1e-12)
    rank, dilated = w.ndim - 2, options.get("dilation", 1) != 1
    assert bool(calls) == (rank <= 2 and not dilated)


@pytest.mark.parametrize("name", [n for n, (x, w, _, t) in ND_CASES.items() if t and len(x) == len(w)])
def test_the_transposed_input_gradient_is_the_forward_convolution(mx, name):
    """``d/dx sum(conv_transpose(x, w) · g) = conv(g, w)``: autograd through every method."""
    x, w, b, options, _ = nd_case(name, seed=4)
    plan = nd_plan(x, w, options, True)
    g = np.random.default_rng(5).standard_normal((plan.batch, plan.out_channels, *plan.out_size))
    expected = conv_oracle(g, w, stride=plan.stride, padding=plan.padding, dilation=plan.dilation, groups=plan.groups)
    expected = expected[(slice(None), slice(None), *(slice(0, n) for n in x.shape[2:]))]
    for method in METHODS:
        xm = mx.np.array(x, dtype="float64")
        xm.attach_grad()
        with mx.autograd.record():
            loss = (xpconv.conv_transpose(xm, mx.np.array(w, dtype="float64"), mx.np.array(b, dtype="float64"),
                                          method=method, **options) * mx.np.array(g, dtype="float64")).sum()
        loss.backward()
        np.testing.assert_allclose(xm.grad.asnumpy(), expected, rtol=1e-10, atol=1e-10, err_msg=method)


@pytest.mark.parametrize("name", [n for n in ND_CASES if not ND_CASES[n][3]])
def test_gradients_through_padding_modes_agree_across_methods(mx, name):
    x, w, b, options, _ = nd_case(name, seed=6)
    g = np.random.default_rng(7).standard_normal(nd_oracle(x, w, b, options, False).shape)

    def grads(method):
        arrays = [mx.np.array(a, dtype="float64") for a in (x, w, b)]
        for a in arrays:
            a.attach_grad()
        with mx.autograd.record():
            loss = (xpconv.conv(*arrays, method=method, **options) * mx.np.array(g, dtype="float64")).sum()
        loss.backward()
        return [a.grad.asnumpy() for a in arrays]

    expected = grads("portable")
    for method in ("auto", "native"):
        for label, got, want in zip(("x", "weight", "bias"), grads(method), expected):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=f"{method} {label}")


@pytest.mark.parametrize("name", [n for n, (x, w, _, _) in ND_CASES.items() if len(x) == len(w)])
def test_an_empty_batch_in_every_rank_mode_and_transposed(mx, name):
    x, w, b, options, transposed = nd_case(name)
    expected = nd_oracle(x, w, b, options, transposed)[:0]
    function = xpconv.conv_transpose if transposed else xpconv.conv
    for method in METHODS:
        empty = mx.np.array(np.ones((0, *x.shape[1:]), np.float32))
        y = function(empty, mx.np.array(w, dtype="float32"), method=method, **options)
        assert y.shape == expected.shape, method
    mx.nd.waitall()




