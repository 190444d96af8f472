"""The architecture's measures, on ``src/``, ``tests/`` and ``noxfile.py``: no import circle (lazy
imports count), no import or read of another xpconv module's ``_private`` names, at most three
literal lists naming three or more frameworks, no file over 400 lines, no function over 80 lines,
no test branching on ``fw.name ==``. Each measure prints what it found when it fails."""

from __future__ import annotations

import ast
from pathlib import Path

from xpconv.backends import catalog

ROOT = Path(__file__).resolve().parent.parent  # the checkout (nox installs xpconv elsewhere: measure the source)
SRC = ROOT / "src" / "xpconv"
TESTS = ROOT / "tests"
FILES = sorted(SRC.rglob("*.py")) + sorted(TESTS.rglob("*.py")) + [ROOT / "noxfile.py"]
FRAMEWORKS = {backend.name for backend in catalog()} | {backend.module for backend in catalog()} | {"keras", "cupy"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement: module level, inside functions (lazy) and for type checkers alike."""
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def _targets(path: Path, node: ast.Import | ast.ImportFrom, modules: set[str]) -> list[str]:
    """The xpconv modules an import statement of ``path`` loads (a package: its ``__init__``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    if node.level:
        package = _module_name(path).split(".") if path.name == "__init__.py" else _module_name(path).split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    if base not in modules:
        return []
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]


def _graph() -> dict[str, set[str]]:
    paths = sorted(SRC.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        name = _module_name(path)
        found = {t for node in _imports(ast.parse(path.read_text())) for t in _targets(path, node, modules)}
        graph[name] = found - {name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    graph = _graph()
    assert len(graph) > 40 and sum(map(len, graph.values())) > 100  # the graph was read
    assert _circles(graph) == []


def test_the_circle_finder_finds_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _private_reads(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("xpconv")):
            found += [f"{path.name}:{node.lineno} imports {a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")]
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in ("xpconv", "backends", "dispatch", "kernels", "testing"):
                found.append(f"{path.name}:{node.lineno} reads {ast.unparse(node)}")
    return found


def test_no_reads_of_another_modules_private_names():
    assert [r for path in FILES for r in _private_reads(path)] == []


def _framework_lists(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        items = node.elts if isinstance(node, (ast.List, ast.Tuple, ast.Set)) else \
            node.keys if isinstance(node, ast.Dict) else []
        names = {e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)}
        if len(names & FRAMEWORKS) >= 3:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_at_most_three_literal_lists_of_frameworks():
    """The one list is the registry's :func:`xpconv.backends.catalog`; Keras's own backends are a list."""
    found = [f for path in FILES for f in _framework_lists(path)]
    assert len(found) <= 3, found


def test_small_files_and_functions():
    long_files = [f"{p.relative_to(ROOT)}: {n}" for p in FILES if (n := p.read_text().count("\n")) > 400]
    long_functions = [f"{p.relative_to(ROOT)}:{node.name}: {node.end_lineno - node.lineno + 1}"
                      for p in FILES for node in ast.walk(ast.parse(p.read_text()))
                      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.end_lineno - node.lineno + 1 > 80]
    assert (long_files, long_functions) == ([], [])


def test_tests_do_not_branch_on_a_framework_name():
    """Per-backend behaviour comes from what the backend declares (dtypes, native_takes, ...)."""
    found = [f"{p.relative_to(ROOT)}:{node.lineno}" for p in sorted(TESTS.rglob("*.py"))
             for node in ast.walk(ast.parse(p.read_text()))
             if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "name"
             and isinstance(node.left.value, ast.Name) and node.left.value.id in ("fw", "native_fw", "first", "second")
             and isinstance(node.ops[0], (ast.Eq, ast.NotEq, ast.In)) and isinstance(node.comparators[0], (ast.Constant, ast.Tuple))]
    assert found == []
