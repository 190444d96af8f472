"""How ``xpconv bench`` times: candidates side by side, round-robin, in one process, from a settled
allocator; calls too short to time alone, in rounds of many; the machine's matrix-multiply peak; the
temporary memory of one call (NumPy reports to ``tracemalloc``)."""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import conv, conv_transpose
from .workloads import Workload

PAUSE_S = 1.0
#: Calls per round of :func:`per_call`.
CALLS_PER_ROUND = 1000
#: Bytes of the array :func:`settle_allocator` makes and frees (glibc raises its thresholds to at most 32 MiB).
SETTLE_BYTES = 24 * 1024 * 1024


def settle_allocator() -> None:
    """Put the C allocator in the state of a process that has already held a large array: NumPy's
    temporaries of up to :data:`SETTLE_BYTES` then come from memory malloc keeps, not from fresh pages.

    glibc's malloc gives each large allocation its own fresh pages (faulted in and zeroed by the
    kernel on first touch) until a large block has been freed; the first free raises its thresholds
    to that block's size, and from then on blocks of that size are reused. A fresh process timing
    xpconv's NumPy kernels therefore measures page faults: the ResNet 3x3 layer took 29 ms (direct)
    and 43 ms (Winograd) on this project's machine before one 24 MiB array was made and freed, 16 and
    14 ms after it. ``xpconv bench`` and its calibration both start here, so that their times (and
    the cost model fitted to them) describe the same, usual, state."""
    block = np.ones(SETTLE_BYTES // 4, dtype=np.float32)  # touched: pages really held, then freed
    del block


def side_by_side(fns: dict[str, Callable[[], Any]], sync: Callable[[Any], Any], repeats: int | None,
                       budget_s: float) -> dict[str, list[float]]:
    """Time candidates round-robin: each repeat runs every candidate once, in a rotating order,
    so that drift of a shared, noisy machine falls on all of them alike."""
    for fn in fns.values():  # warm-up: compilation, caches, allocator
        sync(fn())
        sync(fn())
    names = list(fns)
    times: dict[str, list[float]] = {name: [] for name in names}
    limit = repeats or 50
    start = time.perf_counter()
    for rep in range(limit):
        order = names[rep % len(names):] + names[: rep % len(names)]
        for name in order:
            t0 = time.perf_counter()
            sync(fns[name]())
            times[name].append(time.perf_counter() - t0)
        if repeats is None and rep >= 6 and time.perf_counter() - start > budget_s * len(names):
            break
    return times


def per_call(fns: dict[str, Callable[[], Any]], sync: Callable[[Any], Any], calls: int = CALLS_PER_ROUND,
             rounds: int = 7) -> dict[str, float]:
    """Seconds one call of each candidate takes, for calls too short to time one by one: ``calls``
    calls (every result synced) timed as one candidate of :func:`side_by_side`, ``rounds`` repeats,
    the fastest of each (on a shared machine noise only adds time)."""
    def repeated(fn: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            for _ in range(calls):
                sync(fn())
        return run

    times = side_by_side({name: repeated(fn) for name, fn in fns.items()}, lambda _: None, rounds, 0.0)
    return {name: min(t) / calls for name, t in times.items()}


def _time(fn: Callable[[], Any], sync: Callable[[Any], Any], repeats: int | None, budget_s: float) -> list[float]:
    return side_by_side({"fn": fn}, sync, repeats, budget_s)["fn"]


def matmul_peak(size: int = 2048, repeats: int = 5) -> tuple[float, str]:
    """The fastest float32 matrix product on this machine among the installed libraries (GFLOP/s)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    best, source = 0.0, "numpy"
    candidates: dict[str, Callable[[], Any]] = {"numpy": lambda: a @ b}
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        candidates["torch"] = lambda: ta @ tb
    for name, fn in candidates.items():
        seconds = min(_time(fn, lambda y: y, repeats, 1.0))
        rate = 2 * size**3 / seconds / 1e9
        if rate > best:
            best, source = rate, name
        time.sleep(PAUSE_S)
    return best, source


def temporary_memory(wl: Workload, method: str) -> dict[str, float]:
    """Peak memory traced during one call, less the output (NumPy reports to tracemalloc)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(wl.x, dtype=np.float32)
    w = rng.standard_normal(wl.w, dtype=np.float32)
    gc.collect()
    tracemalloc.start()
    function = conv_transpose if wl.transpose else conv
    y = function(x, w, stride=wl.stride, padding=wl.padding, groups=wl.groups, dilation=wl.dilation, method=method)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    mib = 1024 * 1024
    io = (x.nbytes + y.nbytes) / mib
    temp = (peak - y.nbytes) / mib
    return {"temporary_mib": round(temp, 1), "input_plus_output_mib": round(io, 1),
            "limit_mib": round(max(64.0, 0.1 * io), 1), "ok": temp <= max(64.0, 0.1 * io)}
