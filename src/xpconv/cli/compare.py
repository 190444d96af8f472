"""``xpconv compare``: every backend and method on one seeded suite, against the oracle and each other.

Values of every backend and method; gradients of every framework with autodiff (torch, JAX,
TensorFlow, MXNet), for the portable and native methods. One tolerance rule for all of them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._conv import conv2d
from .._oracle import conv2d_oracle, conv2d_oracle_grad
from .._spec import ConvPlan, make_options, make_plan
from .._tolerance import allowed_error
from .frameworks import load
from .gradients import RUNNERS
from .progress import Progress
from .table import render

DTYPES = ("float32", "float64")
#: The gradients compared, of ``sum(y * g)`` with respect to x, weight and bias.
QUANTITIES = ("dx", "dw", "db")
#: The methods whose gradients are compared ("auto" runs one of them).
GRADIENT_METHODS = ("portable", "native")


@dataclass(frozen=True)
class Case:
    name: str
    x_shape: tuple[int, ...]  # NCHW (or CHW when unbatched)
    w_shape: tuple[int, ...]
    options: dict = field(default_factory=dict)
    bias: bool = True
    data_format: str = "NCHW"


SUITE = (
    Case("3x3 valid", (2, 4, 9, 9), (6, 4, 3, 3)),
    Case("stride 2", (2, 4, 9, 8), (6, 4, 3, 3), {"stride": 2}),
    Case("padding 1", (2, 4, 7, 7), (6, 4, 3, 3), {"padding": 1}),
    Case("same", (2, 4, 7, 8), (6, 4, 3, 3), {"padding": "same"}),
    Case("same, stride 2, even kernel", (2, 4, 9, 7), (6, 4, 4, 2), {"padding": "same", "stride": 2}),
    Case("explicit asymmetric", (2, 4, 6, 6), (6, 4, 3, 3), {"padding": ((0, 2), (1, 0))}),
    Case("dilation 2", (2, 4, 10, 10), (6, 4, 3, 3), {"dilation": 2}),
    Case("same, stride 2, dilation 2", (2, 4, 11, 9), (6, 4, 3, 3), {"padding": "same", "stride": 2, "dilation": 2}),
    Case("groups 2", (2, 4, 8, 8), (6, 2, 3, 3), {"groups": 2}),
    Case("depthwise", (2, 6, 8, 8), (12, 1, 3, 3), {"groups": 6, "padding": 1}),
    Case("1x1", (2, 16, 6, 6), (8, 16, 1, 1)),
    Case("1x1 stride 2", (2, 16, 7, 7), (8, 16, 1, 1), {"stride": 2}),
    Case("5x5 no bias", (1, 8, 12, 12), (4, 8, 5, 5), {"padding": 2}, bias=False),
    Case("NHWC same stride 2", (2, 4, 9, 9), (6, 4, 3, 3), {"padding": "same", "stride": 2}, data_format="NHWC"),
    Case("unbatched", (4, 7, 7), (6, 4, 3, 3), {"padding": "same"}),
)


def _inputs(case: Case, seed: int, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Seeded x (in the case's layout), weight and bias, rounded to ``dtype``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case.x_shape).astype(dtype)
    w = rng.standard_normal(case.w_shape).astype(dtype)
    b = rng.standard_normal(case.w_shape[0]).astype(dtype) if case.bias else None
    if case.data_format == "NHWC":
        x = np.ascontiguousarray(np.moveaxis(x, -3, -1))
    return x, w, b


def _plan(case: Case) -> ConvPlan:
    options = make_options(**{"stride": 1, "padding": 0, "dilation": 1, "groups": 1, **case.options}, data_format="NCHW")
    return make_plan(options, case.x_shape, case.w_shape, None)


def _oracle_args(plan: ConvPlan) -> dict[str, Any]:
    return {"stride": plan.stride, "padding": plan.padding, "dilation": plan.dilation, "groups": plan.groups}


def _to_nchw(case: Case, a: np.ndarray) -> np.ndarray:
    """An input-shaped or output-shaped array of the case's layout as batched NCHW."""
    a4 = a if a.ndim == 4 else a[None]
    return np.moveaxis(a4, -1, -3) if case.data_format == "NHWC" else a4


