"""``xpconv compare``: every backend and method on one seeded suite, against the oracle and each other.

Values of every backend and method (the fast algorithms ``winograd`` and ``fourier`` as methods of
their own, where a case allows them); gradients of every framework with autodiff (torch, JAX,
TensorFlow, MXNet), for the portable and native methods and the fast algorithms. One tolerance
rule for all of them (plus each algorithm's allowance).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import ConvPlan, causal_conv1d, conv, conv_transpose, plan
from ..backends import resolve
from ..kernels.transform import ALGORITHMS, unsupported
from ..testing import Adapter, allowed_error, conv2d_oracle_grad, conv_oracle, conv_transpose_oracle
from .frameworks import load
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
    x_shape: tuple[int, ...]  # channels first (N, C, *spatial), or (C, *spatial) when unbatched
    w_shape: tuple[int, ...]  # (C_out, C_in/groups, *kernel); transposed: (C_in, C_out/groups, *kernel)
    options: dict = field(default_factory=dict)
    bias: bool = True
    data_format: str = "channels_first"
    transpose: bool = False

    @property
    def rank(self) -> int:
        return len(self.w_shape) - 2

    @property
    def channels_last(self) -> bool:
        return self.data_format in ("NWC", "NHWC", "NDHWC", "channels_last")

    @property
    def out_channels(self) -> int:
        return self.w_shape[1] * self.options.get("groups", 1) if self.transpose else self.w_shape[0]

    @property
    def algorithms(self) -> list[str]:
        """The fast algorithms that can run this case (on real floating dtypes)."""
        found = plan(self.x_shape, self.w_shape, transposed=self.transpose, data_format="channels_first",
                     **self.options)
        return [] if unsupported(found) else list(ALGORITHMS)

    def methods(self, fw: Adapter) -> list[str]:
        """The methods this case runs on ``fw``."""
        return ["portable", "auto"] + (["native"] if fw.has_native else []) + self.algorithms

    def run(self, x: Any, w: Any, b: Any, method: str) -> Any:
        """This case through xpconv on the arrays of one framework."""
        function = conv_transpose if self.transpose else conv
        return function(x, w, b, data_format=self.data_format, method=method, **self.options)


@dataclass(frozen=True)
class CausalCase(Case):
    """:func:`xpconv.causal_conv1d` from no state: the depthwise convolution of the input padded by
    ``k - 1`` before (its options, which the oracle reads); fed in two pieces, the state carried."""

    def methods(self, fw: Adapter) -> list[str]:
        return ["auto"]

    def run(self, x: Any, w: Any, b: Any, method: str) -> Any:
        first, state = causal_conv1d(x[:, :, :3], w, b)
        rest, _ = causal_conv1d(x[:, :, 3:], w, b, state)
        backend, _ = resolve({"y": first})
        return backend.namespace(first).concat([first, rest], axis=2)


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
    Case("reflect padding", (2, 4, 7, 6), (6, 4, 3, 3), {"padding": 2, "padding_mode": "reflect"}),
    Case("1-D same stride 2", (2, 4, 33), (6, 4, 5), {"padding": "same", "stride": 2}),
    Case("1-D dilated grouped circular", (2, 4, 20), (6, 2, 3), {"padding": 2, "dilation": 2, "groups": 2,
                                                                 "padding_mode": "circular"}),
    Case("1-D channels last", (2, 5, 17), (3, 5, 4), {"padding": ((2, 1),)}, data_format="channels_last"),
    Case("3-D padding 1", (1, 4, 6, 7, 5), (6, 4, 3, 3, 3), {"padding": 1}),
    Case("3-D stride 2 channels last", (2, 3, 7, 6, 8), (4, 3, 3, 2, 3), {"stride": 2, "padding": "same"},
         data_format="channels_last"),
    Case("transposed 2-D stride 2", (2, 6, 5, 5), (6, 4, 4, 4), {"stride": 2, "padding": 1}, transpose=True),
    Case("transposed 2-D same, NHWC", (2, 4, 5, 6), (4, 3, 3, 3), {"stride": 2, "padding": "same"},
         data_format="NHWC", transpose=True),
    Case("transposed 1-D groups", (2, 4, 9), (4, 3, 5), {"stride": 3, "padding": 2, "output_padding": 1,
                                                          "groups": 2, "dilation": 2}, transpose=True),
    Case("transposed 3-D", (1, 4, 3, 4, 3), (4, 2, 3, 3, 3), {"stride": 2, "padding": ((1, 0), (0, 1), (1, 1))},
         transpose=True),
    Case("transposed 2-D circular", (2, 4, 5, 5), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1,
                                                                "padding_mode": "circular"}, transpose=True),
    Case("same_lower stride 2", (2, 4, 9, 8), (6, 4, 3, 4), {"padding": "same_lower", "stride": 2}),
    CausalCase("causal conv1d, state carried", (2, 6, 11), (6, 1, 4), {"groups": 6, "padding": ((3, 0),)}),
)


def _inputs(case: Case, seed: int, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Seeded x (in the case's layout), weight and bias, rounded to ``dtype``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case.x_shape).astype(dtype)
    w = rng.standard_normal(case.w_shape).astype(dtype)
    b = rng.standard_normal(case.out_channels).astype(dtype) if case.bias else None
    if case.channels_last:
        x = np.ascontiguousarray(np.moveaxis(x, -(case.rank + 1), -1))
    return x, w, b


def _plan(case: Case) -> ConvPlan:
    return plan(case.x_shape, case.w_shape, transposed=case.transpose, **case.options)


def _oracle_args(plan: ConvPlan) -> dict[str, Any]:
    return {"stride": plan.stride, "padding": plan.padding, "dilation": plan.dilation, "groups": plan.groups}


def _to_nchw(case: Case, a: np.ndarray) -> np.ndarray:
    """An input-shaped or output-shaped array of the case's layout as batched, channels first."""
    batched = a if a.ndim == case.rank + 2 else a[None]
    return np.moveaxis(batched, -1, 1) if case.channels_last else batched


