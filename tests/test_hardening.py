"""Issue 8: each finding of the fuzzing campaign, as a test that failed before the fix."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

import xpconv
from xpconv import _spec, backends
from xpconv._cache import LRUCache

from assertions import assert_array, assert_close
from conv_cases import Problem, random_problem
from frameworks import FRAMEWORKS, methods

LIMIT = 2**31 - 1


# -- 1. precision ------------------------------------------------------------------------------
@pytest.mark.needs("numpy")
@pytest.mark.parametrize("method", ["portable", "auto"])
def test_big_endian_float64_is_computed_in_float64(method):
    problem = random_problem(np.random.default_rng(1), padding=1, stride=2)
    big = [a.astype(">f8") for a in (problem.x, problem.w, problem.b)]
    before = [a.copy() for a in big]
    y = xpconv.conv2d(*big, padding=1, stride=2, method=method)
    assert y.dtype == np.float64 and y.dtype.isnative
    np.testing.assert_allclose(y, problem.oracle(), rtol=1e-13, atol=1e-13)  # was 1.6e-6: float32 inside
    for a, b in zip(big, before):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype  # inputs untouched, byte order included
    one_by_one = xpconv.corr2d_multi_in_out_1x1(big[0][0], big[1][:, :, :1, :1])
    assert one_by_one.dtype == np.float64
    np.testing.assert_allclose(one_by_one, np.einsum("chw,oc->ohw", problem.x[0], problem.w[:, :, 0, 0]), rtol=1e-13)


@pytest.mark.needs("numpy")
def test_long_double_is_refused_naming_the_argument():
    x = np.ones((1, 2, 4, 4), np.longdouble)
    if np.dtype(np.longdouble) == np.float64:
        pytest.fail("unreachable on x86-64 Linux, where long double is 80-bit")  # pragma: no cover
    with pytest.raises(TypeError, match=r"x must have a dtype the numpy backend computes .*Received: x with dtype float\d+; long double is not computed: convert to float64"):
        xpconv.conv2d(x, np.ones((1, 2, 2, 2)))


class _SpyNamespace:
    """The real namespace, recording the size of every array widened by ``astype``."""

    def __init__(self, xp):
        self._xp, self.widened = xp, []

    def __getattr__(self, name):
        return getattr(self._xp, name)

    def astype(self, a, dtype, **kwargs):
        if dtype == self._xp.float32 and a.dtype != self._xp.float32:
            self.widened.append(int(np.prod(a.shape)))
        return self._xp.astype(a, dtype, **kwargs)


@pytest.mark.needs("numpy")
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("options", [{"padding": 1}, {"stride": 2}, {"groups": 4, "padding": 1}, {}], ids=str)
def test_half_precision_is_widened_block_by_block(options, layout):
    """The portable kernel never converts the whole float16 input to float32 at once."""
    import array_api_compat.numpy as xp

    from xpconv import _portable

    kernel = (1, 1) if options == {} else (3, 3)
    groups = options.get("groups", 1)
    problem = random_problem(np.random.default_rng(2), n=2, c_in=4, c_out=4, hw=(16, 12), kernel=kernel, **options)
    problem.data_format = layout
    rounded = problem.rounded("float16")
    x = rounded.to_layout(rounded.x).astype(np.float16)
    plan = _spec.make_plan(_spec.make_options(options.get("stride", 1), options.get("padding", 0), 1, groups, layout),
                           x.shape, problem.w.shape, problem.b.shape)
    spy = _SpyNamespace(xp)
    y = _portable.conv(spy, x, rounded.w.astype(np.float16), rounded.b.astype(np.float16), plan, scratch_elements=600)
    assert y.dtype == np.float16
    assert max(spy.widened) < x.size, spy.widened  # weight and bias are small; x only ever in pieces
    assert_close(FRAMEWORKS["numpy"], y, rounded.oracle(), dtype="float16", magnitude=rounded.oracle(absolute=True),
                 reduction_length=problem.reduction_length)


# -- 2. limits -----------------------------------------------------------------------------------
LIMIT_CASES = [
    ({"padding": 2**31}, r"padding must be at most 2\*\*31 - 1 = 2147483647\. Received: padding=2147483648"),
    ({"padding": 2**64}, r"padding must be at most .* Received: padding=18446744073709551616"),
    ({"stride": 2**62}, r"stride must be at most .* Received: stride=4611686018427387904"),
    ({"dilation": 2**40}, r"dilation must be at most .* Received: dilation=1099511627776"),
    ({"padding": ((0, LIMIT), (0, 0))}, r"The padded input size must be below 2\*\*31 along each axis .*Received: padded input size 2147483650x3"),
    ({"dilation": 2**30 + 1, "padding": 2**30}, r"The padded input size must be below 2\*\*31 .*Received: padded input size 2147483651x2147483651"),
]


@pytest.mark.parametrize(("options", "pattern"), LIMIT_CASES, ids=lambda v: str(v)[:40])
def test_huge_values_are_refused_before_any_work(fw, options, pattern):
    """JAX aborted the process on padding=2**31 (XLA: overflow in static extent product);
    NumPy, JAX and TF leaked OverflowError and TypeError for others."""
    x, w = fw.asarray(np.ones((1, 1, 3, 3), np.float32)), fw.asarray(np.ones((1, 1, 3, 3), np.float32))
    for method in methods(fw):
        with pytest.raises(ValueError, match=pattern):
            xpconv.conv2d(x, w, method=method, **options)


# -- 3. dtypes -------------------------------------------------------------------------------------
REFUSED = {
    "numpy": ["bool", "float128"],
    "torch": ["bool", "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "complex32"],
    "jax": ["bool", "float8_e4m3fn", "float8_e5m2", "int4"],
    "tensorflow": ["bool", "uint64", "string"],
    "mxnet": ["bool"],  # MXNet has no complex, uint16-64 or bfloat16 arrays to refuse
    "array_api_strict": ["bool"],
    "dask": ["bool", "float128"],
}


def _array_of(fw, dtype_name, shape):
    if fw.name == "numpy":
        import ml_dtypes  # noqa: F401  (numpy's float8/int4 come from ml_dtypes, as jax's do)

        dtype = np.dtype(np.longdouble) if dtype_name == "float128" else np.dtype(dtype_name)
        return np.ones(shape, dtype)
    if fw.name == "dask":
        return fw.asarray(np.ones(shape, np.dtype(np.longdouble) if dtype_name == "float128" else np.dtype(dtype_name)))
    if fw.name == "tensorflow" and dtype_name == "string":
        return fw.m.fill(shape, "a")
    if fw.name == "tensorflow":
        return fw.m.ones(shape, getattr(fw.m, dtype_name))
    if fw.name == "torch":
        return fw.m.ones(shape).to(getattr(fw.m, dtype_name))
    if fw.name == "jax":
        return fw.jnp.ones(shape, getattr(fw.jnp, dtype_name))
    if fw.name == "mxnet":
        return fw.m.np.ones(shape, dtype=dtype_name)
    return fw.m.ones(shape, dtype=getattr(fw.m, dtype_name))


def test_dtypes_outside_the_table_are_refused_up_front(fw):
    """torch uint16-64 crashed in bmm, TF uint64 had no CPU kernel, float8 and int4 gave wrong sums."""
    for name in REFUSED[fw.name]:
        x = _array_of(fw, name, (1, 2, 3, 3))
        for method in methods(fw):
            with pytest.raises(TypeError, match=r"^x must have a .*dtype.*Received: x with dtype \w+"):
                xpconv.conv2d(x, x[:1, :, :2, :2] if fw.name != "tensorflow" else x, method=method)


def test_every_dtype_in_the_table_computes_exactly(fw):
    """The README's table: each accepted dtype gives the right sums, on every method."""
    table = backends.get_backend(fw.name).dtypes
    x = np.arange(2 * 3 * 3).reshape(1, 2, 3, 3) % 4
    w = np.ones((1, 2, 2, 2))
    expected = np.array([[[[8, 12], [12, 8]]]])
    np.testing.assert_array_equal(Problem(x.astype(float), w, None).oracle(), expected)
    for name in sorted(table):
        for method in methods(fw):
            if method == "native" and not backends.get_backend(fw.name).native_supports(fw.dtype(name)):
                continue  # refused with a ValueError, tested elsewhere
            y = xpconv.conv2d(fw.asarray(x, name), fw.asarray(w, name), method=method)
            assert_array(fw, y, dtype=name, shape=(1, 1, 2, 2))
            np.testing.assert_array_equal(fw.to_numpy(y), expected, err_msg=f"{name} {method}")


