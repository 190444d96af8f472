"""xpconv's TensorFlow namespace, function by function, against array_api_strict on the same data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from xpconv.kernels.core_api import CORE_DTYPES, CORE_FUNCTIONS

from matrix import ADAPTERS

pytestmark = [pytest.mark.needs("tensorflow"), pytest.mark.needs("array_api_strict")]

# array_api_strict, like the standard, has no float16: that one is checked against NumPy below.
DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "float32", "float64"]


@pytest.fixture(scope="module")
def tfx():
    from xpconv.backends.tensorflow import namespace as tensorflow_namespace

    return tensorflow_namespace


@pytest.fixture(scope="module")
def sx():
    return ADAPTERS["array_api_strict"].m


def same(tf_result, strict_result):
    """Same dtype name, shape and values."""
    tf_np = tf_result.numpy()
    strict_np = ADAPTERS["array_api_strict"].to_numpy(strict_result)
    assert tf_result.dtype.name == str(strict_result.dtype).rsplit(".", 1)[-1].replace("'", "")
    assert tf_np.shape == strict_np.shape
    np.testing.assert_array_equal(tf_np, strict_np)


def both(tfx, sx, a):
    return tfx.asarray(a), sx.asarray(a)


def test_namespace_provides_every_core_function_and_dtype(tfx):
    for name in (*CORE_FUNCTIONS, *CORE_DTYPES):
        assert hasattr(tfx, name), name


@pytest.mark.parametrize("data", [[[1, 2], [3, 4]], [1.5, -2.0], 3, np.arange(6, dtype=np.int16).reshape(2, 3)])
@pytest.mark.parametrize("dtype", [None, "float32", "int64"])
def test_asarray(tfx, sx, data, dtype):
    ours = tfx.asarray(data, dtype=dtype and getattr(tfx, dtype))
    theirs = sx.asarray(data, dtype=dtype and getattr(sx, dtype))
    if dtype is None:  # default dtypes are implementation-defined: same kind and values
        assert tfx.isdtype(ours.dtype, "integral") == sx.isdtype(theirs.dtype, "integral")
        np.testing.assert_array_equal(ours.numpy(), ADAPTERS["array_api_strict"].to_numpy(theirs))
    else:
        same(ours, theirs)


@pytest.mark.parametrize(("source", "target"), [("float32", "int32"), ("int32", "float64"), ("float64", "float32"), ("int64", "int8")])
def test_astype(tfx, sx, source, target):
    data = np.array([[-2.7, -0.5, 0.0], [0.5, 1.9, 100.25]]).astype(source)
    a, b = both(tfx, sx, data)
    same(tfx.astype(a, getattr(tfx, target)), sx.astype(b, getattr(sx, target)))


def test_broadcast_to(tfx, sx):
    a, b = both(tfx, sx, np.arange(3.0).reshape(1, 3))
    same(tfx.broadcast_to(a, (4, 2, 3)), sx.broadcast_to(b, (4, 2, 3)))


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_concat(tfx, sx, axis):
    p = np.arange(6, dtype=np.int32).reshape(2, 3)
    q = np.arange(6, 12, dtype=np.int64).reshape(2, 3)
    same(tfx.concat([tfx.asarray(p), tfx.asarray(q)], axis=axis), sx.concat([sx.asarray(p), sx.asarray(q)], axis=axis))


@pytest.mark.parametrize("kind", ["bool", "signed integer", "unsigned integer", "integral", "real floating", "complex floating", "numeric", ("integral", "real floating")])
def test_isdtype(tfx, sx, kind):
    for name in [*DTYPES, "bool"]:
        assert tfx.isdtype(getattr(tfx, name), kind) == sx.isdtype(getattr(sx, name), kind), (name, kind)
    assert tfx.isdtype(tfx.float32, tfx.float32) and not tfx.isdtype(tfx.float32, tfx.float64)


@pytest.mark.parametrize(
    ("s1", "s2"),
    [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 1, 3, 4), (5, 4, 2)), ((4, 2, 3), (1, 3, 2))],
)
@pytest.mark.parametrize("dtype", ["float64", "int32", "int8", "uint8", "int64"])
def test_matmul(tfx, sx, s1, s2, dtype):
    rng = np.random.default_rng(0)
    p = rng.integers(-3, 4, s1).astype(dtype)
    q = rng.integers(-3, 4, s2).astype(dtype)
    same(tfx.matmul(tfx.asarray(p), tfx.asarray(q)), sx.matmul(sx.asarray(p), sx.asarray(q)))


def test_permute_dims(tfx, sx):
    a, b = both(tfx, sx, np.arange(24.0).reshape(2, 3, 4))
    same(tfx.permute_dims(a, (2, 0, 1)), sx.permute_dims(b, (2, 0, 1)))


@pytest.mark.parametrize("shape", [(6, 4), (2, -1), (24,), (1, 2, 3, 4)])
def test_reshape(tfx, sx, shape):
    a, b = both(tfx, sx, np.arange(24).reshape(2, 3, 4))
    same(tfx.reshape(a, shape), sx.reshape(b, shape))


@pytest.mark.parametrize(("d1", "d2"), list(itertools.combinations_with_replacement(DTYPES, 2)))
def test_result_type_follows_the_standard(tfx, sx, d1, d2):
    try:
        expected = sx.result_type(getattr(sx, d1), getattr(sx, d2))
    except TypeError:  # across kinds the standard leaves it to us: the floating dtype wins
        floating = d1 if d1.startswith("float") else d2
        assert tfx.result_type(getattr(tfx, d1), getattr(tfx, d2)) == getattr(tfx, floating)
        return
    assert tfx.result_type(getattr(tfx, d1), getattr(tfx, d2)).name == str(expected).rsplit(".", 1)[-1]
    assert tfx.result_type(tfx.asarray(np.ones(1, d1)), getattr(tfx, d2)).name == str(expected).rsplit(".", 1)[-1]


def test_astype_to_float16_rounds_like_numpy(tfx):
    data = np.array([0.1, 1 / 3, 65504.0, 1e-8])
    np.testing.assert_array_equal(tfx.astype(tfx.asarray(data), tfx.float16).numpy(), data.astype(np.float16))


def test_result_type_of_half_floats(tfx):
    assert tfx.result_type(tfx.float16, tfx.float32) == tfx.float32
    assert tfx.result_type(tfx.int64, tfx.float16) == tfx.float16
    assert tfx.result_type(tfx.float16, tfx.bfloat16) == tfx.float32
    assert tfx.result_type(tfx.bfloat16, tfx.float64) == tfx.float64


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(tfx, sx, axis):
    p = np.arange(6, dtype=np.int32).reshape(2, 3)
    q = np.arange(6, 12, dtype=np.int64).reshape(2, 3)
    same(tfx.stack([tfx.asarray(p), tfx.asarray(q)], axis=axis), sx.stack([sx.asarray(p), sx.asarray(q)], axis=axis))


@pytest.mark.parametrize("shape", [(2, 3), (0, 4), ()])
def test_zeros(tfx, sx, shape):
    same(tfx.zeros(shape, dtype=tfx.float64), sx.zeros(shape, dtype=sx.float64))
    same(tfx.zeros(shape, dtype=tfx.int8), sx.zeros(shape, dtype=sx.int8))


def test_zeros_of_sizes_known_at_run_time(tfx):
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, 3), tf.float32)])
    def f(x):
        return tfx.zeros((tf.shape(x)[0], 2), dtype=tfx.float32)

    assert tuple(f(tf.ones((4, 3))).shape) == (4, 2)


def test_zeros_like(tfx, sx):
    a, b = both(tfx, sx, np.arange(6, dtype=np.int16).reshape(2, 3))
    same(tfx.zeros_like(a), sx.zeros_like(b))
    same(tfx.zeros_like(a, dtype=tfx.float32), sx.zeros_like(b, dtype=sx.float32))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_clip_and_exp(tfx, sx, dtype):
    """round takes halves to even (the standard's rule); clip with either bound or both; exp."""
    data = np.array([[-2.5, -1.5, -0.5, 0.5], [1.5, 2.5, 3.49, -3.51]], dtype=dtype)
    a, b = both(tfx, sx, data)
    same(tfx.round(a), sx.round(b))
    same(tfx.clip(a, -1.0, 2.0), sx.clip(b, -1.0, 2.0))
    same(tfx.clip(a, None, 0.0), sx.clip(b, None, 0.0))
    same(tfx.clip(a, 1.0), sx.clip(b, 1.0))
    np.testing.assert_allclose(tfx.exp(a).numpy(), np.exp(data), rtol=1e-6)
    assert tfx.round(a).dtype == a.dtype


def test_reshape_of_a_zero_dimensional_array(tfx):
    z = tfx.asarray(np.array(3, dtype=np.uint8))
    assert tuple(tfx.reshape(z, (1, 1)).shape) == (1, 1)


def test_floor_and_take(tfx, sx):
    data = np.array([[-2.5, -1.0, 0.25], [0.75, 2.0, 3.5]])
    a, b = both(tfx, sx, data)
    same(tfx.floor(a), sx.floor(b))
    indices = np.array([2, 0, 5, 5, 1], dtype=np.int32)
    same(tfx.take(tfx.reshape(a, (6,)), tfx.asarray(indices), axis=0), sx.take(sx.reshape(b, (6,)), sx.asarray(indices), axis=0))
    same(tfx.take(a, tfx.asarray(indices[:3] % 3), axis=1), sx.take(b, sx.asarray(indices[:3] % 3), axis=1))
