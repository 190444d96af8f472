"""NumPy: the default backend. No native convolution exists; the fast path is ours."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._dtypes import STANDARD
from ._base import Backend

if TYPE_CHECKING:
    from .._spec import ConvPlan


class NumpyBackend(Backend):
    name = "numpy"
    module = "numpy"
    distribution = "numpy"
    dtypes = STANDARD | {"float16"}  # no bfloat16 (ml_dtypes' is not NumPy's), no long double

    def matches(self, x: object) -> bool:
        np = self.framework
        return isinstance(x, (np.ndarray, np.generic))

    def namespace(self, x: Any) -> Any:
        import array_api_compat.numpy

        return array_api_compat.numpy

    def device(self, x: Any) -> Any:
        return "cpu"

    def asarray_like(self, value: Any, like: Any) -> Any:
        """A Python list or scalar as an array; a ragged list is refused on every NumPy (before
        1.24 NumPy made an object array of it, with a warning)."""
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", getattr(self.framework, "VisibleDeprecationWarning", Warning))
            out = super().asarray_like(value, like)
        if out.dtype == object:
            raise ValueError("a ragged nested list")
        return out

    def auto_kernel(self, xp: Any, dtype: Any, plan: ConvPlan) -> Callable[[Any, Any, Any, ConvPlan], Any]:
        """NumPy has no convolution of its own: ``auto`` runs xpconv's NumPy kernel for 1 and 2
        spatial axes, the portable kernel for 3."""
        if plan.rank == 3:
            return super().auto_kernel(xp, dtype, plan)
        from . import _numpy_kernel

        return _numpy_kernel.conv
