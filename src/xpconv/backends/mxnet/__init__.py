"""MXNet: ``mx.np.ndarray`` and ``mx.nd.NDArray``; native kernels ``mx.npx.convolution`` and ``mx.npx.deconvolution``.

An ``mx.nd`` input gives an ``mx.nd`` result, an ``mx.np`` input an ``mx.np`` result, on the
input's context. Internally everything runs on ``mx.np`` arrays: ``as_np_ndarray`` and
``as_nd_ndarray`` share memory and keep ``mx.autograd`` recording. The portable kernel runs on
xpconv's own namespace (:mod:`.namespace`).

MXNet runs operators asynchronously, so an error inside an operator can surface only when a
result is read, far from the call. xpconv's validation runs first and refuses what MXNet's
convolution would fail on later: dtypes other than float32/float64 for ``method="native"``
(MXNet's CPU convolution has no float16 or integer kernel; ``auto`` runs the portable kernel
for them), mixed contexts, and every shape and option error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..base import Backend, Kernel

if TYPE_CHECKING:
    from ..._plan import ConvPlan


class MxnetBackend(Backend):
    name = "mxnet"
    module = "mxnet"
    priority = 50
    extra = "mxnet"
    lane = "mxnet"
    #: Its own NumPy (1.23.5): it cannot share an environment with jax 0.10 / TensorFlow 2.21.
    requirements = ("mxnet.txt", "array-api-strict.txt")
    lane_with = ("numpy", "array_api_strict")
    # MXNet 1.9 has no int16, uint16-64, bfloat16 or complex arrays at all.
    dtypes = frozenset({"int8", "int32", "int64", "uint8", "float16", "float32", "float64"})
    #: Its CPU convolution has no float16 or integer kernel: auto runs xpconv's for those.
    native_dtypes = frozenset({"float32", "float64"})

    def looks_usable(self, module: Any) -> bool:
        return hasattr(module, "nd") and hasattr(module, "np")

    def matches(self, x: object) -> bool:
        # mx.np.ndarray subclasses mx.nd.NDArray; sparse NDArrays (row_sparse, csr) are not arrays
        # xpconv computes with: unmatched, they are refused up front as an unsupported type
        return isinstance(x, self.framework.nd.NDArray) and getattr(x, "stype", "default") == "default"

    def namespace(self, x: Any) -> Any:
        from . import namespace

        return namespace

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

    def add_batch(self, x: Any) -> Any:
        return x.reshape((1, *x.shape))  # an unbatched input has no zero size; x[None, ...] is 3x slower

    def drop_batch(self, y: Any) -> Any:
        return y[0]  # a view; y[0, ...] goes through MXNet's slow indexing path

    def adapt(self, kernel: Kernel) -> Kernel:
        """Kernels run on ``mx.np`` arrays; an ``mx.nd`` input gets an ``mx.nd`` result."""
        return _same_kind(self.framework, kernel)

    def native_forward(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        from .native import convolve

        return convolve(self.framework, x, weight, bias, plan)

    def native_transposed(self, plan: ConvPlan) -> Kernel | None:
        """``npx.deconvolution`` for 1-D and 2-D without dilation; otherwise ``None``, the forward
        twin on ``npx.convolution`` (MXNet's CPU deconvolution has no 3-D, and its dilated one
        disagrees with the definition)."""
        from .native import deconvolve, has_deconvolution

        if not has_deconvolution(plan):
            return None
        return lambda x, weight, bias, plan: deconvolve(self.framework, x, weight, bias, plan)


def _same_kind(mx: Any, kernel: Kernel) -> Kernel:
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
