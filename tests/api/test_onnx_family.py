"""The rest of ONNX's convolution family, beyond its node tests (``tests/onnx_nodes``): quantized
convolution with per-channel zero points in 1-D and 3-D (an exact reference of our own: ONNX's
reference evaluator mishandles 1-D per-channel zero points), requantization against the ONNX
formula, the streaming causal convolution fed in pieces, its gradients, and bad input named
before any work."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv
import xpconv.testing
from xpconv.testing import conv_oracle


def _exact_conv_integer(x, w, zx, zw, **options):
    """``conv(x - zx, w - zw)`` from the float64 oracle: exact for 8-bit data (sums below 2**53)."""
    shift = np.asarray(zw, np.int64).reshape(-1, *(1,) * (w.ndim - 1))
    y = conv_oracle(x.astype(np.int64) - int(zx), w.astype(np.int64) - shift, None, **options)
    return np.rint(y).astype(np.int32)


@pytest.mark.parametrize(("x_shape", "w_shape", "options"), [
    ((2, 4, 11), (6, 2, 3), {"stride": (2,), "padding": ((1, 2),), "groups": 2}),
    ((1, 3, 4, 5, 4), (2, 3, 2, 3, 2), {"dilation": (1, 2, 1), "padding": ((1, 0), (2, 2), (0, 1))}),
], ids=["1-D", "3-D"])
@pytest.mark.parametrize("dtype", ["uint8", "int8"])
def test_conv_integer_with_per_channel_zero_points_is_exact(fw, x_shape, w_shape, options, dtype):
    rng = np.random.default_rng(0)
    low, high = (0, 256) if dtype == "uint8" else (-128, 128)
    x = rng.integers(low, high, x_shape).astype(dtype)
    w = rng.integers(low, high, w_shape).astype(dtype)
    zx = np.array(rng.integers(low, high), dtype=dtype)
    zw = rng.integers(low, high, w_shape[0]).astype(dtype)
    expected = _exact_conv_integer(x, w, zx, zw, **options)
    y = xpconv.conv_integer(fw.asarray(x), fw.asarray(w), fw.asarray(zx), fw.asarray(zw), **options)
    value = fw.to_numpy(y)
    assert value.dtype == np.int32 and value.shape == expected.shape
    np.testing.assert_array_equal(value, expected)
    scalar = xpconv.conv_integer(fw.asarray(x), fw.asarray(w), int(zx), int(zw[0]), **options)
    np.testing.assert_array_equal(fw.to_numpy(scalar), _exact_conv_integer(x, w, zx, zw[:1].repeat(len(zw)),
                                                                           **options))


def test_qlinear_conv_against_the_onnx_formula(fw):
    """Per-channel weight scales and zero points, an int32 bias, saturation at both ends: the ONNX
    formula in float64, rounded half to even; where the backend has no float64 (JAX without x64)
    the product runs in float32 and may land one step away on a tie."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (2, 3, 7, 6)).astype(np.uint8)
    w = rng.integers(-128, 128, (4, 3, 3, 3)).astype(np.int8)
    zx, zw, zy = np.uint8(120), rng.integers(-5, 5, 4).astype(np.int8), np.int8(-3)
    sx, sw, sy = np.float32(0.02), rng.uniform(0.001, 0.01, 4).astype(np.float32), np.float32(0.05)
    bias = rng.integers(-2000, 2000, 4).astype(np.int32)
    total = _exact_conv_integer(x, w, zx, zw, padding=((1, 1), (1, 1))) + bias[:, None, None]
    multiplier = (sx * sw / sy).astype(np.float32).reshape(1, -1, 1, 1)
    expected = np.clip(np.rint(total * multiplier.astype(np.float64) + zy), -128, 127).astype(np.int8)
    arrays = [fw.asarray(a) for a in (x, sx, zx, w, sw, zw, sy, zy, bias)]
    y = fw.to_numpy(xpconv.qlinear_conv(*arrays[:8], arrays[8], padding=1))
    assert y.dtype == np.int8 and y.shape == expected.shape
    assert (expected == -128).any() and (expected == 127).any()  # saturated at both ends
    off = np.abs(y.astype(int) - expected)
    assert off.max() == 0 if "float64" in fw.backend.dtypes else off.max() <= 1


