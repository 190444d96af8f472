"""The four padding modes side by side: a small image padded by 2 on every side, as xpconv pads it.

A 1×1 kernel of one with ``padding=2`` returns the padded input itself, so each panel is
``xpconv.conv2d`` with that ``padding_mode``; the frame marks the original image.
"""

from __future__ import annotations

import sys
import typing

import matplotlib.pyplot as plt
import numpy as np

import xpconv
from xpconv.api import PaddingMode

PAD = 2
IMAGE = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)


def padded(mode):
    """The image as the convolution sees it with ``padding_mode=mode``."""
    return xpconv.conv2d(IMAGE, np.ones((1, 1, 1, 1)), padding=PAD, padding_mode=mode)[0, 0]


def draw(path):
    modes = typing.get_args(PaddingMode)
    fig, axes = plt.subplots(1, len(modes), figsize=(3.3 * len(modes), 3.6))
    for ax, mode in zip(axes, modes):
        values = padded(mode)
        ax.imshow(values, cmap="viridis", vmin=0, vmax=IMAGE.max())
        rows, cols = values.shape
        for i in range(rows):
            for j in range(cols):
                inside = PAD <= i < rows - PAD and PAD <= j < cols - PAD
                ax.text(j, i, f"{values[i, j]:g}", ha="center", va="center", fontsize=9,
                        color="white" if values[i, j] < IMAGE.max() / 2 else "black",
                        fontweight="bold" if inside else "normal")
        ax.add_patch(plt.Rectangle((PAD - 0.5, PAD - 0.5), IMAGE.shape[-1], IMAGE.shape[-2], fill=False,
                                   edgecolor="red", linewidth=2))
        ax.set_title(f'padding_mode="{mode}"', fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    draw(sys.argv[1] if len(sys.argv) > 1 else "padding_modes.png")
