"""The dtype table each backend declares: everything outside it refused up front, everything in it exact."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv
from xpconv.testing import assert_array

from conv_cases import Problem
from matrix import DTYPE_NAMES, methods


def test_dtypes_outside_the_table_are_refused_up_front(fw):
    """Every dtype the library has and the backend's table lacks is a TypeError naming ``x`` (torch
    uint16-64 crashed in bmm, TensorFlow's uint64 had no CPU kernel, float8 and int4 gave wrong sums)."""
    refused = []
    for name in DTYPE_NAMES:
        x = fw.array_of(name, np.ones((1, 2, 3, 3)))
        if x is None or name in fw.backend.dtypes:
            continue
        refused.append(name)
        w = fw.array_of(name, np.ones((1, 2, 2, 2)))
        for method in methods(fw):
            with pytest.raises(TypeError, match=r"^x must have a .*dtype.*Received: x with dtype \w+"):
                xpconv.conv2d(x, w, method=method)
    assert "bool" in refused, refused


def test_every_dtype_in_the_table_computes_exactly(fw):
    """The capability page's dtype table (the backends' own): each accepted dtype gives the right sums, on every method."""
    table = fw.backend.dtypes
    x = np.arange(2 * 3 * 3).reshape(1, 2, 3, 3) % 4
    w = np.ones((1, 2, 2, 2))
    expected = np.array([[[[8, 12], [12, 8]]]])
    np.testing.assert_array_equal(Problem(x.astype(float), w, None).oracle(), expected)
    for name in sorted(table):
        for method in methods(fw):
            if method == "native" and not fw.backend.native_takes(fw.dtype(name)):
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




@pytest.mark.parametrize("names", [("int64", "uint64")], ids=str)
def test_integers_without_a_common_integer_dtype_are_named(fw, names):
    table = fw.backend.dtypes
    if not set(names) <= table:
        names = ("int64", "int64")  # the pair cannot even be made here; the same call must then run
    x = fw.asarray(np.ones((1, 2, 3, 3)), names[0])
    w = fw.asarray(np.ones((1, 2, 2, 2)), names[1])
    if names[0] == names[1]:
        assert_array(fw, xpconv.conv2d(x, w), dtype="int64", shape=(1, 1, 2, 2))
        return
    with pytest.raises(TypeError, match=r"Integer arguments must have a common integer dtype .*Received: x with dtype int64, weight with dtype uint64$"):
        xpconv.conv2d(x, w)




