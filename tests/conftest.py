"""The backend matrix, in one place, read from the backend registry's catalog.

``fw`` runs a test on every selected backend: by default those the catalog marks ``default``
(numpy, torch, jax, tensorflow, array_api_strict); the others (MXNet, whose NumPy 1.23 cannot
share an environment with those; Dask, an extra) only when named. ``native_fw`` runs on the
selected ones that have a native convolution. ``XPCONV_BACKENDS=torch,jax`` narrows the matrix;
an unknown name, or a backend that is selected but not installed, stops the run with an error,
never a skip. Tests marked ``needs(name)`` run only when ``name`` is selected.

With ``XPCONV_REQUIRE_BACKENDS=numpy,torch,...`` the run fails unless every named backend
passed tests and nothing at all was skipped (CI sets it).

A test that needs a dtype a framework lacks (a ``dtype`` parameter it does not have; ``complex``
in the test's name for a framework without complex dtypes, MXNet) is deselected for it.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest

from matrix import ADAPTERS, REQUIRED, SELECTED

_OUTCOMES: dict[str, Counter] = {name: Counter() for name in ADAPTERS}
#: The user property that carries a test's backend into its reports (to pytest-xdist's controller too).
_BACKEND = "xpconv_backend"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(name): run only when backend `name` is selected (else deselected)")
    for name in SELECTED:
        try:
            ADAPTERS[name].load()
        except ImportError as error:
            raise pytest.UsageError(
                f"backend {name!r} is selected (XPCONV_BACKENDS={os.environ.get('XPCONV_BACKENDS', '<all>')}) "
                f"but cannot be imported: {error}"
            ) from error


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture, names in (
        ("fw", SELECTED),
        ("native_fw", tuple(n for n in SELECTED if ADAPTERS[n].has_native)),
        ("autodiff_fw", tuple(n for n in SELECTED if ADAPTERS[n].autodiff)),
    ):
        if fixture in metafunc.fixturenames:
            params = [ADAPTERS[n] for n in names] or [None]  # None: deselected below, not skipped
            metafunc.parametrize(fixture, params, ids=[str(p).lower() for p in params])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        chosen = {k: v for k, v in (params.params.items() if params else ()) if k in ("fw", "native_fw", "autodiff_fw")}
        needs = [m.args[0] for m in item.iter_markers("needs")]
        empty = params is not None and "pair" in params.params and params.params["pair"] is None
        if empty or any(v is None for v in chosen.values()) or any(n not in SELECTED for n in needs) or (
            _lacks_dtype(chosen, item)
        ):
            drop.append(item)
            continue
        backend = next((value.name for value in reversed(chosen.values())), needs[0] if needs else None)
        if backend:  # a test written for one framework (``needs``) counts for it
            item.user_properties.append((_BACKEND, backend))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _named_dtypes(value: object) -> set[str]:
    """The dtype names in a parameter value: a name, a NumPy dtype or type, or a tuple/list of them."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, (tuple, list)):
        return set().union(*(_named_dtypes(v) for v in value)) if value else set()
    if isinstance(value, (np.dtype, type)) and issubclass(getattr(value, "type", value), np.generic):
        return {np.dtype(value).name}
    return set()


def _lacks_dtype(chosen: dict, item: pytest.Item) -> bool:
    """Whether the test needs a dtype that a chosen framework does not have at all (MXNet has no
    int16 and no complex dtypes): nothing to run, so it is deselected, never skipped.

    A test needs the dtypes named by its parameters whose names end in ``dtype`` or ``dtypes``
    (``dtype``, ``out_dtype``...), and complex64 when its function's name says ``complex``."""
    frameworks = [fw for fw in chosen.values() if fw.dtypes is not None]
    if not frameworks:
        return False
    params = getattr(item, "callspec", None)
    needed: set[str] = set()
    for name, value in (params.params.items() if params else ()):
        if name.endswith(("dtype", "dtypes")):
            needed |= _named_dtypes(value)
    if "complex" in getattr(item, "originalname", item.name):
        needed.add("complex64")
    return any(name not in fw.dtypes for fw in frameworks for name in needed)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    name = dict(report.user_properties).get(_BACKEND)
    if report.skipped:
        _OUTCOMES[name or "(no backend)"] = _OUTCOMES.get(name or "(no backend)", Counter())
        _OUTCOMES[name or "(no backend)"]["skipped"] += 1
    elif name and report.when == "call":
        _OUTCOMES[name][report.outcome] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not REQUIRED or hasattr(session.config, "workerinput"):  # a pytest-xdist worker: its controller counts
        return
    missing = [n for n in REQUIRED if _OUTCOMES[n]["passed"] == 0]
    skipped = {n: c["skipped"] for n, c in _OUTCOMES.items() if c["skipped"]}
    if missing or skipped:
        session.config._xpconv_problem = f"required backends without passing tests: {missing}; skips: {skipped}"
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    terminalreporter.section("xpconv backends")
    for name, counts in _OUTCOMES.items():
        if name in SELECTED or counts:
            detail = ", ".join(f"{counts[k]} {k}" for k in ("passed", "failed", "skipped"))
            terminalreporter.write_line(f"{name:>18}: {detail}")
    problem = getattr(config, "_xpconv_problem", None)
    if problem:
        terminalreporter.write_line(f"FAILED backend requirement ({os.environ['XPCONV_REQUIRE_BACKENDS']}): {problem}", red=True)
