"""Bad input: a clear ValueError/TypeError, before any work, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv

from chapter_data import K3, X
from matrix import ADAPTERS, SELECTED


def f32(fw, a):
    return fw.asarray(np.asarray(a, dtype=np.float32))


@pytest.mark.parametrize(
    ("function", "x_shape", "k_shape", "pattern"),
    [
        (xpconv.corr2d, (3, 3, 3), (2, 2), r"X must be a 2-D array of shape \(H, W\)\. Received: X with shape \(3, 3, 3\) \(3-D\)"),
        (xpconv.corr2d, (3, 3), (1, 2, 2), r"K must be a 2-D array of shape \(kH, kW\)\. Received: K with shape \(1, 2, 2\)"),
        (xpconv.corr2d_multi_in, (3, 3), (2, 2, 2), r"X must be a 3-D array of shape \(C_in, H, W\)\. Received: X with shape \(3, 3\) \(2-D\)"),
        (xpconv.corr2d_multi_in, (2, 3, 3), (2, 2, 2, 2), r"K must be a 3-D array .*Received: K with shape \(2, 2, 2, 2\) \(4-D\)"),
        (xpconv.corr2d_multi_in_out, (2, 3, 3), (2, 2, 2), r"K must be a 4-D array of shape \(C_out, C_in, kH, kW\)\. Received: K with shape \(2, 2, 2\)"),
        (xpconv.corr2d_multi_in_out, (1, 2, 3, 3), (3, 2, 2, 2), r"X must be a 3-D array .*Received: X with shape \(1, 2, 3, 3\) \(4-D\)"),
        (xpconv.corr2d_multi_in_out_1x1, (2, 3, 3), (3, 2, 2, 2), r"K must be a 1x1 kernel of shape \(C_out, C_in, 1, 1\)\. Received: K with shape \(3, 2, 2, 2\)"),
        (xpconv.corr2d_multi_in, (3, 3, 3), (2, 2, 2), r"The number of input channels of X must match the input channels of K \(K shape \(C_out, C_in, kH, kW\)\)\. Received: X with 3 input channels, K with 2$"),
        (xpconv.corr2d_multi_in_out, (2, 3, 3), (4, 3, 2, 2), r"Received: X with 2 input channels, K with 3$"),
        (xpconv.corr2d_multi_in_out, (2, 3, 3), (1, 2, 4, 2), r"kernel must not be larger than the padded input\. Received: kernel size 4x2 .*X 3x3"),
        (xpconv.corr2d, (2, 3), (2, 4), r"kernel must not be larger than the padded input\. Received: kernel size 2x4"),
        (xpconv.corr2d_multi_in, (2, 0, 3), (2, 1, 1), r"X must have no zero-sized dimension\. Received: X with shape \(2, 0, 3\)"),
        (xpconv.corr2d_multi_in_out, (2, 3, 3), (0, 2, 1, 1), r"K must have no zero-sized dimension\. Received: K with shape \(0, 2, 1, 1\)"),
    ],
)
def test_shape_errors_name_argument_expectation_and_received(fw, function, x_shape, k_shape, pattern):
    with pytest.raises(ValueError, match=pattern):
        function(f32(fw, np.ones(x_shape)), f32(fw, np.ones(k_shape)))


@pytest.mark.parametrize("function", [xpconv.corr2d_multi_in_out, xpconv.conv2d])
def test_bool_dtype_is_refused(fw, function):
    x = fw.asarray(np.ones((2, 3, 3), bool))
    with pytest.raises(TypeError, match=r"(X|x) must have a numeric dtype \(integer, real or complex floating-point\)\. Received: (X|x) with dtype bool"):
        function(x, f32(fw, K3))
    with pytest.raises(TypeError, match=r"must have a numeric dtype \(integer, real or complex floating-point\)\. Received: (K|weight) with dtype bool"):
        function(f32(fw, X), fw.asarray(np.ones((3, 2, 2, 2), bool)))


@pytest.mark.parametrize(
    "bad",
    [np.array([["a", "b"], ["c", "d"]]), np.array([[1, 2], [3, 4]], dtype=object), [["a", "b"], ["c", "d"]]],
    ids=["str-array", "object-array", "str-list"],
)
def test_string_and_object_dtypes_are_refused(bad):
    with pytest.raises(TypeError, match=r"X must have a numeric dtype \(integer, real or complex floating-point\)\. Received: X with dtype"):
        xpconv.corr2d(bad, np.ones((1, 1)))


@pytest.mark.needs("tensorflow")
def test_tensorflow_string_tensor_is_refused():
    tf = ADAPTERS["tensorflow"].m
    with pytest.raises(TypeError, match=r"K must have a numeric dtype \(integer, real or complex floating-point\)\. Received: K with dtype string"):
        xpconv.corr2d(tf.ones((3, 3)), tf.constant([["a"]]))


def _pairs():
    return [
        (a, b) for a in SELECTED for b in SELECTED if a != b and "numpy" in (a, b)
    ] or [None]


@pytest.mark.parametrize("pair", _pairs(), ids=str)
def test_mixed_frameworks_are_refused_naming_both_types(pair):
    """A NumPy weight joins another framework's input (converted onto it); the other way round,
    or two other frameworks, is refused naming both types."""
    if pair is None:
        pytest.fail("unreachable: deselected")  # pragma: no cover
    first, second = ADAPTERS[pair[0]], ADAPTERS[pair[1]]
    x, k = f32(first, X), f32(second, K3)
    if type(k) is np.ndarray:  # a NumPy array is adopted onto any library's input
        assert first.is_array(xpconv.corr2d_multi_in_out(x, k)) and first.is_array(xpconv.conv2d(x, k))
        return
    with pytest.raises(TypeError) as info:
        xpconv.corr2d_multi_in_out(x, k)
    message = str(info.value)
    assert "X and K must be arrays of the same library" in message
    assert type(x).__name__ in message and type(k).__name__ in message
    with pytest.raises(TypeError, match="x and weight must be arrays of the same library"):
        xpconv.conv2d(x, k)


def test_unknown_array_type_lists_the_registered_backends(fw):
    class NotAnArray:
        shape = (2, 2)

    with pytest.raises(TypeError) as info:
        xpconv.corr2d(f32(fw, np.ones((3, 3))), NotAnArray())
    message = str(info.value)
    assert "NotAnArray" in message
    for name in xpconv.registered_backends()[:-1]:  # all but the generic fallback
        assert repr(name) in message


def test_errors_come_before_any_work(fw, monkeypatch):
    """No kernel is even chosen when validation fails: kernel selection is booby-trapped."""
    from xpconv import dispatch

    def trap(*args, **kwargs):
        raise AssertionError("a kernel was chosen before validation finished")

    monkeypatch.setattr(dispatch, "choose", trap)
    with pytest.raises(ValueError, match="X with 3 input channels, K with 2"):
        xpconv.corr2d_multi_in(f32(fw, np.ones((3, 4, 4))), f32(fw, np.ones((2, 2, 2))))
