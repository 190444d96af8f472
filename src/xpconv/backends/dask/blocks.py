"""The blocks of a Dask convolution along each axis: the plan read once as per-axis geometry,
chunk boundaries aligned to strides and groups, and each output block's input region
(:mod:`.graph` describes the rules)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..._plan import ConvPlan, Kind
from ...kernels.transpose import forward_twin


@dataclass(frozen=True)
class Axis:
    """One spatial axis of the forward convolution that the blocks compute.

    The convolved line ``C`` is ``size`` long; element ``t`` of it is element ``(t + offset) / spread``
    of the stored array (the input, or the input padded with a padding mode) where that divides,
    else zero: ``spread`` is a transposed convolution's stride (its forward twin reads the input
    with ``stride - 1`` zeros between elements, ``offset`` of them cropped at the start).
    """

    size: int
    kernel: int
    stride: int
    dilation: int
    before: int
    after: int
    out: int
    spread: int = 1
    offset: int = 0

    @property
    def extent(self) -> int:
        """The dilated kernel's extent ``dilation·(kernel - 1) + 1``."""
        return self.dilation * (self.kernel - 1) + 1


@dataclass(frozen=True)
class Geometry:
    """Where the axes of the input are and what each spatial axis does."""

    axes: tuple[Axis, ...]
    batch_axis: int | None
    channel_axis: int
    spatial_axes: tuple[int, ...]
    groups: int
    in_channels: int
    out_channels: int
    data_format: str


def geometry(plan: ConvPlan) -> Geometry:
    """The plan's fields as a :class:`Geometry` (the only place that reads the plan).

    A transposed plan becomes its forward twin (:func:`xpconv.kernels.transpose.forward_twin`) read
    through ``spread`` and ``offset``; a padding mode other than zeros becomes a convolution
    without padding of the input padded lazily (:func:`conv`), ``size`` counting the padding."""
    rank = plan.rank
    if plan.kind is Kind.TRANSPOSED:
        twin, crops = forward_twin(plan)
        axes = tuple(
            Axis(twin.in_size[i], twin.kernel[i], 1, twin.dilation[i], *twin.padding[i], twin.out_size[i],
                 plan.stride[i], crops[i][0])
            for i in range(rank)
        )
    elif not plan.zero_padded:
        axes = tuple(
            Axis(plan.in_size[i] + sum(plan.padding[i]), plan.kernel[i], plan.stride[i], plan.dilation[i], 0, 0,
                 plan.out_size[i])
            for i in range(rank)
        )
    else:
        axes = tuple(
            Axis(plan.in_size[i], plan.kernel[i], plan.stride[i], plan.dilation[i], *plan.padding[i], plan.out_size[i])
            for i in range(rank)
        )
    first = 1 if plan.batched else 0
    if plan.channels_last:
        channel_axis, spatial = first + rank, tuple(range(first, first + rank))
    else:
        channel_axis, spatial = first, tuple(range(first + 1, first + 1 + rank))
    return Geometry(
        axes, 0 if plan.batched else None, channel_axis, spatial, plan.groups, plan.in_channels,
        plan.out_channels, "channels_last" if plan.channels_last else "channels_first",
    )


def output_starts(chunks: tuple[int, ...], plan: ConvPlan, i: int) -> list[int]:
    """Where the output blocks of spatial axis ``i`` start (plus the end), from the input's chunks.

    Forward: output ``o`` belongs to the input block that holds pixel ``o·stride`` (its window
    starts there, less the padding before). Transposed: input block ``[a, b)`` gives the outputs
    ``a·stride`` to ``b·stride`` (the last block: to the end), ``stride`` times its chunks."""
    out, s = plan.out_size[i], plan.stride[i]
    inner = list(itertools.accumulate(chunks))[:-1]
    if plan.kind is Kind.TRANSPOSED:
        return [0, *(min(b * s, out) for b in inner), out]
    return [0, *(min(-(-b // s), out) for b in inner), out]


def aligned(chunks: tuple[int, ...], step: int) -> tuple[int, ...]:
    """``chunks`` with each inner boundary moved down to the nearest multiple of ``step``
    (boundaries that fall on 0 or on each other merge)."""
    bounds = list(itertools.accumulate(chunks))
    total = bounds[-1] if bounds else 0
    moved = sorted({b - b % step for b in bounds[:-1]} - {0})
    moved = [b for b in moved if 0 < b < total]
    edges = [0, *moved, total]
    return tuple(b - a for a, b in itertools.pairwise(edges))


@dataclass(frozen=True)
class SpatialBlock:
    """One output block along one spatial axis."""

    out_size: int
    before: int  # zeros the block's call pads before its region (after spreading it)
    after: int
    pieces: tuple[tuple[int, int, int], ...]  # (stored block, start, stop) within that block, in order


def spatial_blocks(starts_out: list[int], chunks: tuple[int, ...], axis: Axis) -> list[SpatialBlock]:
    """The output blocks of one spatial axis (``starts_out``, from :func:`output_starts`; empty ones
    dropped), each with the region its windows read: the stored elements (from the blocks of
    ``chunks`` listed) and the zeros around them (padding, or beyond a spread input's ends)."""
    starts = [0, *itertools.accumulate(chunks)]
    s, e, sp, off = axis.stride, axis.extent, axis.spread, axis.offset
    blocks = []
    for first, stop in itertools.pairwise(starts_out):
        if stop <= first:
            continue
        lo = first * s - axis.before  # the region on the convolved line: [lo, hi)
        hi = (stop - 1) * s - axis.before + e
        a, b = max(lo, 0), min(hi, axis.size)
        i0, i1 = -(-(a + off) // sp), (b - 1 + off) // sp  # the stored elements in it: i0..i1
        if a >= b or i0 > i1:  # windows that read zeros only (padding ≥ extent, tiny chunks, gaps of a spread input)
            blocks.append(SpatialBlock(stop - first, 0, 0, ((0, 0, 0),)))
            continue
        pieces = tuple(
            (j, max(i0, starts[j]) - starts[j], min(i1 + 1, starts[j + 1]) - starts[j])
            for j in range(len(chunks))
            if max(i0, starts[j]) < min(i1 + 1, starts[j + 1])
        )
        blocks.append(SpatialBlock(stop - first, i0 * sp - off - lo, hi - 1 - (i1 * sp - off), pieces))
    return blocks
