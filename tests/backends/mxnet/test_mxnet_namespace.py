"""xpconv's MXNet namespace, function by function, against array_api_strict on the same data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from xpconv.kernels.core_api import CORE_DTYPES, CORE_FUNCTIONS

from matrix import ADAPTERS

pytestmark = [pytest.mark.needs("mxnet"), pytest.mark.needs("array_api_strict")]

# MXNet has no int16 or uint16-64; array_api_strict, like the standard, has no float16 (checked
# against NumPy below).
DTYPES = ["int8", "int32", "int64", "uint8", "float32", "float64"]


@pytest.fixture(scope="module")
def mxx():
    from xpconv.backends.mxnet import namespace as mxnet_namespace

    return mxnet_namespace


@pytest.fixture(scope="module")
def sx():
    return ADAPTERS["array_api_strict"].m


@pytest.fixture(scope="module")
def mx():
    import mxnet

    return mxnet


def same(ours, strict_result):
    """An ``mx.np`` array with the same dtype name, shape and values."""
    import mxnet

    assert isinstance(ours, mxnet.np.ndarray), type(ours)
    strict_np = ADAPTERS["array_api_strict"].to_numpy(strict_result)
    assert ours.dtype.name == str(strict_result.dtype).rsplit(".", 1)[-1].replace("'", "")
    assert ours.shape == strict_np.shape
    np.testing.assert_array_equal(ours.asnumpy(), strict_np)


def both(mxx, sx, a):
    return mxx.asarray(a), sx.asarray(a)


def test_namespace_provides_exactly_the_core_functions_and_dtypes(mxx):
    for name in (*CORE_FUNCTIONS, *CORE_DTYPES):
        assert hasattr(mxx, name), name
    public = {n for n, v in vars(mxx).items() if callable(v) and not n.startswith("_") and not isinstance(v, type)
              and getattr(v, "__module__", "") == mxx.__name__}
    assert public == set(CORE_FUNCTIONS)


@pytest.mark.parametrize("data", [[[1, 2], [3, 4]], [1.5, -2.0], 3, np.arange(6, dtype=np.int32).reshape(2, 3)])
@pytest.mark.parametrize("dtype", [None, "float32", "int64"])
def test_asarray(mxx, sx, data, dtype):
    ours = mxx.asarray(data, dtype=dtype and getattr(mxx, dtype))
    theirs = sx.asarray(data, dtype=dtype and getattr(sx, dtype))
    if dtype is None:  # default dtypes are implementation-defined: same kind and values
        assert mxx.isdtype(ours.dtype, "integral") == sx.isdtype(theirs.dtype, "integral")
        np.testing.assert_array_equal(ours.asnumpy(), ADAPTERS["array_api_strict"].to_numpy(theirs))
    else:
        same(ours, theirs)


def test_asarray_keeps_the_device_and_copies_when_asked(mx, mxx):
    a = mx.np.array([1.0, 2.0], ctx=mx.cpu(1))
    assert mxx.asarray(a) is a
    assert mxx.asarray(a, copy=True) is not a
    assert mxx.asarray([1, 2], device=mx.cpu(1)).ctx == mx.cpu(1)
    assert mxx.asarray(a, device=mx.cpu(0)).ctx == mx.cpu(0)
    assert mxx.asarray(np.arange(3, dtype=np.int8)).dtype == np.int8  # a NumPy array keeps its dtype


@pytest.mark.parametrize(("source", "target"), [("float32", "int32"), ("int32", "float64"), ("float64", "float32"), ("int64", "int8")])
def test_astype(mxx, sx, source, target):
    data = np.array([[-2.7, -0.5, 0.0], [0.5, 1.9, 100.25]]).astype(source)
    a, b = both(mxx, sx, data)
    same(mxx.astype(a, getattr(mxx, target)), sx.astype(b, getattr(sx, target)))


def test_broadcast_to(mxx, sx):
    a, b = both(mxx, sx, np.arange(3.0).reshape(1, 3))
    same(mxx.broadcast_to(a, (4, 2, 3)), sx.broadcast_to(b, (4, 2, 3)))


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_concat(mxx, sx, axis):
    p = np.arange(6, dtype=np.int32).reshape(2, 3)
    q = np.arange(6, 12, dtype=np.int64).reshape(2, 3)
    same(mxx.concat([mxx.asarray(p), mxx.asarray(q)], axis=axis), sx.concat([sx.asarray(p), sx.asarray(q)], axis=axis))


@pytest.mark.parametrize("kind", ["bool", "signed integer", "unsigned integer", "integral", "real floating", "complex floating", "numeric", ("integral", "real floating")])
def test_isdtype(mxx, sx, kind):
    for name in [*DTYPES, "bool"]:
        assert mxx.isdtype(getattr(mxx, name), kind) == sx.isdtype(getattr(sx, name), kind), (name, kind)
    assert mxx.isdtype(mxx.float32, mxx.float32) and not mxx.isdtype(mxx.float32, mxx.float64)
    assert mxx.isdtype(np.float32, "real floating")  # mx.nd arrays report scalar types


@pytest.mark.parametrize(
    ("s1", "s2"),
    [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 1, 3, 4), (5, 4, 2)), ((4, 2, 3), (1, 3, 2))],
)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "int8", "uint8", "int64"])
def test_matmul(mxx, sx, s1, s2, dtype):
    rng = np.random.default_rng(0)
    p = rng.integers(-3, 4, s1).astype(dtype)
    q = rng.integers(-3, 4, s2).astype(dtype)
    same(mxx.matmul(mxx.asarray(p), mxx.asarray(q)), sx.matmul(sx.asarray(p), sx.asarray(q)))


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64"])
def test_integer_matmul_is_exact_and_wraps_over_the_whole_range(mxx, sx, dtype):
    """MXNet has no integer matmul: ours must give every bit, wrapping as the dtype does."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(1)
    p = rng.integers(info.min, info.max, (3, 2, 70), dtype=dtype, endpoint=True)
    q = rng.integers(info.min, info.max, (70, 5), dtype=dtype, endpoint=True)
    same(mxx.matmul(mxx.asarray(p), mxx.asarray(q)), sx.matmul(sx.asarray(p), sx.asarray(q)))


