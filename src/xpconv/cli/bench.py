"""``xpconv bench``: xpconv against each framework's own convolution, side by side in one process.

For every installed framework and workload it times ``xpconv.conv2d`` with ``method="auto"``
and ``"portable"``, the framework's own convolution called directly, and ``keras.ops.conv``'s
implementation for that framework when Keras is installed; it also measures the machine's
float32 matrix-multiply peak in the same run. JAX runs under ``jax.jit`` with
``block_until_ready``. Each candidate warms up first; then the candidates of one framework
and workload are timed round-robin (every repeat runs each once, in a rotating order), and
the median and minimum of the repeats are reported. Frameworks are separated by a pause, since NumPy's BLAS threads keep
the cores busy for a while after a call.
"""

from __future__ import annotations

import gc
import json
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .._conv import conv2d
from ..cost import conv2d_cost
from .frameworks import Loaded, load
from .table import render

PAUSE_S = 1.0
#: The layout each framework is timed in: its own preferred one, for xpconv and the direct call alike.
LAYOUT = {"numpy": "NCHW", "torch": "NCHW", "jax": "NHWC", "tensorflow": "NHWC", "array_api_strict": "NCHW"}


@dataclass(frozen=True)
class Workload:
    name: str
    x: tuple[int, ...]  # NCHW, or (C, H, W) unbatched
    w: tuple[int, ...]
    stride: int = 1
    padding: int = 0
    groups: int = 1

    @property
    def flops(self) -> int:
        return conv2d_cost(self.x, self.w, stride=self.stride, padding=self.padding, groups=self.groups).flops


WORKLOADS = (
    Workload("chapter 2x3x3", (2, 3, 3), (3, 2, 2, 2)),
    Workload("resnet 3x3", (8, 64, 56, 56), (64, 64, 3, 3), padding=1),
    Workload("bottleneck 1x1", (8, 256, 56, 56), (64, 256, 1, 1)),
    Workload("chapter 5x5", (1, 128, 256, 256), (128, 128, 5, 5), padding=2),
    Workload("stem 7x7/2", (8, 3, 224, 224), (64, 3, 7, 7), stride=2, padding=3),
    Workload("depthwise 3x3", (8, 256, 28, 28), (256, 1, 3, 3), padding=1, groups=256),
    Workload("resnext 3x3 g32", (8, 128, 28, 28), (128, 4, 3, 3), padding=1, groups=32),
)
QUICK = (
    Workload("chapter 2x3x3", (2, 3, 3), (3, 2, 2, 2)),
    Workload("resnet 3x3", (2, 16, 28, 28), (16, 16, 3, 3), padding=1),
    Workload("bottleneck 1x1", (2, 64, 28, 28), (16, 64, 1, 1)),
    Workload("chapter 5x5", (1, 32, 64, 64), (32, 32, 5, 5), padding=2),
    Workload("stem 7x7/2", (2, 3, 64, 64), (16, 3, 7, 7), stride=2, padding=3),
    Workload("depthwise 3x3", (2, 64, 14, 14), (64, 1, 3, 3), padding=1, groups=64),
    Workload("resnext 3x3 g32", (2, 64, 14, 14), (64, 2, 3, 3), padding=1, groups=32),
)


@dataclass
class Result:
    workload: str
    framework: str
    candidate: str
    median_ms: float
    min_ms: float
    repeats: int
    gflops: float = 0.0
    peak_pct: float = 0.0
    ratio_to_fastest: float = 0.0
    extra: dict = field(default_factory=dict)


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
    if layout == "NHWC":
        x_np = np.ascontiguousarray(np.moveaxis(x_np, -3, -1))
    w_np = rng.standard_normal(wl.w, dtype=np.float32)
    x, w = fw.asarray(x_np), fw.asarray(w_np)
    options = {"stride": wl.stride, "padding": wl.padding, "groups": wl.groups, "data_format": layout}
    out: dict[str, Callable[[], Any]] = {}
    name = fw.name
    if name == "jax":
        jax = sys.modules["jax"]
        auto = jax.jit(lambda x, w: conv2d(x, w, **options))
        portable = jax.jit(lambda x, w: conv2d(x, w, method="portable", **options))
        out["xpconv auto"] = lambda: auto(x, w)
        out["xpconv portable"] = lambda: portable(x, w)
    else:
        out["xpconv auto"] = lambda: conv2d(x, w, **options)
        out["xpconv portable"] = lambda: conv2d(x, w, method="portable", **options)
    native = _native(fw, wl, layout, x, w_np)
    if native is not None:
        out[f"{name} native"] = native
    keras_conv = _keras_conv(name)
    if keras_conv is not None and len(wl.x) == 4:
        hwio = fw.asarray(np.ascontiguousarray(w_np.transpose(2, 3, 1, 0)))
        fmt = "channels_first" if layout == "NCHW" else "channels_last"
        padding = "same" if wl.padding else "valid"

        def keras_call() -> Any:
            return keras_conv(x, hwio, strides=wl.stride, padding=padding, data_format=fmt)

        if name == "jax":
            jitted = sys.modules["jax"].jit(lambda x, k: keras_conv(x, k, strides=wl.stride, padding=padding, data_format=fmt))
            out["keras.ops.conv"] = lambda: jitted(x, hwio)
        else:
            out["keras.ops.conv"] = keras_call
    return out