def _causal_oracle(x, w, b, state):
    joined = np.concatenate([state, x], axis=2)
    return conv_oracle(joined, w, b, groups=x.shape[1]), joined[:, :, joined.shape[2] - (w.shape[2] - 1):]


@pytest.mark.parametrize("k", [1, 4])
def test_causal_conv_fed_in_pieces_equals_it_fed_whole(fw, k):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 3, 10)), rng.standard_normal((3, 1, k)), rng.standard_normal(3)
    expected, last = _causal_oracle(x, w, b, np.zeros((2, 3, k - 1)))
    state, pieces = None, []
    for start, stop in ((0, 3), (3, 4), (4, 5), (5, 10)):  # decode steps (L = 1) among longer pieces
        y, state = xpconv.causal_conv1d(fw.asarray(x[:, :, start:stop]), fw.asarray(w), fw.asarray(b), state)
        assert fw.to_numpy(state).shape == (2, 3, k - 1)
        pieces.append(fw.to_numpy(y))
    np.testing.assert_allclose(np.concatenate(pieces, axis=2), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fw.to_numpy(state), last, rtol=0, atol=0)
    y, _ = xpconv.causal_conv1d(fw.asarray(x), fw.asarray(w), fw.asarray(b), activation="silu")
    np.testing.assert_allclose(fw.to_numpy(y), expected / (1 + np.exp(-expected)), rtol=1e-10, atol=1e-12)


def test_causal_conv_gradients_match_the_explicit_convolution(autodiff_fw):
    """Gradients with respect to the state and the input (one joined array here), the weight and
    the bias through the framework's autodiff: those of the three-op pattern (concat, depthwise
    conv, slice) written with xpconv.conv, and of the float64 oracle's."""
    rng = np.random.default_rng(3)
    joined, w, b = rng.standard_normal((2, 3, 8)), rng.standard_normal((3, 1, 3)), rng.standard_normal(3)
    g = rng.standard_normal((2, 3, 6))

    def fused(joined, w, b):  # the first k - 1 positions are the state
        return xpconv.causal_conv1d(joined[:, :, 2:], w, b, joined[:, :, :2])[0]

    got = autodiff_fw.gradients(fused, joined, w, b, g)
    want = autodiff_fw.gradients(lambda x, w, b: xpconv.conv(x, w, b, groups=3), joined, w, b, g)
    for name in ("dx", "dw", "db"):
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(got["db"], g.sum(axis=(0, 2)), rtol=1e-12)


