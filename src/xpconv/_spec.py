"""Argument normalization, validation and the output-shape rule.

Everything here works on plain Python values and shapes, never on arrays, so that
:func:`xpconv.conv2d`, the chapter's functions and :func:`xpconv.conv2d_cost` share one
set of rules and one set of error messages. Every check happens before any arithmetic.
"""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass
from typing import Literal, NamedTuple

Pair = tuple[int, int]
ExplicitPadding = tuple[Pair, Pair]
PaddingArg = str | int | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]]
DataFormat = Literal["NCHW", "NHWC"]

DATA_FORMATS = ("NCHW", "NHWC")
PADDING_STRINGS = ("valid", "same")


def _int(value: object, name: str, expected: str) -> int:
    """``value`` as a Python int; bools, floats and strings are refused."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be {expected}. Received: {name}={value!r}")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be {expected}. Received: {name}={value!r}") from None


def to_pair(value: object, name: str, *, minimum: int) -> Pair:
    """Normalize an int or a pair of ints, each at least ``minimum``."""
    bound = "positive" if minimum == 1 else "non-negative"
    expected = f"a {bound} int or a pair of {bound} ints"
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be {expected}. Received: {name}={value!r}")
        pair = (_int(value[0], name, expected), _int(value[1], name, expected))
    else:
        single = _int(value, name, expected)
        pair = (single, single)
    if min(pair) < minimum:
        raise ValueError(f"{name} must be {expected}. Received: {name}={value!r}")
    return pair


def normalize_padding(padding: object) -> str | ExplicitPadding:
    """``"valid"``, ``"same"`` or explicit ``((top, bottom), (left, right))``."""
    if isinstance(padding, str):
        lowered = padding.lower()
        if lowered not in PADDING_STRINGS:
            raise ValueError(
                "padding must be 'valid', 'same', a non-negative int, a pair or "
                f"((top, bottom), (left, right)). Received: padding={padding!r}"
            )
        return lowered
    if (
        isinstance(padding, (tuple, list))
        and len(padding) == 2
        and all(isinstance(p, (tuple, list)) for p in padding)
    ):
        rows = to_pair(padding[0], "padding", minimum=0)
        cols = to_pair(padding[1], "padding", minimum=0)
        return (rows, cols)
    ph, pw = to_pair(padding, "padding", minimum=0)
    return ((ph, ph), (pw, pw))


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> Pair:
    """TensorFlow's and JAX's "same" rule; the odd pixel goes to the end."""
    total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return (total // 2, total - total // 2)


def output_size(size: int, kernel: int, stride: int, dilation: int, pad: Pair) -> int:
    """The one output-size rule: ``floor((n + p0 + p1 - d·(k-1) - 1) / s) + 1``."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


class ConvOptions(NamedTuple):
    """Normalized keyword options of a convolution, independent of any shape."""

    stride: Pair
    padding: str | ExplicitPadding
    dilation: Pair
    groups: int
    data_format: DataFormat


_SIMPLE: dict[tuple, ConvOptions] = {}


@functools.lru_cache(maxsize=1024)
def _options_cached(*key: object) -> ConvOptions:
    return _make_options(*(_unkey(k) for k in key))


def _make_options(stride, padding, dilation, groups, data_format) -> ConvOptions:
    if not isinstance(data_format, str) or data_format.upper() not in DATA_FORMATS:
        raise ValueError(
            f"data_format must be 'NCHW' or 'NHWC'. Received: data_format={data_format!r}"
        )
    groups_int = _int(groups, "groups", "a positive int")
    if groups_int < 1:
        raise ValueError(f"groups must be a positive int. Received: groups={groups!r}")
    return ConvOptions(
        stride=to_pair(stride, "stride", minimum=1),
        padding=normalize_padding(padding),
        dilation=to_pair(dilation, "dilation", minimum=1),
        groups=groups_int,
        data_format=data_format.upper(),  # type: ignore[arg-type]
    )


def _hashable(value: object) -> object:
    """A cache key that keeps types apart (``True`` and ``1`` hash alike, but must not meet)."""
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_hashable(v) for v in value))
    return (type(value), value)


def _unkey(key: object) -> object:
    kind, value = key  # type: ignore[misc]
    if kind in (list, tuple):
        return kind(_unkey(v) for v in value)
    return value


def make_options(stride, padding, dilation, groups, data_format) -> ConvOptions:
    """Normalize the keyword options; cached, so repeated calls cost a dict look-up."""
    if type(stride) is int and type(dilation) is int and type(groups) is int and type(padding) in (int, str):
        simple = (stride, padding, dilation, groups, data_format)  # exact ints: no bool can meet an int here
        options = _SIMPLE.get(simple)
        if options is None:
            options = _SIMPLE[simple] = _make_options(*simple)
        return options
    key = tuple(_hashable(v) for v in (stride, padding, dilation, groups, data_format))
    try:
        return _options_cached(*key)
    except TypeError as error:  # unhashable argument: validate uncached for the message
        if "unhashable" not in str(error):
            raise
        return _make_options(stride, padding, dilation, groups, data_format)