@pytest.mark.needs("numpy")
@pytest.mark.needs("jax")
def test_dtype_acceptance_does_not_depend_on_call_order():
    """NumPy and JAX share ml_dtypes' bfloat16: one backend's answer must not decide the other's."""
    import jax.numpy as jnp
    import ml_dtypes

    numpy_bf16 = np.ones((1, 1, 3, 3), ml_dtypes.bfloat16)
    jax_bf16 = jnp.ones((1, 1, 3, 3), jnp.bfloat16)
    for _ in range(2):  # NumPy first, then JAX, then NumPy again
        with pytest.raises(TypeError, match=r"^x must have a .*Received: x with dtype bfloat16$"):
            xpconv.conv2d(numpy_bf16, numpy_bf16)
        assert xpconv.conv2d(jax_bf16, jax_bf16).dtype == jnp.bfloat16


def test_mixed_kinds_follow_one_rule_everywhere(fw):
    """The float wins (as in torch and JAX) on every backend; array_api_strict refused it."""
    x = fw.asarray(np.ones((1, 2, 3, 3)), "int64")
    w = fw.asarray(np.ones((1, 2, 2, 2)), "int64")
    b = fw.asarray(np.full((1,), 0.5), "float64")
    for method in ["portable", "auto"]:
        y = xpconv.conv2d(x, w, b, method=method)
        assert_array(fw, y, dtype="float64", shape=(1, 1, 2, 2))
        np.testing.assert_array_equal(fw.to_numpy(y), np.full((1, 1, 2, 2), 8.5))
    small = "int16" if fw.has_dtype("int16") else "int8"  # MXNet has no int16
    y = xpconv.conv2d(fw.asarray(np.ones((1, 2, 3, 3)), small), fw.asarray(np.ones((1, 2, 2, 2)), "float32"))
    assert_array(fw, y, dtype="float32", shape=(1, 1, 2, 2))


