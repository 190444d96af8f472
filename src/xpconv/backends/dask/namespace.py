"""The Array API namespace xpconv uses on Dask arrays: array-api-compat's, plus ``float16``."""

from __future__ import annotations

import functools
import types
from typing import Any


@functools.cache
def namespace() -> Any:
    """array-api-compat's Dask namespace, plus ``float16`` (NumPy chunks compute it; the Array API
    has no such name, so ``out_dtype="float16"`` could not be looked up)."""
    import array_api_compat.dask.array as base
    import numpy

    module = types.ModuleType("xpconv.backends.dask.namespace", base.__doc__)
    module.__dict__.update({k: v for k, v in vars(base).items() if not k.startswith("__")})
    module.float16 = numpy.float16
    return module
