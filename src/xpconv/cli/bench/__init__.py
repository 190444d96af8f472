"""``xpconv bench``: xpconv against each framework's own convolution, side by side in one process.

For every installed framework and workload it times ``xpconv.conv`` (or ``conv_transpose``) with ``method="auto"``
and ``"portable"``, the framework's own convolution called directly, and ``keras.ops.conv``'s
implementation for that framework when Keras is installed; it also measures the machine's
float32 matrix-multiply peak in the same run. JAX runs under ``jax.jit`` with
``block_until_ready``. Each candidate warms up first; then the candidates of one framework
and workload are timed round-robin (every repeat runs each once, in a rotating order), and
the median, minimum and maximum of the repeats are kept (:mod:`.bench_report` reports them).
Frameworks are separated by a pause, since NumPy's BLAS threads keep the cores busy for a
while after a call.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import statistics
import sys
import time
from typing import Any

from ...backends import get_backend
from ...testing import Adapter
from ..frameworks import frameworks, load
from ..progress import Progress
from .baselines import algorithms, candidates, error, overhead
from .report import Result, annotate, payload, plot, report
from .timing import CALLS_PER_ROUND, PAUSE_S, matmul_peak, settle_allocator, side_by_side, temporary_memory
from .workloads import LARGE_FULL, LARGE_IMAGE, LARGE_QUICK, OVERHEAD_WORKLOAD, Workload, select


# -- the run ------------------------------------------------------------------------------
def measure(workloads: tuple[Workload, ...], loaded: list[Adapter], repeats: int | None,
            budget_s: float, progress: Progress | None = None) -> list[Result]:
    """Every candidate of every framework and workload, one :class:`Result` each."""
    results: list[Result] = []
    step = 0
    for fw in loaded:
        layout = get_backend(fw.name).preferred_layout
        for wl in workloads:
            step += 1
            if progress is not None:
                progress.update(step, f"{fw.name}: {wl.name}")
            calls = candidates(fw, wl, layout)
            timed = side_by_side(calls, fw.sync, repeats, budget_s)
            runs = algorithms(fw, wl, layout)
            for label, times in timed.items():
                extra = {"layout": layout, **({"algorithm": runs[label]} if label in runs else {})}
                # the taped candidate times a gradient, and keras.ops.conv's "same" pads a strided
                # workload differently (its other output size): no error for those two
                if not label.endswith(", taped") and label != "keras.ops.conv":
                    extra["error"] = error(fw, wl, layout, calls[label])
                results.append(Result(wl.name, fw.name, label, 1e3 * statistics.median(times), 1e3 * min(times),
                                      1e3 * max(times), len(times), extra=extra))
        time.sleep(PAUSE_S)
    return results


def call_overhead(workloads: tuple[Workload, ...], loaded: list[Adapter], calls: int) -> dict[str, Any]:
    """What a validated call adds to each framework's own call on the chapter's example (where it is
    among ``workloads``), by framework (:func:`.baselines.overhead`, rounds of ``calls`` calls)."""
    chapter = next((wl for wl in workloads if wl.name == OVERHEAD_WORKLOAD), None)
    if chapter is None:
        return {}
    found = {}
    for fw in loaded:
        measured = overhead(fw, chapter, get_backend(fw.name).preferred_layout, calls)
        if measured is not None:
            found[fw.name] = measured
    return found


def environment(argv: list[str]) -> dict[str, Any]:
    """The machine, the versions of what ran, and the command line (``argv``, without the program)."""
    info: dict[str, Any] = {
        "command": shlex.join(["xpconv", *argv]),
        "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
        "processor": _cpu_model(),
    }
    for name in (*frameworks(), "keras"):
        module = sys.modules.get(name)
        if module is not None:
            info[name] = getattr(module, "__version__", "?")
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def run(args: Any, argv: list[str]) -> int:
    """``xpconv bench`` with options ``args`` (already checked by the parser); ``argv`` is recorded."""
    settle_allocator()  # every measurement below, calibration included, starts from the same allocator state
    if args.workload and LARGE_IMAGE in args.workload:
        from . import dask as bench_dask

        wl = LARGE_QUICK if args.quick else LARGE_FULL
        rows = bench_dask.measure(wl, args.repeats or (1 if args.quick else 3))
        text = bench_dask.report(rows, wl, markdown=args.markdown or bool(args.markdown_file))
        print(json.dumps(bench_dask.as_json(rows, wl), indent=2) if args.json else text)
        if args.markdown_file and set(args.workload) == {LARGE_IMAGE}:
            with open(args.markdown_file, "w", encoding="utf-8") as handle:
                handle.write(f"# xpconv bench --workload {LARGE_IMAGE!r}\n\n{text}\n")
        if set(args.workload) == {LARGE_IMAGE}:
            return 0
    workloads = select(args.quick, args.workload)
    loaded = load(tuple(dict.fromkeys(args.backend)) if args.backend else frameworks())
    for fw in loaded:
        fw.use_every_core()
    if args.calibrate:
        from . import calibrate

        print(calibrate.run(loaded, args.calibrate, args.quick, args.repeats, environment(argv)))
        return 0
    with Progress("bench", len(workloads) * len(loaded)) as progress:  # on stderr, when a terminal
        progress.update(0, "float32 matmul peak")
        peak, source = matmul_peak(1024 if args.quick else 2048)
        results = measure(workloads, loaded, args.repeats or (3 if args.quick else None),
                          0.3 if args.quick else 3.0, progress)
    annotate(results, workloads, peak)
    added = call_overhead(workloads, loaded, 100 if args.quick else CALLS_PER_ROUND)
    memory = {}
    target = next((wl for wl in workloads if wl.name == "chapter 5x5"), None)
    if any(fw.name == "numpy" for fw in loaded) and target is not None:  # NumPy reports to tracemalloc
        memory = {m: temporary_memory(target, m) for m in ("auto", "portable", "winograd", "fourier")}
    data = payload(results, workloads, peak, source, memory, environment(argv), added)
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print(report(results, workloads, peak, source, memory, markdown=args.markdown, overhead=added))
    if args.json_file:
        with open(args.json_file, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, default=str)
    if args.markdown_file:
        header = "\n".join(f"- {k}: {v}" for k, v in data["environment"].items())
        with open(args.markdown_file, "w", encoding="utf-8") as handle:
            handle.write(f"# xpconv bench\n\n{header}\n\n")
            handle.write(report(results, workloads, peak, source, memory, markdown=True, overhead=added) + "\n")
    if args.plot:
        plot(results, args.plot)
    return 0
