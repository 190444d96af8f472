"""MXNet beyond the shared matrix: mx.nd in gives mx.nd out, contexts, autograd, errors MXNet would raise late, and the chapter's MXNet code as the book writes it."""

from __future__ import annotations

import os

import numpy as np
import pytest
from mxnet_cases import METHODS, ND_CASES, nd_case, nd_oracle, nd_plan  # noqa: F401

import xpconv
from xpconv.testing import assert_close

from chapter_data import K3, MULTI_IN, MULTI_OUT, K, X
from conv_cases import random_problem
from matrix import ADAPTERS

pytestmark = pytest.mark.needs("mxnet")

OPTIONS = [
    {},
    {"stride": 2, "padding": "same"},
    {"padding": ((0, 2), (1, 0)), "dilation": (1, 2)},
    {"groups": 2, "stride": (1, 2), "padding": 1},
    {"groups": 4, "padding": ((1, 0), (2, 1))},  # depthwise
]






def _reference(mx, problem, dtype="float64"):
    """``mx.nd.Convolution`` on an input padded in NumPy: MXNet's own kernel through another
    entry point than xpconv's (``npx.convolution``), in the problem's layout."""
    (pt, pb), (pl, pr) = problem.pads
    padded = mx.nd.array(np.pad(problem.x, ((0, 0), (0, 0), (pt, pb), (pl, pr))), dtype=dtype)
    options = problem.options
    y = mx.nd.Convolution(
        padded, mx.nd.array(problem.w, dtype=dtype), mx.nd.array(problem.b, dtype=dtype),
        kernel=problem.w.shape[2:], stride=_pair(options.get("stride", 1)), dilate=_pair(options.get("dilation", 1)),
        num_filter=problem.w.shape[0], num_group=options.get("groups", 1),
    ).asnumpy()
    return problem.to_layout(y)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _data(options, layout="NCHW", dtype="float64"):
    problem = random_problem(np.random.default_rng(1), n=2, c_in=4, c_out=4, hw=(7, 8), **options)
    problem.data_format = layout
    return problem.to_layout(problem.x).astype(dtype), problem.w.astype(dtype), problem.b.astype(dtype), problem


# -- kinds and contexts ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["np", "nd"])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_each_kind_in_gives_the_same_kind_out_with_mxnets_numbers(mx, kind, layout, options):
    x, w, b, problem = _data(options, layout)
    make = mx.np.array if kind == "np" else mx.nd.array
    expected = _reference(mx, problem)
    for method in METHODS:
        y = xpconv.conv2d(make(x, dtype=x.dtype), make(w, dtype=w.dtype), make(b, dtype=b.dtype),
                          data_format=layout, method=method, **options)
        assert type(y) is (mx.np.ndarray if kind == "np" else mx.nd.NDArray), (method, type(y))
        assert y.ctx == mx.cpu(0) and y.dtype == np.float64 and y.shape == expected.shape
        np.testing.assert_allclose(y.asnumpy(), expected, rtol=1e-12, atol=1e-12, err_msg=method)
        assert_close_to_oracle(y.asnumpy(), problem)


def assert_close_to_oracle(actual, problem):
    expected = problem.oracle()
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


def test_the_result_is_on_the_inputs_context(mx):
    ctx = mx.cpu(1)  # a second CPU context: a different device to MXNet
    x, w, b, _ = _data({})
    for make in (mx.np.array, mx.nd.array):
        for method in METHODS:
            y = xpconv.conv2d(make(x, ctx=ctx), make(w, ctx=ctx), make(b, ctx=ctx), method=method)
            assert y.ctx == ctx, method


def test_lists_join_the_kind_and_context_of_the_arrays(mx):
    for make in (mx.np.array, mx.nd.array):
        x = make(X, ctx=mx.cpu(1))
        y = xpconv.corr2d_multi_in(x, K.tolist())
        assert type(y) is type(x) and y.ctx == mx.cpu(1)
        np.testing.assert_array_equal(y.asnumpy(), MULTI_IN)


# -- errors MXNet raises late, raised by xpconv first -----------------------------------------------
def test_mxnet_itself_fails_only_when_the_result_is_read(mx):
    """Why xpconv validates first: MXNet's convolution returns, and fails at the read."""
    x = mx.np.ones((1, 2, 4, 4), dtype="float16")
    with pytest.raises(mx.base.MXNetError):  # at the call only with MXNET_ENGINE_TYPE=NaiveEngine
        y = mx.npx.convolution(x, mx.np.ones((3, 2, 2, 2), dtype="float16"), kernel=(2, 2), num_filter=3,
                               no_bias=True)
        assert os.environ.get("MXNET_ENGINE_TYPE") == "NaiveEngine" or y.shape == (1, 3, 3, 3)  # returned
        y.asnumpy()
    # two contexts: MXNet computes silently on the first one
    z = mx.npx.convolution(mx.np.ones((1, 2, 4, 4), ctx=mx.cpu(0)), mx.np.ones((3, 2, 2, 2), ctx=mx.cpu(1)),
                           kernel=(2, 2), num_filter=3, no_bias=True)
    assert z.ctx == mx.cpu(0)


