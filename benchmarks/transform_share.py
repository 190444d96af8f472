"""What limits the fast algorithms: their per-point matrix products alone against the whole call.

``python benchmarks/transform_share.py`` (every framework installed): for the ResNet 3x3 layer
(Winograd) and the chapter's 5x5 layer (Fourier), the shapes of the products ``method=`` runs are
recorded, then the products alone (same shapes and count) are timed on NumPy, PyTorch and JAX (jit)
beside the whole call and the framework's own convolution; the rest of the call is the data
transform, the inverse and the placement. Medians of a few runs; float32, 2 threads.
"""

from __future__ import annotations

import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
import torch

import xpconv
from xpconv.cli.bench.timing import settle_allocator
from xpconv.kernels import transform

torch.set_num_threads(2)
CASES = {
    "resnet 3x3, winograd": ((8, 64, 56, 56), (64, 64, 3, 3), 1, "winograd"),
    "chapter 5x5, fourier": ((1, 128, 256, 256), (128, 128, 5, 5), 2, "fourier"),
}


def median(call, runs: int = 5) -> float:
    call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def product_shapes(x: np.ndarray, w: np.ndarray, padding: int, algorithm: str) -> list:
    """``[(v shapes, u shapes)]`` of each block's per-point products (real and imaginary parts)."""
    shapes, original = [], transform._product

    def recording(xp, u, v, plan):
        shapes.append(([p.shape for p in v], [p.shape for p in u]))
        return original(xp, u, v, plan)

    transform._product = recording
    try:
        xpconv.conv(x, w, padding=padding, method=algorithm)
    finally:
        transform._product = original
    return shapes


def main() -> None:
    settle_allocator()  # as xpconv bench starts
    rng = np.random.default_rng(0)
    for name, (x_shape, w_shape, padding, algorithm) in CASES.items():
        x, w = rng.standard_normal(x_shape, dtype=np.float32), rng.standard_normal(w_shape, dtype=np.float32)
        shapes = product_shapes(x, w, padding, algorithm)
        v_np = [[rng.standard_normal(s, dtype=np.float32) for s in v] for v, _ in shapes]
        u_np = [[rng.standard_normal(s, dtype=np.float32) for s in u] for _, u in shapes]
        flops = sum(2 * np.prod(v[0]) * u[0][-1] * len(u) for v, u in shapes)
        print(f"{name}: {len(shapes)} block(s) of {len(shapes[0][1])} product(s) {shapes[0][0][0]} @ {shapes[0][1][0]}")

        def pairs(v, u):  # the products the kernel runs: one real, or a complex one as three (Gauss)
            return [(v[0], u[0])] if len(u) == 1 else [(v[0], u[0]), (v[1], u[1]), (v[0], u[2])]

        def products(matmul, vs, us):
            return lambda: [matmul(a, b) for v, u in zip(vs, us) for a, b in pairs(v, u)]

        tx, tw = torch.asarray(x), torch.asarray(w)
        jx, jw = jnp.asarray(x), jnp.asarray(w)
        jit_whole = jax.jit(lambda a, b: xpconv.conv(a, b, padding=padding, method=algorithm))
        jit_native = jax.jit(lambda a, b: jax.lax.conv_general_dilated(a, b, (1, 1), [(padding, padding)] * 2))
        jit_products = jax.jit(lambda vs, us: [jnp.matmul(a, b) for v, u in zip(vs, us) for a, b in pairs(v, u)])
        v_j, u_j = jax.tree.map(jnp.asarray, (v_np, u_np))
        rows = {
            "numpy": (lambda: xpconv.conv(x, w, padding=padding, method=algorithm), products(np.matmul, v_np, u_np),
                      None),
            "torch": (lambda: xpconv.conv(tx, tw, padding=padding, method=algorithm),
                      products(torch.matmul, *jax.tree.map(torch.asarray, (v_np, u_np))),
                      lambda: torch.nn.functional.conv2d(tx, tw, padding=padding)),
            "jax (jit)": (lambda: jit_whole(jx, jw).block_until_ready(),
                          lambda: jax.block_until_ready(jit_products(v_j, u_j)),
                          lambda: jit_native(jx, jw).block_until_ready()),
        }
        for framework, (whole, alone, native) in rows.items():
            t_whole, t_alone = median(whole), median(alone)
            own = "" if native is None else f", its own convolution {1e3 * median(native):.1f} ms"
            print(f"  {framework}: whole call {1e3 * t_whole:.1f} ms, products alone {1e3 * t_alone:.1f} ms "
                  f"({flops / t_alone / 1e9:.0f} GFLOP/s, {t_alone / t_whole:.0%} of the call){own}")
    a = rng.standard_normal((2048, 2048), dtype=np.float32)
    ta, ja, jit_mm = torch.asarray(a), jnp.asarray(a), jax.jit(jnp.matmul)
    gemm = {"numpy": lambda: a @ a, "torch": lambda: ta @ ta, "jax": lambda: jit_mm(ja, ja).block_until_ready()}
    print("2048^3 GEMM:", ", ".join(f"{k} {2 * 2048 ** 3 / median(f) / 1e9:.0f} GFLOP/s" for k, f in gemm.items()))


if __name__ == "__main__":
    main()
