"""Outputs that read no input, and taps that read only padding, on every backend and method.

An empty batch gives the empty result of the right shape, dtype, type and device from the plan,
eagerly and traced with an unknown batch (``tf.function``, ``torch.compile``, ``jax.jit``), with
TensorFlow's oneDNN forced on and off (with it on, TensorFlow's own convolution returned its
input for an empty batch). A transposed convolution that crops every input element away, or a
stride that steps over the input, gives the bias alone. Taps that read only zero padding are
skipped, so a huge dilation costs what its live taps cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xpconv
from xpconv.kernels import reach
from xpconv.testing import assert_array, assert_close

from matrix import methods

HERE = Path(__file__).parent

EMPTY_CASES = [  # (name, x shape channels first, weight shape, options, transposed)
    ("1-D", (0, 4, 9), (6, 2, 3), {"groups": 2, "stride": 2, "padding": 1}, False),
    ("2-D", (0, 4, 7, 8), (6, 2, 3, 3), {"groups": 2, "stride": 2, "padding": 1}, False),
    ("2-D depthwise same", (0, 4, 7, 8), (4, 1, 3, 3), {"groups": 4, "padding": "same"}, False),
    ("2-D reflect", (0, 3, 5, 5), (2, 3, 3, 3), {"padding": 1, "padding_mode": "reflect"}, False),
    ("3-D", (0, 2, 4, 5, 6), (3, 2, 2, 2, 2), {"padding": 1}, False),
    ("1-D transposed", (0, 4, 5), (4, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, True),
    ("2-D transposed groups", (0, 4, 5, 5), (4, 2, 3, 3), {"stride": 2, "groups": 2, "dilation": 2}, True),
    ("3-D transposed", (0, 2, 3, 3, 3), (2, 3, 2, 2, 2), {"stride": 2}, True),
]


def _plan(x_shape, w_shape, options, transposed, layout="channels_first"):
    return xpconv.plan(x_shape, w_shape, transposed=transposed, data_format=layout, **options)


def _layout_shape(shape, last):
    return (shape[0], *shape[2:], shape[1]) if last else shape


@pytest.mark.parametrize("last", [False, True], ids=["channels_first", "channels_last"])
@pytest.mark.parametrize(("name", "x_shape", "w_shape", "options", "transposed"), EMPTY_CASES, ids=[c[0] for c in EMPTY_CASES])
def test_an_empty_batch_gives_the_empty_result_from_the_plan(fw, name, x_shape, w_shape, options, transposed, last):
    plan = _plan(x_shape, w_shape, options, transposed)
    c_out = plan.out_channels
    expected = _layout_shape((0, c_out, *plan.out_size), last)
    x = fw.asarray(np.ones(_layout_shape(x_shape, last)), "float32")
    w = fw.asarray(np.ones(w_shape), "float32")
    function = xpconv.conv_transpose if transposed else xpconv.conv
    layout = "channels_last" if last else "channels_first"
    for method in methods(fw):
        for bias in (None, fw.asarray(np.ones(c_out), "float32")):
            y = function(x, w, bias, data_format=layout, method=method, **options)
            assert_array(fw, y, dtype="float32", shape=expected, device=fw.device(x))


@pytest.mark.needs("tensorflow")
@pytest.mark.parametrize("onednn", ["0", "1"], ids=["onednn-off", "onednn-on"])
def test_tensorflow_empty_batches_with_onednn_forced_both_ways(onednn):
    """TensorFlow reads TF_ENABLE_ONEDNN_OPTS at import and CPUs differ in its default: each
    setting runs in a process of its own, eagerly and in tf.function with an unknown batch."""
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, str(HERE / "tf_empty_batch.py")], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["onednn"] == onednn
    assert report["results"] and not report["wrong"], report["wrong"]


@pytest.mark.needs("torch")
@pytest.mark.parametrize("method", ["auto", "native", "portable"])
def test_torch_compile_with_a_dynamic_batch_gives_empty_results(method):
    import torch

    w, b = torch.ones(6, 2, 3, 3), torch.ones(6)
    compiled = torch.compile(lambda x: xpconv.conv2d(x, w, b, groups=2, stride=2, padding=1, method=method),
                             dynamic=True)
    for n in (2, 3, 0):
        y = compiled(torch.ones(n, 4, 7, 8))
        assert tuple(y.shape) == (n, 6, 4, 4) and y.dtype == torch.float32
        if n:
            expected = torch.nn.functional.conv2d(torch.ones(n, 4, 7, 8), w, b, stride=2, padding=1, groups=2)
            torch.testing.assert_close(y, expected)


@pytest.mark.needs("jax")
@pytest.mark.parametrize("method", ["auto", "native", "portable"])
def test_jax_jit_gives_empty_results(method):
    import jax
    import jax.numpy as jnp
    from jax import export

    w, b = jnp.ones((6, 2, 3, 3), jnp.float32), jnp.ones(6, jnp.float32)
    fn = jax.jit(lambda x: xpconv.conv2d(x, w, b, groups=2, stride=2, padding=1, method=method))
    y = fn(jnp.ones((0, 4, 7, 8), jnp.float32))
    assert y.shape == (0, 6, 4, 4) and y.dtype == jnp.float32
    # a symbolic batch (jax.export) is at least 1 by JAX's own rule: nothing empty reaches a kernel
    exported = export.export(fn)(jax.ShapeDtypeStruct(export.symbolic_shape("b, 4, 7, 8"), jnp.float32))
    assert exported.call(jnp.ones((2, 4, 7, 8), jnp.float32)).shape == (2, 6, 4, 4)


NOTHING_READ = [  # outputs whose windows never reach the input: zeros plus the bias
    ("transposed crop beyond the uncropped output", (1, 1, 1), (1, 1, 1),
     {"stride": 3, "padding": ((2, 0),), "output_padding": 2, "dilation": 2}, True),
    ("transposed crop into the output padding", (1, 1, 1), (1, 1, 1), {"stride": 2, "padding": ((1, 0),), "output_padding": 1}, True),
    ("stride steps over the input", (1, 2, 1), (3, 2, 1), {"stride": 2, "padding": 1}, False),
    ("2-D transposed, one axis cropped away", (1, 2, 3, 1), (2, 2, 2, 1),
     {"stride": (1, 3), "padding": ((0, 0), (2, 0)), "output_padding": (0, 2)}, True),
]


@pytest.mark.parametrize(("name", "x_shape", "w_shape", "options", "transposed"), NOTHING_READ, ids=[c[0] for c in NOTHING_READ])
def test_outputs_that_read_no_input_are_the_bias(fw, name, x_shape, w_shape, options, transposed):
    plan = _plan(x_shape, w_shape, options, transposed)
    rng = np.random.default_rng(0)
    x, w = fw.asarray(rng.standard_normal(x_shape)), fw.asarray(rng.standard_normal(w_shape))
    bias = np.arange(1.0, plan.out_channels + 1)
    function = xpconv.conv_transpose if transposed else xpconv.conv
    expected = np.broadcast_to(bias.reshape(1, -1, *(1,) * plan.rank), (1, plan.out_channels, *plan.out_size))
    for method in methods(fw):
        y = function(x, w, fw.asarray(bias), method=method, **options)
        assert_close(fw, y, np.array(expected), dtype="float64")
        z = function(x, w, method=method, **options)
        assert_close(fw, z, np.zeros(expected.shape), dtype="float64")


@pytest.mark.parametrize(("dilation", "length"), [(2**25, 3), (2**30 - 1, 1)])
def test_a_huge_dilation_costs_only_its_live_taps(fw, dilation, length):
    """Before: 6 s and 3 GB in the NumPy kernel at 2**25, an attempt at 32 GiB at 2**30 - 1."""
    signal = np.arange(1.0, length + 1).reshape(1, 1, length)
    x, w = fw.asarray(signal), fw.asarray(np.array([[[2.0, 3.0, 5.0]]]))
    for method in methods(fw):
        y = xpconv.conv1d(x, w, dilation=dilation, padding="same", method=method)
        assert_close(fw, y, 3 * signal, dtype="float64")  # only the middle tap reads the input
        t = xpconv.conv_transpose1d(x, w, dilation=dilation, padding=dilation, method=method)
        assert_close(fw, t, 3 * signal, dtype="float64")


def test_live_taps_match_the_definition_on_every_small_geometry():
    """:func:`xpconv.kernels.reach.reach` against a brute-force reading of which taps and inputs are read:
    the cut convolution has the same output size and every live tap and read input."""
    import itertools

    for n, p0, p1, k, d, s in itertools.product(range(1, 6), range(6), range(6), range(1, 5), range(1, 4), range(1, 4)):
        if n + p0 + p1 < (k - 1) * d + 1:
            continue
        plan = _plan((1, 1, n), (1, 1, k), {"padding": ((p0, p1),), "dilation": d, "stride": s}, False)
        o = plan.out_size[0]
        live = [i for i in range(k) if any(0 <= t * s + i * d - p0 < n for t in range(o))]
        read = [t * s + i * d - p0 for t in range(o) for i in range(k) if 0 <= t * s + i * d - p0 < n]
        found = reach.reach(plan)
        if found.empty:
            assert not live, (n, p0, p1, k, d, s)
            continue
        (lo, hi), (first, stop) = found.taps[0], found.inputs[0]
        if live:  # else a stride steps over the input between the live taps' hull: zeros, rightly
            assert lo <= min(live) and max(live) < hi and first <= min(read) and max(read) < stop
        assert found.plan.out_size == plan.out_size and min(found.plan.padding[0]) >= 0
        assert found.trims == (hi - lo < k)
