"""One session per backend (tagged ``lane``: ``nox -t lane`` runs them all), one with all of them,
plus compare, bench, lint and docs. The backends come from xpconv's own registry (``catalog()``).

Framework versions come only from backends/*.txt. Environments are made with venv and
pip (torch==2.13.0 resolves to a local CPU build with pip; uv would fetch CUDA wheels).
MXNet (NumPy 1.23) and the oldest supported dependencies have sessions of their own: they
cannot share an environment with jax 0.10 / TensorFlow 2.21 (NumPy >= 2 / >= 1.26).
"""

from __future__ import annotations

import hashlib
import platform
import sys
from pathlib import Path

import nox

# The one list of frameworks: the backends' own declarations (xpconv imports no framework).
sys.path.insert(0, str(Path(__file__).parent / "src"))
from xpconv.backends import catalog

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "tests-all", "compare"]

#: Backends with a test lane of their own (``tests-LANE``), and those of the default matrix.
LANES = [backend for backend in catalog() if backend.lane]
DEFAULT = [backend for backend in LANES if backend.default]
#: The requirement files that install every backend of the default matrix (NumPy's pins first).
ALL_FILES = list(dict.fromkeys(f for backend in DEFAULT for f in backend.requirements[1:]))
#: Those of the backends that wrap another's arrays (Dask), installed beside the default matrix.
CONTAINER_FILES = list(dict.fromkeys(f for b in LANES if b.container for f in b.requirements[1:]))


def install(session: nox.Session, *files: str, base: str = "numpy.txt") -> None:
    """The requirement files (``base`` first: NumPy's pins), then xpconv itself without deps."""
    requirements = [base, *(f for f in files if f != base)]
    session.install(*(arg for f in requirements for arg in ("-r", f"backends/{f}")))
    session.install("--no-deps", ".")


#: pytest-xdist: one worker process per core (at most 4; each imports the frameworks). A test run is
#: mostly one busy core otherwise; `nox -s tests-all -- -n 0` runs in one process.
PARALLEL = ("--numprocesses", "auto", "--maxprocesses", "4", "--dist", "worksteal")


def jax_cache() -> dict[str, str]:
    """JAX's persistent compilation cache, shared by this checkout's sessions: what ``tests-all``
    compiles, ``tests-jax``, ``compare`` and ``bench`` (the same jax, the same programs) load instead
    of compiling again; JAX's tests are mostly compile time (``tests/api`` on JAX alone: 211 s cold,
    73 s warm). Kept in ``.nox/``, under a key of this CPU's model and instruction-set flags: XLA
    compiles for the CPU it runs on, and a machine's CPU can change between runs."""
    cpuinfo = Path("/proc/cpuinfo")
    flags = {line.split(":")[0].strip(): line for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else ())}
    key = hashlib.sha256(f"{platform.machine()} {flags.get('model name')} {flags.get('flags')}".encode()).hexdigest()[:16]
    return {"JAX_COMPILATION_CACHE_DIR": str(Path(__file__).resolve().parent / ".nox" / "jax-compilation-cache" / key),
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}


def pytest(session: nox.Session, backends: str, **extra: str) -> None:
    """Run the matrix on ``backends``; each must pass tests, and nothing may be skipped."""
    env = {"XPCONV_BACKENDS": backends, "XPCONV_REQUIRE_BACKENDS": backends, **jax_cache(), **extra}
    session.run("python", "-m", "pytest", *PARALLEL, *(session.posargs or ["-q"]), env=env)


def _lane(backend) -> None:
    """``tests-LANE``: the matrix on the backend (and its :attr:`~Backend.lane_with`) alone, in an
    environment of its requirement files; a CPU-dependent switch is forced to each of its values."""
    base, *files = backend.requirements
    names = ",".join((backend.name, *backend.lane_with))

    def run(session: nox.Session, **switches: str) -> None:
        install(session, "test.txt", *files, base=base)
        pytest(session, names, **switches)

    if not backend.cpu_switches:
        @nox.session(name=f"tests-{backend.lane}", tags=["lane"])
        def tests(session: nox.Session) -> None:
            run(session)

        tests.__doc__ = f"The test matrix on {names} alone, installed from {', '.join(backend.requirements)}."
        return
    ((label, variable, values),) = backend.lane_switches()  # one switch per backend so far

    @nox.session(name=f"tests-{backend.lane}", tags=["lane"])
    @nox.parametrize("switch", list(values), ids=[f"{label}={v}" for v in values])
    def switched(session: nox.Session, switch: str) -> None:
        run(session, **{variable: switch})

    switched.__doc__ = (f"The test matrix on {names} alone, with {variable} forced to each of {list(values)}"
                        + (" (tests-all forces the last value)." if backend.default else "."))


for _backend in LANES:
    _lane(_backend)


@nox.session(name="tests-oldest", tags=["lane"])
def tests_oldest(session: nox.Session) -> None:
    """NumPy and array_api_strict on the floors of xpconv's dependencies (backends/oldest.txt), and
    `pip install d2l==1.0.3 xpconv` resolving (d2l pins numpy==1.23.5)."""
    install(session, "test.txt", base="oldest.txt")
    session.run("python", "-c", "import numpy, array_api_compat, array_api_strict; print('numpy', numpy.__version__, "
                "'array-api-compat', array_api_compat.__version__, 'array-api-strict', array_api_strict.__version__)")
    pytest(session, "numpy,array_api_strict")
    session.install("--dry-run", "d2l==1.0.3", ".")


@nox.session(name="tests-all")
def tests_all(session: nox.Session) -> None:
    """The whole matrix: every backend in one environment, compared with each other (Dask installed
    too, for the README's script; its tests run in ``tests-dask``), each CPU-dependent switch forced
    to its last value (``Backend.forced_in_all``: the README's command does not depend on the CPU)."""
    install(session, "test.txt", *ALL_FILES, *CONTAINER_FILES)
    forced = {k: v for backend in DEFAULT for k, v in backend.forced_in_all().items()}
    pytest(session, ",".join(backend.name for backend in DEFAULT), **forced)


@nox.session
def compare(session: nox.Session) -> None:
    """`xpconv compare` with every backend installed, Dask included (MXNet has its own environment)."""
    install(session, *ALL_FILES, *CONTAINER_FILES)
    session.run("xpconv", "compare", "--markdown", env=jax_cache())


@nox.session
def bench(session: nox.Session) -> None:
    """`xpconv bench` with every backend and Keras; pass arguments after `--` (e.g. `-- --quick`)."""
    install(session, *ALL_FILES, "bench.txt", *CONTAINER_FILES)
    session.run("xpconv", "bench", *session.posargs, env=jax_cache())


@nox.session
def lint(session: nox.Session) -> None:
    session.install("-r", "backends/lint.txt")
    session.run("ruff", "check", "src", "tests", "docs", "noxfile.py")


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site into docs/_build/html, warnings as errors (NumPy and the docs tools only:
    the pages' code runs in tests/docs); pass Sphinx options after `--`."""
    install(session, "docs.txt")
    session.run("sphinx-build", "-W", "--keep-going", "-n", "-b", "html", *session.posargs,
                "docs", "docs/_build/html")
