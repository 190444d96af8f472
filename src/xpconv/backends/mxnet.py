"""MXNet: ``mx.np.ndarray`` and ``mx.nd.NDArray``; native kernels ``mx.npx.convolution`` and ``mx.npx.deconvolution``.

An ``mx.nd`` input gives an ``mx.nd`` result, an ``mx.np`` input an ``mx.np`` result, on the
input's context. Internally everything runs on ``mx.np`` arrays: ``as_np_ndarray`` and
``as_nd_ndarray`` share memory and keep ``mx.autograd`` recording. The portable kernel runs on
xpconv's own namespace (:mod:`xpconv.backends.mxnet_namespace`).

MXNet runs operators asynchronously, so an error inside an operator can surface only when a
result is read, far from the call. xpconv's validation runs first and refuses what MXNet's
convolution would fail on later: dtypes other than float32/float64 for ``method="native"``
(MXNet's CPU convolution has no float16 or integer kernel; ``auto`` runs the portable kernel
for them), mixed contexts, and every shape and option error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._base import Backend

if TYPE_CHECKING:
    from .._spec import ConvPlan


class MxnetBackend(Backend):
    name = "mxnet"
    module = "mxnet"
    distribution = "mxnet"
    has_native = True
    # MXNet 1.9 has no int16, uint16-64, bfloat16 or complex arrays at all.
    dtypes = frozenset({"int8", "int32", "int64", "uint8", "float16", "float32", "float64"})

    def looks_usable(self, module: Any) -> bool:
        return hasattr(module, "nd") and hasattr(module, "np")

    def matches(self, x: object) -> bool:
        # mx.np.ndarray subclasses mx.nd.NDArray; sparse NDArrays (row_sparse, csr) are not arrays
        # xpconv computes with: unmatched, they are refused up front as an unsupported type
        return isinstance(x, self.framework.nd.NDArray) and getattr(x, "stype", "default") == "default"

    def namespace(self, x: Any) -> Any:
        from . import mxnet_namespace

        return mxnet_namespace

    def device(self, x: Any) -> Any:
        return x.ctx

    def asarray_like(self, value: Any, like: Any, name: str = "x") -> Any:
        """A Python list or scalar as an array of ``like``'s kind (``mx.np`` or ``mx.nd``) and context."""
        out = super().asarray_like(value, like, name)
        return out if like is None or isinstance(like, self.framework.np.ndarray) else out.as_nd_ndarray()

    def adopt(self, value: Any, like: Any) -> Any:
        out = super().adopt(value, like)
        return out if out is None or isinstance(like, self.framework.np.ndarray) else out.as_nd_ndarray()

    def to_numpy(self, x: Any) -> Any:
        return x.asnumpy()

    def native_supports(self, dtype: Any) -> bool:
        import numpy

        return dtype in (numpy.float32, numpy.float64)

    def add_batch(self, x: Any) -> Any:
        return x.reshape((1, *x.shape))  # an unbatched input has no zero size; x[None, ...] is 3x slower

    def drop_batch(self, y: Any) -> Any:
        return y[0]  # a view; y[0, ...] goes through MXNet's slow indexing path

    def own_kernel(self, kernel: Callable[[Any, Any, Any, ConvPlan], Any]) -> Callable[[Any, Any, Any, ConvPlan], Any]:
        return _same_kind(self.framework, kernel)

    def portable_kernel(self, xp: Any) -> Callable[[Any, Any, Any, ConvPlan], Any]:
        from .. import _portable

        return self.own_kernel(functools.partial(_portable.conv, xp))

    def native_kernel(self, plan: ConvPlan) -> Callable[[Any, Any, Any, ConvPlan], Any]:
        """The base class's choice (padding modes applied first, transposed plans), on ``mx.np`` arrays."""
        return self.own_kernel(super().native_kernel(plan))

    def native_forward(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        from ._mxnet_native import convolve

        return convolve(self.framework, x, weight, bias, plan)

    def native_transposed(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        """``npx.deconvolution`` for 1-D and 2-D without dilation; otherwise the forward twin on
        ``npx.convolution`` (MXNet's CPU deconvolution has no 3-D, and its dilated one disagrees
        with the definition)."""
        from ._mxnet_native import deconvolve, has_deconvolution

        if has_deconvolution(plan):
            return deconvolve(self.framework, x, weight, bias, plan)
        return super().native_transposed(x, weight, bias, plan)


def _same_kind(mx: Any, kernel: Callable[..., Any]) -> Callable[[Any, Any, Any, ConvPlan], Any]:
    """``kernel`` run on ``mx.np`` views of the arrays; an ``mx.nd`` input gets an ``mx.nd`` result."""
    ndarray = mx.np.ndarray

    def run(x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        legacy = not isinstance(x, ndarray)
        if legacy or not isinstance(weight, ndarray) or (bias is not None and not isinstance(bias, ndarray)):
            x, weight = _as_np(ndarray, x), _as_np(ndarray, weight)
            bias = None if bias is None else _as_np(ndarray, bias)
        if plan.batch == 0:  # MXNet reads a 0 in a shape as "unknown" unless NumPy shapes are on
            with mx.util.np_shape(True):
                y = kernel(x, weight, bias, plan)
        else:
            y = kernel(x, weight, bias, plan)
        return y.as_nd_ndarray() if legacy else y

    return run


def _as_np(ndarray: type, a: Any) -> Any:
    return a if isinstance(a, ndarray) else a.as_np_ndarray()
