"""Sizes known only at run time are checked at run time: whatever eager mode refuses (a kernel larger
than the padded input, reflect/circular padding not smaller than the input, a transposed output
of no element) is an error inside ``tf.function`` with unknown sizes, ``torch.compile(dynamic=True)``
and ``jax.export`` too, never a result; its message names the argument as the eager one does.
Before, 224 of 594 such cases returned garbage inside ``tf.function``."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import xpconv

# (options, transposed): each traced once with unknown H and W, then called with every size
TF_OPTIONS = [
    ({"padding": p, "padding_mode": m, "dilation": d}, False)
    for m, p, d in itertools.product(("zeros", "reflect", "replicate", "circular"), (0, 1, 3), (1, 2))
]
TF_OPTIONS += [({"padding": ((2, 0), (0, 1)), "stride": 2}, False), ({"padding": "valid", "dilation": 2}, False),
               ({"padding": 2, "stride": 1}, True), ({"padding": ((3, 0), (1, 1)), "stride": 2}, True)]
KEY_PHRASES = ("kernel must not be larger than the padded input", "needs padding smaller than the input size",
               "needs padding at most the input size", "output must have at least one element")


def _eager(call, x):
    """Eager mode's answer: the result as NumPy, or the error's key phrase."""
    try:
        return np.asarray(call(x))
    except ValueError as error:
        found = [p for p in KEY_PHRASES if p in str(error)]
        assert found, str(error)
        return found[0]


@pytest.mark.needs("tensorflow")
@pytest.mark.parametrize("method", ["auto", "portable"])
@pytest.mark.parametrize(("options", "transposed"), TF_OPTIONS, ids=str)
def test_tf_function_with_unknown_sizes_refuses_what_eager_refuses(options, transposed, method):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    w = tf.constant(rng.standard_normal((3, 2, 3, 3)))  # forward: 2 -> 3 channels; transposed: 3 -> 2
    function = xpconv.conv_transpose2d if transposed else xpconv.conv2d

    def call(x):
        return function(x, w, method=method, **options)

    traced = tf.function(call, input_signature=[tf.TensorSpec((1, 3 if transposed else 2, None, None), tf.float64)])
    for h, wd in itertools.product((1, 2, 3, 4, 6), (1, 3, 6)):
        x = tf.constant(rng.standard_normal((1, 3 if transposed else 2, h, wd)))
        expected = _eager(call, x)
        if isinstance(expected, str):
            with pytest.raises(tf.errors.InvalidArgumentError, match=expected):
                traced(x)
        else:
            np.testing.assert_allclose(traced(x).numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.needs("torch")
@pytest.mark.parametrize(("options", "small", "phrase"), [
    ({"padding": 3, "padding_mode": "reflect"}, 3, "needs padding smaller than the input size"),
    ({"padding": 0}, 2, "kernel must not be larger than the padded input"),
    ({"padding": 4, "padding_mode": "circular"}, 3, "needs padding at most the input size"),
], ids=str)
def test_torch_compile_with_dynamic_sizes_refuses_what_eager_refuses(options, small, phrase):
    import torch
    import torch._dynamo

    torch._dynamo.reset()
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    compiled = torch.compile(lambda x: xpconv.conv2d(x, w, **options), dynamic=True)
    for size in (9, 10):
        x = torch.randn(1, 2, size, size, dtype=torch.float64)
        torch.testing.assert_close(compiled(x), xpconv.conv2d(x, w, **options))
    with pytest.raises(Exception, match=phrase):  # Dynamo wraps the ValueError in its own error
        compiled(torch.randn(1, 2, small, small, dtype=torch.float64))


@pytest.mark.needs("jax")
@pytest.mark.parametrize(("options", "phrase"), [
    ({"padding": 3, "padding_mode": "reflect"}, "needs padding smaller than the input size"),
    ({"padding": 0}, "kernel must not be larger than the padded input"),
    ({"padding": ((1, 0), (2, 1)), "stride": 2}, "kernel must not be larger than the padded input"),
], ids=str)
def test_jax_export_needs_the_bound_declared(options, phrase):
    """A symbolic size that might be too small is refused when exporting, naming the constraint to
    declare; declared, JAX checks it whenever the exported function is called."""
    import jax
    import jax.numpy as jnp
    from jax import export

    w = jnp.asarray(np.random.default_rng(0).standard_normal((3, 2, 3, 3)))
    fn = jax.jit(lambda x: xpconv.conv2d(x, w, **options))
    with pytest.raises(ValueError, match=rf"{phrase}.*declare the bound: jax\.export\.symbolic_shape"):
        export.export(fn)(jax.ShapeDtypeStruct(export.symbolic_shape("1, 2, h, w"), jnp.float64))
    bounded = export.symbolic_shape("1, 2, h, w", constraints=("h >= 4", "w >= 4"))
    exported = export.export(fn)(jax.ShapeDtypeStruct(bounded, jnp.float64))
    x = jnp.asarray(np.random.default_rng(1).standard_normal((1, 2, 6, 5)))
    np.testing.assert_allclose(np.asarray(exported.call(x)), np.asarray(xpconv.conv2d(x, w, **options)), rtol=1e-12)
    with pytest.raises(Exception, match="h >= 4"):  # JAX's own shape assertion, at the call
        exported.call(jnp.ones((1, 2, 3, 5)))