def test_matmul_of_float16_rounds_once_like_numpy(mxx):
    rng = np.random.default_rng(2)
    p, q = rng.standard_normal((2, 3, 40)).astype(np.float16), rng.standard_normal((40, 4)).astype(np.float16)
    expected = (p.astype(np.float64) @ q.astype(np.float64)).astype(np.float16)
    got = mxx.matmul(mxx.asarray(p), mxx.asarray(q))
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.asnumpy().astype(np.float64), expected.astype(np.float64), rtol=2e-3, atol=1e-3)


def test_permute_dims(mxx, sx):
    a, b = both(mxx, sx, np.arange(24.0).reshape(2, 3, 4))
    same(mxx.permute_dims(a, (2, 0, 1)), sx.permute_dims(b, (2, 0, 1)))


@pytest.mark.parametrize("shape", [(6, 4), (2, -1), (24,), (1, 2, 3, 4)])
def test_reshape(mxx, sx, shape):
    a, b = both(mxx, sx, np.arange(24).reshape(2, 3, 4))
    same(mxx.reshape(a, shape), sx.reshape(b, shape))
    same(mxx.reshape(a, shape, copy=True), sx.reshape(b, shape, copy=True))


@pytest.mark.parametrize(("d1", "d2"), list(itertools.combinations_with_replacement(DTYPES, 2)))
def test_result_type_follows_the_standard(mxx, sx, d1, d2):
    try:
        expected = str(sx.result_type(getattr(sx, d1), getattr(sx, d2))).rsplit(".", 1)[-1]
    except TypeError:  # across kinds the standard leaves it to us: the floating dtype wins
        floating = d1 if d1.startswith("float") else d2
        assert mxx.result_type(getattr(mxx, d1), getattr(mxx, d2)) == getattr(mxx, floating)
        return
    if expected == "int16":  # int8 with uint8: MXNet has no int16; int32 is the smallest that holds both
        expected = "int32"
    assert mxx.result_type(getattr(mxx, d1), getattr(mxx, d2)).name == expected
    assert mxx.result_type(mxx.asarray(np.ones(1, d1)), getattr(mxx, d2)).name == expected


def test_astype_to_float16_rounds_like_numpy(mxx):
    data = np.array([0.1, 1 / 3, 65504.0, 1e-8])
    np.testing.assert_array_equal(mxx.astype(mxx.asarray(data), mxx.float16).asnumpy(), data.astype(np.float16))


def test_result_type_of_half_floats(mxx):
    assert mxx.result_type(mxx.float16, mxx.float32) == mxx.float32
    assert mxx.result_type(mxx.int64, mxx.float16) == mxx.float16
    assert mxx.result_type(mxx.float16, mxx.float64) == mxx.float64


@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, -3, (0, 2), (-1, 1), (0, 1, 2), ()])
@pytest.mark.parametrize("dtype", DTYPES)
def test_flip(mxx, sx, axis, dtype):
    a, b = both(mxx, sx, np.arange(24).reshape(2, 3, 4).astype(dtype))
    same(mxx.flip(a, axis=axis), sx.flip(b, axis=axis))
    same(mxx.flip(a) if axis is None else mxx.flip(a, axis=axis), sx.flip(b, axis=axis))


