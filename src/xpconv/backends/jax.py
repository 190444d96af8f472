"""JAX: native kernel ``jax.lax.conv_general_dilated``; works on tracers under ``jax.jit``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._dtypes import STANDARD
from ._base import Backend

if TYPE_CHECKING:
    from .._spec import ConvPlan


class JaxBackend(Backend):
    name = "jax"
    module = "jax"
    distribution = "jax"
    has_native = True
    dtypes = STANDARD | {"float16", "bfloat16"}  # not 8-bit floats or 4-bit ints (wrong sums)

    def looks_usable(self, module: Any) -> bool:
        return isinstance(getattr(module, "Array", None), type)

    def matches(self, x: object) -> bool:
        return isinstance(x, self.framework.Array)  # tracers included

    def size_max(self, a: Any, b: Any) -> Any:
        return self.framework.core.max_dim(a, b)  # symbolic dimensions of jax.export

    def namespace(self, x: Any) -> Any:
        return self.framework.numpy

    def device(self, x: Any) -> Any:
        try:
            devices = x.devices()
        except Exception:  # a tracer under jit has no concrete device
            return None
        return next(iter(devices)) if len(devices) == 1 else frozenset(devices)

    def native_supports(self, dtype: Any) -> bool:
        jnp = self.framework.numpy
        return jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)

    def auto_kernel(self, xp: Any, dtype: Any, plan: ConvPlan) -> Any:
        """XLA's CPU convolution is far behind on two shapes (measured with ``xpconv bench``,
        jax 0.10.2): depthwise layers (about 20x slower than the portable broadcast form) and
        1x1 kernels (one matrix product is up to 3x faster). Those run the portable kernel,
        under ``jax.jit`` as well; everything else runs ``lax.conv_general_dilated``."""
        if (plan.is_pointwise or plan.is_depthwise) and plan.spatial_static:  # symbolic sizes: XLA's own
            import functools

            from .. import _portable

            return functools.partial(_portable.conv2d, xp)
        return super().auto_kernel(xp, dtype, plan)

    def native_conv2d(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        lax = self.framework.lax
        layout = plan.data_format
        if not plan.batched:
            x = x[None]
        # symbolic "same" sizes: XLA's own "SAME", the same rule, resolved when shapes are known
        padding = "SAME" if plan.native_same else plan.padding
        y = lax.conv_general_dilated(
            x,
            weight,
            window_strides=plan.stride,
            padding=padding,
            rhs_dilation=plan.dilation,
            dimension_numbers=(layout, "OIHW", layout),
            feature_group_count=plan.groups,
        )
        if bias is not None:
            shape = (1, -1, 1, 1) if layout == "NCHW" else (1, 1, 1, -1)
            y = y + bias.reshape(shape)
        return y if plan.batched else y[0]
