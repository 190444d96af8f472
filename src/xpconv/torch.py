"""PyTorch modules whose convolution is xpconv's: ``import xpconv.torch`` (it imports torch).

:class:`Conv1d`, :class:`Conv2d`, :class:`Conv3d`, :class:`ConvTranspose1d`,
:class:`ConvTranspose2d` and :class:`ConvTranspose3d` take ``torch.nn``'s arguments in its order
and hold its parameters (``weight``, ``bias``: the same shapes, names and initialization), so a
``state_dict`` loads from one into the other. They add what ``torch.nn`` refuses:
``padding="same"`` with a stride (TensorFlow's output size, ``ceil(n / stride)``; pytorch#3867),
padding modes on transposed convolutions (the input continued beyond its border; pytorch#46027),
``(before, after)`` padding pairs, ``out_dtype`` and ``method``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import nn

from ._plan import Kind
from .api import conv, conv_transpose, plan

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise (ValueError if isinstance(value, int) and not isinstance(value, bool) else TypeError)(
            f"{name} must be a positive int. Received: {name}={value!r}")
    return value


def _per_axis(value: Any, rank: int, name: str) -> tuple[int, ...]:
    """An int or ``rank`` positive ints, as a tuple of ``rank`` ints."""
    values = (value,) * rank if isinstance(value, int) and not isinstance(value, bool) else tuple(value)
    if len(values) != rank:
        raise ValueError(f"{name} must be an int or {rank} ints (one per spatial axis). Received: {name}={value!r}")
    return tuple(_positive(v, name) for v in values)


class _Conv(nn.Module):
    """What the six modules share: the parameters, their initialization (``torch.nn``'s), checks."""

    rank: ClassVar[int]
    kind: ClassVar[Kind]

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, ...], stride: Any,
                 padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str, output_padding: Any,
                 device: Any, dtype: Any, out_dtype: Any, method: str) -> None:
        super().__init__()
        self.in_channels = _positive(in_channels, "in_channels")
        self.out_channels = _positive(out_channels, "out_channels")
        self.groups = _positive(groups, "groups")
        for name, count in (("in_channels", in_channels), ("out_channels", out_channels)):
            if count % groups:
                raise ValueError(f"{name} must be divisible by groups. Received: {name}={count}, groups={groups}")
        self.kernel_size = _per_axis(kernel_size, self.rank, "kernel_size")
        self.stride = _per_axis(stride, self.rank, "stride")
        self.dilation = _per_axis(dilation, self.rank, "dilation")
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool. Received: bias={bias!r}")
        self.padding, self.padding_mode, self.output_padding = padding, padding_mode, output_padding
        self.out_dtype, self.method = out_dtype, method
        if self.kind is Kind.TRANSPOSED:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        # every option checked now, as a call checks it, on an input large enough for any of them
        # (2**16 per axis: a transposed output stays below 2**31 for strides up to 2**15)
        plan((1, in_channels, *(2**16,) * self.rank), shape, transposed=self.kind is Kind.TRANSPOSED,
             stride=self.stride, padding=padding, output_padding=output_padding, dilation=self.dilation,
             groups=groups, padding_mode=padding_mode)
        factory = {"device": device, "dtype": dtype}
        trainable = dtype is None or dtype.is_floating_point or dtype.is_complex
        self.weight = nn.Parameter(torch.empty(shape, **factory), requires_grad=trainable)
        self.bias = nn.Parameter(torch.empty(out_channels, **factory), requires_grad=trainable) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``torch.nn``'s initialization: Kaiming-uniform weights (``a = √5``), a uniform bias of
        ``±1/√fan_in``; zeros for integer parameters."""
        if not self.weight.is_floating_point() and not self.weight.is_complex():
            with torch.no_grad():
                self.weight.zero_()
                if self.bias is not None:
                    self.bias.zero_()
            return
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                nn.init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in (0, (0,) * self.rank):
            text += f", padding={self.padding!r}"
        if self.dilation != (1,) * self.rank:
            text += f", dilation={self.dilation}"
        if self.output_padding not in (0, (0,) * self.rank):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        if self.out_dtype is not None:
            text += f", out_dtype={self.out_dtype}"
        return text


class _Forward(_Conv):
    kind = Kind.FORWARD

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, ...], stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None, *, out_dtype: Any = None, method: str = "auto") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         0, device, dtype, out_dtype, method)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """``input (N, C_in, *spatial)`` or ``(C_in, *spatial)`` → ``(N, C_out, *out)``."""
        return conv(input, self.weight, self.bias, stride=self.stride, padding=self.padding, dilation=self.dilation,
                    groups=self.groups, padding_mode=self.padding_mode, method=self.method, out_dtype=self.out_dtype)


class _Transposed(_Conv):
    kind = Kind.TRANSPOSED

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, ...], stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None, *, out_dtype: Any = None,
                 method: str = "auto") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         output_padding, device, dtype, out_dtype, method)

    def forward(self, input: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        """``input (N, C_in, *spatial)`` or ``(C_in, *spatial)`` → ``(N, C_out, *out)``; ``output_size``
        (the spatial sizes, or the whole shape) picks the output padding, as ``torch.nn``'s."""
        extra = self.output_padding if output_size is None else self._output_padding(input, output_size)
        return conv_transpose(input, self.weight, self.bias, stride=self.stride, padding=self.padding,
                              output_padding=extra, dilation=self.dilation, groups=self.groups,
                              padding_mode=self.padding_mode, method=self.method, out_dtype=self.out_dtype)

    def _output_padding(self, input: torch.Tensor, output_size: Any) -> tuple[int, ...]:
        sizes = tuple(int(s) for s in output_size)[-self.rank:]
        if len(tuple(output_size)) not in (self.rank, input.dim()) or isinstance(self.padding, str):
            raise ValueError(
                f"output_size must give {self.rank} spatial sizes (or the whole output shape), with numeric padding. "
                f"Received: output_size={tuple(output_size)}, padding={self.padding!r}")
        smallest = plan(tuple(input.shape), tuple(self.weight.shape), transposed=True, stride=self.stride,
                        padding=self.padding, dilation=self.dilation, groups=self.groups).out_size
        extra = tuple(want - have for want, have in zip(sizes, smallest))
        if any(e < 0 or (e >= s and e >= d) for e, s, d in zip(extra, self.stride, self.dilation)):
            largest = tuple(n + max(s, d) - 1 for n, s, d in zip(smallest, self.stride, self.dilation))
            raise ValueError(f"output_size must be between {tuple(smallest)} and {largest} for this input. "
                             f"Received: output_size={tuple(output_size)}")
        return extra


