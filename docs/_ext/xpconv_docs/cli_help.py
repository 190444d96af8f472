"""``.. xpconv-cli-help:: [COMMAND]``: the ``--help`` text of ``xpconv`` (or ``xpconv COMMAND``), as
argparse prints it, 100 columns wide; read from ``xpconv.cli.build_parser()`` when the page is built."""

from __future__ import annotations

import contextlib
import io
import os

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

WIDTH = "100"


def help_text(*command: str) -> str:
    """What ``xpconv *command --help`` prints."""
    from xpconv.cli import build_parser

    parser, _ = build_parser()
    out = io.StringIO()
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            parser.parse_args([*command, "--help"])
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return out.getvalue().rstrip()


class CliHelp(SphinxDirective):
    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        text = help_text(*self.arguments)
        block = nodes.literal_block(text, text, language="text")
        return [block]


def setup(app: Sphinx) -> None:
    app.add_directive("xpconv-cli-help", CliHelp)
