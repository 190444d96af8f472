"""Issue 8, item 10: a fuzz test. Hypothesis perturbs one argument of a valid call with a value
from a zoo (negative, zero, bool, float, None, huge, nested, wrong length, NumPy ints, strings,
and the dtype zoo), on every backend. It fails on any exception other than a ValueError or
TypeError whose message names the perturbed argument, on any wrong number (against the float64
oracle, options read by the test's own rules) and on any modified input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import xpconv
from xpconv.testing import assert_close

from conv_cases import Problem, explicit_padding
from matrix import methods

HUGE = [2**31, 2**40, 2**64, -(2**63)]
SCALARS = st.one_of(
    st.integers(-3, 4), st.sampled_from([True, False, None, 1.5, 2.0, float("nan"), "2", "same", "valid", "full", b"1"]),
    st.sampled_from(HUGE), st.sampled_from([np.int64(2), np.int32(1), np.uint8(3), np.float32(1.0), np.bool_(True)]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, min_size=0, max_size=3).map(tuple),
    st.lists(st.lists(st.integers(-1, 3), min_size=0, max_size=3), min_size=0, max_size=3),
    st.sampled_from([{}, {"a": 1}, [[0, 1], [1]], ((0, 1), (1, 0)), ((1, 1),), "NHWC", "NCHW", ["NCHW"], "auto",
                     "native", "portable", object()]),
)
#: The x dtypes drawn: every one the library has, in the backend's table (computed) or not (refused).
FUZZ_DTYPES = ("int8", "uint8", "uint16", "uint32", "int32", "int64", "uint64", "float16", "bfloat16", "float32",
               "float64", "float128", "bool", "complex64")
ARGUMENTS = ["stride", "padding", "dilation", "groups", "data_format", "method", "out_dtype", "x dtype", "x shape",
             "weight shape"]


def _pair(v):
    return (int(v), int(v)) if np.ndim(v) == 0 else tuple(int(a) for a in v)


def _make(fw, a: np.ndarray, dtype: str):
    made = fw.array_of(dtype, a)
    assert made is not None, dtype
    return made


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_one_argument_at_a_time(fw, data):
    argument = data.draw(st.sampled_from(ARGUMENTS), label="argument")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    kwargs = {"stride": 1, "padding": 1, "dilation": 1, "groups": 2, "data_format": "NCHW", "method": "auto"}
    x_shape, w_shape, dtype = (2, 4, 6, 5), (6, 2, 3, 3), "float64"
    if argument in kwargs or argument == "out_dtype":
        kwargs[argument] = data.draw(VALUES, label=argument)
    elif argument == "x dtype":
        dtype = data.draw(st.sampled_from([n for n in FUZZ_DTYPES if fw.array_of(n, np.zeros(1)) is not None]),
                          label="dtype")
    elif argument == "x shape":
        x_shape = tuple(data.draw(st.lists(st.integers(0, 7), min_size=0, max_size=5), label="x shape"))
    else:
        w_shape = tuple(data.draw(st.lists(st.integers(0, 4), min_size=0, max_size=5), label="weight shape"))
    integer = not dtype.startswith(("float", "bfloat", "complex", "long"))
    x_np = rng.integers(0, 2, x_shape).astype(np.float64) if integer else rng.standard_normal(x_shape)
    w_np = rng.integers(0, 2, w_shape).astype(np.float64) if integer else rng.standard_normal(w_shape)
    x = _make(fw, x_np, dtype)
    w = _make(fw, w_np, "float64" if not integer else dtype)
    x_before = np.array(fw.to_numpy(x), dtype=np.float64, copy=True) if dtype not in ("bool", "complex64") else None
    try:
        y = xpconv.conv2d(x, w, **kwargs)
    except (ValueError, TypeError) as error:
        name = argument.split()[0]
        assert name in str(error) or (name == "x" and "input channels" in str(error)) or (
            name == "weight" and ("kernel" in str(error) or "groups" in str(error))), (argument, str(error))
        return
    # it ran: the numbers must be right, by the test's own reading of the options
    if x_before is not None:
        np.testing.assert_array_equal(np.asarray(fw.to_numpy(x), dtype=np.float64), x_before)
    options = {k: kwargs[k] for k in ("stride", "dilation", "groups")}
    stride, dilation = _pair(options["stride"]), _pair(options["dilation"])
    layout = kwargs["data_format"].upper()
    x_nchw = x_np if layout == "NCHW" else np.moveaxis(x_np, -1, -3)
    batched = x_nchw.ndim == 4
    x4 = x_nchw if batched else x_nchw[None]
    padding = kwargs["padding"]
    padding = padding.lower() if isinstance(padding, str) else (
        _pair(padding) if np.ndim(padding) == 0 or np.ndim(padding) == 1 else tuple(_pair(p) for p in padding))
    pads = explicit_padding(padding, x4.shape[2], x4.shape[3], w_shape[2:], stride, dilation)
    if dtype in ("float16", "bfloat16", "float32", "complex64"):  # x was rounded to it, then is promoted
        # the oracle reads the values the framework holds: its own rounding of x_np (PyTorch rounds float64
        # to float16 through float32, one ulp off NumPy's direct rounding on rare values: seed 47640)
        held = np.asarray(fw.to_numpy(x)).real.astype(np.float64)
        x4 = held if layout == "NCHW" else np.moveaxis(held, -1, -3)
        x4 = x4 if batched else x4[None]
    problem = Problem(x4, w_np, None,
                      {"stride": stride, "padding": pads, "dilation": dilation, "groups": int(options["groups"])},
                      batched=batched, data_format=layout)
    expected = problem.oracle()
    out = str(kwargs.get("out_dtype") or "")
    result_dtype = out if out in ("float32", "float64", "int32", "int64") else (
        "float64" if dtype in ("float16", "bfloat16", "float32") else "complex128" if dtype == "complex64" else dtype)
    assert_close(fw, y, expected, dtype=result_dtype, magnitude=problem.oracle(absolute=True),
                 reduction_length=problem.reduction_length)


@st.composite
def _geometries(draw):
    """Small N-D geometries, forward or transposed, including the ones that found issue 15's
    items 3 and 4: crops beyond the uncropped output, windows that read only padding, strides
    over the input, and sizes the kernel or the padding mode does not fit (which must be refused)."""
    rank = draw(st.integers(1, 3), label="rank")
    transposed = draw(st.booleans(), label="transposed")
    sizes = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank), label="sizes")
    kernel = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank), label="kernel")
    stride = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank), label="stride")
    dilation = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank), label="dilation")
    pads = draw(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=rank, max_size=rank), label="pads")
    groups = draw(st.sampled_from([1, 2]), label="groups")
    options = {"stride": tuple(stride), "dilation": tuple(dilation), "padding": tuple(pads), "groups": groups}
    if transposed:
        options["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    else:
        options["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]), label="mode")
    return rank, transposed, tuple(sizes), tuple(kernel), options


def _expected_geometry(rank, transposed, sizes, kernel, options):
    """The output-size formula of docs/guide/options.md and PyTorch's padding-mode limits, read by the test itself:
    the output sizes, or the phrases a refusal may contain (any of them: each is a reason)."""
    out, reasons = [], []
    for n, k, s, d, (p0, p1), i in zip(sizes, kernel, options["stride"], options["dilation"], options["padding"],
                                       range(rank)):
        if transposed:
            size = (n - 1) * s - p0 - p1 + d * (k - 1) + options["output_padding"][i] + 1
            if size < 1:
                reasons.append("output must have at least one element")
        else:
            mode = options["padding_mode"]
            if mode == "reflect" and max(p0, p1) >= n:
                reasons.append("needs padding smaller than the input size")
            if mode == "circular" and max(p0, p1) > n:
                reasons.append("needs padding at most the input size")
            if n + p0 + p1 < d * (k - 1) + 1:
                reasons.append("kernel must not be larger than the padded input")
            size = (n + p0 + p1 - d * (k - 1) - 1) // s + 1
        out.append(size)
    return "|".join(reasons) if reasons else tuple(out)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geometry=_geometries(), seed=st.integers(0, 2**16))
def test_fuzz_small_geometries_against_the_oracle(fw, geometry, seed):
    from xpconv.testing import conv_oracle, conv_transpose_oracle

    rank, transposed, sizes, kernel, options = geometry
    rng = np.random.default_rng(seed)
    groups = options["groups"]
    x, w, b = rng.standard_normal((1, 2, *sizes)), rng.standard_normal((2, 2 // groups, *kernel)), rng.standard_normal(2)
    expected = _expected_geometry(rank, transposed, sizes, kernel, options)
    function = xpconv.conv_transpose if transposed else xpconv.conv
    arrays = [fw.asarray(a, "float64") for a in (x, w, b)]
    if isinstance(expected, str):
        for method in methods(fw):
            with pytest.raises(ValueError, match=expected):
                function(*arrays, method=method, **options)
        return
    common = {k: options[k] for k in ("stride", "dilation", "padding", "groups")}
    if transposed:
        oracle = [conv_transpose_oracle(x, w, b, output_padding=options["output_padding"], absolute=a, **common)
                  for a in (False, True)]
    else:
        oracle = [conv_oracle(x, w, b, padding_mode=options["padding_mode"], absolute=a, **common) for a in (False, True)]
    assert oracle[0].shape[2:] == expected
    for method in methods(fw):
        y = function(*arrays, method=method, **options)
        assert_close(fw, y, oracle[0], dtype="float64", magnitude=oracle[1],
                     reduction_length=2 // groups * int(np.prod(kernel)))


@pytest.mark.needs("tensorflow")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geometry=_geometries(), seed=st.integers(0, 2**16), method=st.sampled_from(["auto", "native", "portable"]))
# found by this test: a crop that empties the zero-inserted input, padded after (an empty axis was broadcast) ...
@example(geometry=(3, True, (2, 1, 1), (1, 1, 1), {"stride": (3, 1, 1), "dilation": (1, 1, 1), "groups": 1,
                                                   "padding": ((4, 0), (0, 0), (0, 0)), "output_padding": (1, 0, 0)}),
         seed=0, method="portable")
# ... and one that reaches past it into the padding on the other side (the crop alone gave the wrong length)
@example(geometry=(1, True, (2,), (1,), {"stride": (3,), "dilation": (1,), "groups": 1, "padding": ((5, 0),),
                                         "output_padding": (2,)}), seed=1, method="portable")
def test_fuzz_tf_function_with_unknown_sizes_agrees_with_eager(geometry, seed, method):
    """Issue 15, item 4: inside tf.function with unknown spatial sizes, what eager mode refuses is
    an error with the same reason, and what it computes is the same result."""
    import tensorflow as tf

    rank, transposed, sizes, kernel, options = geometry
    rng = np.random.default_rng(seed)
    groups = options["groups"]
    x = tf.constant(rng.standard_normal((1, 2, *sizes)))
    w = tf.constant(rng.standard_normal((2, 2 // groups, *kernel)))
    function = xpconv.conv_transpose if transposed else xpconv.conv

    def call(x):
        return function(x, w, method=method, **options)

    traced = tf.function(call, input_signature=[tf.TensorSpec((1, 2, *(None,) * rank), tf.float64)])
    expected = _expected_geometry(rank, transposed, sizes, kernel, options)
    if isinstance(expected, str):
        with pytest.raises(tf.errors.InvalidArgumentError, match=expected):
            traced(x)
        return
    np.testing.assert_allclose(traced(x).numpy(), call(x).numpy(), rtol=1e-12, atol=1e-12)
