"""``xpconv bench --calibrate FILE``: refit the cost model's constants on this machine.

For each installed framework, float32, on workloads the fast algorithms can run, the candidates
are timed side by side: the framework's own convolution (where it has one), xpconv's direct
kernel (what ``auto`` runs without a fast algorithm), Winograd and Fourier. Then, per framework
and rank (1-D, 2-D, 3-D: three workloads or more each):
``time = macs · per_mac + moved · per_element`` for the native and direct kernels and
``time = products · per_product + transformed · per_element + weights · per_weight`` for each
algorithm (:func:`xpconv.kernels.cost_model.features`) are fitted by least squares in relative
error, with non-negative constants; each model's worst relative error on these workloads is kept
beside its constants (``*_error``), and so is each algorithm's risk against each kernel ``auto``
weighs it against (``{algorithm}_over_{kernel}``: the largest relative excess of the measured time
ratio over the predicted one, on the workloads where the algorithm was predicted at least as fast,
or on all of them where it never was; :func:`xpconv.kernels.cost_model.fastest`). The constants
are written to ``FILE`` as JSON, in the form of the shipped ``xpconv/kernels/calibration.json``,
with the measured seconds they were fitted to (``"measured"``: :func:`fit` of them gives the
constants again); setting ``XPCONV_COST_MODEL=FILE``
makes ``method="auto"`` use them (the shipped file is refitted by writing over it).
"""

from __future__ import annotations

import json
import statistics
from typing import Any

import numpy as np

from ... import conv, plan
from ...backends import get_backend
from ...kernels import cost_model
from ...kernels.transform import ALGORITHMS
from ...testing import Adapter
from .timing import side_by_side

#: ``(x shape, weight shape, padding)``: stride 1, enough channels, kernels 3 to 7, large and small
#: images; four or more per rank (the constants are fitted per rank: up to three per kernel, and the
#: error needs one workload more).
WORKLOADS = (
    ((8, 128, 2000), (128, 128, 3), 1),
    ((32, 128, 64), (128, 128, 3), 1),
    ((8, 64, 4000), (64, 64, 5), 2),
    ((4, 256, 1000), (256, 256, 7), 3),
    ((8, 64, 56, 56), (64, 64, 3, 3), 1),
    ((4, 128, 28, 28), (128, 128, 3, 3), 1),
    ((1, 128, 128, 128), (128, 128, 5, 5), 2),
    ((4, 32, 56, 56), (64, 32, 5, 5), 2),
    ((2, 32, 56, 56), (32, 32, 7, 7), 3),
    ((16, 256, 14, 14), (256, 256, 3, 3), 1),
    ((2, 32, 8, 28, 28), (32, 32, 3, 3, 3), 1),
    ((2, 64, 16, 28, 28), (64, 64, 3, 3, 3), 1),
    ((1, 32, 16, 32, 32), (32, 32, 5, 5, 5), 2),
    ((8, 64, 4, 14, 14), (64, 64, 3, 3, 3), 1),
)
#: ``--quick``: 2-D only (1-D and 3-D then get no constants: auto takes no fast algorithm there).
QUICK = (
    ((2, 16, 28, 28), (16, 16, 3, 3), 1),
    ((1, 32, 64, 64), (32, 32, 5, 5), 2),
    ((2, 16, 28, 28), (16, 16, 7, 7), 3),
    ((4, 32, 14, 14), (32, 32, 3, 3), 1),
)


def measure(loaded: list[Adapter], quick: bool, repeats: int | None) -> dict[str, list[dict[str, Any]]]:
    """Seconds (median of the repeats) of every candidate, per framework and workload."""
    found: dict[str, list[dict[str, Any]]] = {}
    rng = np.random.default_rng(0)
    for fw in loaded:
        rows = []
        for x_shape, w_shape, padding in QUICK if quick else WORKLOADS:
            calls = _candidates(fw, rng.standard_normal(x_shape, dtype=np.float32),
                                rng.standard_normal(w_shape, dtype=np.float32), padding)
            times = side_by_side(calls, fw.sync, repeats or (2 if quick else 5), 0.2 if quick else 2.0)
            rows.append({"x": x_shape, "w": w_shape, "padding": padding,
                         **{name: statistics.median(t) for name, t in times.items()}})
        found[fw.name] = rows
    return found


def _candidates(fw: Adapter, x_np: np.ndarray, w_np: np.ndarray, padding: int) -> dict[str, Any]:
    """The calls timed for one workload, by kernel name, in the backend's preferred layout."""
    layout = get_backend(fw.name).preferred_layout
    if layout == "channels_last":
        x_np = np.ascontiguousarray(np.moveaxis(x_np, 1, -1))
    x, w = fw.asarray(x_np), fw.asarray(w_np)
    options = {"padding": padding, "data_format": layout}
    if fw.has_native:
        direct = fw.compiled(lambda x, w: conv(x, w, method="portable", **options))
    else:  # NumPy & co.: what auto runs without a fast algorithm
        direct = fw.compiled(lambda x, w: _without_fast(lambda: conv(x, w, **options)))
    calls = {"direct": lambda: direct(x, w)}
    for algorithm in ALGORITHMS:
        fast = fw.compiled(lambda x, w, algorithm=algorithm: conv(x, w, method=algorithm, **options))
        calls[algorithm] = lambda fast=fast: fast(x, w)
    native = fw.native_call(x, w_np, rank=w_np.ndim - 2, stride=1, padding=padding, dilation=1, groups=1,
                            transpose=False, layout=layout)
    if native is not None:
        calls["native"] = native
    return calls