def _from_nchw(case: Case, a: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_to_nchw`."""
    if len(case.x_shape) == case.rank + 1:
        a = a[0]
    return np.moveaxis(a, -(case.rank + 1), -1) if case.channels_last else a


def _oracle(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, int]:
    """Float64 result and magnitude of exactly these inputs, in the case's layout; reduction length."""
    plan = _plan(case)
    if case.transpose:
        outputs = [conv_transpose_oracle(_to_nchw(case, x), w, b, absolute=absolute, output_padding=plan.output_padding,
                                         padding_mode=plan.padding_mode, **_oracle_args(plan))
                   for absolute in (False, True)]
        # each output element sums at most C_in/groups · prod(kernel) products
        length = plan.in_channels // plan.groups * plan.taps
    else:
        outputs = [conv_oracle(_to_nchw(case, x), w, b, absolute=absolute, padding_mode=plan.padding_mode,
                               **_oracle_args(plan)) for absolute in (False, True)]
        length = plan.reduction_length
    return _from_nchw(case, outputs[0]), _from_nchw(case, outputs[1]), length


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
    pixels = plan.batch * plan.out_size[0] * plan.out_size[1]
    lengths = {
        "dx": (plan.out_channels // plan.groups) * plan.taps,  # outputs reading one input pixel, at most
        "dw": pixels,
        "db": pixels,
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
    gradients of ``sum(y * g)`` from each framework's autodiff, methods portable and native and the fast algorithms.
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
    results, widest = [], allowed
    for fw in loaded:
        methods = case.methods(fw)
        arrays = [None if a is None else fw.asarray(a) for a in inputs]
        for method in methods:
            y = np.asarray(fw.to_numpy(case.run(*arrays, method)), dtype=np.float64)
            results.append(y)
            bound = allowed if method not in ALGORITHMS else allowed_error(dtype, length, magnitude, method, case.rank)
            widest = np.maximum(widest, bound)
            records.append(_record(case, dtype, fw.name, method, np.abs(y - expected), bound))
    stack = np.stack(results)
    spread = stack.max(axis=0) - stack.min(axis=0)
    records.append(_record(case, dtype, "between frameworks", "spread", spread, 2 * widest))
    records += _gradient_records(case, _cotangent(index, dtype, expected.shape), inputs, dtype, loaded)
    return records


def _gradient_records(case: Case, g: np.ndarray, inputs: tuple, dtype: str,
                      loaded: list[Adapter]) -> list[dict[str, Any]]:
    """Gradients of every autodiff framework and method against the oracle's, and their spread."""
    if case.rank != 2 or case.transpose or case.options.get("padding_mode", "zeros") != "zeros":
        return []  # the gradient oracle is the 2-D zero-padded forward loop
    x, w, b = inputs
    oracle = _oracle_gradients(case, x, w, g)
    quantities = [q for q in QUANTITIES if q != "db" or b is not None]
    allowed = {q: allowed_error(dtype, oracle[q][2], oracle[q][1]) for q in quantities}
    records, results, widest = [], {q: [] for q in quantities}, dict(allowed)
    for fw in loaded:
        for method in (*GRADIENT_METHODS, *case.algorithms):
            grads = fw.gradients(conv, x, w, b, g, data_format=case.data_format, method=method, **case.options)
            if grads is None:  # no autodiff
                break
            for q in quantities:
                error = _error(grads[q], oracle[q][0])
                results[q].append(grads[q] if np.isfinite(error).all() else np.full_like(oracle[q][0], np.nan))
                bound = allowed[q] if method not in ALGORITHMS else allowed_error(
                    dtype, oracle[q][2], oracle[q][1], method, case.rank)
                widest[q] = np.maximum(widest[q], bound)
                records.append(_record(case, dtype, fw.name, method, error, bound, q))
    if not records:
        return []
    for q in quantities:
        stack = np.stack(results[q])
        spread = stack.max(axis=0) - stack.min(axis=0)
        records.append(_record(case, dtype, "between frameworks", "spread", spread, 2 * widest[q], q))
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
            f"by each framework's autodiff through methods {', '.join(GRADIENT_METHODS)} and the fast algorithms "
            "where a case allows them; same tolerance rule",
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
