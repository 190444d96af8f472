"""Beyond 2-D: 1-D and 3-D convolutions, transposed convolutions, padding modes and complex dtypes,
on every backend and method, against the float64 (complex128) oracle; the oracle against PyTorch's
own functions; TensorFlow's "same"/"valid" transposed shapes; transposed = the gradient of conv."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpconv
from xpconv.testing import assert_close, conv_oracle, conv_transpose_oracle

from matrix import methods


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    x_shape: tuple[int, ...]  # channels first; unbatched when len == rank + 1
    w_shape: tuple[int, ...]
    options: dict = dataclasses.field(default_factory=dict)
    transpose: bool = False
    bias: bool = True

    def __str__(self) -> str:
        return self.name

    @property
    def rank(self) -> int:
        return len(self.w_shape) - 2

    def plan(self) -> xpconv.ConvPlan:
        return xpconv.plan(self.x_shape, self.w_shape, transposed=self.transpose, **self.options)

    def data(self, dtype: str = "float64", seed: int = 0):
        rng = np.random.default_rng(seed)

        def draw(shape):
            a = rng.standard_normal(shape)
            return a + 1j * rng.standard_normal(shape) if dtype.startswith("complex") else a

        plan = self.plan()
        b = draw((plan.out_channels,)) if self.bias else None
        return draw(self.x_shape), draw(self.w_shape), b

    def oracle(self, x, w, b, absolute=False):
        plan = self.plan()
        batched = x if plan.batched else x[None]
        common = {"stride": plan.stride, "padding": plan.padding, "dilation": plan.dilation, "groups": plan.groups,
                  "absolute": absolute}
        if self.transpose:
            y = conv_transpose_oracle(batched, w, b, output_padding=plan.output_padding, padding_mode=plan.padding_mode,
                                      **common)
        else:
            y = conv_oracle(batched, w, b, padding_mode=plan.padding_mode, **common)
        return y if plan.batched else y[0]

    def length(self) -> int:
        plan = self.plan()
        return plan.in_channels // plan.groups * plan.taps


FORWARD = [
    Case("1-D valid", (2, 3, 11), (4, 3, 3)),
    Case("1-D same stride 2 dilation 2", (2, 4, 13), (6, 4, 3), {"padding": "same", "stride": 2, "dilation": 2}),
    Case("1-D groups asymmetric", (2, 4, 9), (6, 2, 4), {"padding": ((2, 1),), "groups": 2}),
    Case("1-D depthwise x2 reflect", (2, 3, 10), (6, 1, 3), {"padding": 2, "groups": 3, "padding_mode": "reflect"}),
    Case("1-D pointwise stride 2", (2, 5, 9), (3, 5, 1), {"stride": 2}),
    Case("1-D unbatched circular", (3, 8), (2, 3, 5), {"padding": 4, "padding_mode": "circular"}),
    Case("2-D reflect", (2, 3, 7, 6), (4, 3, 3, 3), {"padding": (2, 1), "padding_mode": "reflect"}),
    Case("2-D replicate stride 2", (2, 3, 7, 8), (4, 3, 3, 2), {"padding": ((3, 0), (1, 2)), "stride": 2,
                                                               "padding_mode": "replicate"}),
    Case("2-D depthwise circular", (1, 4, 6, 6), (4, 1, 3, 3), {"padding": 1, "groups": 4, "padding_mode": "circular"}),
    Case("3-D padding 1", (2, 3, 5, 6, 4), (4, 3, 3, 3, 3), {"padding": 1}),
    Case("3-D same stride 2", (1, 2, 7, 5, 6), (3, 2, 3, 2, 3), {"padding": "same", "stride": 2}),
    Case("3-D groups dilation replicate", (1, 4, 6, 7, 5), (4, 2, 2, 3, 2),
         {"groups": 2, "dilation": (1, 2, 1), "padding": (1, 2, 0), "padding_mode": "replicate"}),
    Case("3-D depthwise stride (1,2,2)", (2, 3, 4, 6, 6), (3, 1, 3, 3, 3), {"groups": 3, "stride": (1, 2, 2), "padding": 1}),
    Case("3-D pointwise", (2, 6, 3, 4, 5), (2, 6, 1, 1, 1), {}, bias=False),
    Case("3-D unbatched reflect", (2, 4, 5, 4), (3, 2, 2, 3, 3), {"padding": 1, "padding_mode": "reflect"}),
]

TRANSPOSED = [
    Case("1-D stride 2 output_padding 1", (2, 4, 6), (4, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, True),
    Case("1-D groups dilation", (2, 4, 5), (4, 2, 3), {"stride": 3, "groups": 2, "dilation": 2, "padding": 2}, True),
    Case("1-D same", (2, 3, 7), (3, 2, 4), {"stride": 2, "padding": "same"}, True),
    Case("2-D decoder stride 2", (2, 6, 4, 5), (6, 3, 4, 4), {"stride": 2, "padding": 1}, True),
    Case("2-D asymmetric crop", (1, 3, 4, 4), (3, 2, 3, 3), {"stride": (2, 1), "padding": ((0, 2), (1, 0))}, True),
    Case("2-D depthwise", (2, 4, 5, 5), (4, 1, 3, 3), {"groups": 4, "stride": 2}, True),
    Case("2-D same, kernel smaller than stride", (1, 2, 3, 4), (2, 3, 1, 2), {"stride": 3, "padding": "same"}, True),
    Case("2-D valid", (1, 2, 3, 4), (2, 3, 3, 3), {"stride": 2, "padding": "valid"}, True),
    Case("2-D unbatched", (3, 4, 4), (3, 2, 2, 2), {"stride": 2}, True),
    Case("3-D stride 2", (1, 3, 3, 4, 3), (3, 2, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": (1, 0, 1)}, True),
    Case("3-D groups dilation", (2, 4, 3, 3, 3), (4, 1, 2, 2, 2), {"groups": 2, "dilation": (2, 1, 1)}, True),
    # padding modes: the input continued beyond its border (which nn.ConvTransposeNd refuses, pytorch#46027)
    Case("1-D circular stride 2", (2, 3, 6), (3, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1,
                                                        "padding_mode": "circular"}, True),
    Case("1-D reflect dilation 2", (2, 2, 7), (2, 3, 3), {"dilation": 2, "padding": 1, "padding_mode": "reflect"}, True),
    Case("2-D replicate decoder", (1, 4, 4, 5), (4, 2, 4, 4), {"stride": 2, "padding": 1, "padding_mode": "replicate"},
         True),
    Case("2-D reflect same groups", (2, 4, 5, 4), (4, 1, 3, 3), {"stride": 2, "padding": "same", "groups": 2,
                                                                "padding_mode": "reflect"}, True),
    Case("3-D circular", (1, 2, 3, 4, 3), (2, 2, 3, 3, 2), {"stride": (1, 2, 1), "padding": 1,
                                                           "padding_mode": "circular"}, True),
]


def _to_layout(a, channels_last, rank):
    return np.ascontiguousarray(np.moveaxis(a, -(rank + 1), -1)) if channels_last else a


def _run(fw, case, x, w, b, method, channels_last, dtype="float64"):
    arrays = [None if a is None else fw.asarray(a, dtype) for a in (_to_layout(x, channels_last, case.rank), w, b)]
    function = xpconv.conv_transpose if case.transpose else xpconv.conv
    layout = "channels_last" if channels_last else "channels_first"
    return function(*arrays, data_format=layout, method=method, **case.options)


@pytest.mark.parametrize("channels_last", [False, True], ids=["channels_first", "channels_last"])
@pytest.mark.parametrize("case", FORWARD + TRANSPOSED, ids=str)
def test_every_rank_against_the_oracle(fw, case, channels_last):
    x, w, b = case.data()
    expected = _to_layout(case.oracle(x, w, b), channels_last, case.rank)
    magnitude = _to_layout(case.oracle(x, w, b, absolute=True), channels_last, case.rank)
    for method in methods(fw):
        y = _run(fw, case, x, w, b, method, channels_last)
        assert_close(fw, y, expected, dtype="float64", magnitude=magnitude, reduction_length=case.length())


@pytest.mark.parametrize("case", [c for c in FORWARD + TRANSPOSED if c.rank != 2][:6] + TRANSPOSED[3:4], ids=str)
def test_float32_every_rank(fw, case):
    x, w, b = (None if a is None else a.astype(np.float32).astype(np.float64) for a in case.data())
    for method in methods(fw):
        y = _run(fw, case, x, w, b, method, False, "float32")
        assert_close(fw, y, case.oracle(x, w, b), dtype="float32", magnitude=case.oracle(x, w, b, absolute=True),
                     reduction_length=case.length())


COMPLEX = [FORWARD[1], FORWARD[6], FORWARD[9], TRANSPOSED[0], TRANSPOSED[3], TRANSPOSED[9]]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("case", COMPLEX, ids=str)
def test_complex_against_the_complex_oracle(fw, case, dtype):
    """``sum(x · w)``, no conjugation (PyTorch's convention); TensorFlow through the portable kernel."""
    x, w, b = case.data(dtype)
    if dtype == "complex64":
        x, w, b = (a.astype(np.complex64).astype(np.complex128) for a in (x, w, b))
    for method in methods(fw):
        if method == "native" and not fw.backend.native_takes(fw.dtype(dtype)):
            with pytest.raises(ValueError, match="does not support dtype complex"):
                _run(fw, case, x, w, b, method, False, dtype)
            continue
        y = _run(fw, case, x, w, b, method, False, dtype)
        assert_close(fw, y, case.oracle(x, w, b), dtype=dtype, magnitude=case.oracle(x, w, b, absolute=True),
                     reduction_length=case.length())


def test_complex_promotes_with_real(fw):
    x = fw.asarray(np.ones((1, 2, 5)), "complex64")
    w = fw.asarray(np.ones((3, 2, 2)), "float64")
    y = xpconv.conv(x, w, method="portable")
    assert_close(fw, y, np.full((1, 3, 4), 4.0), dtype="complex128")


# -- the oracle is PyTorch's semantics ------------------------------------------------------------
@pytest.mark.needs("torch")
@pytest.mark.parametrize("case", FORWARD + TRANSPOSED, ids=str)
def test_the_oracle_is_pytorchs_semantics(case):
    """The oracle against torch's own modules and functions (nn.ConvNd(padding_mode=...), conv_transposeNd)."""
    import torch

    functional = torch.nn.functional
    x, w, b = case.data()
    plan = case.plan()
    xt, wt, bt = (None if a is None else torch.asarray(a) for a in (x, w, b))
    if not plan.batched:
        xt = xt[None]
    if case.transpose:
        pads = [a for a, _ in plan.padding]
        more = [0] * case.rank
        if plan.padding_mode != "zeros":  # torch's F.pad continues the input, by d·(k-1): more than is read
            more = [d * (k - 1) for d, k in zip(plan.dilation, plan.kernel)]
            xt = functional.pad(xt, [m for m in reversed(more) for _ in "ab"], mode=plan.padding_mode)
        full = getattr(functional, f"conv_transpose{case.rank}d")(xt, wt, bt, plan.stride, 0, plan.output_padding,
                                                                   plan.groups, plan.dilation)
        crop = tuple(slice(a + m * s, a + m * s + n) for (a, _), n, m, s in zip(plan.padding, plan.out_size, more,
                                                                               plan.stride))
        y = full[(slice(None), slice(None), *crop)]
        if all(a == c for a, c in plan.padding) and plan.padding_mode == "zeros":  # torch's own padding argument
            y2 = getattr(functional, f"conv_transpose{case.rank}d")(xt, wt, bt, plan.stride, pads, plan.output_padding,
                                                                    plan.groups, plan.dilation)
            np.testing.assert_allclose(y2.numpy(), y.numpy(), rtol=0, atol=1e-12)
    else:
        if plan.padding_mode != "zeros" and all(a == c for a, c in plan.padding):
            module = getattr(torch.nn, f"Conv{case.rank}d")(
                plan.in_channels, plan.out_channels, plan.kernel, plan.stride, [a for a, _ in plan.padding],
                plan.dilation, plan.groups, padding_mode=plan.padding_mode, dtype=torch.float64)
            module.weight.data, module.bias.data = wt, bt  # every module case has a bias
            y = module(xt).detach()
        else:
            mode = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}
            padded = functional.pad(xt, [p for pair in reversed(plan.padding) for p in pair], mode=mode[plan.padding_mode])
            y = getattr(functional, f"conv{case.rank}d")(padded, wt, bt, plan.stride, 0, plan.dilation, plan.groups)
    expected = case.oracle(x, w, b)
    np.testing.assert_allclose(y.numpy() if plan.batched else y[0].numpy(), expected, rtol=0, atol=1e-12)


