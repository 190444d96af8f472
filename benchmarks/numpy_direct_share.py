"""What limits NumPy's direct kernel: its matrix products alone against the whole call.

``python benchmarks/numpy_direct_share.py`` (NumPy and PyTorch installed): for the layers where NumPy's
``auto`` misses its target (ResNet 3x3, stem 7x7/2, depthwise 3x3; they run xpconv's blocked NumPy
kernel), the shapes of the ``np.matmul`` calls the kernel makes are recorded, then those products
alone (same shapes and count) are timed beside the whole call, one copy of the input (a pass over
memory) and PyTorch's ``F.conv2d``, the target's reference; the rest of the call is the kernel's
gathers and copies. Medians of 9 round-robin runs (``xpconv bench``'s timing), PyTorch after a pause
(as the bench separates frameworks); float32, 2 threads.
"""

from __future__ import annotations

import statistics
import time
import types

import numpy as np
import torch

import xpconv
from xpconv.cli.bench.timing import settle_allocator, side_by_side
from xpconv.kernels import numpy_blocked

torch.set_num_threads(2)
CASES = {
    "resnet 3x3": ((8, 64, 56, 56), (64, 64, 3, 3), {"padding": 1}),
    "stem 7x7/2": ((8, 3, 224, 224), (64, 3, 7, 7), {"stride": 2, "padding": 3}),
    "depthwise 3x3": ((8, 256, 28, 28), (256, 1, 3, 3), {"padding": 1, "groups": 256}),
}


def product_shapes(x: np.ndarray, w: np.ndarray, options: dict) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The operand shapes of every ``np.matmul`` the blocked kernel makes on this call."""
    shapes = []

    def matmul(a, b, *args, **kwargs):
        shapes.append((a.shape, b.shape))
        return np.matmul(a, b, *args, **kwargs)

    recording = types.SimpleNamespace(**{name: getattr(np, name) for name in dir(np) if not name.startswith("__")})
    recording.matmul = matmul
    numpy_blocked.np = recording
    try:
        xpconv.conv2d(x, w, **options)
    finally:
        numpy_blocked.np = np
    return shapes


def main() -> None:
    settle_allocator()  # as xpconv bench starts
    rng = np.random.default_rng(0)
    for name, (x_shape, w_shape, options) in CASES.items():
        x, w = rng.standard_normal(x_shape, dtype=np.float32), rng.standard_normal(w_shape, dtype=np.float32)
        shapes = product_shapes(x, w, options)
        operands = [(rng.standard_normal(a, dtype=np.float32), rng.standard_normal(b, dtype=np.float32))
                    for a, b in shapes]
        flops = sum(2 * np.prod(np.broadcast_shapes(a[:-2], b[:-2])) * a[-2] * a[-1] * b[-1] for a, b in shapes)
        tx, tw = torch.asarray(x), torch.asarray(w)
        times = side_by_side({  # round-robin, as xpconv bench times: drift falls on all alike
            "whole": lambda: xpconv.conv2d(x, w, **options),
            "alone": lambda: [np.matmul(a, b) for a, b in operands],
            "copy": lambda: x.copy(),
        }, lambda result: result, 9, 0.0)
        time.sleep(1.0)  # as xpconv bench does between frameworks: NumPy's BLAS threads spin a while after it
        times |= side_by_side({"native": lambda: torch.nn.functional.conv2d(tx, tw, **options)},
                              lambda result: result, 9, 0.0)
        whole, alone, copy, native = (statistics.median(times[k]) for k in ("whole", "alone", "copy", "native"))
        print(f"{name}: {len(shapes)} products, e.g. {shapes[0][0]} @ {shapes[0][1]}")
        print(f"  whole call {1e3 * whole:.1f} ms, products alone {1e3 * alone:.1f} ms ({flops / alone / 1e9:.0f} "
              f"GFLOP/s, {alone / whole:.0%} of the call), one copy of the input {1e3 * copy:.2f} ms; "
              f"F.conv2d {1e3 * native:.1f} ms (whole / F.conv2d {whole / native:.2f}, products alone / F.conv2d "
              f"{alone / native:.2f})")


if __name__ == "__main__":
    main()
