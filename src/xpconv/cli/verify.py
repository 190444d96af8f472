"""``xpconv verify``: the chapter's examples on every installed backend."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .. import corr2d_multi_in, corr2d_multi_in_out, corr2d_multi_in_out_1x1, param_count
from .frameworks import installed, load
from .table import render

# The chapter's example (Dive into Deep Learning, "Multiple Input and Multiple Output Channels").
X = np.array([[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]], dtype=np.float32)
K = np.array([[[0, 1], [2, 3]], [[1, 2], [3, 4]]], dtype=np.float32)
MULTI_IN = np.array([[56, 72], [104, 120]])
MULTI_OUT = np.array([[[56, 72], [104, 120]], [[76, 100], [148, 172]], [[96, 128], [192, 224]]])
CHECKS = ("multi-in", "multi-out", "1x1", "params")


def _numbers(fw: Any, a: Any) -> np.ndarray:
    return np.asarray(fw.to_numpy(a), dtype=np.float64)


def _checks(fw: Any) -> dict[str, float]:
    """Largest deviation of each check (0 is exact); a check passes at <= 1e-6."""
    deviation = {}
    result = corr2d_multi_in(fw.asarray(X), fw.asarray(K))
    deviation["multi-in"] = float(np.abs(_numbers(fw, result) - MULTI_IN).max())
    stacked = corr2d_multi_in_out(fw.asarray(X), fw.asarray(np.stack([K, K + 1, K + 2])))
    deviation["multi-out"] = float(np.abs(_numbers(fw, stacked) - MULTI_OUT).max())
    rng = np.random.default_rng(0)
    x1, k1 = rng.uniform(0, 1, (3, 3, 3)).astype(np.float32), rng.normal(0, 1, (2, 3, 1, 1)).astype(np.float32)
    one = corr2d_multi_in_out_1x1(fw.asarray(x1), fw.asarray(k1))
    general = corr2d_multi_in_out(fw.asarray(x1), fw.asarray(k1))
    deviation["1x1"] = float(np.abs(_numbers(fw, one) - _numbers(fw, general)).max())
    weight = fw.asarray(np.zeros((64, 3, 3, 3), np.float32))  # a 3->64 3x3 layer, as the framework holds it
    bias = fw.asarray(np.zeros(64, np.float32))
    held = int(np.prod(weight.shape)) + int(np.prod(bias.shape))
    deviation["params"] = float(abs(held - param_count(3, 64, 3)))
    deviation["_device"] = str(fw.device(result))  # type: ignore[assignment]
    return deviation


def run(as_json: bool = False, markdown: bool = False) -> int:
    """Check every installed backend; print JSON, markdown or a text table; 1 if any check failed."""
    records: list[dict[str, Any]] = []
    loaded = {fw.name: fw for fw in load()}
    for name, present in installed().items():
        if not present:
            records.append({"backend": name, "installed": False})
            continue
        fw = loaded[name]
        try:
            deviation = _checks(fw)
            device = deviation.pop("_device")
            error = None
        except Exception as exc:  # report, don't crash: a broken backend is a failed check
            deviation, device, error = {c: float("inf") for c in CHECKS}, "?", f"{type(exc).__name__}: {exc}"
        records.append({
            "backend": name, "installed": True, "version": fw.version(), "device": device,
            "checks": {c: {"ok": deviation[c] <= 1e-6, "max_deviation": deviation[c]} for c in CHECKS},
            **({"error": error} if error else {}),
        })
    failed = any(not c["ok"] for r in records if r["installed"] for c in r["checks"].values())
    if as_json:
        print(json.dumps({"ok": not failed, "backends": records}, indent=2))
    else:
        rows = []
        for r in records:
            if not r["installed"]:
                rows.append([r["backend"], "not installed", "", *([""] * len(CHECKS))])
                continue
            marks = [("✓" if r["checks"][c]["ok"] else "✗") + f" {r['checks'][c]['max_deviation']:.1e}" for c in CHECKS]
            rows.append([r["backend"], r["version"], r["device"], *marks])
        print(render(["backend", "version", "device", *CHECKS], rows, markdown=markdown))
        for r in records:
            if "error" in r:
                print(f"{r['backend']}: {r['error']}")
        print("all checks passed" if not failed else "SOME CHECKS FAILED")
    return 1 if failed else 0