def _native(fw: Loaded, wl: Workload, layout: str, x: Any, w_np: np.ndarray) -> Callable[[], Any] | None:
    """The framework's own convolution, called directly, on weights in its own layout."""
    p, s, g = wl.padding, wl.stride, wl.groups
    if fw.name == "torch":
        functional = sys.modules["torch"].nn.functional
        w = fw.asarray(w_np)
        return lambda: functional.conv2d(x, w, None, s, p, 1, g)
    if fw.name == "jax":
        jax = sys.modules["jax"]
        w = fw.asarray(w_np)
        dims = (layout, "OIHW", layout)
        x4 = x if len(wl.x) == 4 else x[None]
        fn = jax.jit(lambda x, w: jax.lax.conv_general_dilated(
            x, w, (s, s), [(p, p), (p, p)], dimension_numbers=dims, feature_group_count=g))
        return lambda: fn(x4, w)
    if fw.name == "tensorflow":
        tf = sys.modules["tensorflow"]
        hwio = tf.constant(np.ascontiguousarray(w_np.transpose(2, 3, 1, 0)))
        x4 = x if len(wl.x) == 4 else x[None]
        return lambda: tf.nn.conv2d(x4, hwio, s, [[0, 0], [p, p], [p, p], [0, 0]])
    return None