# -- 4. out_dtype ---------------------------------------------------------------------------------
def test_int8_with_out_dtype_int32_is_exact(fw):
    """int8 100·100·36 wrapped to 64 on every backend; with out_dtype=int32 it is 360000."""
    x = fw.asarray(np.full((1, 1, 6, 6), 100), "int8")
    w = fw.asarray(np.full((1, 1, 6, 6), 100), "int8")
    wrapped = xpconv.conv2d(x, w)
    assert_array(fw, wrapped, dtype="int8", shape=(1, 1, 1, 1))
    assert int(fw.to_numpy(wrapped).ravel()[0]) == 64  # documented: integers wrap in their own dtype
    for method in methods(fw):
        if method == "native" and fw.name in ("torch", "tensorflow", "mxnet"):
            with pytest.raises(ValueError, match=rf"the {fw.name} convolution does not support dtype int32\. Received: x with dtype int8, out_dtype=int32"):
                xpconv.conv2d(x, w, method=method, out_dtype="int32")
            continue
        for out in ("int32", fw.dtype("int32") if fw.name != "jax" else fw.jnp.int32):
            y = xpconv.conv2d(x, w, method=method, out_dtype=out)
            assert_array(fw, y, dtype="int32", shape=(1, 1, 1, 1))
            assert int(fw.to_numpy(y).ravel()[0]) == 360000
    u = fw.asarray(np.full((1, 2, 4, 4), 255), "uint8")
    y = xpconv.conv2d(u, u[:, :, :3, :3], out_dtype="int32")
    assert_array(fw, y, dtype="int32", shape=(1, 1, 2, 2))
    np.testing.assert_array_equal(fw.to_numpy(y), np.full((1, 1, 2, 2), 255 * 255 * 18))


