"""Does a strided layer pay as a polyphase (space-to-depth) stride-1 layer run by a fast algorithm?

``python benchmarks/polyphase.py`` (NumPy and PyTorch installed). A stride-``s`` cross-correlation
equals a stride-1 one on the input's ``s·s`` phases stacked as channels (``x[:, :, i::s, j::s]``),
with the kernel zero-padded to a multiple of ``s`` and split the same way: ``c_in·s²`` channels,
``ceil(k/s)`` taps per axis. Winograd and Fourier tiles then apply. This script times, for the
stem 7x7/2 and a ResNet downsampling 3x3/2 layer, the strided call (xpconv ``auto``; PyTorch's
``F.conv2d``) beside the polyphase layer by ``method="winograd"``, ``"fourier"`` and ``auto``
(the rearrangement itself made beforehand, so not counted: the figures favour polyphase), and
checks that both give the same output. Medians of round-robin runs (``xpconv bench``'s timing);
float32, 2 threads.
"""

from __future__ import annotations

import statistics

import numpy as np
import torch

import xpconv
from xpconv.cli.bench.timing import settle_allocator, side_by_side

torch.set_num_threads(2)
STRIDE = 2
CASES = {
    "stem 7x7/2": ((8, 3, 224, 224), (64, 3, 7, 7), 3),
    "downsampling 3x3/2": ((8, 128, 56, 56), (128, 128, 3, 3), 1),
}


def polyphase(x: np.ndarray, w: np.ndarray, padding: int) -> tuple[np.ndarray, np.ndarray]:
    """The stride-1 layer that equals ``conv(x, w, stride=2, padding=padding)`` (on its first outputs)."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    k = w.shape[-1]
    w = np.pad(w, ((0, 0), (0, 0), (0, -k % STRIDE), (0, -k % STRIDE)))
    phases = [(i, j) for i in range(STRIDE) for j in range(STRIDE)]
    return (np.concatenate([x[:, :, i::STRIDE, j::STRIDE] for i, j in phases], axis=1),
            np.concatenate([w[:, :, i::STRIDE, j::STRIDE] for i, j in phases], axis=1))


def main() -> None:
    settle_allocator()  # as xpconv bench starts
    rng = np.random.default_rng(0)
    for name, (x_shape, w_shape, padding) in CASES.items():
        x, w = rng.standard_normal(x_shape, dtype=np.float32), rng.standard_normal(w_shape, dtype=np.float32)
        px, pw = polyphase(x, w, padding)
        strided = xpconv.conv(x, w, stride=STRIDE, padding=padding)
        out = tuple(slice(0, n) for n in strided.shape)
        for method in ("winograd", "fourier"):
            error = np.abs(xpconv.conv(px, pw, method=method)[out] - strided).max() / np.abs(strided).max()
            assert error < 1e-5, (name, method, error)
        print(f"{name}: x {x_shape}, w {w_shape} -> polyphase x {px.shape}, w {pw.shape}")
        for framework, to in (("numpy", np.asarray), ("torch", torch.asarray)):
            a, b, pa, pb = map(to, (x, w, px, pw))
            fns = {"strided, xpconv auto": lambda: xpconv.conv(a, b, stride=STRIDE, padding=padding)}
            if framework == "torch":
                fns["strided, F.conv2d"] = lambda: torch.nn.functional.conv2d(a, b, stride=STRIDE, padding=padding)
            for method in ("auto", "winograd", "fourier"):
                fns[f"polyphase, {method}"] = lambda method=method: xpconv.conv(pa, pb, method=method)
            times = side_by_side(fns, lambda y: y, 7, 1.0)
            print(f"  {framework}: " + ", ".join(f"{k} {1e3 * statistics.median(v):.1f} ms" for k, v in times.items()))


if __name__ == "__main__":
    main()
