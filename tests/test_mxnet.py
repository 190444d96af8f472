"""MXNet beyond the shared matrix: mx.nd in gives mx.nd out, contexts, autograd, errors MXNet
would raise late, any number of spatial axes, and the chapter's MXNet code as the book writes it."""

from __future__ import annotations

import os

import numpy as np
import pytest

import xpconv
from xpconv import _spec
from xpconv._oracle import conv_oracle, conv_transpose_oracle

from assertions import assert_close
from chapter_data import K3, MULTI_IN, MULTI_OUT, K, X
from conv_cases import random_problem

pytestmark = pytest.mark.needs("mxnet")

METHODS = ["portable", "auto", "native"]
OPTIONS = [
    {},
    {"stride": 2, "padding": "same"},
    {"padding": ((0, 2), (1, 0)), "dilation": (1, 2)},
    {"groups": 2, "stride": (1, 2), "padding": 1},
    {"groups": 4, "padding": ((1, 0), (2, 1))},  # depthwise
]


@pytest.fixture(scope="module")
def mx():
    import mxnet

    return mxnet


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


# -- 1-D and 3-D, padding modes, transposed convolutions ---------------------------------------------
# (x shape, weight shape, options, transposed); the weight's rank sets the number of spatial axes.
ND_CASES = {
    "1-D reflect asymmetric stride 2": ((2, 4, 11), (6, 2, 3), {"padding": ((2, 1),), "stride": 2, "groups": 2,
                                                                "padding_mode": "reflect"}, False),
    "1-D unbatched circular dilation 2": ((3, 9), (4, 3, 3), {"padding": 4, "dilation": 2,
                                                              "padding_mode": "circular"}, False),
    "2-D replicate": ((2, 3, 7, 6), (4, 3, 3, 2), {"padding": ((3, 0), (1, 2)), "padding_mode": "replicate"}, False),
    "2-D depthwise circular": ((1, 4, 6, 6), (8, 1, 3, 3), {"padding": 1, "groups": 4, "padding_mode": "circular"},
                               False),
    "3-D same stride 2": ((2, 2, 7, 5, 6), (3, 2, 3, 2, 3), {"padding": "same", "stride": 2}, False),
    "3-D groups dilation reflect": ((1, 4, 6, 7, 5), (4, 2, 2, 3, 2), {"groups": 2, "dilation": (1, 2, 1),
                                                                        "padding": (1, 2, 0), "padding_mode": "reflect"},
                                    False),
    "3-D unbatched": ((2, 4, 5, 4), (3, 2, 2, 3, 3), {"padding": 1}, False),
    # transposed: npx.deconvolution for 1-D/2-D without dilation, the forward twin otherwise
    "T 1-D stride 2 output_padding 1": ((2, 4, 6), (4, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, True),
    "T 1-D same": ((2, 3, 7), (3, 2, 4), {"stride": 2, "padding": "same"}, True),
    "T 2-D asymmetric crop groups": ((2, 4, 4, 5), (4, 3, 3, 3), {"stride": (2, 1), "groups": 2,
                                                                  "padding": ((0, 2), (1, 0))}, True),
    "T 2-D unbatched output_padding": ((3, 4, 4), (3, 2, 3, 2), {"stride": 3, "padding": 1, "output_padding": (2, 1)},
                                       True),
    "T 2-D dilation 2": ((2, 3, 4, 5), (3, 2, 3, 3), {"stride": 2, "dilation": 2, "padding": 1,
                                                      "output_padding": 1}, True),
    "T 3-D stride 2": ((1, 3, 3, 4, 3), (3, 2, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": (1, 0, 1)},
                       True),
    "T 3-D valid depthwise": ((2, 3, 3, 3, 4), (3, 2, 2, 2, 2), {"groups": 3, "stride": 2, "padding": "valid"}, True),
}


def _nd_case(name, seed=0):
    x_shape, w_shape, options, transposed = ND_CASES[name]
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    c_out = w_shape[1] * options.get("groups", 1) if transposed else w_shape[0]
    return x, w, rng.standard_normal(c_out), options, transposed


def _nd_plan(x, w, options, transposed):
    o = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "padding_mode": "zeros", "output_padding": 0, **options}
    made = _spec.make_options(o["stride"], o["padding"], o["dilation"], o["groups"], "channels_first",
                              o["padding_mode"], o["output_padding"], transposed)
    return _spec.make_plan(made, x.shape, w.shape, None)


def _nd_oracle(x, w, b, options, transposed, absolute=False):
    plan = _nd_plan(x, w, options, transposed)
    batched = x if plan.batched else x[None]
    common = {"stride": plan.stride, "padding": plan.padding, "dilation": plan.dilation, "groups": plan.groups,
              "absolute": absolute}
    if transposed:
        y = conv_transpose_oracle(batched, w, b, output_padding=plan.output_padding, **common)
    else:
        y = conv_oracle(batched, w, b, padding_mode=plan.padding_mode, **common)
    return y if plan.batched else y[0]


def _last(a, rank):
    return np.moveaxis(a, -(rank + 1), -1)


@pytest.mark.parametrize("kind", ["np", "nd"])
@pytest.mark.parametrize("channels_last", [False, True], ids=["channels_first", "channels_last"])
@pytest.mark.parametrize("name", ND_CASES)
def test_every_rank_padding_mode_and_transposed_against_the_oracle(mx, name, channels_last, kind):
    x, w, b, options, transposed = _nd_case(name)
    rank = w.ndim - 2
    expected = _nd_oracle(x, w, b, options, transposed)
    if channels_last:
        x, expected = _last(x, rank), _last(expected, rank)
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
    x, w, b, options, _ = _nd_case(name, seed=3)
    y = xpconv.conv_transpose(mx.np.array(x), mx.np.array(w), mx.np.array(b), method="native", **options)
    np.testing.assert_allclose(y.asnumpy(), _nd_oracle(x, w, b, options, True), rtol=1e-12, atol=1e-12)
    rank, dilated = w.ndim - 2, options.get("dilation", 1) != 1
    assert bool(calls) == (rank <= 2 and not dilated)


@pytest.mark.parametrize("name", [n for n, (x, w, _, t) in ND_CASES.items() if t and len(x) == len(w)])
def test_the_transposed_input_gradient_is_the_forward_convolution(mx, name):
    """``d/dx sum(conv_transpose(x, w) · g) = conv(g, w)``: autograd through every method."""
    x, w, b, options, _ = _nd_case(name, seed=4)
    plan = _nd_plan(x, w, options, True)
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
    x, w, b, options, _ = _nd_case(name, seed=6)
    g = np.random.default_rng(7).standard_normal(_nd_oracle(x, w, b, options, False).shape)

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
    x, w, b, options, transposed = _nd_case(name)
    expected = _nd_oracle(x, w, b, options, transposed)[:0]
    function = xpconv.conv_transpose if transposed else xpconv.conv
    for method in METHODS:
        empty = mx.np.array(np.ones((0, *x.shape[1:]), np.float32))
        y = function(empty, mx.np.array(w, dtype="float32"), method=method, **options)
        assert y.shape == expected.shape, method
    mx.nd.waitall()


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
        from frameworks import FRAMEWORKS

        assert_close(FRAMEWORKS["mxnet"], y, rounded.oracle(), dtype="float32",
                     magnitude=rounded.oracle(absolute=True), reduction_length=problem.reduction_length)
