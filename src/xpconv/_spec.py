"""Argument normalization, validation and the output-shape rule.

Everything here works on plain Python values and shapes, never on arrays, so that
:func:`xpconv.conv2d`, the chapter's functions and :func:`xpconv.conv2d_cost` share one
set of rules and one set of error messages. Every check happens before any arithmetic.

Sizes may be symbolic: a ``torch.SymInt`` (``torch.export``, ``torch.compile(dynamic=True)``),
a JAX symbolic dimension (``jax.export``) or, for a TensorFlow dimension that is ``None`` at
trace time, a scalar tensor holding its run-time value. Only the channel counts and the
kernel's size must be plain ints. The output-shape rule is written in integer arithmetic that
all of these support, a check that needs a size is made when that size is an int (otherwise
the framework checks at run time), and nothing symbolic is ever hashed or cached.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from ._cache import LRUCache

Pair = tuple[int, int]
ExplicitPadding = tuple[Pair, Pair]
PaddingArg = str | int | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]]
DataFormat = Literal["NCHW", "NHWC"]

DATA_FORMATS = ("NCHW", "NHWC")
PADDING_STRINGS = ("valid", "same")


#: The largest stride, dilation, padding and padded spatial size (which bounds the dilated kernel
#: extent and the output): what the frameworks' own kernels index with 32-bit ints.
SIZE_LIMIT = 2**31 - 1


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
    if max(pair) > SIZE_LIMIT:
        raise ValueError(f"{name} must be at most 2**31 - 1 = {SIZE_LIMIT}. Received: {name}={value!r}")
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


def is_static(size: object) -> bool:
    """Whether ``size`` is a plain Python int (not a symbolic or unknown size)."""
    return type(size) is int


def same_padding(size: Any, kernel: int, stride: int, dilation: int, maximum: Callable[[Any, Any], Any] = max) -> tuple[Any, Any]:
    """TensorFlow's and JAX's "same" rule; the odd pixel goes to the end.

    The total is ``max((ceil(n/s) - 1)·s + e - n, 0)`` with ``e = d·(k-1) + 1``, in integer
    arithmetic that a symbolic ``n`` supports (``ceil(n/s) = (n + s - 1) // s``). When
    ``e >= s`` the total is never negative and no ``max`` is taken, and the padded size is
    ``(ceil(n/s) - 1)·s + e``, from which the output size simplifies to exactly ``ceil(n/s)``
    (symbolic shape checkers can then bound it). ``maximum`` is the framework's maximum for a
    symbolic ``n`` (only used when ``e < s``).
    """
    extent = dilation * (kernel - 1) + 1
    if extent == 1:
        return (0, 0)  # a 1-pixel window never pads (and stays a plain int for a symbolic size)
    total = ((size + stride - 1) // stride - 1) * stride + extent - size
    if extent < stride:
        total = max(total, 0) if is_static(size) else maximum(total, 0)
    return (total // 2, total - total // 2)


def output_size(size: Any, kernel: int, stride: int, dilation: int, pad: tuple[Any, Any]) -> Any:
    """The one output-size rule: ``floor((n + p0 + p1 - d·(k-1) - 1) / s) + 1`` (symbolic-safe)."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


class ConvOptions(NamedTuple):
    """Normalized keyword options of a convolution, independent of any shape."""

    stride: Pair
    padding: str | ExplicitPadding
    dilation: Pair
    groups: int
    data_format: DataFormat


_SIMPLE: LRUCache[ConvOptions] = LRUCache(1024)
_TYPED: LRUCache[ConvOptions] = LRUCache(1024)


def _make_options(stride, padding, dilation, groups, data_format) -> ConvOptions:
    if not isinstance(data_format, str):
        raise TypeError(f"data_format must be the string 'NCHW' or 'NHWC'. Received: data_format={data_format!r}")
    if data_format.upper() not in DATA_FORMATS:
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


_PLAIN = (int, bool, str, float, type(None))


def _hashable(value: object) -> object:
    """A cache key that keeps types apart (``True`` and ``1`` hash alike, but must not meet).

    Only plain Python values are keys: anything else (a NumPy int, a 0-d tensor, which hashes
    by identity and can change in place) raises ``TypeError``, and the options are then
    validated without the cache."""
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_hashable(v) for v in value))
    if type(value) not in _PLAIN:
        raise TypeError(f"not a plain value: {type(value).__name__}")
    return (type(value), value)


