"""The plan of one convolution: options resolved against shapes, with the geometry kernels read.

:func:`make_plan` checks everything (shapes, options against shapes, sizes) before any array is
touched and returns a :class:`ConvPlan`; plans of all-int shapes are cached. Kernels read the
plan's geometry (extents, padding, axes, layout permutations) and never recompute it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..cache import LRUCache, cache_key
from .checks import read_shapes
from .geometry import Axes, Requirement, forward, per_axis, transposed
from .kind import Kind
from .options import ConvOptions
from .shapes import extent, is_static


@dataclass(frozen=True)
class ConvPlan:
    """Everything a kernel needs: options resolved against concrete shapes, for ``rank`` spatial axes.

    Shapes are batched (an unbatched input has ``batch == 1`` and ``batched`` False: the
    batch axis is added and removed once, around the kernel) and listed channels first,
    whatever the caller's layout (``channels_last``). The channel counts and the kernel's
    size are ints; the batch, the spatial sizes, "same" padding amounts and the output size
    may be symbolic (see :attr:`static`). For a transposed plan, ``padding`` is what is
    cropped from the full output and ``output_padding`` what is added at its end.

    Attributes
    ----------
    kind : Kind
        The operation: ``Kind.FORWARD`` or ``Kind.TRANSPOSED``.
    batched : bool
        Whether the caller's input has a batch axis.
    channels_last : bool
        Whether the caller's layout has the channels last.
    batch : int or symbolic size
        ``N`` (1 for an unbatched input).
    in_channels, out_channels : int
        ``C_in`` and ``C_out``.
    in_size, out_size : tuple
        The input's and the output's spatial sizes, one per axis.
    kernel, stride, dilation : tuple of int
        One per spatial axis.
    padding : tuple of (before, after) pairs
        One pair per spatial axis: what is padded (transposed: cropped).
    groups : int
        Channel groups.
    padding_mode : str
        ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
    output_padding : tuple of int
        What a transposed plan adds at the end of each axis (empty for a forward plan).
    """

    kind: Kind
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
    output_padding: tuple[int, ...] = ()
    #: Whether the caller asked for ``padding="same"`` (natives may then pass their own "SAME").
    same: bool = False
    #: Every size is a plain int (nothing symbolic or unknown): kernels may branch on sizes.
    static: bool = True
    #: The spatial sizes, padding and output size are plain ints (the batch may not be); False
    #: also for a plan made while a framework traced with sizes that look like ints (torch.compile).
    spatial_static: bool = True
    #: Checks left for run time: sizes a framework knows only then (see ``Requirement``).
    requirements: tuple[Requirement, ...] = ()

    # -- what it is --------------------------------------------------------------------------
    @property
    def rank(self) -> int:
        """The number of spatial axes."""
        return len(self.kernel)

    @property
    def batch_static(self) -> bool:
        """Whether the batch size is a plain int (not symbolic or unknown)."""
        return is_static(self.batch)

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
    def reduction_length(self) -> int:
        """How many products are summed into each output element (of a forward convolution; for a
        transposed one, of the forward convolution it is the gradient of): tolerances scale with it."""
        per_group = (self.out_channels if self.kind is Kind.TRANSPOSED else self.in_channels) // self.groups
        return per_group * self.taps

    @property
    def macs(self) -> int:
        """Multiply-accumulates; a transposed convolution costs what its forward twin costs."""
        if self.kind is Kind.TRANSPOSED:
            return self.batch * self.in_channels * math.prod(self.in_size) * self.reduction_length
        return self.batch * self.out_channels * math.prod(self.out_size) * self.reduction_length

    # -- geometry ----------------------------------------------------------------------------
    @property
    def extents(self) -> tuple[int, ...]:
        """The dilated kernel's extent per axis, ``dilation·(kernel - 1) + 1``."""
        return tuple(extent(k, d) for k, d in zip(self.kernel, self.dilation))

    @property
    def padded_size(self) -> tuple[Any, ...]:
        """The input's size per axis with the padding (of a forward plan)."""
        return tuple(n + a + b for n, (a, b) in zip(self.in_size, self.padding))

    @property
    def zero_padded(self) -> bool:
        """No padding, or zeros: what every native convolution pads with."""
        return self.padding_mode == "zeros" or all(is_static(p) and p == 0 for pair in self.padding for p in pair)

    @property
    def static_padding(self) -> bool:
        """Every padding amount is a plain int (not symbolic, as "same" gives on unknown sizes)."""
        return all(is_static(p) for pair in self.padding for p in pair)

    @property
    def unpadded(self) -> bool:
        """No padding at all on any axis."""
        return all(is_static(p) and p == 0 for pair in self.padding for p in pair)

    @property
    def native_same(self) -> bool:
        """"same" padding whose amounts are not plain ints: natives pass their own "SAME" rule
        (TensorFlow's and XLA's, which is xpconv's), resolved when the sizes are known."""
        return self.same and not self.spatial_static and self.kind is Kind.FORWARD

    @property
    def spatial_axes(self) -> tuple[int, ...]:
        """The spatial axes of the batched arrays kernels receive, in the caller's layout."""
        first = 1 if self.channels_last else 2
        return tuple(range(first, first + self.rank))

    @property
    def channel_axis(self) -> int:
        """The channel axis of the batched arrays kernels receive."""
        return self.rank + 1 if self.channels_last else 1

    @property
    def to_channels_first(self) -> tuple[int, ...]:
        """The permutation from the caller's batched layout to ``(N, C, *spatial)``."""
        return (0, self.channel_axis, *self.spatial_axes) if self.channels_last else tuple(range(self.rank + 2))

    @property
    def from_channels_first(self) -> tuple[int, ...]:
        """The permutation from ``(N, C, *spatial)`` back to the caller's batched layout."""
        return (0, *range(2, self.rank + 2), 1) if self.channels_last else tuple(range(self.rank + 2))

    @property
    def bias_shape(self) -> tuple[int, ...]:
        """The shape a bias takes to broadcast over a batched output in the caller's layout."""
        ones = (1,) * self.rank
        return (1, *ones, -1) if self.channels_last else (1, -1, *ones)

    # -- shapes ------------------------------------------------------------------------------
    @property
    def output_shape(self) -> tuple[Any, ...]:
        """The output's shape in the caller's layout and batchedness."""
        shape = self.batched_output_shape
        return shape if self.batched else shape[1:]

    @property
    def batched_input_shape(self) -> tuple[Any, ...]:
        """The input's shape with its batch axis, in the caller's layout (what kernels receive)."""
        c, sizes = self.in_channels, self.in_size
        return (self.batch, *sizes, c) if self.channels_last else (self.batch, c, *sizes)

    @property
    def batched_output_shape(self) -> tuple[Any, ...]:
        c, sizes = self.out_channels, self.out_size
        return (self.batch, *sizes, c) if self.channels_last else (self.batch, c, *sizes)

    # -- related plans -----------------------------------------------------------------------
    def with_batch(self) -> ConvPlan:
        """This plan for the batched arrays kernels receive."""
        return self if self.batched else dataclasses.replace(self, batched=True)

    def lifted(self) -> ConvPlan:
        """This 1-D plan as a 2-D one with a leading unit spatial axis (for 2-D-only kernels)."""
        return dataclasses.replace(
            self, in_size=(1, *self.in_size), kernel=(1, *self.kernel), stride=(1, *self.stride),
            dilation=(1, *self.dilation), padding=((0, 0), *self.padding), out_size=(1, *self.out_size),
            output_padding=(0, *self.output_padding) if self.output_padding else (),
        )


