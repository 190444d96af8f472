"""Would the Array API ``fft`` extension make Fourier tiles faster than DFTs as matrix products?

``python benchmarks/fft_extension.py`` (NumPy, PyTorch and JAX installed): the chapter's 5x5 layer
(1x128x256x256, 128->128, padding 2) by 16x16 Fourier tiles three ways, side by side per framework:
``xpconv.conv(..., method="fourier")`` (the tiles' DFTs as real matrix products, in blocks), the
same tiles transformed by the framework's own ``fft.rfftn``/``irfftn`` with one complex matrix
product per frequency (the whole layer at once: no blocks, so it is not held back by them), and the
framework's own convolution (NumPy: PyTorch's). The FFT variant is checked against xpconv's result
first. Medians of round-robin repeats, float32, JAX under ``jax.jit``.
"""

from __future__ import annotations

import statistics
import time

import array_api_compat
import jax
import jax.numpy as jnp
import numpy as np
import torch

import xpconv
from xpconv.cli.bench.timing import settle_allocator

torch.set_num_threads(2)
POINTS, KERNEL, PADDING = 16, 5, 2
OUT = POINTS - KERNEL + 1  # outputs per tile and axis


def fft_tiles(x, w):
    """Channels-first ``x (1, C, H, W)`` by ``w (O, C, 5, 5)`` through 16x16 tiles and the ``fft`` extension."""
    xp = array_api_compat.array_namespace(x)
    n, c, h, width = x.shape
    rows, cols = -(-h // OUT), -(-width // OUT)
    x = xp.permute_dims(x, (0, 2, 3, 1))
    x = xp.concat([xp.zeros((n, PADDING, width, c), dtype=x.dtype), x,
                   xp.zeros((n, rows * OUT + POINTS - OUT - h - PADDING, width, c), dtype=x.dtype)], axis=1)
    x = xp.concat([xp.zeros((n, x.shape[1], PADDING, c), dtype=x.dtype), x,
                   xp.zeros((n, x.shape[1], cols * OUT + POINTS - OUT - width - PADDING, c), dtype=x.dtype)], axis=2)
    tiles = xp.stack([x[:, i:i + (rows - 1) * OUT + 1:OUT, ...] for i in range(POINTS)], axis=2)  # n, rows, 16, W, c
    tiles = xp.stack([tiles[:, :, :, j:j + (cols - 1) * OUT + 1:OUT, :] for j in range(POINTS)], axis=4)
    spectra = xp.fft.rfftn(tiles, axes=(2, 4))  # n, rows, 16, cols, 9, c
    freqs = POINTS * (POINTS // 2 + 1)
    spectra = xp.reshape(xp.permute_dims(spectra, (2, 4, 0, 1, 3, 5)), (freqs, n * rows * cols, c))
    kernel = xp.fft.rfftn(xp.permute_dims(w, (2, 3, 1, 0)), s=(POINTS, POINTS), axes=(0, 1))
    kernel = xp.reshape(xp.conj(kernel), (freqs, c, w.shape[0]))  # correlation: the conjugate spectrum
    y = xp.reshape(xp.matmul(spectra, kernel), (POINTS, POINTS // 2 + 1, n, rows, cols, w.shape[0]))
    y = xp.fft.irfftn(y, s=(POINTS, POINTS), axes=(0, 1))[:OUT, :OUT, ...]  # 12, 12, n, rows, cols, o
    y = xp.reshape(xp.permute_dims(y, (2, 3, 0, 4, 1, 5)), (n, rows * OUT, cols * OUT, w.shape[0]))
    return xp.permute_dims(y[:, :h, :width, :], (0, 3, 1, 2))


def median(calls: dict, sync, repeats: int = 5) -> dict[str, float]:
    for call in calls.values():
        sync(call())
    times: dict[str, list[float]] = {name: [] for name in calls}
    for rep in range(repeats):
        names = list(calls)
        for name in names[rep % len(names):] + names[:rep % len(names)]:
            start = time.perf_counter()
            sync(calls[name]())
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    settle_allocator()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 128, 256, 256), dtype=np.float32)
    w = rng.standard_normal((128, 128, KERNEL, KERNEL), dtype=np.float32)
    tx, tw = torch.asarray(x), torch.asarray(w)
    jx, jw = jnp.asarray(x), jnp.asarray(w)
    jit_fft = jax.jit(fft_tiles)
    jit_matrix = jax.jit(lambda a, b: xpconv.conv(a, b, padding=PADDING, method="fourier"))
    jit_native = jax.jit(lambda a, b: jax.lax.conv_general_dilated(a, b, (1, 1), [(PADDING, PADDING)] * 2))
    frameworks = {
        "numpy": ({"fft extension": lambda: fft_tiles(x, w),
                   "DFT as matrix products (xpconv)": lambda: xpconv.conv(x, w, padding=PADDING, method="fourier"),
                   "torch F.conv2d": lambda: torch.nn.functional.conv2d(tx, tw, padding=PADDING)}, lambda y: y),
        "torch": ({"fft extension": lambda: fft_tiles(tx, tw),
                   "DFT as matrix products (xpconv)": lambda: xpconv.conv(tx, tw, padding=PADDING, method="fourier"),
                   "F.conv2d": lambda: torch.nn.functional.conv2d(tx, tw, padding=PADDING)}, lambda y: y),
        "jax (jit)": ({"fft extension": lambda: jit_fft(jx, jw),
                       "DFT as matrix products (xpconv)": lambda: jit_matrix(jx, jw),
                       "lax.conv_general_dilated": lambda: jit_native(jx, jw)}, jax.block_until_ready),
    }
    for framework, (calls, sync) in frameworks.items():
        got, ours = (np.asarray(sync(calls[k]())) for k in ("fft extension", "DFT as matrix products (xpconv)"))
        error = float(np.max(np.abs(got - ours)) / np.max(np.abs(ours)))
        assert error < 1e-5, (framework, error)
        times = median(calls, sync)
        print(f"{framework}: " + ", ".join(f"{k} {1e3 * t:.0f} ms" for k, t in times.items())
              + f" (fft extension vs xpconv: {error:.0e} of the output's scale)")


if __name__ == "__main__":
    main()