@pytest.mark.needs("tensorflow")
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize(("size", "kernel", "stride"), [(5, 3, 2), (4, 4, 2), (3, 1, 3), (6, 2, 3), (4, 5, 1)])
def test_transposed_same_and_valid_are_tensorflows(padding, size, kernel, stride):
    """"same"/"valid" mean what they mean in tf.nn.conv2d_transpose (with Keras' output size for "valid")."""
    import tensorflow as tf

    rng = np.random.default_rng(size * 10 + kernel)
    x = rng.standard_normal((2, 3, size, size + 1))
    w = rng.standard_normal((3, 4, kernel, kernel))
    out = [n * stride + (max(kernel - stride, 0) if padding == "VALID" else 0) for n in (size, size + 1)]
    expected = tf.nn.conv2d_transpose(
        tf.constant(np.moveaxis(x, 1, -1)), tf.constant(np.transpose(w, (2, 3, 1, 0))), [2, *out, 4], stride,
        padding=padding).numpy()
    for method in ("portable", "auto", "native"):
        y = xpconv.conv_transpose(tf.constant(x), tf.constant(w), stride=stride, padding=padding.lower(), method=method)
        np.testing.assert_allclose(np.moveaxis(y.numpy(), 1, -1), expected, rtol=0, atol=1e-12)


