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


GRADIENT_FRAMEWORKS = ("torch", "jax", "tensorflow")


@pytest.mark.needs("tensorflow")
@pytest.mark.needs("torch")
@pytest.mark.needs("jax")  # the first mark names the backend the test counts for
def test_compare_reports_gradients_of_every_autodiff_framework(small_suite, capsys, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["compare", "--markdown"]) == 0
    out = capsys.readouterr().out
    for text in (out, summary.read_text()):
        assert "| backend | method | dtype | quantity |" in text
        assert "| jax | native | float64 | dw |" in text and "| between frameworks | spread | float32 | db |" in text
    assert main(["compare", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)["records"]
    assert {r["quantity"] for r in records} == {"y", "dx", "dw", "db"}
    gradients = {(r["backend"], r["method"], r["dtype"], r["quantity"]) for r in records if r["quantity"] != "y"}
    assert gradients == {
        (b, m, d, q)
        for b, m in [(b, m) for b in GRADIENT_FRAMEWORKS for m in ("portable", "native")] + [("between frameworks", "spread")]
        for d in ("float32", "float64")
        for q in ("dx", "dw", "db")
    }
    assert all(r["ok"] for r in records)


@pytest.mark.needs("torch")
def test_compare_fails_on_a_wrong_gradient(small_suite, capsys, monkeypatch):
    """A gradient off by one part in 10^4, with values left exact, must be caught."""
    import torch

    from xpconv.cli import compare as module

    real = module.conv2d

    def off(*args, **kwargs):
        y = real(*args, **kwargs)
        if kwargs.get("method") == "portable" and isinstance(y, torch.Tensor):
            return y + 1e-4 * (y - y.detach())  # the same values; every gradient times 1.0001
        return y

    monkeypatch.setattr(module, "conv2d", off)
    assert main(["compare", "--json"]) == 1
    records = json.loads(capsys.readouterr().out)["records"]
    assert all(r["ok"] for r in records if r["quantity"] == "y")
    for quantity in ("dx", "dw", "db"):
        wrong = [r for r in records if r["quantity"] == quantity and r["dtype"] == "float64"
                 and r["backend"] in ("torch", "between frameworks") and r["method"] in ("portable", "spread")]
        assert wrong and not any(r["ok"] for r in wrong)
    assert all(r["ok"] for r in records if r["quantity"] != "y" and r["backend"] not in ("torch", "between frameworks"))
    assert all(r["ok"] for r in records if r["backend"] == "torch" and r["method"] == "native")


@pytest.mark.needs("torch")
@pytest.mark.parametrize(
    "x_shape, w_shape, options",
    [
        ((2, 4, 9, 8), (6, 4, 3, 3), {"stride": (2, 2), "padding": ((1, 1), (1, 1))}),
        ((2, 4, 11, 10), (6, 4, 3, 2), {"stride": (2, 3), "dilation": (2, 1)}),
        ((1, 4, 8, 8), (6, 2, 3, 3), {"groups": 2, "padding": ((0, 2), (1, 0))}),
        ((2, 6, 9, 9), (12, 1, 3, 3), {"groups": 6, "dilation": (2, 2), "padding": ((2, 1), (0, 3)), "stride": (1, 2)}),
    ],
    ids=["stride", "dilation", "groups, asymmetric padding", "depthwise, everything"],
)
def test_oracle_gradient_matches_torch_autograd(x_shape, w_shape, options):
    import torch

    from xpconv._oracle import conv2d_oracle_grad

    stride = options.get("stride", (1, 1))
    dilation = options.get("dilation", (1, 1))
    groups = options.get("groups", 1)
    (top, bottom), (left, right) = padding = options.get("padding", ((0, 0), (0, 0)))
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    leaves = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    padded = torch.nn.functional.pad(leaves[0], (left, right, top, bottom))
    y = torch.nn.functional.conv2d(padded, leaves[1], leaves[2], stride, 0, dilation, groups)
    g = rng.standard_normal(tuple(y.shape))
    torch.sum(y * torch.from_numpy(g)).backward()
    args = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    grads = conv2d_oracle_grad(x, w, g, **args)
    magnitudes = conv2d_oracle_grad(x, w, g, absolute=True, **args)
    for ours, magnitude, leaf in zip(grads, magnitudes, leaves):
        theirs = leaf.grad.numpy()
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
        assert (np.abs(ours) <= magnitude + 1e-12).all() and (magnitude > 0).any()


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
