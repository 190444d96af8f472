"""Random cases of the convolution family through ONNX's reference evaluator
(``onnx.reference.ReferenceEvaluator`` on a one-node model) and through xpconv, on every
backend: SAME_LOWER, ConvInteger and QLinearConv (2-D: the evaluator handles per-channel zero
points only there), CausalConvWithState (decode steps, no state, kernel size one) and DeformConv."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

import xpconv

#: NumPy dtypes as ONNX element types.
ELEMENT = {"float32": TensorProto.FLOAT, "uint8": TensorProto.UINT8, "int8": TensorProto.INT8,
           "int32": TensorProto.INT32}


def _evaluate(op: str, inputs: dict[str, np.ndarray], outputs: list[str], opset: int, **attributes) -> list[np.ndarray]:
    """ONNX's reference evaluator on one ``op`` node over ``inputs`` (by name, in order)."""
    node = helper.make_node(op, list(inputs), outputs, **attributes)
    graph = helper.make_graph([node], op, [helper.make_tensor_value_info(n, ELEMENT[a.dtype.name], a.shape)
                                           for n, a in inputs.items()],
                              [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None) for n in outputs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return ReferenceEvaluator(model).run(None, inputs)


def _same(fw, got, want):
    value = fw.to_numpy(got)
    assert value.dtype == want.dtype and value.shape == want.shape, (value.dtype, value.shape, want.shape)
    if np.issubdtype(want.dtype, np.integer):
        np.testing.assert_array_equal(value, want)
    else:
        np.testing.assert_allclose(value, want, rtol=1e-4, atol=1e-5)


SEEDS = [0, 1, 2]


@pytest.mark.parametrize("seed", SEEDS)
def test_same_lower(fw, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, *rng.integers(4, 9, 2))).astype(np.float32)
    w = rng.standard_normal((4, 3, *rng.integers(1, 5, 2))).astype(np.float32)
    stride = [int(s) for s in rng.integers(1, 4, 2)]
    (want,) = _evaluate("Conv", {"x": x, "w": w}, ["y"], 22, auto_pad="SAME_LOWER", strides=stride)
    _same(fw, xpconv.conv(fw.asarray(x), fw.asarray(w), stride=tuple(stride), padding="same_lower"), want)


@pytest.mark.parametrize("seed", SEEDS)
def test_quantized(fw, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (1, 4, 7, 6)).astype(np.uint8)
    w = rng.integers(-128, 128, (6, 2, 3, 2)).astype(np.int8)
    zx, zw = np.uint8(rng.integers(0, 256)), rng.integers(-8, 8, 6).astype(np.int8)
    options = {"pads": [1, 0, 1, 1], "strides": [2, 1], "group": 2}
    ours = {"padding": ((1, 1), (0, 1)), "stride": (2, 1), "groups": 2}
    (want,) = _evaluate("ConvInteger", {"x": x, "w": w, "x_zero_point": zx, "w_zero_point": zw}, ["y"], 10, **options)
    _same(fw, xpconv.conv_integer(*(fw.asarray(a) for a in (x, w, zx, zw)), **ours), want)
    sx, sw, sy = np.float32(0.01), rng.uniform(0.002, 0.02, 6).astype(np.float32), np.float32(rng.uniform(0.05, 0.5))
    zy, bias = np.uint8(rng.integers(0, 256)), rng.integers(-500, 500, 6).astype(np.int32)
    feeds = {"x": x, "x_scale": sx, "x_zero_point": zx, "w": w, "w_scale": sw, "w_zero_point": zw, "y_scale": sy,
             "y_zero_point": zy, "B": bias}
    (want,) = _evaluate("QLinearConv", feeds, ["y"], 10, **options)
    got = fw.to_numpy(xpconv.qlinear_conv(*(fw.asarray(a) for a in feeds.values()), **ours))
    # the evaluator multiplies in float64; a backend without float64 (JAX without x64) may land a tie one step away
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.abs(got.astype(int) - want).max() <= (0 if "float64" in fw.backend.dtypes else 1)


@pytest.mark.parametrize(("length", "k", "state", "activation"), [
    (1, 4, True, "none"), (7, 4, False, "silu"), (5, 1, False, "swish"), (2, 5, True, "none")])
def test_causal(fw, length, k, state, activation):
    rng = np.random.default_rng(length * k)
    feeds = {"input": rng.standard_normal((2, 3, length)).astype(np.float32),
             "weight": rng.standard_normal((3, 1, k)).astype(np.float32),
             "bias": rng.standard_normal(3).astype(np.float32)}
    if state:
        feeds["past_state"] = rng.standard_normal((2, 3, k - 1)).astype(np.float32)
    want = _evaluate("CausalConvWithState", feeds, ["output", "present_state"], 27, activation=activation)
    got = xpconv.causal_conv1d(*(fw.asarray(a) for a in feeds.values()), activation=activation)
    for g, w in zip(got, want):
        _same(fw, g, w)


@pytest.mark.parametrize("seed", SEEDS)
def test_deform(fw, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 4, 6, 5)).astype(np.float32)
    w = rng.standard_normal((4, 2, 2, 3)).astype(np.float32)
    options = {"pads": [1, 0, 0, 1], "strides": [2, 1], "dilations": [1, 2], "group": 2, "offset_group": 2}
    plan = xpconv.plan(x.shape, w.shape, padding=((1, 0), (0, 1)), stride=(2, 1), dilation=(1, 2), groups=2)
    offset = rng.uniform(-2, 2, (2, 2 * 6 * 2, *plan.out_size)).astype(np.float32)
    mask = rng.uniform(0, 1, (2, 2 * 6, *plan.out_size)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    (want,) = _evaluate("DeformConv", {"X": x, "W": w, "offset": offset, "B": bias, "mask": mask}, ["Y"], 22, **options)
    arrays = [fw.asarray(a) for a in (x, w, offset, bias, mask)]
    options = {"padding": ((1, 0), (0, 1)), "stride": (2, 1), "dilation": (1, 2), "groups": 2, "offset_groups": 2}
    if fw.backend.container:  # taps read across blocks: refused by name
        with pytest.raises(TypeError, match=r"^deform_conv needs in-memory arrays"):
            xpconv.deform_conv(*arrays, **options)
        return
    _same(fw, xpconv.deform_conv(*arrays, **options), want)
