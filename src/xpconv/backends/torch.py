"""PyTorch: native kernels ``torch.nn.functional.conv{1,2,3}d`` and ``conv_transpose{1,2,3}d``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import TAKES_UNBATCHED, Backend, Kernel

if TYPE_CHECKING:
    from .._plan import ConvPlan


#: ``F.conv{N}d``'s defaults of stride, padding, dilation and groups.
_CONV_DEFAULTS = (1, 0, 1, 1)


class TorchBackend(Backend):
    name = "torch"
    module = "torch"
    priority = 20
    extra = "torch"
    lane = "torch"
    requirements = ("numpy.txt", "torch.txt")
    default = True
    # uint16/32/64 have no bmm and no promotion in torch 2.13; 8-bit floats give wrong sums
    dtypes = frozenset({"int8", "int16", "int32", "int64", "uint8", "float16", "bfloat16", "float32", "float64",
                        "complex64", "complex128"})
    native_dtypes = frozenset({"float16", "bfloat16", "float32", "float64", "complex64", "complex128"})

    def looks_usable(self, module: Any) -> bool:
        return isinstance(getattr(module, "Tensor", None), type)

    def matches(self, x: object) -> bool:
        found = isinstance(x, self.framework.Tensor)
        if found and "is_tracing" not in self.__dict__:
            # bound to torch's own function: is_tracing runs on every call's fast path
            self.is_tracing = self.framework.compiler.is_compiling  # type: ignore[method-assign]
        return found

    def is_tracing(self) -> bool:
        """``torch.compile``/``torch.export`` tracing: Dynamo sees a SymInt's type as int.
        (Replaced by ``torch.compiler.is_compiling`` itself once a tensor was matched.)"""
        return self.framework.compiler.is_compiling()

    def size_max(self, a: Any, b: Any) -> Any:
        return self.framework.sym_max(a, b)  # no guard on a SymInt (torch.export, dynamic=True)

    def shape(self, x: Any) -> tuple[Any, ...]:
        """Ints; under ``torch.jit.trace`` the sizes are traced 0-d tensors, read as the ints they
        hold (the trace then holds this call's shape, as ``torch.jit.trace`` documents)."""
        shape = tuple(x.shape)
        if shape and type(shape[0]) is not int and isinstance(shape[0], self.framework.Tensor):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", self.framework.jit.TracerWarning)
                return tuple(int(d) for d in shape)
        return shape

    def require(self, x: Any, requirements: Any) -> Any:
        """``torch._check_value``: a guard under ``torch.compile``/``torch.export`` (checked again
        for every new size), a ``ValueError`` naming the argument when it fails."""
        for requirement in requirements:
            message = requirement.message
            self.framework._check_value(requirement.lhs >= requirement.rhs, lambda message=message: message)
        return x

    def namespace(self, x: Any) -> Any:
        import array_api_compat.torch

        return array_api_compat.torch

    def device(self, x: Any) -> Any:
        return x.device

    def to_numpy(self, x: Any) -> Any:
        return x.detach().cpu().numpy()

    def dense(self, name: str, a: Any) -> Any:
        if a.layout is not self.framework.strided or a.is_nested:
            kind = "a nested tensor" if a.is_nested else f"layout {a.layout}"
            fix = "a padded one (.to_padded_tensor(0))" if a.is_nested else "a dense one (.to_dense())"
            raise TypeError(f"{name} must be a dense (strided) tensor. Received: {name} with {kind}; convert it to {fix}")
        return a

    def check_devices(self, x: Any, weight: Any, bias: Any) -> None:
        """Devices agree, and (on the validated-call fast path, where tensors of one type meet) no
        sparse or nested tensor comes where a dense one was validated."""
        device = x.device
        if weight.device != device or (bias is not None and bias.device != device):
            super().check_devices(x, weight, bias)
        if x.layout is not self.framework.strided or x.is_nested:
            self.dense("x", x)

    def prefers_own(self, plan: ConvPlan, dtype: Any) -> bool:
        """1x1 kernels in float32/float64: xpconv's one matrix product over channels is faster than
        ``F.conv*d`` on every pointwise layer measured (``xpconv bench``, torch 2.13 CPU: 0.15-0.87 of
        its time, 1-D to 3-D, strided too); half precision stays native (computed in float32, slower)."""
        return plan.is_pointwise and plan.spatial_static and str(dtype) in ("torch.float32", "torch.float64")

    def native_kernel(self, plan: ConvPlan) -> Kernel:
        """The common case (static sizes, channels first, equal padding on both sides) as one
        closure over the plan's arguments: the fast path then adds a single call to ``conv{N}d``,
        which takes an unbatched input as it comes (no batch axis added and removed: 4 µs a call)."""
        if plan.channels_last or not plan.spatial_static or any(a != b for a, b in plan.padding):
            return self.native_forward
        conv = getattr(self.framework.nn.functional, f"conv{plan.rank}d")
        # one int where every axis agrees, and none of the trailing arguments that equal conv{N}d's
        # defaults: torch parses an int in 0.1 µs, a tuple in 0.3 (0.5 µs less a call on the chapter's example)
        args = (*(v[0] if len(set(v)) == 1 else v for v in (plan.stride, tuple(a for a, _ in plan.padding), plan.dilation)),
                plan.groups)
        while args and args[-1] == _CONV_DEFAULTS[len(args) - 1]:
            args = args[:-1]

        def native(x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
            return conv(x, weight, bias, *args)

        setattr(native, TAKES_UNBATCHED, True)
        return native

    def native_forward(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        functional = self.framework.nn.functional
        if plan.channels_last:  # a view; torch runs it as channels_last
            x = x.permute(plan.to_channels_first)
        if plan.spatial_static and all(a == b for a, b in plan.padding):  # comparing SymInts would guard
            padding: Any = tuple(a for a, _ in plan.padding)
        else:
            x = functional.pad(x, [p for pair in reversed(plan.padding) for p in pair])
            padding = 0
        conv = getattr(functional, f"conv{plan.rank}d")
        y = conv(x, weight, bias, plan.stride, padding, plan.dilation, plan.groups)
        return y.permute(plan.from_channels_first) if plan.channels_last else y

    def native_transposed(self, plan: ConvPlan) -> Kernel:
        """``conv_transpose{1,2,3}d`` for every transposed plan."""
        return self._transposed

    def _transposed(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        """Unequal padding is cropped from the uncropped output."""
        functional = self.framework.nn.functional
        if plan.channels_last:
            x = x.permute(plan.to_channels_first)
        symmetric = all(a == b for a, b in plan.padding)
        padding = tuple(a for a, _ in plan.padding) if symmetric else 0
        conv = getattr(functional, f"conv_transpose{plan.rank}d")
        y = conv(x, weight, bias, plan.stride, padding, plan.output_padding, plan.groups, plan.dilation)
        if not symmetric:
            y = y[(slice(None), slice(None), *(slice(a, a + n) for (a, _), n in zip(plan.padding, plan.out_size)))]
        return y.permute(plan.from_channels_first) if plan.channels_last else y
