"""Gradients through each framework's autodiff equal its native convolution's; jit and tf.function; devices."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv

from conv_cases import random_problem

# -- autodiff, jit, devices -----------------------------------------------------------
GRAD_OPTIONS = {"stride": 2, "padding": "same", "dilation": (1, 2), "groups": 2}


@pytest.mark.needs("torch")
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_torch_gradients_equal_native(layout):
    import torch

    problem = random_problem(np.random.default_rng(9), **GRAD_OPTIONS)
    problem.data_format = layout
    x0, w0, b0 = (torch.tensor(a) for a in (problem.to_layout(problem.x), problem.w, problem.b))
    seed = torch.tensor(np.random.default_rng(1).standard_normal(problem.oracle().shape))
    grads = {}
    for method in ["reference", "portable", "native"]:
        x, w, b = (t.clone().requires_grad_(True) for t in (x0, w0, b0))
        if method == "reference":
            xn = x.permute(0, 3, 1, 2) if layout == "NHWC" else x
            (pt, pb), (pl, pr) = problem.pads
            y = torch.nn.functional.conv2d(torch.nn.functional.pad(xn, (pl, pr, pt, pb)), w, b, 2, 0, (1, 2), 2)
            y = y.permute(0, 2, 3, 1) if layout == "NHWC" else y
        else:
            y = xpconv.conv2d(x, w, b, data_format=layout, method=method, **GRAD_OPTIONS)
        (y * seed).sum().backward()
        grads[method] = [t.grad.numpy() for t in (x, w, b)]
    for method in ["portable", "native"]:
        for got, want in zip(grads[method], grads["reference"]):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.needs("jax")
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_jax_gradients_and_jit(layout):
    import jax
    import jax.numpy as jnp

    problem = random_problem(np.random.default_rng(10), **GRAD_OPTIONS)
    problem.data_format = layout
    args = tuple(jnp.asarray(a) for a in (problem.to_layout(problem.x), problem.w, problem.b))
    seed = jnp.asarray(np.random.default_rng(2).standard_normal(problem.oracle().shape))

    def reference(x, w, b):
        y = jax.lax.conv_general_dilated(x, w, (2, 2), problem.pads, rhs_dilation=(1, 2), feature_group_count=2,
                                         dimension_numbers=(layout, "OIHW", layout))
        return jnp.sum((y + b.reshape((1, -1, 1, 1) if layout == "NCHW" else (1, 1, 1, -1))) * seed)

    want = jax.grad(reference, argnums=(0, 1, 2))(*args)
    for method in ["portable", "native", "auto"]:
        def loss(x, w, b, method=method):
            return jnp.sum(xpconv.conv2d(x, w, b, data_format=layout, method=method, **GRAD_OPTIONS) * seed)

        for fn in (jax.grad(loss, argnums=(0, 1, 2)), jax.jit(jax.grad(loss, argnums=(0, 1, 2)))):
            for got, ref in zip(fn(*args), want):
                np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-10, atol=1e-10)
        jitted = jax.jit(lambda x, w, b, method=method: xpconv.conv2d(x, w, b, data_format=layout, method=method, **GRAD_OPTIONS))
        eager = xpconv.conv2d(*args, data_format=layout, method=method, **GRAD_OPTIONS)
        assert isinstance(jitted(*args), jax.Array)
        np.testing.assert_allclose(np.asarray(jitted(*args)), problem.oracle(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(np.asarray(eager), problem.oracle(), rtol=1e-10, atol=1e-10)


@pytest.mark.needs("tensorflow")
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("dilation", [(1, 1), (1, 2)])
def test_tensorflow_gradients_and_tf_function(layout, dilation):
    """TF's CPU has no gradient for dilated Conv2D: the reference is its own undilated conv,
    and with dilation both of xpconv's methods must match each other and the oracle."""
    import tensorflow as tf

    options = {**GRAD_OPTIONS, "dilation": dilation}
    problem = random_problem(np.random.default_rng(11), **options)
    problem.data_format = layout
    args = [tf.Variable(a) for a in (problem.to_layout(problem.x), problem.w, problem.b)]
    seed = tf.constant(np.random.default_rng(3).standard_normal(problem.oracle().shape))

    def reference(x, w, b):
        xn = tf.transpose(x, (0, 2, 3, 1)) if layout == "NCHW" else x
        (pt, pb), (pl, pr) = problem.pads
        pads = [[0, 0], [pt, pb], [pl, pr], [0, 0]]
        groups = zip(tf.split(xn, 2, axis=3), tf.split(tf.transpose(w, (2, 3, 1, 0)), 2, axis=3))
        y = tf.concat([tf.nn.conv2d(a, f, 2, pads) for a, f in groups], axis=3)  # no CPU grad for groups
        y = tf.nn.bias_add(y, b)
        return tf.transpose(y, (0, 3, 1, 2)) if layout == "NCHW" else y

    def grads(fn):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(fn(*args) * seed)
        return [g.numpy() for g in tape.gradient(loss, args)]

    def ours(x, w, b, method="portable"):
        return xpconv.conv2d(x, w, b, data_format=layout, method=method, **options)

    want = grads(reference if dilation == (1, 1) else ours)
    for method in ["portable", "native", "auto"]:
        def fn(x, w, b, method=method):
            return ours(x, w, b, method)

        for candidate in (fn, tf.function(fn)):
            for got, ref in zip(grads(candidate), want):
                np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)
        compiled = tf.function(fn)(*args)
        assert isinstance(compiled, tf.Tensor)
        np.testing.assert_allclose(compiled.numpy(), problem.oracle(), rtol=1e-10, atol=1e-10)


@pytest.mark.needs("torch")
def test_torch_meta_device_stays_on_meta():
    import torch

    x = torch.empty(2, 4, 9, 9, device="meta")
    w = torch.empty(6, 2, 3, 3, device="meta")
    b = torch.empty(6, device="meta")
    for method in ["portable", "native", "auto"]:
        y = xpconv.conv2d(x, w, b, stride=2, padding="same", groups=2, method=method)
        assert y.device.type == "meta" and tuple(y.shape) == (2, 6, 5, 5)


@pytest.mark.needs("torch")
def test_torch_devices_must_agree():
    import torch

    with pytest.raises(ValueError, match=r"x and weight must be on the same device\. Received: x on cpu, weight on meta"):
        xpconv.conv2d(torch.ones(1, 1, 3, 3), torch.empty(1, 1, 2, 2, device="meta"))


@pytest.mark.needs("array_api_strict")
def test_array_api_strict_second_device():
    import array_api_strict as xp

    device = xp.Device("device1")
    problem = random_problem(np.random.default_rng(12), padding="same", stride=2)
    x, w, b = (xp.asarray(a, device=device) for a in (problem.x, problem.w, problem.b))
    y = xpconv.conv2d(x, w, b, stride=2, padding="same")
    assert y.device == device
    y_cpu = xp.asarray(y, device=xp.Device("CPU_DEVICE"), copy=True)
    np.testing.assert_allclose(np.from_dlpack(y_cpu), problem.oracle(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="x and weight must be on the same device"):
        xpconv.conv2d(x, xp.asarray(problem.w))