@dataclass(frozen=True)
class ConvPlan:
    """Everything a kernel needs: options resolved against concrete shapes.

    Shapes are in the canonical NCHW order, batched, whatever the caller's layout.
    """

    batched: bool
    data_format: DataFormat
    batch: int
    in_channels: int
    in_hw: Pair
    out_channels: int
    kernel_hw: Pair
    stride: Pair
    dilation: Pair
    padding: ExplicitPadding
    groups: int
    out_hw: Pair

    @property
    def output_shape(self) -> tuple[int, ...]:
        """The output's shape in the caller's layout and batchedness."""
        c, (h, w) = self.out_channels, self.out_hw
        inner = (c, h, w) if self.data_format == "NCHW" else (h, w, c)
        return (self.batch, *inner) if self.batched else inner

    @property
    def reduction_length(self) -> int:
        """How many products are summed into each output element."""
        return (self.in_channels // self.groups) * self.kernel_hw[0] * self.kernel_hw[1]

    @property
    def macs(self) -> int:
        return self.batch * self.out_channels * self.out_hw[0] * self.out_hw[1] * self.reduction_length


def _describe(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


@functools.lru_cache(maxsize=1024)
def make_plan(
    options: ConvOptions,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    bias_shape: tuple[int, ...] | None,
    input_name: str = "x",
    weight_name: str = "weight",
) -> ConvPlan:
    """Check shapes against each other and resolve padding and output size."""
    layout = options.data_format
    layout_text = "(N, C_in, H, W) or (C_in, H, W)" if layout == "NCHW" else "(N, H, W, C_in) or (H, W, C_in)"
    if len(input_shape) not in (3, 4):
        raise ValueError(
            f"{input_name} must be a 3-D or 4-D array of shape {layout_text} for "
            f"data_format={layout!r}. Received: {input_name} with shape {_describe(input_shape)} "
            f"({len(input_shape)}-D)"
        )
    if len(weight_shape) != 4:
        raise ValueError(
            f"{weight_name} must be a 4-D array of shape (C_out, C_in/groups, kH, kW). "
            f"Received: {weight_name} with shape {_describe(weight_shape)} ({len(weight_shape)}-D)"
        )
    batched = len(input_shape) == 4
    full = input_shape if batched else (1, *input_shape)
    if layout == "NCHW":
        n, c_in, h, w = full
    else:
        n, h, w, c_in = full
    c_out, c_per_group, kh, kw = weight_shape
    for name, shape in ((input_name, input_shape), (weight_name, weight_shape)):
        if 0 in shape:
            raise ValueError(
                f"{name} must have no zero-sized dimension. Received: {name} with shape {_describe(shape)}"
            )
    groups = options.groups
    if c_in % groups:
        raise ValueError(
            f"groups must divide the number of input channels. Received: groups={groups}, "
            f"input channels={c_in}"
        )
    if c_out % groups:
        raise ValueError(
            f"groups must divide the number of output channels (weight.shape[0]). "
            f"Received: groups={groups}, output channels={c_out}"
        )
    if c_in // groups != c_per_group:
        raise ValueError(
            "The number of input channels must match the kernel's input channels "
            f"times groups (weight shape (C_out, C_in/groups, kH, kW)). Received: "
            f"input channels={c_in}, kernel input channels={c_per_group}, groups={groups}"
        )
    if bias_shape is not None and tuple(bias_shape) != (c_out,):
        raise ValueError(
            f"bias must be None or a 1-D array of shape (C_out,) = ({c_out},). "
            f"Received: bias with shape {_describe(bias_shape)}"
        )
    (sh, sw), (dh, dw) = options.stride, options.dilation
    if options.padding == "valid":
        padding: ExplicitPadding = ((0, 0), (0, 0))
    elif options.padding == "same":
        padding = (same_padding(h, kh, sh, dh), same_padding(w, kw, sw, dw))
    else:
        padding = options.padding  # type: ignore[assignment]
    (pt, pb), (pl, pr) = padding
    extent = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    if extent[0] > h + pt + pb or extent[1] > w + pl + pr:
        raise ValueError(
            f"The kernel must not be larger than the padded input. Received: kernel size "
            f"{kh}x{kw} (dilated extent {extent[0]}x{extent[1]}), padded input size "
            f"{h + pt + pb}x{w + pl + pr} ({input_name} {h}x{w}, padding {padding})"
        )
    out_hw = (output_size(h, kh, sh, dh, padding[0]), output_size(w, kw, sw, dw, padding[1]))
    return ConvPlan(
        batched=batched,
        data_format=layout,
        batch=n,
        in_channels=c_in,
        in_hw=(h, w),
        out_channels=c_out,
        kernel_hw=(kh, kw),
        stride=options.stride,
        dilation=options.dilation,
        padding=padding,
        groups=groups,
        out_hw=out_hw,
    )
