"""xpconv's command line: ``verify``, ``compare``, ``bench`` and ``explain``.

Every command prints its report on stdout: a text table, or with ``--json`` the same report as
JSON, or with ``--markdown`` as GitHub markdown. Progress, when there is any, goes to stderr
and only when stderr is a terminal. Every option is checked before any work: a bad one is a
one-line error that names the option and the valid values, exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from pathlib import Path

from .. import __version__
from .bench.report import MARK, NOISY_SPREAD
from .bench.workloads import LARGE_FULL, LARGE_IMAGE, NAMES, WORKLOADS
from .frameworks import extras, frameworks, installed


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _output_options(parser: argparse.ArgumentParser, what: str) -> None:
    """``--json`` and ``--markdown``: the form of the report on stdout, the same in every command."""
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help=f"print {what} as JSON on stdout instead of tables")
    form.add_argument("--markdown", action="store_true", help=f"print {what} as GitHub markdown tables on stdout")


def _bench_epilog() -> str:
    lines = ["workloads (--workload NAME; shapes at full size, --quick shrinks them):"]
    lines += [f"  {wl.name:<16} {wl.describe()}" for wl in WORKLOADS]
    lines += [f"  {LARGE_IMAGE:<16} only when named; needs \"xpconv[dask]\" and dask-image: Dask (threaded, a 2-process",
              f"  {'':<16} LocalCluster), in-memory NumPy and dask-image on {LARGE_FULL.describe()}"]
    lines += ["", f"A result marked {MARK} is noisy: its slowest repeat took over {NOISY_SPREAD:g}x its fastest;",
              "so is every ratio that uses it."]
    return "\n".join(lines)


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The parser of ``xpconv``, and that of ``xpconv bench`` (whose options are checked further)."""
    parser = argparse.ArgumentParser(prog="xpconv", description="Multi-channel 1-D, 2-D and 3-D convolution, plain and transposed, on every framework.")
    parser.add_argument("--version", action="version", version=f"xpconv {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="run the chapter's examples on every installed backend")
    _output_options(verify, "the checks")
    compare = commands.add_parser("compare", help="compare conv and conv_transpose (1-D to 3-D) across backends, methods and the float64 oracle")
    _output_options(compare, "the errors")
    bench = commands.add_parser(
        "bench", help="time conv (1-D to 3-D) against each framework's own convolution",
        description="Time xpconv.conv (1-D, 2-D and 3-D layers) against each framework's own convolution and keras.ops.conv.",
        epilog=_bench_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    _output_options(bench, "the results")
    bench.add_argument("--quick", action="store_true", help="small sizes, few repeats (for CI)")
    bench.add_argument("--json-file", metavar="FILE", help="also write the results as JSON to FILE")
    bench.add_argument("--markdown-file", metavar="FILE", help="also write the report as markdown to FILE")
    bench.add_argument("--plot", metavar="FILE",
                       help='also draw a bar chart to FILE, format from its suffix (.png); needs "xpconv[bench]"')
    bench.add_argument("--workload", action="append", choices=NAMES, metavar="NAME",
                       help="run only this workload (repeatable; an exact name from the list below)")
    bench.add_argument("--backend", action="append", choices=frameworks(), metavar="NAME",
                       help="run only this backend (repeatable): " + ", ".join(frameworks()))
    bench.add_argument("--repeats", type=_positive_int, default=None, metavar="N",
                       help="timed repeats per measurement (a positive integer; default: by time budget)")
    bench.add_argument("--calibrate", metavar="FILE",
                       help="instead: refit the cost model that method='auto' uses on this machine and write its "
                            "constants to FILE (use them with XPCONV_COST_MODEL=FILE)")
    explain = commands.add_parser(
        "explain", help="the sum of products behind each element of the chapter's example",
        description="The chapter's example (Dive into Deep Learning, 'Multiple Input and Multiple Output Channels'): "
                    "X (2x3x3), K (2x2x2) and, for each output element, the products it sums, one parenthesis per "
                    "input channel. xpconv.explain(X, K, index) does the same for any arrays and options.")
    _output_options(explain, "the explanation")
    explain.add_argument("--index", type=int, nargs="+", metavar="N",
                         help="explain only this element: I J (or C_OUT I J with --out-channels)")
    explain.add_argument("--out-channels", type=_positive_int, default=1, metavar="N",
                         help="stack K, K + 1, ..., K + N - 1 as the chapter's multi-output kernel (default 1)")
    return parser, bench


def _check_bench(bench: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """What argparse cannot see: backends not installed, matplotlib missing, nowhere to write."""
    if args.backend:
        present = installed()
        missing = [name for name in dict.fromkeys(args.backend) if not present[name]]
        if missing:
            hint = " ".join(f'"xpconv[{extras()[name]}]"' for name in missing)
            bench.error(f"argument --backend: not installed: {', '.join(missing)} "
                        f"(installed: {', '.join(n for n, p in present.items() if p)}); pip install {hint}")
    for option in ("json_file", "markdown_file", "plot", "calibrate"):
        path = getattr(args, option)
        if not path:
            continue
        flag = f"argument --{option.replace('_', '-')}"
        folder = os.path.dirname(path)
        if folder and not os.path.isdir(folder):
            bench.error(f"{flag}: no such directory: {folder!r}")
        if os.path.isdir(path):
            bench.error(f"{flag}: {path!r} is a directory; give a file name")
        if not os.access(folder or os.curdir, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
            bench.error(f"{flag}: cannot write {path!r} (permission denied)")
    if args.workload and LARGE_IMAGE in args.workload:
        for module in ("dask", "distributed"):
            if importlib.util.find_spec(module) is None:
                bench.error(f'--workload {LARGE_IMAGE!r} needs {module}: pip install "xpconv[dask]" dask-image')
    if args.plot:
        try:
            importlib.import_module("matplotlib")
            from matplotlib.backend_bases import FigureCanvasBase
        except ImportError:
            bench.error('--plot needs matplotlib: pip install "xpconv[bench]"')
        formats = sorted(FigureCanvasBase.get_supported_filetypes())
        suffix = Path(args.plot).suffix.lower().lstrip(".")
        if suffix and suffix not in formats:
            bench.error(f"argument --plot: cannot write {suffix!r} (choose from {', '.join(formats)})")


def main(argv: list[str] | None = None) -> int:
    """Run ``xpconv`` with ``argv`` (default: the process's arguments); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser, bench = build_parser()
    args = parser.parse_args(argv)
    if args.command == "bench":
        _check_bench(bench, args)
    try:
        if args.command == "verify":
            from .verify import run

            return run(as_json=args.json, markdown=args.markdown)
        if args.command == "explain":
            from .explain import run as run_explain

            return run_explain(args.index, args.out_channels, as_json=args.json, markdown=args.markdown)
        if args.command == "compare":
            from .compare import run as run_compare

            return run_compare(as_json=args.json, markdown=args.markdown)
        from .bench import run as run_bench

        return run_bench(args, argv)
    except KeyboardInterrupt:
        sys.stderr.write(f"xpconv {args.command}: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