# -- transposed = the gradient of conv with respect to its input ------------------------------------
def _input_gradient(name, x, w, g, options):
    """``d/dx sum(conv(x, w) * g)`` through each framework's autodiff and xpconv.conv (native method)."""
    if name == "torch":
        import torch

        xt = torch.asarray(x).requires_grad_(True)
        (xpconv.conv(xt, torch.asarray(w), method="native", **options) * torch.asarray(g)).sum().backward()
        return xt.grad.numpy()
    if name == "jax":
        import jax
        import jax.numpy as jnp

        return np.asarray(jax.grad(lambda a: jnp.sum(xpconv.conv(a, jnp.asarray(w), method="native", **options)
                                                     * jnp.asarray(g)))(jnp.asarray(x)))
    if name == "mxnet":
        import mxnet as mx

        xm = mx.np.array(x, dtype=x.dtype)
        xm.attach_grad()
        with mx.autograd.record():
            loss = (xpconv.conv(xm, mx.np.array(w, dtype=w.dtype), method="native", **options)
                    * mx.np.array(g, dtype=g.dtype)).sum()
        loss.backward()
        return xm.grad.asnumpy()
    import tensorflow as tf

    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(xpconv.conv(xt, tf.constant(w), method="native", **options) * tf.constant(g))
    return tape.gradient(loss, xt).numpy()


