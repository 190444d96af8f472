"""ONNX's own node tests for the convolution family, recreated from onnx's case generators
(``onnx.backend.test.case.node``), run through xpconv on every backend, eagerly and traced:
``CausalConvWithState`` (every case, its ``_expanded`` twin too: the same data through the
Concat + Conv + Slice graph), ``ConvInteger``, ``QLinearConv``, ``DeformConv`` and ``Conv`` with
``auto_pad="SAME_LOWER"``: all 34. Dask arrays are refused by ``deform_conv``, by name."""

from __future__ import annotations

import functools

import numpy as np
import onnx
import pytest
from onnx.backend.test.case.node import collect_testcases

import xpconv

#: The ONNX operators xpconv answers here, and the node tests of each (by name prefix).
OPERATORS = {
    "CausalConvWithState": ("test_causal_conv_with_state",),
    "ConvInteger": ("test_convinteger",),
    "QLinearConv": ("test_qlinearconv",),
    "DeformConv": ("test_basic_deform_conv", "test_deform_conv"),
    "Conv": ("test_conv_with_autopad_same",),  # the one SAME_LOWER case of Conv's node tests
}


@functools.cache
def _cases() -> dict[str, tuple[str, dict, list, list, float, float]]:
    """name -> (operator, attributes, inputs by graph input name, outputs, rtol, atol)."""
    nodes = {}
    for case in collect_testcases(None):
        operator = next((op for op, prefixes in OPERATORS.items() if case.name.startswith(prefixes)), None)
        if operator is None:
            continue
        node = next((n for n in case.model.graph.node if n.op_type == operator), None)
        nodes[case.name] = (operator, node, case)
    found = {}
    for name, (operator, node, case) in nodes.items():
        if node is None:  # an _expanded graph: the attributes of its single-node twin
            node = nodes[name.removesuffix("_expanded")][1]
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        inputs, outputs = case.data_sets[0]
        names = [i.name for i in case.model.graph.input]
        found[name] = (operator, attributes, dict(zip(names, inputs)), list(outputs), case.rtol, case.atol)
    return found


def _options(attributes: dict, rank: int) -> dict:
    """ONNX's ``pads``/``strides``/``dilations``/``group``/``auto_pad`` as xpconv's options."""
    pads = attributes.get("pads", [0] * 2 * rank)
    options = {"stride": tuple(attributes.get("strides", [1] * rank)),
               "dilation": tuple(attributes.get("dilations", [1] * rank)),
               "groups": attributes.get("group", 1),
               "padding": tuple(zip(pads[:rank], pads[rank:]))}
    auto_pad = attributes.get("auto_pad", b"NOTSET").decode()
    if auto_pad != "NOTSET":
        options["padding"] = {"SAME_UPPER": "same", "SAME_LOWER": "same_lower", "VALID": "valid"}[auto_pad]
    return options


def _run(operator: str, attributes: dict, arrays: dict, rank: int):
    """The node through xpconv, on the arrays (of one framework, by ONNX's input names)."""
    if operator == "CausalConvWithState":
        activation = attributes.get("activation", b"none").decode()
        return xpconv.causal_conv1d(arrays["input"], arrays["weight"], arrays.get("bias"), arrays.get("past_state"),
                                    activation=activation)
    options = _options(attributes, rank)
    values = list(arrays.values())
    if operator == "ConvInteger":
        return (xpconv.conv_integer(*values, **options),)
    if operator == "QLinearConv":
        return (xpconv.qlinear_conv(*values, **options),)
    if operator == "DeformConv":
        return (xpconv.deform_conv(*values, offset_groups=attributes.get("offset_group", 1), **options),)
    return (xpconv.conv(*values, **options),)


def _check(fw, got, expected, rtol, atol, where):
    assert len(got) == len(expected), where
    for y, want in zip(got, expected):
        value = fw.to_numpy(y)
        assert value.dtype == want.dtype and value.shape == want.shape, (where, value.dtype, value.shape)
        if np.issubdtype(want.dtype, np.integer):
            np.testing.assert_array_equal(value, want, err_msg=where)
        else:
            if want.dtype == np.float16:  # computed in float32, rounded once: allow two float16 steps (oneDNN on or off)
                rtol = max(rtol, 2 * float(np.finfo(np.float16).eps))
            np.testing.assert_allclose(value.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol,
                                       err_msg=where)


def test_every_node_test_is_found():
    counts = {op: sum(1 for c in _cases().values() if c[0] == op) for op in OPERATORS}
    assert counts == {"CausalConvWithState": 26, "ConvInteger": 2, "QLinearConv": 1, "DeformConv": 4, "Conv": 1}, counts


@pytest.mark.parametrize(("name", "input_dtypes"), [  # a library without a dtype is deselected (conftest)
    (name, tuple(sorted({a.dtype.name for a in case[2].values()}))) for name, case in sorted(_cases().items())])
def test_onnx_node(fw, name, input_dtypes):
    operator, attributes, inputs, expected, rtol, atol = _cases()[name]
    held = [fw.array_of(a.dtype.name, a) for a in inputs.values()]
    if any(a is None for a in held):  # the library has no such dtype (array_api_strict's float16): nothing to run
        assert not all(fw.has_dtype(d) for d in input_dtypes) or any(fw.array_of(d, [0]) is None for d in input_dtypes)
        return
    if operator == "DeformConv" and fw.backend.container:  # taps read across blocks: refused by name
        with pytest.raises(TypeError, match=r"^deform_conv needs in-memory arrays"):
            _run(operator, attributes, {k: fw.asarray(v) for k, v in inputs.items()}, 2)
        return
    if not set(input_dtypes) <= set(fw.backend.dtypes):  # one xpconv does not compute: refused by name
        with pytest.raises(TypeError, match=r"must have a dtype the \w+ backend computes"):
            _run(operator, attributes, {k: fw.asarray(v) for k, v in inputs.items()}, 2)
        return
    arrays = {k: fw.asarray(v) for k, v in inputs.items()}
    rank = next(iter(inputs.values())).ndim - 2
    _check(fw, _run(operator, attributes, arrays, rank), expected, rtol, atol, f"{name} eager")
    names = list(arrays)
    traced = fw.traced(lambda *a: _run(operator, attributes, dict(zip(names, a)), rank))
    _check(fw, traced(*arrays.values()), expected, rtol, atol, f"{name} traced")