def temporary_memory(fw: Loaded, wl: Workload, method: str) -> dict[str, float]:
    """Peak memory traced during one call, less the output (NumPy reports to tracemalloc)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(wl.x, dtype=np.float32)
    w = rng.standard_normal(wl.w, dtype=np.float32)
    gc.collect()
    tracemalloc.start()
    y = conv2d(x, w, stride=wl.stride, padding=wl.padding, groups=wl.groups, method=method)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    mib = 1024 * 1024
    io = (x.nbytes + y.nbytes) / mib
    temp = (peak - y.nbytes) / mib
    return {"temporary_mib": round(temp, 1), "input_plus_output_mib": round(io, 1),
            "limit_mib": round(max(64.0, 0.1 * io), 1), "ok": temp <= max(64.0, 0.1 * io)}


# -- the run ------------------------------------------------------------------------------
def _progress(done: int, total: int, label: str) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:60]:<60}")
    sys.stderr.flush()
    if done == total:
        sys.stderr.write("\n")


def measure(workloads: tuple[Workload, ...], frameworks: list[Loaded], repeats: int | None,
            budget_s: float) -> list[Result]:
    results: list[Result] = []
    total = len(workloads) * len(frameworks)
    step = 0
    for fw in frameworks:
        layout = LAYOUT.get(fw.name, "NCHW")
        for wl in workloads:
            _progress(step, total, f"{fw.name}: {wl.name}")
            timed = _time_side_by_side(candidates(fw, wl, layout), fw.sync, repeats, budget_s)
            for label, times in timed.items():
                results.append(Result(wl.name, fw.name, label, 1e3 * statistics.median(times),
                                      1e3 * min(times), len(times), extra={"layout": layout}))
            step += 1
        _progress(step, total, f"{fw.name}: done")
        time.sleep(PAUSE_S)
    return results


def _annotate(results: list[Result], workloads: tuple[Workload, ...], peak: float) -> None:
    flops = {wl.name: wl.flops for wl in workloads}
    for wl in workloads:
        rows = [r for r in results if r.workload == wl.name]
        fastest = min(r.median_ms for r in rows)
        for r in rows:
            r.gflops = flops[wl.name] / (r.median_ms * 1e-3) / 1e9
            r.peak_pct = 100 * r.gflops / peak
            r.ratio_to_fastest = r.median_ms / fastest


def summary(results: list[Result], workloads: tuple[Workload, ...]) -> list[dict[str, Any]]:
    """The ratios the targets are stated in, per workload."""
    rows = []
    for wl in workloads:
        mine = [r for r in results if r.workload == wl.name]
        natives = [r for r in mine if r.candidate.endswith(" native")]
        fastest_native = min((r.median_ms for r in natives), default=float("nan"))

        def get(fw: str, cand: str, mine: list[Result] = mine) -> float:
            found = [r.median_ms for r in mine if r.framework == fw and r.candidate == cand]
            return found[0] if found else float("nan")

        row: dict[str, Any] = {"workload": wl.name, "fastest_native_ms": fastest_native}
        for fw in ("torch", "jax", "tensorflow"):
            row[f"{fw} auto / {fw} native"] = get(fw, "xpconv auto") / get(fw, f"{fw} native")
            row[f"{fw} auto / keras"] = get(fw, "xpconv auto") / get(fw, "keras.ops.conv")
        row["numpy auto / fastest native"] = get("numpy", "xpconv auto") / fastest_native
        row["numpy auto / keras(numpy)"] = get("numpy", "xpconv auto") / get("numpy", "keras.ops.conv")
        portable = [r.median_ms for r in mine if r.candidate == "xpconv portable"]
        row["best portable / fastest native"] = min(portable, default=float("nan")) / fastest_native
        row["strict portable / fastest native"] = get("array_api_strict", "xpconv portable") / fastest_native
        row["jax auto / fastest native"] = get("jax", "xpconv auto") / fastest_native
        rows.append(row)
    return rows


def _format_tables(results: list[Result], summary_rows: list[dict[str, Any]], peak: float, source: str,
                   markdown: bool) -> str:
    headers = ["workload", "framework", "candidate", "median ms", "min ms", "GFLOP/s", "% peak", "x fastest"]
    rows = [[r.workload, r.framework, r.candidate, f"{r.median_ms:.3f}", f"{r.min_ms:.3f}", f"{r.gflops:.1f}",
             f"{r.peak_pct:.0f}%", f"{r.ratio_to_fastest:.2f}"] for r in results]
    text = [f"float32 matmul peak: {peak:.1f} GFLOP/s ({source})", "", render(headers, rows, markdown=markdown), ""]
    keys = [k for k in summary_rows[0] if k != "workload"] if summary_rows else []
    ratio_rows = [[s["workload"], *(f"{s[k]:.2f}" if isinstance(s[k], float) and s[k] == s[k] else "—" for k in keys)]
                  for s in summary_rows]
    text.append(render(["workload", *keys], ratio_rows, markdown=markdown))
    return "\n".join(text)


def environment() -> dict[str, Any]:
    import os

    info: dict[str, Any] = {
        "command": "xpconv bench " + " ".join(sys.argv[2:]) if len(sys.argv) > 1 else "xpconv bench",
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


def plot(results: list[Result], path: str) -> None:
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


def run(args: Any) -> int:
    workloads = QUICK if args.quick else WORKLOADS
    if args.workload:
        workloads = tuple(wl for wl in workloads if wl.name in args.workload)
    frameworks = load()
    if args.backend:
        frameworks = [fw for fw in frameworks if fw.name in args.backend]
    for fw in frameworks:
        if fw.name == "torch":
            fw.backend.framework.set_num_threads(max(1, __import__("os").cpu_count() or 1))
    peak, source = matmul_peak(1024 if args.quick else 2048)
    results = measure(workloads, frameworks, args.repeats or (3 if args.quick else None), 0.3 if args.quick else 3.0)
    _annotate(results, workloads, peak)
    rows = summary(results, workloads)
    memory = {}
    if any(fw.name == "numpy" for fw in frameworks):
        target = next((wl for wl in workloads if wl.name == "chapter 5x5"), None)
        if target is not None:
            memory = {m: temporary_memory(next(fw for fw in frameworks if fw.name == "numpy"), target, m)
                      for m in ("auto", "portable")}
    print(_format_tables(results, rows, peak, source, markdown=False))
    if memory:
        print(f"\nchapter 5x5 temporary memory (tracemalloc): {json.dumps(memory)}")
    payload = {"environment": environment(), "matmul_peak_gflops": peak, "matmul_peak_source": source,
               "results": [asdict(r) for r in results], "ratios": rows, "memory_chapter_5x5": memory}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2, default=str)
    if args.markdown:
        env = payload["environment"]
        header = "\n".join(f"- {k}: {v}" for k, v in env.items())
        with open(args.markdown, "w", encoding="utf-8") as handle:
            handle.write(f"# xpconv bench\n\n{header}\n\n")
            handle.write(_format_tables(results, rows, peak, source, markdown=True))
            if memory:
                handle.write(f"\n\nchapter 5x5 temporary memory (tracemalloc, MiB): `{json.dumps(memory)}`\n")
    if args.plot:
        plot(results, args.plot)
    return 0
