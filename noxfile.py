"""One session per backend, one with all of them, plus compare, bench and lint.

Framework versions come only from backends/*.txt. Environments are made with venv and
pip (torch==2.13.0 resolves to a local CPU build with pip; uv would fetch CUDA wheels).
MXNet (NumPy 1.23) and the oldest supported dependencies have sessions of their own: they
cannot share an environment with jax 0.10 / TensorFlow 2.21 (NumPy >= 2 / >= 1.26).
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "tests-all", "compare"]

# session suffix -> (XPCONV_BACKENDS name, requirement files beyond numpy's)
BACKENDS = {
    "numpy": ("numpy", []),
    "torch": ("torch", ["torch.txt"]),
    "jax": ("jax", ["jax.txt"]),
    "tensorflow": ("tensorflow", ["tensorflow.txt"]),
    "strict": ("array_api_strict", ["array-api-strict.txt"]),
}
ALL_FILES = [f for _, files in BACKENDS.values() for f in files]


def install(session: nox.Session, *files: str, base: str = "numpy.txt") -> None:
    """The requirement files (``base`` first: NumPy's pins), then xpconv itself without deps."""
    requirements = [base, *files]
    session.install(*(arg for f in requirements for arg in ("-r", f"backends/{f}")))
    session.install("--no-deps", ".")


#: Switches whose default differs between CPUs, forced both ways in a backend's lane: TensorFlow
#: turns oneDNN on by default only on CPUs with AVX-512 (VNNI/BF16/AMX), and with it on, its
#: kernels and Grappler's fusions differ (an empty batch came back as the input).
CPU_SWITCHES = {"tensorflow": ("onednn", "TF_ENABLE_ONEDNN_OPTS", ["0", "1"])}


def pytest(session: nox.Session, backends: str, **extra: str) -> None:
    """Run the matrix on ``backends``; each must pass tests, and nothing may be skipped."""
    env = {"XPCONV_BACKENDS": backends, "XPCONV_REQUIRE_BACKENDS": backends, **extra}
    session.run("python", "-m", "pytest", *(session.posargs or ["-q"]), env=env)


def _backend_session(suffix: str, name: str, files: list[str]) -> None:
    if suffix in CPU_SWITCHES:
        label, variable, values = CPU_SWITCHES[suffix]

        @nox.session(name=f"tests-{suffix}")
        @nox.parametrize("switch", values, ids=[f"{label}={v}" for v in values])
        def tests(session: nox.Session, switch: str) -> None:
            install(session, "test.txt", *files)
            pytest(session, name, **{variable: switch})

        tests.__doc__ = f"The test matrix on {name} alone, with {variable} forced to each of {values}."
        return

    @nox.session(name=f"tests-{suffix}")
    def tests(session: nox.Session) -> None:
        install(session, "test.txt", *files)
        pytest(session, name)

    tests.__doc__ = f"The test matrix on {name} alone, installed with nothing but {name}."


for _suffix, (_name, _files) in BACKENDS.items():
    _backend_session(_suffix, _name, _files)


@nox.session(name="tests-oldest")
def tests_oldest(session: nox.Session) -> None:
    """NumPy and array_api_strict on the floors of xpconv's dependencies (backends/oldest.txt), and
    `pip install d2l==1.0.3 xpconv` resolving (d2l pins numpy==1.23.5)."""
    install(session, "test.txt", base="oldest.txt")
    session.run("python", "-c", "import numpy, array_api_compat, array_api_strict; print('numpy', numpy.__version__, "
                "'array-api-compat', array_api_compat.__version__, 'array-api-strict', array_api_strict.__version__)")
    pytest(session, "numpy,array_api_strict")
    session.install("--dry-run", "d2l==1.0.3", ".")


@nox.session(name="tests-mxnet")
def tests_mxnet(session: nox.Session) -> None:
    """The matrix on MXNet 1.9.1 with NumPy 1.23.5 (backends/mxnet.txt), with NumPy and array_api_strict
    beside it; tests that need jax, TensorFlow or torch are deselected (they are not installed)."""
    install(session, "test.txt", "array-api-strict.txt", base="mxnet.txt")
    pytest(session, "mxnet,numpy,array_api_strict")


@nox.session(name="tests-all")
def tests_all(session: nox.Session) -> None:
    """The whole matrix: every backend in one environment, compared with each other."""
    install(session, "test.txt", *ALL_FILES)
    pytest(session, ",".join(name for name, _ in BACKENDS.values()))


@nox.session(name="tests-dask")
def tests_dask(session: nox.Session) -> None:
    """The matrix on Dask arrays of NumPy chunks, and the Dask tests (a 2-process LocalCluster among
    them); fails unless they ran and passed with nothing skipped."""
    install(session, "test.txt", "dask.txt")
    pytest(session, "dask")


@nox.session
def compare(session: nox.Session) -> None:
    """`xpconv compare` with every backend installed."""
    install(session, *ALL_FILES)
    session.run("xpconv", "compare", "--markdown")


@nox.session
def bench(session: nox.Session) -> None:
    """`xpconv bench` with every backend and Keras; pass arguments after `--` (e.g. `-- --quick`)."""
    install(session, *ALL_FILES, "bench.txt", "dask.txt")
    session.run("xpconv", "bench", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("-r", "backends/lint.txt")
    session.run("ruff", "check", "src", "tests", "noxfile.py")