@pytest.mark.parametrize("case", [c for c in FORWARD if c.options.get("padding_mode", "zeros") == "zeros"
                                  and isinstance(c.options.get("padding", 0), (int, tuple))
                                  and len(c.x_shape) == c.rank + 2], ids=str)
def test_transpose_is_the_gradient_of_conv(native_fw, case):
    """``conv_transpose(g, w)`` equals the input gradient of ``sum(conv(x, w) · g)`` from the framework's autodiff,
    with the output padding that gives back x's size."""
    x, w, _ = case.data()
    plan = case.plan()
    g = np.random.default_rng(5).standard_normal((plan.batch, plan.out_channels, *plan.out_size))
    options = {k: v for k, v in case.options.items() if k != "padding_mode"}
    expected = _input_gradient(native_fw.name, x, w, g, options)
    extra = tuple(n - ((o - 1) * s - sum(p) + d * (k - 1) + 1)  # docs/guide/options.md's transposed size, without output padding
                  for n, o, k, s, d, p in zip(plan.in_size, plan.out_size, plan.kernel, plan.stride, plan.dilation,
                                              plan.padding))
    options = {**options, "padding": plan.padding}
    for method in methods(native_fw):
        y = xpconv.conv_transpose(native_fw.asarray(g), native_fw.asarray(w), output_padding=extra, method=method,
                                  **options)
        np.testing.assert_allclose(native_fw.to_numpy(y), expected, rtol=0, atol=1e-11)


