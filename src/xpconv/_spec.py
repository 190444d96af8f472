"""Argument normalization, validation and the output-shape rule, for any number of spatial axes.

Everything here works on plain Python values and shapes, never on arrays, so that
:func:`xpconv.conv`, :func:`xpconv.conv_transpose`, the chapter's functions and
:func:`xpconv.conv_cost` share one set of rules and one set of error messages. Every check
happens before any arithmetic. The number of spatial axes (1, 2 or 3) comes from the weight.

Sizes may be symbolic: a ``torch.SymInt`` (``torch.export``, ``torch.compile(dynamic=True)``),
a JAX symbolic dimension (``jax.export``) or, for a TensorFlow dimension that is ``None`` at
trace time, a scalar tensor holding its run-time value. Only the channel counts and the
kernel's size must be plain ints. The output-shape rule is written in integer arithmetic that
all of these support, a check that needs a size is made when that size is an int (otherwise
the framework checks at run time), and nothing symbolic is ever hashed or cached.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ._cache import LRUCache

Pair = tuple[int, int]
PaddingArg = str | int | tuple[int, ...] | tuple[tuple[int, int], ...]

PADDING_STRINGS = ("valid", "same")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
#: Explicit layout spellings by rank: (channels first, channels last).
LAYOUTS = {1: ("NCW", "NWC"), 2: ("NCHW", "NHWC"), 3: ("NCDHW", "NDHWC")}
_EXPLICIT = {name: (rank, name.index("C") != 1) for rank, names in LAYOUTS.items() for name in names}
DATA_FORMATS = ("channels_first", "channels_last", *_EXPLICIT)
_AXES = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}

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


def _ints(value: object, name: str, minimum: int) -> int | tuple[int, ...]:
    """An int, or a tuple of ints (one per spatial axis; its length is checked by the plan)."""
    bound = "positive" if minimum == 1 else "non-negative"
    expected = f"a {bound} int or one {bound} int per spatial axis"
    if isinstance(value, (tuple, list)):
        if not 1 <= len(value) <= 3:
            raise ValueError(f"{name} must be {expected}. Received: {name}={value!r}")
        values: tuple[int, ...] = tuple(_int(v, name, expected) for v in value)
    else:
        values = (_int(value, name, expected),)
    if min(values) < minimum:
        raise ValueError(f"{name} must be {expected}. Received: {name}={value!r}")
    if max(values) > SIZE_LIMIT:
        raise ValueError(f"{name} must be at most 2**31 - 1 = {SIZE_LIMIT}. Received: {name}={value!r}")
    return values[0] if not isinstance(value, (tuple, list)) else values


def to_pair(value: object, name: str, *, minimum: int) -> Pair:
    """Normalize an int or a pair of ints, each at least ``minimum`` (``param_count``'s kernel size)."""
    values = _ints(value, name, minimum)
    if isinstance(values, int):
        return (values, values)
    if len(values) != 2:
        bound = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name} must be a {bound} int or a pair of {bound} ints. Received: {name}={value!r}")
    return values  # type: ignore[return-value]


_PADDING_TEXT = ("padding must be 'valid', 'same', a non-negative int, one int per spatial axis or one "
                 "(before, after) pair per spatial axis")


def normalize_padding(padding: object) -> str | int | tuple[int, ...] | tuple[Pair, ...]:
    """``"valid"``, ``"same"``, an int, per-axis ints, or explicit ``((before, after), ...)``."""
    if isinstance(padding, str):
        lowered = padding.lower()
        if lowered not in PADDING_STRINGS:
            raise ValueError(f"{_PADDING_TEXT}. Received: padding={padding!r}")
        return lowered
    if isinstance(padding, (tuple, list)) and padding and all(isinstance(p, (tuple, list)) for p in padding):
        if len(padding) > 3:
            raise ValueError(f"{_PADDING_TEXT}. Received: padding={padding!r}")
        pairs = []
        for pair in padding:
            if len(pair) != 2:
                raise ValueError(f"{_PADDING_TEXT}. Received: padding={padding!r}")
            pairs.append(tuple(_ints(tuple(pair), "padding", 0)))  # type: ignore[arg-type]
        return tuple(pairs)  # type: ignore[return-value]
    if isinstance(padding, (tuple, list)) and any(isinstance(p, (tuple, list)) for p in padding):
        raise ValueError(f"{_PADDING_TEXT}. Received: padding={padding!r}")
    return _ints(padding, "padding", 0)


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


