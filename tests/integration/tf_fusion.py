"""Grouped, depthwise and dense convolutions with bias inside ``tf.function``, with Grappler's
remapper (op fusion) switched on explicitly. Run as a script, once with
``TF_ENABLE_ONEDNN_OPTS=0`` and once with ``=1`` (TensorFlow reads it at import, and CPUs
differ in its default), so both fusion paths run on every machine. Prints one JSON line.

A canary runs the naive formulation (raw ``Conv2D`` with groups, then ``BiasAdd``): where the
Eigen remapper fuses it, it fails with "Fused conv implementation does not support grouped
convolutions". That proves the fusion really was on; xpconv's results must be right anyway.
"""

from __future__ import annotations

import json
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf

import xpconv
from xpconv.testing import conv2d_oracle

tf.config.optimizer.set_experimental_options({"remapping": True, "arithmetic_optimization": True})

CASES = [
    {"groups": 2, "padding": 1},
    {"groups": 2, "padding": "same", "stride": 2},
    {"groups": 2, "padding": 1, "dilation": 2},
    {"groups": 4, "padding": 1},  # depthwise
    {"groups": 1, "padding": "same"},
]


def _pads(options, h, w, k):
    plan = xpconv.plan((2, 4, h, w), (8, 4 // options["groups"], k, k), **options)
    return plan.stride, plan.padding, plan.dilation


def canary() -> str:
    x = tf.random.normal((2, 8, 8, 4))
    f = tf.random.normal((3, 3, 2, 8))
    b = tf.random.normal((8,))

    @tf.function
    def naive(x, f, b):
        y = tf.raw_ops.Conv2D(input=x, filter=f, strides=[1, 1, 1, 1], padding="VALID", data_format="NHWC")
        return tf.nn.relu(tf.raw_ops.BiasAdd(value=y, bias=b, data_format="NHWC"))

    try:
        naive(x, f, b)
    except tf.errors.UnimplementedError as error:
        return "fused and refused: " + str(error).splitlines()[0][:120]
    return "ran"


def main() -> None:
    rng = np.random.default_rng(0)
    results = []
    for options in CASES:
        x = rng.standard_normal((2, 4, 9, 9))
        w = rng.standard_normal((8, 4 // options["groups"], 3, 3))
        b = rng.standard_normal(8)
        stride, padding, dilation = _pads(options, 9, 9, 3)
        want = np.maximum(conv2d_oracle(x, w, b, stride=stride, padding=padding, dilation=dilation,
                                        groups=options["groups"]), 0)
        for layout in ("NCHW", "NHWC"):
            xin = x if layout == "NCHW" else x.transpose(0, 2, 3, 1)
            for method in ("auto", "native", "portable"):
                @tf.function
                def fn(x, w, b, layout=layout, method=method, options=options):
                    return tf.nn.relu(xpconv.conv2d(x, w, b, data_format=layout, method=method, **options))

                args = [tf.constant(a, tf.float32) for a in (xin, w, b)]
                try:
                    got = fn(*args).numpy().astype(np.float64)
                    with tf.GradientTape() as tape:
                        tape.watch(args)
                        loss = tf.reduce_sum(fn(*args))
                    grads_ok = all(g is not None and bool(np.isfinite(g.numpy()).all()) for g in tape.gradient(loss, args))
                    if layout == "NHWC":
                        got = got.transpose(0, 3, 1, 2)
                    error = float(np.abs(got - want).max())
                    results.append({"options": str(options), "layout": layout, "method": method,
                                    "ok": error < 1e-3 and grads_ok, "error": error})
                except Exception as exc:  # reported, and the test fails on it
                    results.append({"options": str(options), "layout": layout, "method": method, "ok": False,
                                    "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"})
    print(json.dumps({"onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS"), "canary": canary(), "results": results}))


if __name__ == "__main__":
    main()
