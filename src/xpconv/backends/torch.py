"""PyTorch: native kernel ``torch.nn.functional.conv2d``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import Backend

if TYPE_CHECKING:
    from .._spec import ConvPlan


class TorchBackend(Backend):
    name = "torch"
    module = "torch"
    distribution = "torch"
    has_native = True
    # uint16/32/64 have no bmm and no promotion in torch 2.13; 8-bit floats give wrong sums
    dtypes = frozenset({"int8", "int16", "int32", "int64", "uint8", "float16", "bfloat16", "float32", "float64"})

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

    def namespace(self, x: Any) -> Any:
        import array_api_compat.torch

        return array_api_compat.torch

    def device(self, x: Any) -> Any:
        return x.device

    def to_numpy(self, x: Any) -> Any:
        return x.detach().cpu().numpy()

    def native_supports(self, dtype: Any) -> bool:
        torch = self.framework
        return dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16)

    def check_devices(self, x: Any, weight: Any, bias: Any) -> None:
        device = x.device
        if weight.device != device or (bias is not None and bias.device != device):
            super().check_devices(x, weight, bias)

    def native_conv2d(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        functional = self.framework.nn.functional
        if plan.data_format == "NHWC":  # a view; torch runs it as channels_last
            x = x.permute(0, 3, 1, 2) if plan.batched else x.permute(2, 0, 1)
        (top, bottom), (left, right) = plan.padding
        if plan.spatial_static and top == bottom and left == right:  # comparing SymInts would guard
            padding: Any = (top, left)
        else:
            x = functional.pad(x, (left, right, top, bottom))
            padding = 0
        y = functional.conv2d(x, weight, bias, plan.stride, padding, plan.dilation, plan.groups)
        if plan.data_format == "NHWC":
            y = y.permute(0, 2, 3, 1) if plan.batched else y.permute(1, 2, 0)
        return y
