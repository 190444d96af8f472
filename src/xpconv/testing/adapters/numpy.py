"""NumPy and array_api_strict: no autodiff and no convolution of their own (the oracle stands in)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..oracle import conv_oracle
from .base import Adapter


class NumpyAdapter(Adapter):
    name = "numpy"

    def dtype(self, name: str) -> Any:
        return np.dtype(name)

    def asarray(self, a: Any, dtype: str | None = None) -> Any:
        a = np.asarray(a)
        return np.asarray(a, dtype=dtype or a.dtype.name)

    def array_of(self, name: str, data: Any) -> Any | None:
        try:
            import ml_dtypes  # noqa: F401  (NumPy's float8/int4 dtypes come from ml_dtypes, where installed)
        except ImportError:
            pass
        return super().array_of(name, data)

    def is_array(self, t: Any) -> bool:
        return isinstance(t, np.ndarray)

    def reference_conv2d(self, x, w, b, *, stride, padding, dilation, groups):
        y = conv_oracle(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        return y.astype(x.dtype)


class StrictAdapter(Adapter):
    name = "array_api_strict"

    def dtype(self, name: str) -> Any:
        return getattr(self.m, name)

    def asarray(self, a: Any, dtype: str | None = None) -> Any:
        a = np.asarray(a)
        return self.m.asarray(a, dtype=self.dtype(dtype or a.dtype.name))

    def to_numpy(self, t: Any) -> np.ndarray:
        # array_api_strict only exports through DLPack, and only from its CPU device
        return np.from_dlpack(self.m.asarray(t, device=self.m.Device("CPU_DEVICE"), copy=True))

    def is_array(self, t: Any) -> bool:
        return isinstance(t, type(self.m.asarray(0)))

    def device(self, t: Any) -> Any:
        return t.device
