"""Which backend handles an array: a registry consulted in order, cached per type.

Registering is copy-on-write: a new ordered dict replaces the old one in one assignment, so
a reader in another thread sees either the old registry or the new one, never a half-built
one. Each registration bumps :func:`registry_generation` and calls the hooks added with
:func:`on_registry_change`: caches elsewhere that name backends clear themselves; nothing here
reaches into them.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable
from typing import Any

from .base import Backend
from .devices import check_devices
from .wrappers import is_wrapper, unwrap

_BACKENDS: dict[str, Backend] = {}
_BY_TYPE: dict[type, Backend] = {}
_GENERATION = 0
_HOOKS: list[Callable[[], None]] = []
_LOCK = threading.Lock()
_SEQUENCE_TYPES = (list, tuple, int, float)


def registry_generation() -> int:
    """A number that changes whenever a backend is registered or removed."""
    return _GENERATION


def on_registry_change(hook: Callable[[], None]) -> None:
    """Call ``hook()`` after every registration or removal (caches of dispatch results clear)."""
    _HOOKS.append(hook)


def _changed() -> None:
    global _GENERATION
    _GENERATION += 1
    for hook in list(_HOOKS):
        hook()


def register_backend(backend: Backend, *, replace: bool = False) -> Backend:
    """Add ``backend`` to the registry, consulted in the order of :attr:`~xpconv.backends.Backend.priority` (lower
    first; registration order among equals).

    Parameters
    ----------
    backend : Backend
        An instance of a :class:`xpconv.backends.Backend` subclass.
    replace : bool, optional
        Allow replacing a backend registered under the same name.

    Returns
    -------
    Backend
        ``backend``, so that this can be used as a decorator on an instance factory.
    """
    if not isinstance(backend, Backend):
        raise TypeError(
            f"backend must be an instance of xpconv.backends.Backend. Received: {type(backend).__name__}"
        )
    global _BACKENDS, _BY_TYPE
    with _LOCK:
        if backend.name in _BACKENDS and not replace:
            raise ValueError(
                f"a backend named {backend.name!r} is already registered; pass replace=True to replace it"
            )
        items = [*((k, v) for k, v in _BACKENDS.items() if k != backend.name), (backend.name, backend)]
        items.sort(key=lambda item: item[1].priority)  # stable: registration order among equals
        _BACKENDS = dict(items)  # one assignment: readers see old or new
        _BY_TYPE = {}
        _changed()
    return backend


def unregister_backend(name: str) -> Backend:
    """Remove the backend called ``name`` (copy-on-write, like :func:`register_backend`)."""
    global _BACKENDS, _BY_TYPE
    with _LOCK:
        backend = get_backend(name)
        _BACKENDS = {k: v for k, v in _BACKENDS.items() if k != name}
        _BY_TYPE = {}
        _changed()
    return backend


def get_backend(name: str) -> Backend:
    """The registered backend called ``name``."""
    try:
        return _BACKENDS[name]
    except KeyError:
        raise ValueError(
            f"backend must be one of {registered_backends()}. Received: backend={name!r}"
        ) from None


def registered_backends() -> list[str]:
    """Names of the registered backends, in the order they are consulted."""
    return list(_BACKENDS)


def available_backends() -> dict[str, bool]:
    """Each registered backend and whether its library is installed (nothing is imported)."""
    return {name: _installed(backend) for name, backend in _BACKENDS.items()}


def _installed(backend: Backend) -> bool:
    if backend.module in sys.modules:  # imported, or blocked with sys.modules[name] = None, or a stub
        return backend.is_loaded()
    try:
        return importlib.util.find_spec(backend.module) is not None  # a top-level name: imports nothing
    except (ImportError, ValueError):
        return False


def backend_of_type(kind: type) -> Backend | None:
    """The backend already found for arrays of type ``kind``, or ``None`` (never searches)."""
    return _BY_TYPE.get(kind)


def backend_for(x: Any) -> Backend:
    """The backend for one array; ``TypeError`` listing the registered ones if none fits."""
    kind = type(x)
    by_type = _BY_TYPE
    backend = by_type.get(kind)
    if backend is not None:
        return backend
    for candidate in _BACKENDS.values():
        if candidate.is_loaded() and candidate.matches(x):
            if not candidate.is_tracing():  # torch.compile would guard on the write, then recompile
                by_type[kind] = candidate
            return candidate
    raise TypeError(
        f"Unsupported array type {_type_name(x)}: expected an array of one of the registered "
        f"backends {registered_backends()}, a Python list or a scalar"
    )


def _type_name(x: object) -> str:
    kind = type(x)
    return f"{kind.__module__}.{kind.__qualname__}"


def resolve(named: dict[str, Any]) -> tuple[Backend, dict[str, Any]]:
    """One backend for all the arrays of a call, with Python lists converted into it.

    ``named`` maps argument names to values (``None`` values are passed through).
    Lists and scalars join the framework of the other arrays; given alone they are NumPy.
    Arrays of two frameworks, or on two devices, raise before any work.
    """
    values = list(named.values())
    kind = type(values[0])
    if any(v is not None and is_wrapper(type(v)) for v in values):
        named = {name: unwrap(value) for name, value in named.items()}
        values = list(named.values())
        kind = type(values[0])
    backend = _BY_TYPE.get(kind)
    if backend is not None and all(v is None or type(v) is kind for v in values[1:]):
        # The common case: every array of one type. Devices still must agree.
        named = {name: None if value is None else backend.dense(name, value) for name, value in named.items()}
        present = [v for v in named.values() if v is not None]
        devices = [backend.device(v) for v in present]
        if len(devices) > 1 and any(d != devices[0] for d in devices[1:]):
            check_devices(backend.device, {n: v for n, v in named.items() if v is not None})
        return backend, named
    found: dict[str, Backend] = {}
    for name, value in named.items():
        if value is not None and not isinstance(value, _SEQUENCE_TYPES):
            found[name] = backend_for(value)
            named = {**named, name: found[name].dense(name, value)}
    names = list(found)
    for other in names[1:]:
        if found[other] is not found[names[0]]:
            first = names[0]
            adopted = found[first].adopt(named[other], named[first])
            if adopted is not None:  # a NumPy weight beside a tensor; a Dask input's chunk library
                named = {**named, other: adopted}
                found[other] = found[first]
                continue
            raise TypeError(
                f"{first} and {other} must be arrays of the same library. Received: "
                f"{first} of type {_type_name(named[first])} ({found[first].name}), "
                f"{other} of type {_type_name(named[other])} ({found[other].name})"
            )
    if names:
        backend = found[names[0]]
        like = named[names[0]]
    else:
        import numpy  # noqa: F401  (lists alone are NumPy, the default backend)

        backend, like = _BACKENDS.get("numpy"), None
        if backend is None:
            raise TypeError(
                "Python lists alone are NumPy arrays, but no 'numpy' backend is registered. Received: only "
                f"lists and scalars; registered backends: {registered_backends()}"
            )
    converted = dict(named)
    for name, value in named.items():
        if isinstance(value, _SEQUENCE_TYPES):
            converted[name] = backend.asarray_like(value, like, name)
    check_devices(backend.device, {n: converted[n] for n in names})
    return backend, converted