HALF = {"numpy": ["float16"], "torch": ["float16", "bfloat16"], "jax": ["float16", "bfloat16"],
        "tensorflow": ["float16", "bfloat16"], "mxnet": ["float16"], "array_api_strict": [], "dask": ["float16"]}


def test_half_precision_with_out_dtype_float32_has_no_half_rounding(fw):
    problem = random_problem(np.random.default_rng(4), c_in=8, hw=(6, 6), padding=1, bias=True)
    for half in HALF[fw.name]:
        rounded = problem.rounded(half)
        x, w, b = rounded.arrays(fw, half)
        for method in methods(fw):
            y = xpconv.conv2d(x, w, b, padding=1, method=method, out_dtype="float32")
            # float32 tolerance: a float16 rounding of the result would be ~1000x outside it
            assert_close(fw, y, rounded.oracle(), dtype="float32", magnitude=rounded.oracle(absolute=True),
                         reduction_length=problem.reduction_length)


@pytest.mark.parametrize(("dtype", "out", "pattern"), [
    ("float32", "int32", r"out_dtype must hold every value of the inputs' dtype .*Received: out_dtype=int32 for inputs of dtype float32"),
    ("int32", "int8", r"Received: out_dtype=int8 for inputs of dtype int32"),
    ("float64", "float32", r"Received: out_dtype=float32 for inputs of dtype float64"),
    ("complex64", "float64", r"Received: out_dtype=float64 for inputs of dtype complex64"),
    ("float32", 3, r"out_dtype must be None or a dtype the \w+ backend computes .*Received: out_dtype=3"),
])
def test_out_dtype_that_loses_values_is_refused(fw, dtype, out, pattern):
    x = fw.asarray(np.ones((1, 1, 3, 3)), dtype)
    with pytest.raises((ValueError, TypeError), match=pattern):
        xpconv.conv2d(x, x, out_dtype=out)


# -- 5. before any work -----------------------------------------------------------------------------
@pytest.mark.needs("torch")
def test_native_dtype_check_comes_before_any_copy(monkeypatch):
    """method='native' with int32 x and int64 weight promoted (copied) first, then refused."""
    import array_api_compat.torch as xp
    import torch

    def trap(*args, **kwargs):
        raise AssertionError("an array was converted before validation finished")

    monkeypatch.setattr(xp, "astype", trap)
    with pytest.raises(ValueError, match=r"the torch convolution does not support dtype int64"):
        xpconv.conv2d(torch.ones(1, 1, 3, 3, dtype=torch.int32), torch.ones(1, 1, 2, 2, dtype=torch.int64), method="native")


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_a_batch_of_zero_gives_an_empty_result(fw, layout):
    problem = random_problem(np.random.default_rng(5), n=0, groups=2, padding=1, stride=2)
    problem.data_format = layout
    for method in methods(fw):
        x, w, b = problem.arrays(fw, "float32")
        y = xpconv.conv2d(x, w, b, groups=2, padding=1, stride=2, data_format=layout, method=method)
        assert_array(fw, y, dtype="float32", shape=(0, 6, 4, 4) if layout == "NCHW" else (0, 4, 4, 6))
    with pytest.raises(ValueError, match=r"x must have no zero-sized dimension\. Received: x with shape \(2, 4, 0, 8\)"):
        xpconv.conv2d(fw.asarray(np.ones((2, 4, 0, 8)), "float32"), fw.asarray(np.ones((6, 4, 3, 3)), "float32"))


def test_unknown_nan_sizes_are_refused_naming_the_argument():
    options = _spec.make_options(1, 0, 1, 1, "NCHW")
    with pytest.raises(ValueError, match=r"x must have known sizes\. Received: x with shape \(1, 4, nan, 8\); for a lazy array with unknown \(NaN\) chunk sizes, call compute_chunk_sizes\(\) first"):
        _spec.make_plan(options, (1, 4, float("nan"), 8), (6, 4, 3, 3), None)
    with pytest.raises(ValueError, match=r"x must have known sizes"):
        _spec.make_plan(_spec.make_options(1, 0, 1, 2, "NCHW"), (1, float("nan"), 8, 8), (6, 2, 3, 3), None)


