"""The CLI's side of the backends: which frameworks are installed, loaded on request.

Unlike ``conv2d``, the CLI is asked to run on every installed framework, so it imports them.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backends import Backend, get_backend

FRAMEWORKS = ("numpy", "torch", "jax", "tensorflow", "mxnet", "array_api_strict")


@dataclass
class Loaded:
    backend: Backend
    xp: Any

    @property
    def name(self) -> str:
        return self.backend.name

    def asarray(self, a: np.ndarray) -> Any:
        return self.xp.asarray(a)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(self.backend.to_numpy(x), dtype=np.float64)

    def sync(self, x: Any) -> Any:
        """Wait for an asynchronous result (JAX, MXNet)."""
        block = getattr(x, "block_until_ready", None)
        if block is not None:
            return block()
        wait = getattr(x, "wait_to_read", None)  # MXNet runs operators asynchronously
        if wait is not None:
            wait()
        return x


def installed(names: tuple[str, ...] = FRAMEWORKS) -> dict[str, bool]:
    return {name: importlib.util.find_spec(get_backend(name).module) is not None for name in names}


def load(names: tuple[str, ...] = FRAMEWORKS) -> list[Loaded]:
    """Import every installed framework of ``names`` and return it ready to use."""
    loaded = []
    for name, present in installed(names).items():
        if not present:
            continue
        module = importlib.import_module(get_backend(name).module)
        if name == "jax":
            module.config.update("jax_enable_x64", True)  # float64 problems must stay float64
        backend = get_backend(name)
        loaded.append(Loaded(backend, backend.namespace(None)))
    return loaded
