"""NumPy: the default backend. No native convolution exists; the fast path is ours."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._dtypes import STANDARD
from .base import Backend, Kernel

if TYPE_CHECKING:
    from .._plan import ConvPlan


class NumpyBackend(Backend):
    name = "numpy"
    module = "numpy"
    priority = 10
    lane = "numpy"
    requirements = ("numpy.txt",)
    default = True
    dtypes = STANDARD | {"float16"}  # no bfloat16 (ml_dtypes' is not NumPy's), no long double
    #: Blocks of 8 MiB of float32, which stay in cache between NumPy's passes over them (ResNet's 3×3
    #: layer by Winograd F(4,3): 35.7 ms in one 32 MiB block, 22.2 ms in four of 8 MiB).
    transform_block_elements = 2 * 1024 * 1024

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

    def direct_kernel(self, xp: Any, plan: ConvPlan) -> Kernel:
        """NumPy has no convolution of its own: xpconv's blocked NumPy kernel for 1 and 2 spatial
        axes, the Array API one for 3."""
        if plan.rank == 3:
            return super().direct_kernel(xp, plan)
        from ..kernels import numpy_blocked

        return numpy_blocked.conv
