"""The chapter's figure: two input channels, one kernel per channel, each channel's cross-correlation,
and their sum; the shaded windows give the first output, 56."""

from __future__ import annotations

import sys

import matplotlib.pyplot as plt
import numpy as np

import xpconv

X = np.array([[[0.0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]])
K = np.array([[[0.0, 1], [2, 3]], [[1.0, 2], [3, 4]]])
SHADE = "#9ecae1"


def grid(ax, values, x0, y0, shaded=(), label=""):
    """Draw ``values`` as a grid of numbered cells with its top-left corner at (x0, y0)."""
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            color = SHADE if (i, j) in shaded else "white"
            ax.add_patch(plt.Rectangle((x0 + j, y0 - i - 1), 1, 1, facecolor=color, edgecolor="black"))
            ax.text(x0 + j + 0.5, y0 - i - 0.5, f"{values[i, j]:g}", ha="center", va="center", fontsize=14)
    if label:
        ax.text(x0 + cols / 2, y0 + 0.35, label, ha="center", va="bottom", fontsize=11)


def draw(path):
    per_channel = [xpconv.corr2d(X[c], K[c]) for c in range(2)]
    total = xpconv.corr2d_multi_in(X, K)
    window = {(0, 0), (0, 1), (1, 0), (1, 1)}
    fig, ax = plt.subplots(figsize=(11, 5))
    for c, top in enumerate((5.0, 1.0)):
        grid(ax, X[c], 0, top, window, f"input channel {c}")
        ax.text(3.6, top - 1.5, r"$\star$", ha="center", va="center", fontsize=34)
        grid(ax, K[c], 4.2, top - 0.5, window, f"kernel {c}")
        ax.text(6.9, top - 1.5, "=", ha="center", va="center", fontsize=20)
        grid(ax, per_channel[c], 7.5, top - 0.5, {(0, 0)}, "corr2d")
    ax.text(10.2, 2.0, "+", ha="center", va="center", fontsize=26)
    ax.annotate("", xy=(11.2, 2.6), xytext=(9.7, 3.9), arrowprops={"arrowstyle": "->"})
    ax.annotate("", xy=(11.2, 1.4), xytext=(9.7, 0.1), arrowprops={"arrowstyle": "->"})
    grid(ax, total, 11.5, 3.0, {(0, 0)}, "corr2d_multi_in")
    terms = " + ".join(f"({' + '.join(f'{a:g}·{b:g}' for a, b in zip(X[c, :2, :2].ravel(), K[c].ravel()))})"
                       for c in (1, 0))
    ax.text(7.0, -2.6, f"{terms} = {total[0, 0]:g}", ha="center", fontsize=11)
    ax.set_xlim(-0.5, 14)
    ax.set_ylim(-3.2, 5.9)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.savefig(path, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    draw(sys.argv[1] if len(sys.argv) > 1 else "multi_channel.png")
