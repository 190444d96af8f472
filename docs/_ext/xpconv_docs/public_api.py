"""The API reference: every name in ``xpconv.__all__``, read when the build starts.

The page holding :data:`PLACEHOLDER` gets, in its place, a summary table of all public names and
one section per package of xpconv that defines some (in the order ``xpconv/__init__.py`` imports
them, private packages last), titled with the first phrase of that package's docstring, each name
documented by autodoc from its numpydoc docstring. A name added to ``__all__`` appears by itself.
Then the layer modules (:data:`LAYERS`), which import their framework: their ``__all__`` is read
from the source, and autodoc imports them with that framework mocked (``autodoc_mock_imports``).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
from typing import Any

from sphinx.application import Sphinx

#: The line of a page that the generated reference replaces.
PLACEHOLDER = "<!-- xpconv-public-api -->"
#: Modules of layers, imported only by name (``import xpconv.torch``): each imports its framework.
LAYERS = ("xpconv.torch", "xpconv.keras")


def _source(module: str) -> ast.Module:
    """A module's syntax tree, read without importing it."""
    with open(importlib.util.find_spec(module).origin, encoding="utf-8") as source:
        return ast.parse(source.read())


def _declared_all(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []


def _signature(tree: ast.Module, name: str) -> str:
    """The class's constructor arguments, from the ``__init__`` of the first of its bases (or of
    itself) that the module defines: what a reader calls, though autodoc sees a mocked base."""
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    todo = [classes[name]]
    while todo:
        node = todo.pop(0)
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                arguments = ast.unparse(item.args).removeprefix("self, ")
                return f"({arguments})"
        todo += [classes[b.id] for b in node.bases if isinstance(b, ast.Name) and b.id in classes]
    return ""


def _layer_sections() -> list[str]:
    parts = []
    for module in LAYERS:
        tree = _source(module)
        parts.append(f"## {ast.get_docstring(tree).split(':', 1)[0]}: `{module}`\n")
        parts.append(f"```{{eval-rst}}\n.. automodule:: {module}\n   :no-members:\n```\n")
        parts += [f"```{{eval-rst}}\n.. autoclass:: {module}.{name}{_signature(tree, name)}\n```\n"
                  for name in _declared_all(tree)]
    return parts


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
    return "\n".join(parts + _layer_sections())


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
