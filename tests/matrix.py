"""The test matrix's frameworks: one adapter per backend of the registry's catalog (the one list
of frameworks), and the methods that apply to each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from xpconv.backends import catalog
from xpconv.testing import Adapter, adapter

#: Every backend with a lane of its own, by name: its adapter (loaded by the fixture when selected).
ADAPTERS: dict[str, Adapter] = {backend.name: adapter(backend.name) for backend in catalog() if backend.lane}
#: The backends of the default matrix (``tests-all``); the others are selected only by name.
DEFAULT = tuple(backend.name for backend in catalog() if backend.lane and backend.default)


def _names(variable: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(variable, "")
    names = tuple(n.strip() for n in raw.split(",") if n.strip()) or default
    unknown = [n for n in names if n not in ADAPTERS]
    if unknown:
        raise pytest.UsageError(f"{variable} names unknown backends {unknown}; known: {list(ADAPTERS)}")
    return names


#: The backends this run tests (``XPCONV_BACKENDS``), and those that must pass (``XPCONV_REQUIRE_BACKENDS``).
SELECTED = _names("XPCONV_BACKENDS", DEFAULT)
#: The Keras 3 backends (the frameworks Keras runs on), each tested in a process of its own.
KERAS_BACKENDS = ("tensorflow", "jax", "torch")


def keras_backends() -> list:
    """One parameter per Keras backend, run only where that framework is selected."""
    return [pytest.param(b, marks=pytest.mark.needs(b)) for b in KERAS_BACKENDS]


def keras_report(script: Any, backend: str) -> dict:
    """Run ``script`` in a process of its own on the Keras ``backend`` (Keras picks it at import);
    the JSON report on its last line, after checking it ran on that backend."""
    # oneDNN on: the keras.layers twins themselves fail on TensorFlow's CPU without it (NCHW Conv2D,
    # dilated Conv2DBackpropInput); xpconv with oneDNN off is tested in the tests-tensorflow(onednn=0) lane
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "1"}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["backend"] == backend
    return report

REQUIRED = _names("XPCONV_REQUIRE_BACKENDS", ()) if os.environ.get("XPCONV_REQUIRE_BACKENDS") else ()


def methods(fw: Adapter) -> list[str]:
    """The ``method`` values that apply to ``fw``: portable and auto, and native where it has one."""
    return ["portable", "auto", "native"] if fw.has_native else ["portable", "auto"]


#: Every dtype name the tests try on each framework (those a library lacks are passed over, see
#: :meth:`xpconv.testing.Adapter.array_of`): each is either in the backend's declared table and
#: computed exactly, or refused up front.
DTYPE_NAMES = ("bool", "int4", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
               "float8_e4m3fn", "float8_e5m2", "float16", "bfloat16", "float32", "float64", "float128",
               "complex32", "complex64", "complex128", "string")
HALF = ("float16", "bfloat16")


def half_dtypes(fw: Adapter) -> list[str]:
    """The half-precision dtypes ``fw``'s backend computes (declared in its dtype table)."""
    return [name for name in HALF if name in fw.backend.dtypes and fw.has_dtype(name)]
