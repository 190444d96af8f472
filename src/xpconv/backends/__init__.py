"""The backend registry: which array library a call's arrays belong to.

Backends are consulted in order; each is asked only when its library is already in
``sys.modules``, so xpconv never imports a framework by itself. The answer is cached
per array type. Register your own with :func:`register_backend`.
"""

from ._base import Backend
from ._registry import (
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
from .array_api_strict import ArrayApiStrictBackend
from .dask import DaskBackend
from .generic import GenericArrayApiBackend
from .jax import JaxBackend
from .mxnet import MxnetBackend
from .numpy import NumpyBackend
from .tensorflow import TensorflowBackend
from .torch import TorchBackend

for _backend in (
    NumpyBackend(),
    TorchBackend(),
    JaxBackend(),
    TensorflowBackend(),
    MxnetBackend(),
    ArrayApiStrictBackend(),
    DaskBackend(),
    GenericArrayApiBackend(),
):
    register_backend(_backend)

__all__ = [
    "Backend",
    "available_backends",
    "backend_for",
    "backend_of_type",
    "get_backend",
    "on_registry_change",
    "register_backend",
    "registered_backends",
    "registry_generation",
    "resolve",
    "unregister_backend",
]
