"""Issue 18: ``xpconv.explain``, the sum of products behind one output element, on every backend."""

from __future__ import annotations

import json

import numpy as np
import pytest

import xpconv
from xpconv.cli import main
from xpconv.testing.oracle import conv_oracle

from chapter_data import K3, K, X

FIGURE = "56 = (0·0 + 1·1 + 3·2 + 4·3) + (1·1 + 2·2 + 4·3 + 5·4)"


def _evaluate(text: str) -> tuple[float, float, list[str]]:
    """``(left, right evaluated, parentheses)`` of ``"left = (a·b + ...) + ... + bias"``."""
    left, right = text.split(" = ", 1)
    parts = right.replace("(", "").split(") + ")
    return float(left), float(eval(right.replace("·", "*"))), parts  # our own digits and operators


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_explain_writes_the_chapters_figure(fw, dtype):
    """The figure's 8 products, one parenthesis per input channel, for every dtype of every framework."""
    assert xpconv.explain(fw.asarray(X, dtype), fw.asarray(K, dtype), (0, 0)) == FIGURE
    assert xpconv.explain(fw.asarray(X, dtype), fw.asarray(K3, dtype), (2, 1, 1)) == (
        "224 = (4·2 + 5·3 + 7·4 + 8·5) + (5·3 + 6·4 + 8·5 + 9·6)")


@pytest.mark.parametrize(("x_shape", "w_shape", "options"), [
    ((4, 7, 6), (6, 2, 3, 2), {"stride": (2, 1), "padding": 1, "dilation": (1, 2), "groups": 2,
                               "padding_mode": "reflect"}),
    ((3, 9), (2, 3, 3), {"stride": 2, "padding": "same", "padding_mode": "circular"}),
    ((2, 4, 5, 3), (3, 2, 2, 3, 1), {"padding": (1, 0, 1), "padding_mode": "replicate"}),
], ids=["2-D groups stride dilation reflect", "1-D same circular", "3-D replicate"])
def test_every_element_sums_to_the_convolution(fw, x_shape, w_shape, options):
    """Each element's text adds up to its value, which is the float64 oracle's, with one parenthesis
    per input channel of the output channel's group and one product per tap."""
    rng = np.random.default_rng(18)
    x, w, b = rng.integers(-4, 5, x_shape), rng.integers(-3, 4, w_shape), rng.integers(-9, 10, w_shape[0])
    plan = xpconv.plan(x_shape, w_shape, **options)
    expected = conv_oracle(x[None].astype(float), w.astype(float), b.astype(float), stride=plan.stride,
                           padding=plan.padding, dilation=plan.dilation, groups=plan.groups,
                           padding_mode=plan.padding_mode)[0]
    args = [fw.asarray(a, "float64") for a in (x, w, b)]
    for index in np.ndindex(*expected.shape):
        left, right, parentheses = _evaluate(xpconv.explain(args[0], args[1], index, args[2], **options))
        assert left == right == expected[index]
        assert len(parentheses) == x_shape[0] // plan.groups + 1  # and the bias
        assert all(p.count("·") == np.prod(w_shape[2:]) for p in parentheses[:-1])


def test_explain_refuses_bad_input_by_name():
    with pytest.raises(TypeError, match=r"index must be a tuple of 2 ints, \(\*position\).*Received: index=\(0,\)"):
        xpconv.explain(X, K, (0,))
    with pytest.raises(TypeError, match=r"index=\(0, True\)"):
        xpconv.explain(X, K, (0, True))
    with pytest.raises(ValueError, match=r"index must lie inside the output, of shape \(3, 2, 2\)"):
        xpconv.explain(X, K3, (3, 0, 0))
    with pytest.raises(ValueError, match=r"K must have as many dimensions as X.*K with shape \(2, 2\)"):
        xpconv.explain(X, K[0], (0, 0))
    with pytest.raises(ValueError, match=r"K.*channel"):
        xpconv.explain(X, K3[:, :1], (0, 0, 0))
    with pytest.raises(ValueError, match=r"bias must be a scalar or of shape \(3,\).*\(2,\)"):
        xpconv.explain(X, K3, (0, 0, 0), [1, 2])
    assert xpconv.explain(X, K, (np.int64(0), np.int64(0))) == FIGURE  # NumPy's integers are ints


def test_explain_command_prints_every_element(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    assert f"Y[0, 0]: {FIGURE}" in out and "Y[1, 1]: 120 = " in out and "[[ 56  72]" in out
    assert main(["explain", "--out-channels", "3", "--index", "2", "1", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["explained"] == {"Y[2, 1, 1]": "224 = (4·2 + 5·3 + 7·4 + 8·5) + (5·3 + 6·4 + 8·5 + 9·6)"}
    assert np.array_equal(report["Y"][2], [[96, 128], [192, 224]])
    assert main(["explain", "--index", "5", "5"]) == 2
    assert "argument --index: expected I J inside the output of shape (2, 2), got 5 5" in capsys.readouterr().err
