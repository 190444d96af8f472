"""What may come in as an array: a framework's tensor with NumPy arrays and Python lists beside it
(converted onto its library and device, lists in its dtype), and what is refused by name (a
second framework, sparse, nested and masked arrays, Dask arrays of chunks Dask cannot join)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import xpconv
from xpconv.testing import assert_array, assert_close

from matrix import methods


def _x(fw, dtype="float32"):
    return fw.asarray(np.arange(2 * 3 * 4, dtype=np.float64).reshape(1, 2, 3, 4) / 7, dtype)


def test_numpy_weight_and_bias_join_the_input_library(fw):
    """As jnp and tf functions take NumPy arrays: converted onto x's library and device, dtype kept."""
    x = _x(fw, "float64")
    w = np.random.default_rng(0).standard_normal((3, 2, 2, 2))
    b = np.array([0.5, -1.0, 2.0])
    expected = np.asarray(xpconv.conv2d(fw.to_numpy(x), w, b))
    for method in methods(fw):
        y = xpconv.conv2d(x, w, b, method=method)
        assert_close(fw, y, expected, dtype="float64", device=fw.device(x), reduction_length=8)
    if fw.has_dtype("float32"):  # a float64 NumPy weight promotes a float32 input, as in JAX and PyTorch
        y = xpconv.conv2d(_x(fw, "float32"), w)
        assert_array(fw, y, dtype="float64", shape=(1, 3, 2, 3))


def test_lists_take_the_input_dtype(fw):
    """Python numbers beside an array take its dtype, as Array API scalars do: 0.1 beside float64
    is exactly 0.1, and a float32 input with a list weight is float32 on every framework."""
    for dtype in ("float32", "float64"):
        x = fw.asarray(np.ones((1, 1, 2, 2)), dtype)
        y = xpconv.conv2d(x, [[[[0.1]]]], [0.25])
        assert_array(fw, y, dtype=dtype, shape=(1, 1, 2, 2))
        kind = np.dtype(dtype).type  # each number rounded once to the input's dtype, then summed in it
        np.testing.assert_array_equal(fw.to_numpy(y), np.full((1, 1, 2, 2), kind(0.1) + kind(0.25), dtype))
    xi = fw.asarray(np.full((1, 1, 2, 2), 3), "int32")
    y = xpconv.conv2d(xi, [[[[2]]]])
    assert_array(fw, y, dtype="int32", shape=(1, 1, 2, 2))
    np.testing.assert_array_equal(fw.to_numpy(y), np.full((1, 1, 2, 2), 6))
    with pytest.raises(ValueError, match=r"^weight must hold numbers that fit the input's dtype int8 \(-128 to 127\).*Received: weight with values from 300 to 300"):
        xpconv.conv2d(fw.asarray(np.ones((1, 1, 2, 2)), "int8"), [[[[300]]]])


@pytest.mark.needs("numpy")
@pytest.mark.needs("torch")
def test_a_second_framework_is_still_refused():
    import torch

    with pytest.raises(TypeError, match=r"^x and weight must be arrays of the same library\. Received: x of type numpy\.ndarray \(numpy\), weight of type torch\.Tensor \(torch\)$"):
        xpconv.conv2d(np.ones((1, 1, 2, 2)), torch.ones(1, 1, 1, 1))
    if "jax" in sys.modules:
        import jax.numpy as jnp

        with pytest.raises(TypeError, match=r"^x and bias must be arrays of the same library.*\(torch\).*\(jax\)$"):
            xpconv.conv2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 1, 1), jnp.ones(1))


@pytest.mark.parametrize(("value", "reason"), [
    ([[2**70]], r"it holds 1180591620717411303424, an integer beyond 64 bits"),
    ([[None, 1.0]], r"it holds None"),
    ([[1.0], [2.0, 3.0]], r"a ragged nested list"),
    ([[1.0, object()]], r"it holds a value of type object, not a number"),
])
def test_lists_that_are_not_numbers_say_why(fw, value, reason):
    """2**70 and None were both called "a ragged nested list"."""
    with pytest.raises(ValueError, match=rf"^K must be an array or a rectangular nested list of numbers\. Received: K of type list that cannot be read as one \({reason}"):
        xpconv.corr2d(fw.asarray(np.ones((3, 3))), value)