@pytest.mark.parametrize(("call", "error", "pattern"), [
    (lambda fw, x8, w8: xpconv.conv_integer(fw.asarray(np.ones((1, 3, 4, 4), np.float32)), w8), TypeError,
     r"^x must have dtype uint8 or int8 \(ONNX's quantized types\)\. Received: x with dtype float32$"),
    (lambda fw, x8, w8: xpconv.conv_integer(x8, w8, 300), ValueError,
     r"^x_zero_point must lie in uint8's range \[0, 255\]\. Received: x_zero_point=300$"),
    (lambda fw, x8, w8: xpconv.conv_integer(x8, w8, fw.asarray(np.array(1, np.int8))), TypeError,
     r"^x_zero_point must have the dtype of its tensor, uint8\. Received: x_zero_point with dtype int8$"),
    (lambda fw, x8, w8: xpconv.conv_integer(x8, w8, 0, fw.asarray(np.zeros(3, np.uint8))), ValueError,
     r"^w_zero_point must have shape \(\) or \(1,\) or \(2,\)\. Received: w_zero_point with shape \(3,\)$"),
    (lambda fw, x8, w8: xpconv.qlinear_conv(x8, 0.1, 0, w8, fw.asarray(np.ones(3, np.float32)), 0, 0.2, 0), ValueError,
     r"^w_scale must have shape \(\) or \(1,\) or \(2,\)\. Received: w_scale with shape \(3,\)$"),
    (lambda fw, x8, w8: xpconv.causal_conv1d(fw.asarray(np.ones((1, 2, 5))), fw.asarray(np.ones((2, 1, 3))),
                                            state=fw.asarray(np.ones((1, 2, 3)))), ValueError,
     r"^state must have shape \(1, 2, 2\) \(\(N, C, k - 1\)\)\. Received: state with shape \(1, 2, 3\)$"),
    (lambda fw, x8, w8: xpconv.causal_conv1d(fw.asarray(np.ones((1, 2, 5))), fw.asarray(np.ones((3, 1, 3)))),
     ValueError, r"^weight must be \(C, 1, k\), one kernel per channel of x \(C=2\)\. Received: weight with shape"),
    (lambda fw, x8, w8: xpconv.causal_conv1d(fw.asarray(np.ones((1, 2, 5))), fw.asarray(np.ones((2, 1, 3))),
                                            activation="relu"), ValueError, r"^activation must be one of"),
    (lambda fw, x8, w8: xpconv.causal_conv1d(fw.asarray(np.ones((1, 2, 0))), fw.asarray(np.ones((2, 1, 3)))),
     ValueError, r"^x must have at least one position, \(N, C, L\) with L >= 1\. Received: x with shape \(1, 2, 0\)$"),
], ids=["float input", "zero point out of range", "zero point dtype", "zero points per channel", "weight scales",
        "state length", "weight shape", "activation", "no position"])
def test_bad_input_is_named_before_any_work(fw, call, error, pattern):
    x8 = fw.asarray(np.ones((1, 3, 4, 4), np.uint8))
    w8 = fw.asarray(np.ones((2, 3, 2, 2), np.uint8))
    with pytest.raises(error, match=pattern):
        call(fw, x8, w8)


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_same_lower_puts_the_odd_pixel_first(fw, stride):
    """ONNX's SAME_LOWER, forward and transposed, from ONNX's own formulas (ceil(n / s) outputs,
    the total padding's odd pixel first; transposed: n·s outputs, the odd element cropped first)."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((1, 2, 6, 7)), rng.standard_normal((3, 2, 3, 4))
    pads = []
    for n, k in zip(x.shape[2:], w.shape[2:]):
        total = max((-(-n // stride) - 1) * stride + k - n, 0)
        pads.append((total - total // 2, total // 2))
    expected = conv_oracle(x, w, None, stride=(stride,) * 2, padding=tuple(pads))
    y = xpconv.conv(fw.asarray(x), fw.asarray(w), stride=stride, padding="same_lower")
    np.testing.assert_allclose(fw.to_numpy(y), expected, rtol=1e-10, atol=1e-12)
    wt = rng.standard_normal((2, 3, 4, 3))
    full = xpconv.testing.conv_transpose_oracle(x, wt, None, stride=(stride,) * 2)
    crops = []
    for n, k in zip(x.shape[2:], wt.shape[2:]):
        total = max(stride * (n - 1) + k - n * stride, 0)  # ONNX's total_padding (a negative one adds zeros)
        crops.append(slice(total - total // 2, total - total // 2 + n * stride))
    expected = np.zeros((1, 3, 6 * stride, 7 * stride))
    window = full[(..., *crops)]
    expected[(..., *(slice(0, s) for s in window.shape[2:]))] = window
    y = xpconv.conv_transpose(fw.asarray(x), fw.asarray(wt), stride=stride, padding="same_lower")
    np.testing.assert_allclose(fw.to_numpy(y), expected, rtol=1e-10, atol=1e-12)
