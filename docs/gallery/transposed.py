"""A transposed convolution upsamples: stride 2 with a 4×4 bilinear kernel doubles a 4×4 image.

Each input pixel adds a copy of the kernel, scaled by its value, at twice its position
(``xpconv.conv_transpose2d(x, w, stride=2, padding=1)``); where copies overlap they sum.
"""

from __future__ import annotations

import sys

import matplotlib.pyplot as plt
import numpy as np

import xpconv

IMAGE = np.array([[0.0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 1]])
TAPS = np.array([0.25, 0.75, 0.75, 0.25])  # bilinear interpolation, factor 2
KERNEL = np.outer(TAPS, TAPS)
ALONE = (1, 2)  # the pixel shown on its own


def upsample(image):
    """``image`` (H, W) upsampled to (2H, 2W); the weight is (C_in, C_out, kH, kW)."""
    return xpconv.conv_transpose2d(image[None, None], KERNEL[None, None], stride=2, padding=1)[0, 0]


def _show(ax, values, title, numbers=True):
    ax.imshow(values, cmap="magma", vmin=0, vmax=max(1.0, float(values.max())))
    if numbers:
        for (i, j), v in np.ndenumerate(values):
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=8, color="white" if v < 0.5 else "black")
    ax.set_title(title, fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])


def draw(path):
    pixel = np.zeros_like(IMAGE)
    pixel[ALONE] = IMAGE[ALONE]
    panels = [
        (IMAGE, f"input {IMAGE.shape[0]}×{IMAGE.shape[1]}"),
        (KERNEL, f"kernel {KERNEL.shape[0]}×{KERNEL.shape[1]} (bilinear)"),
        (upsample(pixel), f"input pixel {ALONE} alone → the kernel at twice its place"),
        (upsample(IMAGE), "output {}×{} (stride 2, padding 1)".format(*upsample(IMAGE).shape)),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(15, 4.2), gridspec_kw={"width_ratios": [1, 1, 2, 2]})
    for ax, (values, title) in zip(axes, panels):
        _show(ax, values, title)
    axes[0].add_patch(plt.Rectangle((ALONE[1] - 0.5, ALONE[0] - 0.5), 1, 1, fill=False, edgecolor="cyan", linewidth=3))
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    draw(sys.argv[1] if len(sys.argv) > 1 else "transposed.png")
