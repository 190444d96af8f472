"""One adapter per framework, for tests, ``xpconv verify``/``compare``/``bench`` and downstream users.

An adapter makes arrays of its framework from NumPy data and reads them back, names its dtypes,
waits for asynchronous results, differentiates through its autodiff, and calls the framework's
*own* convolution (the reference a test or a benchmark compares xpconv with), independently of
xpconv's backends. :func:`adapter` finds the one for a backend by name; a backend without one
gets the generic :class:`Adapter` (its namespace's ``asarray``, NumPy's ``asarray`` back, the
float64 oracle as reference, no autodiff).
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Adapter


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def adapter(name: str) -> Adapter:
    """The adapter of the backend called ``name`` (not loaded: call :meth:`Adapter.load` first)."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    for cls in _subclasses(Adapter):
        if vars(cls).get("name") == name:
            return cls()
    generic = Adapter()
    generic.name = name
    return generic


__all__ = ["Adapter", "adapter"]
