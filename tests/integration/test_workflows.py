"""Issue 7: xpconv where framework users live — unknown and symbolic sizes (tf.function input
signatures, torch.export, torch.compile(dynamic=True), jax.export), TensorFlow's graph modes in
any order, and Grappler's op fusion forced both ways. Values against the float64 oracle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import xpconv

from conv_cases import Problem

HERE = Path(__file__).parent

# stride 1 and 2 with "same", "valid" and explicit padding (the list)
SYMBOLIC_OPTIONS = [
    {"stride": 1, "padding": "same"},
    {"stride": 2, "padding": "same"},
    {"stride": 1, "padding": "valid"},
    {"stride": 2, "padding": "valid"},
    {"stride": 2, "padding": ((1, 0), (2, 1))},
    {"stride": 1, "padding": 1, "dilation": 2},
]
#: (N, H, W) sizes each traced or exported function is called with
SIZES = [(2, 9, 9), (3, 9, 9), (1, 12, 7), (4, 5, 6)]


def _weights(seed: int = 0, groups: int = 1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((8, 4 // groups, 3, 3)), rng.standard_normal(8)


def _problem(size, w, b, options, layout="NCHW", seed=1) -> Problem:
    n, h, wd = size
    x = np.random.default_rng([seed, n, h, wd]).standard_normal((n, 4, h, wd))
    return Problem(x, w, b, dict(options), data_format=layout)


def _close(got: np.ndarray, problem: Problem) -> None:
    want = problem.oracle()
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


# -- TensorFlow ------------------------------------------------------------------------------
@pytest.mark.needs("tensorflow")
@pytest.mark.parametrize("method", ["auto", "native", "portable"])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("unknown", ["batch", "batch, H, W"])
@pytest.mark.parametrize("options", SYMBOLIC_OPTIONS, ids=str)
def test_tf_function_with_unknown_sizes_traces_once(options, unknown, layout, method):
    import tensorflow as tf

    w, b = _weights()
    spatial = [None, None] if "H" in unknown else [9, 9]
    spec = [None, 4, *spatial] if layout == "NCHW" else [None, *spatial, 4]
    traces = []

    @tf.function(input_signature=[tf.TensorSpec(spec, tf.float64)])
    def f(x):
        traces.append(x.shape)
        return xpconv.conv2d(x, tf.constant(w), tf.constant(b), data_format=layout, method=method, **options)

    static = f.get_concrete_function().structured_outputs.shape.as_list()
    expected_static = _problem((1, 9, 9), w, b, options, layout).oracle().shape
    for axis, size in enumerate(static):  # known sizes stay known; unknown ones are None
        channel_axis = 1 if layout == "NCHW" else 3
        if axis == channel_axis or ("H" not in unknown and axis != 0):
            assert size == expected_static[axis], (static, expected_static)
        else:
            assert size is None, static
    for size in SIZES if "H" in unknown else SIZES[:2]:
        problem = _problem(size, w, b, options, layout)
        _close(f(tf.constant(problem.to_layout(problem.x))).numpy(), problem)
    assert len(traces) == 1


@pytest.mark.needs("tensorflow")
@pytest.mark.parametrize("dtype", ["float64", "int32"])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_tf_function_1x1_same_and_bias_of_unknown_length(layout, dtype):
    """A 1x1 kernel with "same" padding and unknown H, W (its padding compared a tensor with 0),
    and a bias whose length is unknown at trace time (the check compared a tensor with an int)."""
    import tensorflow as tf

    rng = np.random.default_rng(9)
    w, b = rng.integers(-3, 4, (5, 4, 1, 1)).astype(np.float64), rng.integers(-3, 4, 5).astype(np.float64)
    spec = [None, 4, None, None] if layout == "NCHW" else [None, None, None, 4]

    @tf.function(input_signature=[tf.TensorSpec(spec, dtype), tf.TensorSpec([None], dtype)])
    def f(x, bias):
        return xpconv.conv2d(x, tf.constant(w, dtype), bias, padding="same", stride=2, data_format=layout)

    for size in SIZES:
        problem = _problem(size, w, b, {"padding": "same", "stride": 2}, layout)
        problem.x = np.round(problem.x * 3)
        got = f(tf.constant(problem.to_layout(problem.x), dtype), tf.constant(b, dtype)).numpy()
        _close(got.astype(np.float64), problem)


@pytest.mark.needs("tensorflow")
def test_tf_function_reduce_retracing_serves_every_batch():
    import tensorflow as tf

    w, b = _weights()
    traces = []

    @tf.function(reduce_retracing=True)
    def f(x):
        traces.append(x.shape)
        return xpconv.conv2d(x, tf.constant(w), tf.constant(b), stride=2, padding="same")

    for size in [(2, 9, 9), (3, 9, 9), (5, 9, 9), (7, 9, 9)]:
        problem = _problem(size, w, b, {"stride": 2, "padding": "same"})
        _close(f(tf.constant(problem.x)).numpy(), problem)
    assert len(traces) <= 2  # the second call relaxes the batch to None, then nothing more


GRAPH_CASES = [{"groups": 2, "padding": 1}, {"groups": 4, "padding": "same", "stride": 2}, {"dilation": 2, "padding": 2}]


@pytest.mark.needs("tensorflow")
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("options", GRAPH_CASES, ids=str)
def test_tf_every_mode_in_any_order(options, layout):
    """Eager, tf.function, jit_compile and TF1 graphs + Session, interleaved in one process:
    nothing made in one context may be captured by another."""
    import tensorflow as tf

    w, b = _weights(groups=options.get("groups", 1))
    problem = _problem((2, 9, 9), w, b, options, layout)
    x = problem.to_layout(problem.x)

    def call(a):
        return xpconv.conv2d(a, tf.constant(w), tf.constant(b), data_format=layout, **options)

    def eager():
        return call(tf.constant(x)).numpy()

    def graph():
        g = tf.Graph()
        with g.as_default():
            y = call(tf.constant(x))
            with tf.compat.v1.Session(graph=g) as session:
                return session.run(y)

    def function():
        return tf.function(call)(tf.constant(x)).numpy()

    def jit():
        return tf.function(call, jit_compile=True)(tf.constant(x)).numpy()

    for mode in (graph, eager, graph, function, eager, jit, graph, graph, function):
        _close(mode(), problem)


def _run_fusion_script(onednn: str) -> dict:
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, str(HERE / "tf_fusion.py")], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]  # an abort inside TensorFlow fails here
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.needs("tensorflow")
@pytest.mark.parametrize("onednn", ["0", "1"], ids=["onednn-off", "onednn-on"])
def test_tf_grouped_bias_under_forced_fusion(onednn):
    """Grappler's remapper on, oneDNN forced off and on (CPUs differ in its default): grouped,
    depthwise, dilated and dense convolutions with bias, then ReLU, in tf.function, every method
    and layout, with gradients. With oneDNN off the naive formulation is refused (the canary:
    proof that the fusion ran); with oneDNN on, depthwise + explicit padding + bias would abort."""
    report = _run_fusion_script(onednn)
    failures = [r for r in report["results"] if not r["ok"]]
    assert not failures, failures
    assert len(report["results"]) == 30
    if onednn == "0":
        assert report["canary"].startswith("fused and refused"), report["canary"]


# -- PyTorch ---------------------------------------------------------------------------------
def _torch_module(w, b, options, method):
    import torch

    class Conv(torch.nn.Module):
        def forward(self, x):
            return xpconv.conv2d(x, torch.tensor(w), torch.tensor(b), method=method, **options)

    return Conv()


def _export_cases(batch_only: str, with_spatial: str) -> list[tuple[dict, str, str]]:
    """(options, dynamic sizes, method) for the exporters. The portable kernel with symbolic H and W
    and a stride > 1 does not export (neither torch nor JAX can prove the strided taps' lengths
    equal: a documented limitation); auto and native do."""
    return [
        (options, dynamic, method)
        for options in SYMBOLIC_OPTIONS
        for dynamic in (batch_only, with_spatial)
        for method in ("auto", "native", "portable")
        if not (method == "portable" and dynamic == with_spatial and options["stride"] > 1)
    ]


TORCH_EXPORT_CASES = _export_cases("batch", "batch, H, W")


@pytest.mark.needs("torch")
@pytest.mark.parametrize(("options", "dynamic", "method"), TORCH_EXPORT_CASES, ids=str)
def test_torch_export_with_dynamic_sizes(options, dynamic, method):
    import torch
    from torch.export import Dim

    w, b = _weights()
    dims = {0: Dim("n")}
    if "H" in dynamic:
        dims.update({2: Dim("h", min=5, max=64), 3: Dim("w", min=5, max=64)})
    exported = torch.export.export(_torch_module(w, b, options, method), (torch.randn(2, 4, 9, 9, dtype=torch.float64),),
                                   dynamic_shapes={"x": dims})
    run = exported.module()
    for size in SIZES if "H" in dynamic else SIZES[:2]:
        problem = _problem(size, w, b, options)
        _close(run(torch.tensor(problem.x)).numpy(), problem)


@pytest.mark.needs("torch")
@pytest.mark.parametrize("method", ["auto", "native", "portable"])
@pytest.mark.parametrize("options", [{"stride": 2, "padding": "same"}, {"groups": 2, "padding": 1},
                                     {"groups": 4, "padding": "same"}], ids=str)
def test_torch_compile_dynamic_never_recompiles_for_new_batch_sizes(options, method):
    import torch
    import torch._dynamo

    w, b = _weights(groups=options.get("groups", 1))

    class Layer(torch.nn.Module):  # weights as parameters, which Dynamo keeps static, as in a real model
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.tensor(w))
            self.bias = torch.nn.Parameter(torch.tensor(b))

        def forward(self, x):
            return xpconv.conv2d(x, self.weight, self.bias, method=method, **options)

    torch._dynamo.reset()
    layer = Layer()
    compiled = torch.compile(layer, dynamic=True, fullgraph=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = _problem((2, 9, 9), w, b, options)
        _close(compiled(torch.tensor(first.x)).detach().numpy(), first)
        with torch._dynamo.config.patch(error_on_recompile=True):
            for n in (3, 5, 8):
                problem = _problem((n, 9, 9), w, b, options)
                _close(compiled(torch.tensor(problem.x)).detach().numpy(), problem)
    ours = [str(c.message) for c in caught if "xpconv" in str(c.filename) or "lru_cache" in str(c.message)]
    assert not ours, ours


@pytest.mark.needs("torch")
@pytest.mark.parametrize("method", ["auto", "native", "portable"])
def test_torch_jit_trace_records_the_call(method):
    """torch.jit.trace's sizes are traced 0-d tensors: they were read as unknown ("x must have a
    known number of channels ... (None, None, None, None)"); now as the ints they hold."""
    import torch

    w, b = _weights()

    class Layer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.tensor(w))
            self.bias = torch.nn.Parameter(torch.tensor(b))

        def forward(self, x):
            return xpconv.conv2d(x, self.weight, self.bias, padding=1, method=method)

    first = _problem((2, 9, 9), w, b, {"padding": 1})
    traced = torch.jit.trace(Layer(), torch.tensor(first.x))
    _close(traced(torch.tensor(first.x)).detach().numpy(), first)


