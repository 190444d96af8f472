"""The CLI's side of the backends: the frameworks it runs on (the registry's catalog), which are
installed, and their adapters, loaded on request.

Unlike a convolution, the CLI is asked to run on every installed framework, so it imports them.
"""

from __future__ import annotations

from ..backends import catalog
from ..testing import Adapter, adapter


def frameworks() -> tuple[str, ...]:
    """Every backend with a test lane of its own, in the order they are consulted."""
    return tuple(backend.name for backend in catalog() if backend.lane)


def extras() -> dict[str, str]:
    """What to install for each backend that is not a dependency of xpconv itself."""
    return {backend.name: backend.extra for backend in catalog() if backend.lane and backend.extra}


def installed(names: tuple[str, ...] | None = None) -> dict[str, bool]:
    """Whether each framework can be imported (nothing is imported)."""
    return {name: adapter(name).installed() for name in (names or frameworks())}


def load(names: tuple[str, ...] | None = None) -> list[Adapter]:
    """Import every installed framework of ``names`` and return its adapter, ready to use."""
    return [adapter(name).load() for name, present in installed(names).items() if present]
