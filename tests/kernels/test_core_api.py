"""The core stays inside its written-down list of Array API functions."""

from __future__ import annotations

import ast
import pathlib

import pytest

import xpconv
from xpconv.backends import catalog
from xpconv.kernels.core_api import CORE_DTYPES, CORE_FUNCTIONS

CORE_MODULES = ("kernels/direct.py", "kernels/padding.py", "kernels/transpose.py", "kernels/reach.py", "dispatch.py",
                "chapter.py", "_dtypes.py", "backends/base.py", "backends/lists.py", "quantized.py", "causal.py",
                "deform.py")
SOURCE = pathlib.Path(xpconv.__file__).parent


def _namespace_uses(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "xp"
    }


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_uses_only_the_listed_functions(module):
    used = _namespace_uses(SOURCE / module)
    assert used <= set(CORE_FUNCTIONS) | set(CORE_DTYPES), sorted(used - set(CORE_FUNCTIONS) - set(CORE_DTYPES))


def test_the_list_is_not_stale():
    used = set().union(*(_namespace_uses(SOURCE / m) for m in CORE_MODULES))
    assert set(CORE_FUNCTIONS) | set(CORE_DTYPES) <= used, "listed but unused: " + str(
        sorted(set(CORE_FUNCTIONS) | set(CORE_DTYPES) - used)
    )


@pytest.mark.parametrize("module", ["kernels/direct.py", "kernels/padding.py", "kernels/transpose.py", "kernels/reach.py",
                                    "_plan/plan.py", "_plan/options.py", "_plan/geometry.py", "_plan/checks.py",
                                    "api.py", "dispatch.py", "chapter.py", "cost.py"])
def test_core_names_no_framework(module):
    tree = ast.parse((SOURCE / module).read_text())
    frameworks = {backend.module for backend in catalog()} | {"tf", "np", "jnp", "mx", "da"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not {a.name.split(".")[0] for a in node.names} & frameworks, ast.dump(node)
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in frameworks, ast.dump(node)
        elif isinstance(node, ast.Name):
            assert node.id not in frameworks, f"{module} line {node.lineno} names {node.id}"
