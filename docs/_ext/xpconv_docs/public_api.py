"""The API reference: every name in ``xpconv.__all__``, read when the build starts.

The page holding :data:`PLACEHOLDER` gets, in its place, a summary table of all public names and
one section per package of xpconv that defines some (in the order ``xpconv/__init__.py`` imports
them, private packages last), titled with the first phrase of that package's docstring, each name
documented by autodoc from its numpydoc docstring. A name added to ``__all__`` appears by itself.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from typing import Any

from sphinx.application import Sphinx

#: The line of a page that the generated reference replaces.
PLACEHOLDER = "<!-- xpconv-public-api -->"


def _heading(package: str) -> str:
    """The first phrase of the package's docstring (its whole first clause if that is one word)."""
    first = inspect.getdoc(importlib.import_module(package)).split("\n\n")[0].replace("\n", " ")
    short, long = (re.split(pattern, first, maxsplit=1)[0].rstrip(".") for pattern in (r":\s|,\s|\.\s", r":\s|\.\s"))
    return short if " " in short else long


def _import_order() -> list[str]:
    """The packages ``xpconv/__init__.py`` imports from, in order."""
    import xpconv

    tree = ast.parse(inspect.getsource(xpconv))
    return [f"xpconv.{node.module}" for node in tree.body if isinstance(node, ast.ImportFrom) and node.level == 1]


def _package(obj: Any) -> str:
    return ".".join(obj.__module__.split(".")[:2])


def _directive(name: str, obj: Any) -> str:
    if inspect.isclass(obj):
        return f"```{{eval-rst}}\n.. autoclass:: xpconv.{name}\n   :members:\n```\n"
    kind = "autofunction" if callable(obj) else "autodata"
    return f"```{{eval-rst}}\n.. {kind}:: xpconv.{name}\n```\n"


def reference() -> str:
    """The generated Markdown: the summary table, then one section per defining package."""
    import xpconv

    objects = {name: getattr(xpconv, name) for name in xpconv.__all__}
    order = _import_order()
    packages = sorted(dict.fromkeys(_package(obj) for obj in objects.values()),
                      key=lambda p: (p.split(".")[1].startswith("_"), order.index(p) if p in order else len(order)))
    names = "\n".join(f"   {name}" for name in objects)
    parts = [f"```{{eval-rst}}\n.. currentmodule:: xpconv\n\n.. autosummary::\n\n{names}\n```\n"]
    for package in packages:
        parts.append(f"## {_heading(package)}\n")
        parts += [_directive(name, obj) for name, obj in objects.items() if _package(obj) == package]
    return "\n".join(parts)


def _fill(app: Sphinx, docname: str, source: list[str]) -> None:
    if PLACEHOLDER in source[0]:
        source[0] = source[0].replace(PLACEHOLDER, reference())


def _skip_tuple_fields(app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    """A NamedTuple's fields are documented by its docstring, not as "Alias for field number 0"."""
    doc = getattr(obj, "__doc__", None) or ""
    return True if doc.startswith("Alias for field number") else None


def setup(app: Sphinx) -> None:
    app.connect("source-read", _fill)
    app.connect("autodoc-skip-member", _skip_tuple_fields)
