"""``xpconv bench``'s reports: JSON on stdout and in files, the text tables (100 columns, noisy
marks), the large-image table."""

from __future__ import annotations

import json

import pytest

from xpconv.cli import main

pytestmark = pytest.mark.needs("numpy")


@pytest.fixture
def fast_bench(monkeypatch):
    """No pauses between frameworks and a fixed matmul peak: the bench's own logic, quickly."""
    from xpconv.cli import bench

    monkeypatch.setattr(bench, "PAUSE_S", 0.0)
    monkeypatch.setattr(bench, "matmul_peak", lambda size: (50.0, "numpy"))


def test_bench_json_on_stdout_and_its_files(tmp_path, capsys):
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    code = main(["bench", "--quick", "--repeats", "1", "--backend", "numpy", "--workload", "chapter 2x3x3",
                 "--workload", "resnet 3x3", "--json", "--json-file", str(out_json), "--markdown-file", str(out_md)])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)  # --json: the report on stdout, as in verify and compare
    payload = json.loads(out_json.read_text())
    assert printed["results"] == payload["results"]
    candidates = {(r["workload"], r["candidate"]) for r in payload["results"]}
    assert {("resnet 3x3", "xpconv auto"), ("resnet 3x3", "xpconv portable")} <= candidates
    assert {r["workload"] for r in payload["results"]} == {"chapter 2x3x3", "resnet 3x3"}
    assert payload["matmul_peak_gflops"] > 0
    for r in payload["results"]:
        assert 0 < r["min_ms"] <= r["median_ms"] <= r["max_ms"] and r["noisy"] is False  # one repeat
    assert payload["environment"]["command"].startswith("xpconv bench --quick --repeats 1 --backend numpy")
    markdown = out_md.read_text()
    assert "### resnet 3x3: x 2x16x28x28" in markdown and "| framework | candidate | runs | median ms |" in markdown
    runs = {(r["workload"], r["candidate"]): r["extra"].get("algorithm") for r in payload["results"]}
    assert runs[("resnet 3x3", "xpconv portable")] == "direct" and runs[("resnet 3x3", "xpconv winograd")] == "winograd"
    assert runs[("resnet 3x3", "xpconv auto")] in ("direct", "winograd", "fourier")  # the cost model's choice
    # every xpconv candidate's float32 error against float64, in units of the output's scale: the target
    errors = {(r["workload"], r["candidate"]): r["extra"].get("error") for r in payload["results"]}
    for (workload, candidate), found in errors.items():
        if candidate.startswith("xpconv"):
            assert found is not None and 0 <= found < 1e-5, (workload, candidate, found)
    assert "| x best | error |" in markdown


def _widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_bench_text_report_fits_100_columns(fast_bench, capsys):
    assert main(["bench", "--quick", "--repeats", "1", "--backend", "numpy"]) == 0
    out, err = capsys.readouterr()
    assert "GFLOP/s" in out and "temporary MiB" in out and "noisy" in out
    assert _widest(out) <= 100
    assert "bench:" not in err  # no progress when stderr is not a terminal


@pytest.mark.needs("torch")
def test_bench_text_report_fits_100_columns_with_torch(fast_bench, capsys):
    assert main(["bench", "--quick", "--repeats", "1", "--backend", "numpy", "--backend", "torch"]) == 0
    out = capsys.readouterr().out
    assert "torch native" in out and "xpconv auto / the same framework's own convolution" in out
    assert "chapter 2x3x3: what a validated call adds to the framework's own" in out  # torch only: NumPy has none
    assert [line.split()[0] for line in out.split("what a validated call adds")[1].splitlines()[4:5]] == ["torch"]
    assert _widest(out) <= 100


def test_bench_marks_noisy_rows_and_the_ratios_that_use_them():
    from xpconv.cli.bench.report import Result, annotate, payload, report
    from xpconv.cli.bench.workloads import QUICK

    wl = QUICK[1]
    results = [
        Result(wl.name, "torch", "xpconv auto", 2.0, 1.0, 9.0, 5),  # slowest 9x the fastest: noisy
        Result(wl.name, "torch", "torch native", 1.0, 0.9, 1.2, 5),
        Result(wl.name, "jax", "xpconv auto", 1.5, 1.0, 3.0, 5),  # exactly 3x: not noisy
        Result(wl.name, "jax", "jax native", 1.2, 0.5, 1.4, 5),
    ]
    assert [r.noisy for r in results] == [True, False, False, False]
    annotate(results, [wl], 100.0)
    text = report(results, [wl], 100.0, "numpy", {}, markdown=False)
    rows = {tuple(line.split()[:3]): line for line in text.splitlines() if line.startswith(("torch ", "jax "))}
    assert rows[("torch", "xpconv", "auto")].split()[3:8] == ["-", "2.000", "~", "1.000", "9.00"]  # runs: not given
    assert "~" not in rows[("torch", "torch", "native")] + rows[("jax", "xpconv", "auto")]
    ratio_rows = [line.split() for line in text.splitlines() if line.startswith(wl.name + "  ")]
    assert ["resnet", "3x3", "2.00", "~", "1.25"] in ratio_rows  # torch auto / native is noisy, jax's is not
    assert "~ noisy: the slowest repeat took over 3x the fastest" in text
    data = json.loads(json.dumps(payload(results, [wl], 100.0, "numpy", {}, {}), allow_nan=False))
    assert [r["noisy"] for r in data["results"]] == [True, False, False, False]
    ratios = data["ratios"][0]
    assert "torch auto / torch native" in ratios["noisy"] and "jax auto / jax native" not in ratios["noisy"]
    assert ratios["tensorflow auto / tensorflow native"] is None  # not run: null, never NaN



def test_large_image_table_is_aligned_and_names_a_missing_peer():
    """The "large image" report: aligned text columns (markdown with --markdown), a peer that is not
    installed shown as such (no "nan"), and JSON without NaN."""
    from xpconv.cli.bench import dask as large
    from xpconv.cli.bench.workloads import LARGE_FULL

    rows = [large.Row("16->16 channels, 5x5", "in-memory NumPy xpconv", 1.5, "-", 900.0, "traced"),
            large.Row("16->16 channels, 5x5", "Dask LocalCluster 2x1", 0.75, 64, 120.0, "worker peak RSS"),
            large.Row("1->1 channel, 5x5", "Dask threaded (xpconv)", 0.2, 16, 50.0, "traced"),
            large.Row("1->1 channel, 5x5", "dask-image ndfilters.correlate", float("nan"), "not installed",
                      float("nan"), "-")]
    text = large.report(rows, LARGE_FULL, markdown=False)
    table = text.splitlines()[2:]
    assert "nan" not in text and "|" not in text and "not installed" in table[-1]
    starts = {line.find("0.50x") for line in table if "0.50x" in line} | {table[0].index("vs first")}
    assert len(starts) == 1, text  # the ratio sits under its header
    assert "| 16->16 channels, 5x5 | Dask LocalCluster 2x1 | 0.750 | 0.50x | 64 | 120 | worker peak RSS |" in (
        large.report(rows, LARGE_FULL, markdown=True))
    assert json.loads(json.dumps(large.as_json(rows, LARGE_FULL), allow_nan=False))["rows"][-1]["seconds"] is None