@pytest.mark.parametrize(("call", "pattern"), [
    (lambda: xpconv.conv2d_cost((1, -3, 4, 4), (1, 1, 1, 1)), r"input_shape must be a tuple of positive ints\. Received: input_shape=\(1, -3, 4, 4\)"),
    (lambda: xpconv.conv2d_cost((1, 3, 4, 4), (0, 3, 1, 1)), r"weight_shape must be a tuple of positive ints\. Received: weight_shape=\(0, 3, 1, 1\)"),
    (lambda: xpconv.param_count(0, 4, 3), r"c_in must be a positive int\. Received: c_in=0"),
    (lambda: xpconv.param_count(3, -4, 3), r"c_out must be a positive int\. Received: c_out=-4"),
    (lambda: xpconv.param_count(3, 4, (3, 0)), r"kernel_size must be a positive int or one positive int per spatial axis"),
])
def test_costs_refuse_zero_and_negative_sizes(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


# -- 6. registry and caches ---------------------------------------------------------------------------
@pytest.mark.needs("numpy")
def test_registering_is_atomic_for_readers_in_other_threads():
    """register_backend cleared and refilled the registry while callers read it (KeyError: 'numpy')."""
    errors: list[BaseException] = []
    stop = threading.Event()
    x, w = np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3))

    def reader():
        while not stop.is_set():
            try:
                assert xpconv.conv2d(x, w).shape == (1, 3, 3, 3)
                assert "numpy" in xpconv.registered_backends()
            except BaseException as error:
                errors.append(error)
                return

    class Extra(backends.Backend):
        name, module = "extra", "numpy"

        def matches(self, value):
            return False

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(300):
            xpconv.register_backend(Extra(), replace=True)
            backends.unregister_backend("extra")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]


