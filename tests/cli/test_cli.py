"""The command line: verify, compare and bench, as a user runs them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest

from xpconv.cli import compare, main

from matrix import ADAPTERS, DEFAULT

pytestmark = pytest.mark.needs("numpy")


def test_verify_reports_every_framework_and_passes(capsys):
    assert main(["verify", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    by_name = {r["backend"]: r for r in report["backends"]}
    for name in DEFAULT:
        assert by_name[name]["installed"] == ADAPTERS[name].installed()
        if by_name[name]["installed"]:
            assert {c: v["ok"] for c, v in by_name[name]["checks"].items()} == {
                "multi-in": True, "multi-out": True, "1x1": True, "params": True}


def test_verify_table_through_python_dash_m():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run([sys.executable, "-m", "xpconv", "verify"], capture_output=True, text=True, check=True, env=env)
    assert "numpy" in out.stdout and "✓" in out.stdout and "all checks passed" in out.stdout
    assert "absl" not in out.stderr and "port.cc" not in out.stderr, out.stderr  # TensorFlow's C++ start-up lines


@pytest.mark.parametrize("user_set", [False, True])
def test_native_start_up_logs_are_dropped_unless_the_user_asked_for_them(capfd, monkeypatch, user_set):
    """What C++ code writes on file descriptor 2 while the frameworks load: absl's records are
    dropped, every other line kept; with TF_CPP_MIN_LOG_LEVEL set by the user, nothing is touched."""
    from xpconv.cli.frameworks import quiet_native_logs

    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    if user_set:
        monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    absl = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            "I0000 00:00:1796479722.776674    2815 port.cc:153] oneDNN custom operations are on.\n")
    with quiet_native_logs():
        os.write(2, (absl + "a warning of our own\n").encode())
    err = capfd.readouterr().err
    assert "a warning of our own" in err
    assert ("port.cc:153" in err and "absl::InitializeLog" in err) == user_set
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == ("0" if user_set else "2")


@pytest.fixture
def small_suite(monkeypatch):
    chosen = ("NHWC same stride 2", "unbatched", "1-D dilated grouped circular", "transposed 1-D groups")
    monkeypatch.setattr(compare, "SUITE", compare.SUITE[:2] + tuple(c for c in compare.SUITE if c.name in chosen))


def test_compare_passes_and_prints_markdown(small_suite, capsys, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["compare", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| numpy | portable | float32 |" in out and "all within tolerance" in out
    assert "between frameworks" in summary.read_text()
    from xpconv.cli.frameworks import installed

    present = [name for name, there in installed().items() if there]
    assert present and all(f"| {name} | portable |" in out for name in present)  # Dask and MXNet too


def test_compare_fails_on_a_wrong_kernel(small_suite, capsys, monkeypatch):
    """A kernel that is off by one part in 10^4 must be caught (the check can fail)."""
    from xpconv.cli import compare as module

    def wrong(real):
        def off(*args, **kwargs):
            y = real(*args, **kwargs)
            return y * 1.0001 if kwargs.get("method") == "portable" else y

        return off

    for name in ("conv", "conv_transpose"):
        monkeypatch.setattr(module, name, wrong(getattr(module, name)))
    assert main(["compare", "--json"]) == 1
    records = json.loads(capsys.readouterr().out)["records"]
    assert not any(r["ok"] for r in records if r["method"] == "portable" and r["dtype"] == "float64")


#: The frameworks of the default matrix with autodiff (what the adapters declare).
GRADIENT_FRAMEWORKS = tuple(name for name in DEFAULT if ADAPTERS[name].autodiff)


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
        for b, m in [(b, m) for b in GRADIENT_FRAMEWORKS for m in ("portable", "native", "winograd", "fourier")]
        + [("between frameworks", "spread")]
        for d in ("float32", "float64")
        for q in ("dx", "dw", "db")
    }
    assert all(r["ok"] for r in records)


@pytest.mark.needs("torch")
def test_compare_fails_on_a_wrong_gradient(small_suite, capsys, monkeypatch):
    """A gradient off by one part in 10^4, with values left exact, must be caught."""
    import torch

    from xpconv.cli import compare as module

    real = module.conv

    def off(*args, **kwargs):
        y = real(*args, **kwargs)
        if kwargs.get("method") == "portable" and isinstance(y, torch.Tensor):
            return y + 1e-4 * (y - y.detach())  # the same values; every gradient times 1.0001
        return y

    monkeypatch.setattr(module, "conv", off)
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

    from xpconv.testing import conv2d_oracle_grad

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


def test_version(capsys):
    import xpconv

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"xpconv {xpconv.__version__}\n"


def _usage_error(capsys, argv: list[str]) -> str:
    """Run ``argv``, which must fail as a usage error (exit 2, no traceback); return the error line."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert [line for line in lines if "error:" in line] == lines[-1:]
    return lines[-1]


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["frob"], ["xpconv: error: argument command: invalid choice: 'frob'", "verify", "compare", "bench"]),
        (["bench", "--backend", "pytorch"],
         ["xpconv bench: error: argument --backend: invalid choice: 'pytorch'", *DEFAULT]),
        (["bench", "--workload", "resnet"],
         ["argument --workload: invalid choice: 'resnet'", "resnet 3x3", "resnext 3x3 g32", "chapter 2x3x3"]),
        (["bench", "--repeats", "0"], ["argument --repeats: must be a positive integer, got '0'"]),
        (["bench", "--repeats", "many"], ["argument --repeats: must be a positive integer, got 'many'"]),
        (["compare", "--json", "--markdown"], ["argument --markdown: not allowed with argument --json"]),
        (["verify", "--json-file", "x.json"], ["unrecognized arguments: --json-file x.json"]),
    ],
    ids=["unknown command", "unknown backend", "partial workload", "repeats 0", "repeats not a number",
         "json and markdown", "bench option on verify"],
)
def test_bad_options_are_one_line_errors_listing_valid_values(capsys, argv, expected):
    line = _usage_error(capsys, argv)
    for text in expected:  # the valid values, however this Python's argparse quotes them
        assert text in line


