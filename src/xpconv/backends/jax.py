"""JAX: native kernel ``jax.lax.conv_general_dilated`` (forward, and transposed through ``lhs_dilation``);
works on tracers under ``jax.jit``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .._dtypes import STANDARD
from .base import Backend, Kernel

if TYPE_CHECKING:
    from .._plan import ConvPlan


_WIDE = frozenset({"int64", "uint64", "float64", "complex128"})


def _x64() -> bool:
    """Whether JAX computes 64-bit dtypes (``jax_enable_x64``); True while JAX is not imported."""
    jax = sys.modules.get("jax")
    return jax is None or bool(jax.config.jax_enable_x64)


def _aborts_xla(plan: ConvPlan) -> bool:
    """Whether XLA's CPU compiler may abort the process on ``plan``'s transposed convolution as one
    ``conv_general_dilated`` with ``lhs_dilation`` (jax 0.10.2: ``algebraic_simplifier.cc`` "Window
    dimensions do not match RHS shape", e.g. input 4x1, kernel 2x3, stride (2, 1), dilation (1, 3),
    padding ((1, 2), (2, 3)), output_padding (1, 0)): a stride above 1 on some axis and, on some
    axis, a dilated kernel longer than the zero-inserted input, which XLA swaps with the kernel.
    Such plans insert the zeros themselves and run the forward convolution."""
    return plan.spatial_static and any(s > 1 for s in plan.stride) and any(
        d * (k - 1) + 1 > (n - 1) * s + 1 for n, k, s, d in zip(plan.in_size, plan.kernel, plan.stride, plan.dilation))


class JaxBackend(Backend):
    name = "jax"
    module = "jax"
    priority = 30
    extra = "jax"
    lane = "jax"
    requirements = ("numpy.txt", "jax.txt")
    default = True
    preferred_layout = "channels_last"
    #: Blocks of 8 MiB of float32 (the chapter's 5×5 layer by Fourier tiles under jit: 1.02 of XLA's
    #: convolution in 32 MiB blocks, 0.80 in 8 MiB ones).
    transform_block_elements = 2 * 1024 * 1024
    #: Not 8-bit floats or 4-bit ints (wrong sums); 64-bit dtypes only with ``jax_enable_x64``.
    all_dtypes = STANDARD | {"float16", "bfloat16"}
    native_dtypes = all_dtypes  # lax.conv_general_dilated takes integers too

    @property  # type: ignore[override]
    def dtypes(self) -> frozenset[str]:  # type: ignore[override]
        """The dtypes JAX computes now: without ``jax_enable_x64``, none of 64 bits."""
        return self.all_dtypes if _x64() else frozenset(n for n in self.all_dtypes if n not in _WIDE)

    def dtype_hint(self, name: str) -> str:
        if name in _WIDE and not _x64():
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

    def check_devices(self, x: Any, weight: Any, bias: Any) -> None:
        """Arrays placed alike (equal shardings: one comparison, 1 µs less than reading both devices on
        every call's fast path) agree; otherwise their devices are compared. Tracers have no sharding."""
        try:
            if x.sharding == weight.sharding and (bias is None or bias.sharding == x.sharding):
                return
        except AttributeError:
            pass
        super().check_devices(x, weight, bias)

    def for_repeated_calls(self, kernel: Kernel, plan: ConvPlan) -> Kernel:
        """Eager calls run ``kernel`` as one ``jax.jit`` program for this signature (compiled on its
        first call, kept with it in the dispatcher's cache): eagerly, JAX compiles and dispatches
        each of the kernel's operations by itself (a fast algorithm is dozens), and fuses none.
        Inside a trace (``jax.jit``, ``grad``, ``vmap``) the kernel runs as it is, part of that trace."""
        jax = self.framework
        tracer = jax.core.Tracer
        program = jax.jit(lambda x, weight, bias: kernel(x, weight, bias, plan))

        def run(x: Any, weight: Any, bias: Any, _: ConvPlan) -> Any:  # the signature's plan: ``plan``
            if isinstance(x, tracer) or isinstance(weight, tracer) or isinstance(bias, tracer):
                return kernel(x, weight, bias, plan)
            return program(x, weight, bias)

        return run

    def prefers_own(self, plan: ConvPlan, dtype: Any) -> bool:
        """XLA's CPU convolution is far behind on two shapes (measured with ``xpconv bench``,
        jax 0.10.2): depthwise layers (about 20x slower than the direct broadcast form) and 1x1
        kernels (one matrix product is up to 3x faster); with static sizes, also under ``jax.jit``."""
        return (plan.is_pointwise or plan.is_depthwise) and plan.spatial_static

    def native_forward(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        # symbolic "same" sizes: XLA's own "SAME", the same rule, resolved when shapes are known
        padding = "SAME" if plan.native_same else plan.padding
        return self._convolve(x, weight, bias, plan, padding, plan.stride, (1,) * plan.rank)

    def native_transposed(self, plan: ConvPlan) -> Kernel:
        """Every transposed plan: the input dilated by the stride (``lhs_dilation``), the kernel
        flipped and its channel axes swapped (:mod:`xpconv.kernels.transpose`); negative padding crops."""
        from ..kernels.transpose import flipped_weight, twin_padding, via_forward

        if _aborts_xla(plan):
            return via_forward(self.framework.numpy, self.native_forward)
        padding = twin_padding(plan)

        def transposed(x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
            w = flipped_weight(self.framework.numpy, weight, plan)
            return self._convolve(x, w, bias, plan, padding, (1,) * plan.rank, plan.stride)

        return transposed

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
        return y if bias is None else y + bias.reshape(plan.bias_shape)