_PLANS: LRUCache[ConvPlan] = LRUCache(1024)


def make_plan(
    kind: Kind,
    options: ConvOptions,
    input_shape: tuple[Any, ...],
    weight_shape: tuple[Any, ...],
    bias_shape: tuple[Any, ...] | None = None,
    names: tuple[str, str] = ("x", "weight"),
    *,
    maximum: Callable[[Any, Any], Any] = max,
    traced: bool = False,
) -> ConvPlan:
    """Check shapes against validated ``options`` and each other, and resolve padding and output size.

    ``input_shape`` may hold symbolic sizes for the batch and spatial axes; ``maximum`` is the
    framework's maximum for them. ``traced``: the framework is tracing, and sizes that look like
    ints may be symbolic. ``names``: the input's and weight's names in messages. Plans of all-int
    shapes are cached (LRU); others are made anew on every call and never hashed.
    """
    input_shape, weight_shape = tuple(input_shape), tuple(weight_shape)
    bias = None if bias_shape is None else tuple(bias_shape)
    key = None if traced else cache_key((kind.value, *names, input_shape, weight_shape, bias))
    if key is not None:
        key = (key, cache_key(tuple(options)))
        if key[1] is None:
            key = None
    if key is not None:
        plan = _PLANS.get(key)
        if plan is not None:
            return plan
    plan = _make_plan(kind, options, input_shape, weight_shape, bias, names, maximum, traced)
    if key is not None:
        _PLANS.put(key, plan)
    return plan


def _make_plan(kind: Kind, options: ConvOptions, input_shape: tuple[Any, ...], weight_shape: tuple[Any, ...],
               bias_shape: tuple[Any, ...] | None, names: tuple[str, str], maximum: Callable[[Any, Any], Any],
               traced: bool) -> ConvPlan:
    shapes = read_shapes(kind, options, input_shape, weight_shape, bias_shape, names)
    rank = shapes.rank
    axes = Axes(per_axis(options.stride, rank, "stride"), per_axis(options.dilation, rank, "dilation"), shapes.kernel)
    if kind is Kind.TRANSPOSED:
        geometry = transposed(options, axes, shapes.in_size, input_shape, names[0], traced)
    else:
        geometry = forward(options, axes, shapes.in_size, input_shape, names[0], maximum, traced)
    return ConvPlan(
        kind=kind, batched=shapes.batched, channels_last=shapes.channels_last, batch=shapes.batch,
        in_channels=shapes.in_channels, in_size=shapes.in_size, out_channels=shapes.out_channels,
        kernel=shapes.kernel, stride=axes.stride, dilation=axes.dilation, padding=geometry.padding,
        groups=options.groups, out_size=geometry.out_size, padding_mode=options.padding_mode,
        output_padding=geometry.output_padding, same=options.padding == "same",
        static=geometry.spatial_static and is_static(shapes.batch), spatial_static=geometry.spatial_static,
        requirements=geometry.requirements,
    )