@pytest.fixture
def no_bench_run(monkeypatch):
    """Fail the test if bench gets as far as timing anything."""
    from xpconv.cli import bench

    def run(*args):
        raise AssertionError("bench ran although its options were bad")

    monkeypatch.setattr(bench, "run", run)


def test_bench_plot_without_matplotlib_names_the_extra(capsys, monkeypatch, no_bench_run):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    line = _usage_error(capsys, ["bench", "--quick", "--plot", "x.png"])
    assert line == 'xpconv bench: error: --plot needs matplotlib: pip install "xpconv[bench]"'


def test_bench_plot_format_must_be_one_matplotlib_writes(capsys, monkeypatch, no_bench_run):
    fake = types.ModuleType("matplotlib.backend_bases")
    fake.FigureCanvasBase = type("FigureCanvasBase", (), {  # what matplotlib's canvas reports
        "get_supported_filetypes": staticmethod(lambda: {"png": "Portable Network Graphics", "svg": "SVG"})})
    monkeypatch.setitem(sys.modules, "matplotlib", types.ModuleType("matplotlib"))
    monkeypatch.setitem(sys.modules, "matplotlib.backend_bases", fake)
    line = _usage_error(capsys, ["bench", "--plot", "chart.xyz"])
    assert "argument --plot: cannot write 'xyz' (choose from png, svg)" in line


def test_bench_backend_not_installed_is_an_error(capsys, monkeypatch, no_bench_run):
    import xpconv.cli as cli

    monkeypatch.setattr(cli, "installed", lambda names=None: {n: n == "numpy" for n in names or cli.frameworks()})
    line = _usage_error(capsys, ["bench", "--backend", "numpy", "--backend", "torch"])
    assert "argument --backend: not installed: torch (installed: numpy)" in line
    assert 'pip install "xpconv[torch]"' in line


def test_bench_output_file_in_a_missing_directory_is_an_error(capsys, tmp_path, no_bench_run):
    line = _usage_error(capsys, ["bench", "--json-file", str(tmp_path / "nowhere" / "r.json")])
    assert "argument --json-file: no such directory:" in line and "nowhere" in line


@pytest.mark.parametrize("option", ["--json-file", "--markdown-file", "--plot"])
def test_bench_output_file_that_is_a_directory_is_an_error(capsys, tmp_path, no_bench_run, option):
    """It ran the whole benchmark, then printed an IsADirectoryError traceback."""
    line = _usage_error(capsys, ["bench", "--quick", option, str(tmp_path)])
    assert line.endswith(f"argument {option}: {str(tmp_path)!r} is a directory; give a file name")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.fixture
def tiny_compare(monkeypatch):
    """One problem on NumPy alone: enough to see compare's progress."""
    from xpconv.cli.frameworks import load

    monkeypatch.setattr(compare, "SUITE", compare.SUITE[:1])
    monkeypatch.setattr(compare, "load", lambda: load(("numpy",)))


def test_compare_shows_progress_on_a_terminal_and_clears_it(tiny_compare, capsys, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["compare", "--json"]) == 0
    json.loads(capsys.readouterr().out)  # stdout holds the report alone
    err = terminal.getvalue()
    assert "\rcompare: 1/2 3x3 valid (float32)" in err and "\rcompare: 2/2 3x3 valid (float64)" in err
    assert err.endswith("\r") and err.rsplit("\r", 2)[-2].strip() == ""  # the line is cleared at the end


def test_compare_is_silent_on_stderr_when_it_is_not_a_terminal(tiny_compare, capsys, monkeypatch):
    pipe = _Pipe()
    monkeypatch.setattr(sys, "stderr", pipe)
    assert main(["compare"]) == 0
    assert pipe.getvalue() == ""
    assert "all within tolerance" in capsys.readouterr().out


def test_verify_prints_markdown(capsys):
    assert main(["verify", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| backend | version | device |" in out and "| numpy |" in out
