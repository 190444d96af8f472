"""What limits JAX's Fourier tiles on the chapter's 5x5 layer: XLA's CPU batched matrix product.

``python benchmarks/xla_batched_dot.py`` (JAX installed): the per-point product that
``method="fourier"`` runs on the chapter's layer (1x128x256x256, 128->128, 5x5: 144 frequencies,
484 tiles, ``(144, 484, 128) @ (144, 128, 128)``, three real ones per complex product), timed under
``jax.jit`` beside one 2048x2048 GEMM, in two fresh processes: one pinned to one core, one on two.
A batched product that runs on one core takes the same time in both; a GEMM that runs on both
takes half. Medians of rounds, float32.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

#: One process' measurement: the batched product and the GEMM, in ms and GFLOP/s.
SCRIPT = r"""
import json, statistics, time
import jax, jax.numpy as jnp, numpy as np

rng = np.random.default_rng(0)
points, rows, c_in, c_out = 144, 484, 128, 128
v = jnp.asarray(rng.standard_normal((points, rows, c_in), dtype=np.float32))
u = jnp.asarray(rng.standard_normal((points, c_in, c_out), dtype=np.float32))
a = jnp.asarray(rng.standard_normal((2048, 2048), dtype=np.float32))
matmul = jax.jit(jnp.matmul)

def median(x, y):
    matmul(x, y).block_until_ready()
    times = []
    for _ in range(7):
        start = time.perf_counter()
        matmul(x, y).block_until_ready()
        times.append(time.perf_counter() - start)
    return statistics.median(times)

batched, gemm = median(v, u), median(a, a)
print(json.dumps({"batched_ms": 1e3 * batched, "batched_gflops": 2 * points * rows * c_in * c_out / batched / 1e9,
                  "gemm_ms": 1e3 * gemm, "gemm_gflops": 2 * 2048 ** 3 / gemm / 1e9}))
"""


def run(cores: set[int]) -> dict[str, float]:
    """:data:`SCRIPT` in a fresh process whose threads may run only on ``cores``."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=True,
                          preexec_fn=lambda: os.sched_setaffinity(0, cores))
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    available = sorted(os.sched_getaffinity(0))
    for label, cores in (("1 core", set(available[:1])), (f"{len(available)} cores", set(available))):
        found = run(cores)
        print(f"{label}: batched (144, 484, 128) @ (144, 128, 128) {found['batched_ms']:.1f} ms "
              f"({found['batched_gflops']:.0f} GFLOP/s); 2048^3 GEMM {found['gemm_ms']:.1f} ms "
              f"({found['gemm_gflops']:.0f} GFLOP/s)")


if __name__ == "__main__":
    main()