@pytest.mark.needs("numpy")
@pytest.mark.parametrize("block", ["None", "stub"])
def test_a_blocked_or_stub_framework_counts_as_not_loaded(block):
    code = f"""
import sys, types
sys.modules["torch"] = {"None" if block == "None" else "types.ModuleType('torch')"}
sys.modules["jax"] = {"None" if block == "None" else "types.ModuleType('jax')"}
import numpy as np, xpconv
print(xpconv.conv2d(np.ones((1, 2, 4, 4)), np.ones((1, 2, 3, 3))).ravel().tolist())
print(xpconv.corr2d(np.ones((3, 3)), np.ones((2, 2))).ravel().tolist())
available = xpconv.available_backends()
print(available["torch"], available["jax"], available["numpy"])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:3] == ["[18.0, 18.0, 18.0, 18.0]", "[4.0, 4.0, 4.0, 4.0]", "False False True"]


def test_lru_cache_evicts_the_least_recently_used():
    cache: LRUCache[int] = LRUCache(3)
    for k in "abc":
        cache.put(k, ord(k))
    assert cache.get("a") == ord("a")  # a is now the most recent
    cache.put("d", 4)
    assert "b" not in cache and len(cache) == 3 and cache.get("a") == ord("a")
    with pytest.raises(ValueError, match="limit must be a positive int"):
        LRUCache(0)


@pytest.mark.needs("numpy")
def test_the_call_cache_keeps_working_past_its_limit(monkeypatch):
    """The validated-call cache stopped growing at 4,096 entries and never evicted."""
    from xpconv import _conv

    monkeypatch.setattr(_conv._CALLS, "limit", 8)
    _conv._CALLS.clear()
    w = np.ones((1, 1, 2, 2))
    for size in range(3, 40):  # 37 signatures through an 8-entry cache
        x = np.ones((1, 1, size, size))
        for _ in range(2):
            assert xpconv.conv2d(x, w).shape == (1, 1, size - 1, size - 1)
    assert len(_conv._CALLS) == 8
    assert any(k[2] == (1, 1, 39, 39) for k in _conv._CALLS._data)  # the newest stays
    assert not any(k[2] == (1, 1, 3, 3) for k in _conv._CALLS._data)  # the oldest went


# -- 7. messages ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    ({"x": None}, TypeError, r"^x must be an array or a nested list of numbers\. Received: x=None$"),
    ({"weight": None}, TypeError, r"^weight must be an array or a nested list of numbers\. Received: weight=None$"),
    ({"data_format": ["NCHW"]}, TypeError, r"^data_format must be one of \('channels_first', 'channels_last', 'NCW', 'NWC', 'NCHW', 'NHWC', 'NCDHW', 'NDHWC'\)\. Received: data_format=\['NCHW'\]$"),
    ({"stride": {"a": 1}}, TypeError, r"^stride must be a positive int or one positive int per spatial axis\. Received: stride=\{'a': 1\}$"),
    ({"padding": [[0, 1], [1]]}, ValueError, r"^padding must be 'valid', 'same', a non-negative int, one int per spatial axis or one \(before, after\) pair per spatial axis\. Received: padding=\[\[0, 1\], \[1\]\]$"),
    ({"groups": None}, TypeError, r"^groups must be a positive int\. Received: groups=None$"),
    ({"method": ["auto"]}, ValueError, r"^method must be one of \('auto', 'native', 'portable'\)\. Received: method=\['auto'\]$"),
])
def test_bad_arguments_are_named(fw, kwargs, error, pattern):
    args = {"x": fw.asarray(np.ones((1, 2, 4, 4)), "float32"), "weight": fw.asarray(np.ones((1, 2, 3, 3)), "float32"), **kwargs}
    with pytest.raises(error, match=pattern):
        xpconv.conv2d(args.pop("x"), args.pop("weight"), **args)


@pytest.mark.needs("numpy")
def test_a_ragged_list_is_named():
    with pytest.raises(ValueError, match=r"^x must be an array or a rectangular nested list of numbers\. Received: x of type list that cannot be read as one \(a ragged nested list"):
        xpconv.conv2d([[[[1.0, 2.0], [3.0]]]], np.ones((1, 1, 1, 1)))
    with pytest.raises(ValueError, match=r"^K must be an array or a rectangular nested list"):
        xpconv.corr2d(np.ones((3, 3)), [[1.0], [2.0, 3.0]])


def test_channel_mismatch_suggests_the_other_layout(fw):
    nhwc = fw.asarray(np.ones((2, 9, 9, 3)), "float32")
    w = fw.asarray(np.ones((4, 3, 3, 3)), "float32")
    with pytest.raises(ValueError, match=r"input channels=9, kernel input channels=3, groups=1; did you mean data_format='NHWC'\?$"):
        xpconv.conv2d(nhwc, w)
    nchw = fw.asarray(np.ones((2, 3, 9, 9)), "float32")
    with pytest.raises(ValueError, match=r"did you mean data_format='NCHW'\?$"):
        xpconv.conv2d(nchw, w, data_format="NHWC")
    with pytest.raises(ValueError, match=r"input channels=9, kernel input channels=2, groups=1$"):  # no hint when it would not help
        xpconv.conv2d(nhwc, fw.asarray(np.ones((4, 2, 3, 3)), "float32"))


# -- 8. TensorFlow dilation ----------------------------------------------------------------------------
@pytest.mark.needs("tensorflow")
@pytest.mark.parametrize("taped", [False, True], ids=["no-tape", "taped"])
def test_tensorflow_huge_dilation_runs_the_native_dilated_convolution(taped):
    """Dilation 10^5 on a 3x1 kernel: zero insertion built a (2·10^5+1)-row filter (the finding:
    112 s and 3.9 GB at 10^6); the native dilated forward runs it directly, taped or not."""
    import tensorflow as tf

    d, h = 10**5, 2 * 10**5 + 5
    x_np = np.random.default_rng(6).standard_normal((1, 2, h, 1))
    w_np = np.random.default_rng(7).standard_normal((3, 2, 3, 1))
    x, w = tf.constant(x_np), tf.constant(w_np)
    if taped:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = xpconv.conv2d(x, w, dilation=(d, 1))
    else:
        y = xpconv.conv2d(x, w, dilation=(d, 1))
    expected = np.stack([sum(np.einsum("ch,oc->oh", x_np[0, :, i * d : i * d + 5, 0], w_np[:, :, i, 0]) for i in range(3))])
    assert tuple(y.shape) == (1, 3, 5, 1)
    np.testing.assert_allclose(y.numpy()[..., 0], expected, rtol=1e-12, atol=1e-12)


# -- found in review ------------------------------------------------------------------------------------
@pytest.mark.needs("torch")
def test_options_given_as_tensors_are_read_on_every_call():
    """A 0-d tensor hashes by identity: cached options would keep a value changed in place."""
    import torch

    x, w = torch.ones(1, 1, 5, 5), torch.ones(1, 1, 2, 2)
    stride = torch.tensor(1)
    assert tuple(xpconv.conv2d(x, w, stride=stride).shape) == (1, 1, 4, 4)
    stride.fill_(2)
    assert tuple(xpconv.conv2d(x, w, stride=stride).shape) == (1, 1, 2, 2)


@pytest.mark.parametrize("names", [("int64", "uint64")], ids=str)
def test_integers_without_a_common_integer_dtype_are_named(fw, names):
    table = backends.get_backend(fw.name).dtypes
    if not set(names) <= table:
        names = ("int64", "int64")  # the pair cannot even be made here; the same call must then run
    x = fw.asarray(np.ones((1, 2, 3, 3)), names[0])
    w = fw.asarray(np.ones((1, 2, 2, 2)), names[1])
    if names[0] == names[1]:
        assert_array(fw, xpconv.conv2d(x, w), dtype="int64", shape=(1, 1, 2, 2))
        return
    with pytest.raises(TypeError, match=r"Integer arguments must have a common integer dtype .*Received: x with dtype int64, weight with dtype uint64$"):
        xpconv.conv2d(x, w)


@pytest.mark.parametrize(("dtype", "out", "ok"), [("int32", "float16", False), ("int16", "float16", False),
                                                   ("int8", "float16", True), ("int32", "float64", True),
                                                   ("int32", "float32", False), ("int16", "float32", True)])
def test_out_dtype_float_must_hold_every_integer(fw, dtype, out, ok):
    """int32 4097 with out_dtype=float16 gave 4096: a float accumulator must hold the integers."""
    if out not in backends.get_backend(fw.name).dtypes:
        out = "float64"
        ok = True
    x = fw.asarray(np.ones((1, 1, 3, 3)), dtype)
    if ok:
        assert_array(fw, xpconv.conv2d(x, x, out_dtype=out), dtype=out, shape=(1, 1, 1, 1))
    else:
        with pytest.raises(ValueError, match=rf"Received: out_dtype={out} for inputs of dtype {dtype}$"):
            xpconv.conv2d(x, x, out_dtype=out)


@pytest.mark.needs("numpy")
def test_lists_alone_without_a_numpy_backend_are_a_named_error():
    code = """
import xpconv
from xpconv import backends
backends.unregister_backend("numpy")
try:
    xpconv.corr2d([[1.0, 2.0], [3.0, 4.0]], [[1.0]])
except TypeError as error:
    print(error)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("Python lists alone are NumPy arrays, but no 'numpy' backend is registered")


@pytest.mark.needs("numpy")
def test_options_are_checked_before_lists_are_converted(monkeypatch):
    def trap(*args, **kwargs):
        raise AssertionError("a list was converted before the options were checked")

    monkeypatch.setattr(backends.get_backend("numpy"), "asarray_like", trap)
    with pytest.raises(ValueError, match=r"stride must be a positive int or one positive int per spatial axis\. Received: stride=0"):
        xpconv.conv2d([[[[1.0, 2.0], [3.0, 4.0]]]], [[[[1.0]]]], stride=0)