def transposed_size(size: Any, kernel: int, stride: int, dilation: int, pad: tuple[int, int], extra: int) -> Any:
    """The transposed rule: ``(n-1)·s - p0 - p1 + d·(k-1) + output_padding + 1``."""
    return (size - 1) * stride - pad[0] - pad[1] + dilation * (kernel - 1) + extra + 1


class ConvOptions(NamedTuple):
    """Normalized keyword options of a convolution, independent of any shape (and of the rank:
    an int stands for every axis)."""

    stride: int | tuple[int, ...]
    padding: str | int | tuple[int, ...] | tuple[Pair, ...]
    dilation: int | tuple[int, ...]
    groups: int
    data_format: str
    padding_mode: str = "zeros"
    output_padding: int | tuple[int, ...] = 0
    transposed: bool = False


_SIMPLE: LRUCache[ConvOptions] = LRUCache(1024)
_TYPED: LRUCache[ConvOptions] = LRUCache(1024)


def _layout(data_format: object) -> str:
    if not isinstance(data_format, str):
        raise TypeError(f"data_format must be one of {DATA_FORMATS}. Received: data_format={data_format!r}")
    lowered = data_format.lower()
    if lowered in ("channels_first", "channels_last"):
        return lowered
    if data_format.upper() in _EXPLICIT:
        return data_format.upper()
    raise ValueError(f"data_format must be one of {DATA_FORMATS}. Received: data_format={data_format!r}")


def _make_options(stride, padding, dilation, groups, data_format, padding_mode="zeros", output_padding=0,
                  transposed=False) -> ConvOptions:
    layout = _layout(data_format)
    groups_int = _int(groups, "groups", "a positive int")
    if groups_int < 1:
        raise ValueError(f"groups must be a positive int. Received: groups={groups!r}")
    if not isinstance(padding_mode, str) or padding_mode not in PADDING_MODES:
        raise (TypeError if not isinstance(padding_mode, str) else ValueError)(
            f"padding_mode must be one of {PADDING_MODES}. Received: padding_mode={padding_mode!r}"
        )
    if transposed and padding_mode != "zeros":
        raise ValueError(f"padding_mode must be 'zeros' for a transposed convolution. Received: padding_mode={padding_mode!r}")
    options = ConvOptions(
        stride=_ints(stride, "stride", 1),
        padding=normalize_padding(padding),
        dilation=_ints(dilation, "dilation", 1),
        groups=groups_int,
        data_format=layout,
        padding_mode=padding_mode,
        output_padding=_ints(output_padding, "output_padding", 0),
        transposed=bool(transposed),
    )
    if transposed and isinstance(options.padding, str) and options.output_padding not in (0, (0,), (0, 0), (0, 0, 0)):
        raise ValueError(
            "output_padding must be 0 with padding='valid' or 'same' (which fix the output size: i·s for 'same'); "
            f"give the padding as ints to choose it. Received: padding={padding!r}, output_padding={output_padding!r}"
        )
    return options


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


