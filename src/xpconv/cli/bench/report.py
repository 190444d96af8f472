"""``xpconv bench``'s results: one record per measurement, the ratios, and the report.

The report is the same in every form: text on stdout (narrow enough for 100 columns),
markdown, JSON, and a bar chart. A measurement whose slowest repeat took more than
:data:`NOISY_SPREAD` times its fastest is *noisy*: marked ``~`` in the tables, and so is
every ratio that uses it; ``"noisy": true`` in the JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ...backends import catalog
from ..table import render
from .baselines import KERAS_BACKENDS
from .workloads import OVERHEAD_WORKLOAD, Workload

#: A measurement is noisy when its slowest repeat took more than this many times its fastest.
NOISY_SPREAD = 3.0
MARK = "~"
LEGEND = (f"{MARK} noisy: the slowest repeat took over {NOISY_SPREAD:g}x the fastest; "
          "do not trust that median,\n  nor any ratio using it. Ratios are of medians.")

#: The ratio tables: a title, then (column header, key of a :func:`summary` row) for each column.
FAMILIES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("xpconv auto / the same framework's own convolution, called directly", (
        ("torch", "torch auto / torch native"), ("jax", "jax auto / jax native"),
        ("tensorflow", "tensorflow auto / tensorflow native"), ("mxnet", "mxnet auto / mxnet native"))),
    ("xpconv auto / keras.ops.conv on the same framework", (
        ("numpy", "numpy auto / keras(numpy)"), ("torch", "torch auto / keras"), ("jax", "jax auto / keras"),
        ("tensorflow", "tensorflow auto / keras"))),
    ("against the fastest native convolution of any framework", (
        ("fastest native ms", "fastest_native_ms"), ("numpy auto", "numpy auto / fastest native"),
        ("jax auto", "jax auto / fastest native"), ("best portable", "best portable / fastest native"),
        ("strict portable", "strict portable / fastest native"))),
)


@dataclass
class Result:
    """One candidate on one framework and workload: times of its repeats, and what they imply."""

    workload: str
    framework: str
    candidate: str
    median_ms: float
    min_ms: float
    max_ms: float
    repeats: int
    gflops: float = 0.0
    peak_pct: float = 0.0
    ratio_to_fastest: float = 0.0
    extra: dict = field(default_factory=dict)
    noisy: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.noisy = self.max_ms > NOISY_SPREAD * self.min_ms


def annotate(results: list[Result], workloads: Sequence[Workload], peak: float) -> None:
    """Fill in GFLOP/s, % of the matmul ``peak`` and the ratio to the fastest of each workload."""
    for wl in workloads:
        rows = [r for r in results if r.workload == wl.name]
        if not rows:
            continue
        fastest = min(r.median_ms for r in rows)
        for r in rows:
            r.gflops = wl.flops / (r.median_ms * 1e-3) / 1e9
            r.peak_pct = 100 * r.gflops / peak
            r.ratio_to_fastest = r.median_ms / fastest


def summary(results: list[Result], workloads: Sequence[Workload]) -> list[dict[str, Any]]:
    """The ratios the targets are stated in, one row per workload (NaN where a side was not run).

    ``row["noisy"]`` lists the keys whose value uses a noisy measurement.
    """
    rows = []
    for wl in workloads:
        mine = {(r.framework, r.candidate): r for r in results if r.workload == wl.name}
        fastest = min((r for r in mine.values() if r.candidate.endswith(" native")),
                      key=lambda r: r.median_ms, default=None)
        best_portable = min((r for r in mine.values() if r.candidate == "xpconv portable"),
                            key=lambda r: r.median_ms, default=None)
        row: dict[str, Any] = {"workload": wl.name,
                               "fastest_native_ms": fastest.median_ms if fastest else math.nan}
        noisy = ["fastest_native_ms"] if fastest and fastest.noisy else []

        def ratio(key: str, top: Result | None, bottom: Result | None,
                  row: dict[str, Any] = row, noisy: list[str] = noisy) -> None:
            row[key] = top.median_ms / bottom.median_ms if top and bottom else math.nan
            if top and bottom and (top.noisy or bottom.noisy):
                noisy.append(key)

        for fw in (b.name for b in catalog() if b.has_native and b.lane):
            ratio(f"{fw} auto / {fw} native", mine.get((fw, "xpconv auto")), mine.get((fw, f"{fw} native")))
        for fw in KERAS_BACKENDS:
            ratio(f"{fw} auto / keras", mine.get((fw, "xpconv auto")), mine.get((fw, "keras.ops.conv")))
        ratio("numpy auto / fastest native", mine.get(("numpy", "xpconv auto")), fastest)
        ratio("numpy auto / keras(numpy)", mine.get(("numpy", "xpconv auto")), mine.get(("numpy", "keras.ops.conv")))
        ratio("best portable / fastest native", best_portable, fastest)
        ratio("strict portable / fastest native", mine.get(("array_api_strict", "xpconv portable")), fastest)
        ratio("jax auto / fastest native", mine.get(("jax", "xpconv auto")), fastest)
        row["noisy"] = noisy
        rows.append(row)
    return rows


# -- the report ---------------------------------------------------------------------------
def _cell(value: float, noisy: bool, digits: int) -> str:
    if not math.isfinite(value):
        return "—"
    return f"{value:.{digits}f}" + (f" {MARK}" if noisy else "")


def results_tables(results: list[Result], workloads: Sequence[Workload], markdown: bool) -> list[str]:
    """One table per workload, under a line naming its shapes and work; ``error``: xpconv's float32
    result against float64, in units of the output's scale."""
    heading = "### " if markdown else ""
    headers = ["framework", "candidate", "runs", "median ms", "min ms", "max/min", "GFLOP/s", "% peak", "x best",
               "error"]
    parts = []
    for wl in workloads:
        rows = [[r.framework, r.candidate, r.extra.get("algorithm", "-"), _cell(r.median_ms, r.noisy, 3), f"{r.min_ms:.3f}",
                 _cell(r.max_ms / r.min_ms if r.min_ms else math.inf, r.noisy, 2), f"{r.gflops:.1f}",
                 f"{r.peak_pct:.0f}%", f"{r.ratio_to_fastest:.2f}",
                 f"{r.extra['error']:.0e}" if "error" in r.extra else "-"] for r in results if r.workload == wl.name]
        if rows:
            parts.append(f"{heading}{wl.name}: {wl.describe()}\n\n" + render(headers, rows, markdown=markdown))
    return parts


