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

import gc
import json
import os
import platform
import shlex
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from .._conv import conv, conv_transpose
from .bench_report import Result, annotate, payload, plot, report
from .frameworks import FRAMEWORKS, Loaded, load
from .progress import Progress
from .workloads import LARGE_FULL, LARGE_IMAGE, LARGE_QUICK, Workload, select

PAUSE_S = 1.0
#: The layout each framework is timed in: its own preferred one, for xpconv and the direct call alike.
LAYOUT = {"numpy": "channels_first", "torch": "channels_first", "jax": "channels_last", "tensorflow": "channels_last",
          "mxnet": "channels_first", "array_api_strict": "channels_first"}


# -- timing ------------------------------------------------------------------------------
def _time_side_by_side(fns: dict[str, Callable[[], Any]], sync: Callable[[Any], Any], repeats: int | None,
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


def _time(fn: Callable[[], Any], sync: Callable[[Any], Any], repeats: int | None, budget_s: float) -> list[float]:
    return _time_side_by_side({"fn": fn}, sync, repeats, budget_s)["fn"]


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


# -- candidates per framework -------------------------------------------------------------
def _keras_conv(name: str) -> Callable | None:
    """keras.ops.conv's implementation for one framework, without switching Keras' global backend."""
    try:
        import importlib

        module = importlib.import_module(f"keras.src.backend.{name}.nn")
    except Exception:
        return None
    return module.conv


def candidates(fw: Loaded, wl: Workload, layout: str) -> dict[str, Callable[[], Any]]:
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(wl.x, dtype=np.float32)
    if layout == "channels_last":
        x_np = np.ascontiguousarray(np.moveaxis(x_np, -(wl.rank + 1), -1))
    w_np = rng.standard_normal(wl.w, dtype=np.float32)
    x, w = fw.asarray(x_np), fw.asarray(w_np)
    options = {"stride": wl.stride, "padding": wl.padding, "groups": wl.groups, "dilation": wl.dilation,
               "data_format": layout}
    function = conv_transpose if wl.transpose else conv
    out: dict[str, Callable[[], Any]] = {}
    name = fw.name
    if name == "jax":
        jax = sys.modules["jax"]
        auto = jax.jit(lambda x, w: function(x, w, **options))
        portable = jax.jit(lambda x, w: function(x, w, method="portable", **options))
        out["xpconv auto"] = lambda: auto(x, w)
        out["xpconv portable"] = lambda: portable(x, w)
    else:
        out["xpconv auto"] = lambda: function(x, w, **options)
        out["xpconv portable"] = lambda: function(x, w, method="portable", **options)
    if name == "tensorflow" and wl.dilation > 1:
        tf = sys.modules["tensorflow"]

        def taped() -> Any:  # a gradient may be recorded: the native forward with a custom gradient
            with tf.GradientTape() as tape:
                tape.watch(x)
                return function(x, w, **options)

        out["xpconv auto, taped"] = taped
    native = _native(fw, wl, layout, x, w_np)
    if native is not None:
        out[f"{name} native"] = native
    keras_conv = _keras_conv(name)
    if keras_conv is not None and wl.batched and not wl.transpose:
        spatial_first = (*range(2, wl.rank + 2), 1, 0)  # (*kernel, C_in/groups, C_out)
        hwio = fw.asarray(np.ascontiguousarray(w_np.transpose(spatial_first)))
        padding = "same" if wl.padding else "valid"

        def keras_call() -> Any:
            return keras_conv(x, hwio, strides=wl.stride, padding=padding, data_format=layout, dilation_rate=wl.dilation)

        if name == "jax":
            jitted = sys.modules["jax"].jit(lambda x, k: keras_conv(
                x, k, strides=wl.stride, padding=padding, data_format=layout, dilation_rate=wl.dilation))
            out["keras.ops.conv"] = lambda: jitted(x, hwio)
        else:
            out["keras.ops.conv"] = keras_call
    return out


def _native(fw: Loaded, wl: Workload, layout: str, x: Any, w_np: np.ndarray) -> Callable[[], Any] | None:
    """The framework's own convolution, called directly, on weights in its own layout."""
    p, s, g, d, rank = wl.padding, wl.stride, wl.groups, wl.dilation, wl.rank
    if fw.name == "torch":
        functional = sys.modules["torch"].nn.functional
        w = fw.asarray(w_np)
        if wl.transpose:
            transposed = getattr(functional, f"conv_transpose{rank}d")
            return lambda: transposed(x, w, None, s, p, 0, g, d)
        forward = getattr(functional, f"conv{rank}d")
        return lambda: forward(x, w, None, s, p, d, g)
    spatial = "DHW"[3 - rank:]
    batched = x if wl.batched else x[None, ...]
    if fw.name == "jax":
        jax = sys.modules["jax"]
        lhs = f"N{spatial}C" if layout == "channels_last" else f"NC{spatial}"
        if wl.transpose:  # the input dilated by the stride, the kernel flipped with its channel axes swapped
            k = wl.w[2:]
            w_np = np.flip(w_np.reshape(g, wl.w[0] // g, wl.w[1], *k).swapaxes(1, 2).reshape(
                wl.w[1] * g, wl.w[0] // g, *k), axis=tuple(range(2, rank + 2)))
            pads = [(d * (n - 1) - p,) * 2 for n in k]
            fn = jax.jit(lambda x, w: jax.lax.conv_general_dilated(
                x, w, (1,) * rank, pads, lhs_dilation=(s,) * rank, rhs_dilation=(d,) * rank,
                dimension_numbers=(lhs, f"OI{spatial}", lhs), feature_group_count=g))
        else:
            fn = jax.jit(lambda x, w: jax.lax.conv_general_dilated(
                x, w, (s,) * rank, [(p, p)] * rank, rhs_dilation=(d,) * rank,
                dimension_numbers=(lhs, f"OI{spatial}", lhs), feature_group_count=g))
        w = fw.asarray(np.ascontiguousarray(w_np))
        return lambda: fn(batched, w)
    if fw.name == "tensorflow" and g == 1:
        tf = sys.modules["tensorflow"]
        filters = tf.constant(np.ascontiguousarray(w_np.transpose(*range(2, rank + 2), 1, 0)))
        if wl.transpose:  # tf.nn.conv_transpose's padding is VALID/SAME: VALID, then crop
            if d != 1:
                return None
            full = [(n - 1) * s + k for n, k in zip(wl.x[-rank:], wl.w[2:])]
            shape = [wl.x[0], *full, wl.w[1]]
            crop = (slice(None), *(slice(p, n - p) for n in full), slice(None))
            return lambda: tf.nn.conv_transpose(batched, filters, shape, s, "VALID")[crop]
        pads = [[0, 0], *([[p, p]] * rank), [0, 0]]
        if rank == 3:  # Conv3D takes no explicit padding
            return lambda: tf.nn.conv3d(tf.pad(batched, pads), filters, [1, s, s, s, 1], "VALID",
                                        dilations=[1, d, d, d, 1])
        if rank == 1:  # conv1d takes no explicit padding either
            return lambda: tf.nn.conv1d(tf.pad(batched, pads), filters, s, "VALID", dilations=d)
        return lambda: tf.nn.conv2d(batched, filters, s, pads, dilations=d)
    if fw.name == "mxnet" and layout == "channels_first":  # MXNet's CPU convolution is channels-first only
        npx = sys.modules["mxnet"].npx
        w = fw.asarray(w_np)
        common = {"kernel": tuple(wl.w[2:]), "stride": (s,) * rank, "dilate": (d,) * rank, "pad": (p,) * rank,
                  "num_group": g, "no_bias": True}
        if wl.transpose:  # no 3-D deconvolution on the CPU, and a dilated one is wrong: then none
            if rank == 3 or d != 1:
                return None
            return lambda: npx.deconvolution(batched, w, num_filter=wl.w[1] * g, **common)
        return lambda: npx.convolution(batched, w, num_filter=wl.w[0], **common)
    return None


def temporary_memory(fw: Loaded, wl: Workload, method: str) -> dict[str, float]:
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


# -- the run ------------------------------------------------------------------------------
def measure(workloads: tuple[Workload, ...], frameworks: list[Loaded], repeats: int | None,
            budget_s: float, progress: Progress | None = None) -> list[Result]:
    """Every candidate of every framework and workload, one :class:`Result` each."""
    results: list[Result] = []
    step = 0
    for fw in frameworks:
        layout = LAYOUT.get(fw.name, "NCHW")
        for wl in workloads:
            step += 1
            if progress is not None:
                progress.update(step, f"{fw.name}: {wl.name}")
            timed = _time_side_by_side(candidates(fw, wl, layout), fw.sync, repeats, budget_s)
            for label, times in timed.items():
                results.append(Result(wl.name, fw.name, label, 1e3 * statistics.median(times), 1e3 * min(times),
                                      1e3 * max(times), len(times), extra={"layout": layout}))
        time.sleep(PAUSE_S)
    return results


def environment(argv: list[str]) -> dict[str, Any]:
    """The machine, the versions of what ran, and the command line (``argv``, without the program)."""
    info: dict[str, Any] = {
        "command": shlex.join(["xpconv", *argv]),
        "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
        "processor": _cpu_model(),
    }
    for name in ("numpy", "torch", "jax", "tensorflow", "array_api_strict", "keras"):
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
    if args.workload and LARGE_IMAGE in args.workload:
        from . import bench_dask

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
    frameworks = load(tuple(dict.fromkeys(args.backend)) if args.backend else FRAMEWORKS)
    for fw in frameworks:
        if fw.name == "torch":
            fw.backend.framework.set_num_threads(max(1, os.cpu_count() or 1))
    with Progress("bench", len(workloads) * len(frameworks)) as progress:  # on stderr, when a terminal
        progress.update(0, "float32 matmul peak")
        peak, source = matmul_peak(1024 if args.quick else 2048)
        results = measure(workloads, frameworks, args.repeats or (3 if args.quick else None),
                          0.3 if args.quick else 3.0, progress)
    annotate(results, workloads, peak)
    memory = {}
    numpy_fw = next((fw for fw in frameworks if fw.name == "numpy"), None)
    target = next((wl for wl in workloads if wl.name == "chapter 5x5"), None)
    if numpy_fw is not None and target is not None:
        memory = {m: temporary_memory(numpy_fw, target, m) for m in ("auto", "portable")}
    data = payload(results, workloads, peak, source, memory, environment(argv))
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print(report(results, workloads, peak, source, memory, markdown=args.markdown))
    if args.json_file:
        with open(args.json_file, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, default=str)
    if args.markdown_file:
        header = "\n".join(f"- {k}: {v}" for k, v in data["environment"].items())
        with open(args.markdown_file, "w", encoding="utf-8") as handle:
            handle.write(f"# xpconv bench\n\n{header}\n\n")
            handle.write(report(results, workloads, peak, source, memory, markdown=True) + "\n")
    if args.plot:
        plot(results, args.plot)
    return 0
