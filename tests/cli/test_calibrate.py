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
    assert table["winograd_over_direct"] >= 0 and table["fourier_over_direct"] >= 0
    assert table["direct_per_mac"] >= 0 and table["winograd_per_product"] >= 0 and table["fourier_per_element"] >= 0
    plan = xpconv.plan((8, 64, 56, 56), (64, 64, 3, 3), padding=1)
    favourable = {"backends": {"numpy": {"32": {"2d": {**table, "direct_per_mac": 1.0, "direct_error": 0.0,
                                                       "winograd_per_product": 1e-12, "winograd_per_element": 0.0,
                                                       "winograd_over_direct": 0.0}}}}}
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


def test_the_risk_counts_the_workloads_where_the_algorithm_could_be_chosen():
    """An algorithm's risk against a kernel is the worst relative excess of the measured time ratio
    over the predicted one where it was predicted at least as fast; a model wrong only where the
    algorithm is far slower anyway does not block it, one wrong near the choice does, and with no
    workload predicted that fast every workload counts."""
    from xpconv.cli.bench.calibrate import risk

    predicted = np.array([0.6, 0.9, 3.0, 4.0])
    assert risk(np.array([0.6, 0.8, 6.0, 8.0]), predicted) == 0.0  # wrong only at 3x and 4x
    assert risk(np.array([0.75, 0.9, 3.0, 4.0]), predicted) == pytest.approx(0.25)
    assert risk(np.array([1.0, 2.4]), np.array([2.0, 2.0])) == pytest.approx(0.2)


def test_auto_takes_an_algorithm_only_where_its_ratio_after_the_risk_beats_the_margin():
    """``fastest`` compares the predicted ratio to the other kernel, made worse by the risk, with
    MARGIN: the same prediction is taken with no risk and refused with enough of it; a table
    without the risk never takes the algorithm."""
    import xpconv
    from xpconv.backends import get_backend
    from xpconv.kernels import cost_model

    plan = xpconv.plan((2, 16, 32, 32), (16, 16, 3, 3), padding=1)
    direct = cost_model.features("direct", plan)["per_mac"] * 1e-9
    products = cost_model.features("winograd", plan)["per_product"]
    ratio = 0.8  # winograd predicted at 0.8 of the direct kernel's time
    base = {"direct_per_mac": 1e-9, "winograd_per_product": ratio * direct / products}

    def chosen(**extra: float) -> str | None:
        with cost_model.using({"backends": {"numpy": {"32": {"2d": {**base, **extra}}}}}):
            return cost_model.fastest(get_backend("numpy"), plan, np.float32, False)

    assert chosen(winograd_over_direct=0.0) == "winograd"
    assert chosen(winograd_over_direct=0.1) == "winograd"  # 0.88 < MARGIN
    assert chosen(winograd_over_direct=0.2) is None  # 0.96: not by the margin
    assert chosen() is None
