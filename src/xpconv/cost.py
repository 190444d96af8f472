"""Parameter counts and arithmetic cost of a convolution, from shapes alone."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ._plan import ConvOptions, Kind, PaddingArg, as_int, make_plan, to_pair

__all__ = ["ConvCost", "conv2d_cost", "conv_cost", "param_count"]


def param_count(
    c_in: int, c_out: int, kernel_size: int | tuple[int, int], *, groups: int = 1, bias: bool = True
) -> int:
    """Number of learnable weights of a 2-D convolution layer.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels; both divisible by ``groups``.
    kernel_size : int or (int, int)
        ``(kH, kW)``, or one int for a square kernel.
    groups : int, optional
        Channel groups (``c_in`` for a depthwise convolution).
    bias : bool, optional
        Whether the layer has one bias per output channel.

    Returns
    -------
    int
        ``c_out · (c_in/groups) · kH · kW + (c_out if bias else 0)``.

    Examples
    --------
    >>> param_count(3, 64, 3)
    1792
    """
    c_in_i = as_int(c_in, "c_in", "a positive int")
    c_out_i = as_int(c_out, "c_out", "a positive int")
    for name, value in (("c_in", c_in_i), ("c_out", c_out_i)):
        if value < 1:
            raise ValueError(f"{name} must be a positive int. Received: {name}={value}")
    kh, kw = to_pair(kernel_size, "kernel_size", minimum=1)
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be a bool. Received: bias={bias!r}")
    options = ConvOptions(groups=groups, data_format="NCHW").validated(Kind.FORWARD)
    if c_in_i % options.groups or c_out_i % options.groups:
        raise ValueError(
            "groups must divide c_in and c_out. Received: "
            f"groups={options.groups}, c_in={c_in_i}, c_out={c_out_i}"
        )
    return c_out_i * (c_in_i // options.groups) * kh * kw + (c_out_i if bias else 0)


@dataclass(frozen=True)
class ConvCost:
    """Shape and cost of one convolution.

    Attributes
    ----------
    output_shape : tuple of int
        ``(C_out, *out)`` or ``(N, C_out, *out)``, as the input was given.
    params : int
        Learnable weights, bias included when ``bias=True``.
    macs : int
        Multiply-accumulates: ``N · C_out · prod(out) · (C_in/groups) · prod(kernel)`` (transposed:
        ``N · C_in · prod(in) · (C_out/groups) · prod(kernel)``).
    flops : int
        ``2 · macs``: multiplies and adds counted apart (bias additions not counted).
    """

    output_shape: tuple[int, ...]
    params: int
    macs: int
    flops: int


def _shape(value: object, name: str) -> tuple[int, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(f"{name} must be a tuple of positive ints. Received: {name}={value!r}")
    shape = tuple(as_int(v, name, "a tuple of positive ints") for v in value)
    if any(v < 1 for v in shape):
        raise ValueError(f"{name} must be a tuple of positive ints. Received: {name}={tuple(value)!r}")
    return shape


def conv_cost(
    input_shape: Sequence[int],
    weight_shape: Sequence[int],
    *,
    stride: int | tuple[int, ...] = 1,
    padding: PaddingArg = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
    bias: bool = True,
    transpose: bool = False,
    output_padding: int | tuple[int, ...] = 0,
) -> ConvCost:
    """Output shape, parameter count and arithmetic cost of :func:`xpconv.conv` (or, with
    ``transpose=True``, of :func:`xpconv.conv_transpose`), for 1, 2 or 3 spatial axes.

    Uses the same option rules and output-shape rule as the convolutions themselves.

    Parameters
    ----------
    input_shape : tuple of int
        ``(C_in, *spatial)`` or ``(N, C_in, *spatial)``.
    weight_shape : tuple of int
        ``(C_out, C_in/groups, *kernel)``; with ``transpose=True``, ``(C_in, C_out/groups, *kernel)``.
    stride, padding, dilation, groups, output_padding
        As in :func:`xpconv.conv` and :func:`xpconv.conv_transpose`.
    bias : bool, optional
        Whether a bias of shape ``(C_out,)`` is counted in ``params``.
    transpose : bool, optional
        A transposed convolution: it costs what the forward convolution it is the gradient of costs,
        ``N · C_in · prod(spatial) · (C_out/groups) · prod(kernel)`` multiply-accumulates.

    Examples
    --------
    >>> conv_cost((1, 16000), (32, 1, 80), stride=4).output_shape
    (32, 3981)
    >>> conv_cost((64, 32, 32), (64, 32, 4, 4), stride=2, padding=1, transpose=True).output_shape
    (32, 64, 64)
    """
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be a bool. Received: bias={bias!r}")
    if not isinstance(transpose, bool):
        raise TypeError(f"transpose must be a bool. Received: transpose={transpose!r}")
    options = ConvOptions(stride=stride, padding=padding, dilation=dilation, groups=groups, output_padding=output_padding)
    return _cost(Kind.TRANSPOSED if transpose else Kind.FORWARD, options, input_shape, weight_shape, bias)


def _cost(kind: Kind, options: ConvOptions, input_shape: Sequence[int], weight_shape: Sequence[int],
          bias: bool) -> ConvCost:
    """The plan of these shapes (the convolutions' own rules) and what it costs."""
    w_shape = _shape(weight_shape, "weight_shape")
    plan = make_plan(kind, options.validated(kind), _shape(input_shape, "input_shape"), w_shape, None,
                     ("input_shape", "weight_shape"))
    params = math.prod(w_shape) + (plan.out_channels if bias else 0)
    return ConvCost(output_shape=plan.output_shape, params=params, macs=plan.macs, flops=2 * plan.macs)


def conv2d_cost(
    input_shape: Sequence[int],
    weight_shape: Sequence[int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: PaddingArg = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    bias: bool = True,
) -> ConvCost:
    """Output shape, parameter count and arithmetic cost of :func:`xpconv.conv2d`.

    Uses the same option rules and output-shape rule as :func:`xpconv.conv2d`.

    Parameters
    ----------
    input_shape : tuple of int
        ``(C_in, H, W)`` or ``(N, C_in, H, W)``.
    weight_shape : tuple of int
        ``(C_out, C_in/groups, kH, kW)``.
    stride, padding, dilation, groups
        As in :func:`xpconv.conv2d`.
    bias : bool, optional
        Whether a bias of shape ``(C_out,)`` is counted in ``params``.

    Examples
    --------
    >>> conv2d_cost((128, 256, 256), (128, 128, 5, 5), padding="same").flops
    53687091200
    """
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be a bool. Received: bias={bias!r}")
    options = ConvOptions(stride=stride, padding=padding, dilation=dilation, groups=groups, data_format="NCHW")
    return _cost(Kind.FORWARD, options, input_shape, weight_shape, bias)
