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

    def dense(self, name: str, a: Any) -> Any:
        """``np.matrix`` (always 2-D) as a plain ndarray; a masked array is refused (its mask would
        be ignored)."""
        np = self.framework
        if type(a) is np.ndarray:
            return a
        if isinstance(a, np.ma.MaskedArray):
            raise TypeError(
                f"{name} must be a plain ndarray: the mask of a masked array would be ignored. Received: {name}, "
                f"a numpy.ma.MaskedArray; pass {name}.filled(0) or {name}.data"
            )
        return np.asarray(a) if isinstance(a, np.matrix) else a

    def auto_kernel(self, xp: Any, dtype: Any, plan: ConvPlan) -> Callable[[Any, Any, Any, ConvPlan], Any]:
        """NumPy has no convolution of its own: ``auto`` runs xpconv's NumPy kernel for 1 and 2
        spatial axes, the portable kernel for 3."""
        if plan.rank == 3:
            return super().auto_kernel(xp, dtype, plan)
        from . import _numpy_kernel

        return _numpy_kernel.conv