def make_options(stride, padding, dilation, groups, data_format, padding_mode="zeros", output_padding=0,
                 transposed=False, *, cache: bool = True) -> ConvOptions:
    """Normalize the keyword options; cached, so repeated calls cost a dict look-up.

    ``cache=False`` (while a framework traces: ``torch.compile`` guards on what a global cache
    holds, so a miss now and a hit later would recompile) neither reads nor writes the cache.
    """
    values = (stride, padding, dilation, groups, data_format, padding_mode, output_padding, transposed)
    if not cache:
        return _make_options(*values)
    if type(stride) is int and type(dilation) is int and type(groups) is int and type(padding) in (int, str) \
            and type(data_format) is str and type(padding_mode) is str and type(output_padding) is int \
            and type(transposed) is bool:
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


class Requirement(NamedTuple):
    """A check that needs a size known only at run time: ``lhs >= rhs`` must hold, else
    ``ValueError(message)``. Made by the plan where a size is symbolic; a backend checks it
    when the framework knows the size (:meth:`xpconv.backends.Backend.require`). The message
    formats no size that may be symbolic (that could fix it while a framework traces)."""

    lhs: Any
    rhs: Any
    message: str


@dataclass(frozen=True)
class ConvPlan:
    """Everything a kernel needs: options resolved against concrete shapes, for ``rank`` spatial axes.

    Shapes are batched (an unbatched input has ``batch == 1`` and :attr:`batched` False: the
    batch axis is added and removed once, around the kernel) and listed channels first,
    whatever the caller's layout (:attr:`channels_last`). The channel counts and the kernel's
    size are ints; the batch, the spatial sizes, "same" padding amounts and the output size
    may be symbolic (see :attr:`static`). For a transposed plan, :attr:`padding` is what is
    cropped from the full output and :attr:`output_padding` what is added at its end.
    """

    batched: bool
    channels_last: bool
    batch: Any
    in_channels: int
    in_size: tuple[Any, ...]
    out_channels: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[Any, Any], ...]
    groups: int
    out_size: tuple[Any, ...]
    padding_mode: str = "zeros"
    transposed: bool = False
    output_padding: tuple[int, ...] = ()
    #: Whether the caller asked for ``padding="same"`` (natives may then pass their own "SAME").
    same: bool = False
    #: Every size is a plain int (nothing symbolic or unknown): kernels may branch on sizes.
    static: bool = True
    #: The spatial sizes, padding and output size are plain ints (the batch may not be); False
    #: also for a plan made while a framework traced with sizes that look like ints (torch.compile).
    spatial_static: bool = True
    #: Checks left for run time: sizes a framework knows only then (see :class:`Requirement`).
    requirements: tuple[Requirement, ...] = ()

    @property
    def rank(self) -> int:
        """The number of spatial axes."""
        return len(self.kernel)

    @property
    def batch_static(self) -> bool:
        """Whether the batch size is a plain int (not symbolic or unknown)."""
        return is_static(self.batch)

    @property
    def native_same(self) -> bool:
        """"same" padding whose amounts are not plain ints: natives pass their own "SAME" rule
        (TensorFlow's and XLA's, which is xpconv's), resolved when the sizes are known."""
        return self.same and not self.spatial_static and not self.transposed

    @property
    def zero_padded(self) -> bool:
        """No padding, or zeros: what every native convolution pads with."""
        return self.padding_mode == "zeros" or all(is_static(p) and p == 0 for pair in self.padding for p in pair)

    @property
    def is_depthwise(self) -> bool:
        """One input channel per group (``groups == C_in > 1``), any depth multiplier."""
        return self.groups > 1 and self.groups == self.in_channels

    @property
    def is_pointwise(self) -> bool:
        """A 1×…×1 kernel without groups."""
        return all(k == 1 for k in self.kernel) and self.groups == 1

    @property
    def depth_multiplier(self) -> int:
        """Output channels per group."""
        return self.out_channels // self.groups

    @property
    def taps(self) -> int:
        """Kernel positions: ``prod(kernel)``."""
        return math.prod(self.kernel)

    @property
    def output_shape(self) -> tuple[Any, ...]:
        """The output's shape in the caller's layout and batchedness."""
        c, sizes = self.out_channels, self.out_size
        inner = (*sizes, c) if self.channels_last else (c, *sizes)
        return (self.batch, *inner) if self.batched else inner

    @property
    def batched_input_shape(self) -> tuple[Any, ...]:
        """The input's shape with its batch axis, in the caller's layout (what kernels receive)."""
        c, sizes = self.in_channels, self.in_size
        return (self.batch, *sizes, c) if self.channels_last else (self.batch, c, *sizes)

    @property
    def batched_output_shape(self) -> tuple[Any, ...]:
        c, sizes = self.out_channels, self.out_size
        return (self.batch, *sizes, c) if self.channels_last else (self.batch, c, *sizes)

    @property
    def reduction_length(self) -> int:
        """How many products are summed into each output element (of a forward convolution;
        for a transposed one, the forward convolution it is the gradient of)."""
        per_group = (self.out_channels if self.transposed else self.in_channels) // self.groups
        return per_group * self.taps

    @property
    def macs(self) -> int:
        """Multiply-accumulates; a transposed convolution costs what its forward twin costs."""
        if self.transposed:
            return self.batch * self.in_channels * math.prod(self.in_size) * self.reduction_length
        return self.batch * self.out_channels * math.prod(self.out_size) * self.reduction_length

    def with_unit_axis(self) -> ConvPlan:
        """This 1-D plan as a 2-D one with a leading unit spatial axis (for 2-D-only kernels)."""
        return dataclasses.replace(
            self, in_size=(1, *self.in_size), kernel=(1, *self.kernel), stride=(1, *self.stride),
            dilation=(1, *self.dilation), padding=((0, 0), *self.padding), out_size=(1, *self.out_size),
            output_padding=(0, *self.output_padding) if self.output_padding else (),
        )


