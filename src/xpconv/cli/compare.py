"""``xpconv compare``: every backend and method on one seeded suite, against the oracle and each other."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._conv import conv2d
from .._oracle import conv2d_oracle
from .._spec import make_options, make_plan
from .._tolerance import allowed_error
from .frameworks import load
from .table import render

DTYPES = ("float32", "float64")


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


def _oracle(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, int]:
    """Float64 result and magnitude of exactly these inputs, in the case's layout; reduction length."""
    options = make_options(**{"stride": 1, "padding": 0, "dilation": 1, "groups": 1, **case.options}, data_format="NCHW")
    plan = make_plan(options, case.x_shape, case.w_shape, None)
    x4 = x if x.ndim == 4 else x[None]
    if case.data_format == "NHWC":
        x4 = np.moveaxis(x4, -1, -3)
    args = {"stride": plan.stride, "padding": plan.padding, "dilation": plan.dilation, "groups": plan.groups}
    outputs = [conv2d_oracle(x4, w, b, absolute=absolute, **args) for absolute in (False, True)]
    if x.ndim == 3:
        outputs = [o[0] for o in outputs]
    if case.data_format == "NHWC":
        outputs = [np.moveaxis(o, -3, -1) for o in outputs]
    return outputs[0], outputs[1], plan.reduction_length


def measure() -> list[dict[str, Any]]:
    """One record per (case, dtype, backend, method), plus the spread between all of them."""
    loaded = load()
    records = []
    for index, case in enumerate(SUITE):
        for dtype in DTYPES:
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
    return records


def _record(case: Case, dtype: str, backend: str, method: str, error: np.ndarray, allowed: np.ndarray) -> dict[str, Any]:
    return {
        "case": case.name, "dtype": dtype, "backend": backend, "method": method,
        "max_error": float(error.max()),
        "worst_ratio": float((error / np.maximum(allowed, np.finfo(np.float64).tiny)).max()),
        "ok": bool((error <= allowed).all()),
    }


def _tables(records: list[dict[str, Any]], markdown: bool) -> str:
    summary: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in records:
        key = (r["backend"], r["method"], r["dtype"])
        best = summary.get(key)
        if best is None or r["max_error"] > best["max_error"]:
            summary[key] = {**r, "ok": r["ok"] and (best is None or best["ok"])}
        elif not r["ok"]:
            best["ok"] = False
    rows = [[b, m, d, f"{s['max_error']:.2e}", s["case"], f"{s['worst_ratio']:.3f}", "✓" if s["ok"] else "✗"]
            for (b, m, d), s in summary.items()]
    headers = ["backend", "method", "dtype", "largest error", "in case", "error / tolerance", "ok"]
    return render(headers, rows, markdown=markdown)


def run(as_json: bool = False, markdown: bool = False) -> int:
    records = measure()
    ok = all(r["ok"] for r in records)
    if as_json:
        print(json.dumps({"ok": ok, "records": records}, indent=2))
    else:
        text = _tables(records, markdown)
        title = f"xpconv compare: {len(SUITE)} problems x {len(DTYPES)} dtypes; error vs the float64 oracle, spread between all backends and methods"
        print(("### " if markdown else "") + title + "\n")
        print(text)
        print("\nall within tolerance" if ok else "\nSOME RESULTS OUTSIDE TOLERANCE")
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write("### xpconv compare\n\n" + _tables(records, True) + "\n")
    return 0 if ok else 1