@pytest.mark.parametrize("make", ["np", "nd"])
def test_what_mxnet_refuses_late_is_refused_at_the_call(mx, make):
    array = getattr(mx, make).array
    for dtype in ("float16", "int32", "int8", "uint8", "int64"):
        x = array(np.ones((1, 2, 4, 4)), dtype=dtype)
        w = array(np.ones((3, 2, 2, 2)), dtype=dtype)
        with pytest.raises(ValueError, match=rf"^method='native': the mxnet convolution does not support dtype {dtype}\. Received: x with dtype {dtype}; use method='auto'$"):
            xpconv.conv2d(x, w, method="native")
        y = xpconv.conv2d(x, w)  # auto: the portable kernel, exact
        np.testing.assert_array_equal(y.asnumpy(), np.full((1, 3, 3, 3), 8))
    x = array(np.ones((1, 2, 4, 4)), ctx=mx.cpu(0))
    w = array(np.ones((3, 2, 2, 2)), ctx=mx.cpu(1))
    for method in METHODS:
        with pytest.raises(ValueError, match=r"^x and weight must be on the same device\. Received: x on cpu\(0\), weight on cpu\(1\)$"):
            xpconv.conv2d(x, w, method=method)


@pytest.mark.parametrize("stype", ["row_sparse", "csr"])
def test_sparse_ndarrays_are_refused_up_front(mx, stype):
    dense = mx.nd.ones((3, 3))
    with pytest.raises(TypeError, match=r"^Unsupported array type mxnet\.ndarray\.sparse\.\w+NDArray: expected an array of one of the registered backends"):
        xpconv.corr2d(dense.tostype(stype), mx.nd.ones((2, 2)))


def test_nothing_fails_after_the_call(mx):
    """Every case above, then MXNet's engine drained: no error was left pending."""
    for options in OPTIONS:
        x, w, b, _ = _data(options, dtype="float32")
        for method in METHODS:
            xpconv.conv2d(mx.np.array(x), mx.np.array(w), mx.np.array(b), method=method, **options)
    empty = mx.np.array(np.ones((0, 4, 7, 8), np.float32))
    for method in METHODS:
        y = xpconv.conv2d(empty, mx.np.array(np.ones((4, 4, 3, 3), np.float32)), method=method)
        assert y.shape == (0, 4, 5, 6)
    mx.nd.waitall()


# -- autograd ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["np", "nd"])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_gradients_of_both_methods_equal_mxnets_own(mx, kind, layout, options):
    x_np, w_np, b_np, problem = _data(options, layout)
    g_np = np.random.default_rng(2).standard_normal(_reference(mx, problem).shape)
    make = mx.np.array if kind == "np" else mx.nd.array

    def grads(method):
        x, w, b = make(x_np, dtype="float64"), make(w_np, dtype="float64"), make(b_np, dtype="float64")
        for a in (x, w, b):
            a.attach_grad()
        with mx.autograd.record():
            if method == "reference":  # MXNet's own: explicit pad, then nd.Convolution
                y = _mxnet_convolution(mx, x, w, b, problem, layout)
            else:
                y = xpconv.conv2d(x, w, b, data_format=layout, method=method, **options)
            loss = (y * make(g_np, dtype="float64")).sum()
        loss.backward()
        return [a.grad.asnumpy() for a in (x, w, b)]

    expected = grads("reference")
    for method in METHODS:
        for name, got, want in zip(("x", "weight", "bias"), grads(method), expected):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=f"{method} {name}")


def _mxnet_convolution(mx, x, w, b, problem, layout):
    """MXNet's own differentiable convolution with asymmetric padding (``mx.nd`` ops)."""
    was_np = isinstance(x, mx.np.ndarray)
    x, w, b = (a.as_nd_ndarray() if was_np else a for a in (x, w, b))
    if layout == "NHWC":
        x = mx.nd.transpose(x, (0, 3, 1, 2))
    (pt, pb), (pl, pr) = problem.pads
    x = mx.nd.pad(x, mode="constant", pad_width=(0, 0, 0, 0, pt, pb, pl, pr))
    options = problem.options
    y = mx.nd.Convolution(x, w, b, kernel=w.shape[2:], stride=_pair(options.get("stride", 1)),
                          dilate=_pair(options.get("dilation", 1)), num_filter=w.shape[0],
                          num_group=options.get("groups", 1))
    y = mx.nd.transpose(y, (0, 2, 3, 1)) if layout == "NHWC" else y
    return y.as_np_ndarray() if was_np else y




