"""Tables of measured numbers, read from the files the measurements wrote.

``.. xpconv-algorithm-results::``: the fast algorithms' runs of ``benchmarks/algorithms.json``.
``.. xpconv-bench-ratios::``: the ratios of ``benchmarks/results.json`` (``xpconv bench``), one row
per ratio and one column per workload, with the machine and versions it ran on; ``.. xpconv-bench-memory::``, its memory
measurement; ``.. xpconv-bench-overhead::``, what a validated call adds to each framework's own call. ``.. xpconv-calibration::``: the cost model's
calibration (``src/xpconv/kernels/calibration.json``, ``xpconv bench --calibrate``): for each backend
and number of spatial axes, the worst relative error of each kernel's time model, and the extra
rounding error each fast algorithm is allowed (``xpconv.testing.tolerance.ALGORITHM_ERROR``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from .rst import list_table, literal, parse

ROOT = Path(__file__).resolve().parents[3]
RESULTS = ROOT / "benchmarks" / "results.json"
ALGORITHMS = ROOT / "benchmarks" / "algorithms.json"
#: Columns of a ratio row that are not ratios.
NOT_RATIOS = ("workload", "fastest_native_ms")


def _number(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"


def ratio_lines(path: Path = RESULTS) -> list[str]:
    report = json.loads(path.read_text())
    lines = [_environment(report), ""]
    columns = [key for key, value in report["ratios"][0].items()
               if key not in NOT_RATIOS and (value is None or isinstance(value, float))]
    workloads = [row["workload"] for row in report["ratios"]]
    rows = [[key, *(_number(row.get(key)) for row in report["ratios"])] for key in columns]
    return [*lines, *list_table(["ratio", *workloads], rows, classes="xpconv-numbers")]


def memory_lines(path: Path = RESULTS) -> list[str]:
    """The temporary memory each method allocated on the chapter's 5×5 workload, against its limit."""
    memory = json.loads(path.read_text())["memory_chapter_5x5"]
    columns = list(next(iter(memory.values())))
    rows = [[method, *(str(values[c]) for c in columns)] for method, values in memory.items()]
    return list_table(["method", *(c.replace("_", " ") for c in columns)], rows, classes="xpconv-numbers")


def overhead_lines(path: Path = RESULTS) -> list[str]:
    """Per framework: its own call on the chapter's example, xpconv's validated call, the difference, in µs."""
    overhead = json.loads(path.read_text()).get("call_overhead") or {}
    if not overhead:
        return ["(not measured in this run)"]
    rows = [[name, f"{o['native_us']:.2f}", f"{o['auto_us']:.2f}", f"{o['overhead_us']:+.2f}", f"{o['limit_us']:g}",
             "✓" if o["ok"] else "✗"] for name, o in overhead.items()]
    return list_table(["framework", "own call µs", "xpconv auto µs", "added µs", "limit µs", "ok"], rows,
                      classes="xpconv-numbers")


def _environment(report: dict[str, Any]) -> str:
    env = report["environment"]
    versions = ", ".join(f"{name} {env[name]}" for name in env if name not in ("command", "platform", "processor", "cpus"))
    return (f"Measured on {env['processor']} ({env['cpus']} CPUs), float32 matmul peak "
            f"{report['matmul_peak_gflops']:.0f} GFLOP/s; {versions}. Command: {literal(env['command'])}.")


def algorithm_lines(path: Path = ALGORITHMS) -> list[str]:
    """Per workload and framework: what ``auto`` ran, and each xpconv candidate's time over the
    framework's own convolution (NumPy, which has none: over xpconv's direct Array API kernel), with
    the fast algorithms' float32 errors in units of the output's scale."""
    report = json.loads(path.read_text())
    found = {(r["workload"], r["framework"], r["candidate"]): r for r in report["results"]}
    candidates = ("auto", "winograd", "fourier")
    rows = []
    for workload, framework in dict.fromkeys((r["workload"], r["framework"]) for r in report["results"]):
        base = found.get((workload, framework, f"{framework} native")) or found[workload, framework, "xpconv portable"]
        runs = {c: found.get((workload, framework, f"xpconv {c}")) for c in candidates}
        ratios = [_number(r["median_ms"] / base["median_ms"]) if r else "" for r in runs.values()]
        errors = [f"{runs[c]['extra']['error']:.0e}" if runs[c] else "" for c in candidates[1:]]
        rows.append([workload, framework, base["candidate"], runs["auto"]["extra"]["algorithm"], *ratios, *errors])
    header = ["workload", "framework", "baseline", "auto runs", *(f"{c} / baseline" for c in candidates),
              *(f"{c} error" for c in candidates[1:])]
    return [_environment(report), "", *list_table(header, rows, classes="xpconv-numbers")]


def calibration_lines() -> list[str]:
    from xpconv.kernels import cost_model
    from xpconv.testing.tolerance import ALGORITHM_ERROR

    table = cost_model.constants()["backends"]
    found = dict.fromkeys(key.removesuffix("_error") for widths in table.values() for ranks in widths.values()
                          for values in ranks.values() for key in values if key.endswith("_error"))
    kernels = sorted(found, key=lambda k: (k != "native", k != "direct"))  # the kernels auto weighs them against
    risks = sorted(dict.fromkeys(key for widths in table.values() for ranks in widths.values()
                                 for values in ranks.values() for key in values if "_over_" in key))
    rows = []
    for backend, widths in table.items():
        for width, ranks in widths.items():
            for rank, values in ranks.items():
                rows.append([backend, f"float{width}", f"{rank[:-1]}-D",
                             *(f"{values[f'{k}_error']:.0%}" if f"{k}_error" in values else "" for k in kernels),
                             *(f"{values[k]:.0%}" if k in values else "" for k in risks)])
    header = ["backend", "dtype", "axes", *(f"{k} model's worst error" for k in kernels),
              *(f"{k.replace('_over_', ' / ')} risk" for k in risks)]
    allowance = [[name, *(f"{units[rank]:g}" for rank in sorted(units))] for name, units in ALGORITHM_ERROR.items()]
    ranks = sorted(next(iter(ALGORITHM_ERROR.values())))
    note = "Extra rounding error allowed, in units of ``eps·sqrt(K)`` times the output's scale:"
    return [*list_table(header, rows, classes="xpconv-numbers"), note, "",
            *list_table(["algorithm", *(f"{r}-D" for r in ranks)], allowance, classes="xpconv-numbers")]


class BenchRatios(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(RESULTS))
        return parse(self, ratio_lines())


class AlgorithmResults(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(ALGORITHMS))
        return parse(self, algorithm_lines())


class BenchMemory(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(RESULTS))
        return parse(self, memory_lines())


class BenchOverhead(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(RESULTS))
        return parse(self, overhead_lines())


class Calibration(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        from xpconv.kernels import cost_model

        self.env.note_dependency(str(cost_model.CALIBRATION))
        return parse(self, calibration_lines())


def setup(app: Sphinx) -> None:
    app.add_directive("xpconv-bench-ratios", BenchRatios)
    app.add_directive("xpconv-bench-memory", BenchMemory)
    app.add_directive("xpconv-bench-overhead", BenchOverhead)
    app.add_directive("xpconv-calibration", Calibration)
    app.add_directive("xpconv-algorithm-results", AlgorithmResults)
