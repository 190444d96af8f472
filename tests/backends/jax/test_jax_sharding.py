"""JAX on several devices: sharded inputs under ``jax.jit`` give the unsharded values.

Two CPU devices need ``XLA_FLAGS`` before JAX starts: the check runs in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from xpconv.testing import conv2d_oracle

SCRIPT = r'''
import json
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
jax.config.update("jax_enable_x64", True)
import xpconv

mesh = Mesh(np.array(jax.devices()), ("d",))
rng = np.random.default_rng(0)
xn, wn, bn = rng.standard_normal((4, 3, 16, 12)), rng.standard_normal((5, 3, 3, 3)), rng.standard_normal(5)
f = jax.jit(lambda x, w, b: xpconv.conv2d(x, w, b, padding="same", stride=(1, 2)))
plain = f(jnp.asarray(xn), jnp.asarray(wn), jnp.asarray(bn))
out = {"devices": len(jax.devices()), "plain": np.asarray(plain).tolist(), "plain_devices": len(plain.sharding.device_set)}
for name, spec in (("batch", P("d")), ("spatial", P(None, None, "d"))):
    x = jax.device_put(jnp.asarray(xn), NamedSharding(mesh, spec))
    y = f(x, jnp.asarray(wn), jnp.asarray(bn))
    out[name] = {"input": str(x.sharding.spec), "output": str(y.sharding.spec), "devices": len(y.sharding.device_set),
                 "type": type(y).__name__, "dtype": str(y.dtype), "values": np.asarray(y).tolist()}
print(json.dumps(out))
'''


@pytest.mark.needs("jax")
def test_batch_and_spatially_sharded_inputs_give_unsharded_values():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["devices"] == 2
    rng = np.random.default_rng(0)
    xn, wn, bn = rng.standard_normal((4, 3, 16, 12)), rng.standard_normal((5, 3, 3, 3)), rng.standard_normal(5)
    # "same" with stride (1, 2): rows pad (1, 1); 12 columns -> 6 outputs, total pad 1, the odd one at the end
    expected = conv2d_oracle(xn, wn, bn, stride=(1, 2), padding=((1, 1), (0, 1)))
    plain = np.asarray(out["plain"])
    np.testing.assert_allclose(plain, expected, rtol=1e-12, atol=1e-12)
    for name, spec in (("batch", "P('d',)"), ("spatial", "P(None, None, 'd')")):
        got = out[name]
        assert got["input"] == spec and got["type"] == "ArrayImpl" and got["dtype"] == "float64"
        assert got["devices"] == 2, f"{name}: the output is not sharded: {got['output']}"
        assert got["output"] == spec, f"{name}: output sharding {got['output']}"
        values = np.asarray(got["values"])
        assert values.shape == (4, 5, 16, 6)
        np.testing.assert_array_equal(values, plain)


DEVICES_SCRIPT = r'''
import json
import jax, jax.numpy as jnp, numpy as np
import xpconv

d0, d1 = jax.devices()
x, w = jnp.arange(50.0).reshape(1, 2, 5, 5), jnp.ones((3, 2, 3, 3))
x0, w0, x1, w1 = jax.device_put(x, d0), jax.device_put(w, d0), jax.device_put(x, d1), jax.device_put(w, d1)
xpconv.conv(x0, w0)  # validated: every later call of this signature takes the fast path
y = xpconv.conv(x1, w1)
out = {"device": str(d1), "on": sorted(str(d) for d in y.devices()), "values": np.asarray(y).tolist()}
for name, args in (("x on 0, weight on 1", (x0, w1)), ("x on 1, weight on 0", (x1, w0)),
                   ("bias on 1", (x0, w0, jax.device_put(jnp.ones(3), d1)))):
    try:
        xpconv.conv(*args)
        out[name] = None
    except ValueError as error:
        out[name] = str(error)
print(json.dumps(out))
'''


@pytest.mark.needs("jax")
def test_eager_calls_compare_devices_on_every_call():
    """The fast path's device check (equal shardings pass at once, JaxBackend.check_devices): arrays on
    one other device run there; arrays on two devices are refused, naming them, on a repeated call too."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", DEVICES_SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["on"] == [out["device"]]
    x = np.arange(50.0).reshape(1, 2, 5, 5)
    np.testing.assert_allclose(np.asarray(out["values"]), conv2d_oracle(x, np.ones((3, 2, 3, 3))), rtol=1e-6)
    for name in ("x on 0, weight on 1", "x on 1, weight on 0", "bias on 1"):
        assert out[name] is not None, f"{name}: no error"
        assert "must be on the same device" in out[name] and "cpu:0" in out[name] and "cpu:1" in out[name], out[name]