# -- rank-specific entry points, errors, costs --------------------------------------------------------
@pytest.mark.needs("numpy")
def test_rank_specific_functions_are_conv():
    rng = np.random.default_rng(3)
    for rank, function, transposed in ((1, xpconv.conv1d, xpconv.conv_transpose1d), (2, xpconv.conv2d, xpconv.conv_transpose2d),
                                       (3, xpconv.conv3d, xpconv.conv_transpose3d)):
        x = rng.standard_normal((2, 4, *(5,) * rank))
        w = rng.standard_normal((4, 2, *(3,) * rank))
        np.testing.assert_array_equal(function(x, w, padding=1, groups=2), xpconv.conv(x, w, padding=1, groups=2))
        np.testing.assert_array_equal(transposed(x, w, stride=2), xpconv.conv_transpose(x, w, stride=2))
        last = np.moveaxis(x, 1, -1)
        explicit = {1: "NWC", 2: "NHWC", 3: "NDHWC"}[rank]
        np.testing.assert_array_equal(function(last, w, groups=2, data_format=explicit),
                                      function(last, w, groups=2, data_format="channels_last"))
        with pytest.raises(ValueError, match=rf"weight must be a {rank + 2}-D array for data_format="):
            function(x, w[..., 0] if rank > 1 else w[..., None])


@pytest.mark.parametrize(("call", "error", "pattern"), [
    (lambda x3, w3: xpconv.conv(x3, w3, data_format="NCHW"), ValueError, r"weight must be a 4-D array for data_format='NCHW'"),
    (lambda x3, w3: xpconv.conv(x3, w3, stride=(1, 2)), ValueError, r"stride must be an int or 1 int \(one per spatial axis\) for a 1-D convolution"),
    (lambda x3, w3: xpconv.conv(x3, w3, padding=((1, 1), (1, 1))), ValueError, r"padding must have one \(before, after\) pair per spatial axis: 1"),
    (lambda x3, w3: xpconv.conv(x3, w3, padding_mode="mirror"), ValueError, r"padding_mode must be one of \('zeros', 'reflect', 'replicate', 'circular'\)\. Received: padding_mode='mirror'"),
    (lambda x3, w3: xpconv.conv(x3, w3, padding=5, padding_mode="reflect"), ValueError, r"padding_mode='reflect' needs padding smaller than the input size on each axis\. Received: padding \(5, 5\) on spatial axis 0 of size 5"),
    (lambda x3, w3: xpconv.conv(x3, w3, padding=6, padding_mode="circular"), ValueError, r"padding_mode='circular' needs padding at most the input size"),
    (lambda x3, w3: xpconv.conv_transpose(x3, w3, dilation=3, padding_mode="reflect"), ValueError, r"padding_mode='reflect' on a transposed convolution extends the input by \(d·\(k-1\) - padding\) // stride elements on each end .*smaller than the input size\. Received: extension \(6, 6\) on spatial axis 0 of size 5"),
    (lambda x3, w3: xpconv.conv_transpose(x3, w3, stride=2, output_padding=2), ValueError, r"output_padding must be smaller than the stride or the dilation on each axis\. Received: output_padding=2"),
    (lambda x3, w3: xpconv.conv_transpose(x3, w3, padding="same", output_padding=1, stride=2), ValueError, r"output_padding must be 0 with padding='valid', 'same' or 'same_lower' \(which fix the output size: i·s for 'same'\)"),
    (lambda x3, w3: xpconv.conv_transpose(x3, w3, padding=9), ValueError, r"The transposed convolution's output must have at least one element"),
    (lambda x3, w3: xpconv.conv_transpose(x3, w3[:3, ...]), ValueError, r"The number of input channels must match weight\.shape\[0\] \(weight shape \(C_in, C_out/groups, kW\)\)"),
    (lambda x3, w3: xpconv.conv_transpose(x3, w3, groups=3), ValueError, r"groups must divide the number of input channels"),
    (lambda x3, w3: xpconv.conv(x3, w3[:, :, :, None, None, None]), ValueError, r"weight must be a 3-D, 4-D or 5-D array"),
    (lambda x3, w3: xpconv.conv(x3, w3, output_padding=1), TypeError, r"output_padding"),
])
def test_nd_errors_name_the_argument(fw, call, error, pattern):
    x3 = fw.asarray(np.ones((2, 4, 5)), "float32")
    w3 = fw.asarray(np.ones((4, 4, 3)), "float32")
    with pytest.raises(error, match=pattern):
        call(x3, w3)


