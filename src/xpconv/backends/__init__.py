"""The backends: one module (or small package) per array library, and the registry of them.

Each backend declares what the rest of xpconv reads about it (see :class:`Backend`): its name,
pip extra, test lane and requirement files, dtypes and capabilities. The built-in backends are
every :class:`Backend` subclass defined in this package's modules, registered in order of
:attr:`Backend.priority`; a backend is consulted only when its library is already in
``sys.modules``, so xpconv never imports a framework by itself. Register your own with
:func:`register_backend`.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import TAKES_UNBATCHED, Backend
from .registry import (
    available_backends,
    backend_for,
    backend_of_type,
    get_backend,
    on_registry_change,
    register_backend,
    registered_backends,
    registry_generation,
    resolve,
    unregister_backend,
)


def _builtin() -> list[Backend]:
    """One instance of every backend class defined in this package (modules that import a
    framework at import time, the namespaces, live inside the backends' own packages)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Backend) and value.__module__ == module.__name__ \
                    and "name" in vars(value):
                found.append(value())
    return found


def catalog() -> list[Backend]:
    """The registered backends, in the order they are consulted: what they declare (name, extra,
    lane, requirement files, dtypes, capabilities) is the one list of frameworks that the
    nox sessions, CI, the CLI and the test fixture read."""
    return [get_backend(name) for name in registered_backends()]


for _backend in _builtin():
    register_backend(_backend)

__all__ = [
    "TAKES_UNBATCHED",
    "Backend",
    "available_backends",
    "backend_for",
    "backend_of_type",
    "catalog",
    "get_backend",
    "on_registry_change",
    "register_backend",
    "registered_backends",
    "registry_generation",
    "resolve",
    "unregister_backend",
]