@pytest.mark.needs("torch")
def test_torch_sparse_and_nested_tensors_are_named():
    import torch

    w = torch.ones(1, 1, 1, 1)
    with pytest.raises(TypeError, match=r"^x must be a dense \(strided\) tensor\. Received: x with layout torch\.sparse_coo; convert it to a dense one \(\.to_dense\(\)\)$"):
        xpconv.conv2d(torch.ones(1, 1, 3, 3).to_sparse(), w)
    with pytest.raises(TypeError, match=r"^weight must be a dense \(strided\) tensor\. Received: weight with layout torch\.sparse_coo"):
        xpconv.conv2d(torch.ones(1, 1, 3, 3), w.to_sparse())
    nested = torch.nested.nested_tensor([torch.ones(1, 3, 3), torch.ones(1, 4, 4)])
    with pytest.raises(TypeError, match=r"^x must be a dense \(strided\) tensor\. Received: x with a nested tensor"):
        xpconv.conv2d(nested, w)
    dense = torch.ones(1, 1, 3, 3)
    assert tuple(xpconv.conv2d(dense, w).shape) == (1, 1, 3, 3)  # the signature is now cached for dense tensors
    with pytest.raises(TypeError, match=r"^x must be a dense \(strided\) tensor"):
        xpconv.conv2d(dense.to_sparse(), w)  # same type, shape and dtype: still refused


@pytest.mark.needs("numpy")
def test_numpy_matrix_and_masked_arrays():
    y = xpconv.corr2d(np.matrix([[1.0, 2.0], [3.0, 4.0]]), np.ones((1, 1)))
    assert type(y) is np.ndarray and y.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    masked = np.ma.masked_array(np.ones((1, 1, 3, 3)), mask=np.eye(3, dtype=bool)[None, None])
    with pytest.raises(TypeError, match=r"^x must be a plain ndarray: the mask of a masked array would be ignored\. Received: x, a numpy\.ma\.MaskedArray; pass x\.filled\(0\) or x\.data$"):
        xpconv.conv2d(masked, np.ones((1, 1, 1, 1)))


@pytest.mark.needs("dask")
@pytest.mark.needs("jax")
def test_dask_arrays_of_chunks_dask_cannot_join_are_named():
    import dask.array as da
    import jax.numpy as jnp

    x = da.ones((1, 1, 4, 4), chunks=(1, 1, 2, 2), dtype=np.float32).map_blocks(jnp.asarray, dtype=np.float32)
    with pytest.raises(TypeError, match=r"^x must be a Dask array of NumPy or CuPy chunks.*Received: x with chunks of type jaxlib\S* \(jax\); use x\.map_blocks\(numpy\.asarray\)"):
        xpconv.conv2d(x, np.ones((1, 1, 2, 2), np.float32))
    y = xpconv.conv2d(x.map_blocks(np.asarray), np.ones((1, 1, 2, 2), np.float32))
    np.testing.assert_array_equal(y.compute(scheduler="sync"), np.full((1, 1, 3, 3), 4.0))


@pytest.mark.needs("jax")
def test_jax_without_64_bit_types_says_so():
    """With x64 off, JAX silently computes int64 as int32: out_dtype='int64' says why it is refused."""
    code = """
import jax.numpy as jnp, xpconv
try:
    xpconv.conv2d(jnp.ones((1, 1, 2, 2), jnp.int8), jnp.ones((1, 1, 1, 1), jnp.int8), out_dtype="int64")
except ValueError as error:
    print(error)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Received: out_dtype='int64'; JAX computes int64 only with 64-bit types enabled: " \
           "jax.config.update('jax_enable_x64', True)" in out.stdout, out.stdout


def test_integers_without_a_common_dtype_name_the_pair(fw):
    from xpconv import backends

    if "uint64" not in backends.get_backend(fw.name).dtypes:
        return  # torch, TensorFlow and MXNet have no uint64 to compute (refused in test_hardening)
    x, w = fw.asarray(np.ones((1, 1, 2, 2)), "uint64"), fw.asarray(np.ones((1, 1, 1, 1)), "int8")
    with pytest.raises(TypeError, match=r"^Integer arguments must have a common integer dtype \(uint64 and int8 have none: no signed dtype holds every uint64\); cast one of them\. Received: x with dtype uint64, weight with dtype int8$"):
        xpconv.conv2d(x, w)


@pytest.mark.parametrize("data_format", ["np.array", "0-d tensor"])
def test_a_data_format_that_is_not_a_string_is_named(fw, data_format):
    value = np.array([1, 1]) if data_format == "np.array" else fw.asarray(np.array(1.0))
    x, w = _x(fw), fw.asarray(np.ones((1, 2, 1, 1)), "float32")
    for function in (xpconv.conv2d, xpconv.conv, xpconv.conv1d):
        with pytest.raises(TypeError, match=r"^data_format must be one of \('channels_first', .*Received: data_format="):
            function(x, w, data_format=value)