def test_flip_of_a_scalar_and_of_an_empty_array(mx, mxx, sx):
    with mx.util.np_shape(True):  # MXNet has 0-d and empty arrays only with NumPy shapes on
        same(mxx.flip(mxx.asarray(np.float64(3.5))), sx.flip(sx.asarray(3.5)))
        empty = np.zeros((0, 3, 2), dtype=np.float32)
        same(mxx.flip(mxx.asarray(empty), axis=(0, 2)), sx.flip(sx.asarray(empty), axis=(0, 2)))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(mxx, sx, axis):
    p = np.arange(6, dtype=np.int32).reshape(2, 3)
    q = np.arange(6, 12, dtype=np.int64).reshape(2, 3)
    same(mxx.stack([mxx.asarray(p), mxx.asarray(q)], axis=axis), sx.stack([sx.asarray(p), sx.asarray(q)], axis=axis))


@pytest.mark.parametrize("shape", [(2, 3), (0, 4), ()])
def test_zeros(mxx, sx, shape):
    same(mxx.zeros(shape, dtype=mxx.float64), sx.zeros(shape, dtype=sx.float64))
    same(mxx.zeros(shape, dtype=mxx.int8), sx.zeros(shape, dtype=sx.int8))


def test_zeros_like(mxx, sx):
    a, b = both(mxx, sx, np.arange(6, dtype=np.int32).reshape(2, 3))
    same(mxx.zeros_like(a), sx.zeros_like(b))
    same(mxx.zeros_like(a, dtype=mxx.float32), sx.zeros_like(b, dtype=sx.float32))


def test_legacy_nd_arrays_in_give_nd_arrays_out(mx, mxx):
    """xpconv reshapes and casts the caller's arrays with the namespace: an mx.nd input stays one."""
    a = mx.nd.array(np.arange(6.0).reshape(2, 3))
    results = {
        "astype": mxx.astype(a, mxx.float64),
        "broadcast_to": mxx.broadcast_to(a, (2, 2, 3)),
        "concat": mxx.concat([a, a], axis=0),
        "flip": mxx.flip(a, axis=1),
        "matmul": mxx.matmul(a, mxx.permute_dims(a, (1, 0))),
        "permute_dims": mxx.permute_dims(a, (1, 0)),
        "reshape": mxx.reshape(a, (3, 2)),
        "stack": mxx.stack([a, a]),
        "zeros_like": mxx.zeros_like(a),
    }
    data = np.arange(6.0).reshape(2, 3)
    expected = {
        "astype": data, "broadcast_to": np.broadcast_to(data, (2, 2, 3)), "concat": np.concatenate([data, data]),
        "flip": data[:, ::-1], "matmul": data @ data.T, "permute_dims": data.T, "reshape": data.reshape(3, 2),
        "stack": np.stack([data, data]),
        "zeros_like": np.zeros_like(data),
    }
    for name, result in results.items():
        assert type(result) is mx.nd.NDArray, name
        np.testing.assert_array_equal(result.asnumpy(), expected[name], err_msg=name)
    assert type(mxx.asarray(a)) is mx.np.ndarray  # asarray gives the namespace's own arrays


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_clip_and_exp(mxx, sx, dtype):
    """round takes halves to even (the standard's rule); clip with either bound or both; exp."""
    data = np.array([[-2.5, -1.5, -0.5, 0.5], [1.5, 2.5, 3.49, -3.51]], dtype=dtype)
    a, b = both(mxx, sx, data)
    same(mxx.round(a), sx.round(b))
    same(mxx.clip(a, -1.0, 2.0), sx.clip(b, -1.0, 2.0))
    same(mxx.clip(a, None, 0.0), sx.clip(b, None, 0.0))
    same(mxx.clip(a, 1.0), sx.clip(b, 1.0))
    np.testing.assert_allclose(mxx.exp(a).asnumpy(), np.exp(data), rtol=1e-6)
    assert mxx.round(a).dtype == a.dtype


def test_reshape_of_a_zero_dimensional_array(mxx):
    z = mxx.asarray(np.array(3, dtype=np.uint8))
    assert tuple(mxx.reshape(z, (1, 1)).shape) == (1, 1)


def test_floor_and_take(mxx, sx):
    data = np.array([[-2.5, -1.0, 0.25], [0.75, 2.0, 3.5]])
    a, b = both(mxx, sx, data)
    same(mxx.floor(a), sx.floor(b))
    indices = np.array([2, 0, 5, 5, 1], dtype=np.int32)
    same(mxx.take(mxx.reshape(a, (6,)), mxx.asarray(indices), axis=0), sx.take(sx.reshape(b, (6,)), sx.asarray(indices), axis=0))
    same(mxx.take(a, mxx.asarray(indices[:3] % 3), axis=1), sx.take(b, sx.asarray(indices[:3] % 3), axis=1))
