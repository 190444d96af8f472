"""The benchmark chart, from ``benchmarks/results.json`` (``xpconv bench --json-file``): per workload,
xpconv's ``method="auto"`` over each framework's own convolution (left), and each candidate over the
fastest native convolution of any framework (right). Below 1 is faster. Missing ratios are not drawn."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results.json"


def _own(key):
    """``"torch auto / torch native"``: auto over the same framework's own convolution."""
    top, _, bottom = key.partition(" / ")
    return top.endswith(" auto") and bottom == f"{top[:-len(' auto')]} native"


def _bars(ax, ratios, keys, title):
    workloads = [row["workload"] for row in ratios]
    width = 0.8 / len(keys)
    for k, key in enumerate(keys):
        values = np.array([row.get(key, math.nan) for row in ratios], dtype=float)
        ax.bar(np.arange(len(workloads)) + (k - (len(keys) - 1) / 2) * width, values, width, label=key)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(workloads)), workloads, rotation=30, ha="right")
    ax.set_ylabel("time ratio (log scale; < 1 is faster)")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False)


def draw(path, results=RESULTS):
    report = json.loads(Path(results).read_text())
    ratios = report["ratios"]
    keys = [k for k in ratios[0] if " / " in k]
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.8))
    _bars(left, ratios, [k for k in keys if _own(k)], "xpconv auto / the same framework's own convolution")
    _bars(right, ratios, [k for k in keys if k.endswith("/ fastest native")],
          "over the fastest native convolution of any framework")
    env = report["environment"]
    fig.suptitle(f"float32 medians, {env['processor']}, {env['cpus']} CPUs", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    draw(sys.argv[1] if len(sys.argv) > 1 else "benchmark.png")