@pytest.mark.needs("numpy")
@pytest.mark.parametrize("case", FORWARD + TRANSPOSED, ids=str)
def test_conv_cost_matches_the_result(case):
    x, w, b = case.data()
    y = (xpconv.conv_transpose if case.transpose else xpconv.conv)(x, w, b, **case.options)
    options = {k: v for k, v in case.options.items() if k != "padding_mode"}
    cost = xpconv.conv_cost(x.shape, w.shape, transpose=case.transpose, bias=case.bias, **options)
    assert cost.output_shape == y.shape
    assert cost.params == w.size + (0 if b is None else b.size)
    plan = case.plan()
    if case.transpose:  # what the forward convolution it is the gradient of costs
        expected = plan.batch * plan.in_channels * np.prod(plan.in_size) * plan.out_channels // plan.groups * plan.taps
    else:
        expected = plan.batch * plan.out_channels * np.prod(plan.out_size) * plan.in_channels // plan.groups * plan.taps
    assert cost.macs == expected and cost.flops == 2 * expected


# -- hypothesis: ranks, options and layouts against the oracle ------------------------------------------
@st.composite
def nd_cases(draw):
    rank = draw(st.integers(1, 3))
    transpose = draw(st.booleans())
    groups = draw(st.sampled_from([1, 2]))
    c_in, per_out = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    extents = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    sizes = tuple(draw(st.integers(max(1, e - 2), e + 4)) for e in extents)
    if transpose:
        padding = draw(st.one_of(st.sampled_from(["same", "valid"]),
                                 st.tuples(*(st.tuples(st.integers(0, e // 2), st.integers(0, e // 2)) for e in extents))))
        extra = 0 if isinstance(padding, str) else tuple(
            draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        options = {"stride": stride, "dilation": dilation, "groups": groups, "padding": padding, "output_padding": extra}
        w_shape = (c_in, per_out, *kernel)
        mode = "zeros"
    else:
        mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
        limit = [n - 1 if mode == "reflect" else n if mode == "circular" else 3 for n in sizes]
        pairs = tuple((draw(st.integers(0, min(2, m))), draw(st.integers(0, min(2, m)))) for m in limit)
        pairs = tuple((a + max(0, e - n - a - b), b) for (a, b), e, n in zip(pairs, extents, sizes))  # the kernel fits
        if mode in ("reflect", "circular") and any(a > m or b > m for (a, b), m in zip(pairs, limit)):
            mode = "zeros"
        padding = draw(st.sampled_from([pairs, "same"])) if mode == "zeros" or all(
            (e - 1) // 2 + 1 <= m for e, m in zip(extents, limit)) else pairs
        options = {"stride": stride, "dilation": dilation, "groups": groups, "padding": padding, "padding_mode": mode}
        w_shape = (per_out * groups, c_in // groups, *kernel)
    batched = draw(st.booleans())
    x_shape = ((2,) if batched else ()) + (c_in, *sizes)
    case = Case("drawn", x_shape, w_shape, options, transpose, bias=draw(st.booleans()))
    try:
        case.plan()
    except ValueError:
        from hypothesis import assume

        assume(False)
    return case, draw(st.booleans()), draw(st.sampled_from(["portable", "auto", "native"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=nd_cases())
def test_hypothesis_nd_against_the_oracle(fw, drawn):
    case, channels_last, method = drawn
    if method == "native" and not fw.has_native:
        method = "auto"
    x, w, b = case.data(seed=7)
    y = _run(fw, case, x, w, b, method, channels_last)
    assert_close(fw, y, _to_layout(case.oracle(x, w, b), channels_last, case.rank), dtype="float64",
                 magnitude=_to_layout(case.oracle(x, w, b, absolute=True), channels_last, case.rank),
                 reduction_length=case.length())
