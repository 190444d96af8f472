"""``xpconv bench --workload "large image"``: Dask against in-memory NumPy xpconv and dask-image.

Four runs of the same multi-channel convolution of a large image: in-memory NumPy xpconv, xpconv
on a Dask array with the threaded scheduler, and on a ``LocalCluster`` of two worker processes
with one thread (and one BLAS thread) each, whose input is generated on the workers and whose
result is persisted there (the scale-out case: nothing passes through the client). Then the
single-channel case against dask-image's ``ndfilters.correlate`` (one ``map_overlap``), both on
the threaded scheduler. Each run reports its wall time (the best of ``repeats``), the tasks of
its graph and its peak memory: traced NumPy allocations for the in-process runs (the result
included), the larger of the two workers' peak resident sizes (sampled every 10 ms, the
persisted input's half included) for the cluster.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any

import numpy as np

from ... import conv2d
from ..table import render
from .workloads import LargeImage


@dataclass
class Row:
    case: str
    run: str
    seconds: float
    tasks: int | str
    peak_mib: float
    peak_what: str


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _traced_peak(fn) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def _tasks(y: Any) -> int:
    return len(dict(y.__dask_graph__()))


def measure(wl: LargeImage, repeats: int = 3, cluster: bool = True) -> list[Row]:
    """Every run of the workload, one :class:`Row` each (see the module's docstring)."""
    import dask
    import dask.array as da

    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(wl.x, dtype=np.float32)
    w_np = rng.standard_normal(wl.w, dtype=np.float32)
    chunks = (1, wl.channels_in, wl.chunk, wl.chunk)
    rows: list[Row] = []
    multi = f"{wl.channels_in}->{wl.channels_out} channels"

    def in_memory():
        return conv2d(x_np, w_np, padding="same")

    expected = in_memory()
    rows.append(Row(multi, "in-memory NumPy xpconv", _best(in_memory, repeats), "-", _traced_peak(in_memory),
                    "traced"))
    x = da.from_array(x_np, chunks=chunks)

    def threaded():
        return conv2d(x, w_np, padding="same").compute(scheduler="threads")

    got = threaded()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)
    rows.append(Row(multi, "Dask threaded", _best(threaded, repeats), _tasks(conv2d(x, w_np, padding="same")),
                    _traced_peak(threaded), "traced"))
    if cluster:
        rows.append(_cluster_row(wl, w_np, chunks, multi, repeats))
    # single channel: dask-image's correlate (no channel axis) against xpconv, both threaded
    image = x_np[0, 0]
    kernel = w_np[0, 0]
    xi = da.from_array(image, chunks=(wl.chunk, wl.chunk))
    single = f"1->1 channel, {wl.kernel}x{wl.kernel}"
    ours = conv2d(xi[None], kernel[None, None], padding="same")
    rows.append(Row(single, "Dask threaded (xpconv)", _best(lambda: ours.compute(scheduler="threads"), repeats),
                    _tasks(ours), _traced_peak(lambda: ours.compute(scheduler="threads")), "traced"))
    try:
        from dask_image import ndfilters
    except ImportError:
        rows.append(Row(single, "dask-image ndfilters.correlate", float("nan"), "not installed", float("nan"), "-"))
        return rows
    theirs = ndfilters.correlate(xi, kernel, mode="constant", cval=0.0)
    with dask.config.set(scheduler="threads"):
        np.testing.assert_allclose(theirs.compute()[None], ours.compute(), rtol=1e-4, atol=1e-3)
    rows.append(Row(single, "dask-image ndfilters.correlate", _best(lambda: theirs.compute(scheduler="threads"), repeats),
                    _tasks(theirs), _traced_peak(lambda: theirs.compute(scheduler="threads")), "traced"))
    return rows


def _cluster_row(wl: LargeImage, w_np: np.ndarray, chunks: tuple, case: str, repeats: int) -> Row:
    """2 worker processes, 1 thread and 1 BLAS thread each; input made and output kept on them."""
    from dask.distributed import Client, LocalCluster, wait

    one = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=":0", env=one) as cluster, \
            Client(cluster) as client:
        import dask.array as da

        x = da.random.default_rng(0).standard_normal(wl.x, chunks=chunks, dtype=np.float32).persist()
        wait(x)

        def run():
            y = conv2d(x, w_np, padding="same").persist()
            wait(y)
            del y

        client.run(_start_sampler)
        seconds = _best(run, repeats)
        peaks = client.run(_stop_sampler)
        tasks = _tasks(conv2d(x, w_np, padding="same"))
        return Row(case, "Dask LocalCluster 2x1", seconds, tasks, max(peaks.values()), "worker peak RSS")


def _start_sampler(dask_worker: Any) -> None:
    """In a worker: a thread that records the process's largest resident size every 10 ms
    (``ru_maxrss`` would include the process that started the worker)."""
    import threading

    import psutil

    process = psutil.Process()
    state = {"peak": process.memory_info().rss, "stop": False}

    def sample() -> None:
        while not state["stop"]:
            state["peak"] = max(state["peak"], process.memory_info().rss)
            time.sleep(0.01)

    threading.Thread(target=sample, daemon=True).start()
    dask_worker.xpconv_memory = state


def _stop_sampler(dask_worker: Any) -> float:
    """The largest resident size :func:`_start_sampler` saw, in MiB."""
    state = dask_worker.xpconv_memory
    state["stop"] = True
    return state["peak"] / 2**20


def as_json(rows: list[Row], wl: LargeImage) -> dict[str, Any]:
    """The rows and the workload, for ``--json``."""
    def plain(row: Row) -> dict[str, Any]:  # JSON has no NaN: a peer not installed has no numbers
        return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in dataclasses.asdict(row).items()}

    return {"workload": wl.describe(), "rows": [plain(r) for r in rows]}


def report(rows: list[Row], wl: LargeImage, markdown: bool = True) -> str:
    """The rows as a table (aligned text or markdown), each time also relative to the first row of
    its case; a peer that is not installed says so."""
    first: dict[str, float] = {}
    cells = []
    for r in rows:
        base = first.setdefault(r.case, r.seconds)
        if math.isnan(r.seconds):
            cells.append([r.case, r.run, "not installed", "", "", "", ""])
            continue
        cells.append([r.case, r.run, f"{r.seconds:.3f}", f"{r.seconds / base:.2f}x", r.tasks, f"{r.peak_mib:.0f}",
                      r.peak_what])
    table = render(["case", "run", "wall s", "vs first", "tasks", "peak MiB", "peak of"], cells, markdown=markdown)
    return f"large image: {wl.describe()}\n\n{table}"