def make_options(stride, padding, dilation, groups, data_format, *, cache: bool = True) -> ConvOptions:
    """Normalize the keyword options; cached, so repeated calls cost a dict look-up.

    ``cache=False`` (while a framework traces: ``torch.compile`` guards on what a global cache
    holds, so a miss now and a hit later would recompile) neither reads nor writes the cache.
    """
    values = (stride, padding, dilation, groups, data_format)
    if not cache:
        return _make_options(*values)
    if type(stride) is int and type(dilation) is int and type(groups) is int and type(padding) in (int, str) \
            and type(data_format) is str:
        options = _SIMPLE.get(values)  # exact ints and strings: no bool can meet an int here
        if options is None:
            options = _make_options(*values)
            _SIMPLE.put(values, options)
        return options
    try:
        key = tuple(_hashable(v) for v in values)
        hash(key)
    except TypeError:  # unhashable argument (a list of lists, a dict...): validate uncached
        return _make_options(*values)
    options = _TYPED.get(key)
    if options is None:
        options = _make_options(*values)
        _TYPED.put(key, options)
    return options


@dataclass(frozen=True)
class ConvPlan:
    """Everything a kernel needs: options resolved against concrete shapes.

    Shapes are in the canonical NCHW order, batched, whatever the caller's layout. The
    channel counts and the kernel's size are ints; the batch, the spatial sizes, "same"
    padding amounts and the output size may be symbolic (see :attr:`static`).
    """

    batched: bool
    data_format: DataFormat
    batch: Any
    in_channels: int
    in_hw: tuple[Any, Any]
    out_channels: int
    kernel_hw: Pair
    stride: Pair
    dilation: Pair
    padding: tuple[tuple[Any, Any], tuple[Any, Any]]
    groups: int
    out_hw: tuple[Any, Any]
    #: Whether the caller asked for ``padding="same"`` (natives may then pass their own "SAME").
    same: bool = False
    #: Every size is a plain int (nothing symbolic or unknown): kernels may branch on sizes.
    static: bool = True
    #: The spatial sizes, padding and output size are plain ints (the batch may not be); False
    #: also for a plan made while a framework traced with sizes that look like ints (torch.compile).
    spatial_static: bool = True

    @property
    def native_same(self) -> bool:
        """"same" padding whose amounts are not plain ints: natives pass their own "SAME" rule
        (TensorFlow's and XLA's, which is xpconv's), resolved when the sizes are known."""
        return self.same and not self.spatial_static

    @property
    def is_depthwise(self) -> bool:
        """One input channel per group (``groups == C_in > 1``), any depth multiplier."""
        return self.groups > 1 and self.groups == self.in_channels

    @property
    def is_pointwise(self) -> bool:
        """A 1×1 kernel without groups."""
        return self.kernel_hw == (1, 1) and self.groups == 1

    @property
    def depth_multiplier(self) -> int:
        """Output channels per group."""
        return self.out_channels // self.groups

    @property
    def output_shape(self) -> tuple[Any, ...]:
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


def _dim_text(size: object) -> str:
    if is_static(size):
        return str(size)
    if isinstance(size, float):  # NaN: an unknown chunk size of a lazy library
        return "nan"
    kind = type(size).__name__
    return str(size) if kind in ("SymInt", "_DimExpr", "DimExpr") else "None"


def _describe(shape: tuple[Any, ...]) -> str:
    texts = [_dim_text(d) for d in shape]
    return "(" + ", ".join(texts) + ("," if len(texts) == 1 else "") + ")"


_PLANS: LRUCache[ConvPlan] = LRUCache(1024)


def make_plan(
    options: ConvOptions,
    input_shape: tuple[Any, ...],
    weight_shape: tuple[Any, ...],
    bias_shape: tuple[Any, ...] | None,
    input_name: str = "x",
    weight_name: str = "weight",
    *,
    maximum: Callable[[Any, Any], Any] = max,
    traced: bool = False,
) -> ConvPlan:
    """Check shapes against each other and resolve padding and output size.

    ``input_shape`` may hold symbolic sizes for the batch and spatial axes (see the module's
    docstring); ``maximum`` is the framework's maximum for them. ``traced``: the framework is
    tracing, and sizes that look like ints may be symbolic. Plans of all-int shapes are cached
    (LRU); others are made anew on every call and never hashed.
    """
    input_shape, weight_shape = tuple(input_shape), tuple(weight_shape)
    key = None
    if not traced and all(is_static(d) for d in input_shape) and all(is_static(d) for d in weight_shape) and (bias_shape is None or all(is_static(d) for d in bias_shape)):
        key = (options, input_shape, weight_shape, None if bias_shape is None else tuple(bias_shape), input_name, weight_name)
        plan = _PLANS.get(key)
        if plan is not None:
            return plan
    plan = _make_plan(options, input_shape, weight_shape, bias_shape, input_name, weight_name, maximum, traced)
    if key is not None:
        _PLANS.put(key, plan)
    return plan


