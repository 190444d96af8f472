"""`xpconv bench --calibrate FILE`: the cost model's constants fitted on this machine, and read by auto."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xpconv.cli import main

pytestmark = pytest.mark.needs("numpy")


def test_bench_calibrate_writes_a_cost_model_that_auto_reads(tmp_path, capsys, monkeypatch):
    """`--calibrate FILE` fits every constant the cost model reads, with its worst error; the file,
    given as XPCONV_COST_MODEL, is what auto's choice then follows (and the same on every call)."""
    import xpconv
    from xpconv.backends import get_backend
    from xpconv.kernels import cost_model

    path = tmp_path / "model.json"
    assert main(["bench", "--quick", "--repeats", "1", "--backend", "numpy", "--calibrate", str(path)]) == 0
    assert f"cost model constants written to {path}" in capsys.readouterr().out
    fitted = json.loads(path.read_text())["backends"]["numpy"]["32"]
    assert sorted(fitted) == ["2d"]  # --quick times 2-D workloads only: no constants for 1-D and 3-D
    table = fitted["2d"]
    for kernel in ("direct", "winograd", "fourier"):
        assert table[f"{kernel}_error"] >= 0
    assert table["direct_per_mac"] >= 0 and table["winograd_per_product"] >= 0 and table["fourier_per_element"] >= 0
    plan = xpconv.plan((8, 64, 56, 56), (64, 64, 3, 3), padding=1)
    favourable = {"backends": {"numpy": {"32": {"2d": {**table, "direct_per_mac": 1.0, "direct_error": 0.0,
                                                       "winograd_per_product": 1e-12, "winograd_per_element": 0.0,
                                                       "winograd_error": 0.0}}}}}
    path.write_text(json.dumps(favourable))
    monkeypatch.setenv("XPCONV_COST_MODEL", str(path))
    cost_model.reload()
    try:
        assert cost_model.fastest(get_backend("numpy"), plan, np.float32, False) == "winograd"
        # the same constants say nothing about another rank
        plan_3d = xpconv.plan((2, 64, 8, 28, 28), (64, 64, 3, 3, 3), padding=1)
        assert cost_model.fastest(get_backend("numpy"), plan_3d, np.float32, False) is None
        with cost_model.using({"backends": {}}):
            assert cost_model.fastest(get_backend("numpy"), plan, np.float32, False) is None
    finally:
        monkeypatch.delenv("XPCONV_COST_MODEL")
        cost_model.reload()
