"""Every docs page's Python runs: its ```python blocks, in order, as one script in a fresh process.

A page runs where the frameworks it imports are installed and selected (``needs``): NumPy, its
data, is taken as present; a page that imports only NumPy runs with ``numpy``, one that imports
Dask in the Dask lane, one that imports torch, JAX and TensorFlow where all three are.
Blocks that need MXNet's environment are marked so on the page (:data:`blocks.NOT_RUN`).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from blocks import NOT_RUN, python_blocks

from xpconv.backends import catalog

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: Folders of docs/ that hold no pages (the build's output, generated files).
NOT_PAGES = {"_build", "_generated"}
TIMEOUT = 300

#: Each backend with a test lane, by the top-level module a page imports to use it.
BY_MODULE = {backend.module: backend.name for backend in catalog() if backend.lane}


def _pages() -> list[Path]:
    pages = (p for p in sorted(DOCS.rglob("*.md")) if not NOT_PAGES & set(p.relative_to(DOCS).parts))
    return [p for p in pages if python_blocks(p)]


def _imported(source: str) -> set[str]:
    """The top-level modules a script imports."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.add((node.module or "").split(".")[0])
    return found


def _script(page: Path) -> str:
    return "\n".join(python_blocks(page))


def _case(page: Path):
    imported = sorted(BY_MODULE[m] for m in _imported(_script(page)) if m in BY_MODULE)
    # NumPy is every page's data; a page that imports another framework counts for that one alone
    needs = [name for name in imported if name != "numpy"] or ["numpy"]
    return pytest.param(page, marks=[pytest.mark.needs(name) for name in needs], id=str(page.relative_to(DOCS)))


def test_the_pages_are_found():
    assert len(_pages()) >= 10, [str(p) for p in _pages()]


@pytest.mark.parametrize("page", [_case(page) for page in _pages()])
def test_page_runs(page: Path, tmp_path: Path):
    script = tmp_path / f"{page.stem.replace('-', '_')}_page.py"
    script.write_text(_script(page), encoding="utf-8")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 0, (
        f"{page.relative_to(ROOT)}: its python blocks, run as {script}, exited with {done.returncode}\n"
        f"--- stderr ---\n{done.stderr[-6000:]}\n--- stdout ---\n{done.stdout[-2000:]}"
    )


def test_blocks_honour_only_the_mxnet_marker(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text(f"```python\na = 1\n```\n{NOT_RUN}\n```python\nimport mxnet\n```\n"
                    "````markdown\n```python\nnested = True\n```\n````\n  ```python\n  b = 2\n  ```\n")
    assert python_blocks(page) == ["a = 1\n", "b = 2\n"]
    page.write_text("<!-- not-run: slow -->\n```python\na = 1\n```\n")
    with pytest.raises(ValueError, match="not-run marker"):
        python_blocks(page)
