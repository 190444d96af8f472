"""Transposed geometries on which XLA's CPU compiler aborts the process (jax 0.10.2): a stride on one
axis and, on another, a dilated kernel longer than the zero-inserted input, given to
``conv_general_dilated`` as ``lhs_dilation``. Found by the fuzz test; each runs in a subprocess, so
that an abort fails this test instead of ending the test run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from xpconv.testing import conv_transpose_oracle

#: ``(input sizes, kernel, options)``: the first two were found by the fuzz test (the first aborted a
#: CI run), the last two by a sweep of ``lax.conv_general_dilated`` itself (no dilation needed).
CASES = [
    ((4, 1), (2, 3), {"stride": (2, 1), "dilation": (1, 3), "padding": ((1, 2), (2, 3)), "output_padding": (1, 1)}),
    ((4, 2, 1), (2, 1, 3), {"stride": (2, 3, 1), "dilation": (1, 3, 3), "padding": ((1, 2), (2, 1), (2, 3)),
                            "output_padding": (1, 0, 1)}),
    ((4, 2), (2, 3), {"stride": (2, 1), "dilation": (1, 1), "padding": ((1, 1), (0, 0)), "output_padding": (0, 0)}),
    ((4, 1), (2, 3), {"stride": (2, 1), "dilation": (1, 2), "padding": ((1, 1), (0, 0)), "output_padding": (0, 0)}),
]

SCRIPT = r'''
import json, sys
import jax, jax.numpy as jnp, numpy as np
jax.config.update("jax_enable_x64", True)
import xpconv

sizes, kernel, options = json.loads(sys.argv[1])
options = {k: tuple(tuple(p) if isinstance(p, list) else p for p in v) for k, v in options.items()}
rng = np.random.default_rng(0)
x, w, b = rng.standard_normal((2, 4, *sizes)), rng.standard_normal((4, 3, *kernel)), rng.standard_normal(3)
out = {}
for method in ("native", "auto"):
    call = lambda x, w, b: xpconv.conv_transpose(x, w, b, method=method, **options)
    out[method] = np.asarray(call(jnp.asarray(x), jnp.asarray(w), jnp.asarray(b))).tolist()
    out[method + " jit"] = np.asarray(jax.jit(call)(jnp.asarray(x), jnp.asarray(w), jnp.asarray(b))).tolist()
print(json.dumps(out))
'''


@pytest.mark.needs("jax")
@pytest.mark.parametrize(("sizes", "kernel", "options"), CASES)
def test_transposed_geometries_xla_aborts_on_run_and_match_the_oracle(sizes, kernel, options):
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps([sizes, kernel, options])],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, *sizes)), rng.standard_normal((4, 3, *kernel)), rng.standard_normal(3)
    expected = conv_transpose_oracle(x, w, b, **options)
    assert sorted(out) == ["auto", "auto jit", "native", "native jit"]
    for name, values in out.items():
        np.testing.assert_allclose(np.asarray(values), expected, rtol=1e-12, atol=1e-12, err_msg=name)
