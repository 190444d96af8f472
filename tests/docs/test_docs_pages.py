"""Every docs page's Python runs: its ```python blocks, in order, as one script in a fresh process.

A page runs where the frameworks it imports are installed and selected (``needs``): NumPy, its
data, is taken as present; a page that imports only NumPy runs with ``numpy``, one that imports
Dask in the Dask lane, one that imports torch, JAX and TensorFlow where all three are.
Blocks that need MXNet's environment are marked so on the page (:data:`blocks.NOT_RUN`).
"""

from __future__ import annotations

import ast
import os
import re
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


def _keras_backend(script: str) -> str:
    """The Keras backend a script chooses (``KERAS_BACKEND`` set in it), else Keras' default."""
    found = re.search(r"""["']KERAS_BACKEND["']\s*[,\]]\s*=?\s*["'](\w+)["']""", script)
    return found.group(1) if found else "tensorflow"


def _case(page: Path):
    script = _script(page)
    modules = _imported(script)
    imported = {BY_MODULE[m] for m in modules if m in BY_MODULE}
    if "keras" in modules:  # Keras runs on one of the frameworks: the one the page chooses
        imported.add(_keras_backend(script))
    # NumPy is every page's data; a page that imports another framework counts for that one alone
    needs = sorted(name for name in imported if name != "numpy") or ["numpy"]
    return pytest.param(page, marks=[pytest.mark.needs(name) for name in needs], id=str(page.relative_to(DOCS)))


def test_the_pages_are_found():
    assert len(_pages()) >= 10, [str(p) for p in _pages()]


def _run(page: Path, tmp_path: Path) -> str:
    """Run the page's python blocks, in order, as one script in a fresh process; its stdout."""
    script = tmp_path / f"{page.stem.replace('-', '_')}_page.py"
    script.write_text(_script(page), encoding="utf-8")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 0, (
        f"{page.relative_to(ROOT)}: its python blocks, run as {script}, exited with {done.returncode}\n"
        f"--- stderr ---\n{done.stderr[-6000:]}\n--- stdout ---\n{done.stdout[-2000:]}"
    )
    return done.stdout


@pytest.mark.parametrize("page", [_case(page) for page in _pages()])
def test_page_runs(page: Path, tmp_path: Path):
    _run(page, tmp_path)


#: Lines the README's script must print (what its comments promise), in this order.
README_PRINTS = (
    "[[56.0, 72.0], [104.0, 120.0]]",
    "56 = (0·0 + 1·1 + 3·2 + 4·3) + (1·1 + 2·2 + 4·3 + 5·4)",
    "(3, 2, 2)",
    "1792",
    "53687091200",
    "Tensor (8, 128, 28, 28) (128, 64, 3, 3)",
    "(8, 64, 56, 56)",
    "(2, 32, 32, 16)",
    "EagerTensor (4, 28, 28, 32)",
    "(None, 8)",
    "Array (1, 16, 1024, 1024) (1, 1, 4, 4)",
    "winograd True",
    "fourier True",
    "auto True",
)


@pytest.mark.needs("torch")  # the default matrix's frameworks the README imports: the whole matrix's
@pytest.mark.needs("jax")  # environment (tests-all), which also installs Keras and Dask (imported,
@pytest.mark.needs("tensorflow")  # not selected: a missing one fails the script, never skips it)
def test_readme_runs_as_one_script(tmp_path: Path):
    """Every python block of README.md but MXNet's, in order, as one script (its Dask block under
    ``if __name__ == "__main__":`` starts a real cluster); it prints what its comments say."""
    readme = ROOT / "README.md"
    assert len(readme.read_text(encoding="utf-8").splitlines()) <= 250
    printed = _run(readme, tmp_path).splitlines()
    where = 0
    for expected in README_PRINTS:
        assert expected in printed[where:], (expected, printed)
        where = printed.index(expected, where) + 1


def test_blocks_honour_only_the_mxnet_marker(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text(f"```python\na = 1\n```\n{NOT_RUN}\n```python\nimport mxnet\n```\n"
                    "````markdown\n```python\nnested = True\n```\n````\n  ```python\n  b = 2\n  ```\n")
    assert python_blocks(page) == ["a = 1\n", "b = 2\n"]
    page.write_text("<!-- not-run: slow -->\n```python\na = 1\n```\n")
    with pytest.raises(ValueError, match="not-run marker"):
        python_blocks(page)
