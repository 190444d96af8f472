"""array_api_strict: the standard and nothing more; proves the core stays inside it."""

from __future__ import annotations

from typing import Any

from .base import Backend


class ArrayApiStrictBackend(Backend):
    name = "array_api_strict"
    module = "array_api_strict"
    priority = 60
    extra = "strict"
    lane = "strict"
    requirements = ("numpy.txt", "array-api-strict.txt")
    default = True

    def matches(self, x: object) -> bool:
        # The Array class is not exported; the type of any of its arrays is it.
        return isinstance(x, type(self.framework.asarray(0)))

    def namespace(self, x: Any) -> Any:
        return self.framework

    def device(self, x: Any) -> Any:
        return x.device

    def to_numpy(self, x: Any) -> Any:
        import numpy as np

        # array_api_strict only exports through DLPack, and only from its CPU device.
        xp = self.framework
        return np.from_dlpack(xp.asarray(x, device=xp.Device("CPU_DEVICE"), copy=True))