# -- the chapter, as the book writes it for MXNet ------------------------------------------------
@pytest.fixture
def book_mode(mx):
    """``npx.set_np()``, as the chapter's first cell runs it; undone afterwards."""
    mx.npx.set_np()
    yield
    mx.npx.reset_np()


def test_the_chapters_mxnet_code_prints_the_books_numbers(mx, book_mode):
    from mxnet import np as mnp

    def corr2d_multi_in(X, K):
        # Iterate through the 0th dimension (channel) of K first, then add them up
        return sum(xpconv.corr2d(x, k) for x, k in zip(X, K))

    def corr2d_multi_in_out(X, K):
        # Iterate through the 0th dimension of K, and each time, perform
        # cross-correlation operations with input X. All of the results are
        # stacked together
        return mnp.stack([corr2d_multi_in(X, k) for k in K], 0)

    def corr2d_multi_in_out_1x1(X, K):
        c_i, h, w = X.shape
        c_o = K.shape[0]
        X = X.reshape((c_i, h * w))
        K = K.reshape((c_o, c_i))
        # Matrix multiplication in the fully connected layer
        Y = mnp.dot(K, X)
        return Y.reshape((c_o, h, w))

    Xm = mnp.array([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                    [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
    Km = mnp.array([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    for result in (corr2d_multi_in(Xm, Km), xpconv.corr2d_multi_in(Xm, Km)):
        assert type(result) is mnp.ndarray and result.dtype == np.float32 and result.shape == (2, 2)
        np.testing.assert_array_equal(result.asnumpy(), MULTI_IN)

    Km = mnp.stack((Km, Km + 1, Km + 2), 0)
    assert Km.shape == (3, 2, 2, 2)
    for result in (corr2d_multi_in_out(Xm, Km), xpconv.corr2d_multi_in_out(Xm, Km)):
        assert type(result) is mnp.ndarray and result.dtype == np.float32 and result.shape == (3, 2, 2)
        np.testing.assert_array_equal(result.asnumpy(), MULTI_OUT)

    Xr = mnp.random.normal(0, 1, (3, 3, 3))
    Kr = mnp.random.normal(0, 1, (2, 3, 1, 1))
    Y1 = corr2d_multi_in_out_1x1(Xr, Kr)
    Y2 = corr2d_multi_in_out(Xr, Kr)
    assert float(mnp.abs(Y1 - Y2).sum()) < 1e-6
    Y3 = xpconv.corr2d_multi_in_out_1x1(Xr, Kr)
    assert type(Y3) is mnp.ndarray and float(mnp.abs(Y1 - Y3).sum()) < 1e-6


def test_the_older_mx_nd_chapter_code(mx):
    """The first edition's MXNet code (``nd.add_n``, ``nd.stack``): NDArrays throughout."""
    nd = mx.nd

    def corr2d_multi_in(X, K):
        return nd.add_n(*[xpconv.corr2d(x, k) for x, k in zip(X, K)])

    def corr2d_multi_in_out(X, K):
        return nd.stack(*[corr2d_multi_in(X, k) for k in K])

    Xn, Kn = nd.array(X), nd.array(K)
    result = corr2d_multi_in(Xn, Kn)
    assert type(result) is nd.NDArray and result.shape == (2, 2)
    np.testing.assert_array_equal(result.asnumpy(), MULTI_IN)
    K3n = nd.stack(Kn, Kn + 1, Kn + 2)
    np.testing.assert_array_equal(K3n.asnumpy(), K3)
    for out in (corr2d_multi_in_out(Xn, K3n), xpconv.corr2d_multi_in_out(Xn, K3n)):
        assert type(out) is nd.NDArray and out.shape == (3, 2, 2)
        np.testing.assert_array_equal(out.asnumpy(), MULTI_OUT)


def test_float32_native_is_within_tolerance_of_the_oracle(mx):
    x, w, b, problem = _data({"stride": 2, "padding": "same", "groups": 2}, dtype="float32")
    rounded = problem.rounded("float32")
    for method in METHODS:
        y = xpconv.conv2d(mx.np.array(x), mx.np.array(w), mx.np.array(b), method=method, **problem.options)

        assert_close(ADAPTERS["mxnet"], y, rounded.oracle(), dtype="float32",
                     magnitude=rounded.oracle(absolute=True), reduction_length=problem.reduction_length)


