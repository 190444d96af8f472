"""Eager JAX calls run their kernel as one compiled program per signature (JaxBackend.for_repeated_calls):
traced once, on the first call, never again; the same numbers as under jax.jit, bit for bit; inside a
user's trace, the kernel is part of that trace (no program of ours nested in it)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import xpconv
from xpconv.testing import conv_oracle

pytestmark = pytest.mark.needs("jax")  # deselected, never skipped, where JAX is not selected

#: ``(x shape, weight shape, options, method)``: each kind of kernel.
CASES = [
    ((3, 8, 13, 11), (8, 8, 3, 3), {"padding": ((1, 1), (1, 1))}, "winograd"),
    ((3, 8, 13, 11), (8, 8, 5, 5), {"padding": ((2, 2), (2, 2))}, "fourier"),
    ((3, 7, 13, 11), (5, 7, 3, 2), {"padding": ((1, 1), (0, 1)), "stride": (2, 1)}, "portable"),
    ((3, 7, 13, 11), (5, 7, 3, 2), {"padding": ((1, 1), (0, 1)), "dilation": (2, 1)}, "native"),
    ((3, 12, 13, 11), (12, 1, 3, 3), {"padding": ((1, 1), (1, 1)), "groups": 12}, "auto"),  # depthwise: portable
]


class Traces:
    """Counts the jaxprs JAX traces to compile (one per program, eager operations included)."""

    def __init__(self) -> None:
        import jax

        self.count = 0
        jax.monitoring.register_event_duration_secs_listener(self._event)

    def _event(self, name: str, seconds: float, **_: object) -> None:
        if name == "/jax/core/compile/jaxpr_trace_duration":
            self.count += 1

    def during(self, function):
        before = self.count
        function()
        return self.count - before


@functools.cache
def traces() -> Traces:
    """The one listener of this process (JAX's listeners cannot be removed)."""
    return Traces()


def _arrays(x_shape, w_shape, seed=3):
    import jax.numpy as jnp

    rng = np.random.default_rng(seed)
    return (jnp.asarray(rng.standard_normal(x_shape), jnp.float32), jnp.asarray(rng.standard_normal(w_shape), jnp.float32),
            jnp.asarray(rng.standard_normal(w_shape[0]), jnp.float32))


@pytest.mark.parametrize("x_shape, w_shape, options, method", CASES)
def test_an_eager_signature_is_traced_once(x_shape, w_shape, options, method):
    counter = traces()
    x_shape = (5, *x_shape[1:])  # a batch no other test uses: this call is the signature's first
    x, w, b = _arrays(x_shape, w_shape)
    other = _arrays(x_shape, w_shape, seed=5)[0]
    first = counter.during(lambda: xpconv.conv2d(x, w, b, method=method, **options).block_until_ready())
    again = counter.during(lambda: xpconv.conv2d(other, w, b, method=method, **options).block_until_ready())
    assert first == 1  # one program, not one per operation (a Winograd call is dozens)
    assert again == 0


@pytest.mark.parametrize("x_shape, w_shape, options, method", CASES)
def test_eager_calls_give_what_jit_gives_bit_for_bit(x_shape, w_shape, options, method):
    import jax
    import jax.numpy as jnp

    x, w, b = _arrays(x_shape, w_shape, seed=4)
    eager = xpconv.conv2d(x, w, b, method=method, **options)
    traced = jax.jit(lambda x, w, b: xpconv.conv2d(x, w, b, method=method, **options))(x, w, b)
    np.testing.assert_array_equal(np.asarray(eager), np.asarray(traced))
    assert type(eager) is type(traced) and eager.dtype == jnp.float32 and eager.devices() == x.devices()
    expected = conv_oracle(*(np.asarray(a, np.float64) for a in (x, w, b)), **options)
    np.testing.assert_allclose(np.asarray(eager), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_inside_a_trace_the_kernel_is_part_of_it():
    import jax

    x, w, b = _arrays((2, 8, 10, 9), (8, 8, 3, 3))
    xpconv.conv2d(x, w, b, padding=1, method="winograd")  # the eager signature first: its program exists
    jaxpr = jax.make_jaxpr(lambda x: xpconv.conv2d(x, w, b, padding=1, method="winograd"))(x)
    assert not [e for e in jaxpr.eqns if e.primitive.name in ("jit", "pjit")], jaxpr
    grad = jax.grad(lambda x: xpconv.conv2d(x, w, b, padding=1, method="winograd").sum())(x)
    expected = jax.grad(lambda x: jax.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1))).sum())(x)
    np.testing.assert_allclose(np.asarray(grad), np.asarray(expected), rtol=1e-4, atol=1e-4)
    batched = jax.vmap(lambda x: xpconv.conv2d(x, w, b, padding=1, method="winograd"))(x[:, None])
    np.testing.assert_allclose(np.asarray(batched[:, 0]), np.asarray(xpconv.conv2d(x, w, b, padding=1)), rtol=1e-4,
                               atol=1e-4)
