"""xpconv's command line: ``verify``, ``compare`` and ``bench``."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xpconv", description="Multi-channel 2-D convolution on every framework.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="run the chapter's examples on every installed backend")
    verify.add_argument("--json", action="store_true", help="print JSON instead of a table")
    compare = commands.add_parser("compare", help="compare conv2d across backends, methods and the float64 oracle")
    compare.add_argument("--json", action="store_true")
    compare.add_argument("--markdown", action="store_true")
    bench = commands.add_parser("bench", help="time conv2d against each framework's own convolution")
    bench.add_argument("--quick", action="store_true", help="small sizes, few repeats (for CI)")
    bench.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    bench.add_argument("--markdown", metavar="FILE", help="also write the results as markdown to FILE")
    bench.add_argument("--plot", metavar="FILE.png", help="also draw a bar chart (needs matplotlib)")
    bench.add_argument("--workload", action="append", help="run only these workloads (repeatable)")
    bench.add_argument("--backend", action="append", help="run only these backends (repeatable)")
    bench.add_argument("--repeats", type=int, default=None, help="timed repeats per measurement")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter, not ours
    if args.command == "verify":
        from .verify import run

        return run(as_json=args.json)
    if args.command == "compare":
        from .compare import run as run_compare

        return run_compare(as_json=args.json, markdown=args.markdown)
    from .bench import run as run_bench

    return run_bench(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
