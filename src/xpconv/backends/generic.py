"""Any other array that array-api-compat recognizes (CuPy, ...): portable path only."""

from __future__ import annotations

from typing import Any

from .base import Backend


class GenericArrayApiBackend(Backend):
    """The fallback: an array with ``__array_namespace__`` or one array-api-compat wraps."""

    name = "array_api"
    module = "array_api_compat"
    priority = 99  # the fallback: consulted last

    def is_loaded(self) -> bool:
        return True  # array-api-compat is a dependency; it imports no framework itself

    def matches(self, x: object) -> bool:
        from array_api_compat import is_array_api_obj

        return is_array_api_obj(x)

    def namespace(self, x: Any) -> Any:
        from array_api_compat import array_namespace

        return array_namespace(x)

    def version(self) -> str:
        import array_api_compat

        return array_api_compat.__version__
