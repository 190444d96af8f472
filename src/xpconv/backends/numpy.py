"""NumPy: the default backend. No native convolution exists; the fast path is ours."""

from __future__ import annotations

from typing import Any

from ._base import Backend


class NumpyBackend(Backend):
    name = "numpy"
    module = "numpy"
    distribution = "numpy"

    def matches(self, x: object) -> bool:
        np = self.framework
        return isinstance(x, (np.ndarray, np.generic))

    def namespace(self, x: Any) -> Any:
        import array_api_compat.numpy

        return array_api_compat.numpy

    def device(self, x: Any) -> Any:
        return "cpu"