def _make_plan(options, input_shape, weight_shape, bias_shape, input_name, weight_name, maximum, traced) -> ConvPlan:
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
    for name, shape in ((input_name, input_shape), (weight_name, weight_shape)):
        if any(isinstance(d, float) for d in shape):
            raise ValueError(
                f"{name} must have known sizes. Received: {name} with shape {_describe(shape)}; "
                "for a lazy array with unknown (NaN) chunk sizes, call compute_chunk_sizes() first"
            )
    batched = len(input_shape) == 4
    full = input_shape if batched else (1, *input_shape)
    if layout == "NCHW":
        n, c_in, h, w = full
    else:
        n, h, w, c_in = full
    if not is_static(c_in):
        raise ValueError(
            f"{input_name} must have a known number of channels (only the batch and spatial sizes may be "
            f"unknown or symbolic). Received: {input_name} with shape {_describe(input_shape)} for "
            f"data_format={layout!r}"
        )
    if not all(is_static(d) for d in weight_shape):
        raise ValueError(
            f"{weight_name} must have a known (static) shape. Received: {weight_name} with shape "
            f"{_describe(weight_shape)}"
        )
    c_out, c_per_group, kh, kw = weight_shape
    checked = ((input_name, input_shape[1:] if batched else input_shape, input_shape), (weight_name, weight_shape, weight_shape))
    for name, sizes, shape in checked:
        if any(is_static(d) and d == 0 for d in sizes):  # a batch of 0 is allowed: an empty result
            raise ValueError(
                f"{name} must have no zero-sized dimension. Received: {name} with shape {_describe(shape)}"
            )
    groups = options.groups
    other_layout, other_c_in = ("NHWC", full[3]) if layout == "NCHW" else ("NCHW", full[1])
    hint = ""
    if is_static(other_c_in) and other_c_in % groups == 0 and other_c_in // groups == c_per_group:
        hint = f"; did you mean data_format={other_layout!r}?"
    if c_in % groups:
        raise ValueError(
            f"groups must divide the number of input channels. Received: groups={groups}, "
            f"input channels={c_in}{hint}"
        )
    if c_out % groups:
        raise ValueError(
            f"groups must divide the number of output channels (weight.shape[0]). "
            f"Received: groups={groups}, output channels={c_out}"
        )
    if c_in // groups != c_per_group:
        if weight_name == "weight":
            raise ValueError(
                "The number of input channels must match the kernel's input channels "
                f"times groups (weight shape (C_out, C_in/groups, kH, kW)). Received: "
                f"input channels={c_in}, kernel input channels={c_per_group}, groups={groups}{hint}"
            )
        raise ValueError(  # the chapter's functions: their own names, no groups
            f"The number of input channels of {input_name} must match the input channels of {weight_name} "
            f"({weight_name} shape (C_out, C_in, kH, kW)). Received: {input_name} with {c_in} input channels, "
            f"{weight_name} with {c_per_group}"
        )
    if bias_shape is not None and (len(bias_shape) != 1 or (is_static(bias_shape[0]) and bias_shape[0] != c_out)):
        raise ValueError(
            f"bias must be None or a 1-D array of shape (C_out,) = ({c_out},). "
            f"Received: bias with shape {_describe(tuple(bias_shape))}"
        )
    (sh, sw), (dh, dw) = options.stride, options.dilation
    if options.padding == "valid":
        padding = ((0, 0), (0, 0))
    elif options.padding == "same":
        padding = (same_padding(h, kh, sh, dh, maximum), same_padding(w, kw, sw, dw, maximum))
    else:
        padding = options.padding  # type: ignore[assignment]
    (pt, pb), (pl, pr) = padding
    extent = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    # with a symbolic size the framework checks at run time ("same" always fits)
    if not traced and all(is_static(v) for v in (h, w, pt, pb, pl, pr)):
        if extent[0] > h + pt + pb or extent[1] > w + pl + pr:
            raise ValueError(
                f"The kernel must not be larger than the padded input. Received: kernel size "
                f"{kh}x{kw} (dilated extent {extent[0]}x{extent[1]}), padded input size "
                f"{h + pt + pb}x{w + pl + pr} ({input_name} {h}x{w}, padding {padding}, dilation {options.dilation})"
            )
    out_hw = (output_size(h, kh, sh, dh, padding[0]), output_size(w, kw, sw, dw, padding[1]))
    if not traced:
        # the dilated kernel extent and the output are never larger than the padded input
        padded = (h + pt + pb, w + pl + pr)
        if any(is_static(v) and v > SIZE_LIMIT for v in padded):
            raise ValueError(
                "The padded input size must be below 2**31 along each axis (the frameworks index with 32-bit "
                f"ints). Received: padded input size {'x'.join(_dim_text(v) for v in padded)} from {input_name} "
                f"{_dim_text(h)}x{_dim_text(w)}, padding {padding}"
            )
    spatial_static = not traced and all(is_static(v) for v in (h, w, *out_hw, pt, pb, pl, pr))
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
        same=options.padding == "same",
        static=spatial_static and is_static(n),
        spatial_static=spatial_static,
    )
