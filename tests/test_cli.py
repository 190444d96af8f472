"""The command line: verify, compare and bench, as a user runs them."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from xpconv.cli import compare, main

pytestmark = pytest.mark.needs("numpy")


def test_verify_reports_every_framework_and_passes(capsys):
    assert main(["verify", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    by_name = {r["backend"]: r for r in report["backends"]}
    for name in ("numpy", "torch", "jax", "tensorflow", "array_api_strict"):
        assert by_name[name]["installed"] == (importlib.util.find_spec(name) is not None)
        if by_name[name]["installed"]:
            assert {c: v["ok"] for c, v in by_name[name]["checks"].items()} == {
                "multi-in": True, "multi-out": True, "1x1": True, "params": True}


def test_verify_table_through_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "xpconv", "verify"], capture_output=True, text=True, check=True)
    assert "numpy" in out.stdout and "✓" in out.stdout and "all checks passed" in out.stdout


@pytest.fixture
def small_suite(monkeypatch):
    monkeypatch.setattr(compare, "SUITE", compare.SUITE[:2] + compare.SUITE[-2:])


def test_compare_passes_and_prints_markdown(small_suite, capsys, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["compare", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| numpy | portable | float32 |" in out and "all within tolerance" in out
    assert "between frameworks" in summary.read_text()


def test_compare_fails_on_a_wrong_kernel(small_suite, capsys, monkeypatch):
    """A kernel that is off by one part in 10^4 must be caught (the check can fail)."""
    from xpconv.cli import compare as module

    real = module.conv2d

    def off(*args, **kwargs):
        y = real(*args, **kwargs)
        return y * 1.0001 if kwargs.get("method") == "portable" else y

    monkeypatch.setattr(module, "conv2d", off)
    assert main(["compare", "--json"]) == 1
    records = json.loads(capsys.readouterr().out)["records"]
    assert not any(r["ok"] for r in records if r["method"] == "portable" and r["dtype"] == "float64")


def test_bench_quick_runs_and_writes_its_files(tmp_path, capsys):
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    code = main(["bench", "--quick", "--repeats", "1", "--backend", "numpy", "--workload", "chapter 2x3x3",
                 "--workload", "resnet 3x3", "--json", str(out_json), "--markdown", str(out_md)])
    assert code == 0
    payload = json.loads(out_json.read_text())
    candidates = {(r["workload"], r["candidate"]) for r in payload["results"]}
    assert {("resnet 3x3", "xpconv auto"), ("resnet 3x3", "xpconv portable")} <= candidates
    assert payload["matmul_peak_gflops"] > 0
    assert all(np.isfinite(r["median_ms"]) and r["median_ms"] > 0 for r in payload["results"])
    assert "| workload |" in out_md.read_text()
    assert "GFLOP/s" in capsys.readouterr().out
