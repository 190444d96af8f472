"""Small builders of reStructuredText lines, and parsing them inside a directive."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective


def list_table(header: Sequence[str], rows: Iterable[Sequence[str]], *, classes: str = "") -> list[str]:
    """A ``list-table`` directive of ``header`` and ``rows`` (cells: inline reStructuredText; an empty
    cell shows a dash)."""
    lines = [".. list-table::", "   :header-rows: 1"]
    if classes:
        lines.append(f"   :class: {classes}")
    lines.append("")
    for row in (header, *rows):
        lines += [f"   {'*' if i == 0 else ' '} - {cell or '—'}" for i, cell in enumerate(row)]
    return [*lines, ""]


def literal(text: str) -> str:
    """``text`` as inline literal text."""
    return f"``{text}``"


def parse(directive: SphinxDirective, lines: list[str]) -> list[nodes.Node]:
    """``lines`` of reStructuredText parsed where ``directive`` stands."""
    container = nodes.container()
    source = directive.get_source_info()[0]
    directive.state.nested_parse(StringList(lines, source=source), directive.content_offset, container)
    return list(container.children)