def _without_fast(call: Any) -> Any:
    """``call()`` with an empty cost model: ``auto`` then runs no fast algorithm."""
    with cost_model.using({"backends": {}}):
        return call()


def fit(measured: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The cost model's constants from :func:`measure`'s times (float32 only: ``"32"``), per
    framework and rank; a rank with fewer than :data:`MIN_WORKLOADS` workloads gets none."""
    backends: dict[str, Any] = {}
    for name, rows in measured.items():
        by_rank: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            by_rank.setdefault(f"{len(r['x']) - 2}d", []).append(r)
        blocks = get_backend(name).transform_block_elements
        backends[name] = {"32": {rank: _fit_rank(same, blocks) for rank, same in sorted(by_rank.items())
                                 if len(same) >= MIN_WORKLOADS}}
    return {"backends": backends}


#: Workloads a rank needs for constants: one more than a kernel's constants (its worst error is
#: then measured on a workload the fit could not match exactly).
MIN_WORKLOADS = 4


def _fit_rank(rows: list[dict[str, Any]], block_elements: int | None = None) -> dict[str, float]:
    """Every kernel's constants and worst error, and each algorithm's risk, on the workloads of one rank
    (the fast algorithms in the backend's blocks of ``block_elements``)."""
    plans = [plan(r["x"], r["w"], padding=r["padding"]) for r in rows]
    table: dict[str, float] = {}
    predicted: dict[str, np.ndarray] = {}
    for kernel in ("native", "direct", *ALGORITHMS):
        if not all(kernel in r for r in rows):
            continue  # no native convolution on this framework
        terms = [cost_model.features(kernel, p, block_elements) for p in plans]
        features = np.array([list(t.values()) for t in terms], dtype=np.float64)
        seconds = np.array([r[kernel] for r in rows])
        fitted = _fit(features, seconds)
        table.update({f"{kernel}_{name}": float(c) for name, c in zip(terms[0], fitted)})
        table[f"{kernel}_error"] = float(np.abs(features @ fitted / seconds - 1).max())
        predicted[kernel] = features @ fitted
    for algorithm in ALGORITHMS:
        for kernel in ("native", "direct"):
            if algorithm in predicted and kernel in predicted:
                measured = np.array([r[algorithm] / r[kernel] for r in rows])
                table[f"{algorithm}_over_{kernel}"] = risk(measured, predicted[algorithm] / predicted[kernel])
    return table


def risk(measured: np.ndarray, predicted: np.ndarray) -> float:
    """How much slower, relatively, an algorithm's measured time ratio to another kernel came out
    than predicted, at worst (0: never), on the workloads where it was predicted at least as fast
    (where ``auto`` could choose it), or on all of them where it never was."""
    near = predicted <= 1
    chosen = near if near.any() else np.ones_like(near)
    return float(max(0.0, (measured[chosen] / predicted[chosen] - 1).max()))


def _fit(features: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Non-negative constants ``c`` with ``seconds ≈ features @ c``, least squares in relative error
    (each workload counts alike, whatever its size): the best of the unconstrained fits on every
    subset of the features whose constants all come out non-negative."""
    a = features / seconds[:, None]
    ones = np.ones(len(seconds))
    best, best_residual = np.zeros(a.shape[1]), np.inf
    for mask in range(1, 2 ** a.shape[1]):
        used = [i for i in range(a.shape[1]) if mask >> i & 1]
        solution = np.linalg.lstsq(a[:, used], ones, rcond=None)[0]
        if solution.min() < 0:
            continue
        residual = float(np.sum((a[:, used] @ solution - 1) ** 2))
        if residual < best_residual:
            best, best_residual = np.zeros(a.shape[1]), residual
            best[used] = solution
    return best


def run(loaded: list[Adapter], path: str, quick: bool, repeats: int | None, environment: dict[str, Any]) -> str:
    """Measure, fit, write ``path`` (with ``environment``: the machine, versions and command);
    returns a report of the measured times and the predictions."""
    measured = measure(loaded, quick, repeats)
    fitted = {**fit(measured), "measured": measured, "command": environment["command"], "environment": environment}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(fitted, handle, indent=2)
        handle.write("\n")
    lines = [f"cost model constants written to {path}"]
    for name, rows in measured.items():
        backend = get_backend(name)
        for r in rows:
            p = plan(r["x"], r["w"], padding=r["padding"])
            times = ", ".join(f"{k} {1e3 * v:.1f} ms (model {_predicted(fitted, name, k, p)})"
                              for k, v in r.items() if isinstance(v, float))
            chosen = _choice(fitted, backend, p)
            lines.append(f"{name} x{r['x']} w{r['w']}: {times}; auto would run {chosen}")
    return "\n".join(lines)


def _predicted(fitted: dict[str, Any], name: str, kernel: str, p: Any) -> str:
    with cost_model.using(fitted):
        seconds = cost_model.predict(name, 32, kernel, p, get_backend(name).transform_block_elements)
    return "-" if seconds is None else f"{1e3 * seconds:.1f}"


def _choice(fitted: dict[str, Any], backend: Any, p: Any) -> str:
    with cost_model.using(fitted):
        return cost_model.fastest(backend, p, np.float32, backend.has_native) or ("native" if backend.has_native else "direct")