def _dim_text(size: object) -> str:
    if is_static(size):
        return str(size)
    if isinstance(size, float):  # NaN: an unknown chunk size of a lazy library
        return "nan"
    kind = type(size).__name__
    return str(size) if kind in ("SymInt", "_DimExpr", "DimExpr") else "None"


def _run_time_text(name: str, shape: tuple[Any, ...], traced: bool) -> str:
    """How a message made for a run-time check describes the input's sizes: while torch traces,
    formatting a size would fix it, so none is shown."""
    if traced:
        return f"sizes of {name} known only at run time"
    return f"known only at run time; {name} shape {_describe(shape)}"


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


def _per_axis(value: int | tuple[int, ...], rank: int, name: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        raise ValueError(
            f"{name} must be an int or {rank} int{'s' if rank > 1 else ''} (one per spatial axis) for a {rank}-D convolution. "
            f"Received: {name}={value!r}"
        )
    return value


def _explicit_padding(padding: Any, rank: int) -> tuple[Pair, ...]:
    if isinstance(padding, int):
        return ((padding, padding),) * rank
    if isinstance(padding[0], int):
        return tuple((p, p) for p in _per_axis(padding, rank, "padding"))
    if len(padding) != rank:
        raise ValueError(
            f"padding must have one (before, after) pair per spatial axis: {rank} for a {rank}-D convolution. "
            f"Received: padding={padding!r}"
        )
    return padding


def _shape_texts(rank: int, channels_last: bool, transposed: bool) -> tuple[str, str]:
    axes = ", ".join(_AXES[rank])
    inner = f"{axes}, C_in" if channels_last else f"C_in, {axes}"
    kernel = ", ".join(f"k{a}" for a in _AXES[rank])
    weight = f"(C_in, C_out/groups, {kernel})" if transposed else f"(C_out, C_in/groups, {kernel})"
    return f"(N, {inner}) or ({inner})", weight


def _make_plan(options, input_shape, weight_shape, bias_shape, input_name, weight_name, maximum, traced) -> ConvPlan:
    layout, transposed = options.data_format, options.transposed
    for name, shape in ((input_name, input_shape), (weight_name, weight_shape)):
        if any(isinstance(d, float) for d in shape):
            raise ValueError(
                f"{name} must have known sizes. Received: {name} with shape {_describe(shape)}; "
                "for a lazy array with unknown (NaN) chunk sizes, call compute_chunk_sizes() first"
            )
    rank = len(weight_shape) - 2
    if layout in _EXPLICIT:
        wanted, channels_last = _EXPLICIT[layout]
        if rank != wanted:
            raise ValueError(
                f"{weight_name} must be a {wanted + 2}-D array for data_format={layout!r} (a {wanted}-D "
                f"convolution). Received: {weight_name} with shape {_describe(weight_shape)} ({len(weight_shape)}-D)"
            )
    else:
        channels_last = layout == "channels_last"
        if rank not in (1, 2, 3):
            raise ValueError(
                f"{weight_name} must be a 3-D, 4-D or 5-D array of shape (C_out, C_in/groups, *kernel) "
                f"(1, 2 or 3 spatial axes). Received: {weight_name} with shape {_describe(weight_shape)} "
                f"({len(weight_shape)}-D)"
            )
    x_text, w_text = _shape_texts(rank, channels_last, transposed)
    if len(input_shape) not in (rank + 1, rank + 2):
        raise ValueError(
            f"{input_name} must be a {rank + 1}-D or {rank + 2}-D array of shape {x_text} for "
            f"data_format={layout!r} and a {rank}-D {weight_name}. Received: {input_name} with shape "
            f"{_describe(input_shape)} ({len(input_shape)}-D)"
        )
    batched = len(input_shape) == rank + 2
    full = input_shape if batched else (1, *input_shape)
    n, c_in = full[0], full[-1] if channels_last else full[1]
    sizes = tuple(full[1:-1] if channels_last else full[2:])
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
    checked = ((input_name, input_shape[1:] if batched else input_shape, input_shape), (weight_name, weight_shape, weight_shape))
    for name, dims, shape in checked:
        if any(is_static(d) and d == 0 for d in dims):  # a batch of 0 is allowed: an empty result
            raise ValueError(
                f"{name} must have no zero-sized dimension. Received: {name} with shape {_describe(shape)}"
            )
    groups = options.groups
    kernel = tuple(weight_shape[2:])
    if transposed:
        w_in, c_out = weight_shape[0], weight_shape[1] * groups
        c_per_group = w_in // groups
    else:
        c_out, c_per_group = weight_shape[0], weight_shape[1]
    other = full[1] if channels_last else full[-1]
    hint = ""
    if is_static(other) and other % groups == 0 and (other == weight_shape[0] if transposed else other // groups == c_per_group):
        other_name = LAYOUTS[rank][not channels_last]
        hint = f"; did you mean data_format={other_name!r}?"
    if c_in % groups:
        raise ValueError(
            f"groups must divide the number of input channels. Received: groups={groups}, "
            f"input channels={c_in}{hint}"
        )
    if transposed:
        if w_in % groups:
            raise ValueError(
                f"groups must divide {weight_name}.shape[0] (the input channels, weight shape {w_text}). "
                f"Received: groups={groups}, {weight_name}.shape[0]={w_in}"
            )
        if c_in != w_in:
            raise ValueError(
                f"The number of input channels must match {weight_name}.shape[0] (weight shape {w_text}). "
                f"Received: input channels={c_in}, {weight_name}.shape[0]={w_in}, groups={groups}{hint}"
            )
    else:
        if c_out % groups:
            raise ValueError(
                f"groups must divide the number of output channels ({weight_name}.shape[0]). "
                f"Received: groups={groups}, output channels={c_out}"
            )
        if c_in // groups != c_per_group:
            if weight_name == "weight":
                raise ValueError(
                    "The number of input channels must match the kernel's input channels "
                    f"times groups (weight shape {w_text}). Received: "
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
    stride = _per_axis(options.stride, rank, "stride")
    dilation = _per_axis(options.dilation, rank, "dilation")
    extents = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if transposed:
        padding, extra, out_size, spatial_static, requirements = _transposed_geometry(
            options, sizes, kernel, stride, dilation, extents, input_name, input_shape, traced)
    else:
        padding, out_size, spatial_static, requirements = _forward_geometry(
            options, sizes, kernel, stride, dilation, extents, input_shape, input_name, maximum, traced)
        extra = ()
    return ConvPlan(
        batched=batched,
        channels_last=channels_last,
        batch=n,
        in_channels=c_in,
        in_size=sizes,
        out_channels=c_out,
        kernel=kernel,
        stride=stride,
        dilation=dilation,
        padding=padding,
        groups=groups,
        out_size=out_size,
        padding_mode=options.padding_mode,
        transposed=transposed,
        output_padding=extra,
        same=options.padding == "same",
        static=spatial_static and is_static(n),
        spatial_static=spatial_static,
        requirements=requirements,
    )


def _forward_geometry(options, sizes, kernel, stride, dilation, extents, input_shape, input_name, maximum,
                      traced) -> tuple[tuple[tuple[Any, Any], ...], tuple[Any, ...], bool, tuple[Requirement, ...]]:
    """Padding, output size, whether both are plain ints, and the checks left for run time, for a
    forward convolution."""
    rank = len(kernel)
    if options.padding == "valid":
        padding = ((0, 0),) * rank
    elif options.padding == "same":
        padding = tuple(same_padding(h, k, s, d, maximum) for h, k, s, d in zip(sizes, kernel, stride, dilation))
    else:
        padding = _explicit_padding(options.padding, rank)
    mode = options.padding_mode
    known = not traced and all(is_static(v) for v in (*sizes, *(p for pair in padding for p in pair)))
    requirements: list[Requirement] = []
    shape_text = _run_time_text(input_name, input_shape, traced)
    if known:
        padded = tuple(h + a + b for h, (a, b) in zip(sizes, padding))
        if any(e > p for e, p in zip(extents, padded)):
            raise ValueError(
                f"The kernel must not be larger than the padded input. Received: kernel size "
                f"{'x'.join(map(str, kernel))} (dilated extent {'x'.join(map(str, extents))}), padded input size "
                f"{'x'.join(map(str, padded))} ({input_name} {'x'.join(map(str, sizes))}, padding {padding}, "
                f"dilation {dilation})"
            )
        if any(p > SIZE_LIMIT for p in padded):
            raise ValueError(
                "The padded input size must be below 2**31 along each axis (the frameworks index with 32-bit "
                f"ints). Received: padded input size {'x'.join(map(str, padded))} from {input_name} "
                f"{'x'.join(map(str, sizes))}, padding {padding}"
            )
    elif options.padding != "same":  # "same" always fits; otherwise the kernel must, at run time
        for axis, (h, (a, b), e) in enumerate(zip(sizes, padding, extents)):
            if not (is_static(h) and not traced and h + a + b >= e):
                requirements.append(Requirement(h + a + b, e, (
                    f"The kernel must not be larger than the padded input. Received: {input_name} of size below "
                    f"{e - a - b} on spatial axis {axis} ({shape_text}), kernel size {'x'.join(map(str, kernel))} "
                    f"(dilated extent {'x'.join(map(str, extents))}), padding {padding}")))
    if mode in ("reflect", "circular"):
        relation = "smaller than" if mode == "reflect" else "at most"
        for axis, (h, (a, b)) in enumerate(zip(sizes, padding)):
            largest = b if options.padding == "same" else max(a, b)  # "same" puts the odd pixel after
            needed = largest + 1 if mode == "reflect" else largest
            if known:
                if h < needed:
                    raise ValueError(
                        f"padding_mode={mode!r} needs padding {relation} the input size on each axis. "
                        f"Received: padding {(a, b)} on spatial axis {axis} of size {h} ({input_name} shape "
                        f"{_describe(input_shape)})"
                    )
            elif not (is_static(h) and is_static(needed) and not traced and h >= needed):
                amounts = "'same'" if options.padding == "same" else (a, b)
                requirements.append(Requirement(h, needed, (
                    f"padding_mode={mode!r} needs padding {relation} the input size on each axis. Received: "
                    f"padding {amounts} on spatial axis {axis} of {input_name} ({shape_text})")))
    out_size = tuple(output_size(h, k, s, d, p) for h, k, s, d, p in zip(sizes, kernel, stride, dilation, padding))
    spatial_static = not traced and all(is_static(v) for v in (*sizes, *out_size, *(p for pair in padding for p in pair)))
    return padding, out_size, spatial_static, tuple(requirements)


def _transposed_geometry(options, sizes, kernel, stride, dilation, extents, input_name, input_shape,
                         traced) -> tuple[tuple[Pair, ...], tuple[int, ...], tuple[Any, ...], bool, tuple[Requirement, ...]]:
    """Cropping, output padding, output size and whether the sizes are plain ints, for a transposed
    convolution (PyTorch's semantics; "valid"/"same" as TensorFlow's)."""
    rank = len(kernel)
    if options.padding == "valid":  # Keras' rule: i·s + max(e - s, 0)
        padding = ((0, 0),) * rank
        extra = tuple(max(s - e, 0) for s, e in zip(stride, extents))
    elif options.padding == "same":  # output i·s: crop what the forward "same" pads
        totals = tuple(max(e - s, 0) for s, e in zip(stride, extents))
        padding = tuple((t // 2, t - t // 2) for t in totals)
        extra = tuple(max(s - e, 0) for s, e in zip(stride, extents))
    else:
        padding = _explicit_padding(options.padding, rank)
        extra = _per_axis(options.output_padding, rank, "output_padding")
        for axis, (op, s, d) in enumerate(zip(extra, stride, dilation)):
            if op >= s and op >= d:
                raise ValueError(
                    "output_padding must be smaller than the stride or the dilation on each axis. Received: "
                    f"output_padding={options.output_padding!r}, stride={stride}, dilation={dilation} "
                    f"(spatial axis {axis})"
                )
    out_size = tuple(transposed_size(h, k, s, d, p, op)
                     for h, k, s, d, p, op in zip(sizes, kernel, stride, dilation, padding, extra))
    if not traced and all(is_static(v) for v in sizes):
        if any(o < 1 for o in out_size):
            raise ValueError(
                "The transposed convolution's output must have at least one element on each axis: "
                "(i-1)·stride - pad_before - pad_after + dilation·(k-1) + output_padding + 1. Received: output size "
                f"{'x'.join(map(str, out_size))} from {input_name} {'x'.join(map(str, sizes))}, kernel "
                f"{'x'.join(map(str, kernel))}, stride {stride}, padding {padding}, dilation {dilation}"
            )
        if any(o > SIZE_LIMIT for o in out_size):
            raise ValueError(
                "The output size must be below 2**31 along each axis (the frameworks index with 32-bit ints). "
                f"Received: output size {'x'.join(map(str, out_size))}"
            )
    requirements = tuple(
        Requirement(o, 1, (
            "The transposed convolution's output must have at least one element on each axis: "
            "(i-1)·stride - pad_before - pad_after + dilation·(k-1) + output_padding + 1. Received: "
            f"{input_name} too small on spatial axis {axis} ({_run_time_text(input_name, input_shape, traced)}), "
            f"kernel {'x'.join(map(str, kernel))}, stride {stride}, padding {padding}, dilation {dilation}"))
        for axis, (h, o) in enumerate(zip(sizes, out_size))
        if traced or not is_static(h)
    )
    spatial_static = not traced and all(is_static(v) for v in (*sizes, *out_size))
    return padding, extra, out_size, spatial_static, requirements