class Conv1d(_Forward):
    """``torch.nn.Conv1d`` computed by xpconv: ``x (N, C_in, W)`` or ``(C_in, W)``, ``weight (C_out,
    C_in/groups, kW)``; the extras of :mod:`xpconv.torch` (``padding="same"`` with a stride, pairs,
    ``out_dtype``, ``method``)."""

    rank = 1


class Conv2d(_Forward):
    """``torch.nn.Conv2d`` computed by xpconv: ``x (N, C_in, H, W)`` or ``(C_in, H, W)``, ``weight
    (C_out, C_in/groups, kH, kW)``; the extras of :mod:`xpconv.torch`.

    Examples
    --------
    >>> import torch, xpconv.torch
    >>> layer = xpconv.torch.Conv2d(3, 8, 3, stride=2, padding="same", padding_mode="reflect")
    >>> layer(torch.ones(1, 3, 17, 17)).shape
    torch.Size([1, 8, 9, 9])
    >>> twin = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1, padding_mode="reflect")
    >>> twin.load_state_dict(layer.state_dict())
    <All keys matched successfully>
    """

    rank = 2


class Conv3d(_Forward):
    """``torch.nn.Conv3d`` computed by xpconv: ``x (N, C_in, D, H, W)`` or unbatched, ``weight
    (C_out, C_in/groups, kD, kH, kW)``; the extras of :mod:`xpconv.torch`."""

    rank = 3


class ConvTranspose1d(_Transposed):
    """``torch.nn.ConvTranspose1d`` computed by xpconv: ``weight (C_in, C_out/groups, kW)``; with
    padding modes (the input continued beyond its border), ``padding="same"``/``"valid"``,
    ``out_dtype`` and ``method``."""

    rank = 1


class ConvTranspose2d(_Transposed):
    """``torch.nn.ConvTranspose2d`` computed by xpconv: ``weight (C_in, C_out/groups, kH, kW)``;
    with padding modes, ``padding="same"``/``"valid"``, ``out_dtype`` and ``method``.

    Examples
    --------
    >>> import torch, xpconv.torch
    >>> up = xpconv.torch.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1, padding_mode="circular")
    >>> up(torch.ones(1, 4, 8, 8)).shape
    torch.Size([1, 2, 16, 16])
    """

    rank = 2


class ConvTranspose3d(_Transposed):
    """``torch.nn.ConvTranspose3d`` computed by xpconv: ``weight (C_in, C_out/groups, kD, kH, kW)``;
    with padding modes, ``padding="same"``/``"valid"``, ``out_dtype`` and ``method``."""

    rank = 3
