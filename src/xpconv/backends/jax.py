"""JAX: native kernel ``jax.lax.conv_general_dilated`` (forward, and transposed through ``lhs_dilation``);
works on tracers under ``jax.jit``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._dtypes import STANDARD
from ._base import Backend

if TYPE_CHECKING:
    from .._spec import ConvPlan


_WIDE = frozenset({"int64", "uint64", "float64", "complex128"})


class JaxBackend(Backend):
    name = "jax"
    module = "jax"
    distribution = "jax"
    has_native = True
    #: Not 8-bit floats or 4-bit ints (wrong sums); 64-bit dtypes only with ``jax_enable_x64``.
    all_dtypes = STANDARD | {"float16", "bfloat16"}

    @property  # type: ignore[override]
    def dtypes(self) -> frozenset[str]:  # type: ignore[override]
        """The dtypes JAX computes now: without ``jax_enable_x64``, none of 64 bits."""
        if self.framework.config.jax_enable_x64:
            return self.all_dtypes
        return frozenset(n for n in self.all_dtypes if n not in _WIDE)

    def dtype_hint(self, name: str) -> str:
        if name in _WIDE and not self.framework.config.jax_enable_x64:
            return (f"; JAX computes {name} only with 64-bit types enabled: "
                    "jax.config.update('jax_enable_x64', True) (without it, it is silently 32-bit)")
        return ""

    def looks_usable(self, module: Any) -> bool:
        return isinstance(getattr(module, "Array", None), type)

    def matches(self, x: object) -> bool:
        return isinstance(x, self.framework.Array)  # tracers included

    def size_max(self, a: Any, b: Any) -> Any:
        return self.framework.core.max_dim(a, b)  # symbolic dimensions of jax.export

    def namespace(self, x: Any) -> Any:
        return self.framework.numpy

    def require(self, x: Any, requirements: Any) -> Any:
        """Symbolic sizes (``jax.export``) must be proved large enough when tracing: JAX decides a
        comparison from the constraints declared with ``jax.export.symbolic_shape(...,
        constraints=...)`` and checks those constraints when the exported function is called."""
        for requirement in requirements:
            lhs, rhs = requirement.lhs, requirement.rhs
            try:
                holds = bool(lhs >= rhs)
            except Exception as error:  # InconclusiveDimensionOperation: not provable either way
                if "Inconclusive" not in type(error).__name__:
                    raise
                raise ValueError(
                    f"{requirement.message}. With symbolic sizes, declare the bound: "
                    f"jax.export.symbolic_shape(..., constraints=['{lhs} >= {rhs}'])"
                ) from None
            if not holds:
                raise ValueError(requirement.message)
        return x

    def device(self, x: Any) -> Any:
        try:
            devices = x.devices()
        except Exception:  # a tracer under jit has no concrete device
            return None
        return next(iter(devices)) if len(devices) == 1 else frozenset(devices)

    def native_supports(self, dtype: Any) -> bool:
        jnp = self.framework.numpy
        return jnp.issubdtype(dtype, jnp.inexact) or jnp.issubdtype(dtype, jnp.integer)

    def auto_kernel(self, xp: Any, dtype: Any, plan: ConvPlan) -> Any:
        """XLA's CPU convolution is far behind on two shapes (measured with ``xpconv bench``,
        jax 0.10.2): depthwise layers (about 20x slower than the portable broadcast form) and
        1x1 kernels (one matrix product is up to 3x faster). Those run the portable kernel,
        under ``jax.jit`` as well; everything else runs ``lax.conv_general_dilated``."""
        if (plan.is_pointwise or plan.is_depthwise) and plan.spatial_static and not plan.transposed:
            import functools

            from .. import _portable

            return functools.partial(_portable.conv, xp)
        return super().auto_kernel(xp, dtype, plan)

    def native_forward(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        # symbolic "same" sizes: XLA's own "SAME", the same rule, resolved when shapes are known
        padding = "SAME" if plan.native_same else plan.padding
        return self._convolve(x, weight, bias, plan, padding, plan.stride, (1,) * plan.rank)

    def native_transposed(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        """The input dilated by the stride (``lhs_dilation``), the kernel flipped and its channel
        axes swapped; negative padding crops."""
        from .._transpose import flipped_weight

        padding = [(d * (k - 1) - a, d * (k - 1) - b + extra)
                   for k, d, (a, b), extra in zip(plan.kernel, plan.dilation, plan.padding, plan.output_padding)]
        w = flipped_weight(self.framework.numpy, weight, plan)
        return self._convolve(x, w, bias, plan, padding, (1,) * plan.rank, plan.stride)

    def _convolve(self, x: Any, weight: Any, bias: Any, plan: ConvPlan, padding: Any, strides: Any,
                  lhs_dilation: Any) -> Any:
        spatial = "DHW"[3 - plan.rank:]
        layout = f"N{spatial}C" if plan.channels_last else f"NC{spatial}"
        y = self.framework.lax.conv_general_dilated(
            x,
            weight,
            window_strides=strides,
            padding=padding,
            lhs_dilation=lhs_dilation,
            rhs_dilation=plan.dilation,
            dimension_numbers=(layout, f"OI{spatial}", layout),
            feature_group_count=plan.groups,
        )
        if bias is not None:
            shape = (1, *(1,) * plan.rank, -1) if plan.channels_last else (1, -1, *(1,) * plan.rank)
            y = y + bias.reshape(shape)
        return y