def _from_nchw(case: Case, a: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_to_nchw`."""
    if len(case.x_shape) == 3:
        a = a[0]
    return np.moveaxis(a, -3, -1) if case.data_format == "NHWC" else a


def _oracle(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, int]:
    """Float64 result and magnitude of exactly these inputs, in the case's layout; reduction length."""
    plan = _plan(case)
    outputs = [conv2d_oracle(_to_nchw(case, x), w, b, absolute=absolute, **_oracle_args(plan)) for absolute in (False, True)]
    return _from_nchw(case, outputs[0]), _from_nchw(case, outputs[1]), plan.reduction_length


def _cotangent(seed: int, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """The fixed, seeded ``g`` of the loss ``sum(y * g)``, shaped like the output, rounded to ``dtype``."""
    return np.random.default_rng([seed, 1]).standard_normal(shape).astype(dtype)


def _oracle_gradients(case: Case, x: np.ndarray, w: np.ndarray, g: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """Per quantity (dx, dw, db): float64 gradient, magnitude and reduction length; dx in the case's layout."""
    plan = _plan(case)
    exact, magnitude = (
        conv2d_oracle_grad(_to_nchw(case, x), w, _to_nchw(case, g), absolute=absolute, **_oracle_args(plan))
        for absolute in (False, True)
    )
    kh, kw = plan.kernel_hw
    lengths = {
        "dx": (plan.out_channels // plan.groups) * kh * kw,  # outputs reading one input pixel, at most
        "dw": plan.batch * plan.out_hw[0] * plan.out_hw[1],
        "db": plan.batch * plan.out_hw[0] * plan.out_hw[1],
    }
    result = {}
    for index, quantity in enumerate(QUANTITIES):
        e, m = exact[index], magnitude[index]
        if quantity == "dx":
            e, m = _from_nchw(case, e), _from_nchw(case, m)
        result[quantity] = (e, m, lengths[quantity])
    return result


def _error(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``|got - expected|``; infinite everywhere when the shapes differ (never broadcast)."""
    if got.shape != expected.shape:
        return np.full(expected.shape, np.inf)
    return np.abs(got - expected)


def measure() -> list[dict[str, Any]]:
    """One record per (case, dtype, backend, method, quantity), plus the spread between all of them.

    Quantity ``"y"``: the result of every backend and method. ``"dx"``, ``"dw"``, ``"db"``: the
    gradients of ``sum(y * g)`` from each framework's autodiff, methods portable and native.
    """
    records = []
    with Progress("compare", len(SUITE) * len(DTYPES)) as progress:  # on stderr, when a terminal
        progress.update(0, "importing the frameworks")
        loaded = load()
        for index, case in enumerate(SUITE):
            for dtype in DTYPES:
                progress.update(len(DTYPES) * index + DTYPES.index(dtype) + 1, f"{case.name} ({dtype})")
                records += _problem(index, case, dtype, loaded)
    return records


def _problem(index: int, case: Case, dtype: str, loaded: list) -> list[dict[str, Any]]:
    """The records of one problem of the suite in one dtype: values, their spread, gradients."""
    records = []
    inputs = _inputs(case, index, dtype)
    expected, magnitude, length = _oracle(case, *inputs)
    allowed = allowed_error(dtype, length, magnitude)
    results = []
    for fw in loaded:
        methods = ["portable", "auto"] + (["native"] if fw.backend.has_native else [])
        arrays = [None if a is None else fw.asarray(a) for a in inputs]
        for method in methods:
            y = fw.to_numpy(conv2d(*arrays, data_format=case.data_format, method=method, **case.options))
            results.append(y)
            records.append(_record(case, dtype, fw.name, method, np.abs(y - expected), allowed))
    stack = np.stack(results)
    spread = stack.max(axis=0) - stack.min(axis=0)
    records.append(_record(case, dtype, "between frameworks", "spread", spread, 2 * allowed))
    records += _gradient_records(case, _cotangent(index, dtype, expected.shape), inputs, dtype, loaded)
    return records


def _gradient_records(case: Case, g: np.ndarray, inputs: tuple, dtype: str, loaded: list) -> list[dict[str, Any]]:
    """Gradients of every autodiff framework and method against the oracle's, and their spread."""
    runners = [(fw.name, RUNNERS[fw.name]) for fw in loaded if fw.name in RUNNERS]
    if not runners:
        return []
    x, w, b = inputs
    oracle = _oracle_gradients(case, x, w, g)
    quantities = [q for q in QUANTITIES if q != "db" or b is not None]
    allowed = {q: allowed_error(dtype, oracle[q][2], oracle[q][1]) for q in quantities}
    records, results = [], {q: [] for q in quantities}
    for name, runner in runners:
        for method in GRADIENT_METHODS:
            grads = runner(conv2d, x, w, b, g, data_format=case.data_format, method=method, **case.options)
            for q in quantities:
                error = _error(grads[q], oracle[q][0])
                results[q].append(grads[q] if np.isfinite(error).all() else np.full_like(oracle[q][0], np.nan))
                records.append(_record(case, dtype, name, method, error, allowed[q], q))
    for q in quantities:
        stack = np.stack(results[q])
        spread = stack.max(axis=0) - stack.min(axis=0)
        records.append(_record(case, dtype, "between frameworks", "spread", spread, 2 * allowed[q], q))
    return records


def _record(case: Case, dtype: str, backend: str, method: str, error: np.ndarray, allowed: np.ndarray,
            quantity: str = "y") -> dict[str, Any]:
    return {
        "case": case.name, "dtype": dtype, "backend": backend, "method": method, "quantity": quantity,
        "max_error": float(error.max()),
        "worst_ratio": float((error / np.maximum(allowed, np.finfo(np.float64).tiny)).max()),
        "ok": bool((error <= allowed).all()),
    }


def _table(records: list[dict[str, Any]], markdown: bool, gradients: bool) -> str:
    """The worst record of each (backend, method, dtype[, quantity]): values or gradients."""
    summary: dict[tuple[str, ...], dict[str, Any]] = {}
    for r in records:
        if (r["quantity"] != "y") != gradients:
            continue
        key = (r["backend"], r["method"], r["dtype"]) + ((r["quantity"],) if gradients else ())
        best = summary.get(key)
        if best is None or r["max_error"] > best["max_error"]:
            summary[key] = {**r, "ok": r["ok"] and (best is None or best["ok"])}
        elif not r["ok"]:
            best["ok"] = False
    keys = list(summary)
    if gradients:  # dx, dw, db together under each backend and method (cases without bias have no db)
        first: dict[tuple[str, ...], int] = {}
        for key in keys:
            first.setdefault(key[:3], len(first))
        keys.sort(key=lambda k: (DTYPES.index(k[2]), first[k[:3]], QUANTITIES.index(k[3])))
    rows = [[*key, f"{summary[key]['max_error']:.2e}", summary[key]["case"], f"{summary[key]['worst_ratio']:.3f}",
             "✓" if summary[key]["ok"] else "✗"] for key in keys]
    headers = ["backend", "method", "dtype", *(["quantity"] if gradients else []),
               "largest error", "in case", "error / tolerance", "ok"]
    return render(headers, rows, markdown=markdown)


def _report(records: list[dict[str, Any]], markdown: bool, title: str) -> str:
    """The values table, then the gradients table when there is one."""
    heading = "### " if markdown else ""
    parts = [f"{heading}{title}", _table(records, markdown, gradients=False)]
    if any(r["quantity"] != "y" for r in records):
        parts += [
            f"{heading}gradients of sum(y * g) (fixed seeded g) with respect to x (dx), weight (dw) and bias (db), "
            f"by each framework's autodiff through methods {' and '.join(GRADIENT_METHODS)}; same tolerance rule",
            _table(records, markdown, gradients=True),
        ]
    return "\n\n".join(parts)


def run(as_json: bool = False, markdown: bool = False) -> int:
    """Run the suite; print JSON, markdown or a text table; 1 if anything is outside tolerance."""
    records = measure()
    ok = all(r["ok"] for r in records)
    if as_json:
        print(json.dumps({"ok": ok, "records": records}, indent=2))
    else:
        title = (f"xpconv compare: {len(SUITE)} problems x {len(DTYPES)} dtypes; error vs the float64 oracle, "
                 "spread between all backends and methods")
        print(_report(records, markdown, title))
        print("\nall within tolerance" if ok else "\nSOME RESULTS OUTSIDE TOLERANCE")
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(_report(records, True, "xpconv compare") + "\n")
    return 0 if ok else 1