# -- JAX ---------------------------------------------------------------------------------------
JAX_CASES = _export_cases("b, 4, 9, 9", "b, 4, h, w")


@pytest.mark.needs("jax")
@pytest.mark.parametrize(("options", "dynamic", "method"), JAX_CASES, ids=str)
def test_jax_export_with_symbolic_sizes(options, dynamic, method):
    import jax
    import jax.numpy as jnp
    from jax import export

    w, b = _weights()
    # sizes below the kernel are invalid: say so, as torch.export's Dim(min=5) does
    shape = export.symbolic_shape(dynamic, constraints=("h >= 5", "w >= 5") if "h" in dynamic else ())
    fn = jax.jit(lambda x: xpconv.conv2d(x, jnp.asarray(w), jnp.asarray(b), method=method, **options))
    exported = export.export(fn)(jax.ShapeDtypeStruct(shape, jnp.float64))
    out_shape = exported.out_avals[0].shape
    assert out_shape[1] == 8 and not isinstance(out_shape[0], int)
    for size in SIZES if "h" in dynamic else SIZES[:2]:
        problem = _problem(size, w, b, options)
        _close(np.asarray(exported.call(jnp.asarray(problem.x))), problem)


@pytest.mark.needs("jax")
@pytest.mark.parametrize("options", [o for o in SYMBOLIC_OPTIONS if o["stride"] > 1], ids=str)
def test_jax_export_symbolic_spatial_depthwise_auto(options):
    """auto sends depthwise layers to the portable kernel, but with symbolic H and W to XLA's own."""
    import jax
    import jax.numpy as jnp
    from jax import export

    w, b = _weights(groups=4)
    fn = jax.jit(lambda x: xpconv.conv2d(x, jnp.asarray(w), jnp.asarray(b), groups=4, **options))
    shape = export.symbolic_shape("b, 4, h, w", constraints=("h >= 5", "w >= 5"))  # below: invalid, refused
    exported = export.export(fn)(jax.ShapeDtypeStruct(shape, jnp.float64))
    for size in SIZES:
        problem = _problem(size, w, b, {**options, "groups": 4})
        _close(np.asarray(exported.call(jnp.asarray(problem.x))), problem)
