"""Issue 2: the chapter's functions on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv
from xpconv.testing import assert_array, assert_close, conv2d_oracle

from chapter_data import CORR2D, K3, MULTI_IN, MULTI_OUT, K, X

EXACT_DTYPES = ["float32", "float64", "int32", "int64"]


@pytest.mark.parametrize("dtype", EXACT_DTYPES)
def test_corr2d_multi_in_gives_the_chapters_numbers(fw, dtype):
    result = xpconv.corr2d_multi_in(fw.asarray(X, dtype), fw.asarray(K, dtype))
    assert_array(fw, result, dtype=dtype, shape=(2, 2))
    np.testing.assert_array_equal(fw.to_numpy(result), MULTI_IN)


@pytest.mark.parametrize("dtype", EXACT_DTYPES)
def test_corr2d_multi_in_out_gives_the_chapters_numbers(fw, dtype):
    assert K3.shape == (3, 2, 2, 2)
    result = xpconv.corr2d_multi_in_out(fw.asarray(X, dtype), fw.asarray(K3, dtype))
    assert_array(fw, result, dtype=dtype, shape=(3, 2, 2))
    np.testing.assert_array_equal(fw.to_numpy(result), MULTI_OUT)


@pytest.mark.parametrize("dtype", EXACT_DTYPES)
def test_corr2d_single_channel(fw, dtype):
    x = fw.asarray(np.arange(9).reshape(3, 3), dtype)
    result = xpconv.corr2d(x, fw.asarray(K[0], dtype))
    assert_array(fw, result, dtype=dtype, shape=(2, 2))
    np.testing.assert_array_equal(fw.to_numpy(result), CORR2D)


def test_1x1_is_the_matrix_product_and_equals_the_general_path(fw):
    rng = np.random.default_rng(20261122)
    x_np = rng.uniform(0, 1, (3, 3, 3)).astype(np.float32)
    k_np = rng.normal(0, 1, (2, 3, 1, 1)).astype(np.float32)
    x, k = fw.asarray(x_np), fw.asarray(k_np)
    y1 = xpconv.corr2d_multi_in_out_1x1(x, k)
    y2 = xpconv.corr2d_multi_in_out(x, k)
    assert_array(fw, y1, dtype="float32", shape=(2, 3, 3))
    assert_array(fw, y2, dtype="float32", shape=(2, 3, 3))
    assert np.abs(fw.to_numpy(y1) - fw.to_numpy(y2)).max() < 1e-6
    matmul = (k_np.reshape(2, 3).astype(np.float64) @ x_np.reshape(3, 9).astype(np.float64)).reshape(2, 3, 3)
    assert np.abs(fw.to_numpy(y1) - matmul).max() < 1e-6


def _cases(count: int = 50):
    """Seeded random shapes, with the corners the issue names always present."""
    rng = np.random.default_rng(7)
    fixed = [
        (2, 3, 5, 7, 2, 3),  # non-square kernel, non-square input
        (3, 2, 4, 4, 4, 4),  # kernel as large as the input: a 1x1 output
        (1, 4, 6, 5, 3, 3),  # one input channel
        (5, 1, 6, 6, 3, 2),  # one output channel
        (1, 1, 3, 3, 3, 1),
        (4, 3, 9, 2, 1, 2),
    ]
    cases = list(fixed)
    while len(cases) < count:
        c_in, c_out = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        h, w = int(rng.integers(1, 11)), int(rng.integers(1, 11))
        kh, kw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
        cases.append((c_in, c_out, h, w, kh, kw))
    return cases


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", _cases(), ids=lambda c: "ci{}-co{}-{}x{}-k{}x{}".format(*c))
def test_agrees_with_the_frameworks_own_convolution_and_the_oracle(fw, case, dtype):
    c_in, c_out, h, w, kh, kw = case
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    x_np = rng.normal(size=(c_in, h, w)).astype(dtype)
    k_np = rng.normal(size=(c_out, c_in, kh, kw)).astype(dtype)
    x, k = fw.asarray(x_np), fw.asarray(k_np)
    result = xpconv.corr2d_multi_in_out(x, k)
    expected = conv2d_oracle(x_np[None], k_np)[0]
    magnitude = conv2d_oracle(x_np[None], k_np, absolute=True)[0]
    length = c_in * kh * kw
    assert_close(fw, result, expected, dtype=dtype, magnitude=magnitude, reduction_length=length)
    native = fw.reference_conv2d(
        fw.asarray(x_np[None]), k, None, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1
    )
    native64 = fw.to_numpy(native)[0].astype(np.float64)
    # Both are within tolerance of the oracle, so within twice of each other.
    assert_close(fw, result, native64, dtype=dtype, magnitude=2 * magnitude, reduction_length=length)
    if c_out == 1:
        single = xpconv.corr2d_multi_in(x, fw.asarray(k_np[0]))
        assert_close(fw, single, expected[0], dtype=dtype, magnitude=magnitude[0], reduction_length=length)


def test_inputs_are_never_modified(fw):
    x_np, k_np = X.astype(np.float32), K3.astype(np.float32)
    x, k = fw.asarray(x_np), fw.asarray(k_np)
    xpconv.corr2d_multi_in_out(x, k)
    xpconv.corr2d_multi_in_out_1x1(x, fw.asarray(k_np[:, :, :1, :1]))
    xpconv.conv2d(x, k, padding="same", method="portable")
    np.testing.assert_array_equal(fw.to_numpy(x), x_np)
    np.testing.assert_array_equal(fw.to_numpy(k), k_np)


def test_lists_are_numpy_and_join_other_frameworks(fw):
    result = xpconv.corr2d_multi_in(X.tolist(), K.tolist())
    assert isinstance(result, np.ndarray)
    np.testing.assert_array_equal(result, MULTI_IN)
    joined = xpconv.corr2d_multi_in(fw.asarray(X, "float32"), K.tolist())
    assert fw.is_array(joined)
    np.testing.assert_array_equal(fw.to_numpy(joined), MULTI_IN)


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((3, 64, 3), {}, 1_792),
        ((256, 256, 3), {}, 590_080),
        ((512, 2048, 3), {}, 9_439_232),
        ((512, 2048, (3, 3)), {}, 9_439_232),
        ((3, 64, (3, 5)), {"bias": False}, 64 * 3 * 15),
        ((32, 64, 3), {"groups": 4}, 64 * 8 * 9 + 64),
    ],
)
def test_param_count(args, kwargs, expected):
    assert xpconv.param_count(*args, **kwargs) == expected


def test_conv2d_cost_of_the_chapters_large_layer():
    cost = xpconv.conv2d_cost((128, 256, 256), (128, 128, 5, 5), padding="same")
    assert cost.flops == 53_687_091_200
    assert cost.macs * 2 == cost.flops
    assert cost.output_shape == (128, 256, 256)
    assert cost.params == xpconv.param_count(128, 128, 5)


def test_conv2d_cost_matches_the_shape_conv2d_returns(fw):
    x = fw.asarray(np.ones((2, 4, 9, 7), np.float32))
    w = fw.asarray(np.ones((6, 2, 3, 2), np.float32))
    options = {"stride": 2, "padding": "same", "dilation": (1, 2), "groups": 2}
    cost = xpconv.conv2d_cost((2, 4, 9, 7), (6, 2, 3, 2), **options)
    assert tuple(xpconv.conv2d(x, w, **options).shape) == cost.output_shape == (2, 6, 5, 4)
    assert cost.macs == 2 * 6 * 5 * 4 * 2 * 3 * 2