def ratio_tables(rows: list[dict[str, Any]], markdown: bool) -> list[str]:
    """One table per family of ratios; columns (and tables) with nothing measured are left out."""
    heading = "### " if markdown else ""
    parts = []
    for title, columns in FAMILIES:
        present = [(h, k) for h, k in columns if any(math.isfinite(r[k]) for r in rows)]
        if not present or (len(present) == 1 and present[0][1] == "fastest_native_ms"):
            continue
        body = [[r["workload"], *(_cell(r[k], k in r["noisy"], 3 if k.endswith("_ms") else 2) for _, k in present)]
                for r in rows]
        parts.append(f"{heading}{title}\n\n" + render(["workload", *(h for h, _ in present)], body, markdown=markdown))
    return parts


def memory_table(memory: dict[str, dict[str, Any]], markdown: bool) -> str:
    heading = "### " if markdown else ""
    rows = [[method, f"{m['temporary_mib']:.1f}", f"{m['input_plus_output_mib']:.1f}", f"{m['limit_mib']:.1f}",
             "✓" if m["ok"] else "✗"] for method, m in memory.items()]
    return (f"{heading}chapter 5x5 on numpy: temporary memory (tracemalloc)\n\n"
            + render(["method", "temporary MiB", "input+output MiB", "limit MiB", "ok"], rows, markdown=markdown))


def overhead_table(overhead: dict[str, dict[str, Any]], markdown: bool) -> str:
    heading = "### " if markdown else ""
    rows = [[name, f"{o['native_us']:.2f}", f"{o['auto_us']:.2f}", f"{o['overhead_us']:+.2f}", f"{o['limit_us']:.0f}",
             "✓" if o["ok"] else "✗"] for name, o in overhead.items()]
    return (f"{heading}{OVERHEAD_WORKLOAD}: what a validated call adds to the framework's own (µs, fastest round)\n\n"
            + render(["framework", "own call µs", "xpconv auto µs", "added µs", "limit µs", "ok"], rows, markdown=markdown))


def report(results: list[Result], workloads: Sequence[Workload], peak: float, source: str,
           memory: dict[str, Any], markdown: bool, overhead: dict[str, Any] | None = None) -> str:
    """The whole report as text or markdown: peak, results per workload, ratios, call overhead, memory, legend."""
    parts = [f"float32 matmul peak: {peak:.1f} GFLOP/s ({source})"]
    parts += results_tables(results, workloads, markdown)
    parts += ratio_tables(summary(results, workloads), markdown)
    if overhead:
        parts.append(overhead_table(overhead, markdown))
    if memory:
        parts.append(memory_table(memory, markdown))
    parts.append(LEGEND)
    return "\n\n".join(parts)


def payload(results: list[Result], workloads: Sequence[Workload], peak: float, source: str,
            memory: dict[str, Any], environment: dict[str, Any], overhead: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything measured, as plain data; NaN (a side not run) becomes None, so that it is valid JSON."""
    ratios = [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
              for row in summary(results, workloads)]
    return {"environment": environment, "matmul_peak_gflops": peak, "matmul_peak_source": source,
            "noisy_spread": NOISY_SPREAD, "results": [asdict(r) for r in results], "ratios": ratios,
            "memory_chapter_5x5": memory, "call_overhead": overhead or {}}


def plot(results: list[Result], path: str) -> None:
    """A bar chart of time / fastest per workload, log scale (matplotlib, checked before the run)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = list(dict.fromkeys(r.workload for r in results))
    labels = list(dict.fromkeys(f"{r.framework}: {r.candidate}" for r in results))
    fig, ax = plt.subplots(figsize=(max(10, 1.6 * len(workloads)), 6))
    width = 0.8 / max(len(labels), 1)
    for k, label in enumerate(labels):
        values = []
        for wl in workloads:
            found = [r.ratio_to_fastest for r in results if r.workload == wl and f"{r.framework}: {r.candidate}" == label]
            values.append(found[0] if found else 0)
        ax.bar([i + k * width for i in range(len(workloads))], values, width, label=label)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(workloads))], workloads, rotation=20)
    ax.set_yscale("log")
    ax.set_ylabel("time / fastest (log)")
    ax.axhline(1.0, color="black", linewidth=0.5)
    ax.legend(fontsize=6, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
