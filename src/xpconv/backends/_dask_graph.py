"""The convolution of a Dask array as a graph of whole blocks: halo bundles, one call per block,
a tree sum over input-channel blocks. Written for any number ``d`` of spatial axes.

How the output is chunked
-------------------------
* Batch: as the input.
* Each spatial axis: output ``o`` belongs to the input block that holds pixel ``o·stride``.
  Chunk boundaries that are not multiples of the stride are first moved down to one (a rechunk
  of the input, only then), so that output block ``i`` is exactly ``chunk_i / stride`` outputs
  (the last one: what is left, padding included); an input block that holds no ``o·stride`` has
  no output block (its pixels are only read as halo). With stride 1 and "same" padding the
  output has the input's chunks. A transposed convolution: input block ``[a, b)`` gives the
  outputs ``a·stride`` to ``b·stride`` (the last block: to the end), ``stride`` times the
  input's chunks; no rechunk.
* Channels: with ``groups == 1`` the output-channel blocks are the weight's ``axis 0`` chunks
  (one block for a NumPy weight) and the input-channel blocks are summed. With ``groups > 1`` the
  input-channel boundaries are moved down to group boundaries (a rechunk only where needed) and
  each block of whole groups gives the block of their output channels.

Each output block's task reads its own input block whole and, from each neighbouring block its
windows reach (``pad_before`` back, ``extent - stride - pad_before`` ahead, further when chunks
are smaller than that), one slice; a block's slices for all its neighbours are copied by one
bundle task.

Padding modes and transposed convolutions
-----------------------------------------
Zero padding is applied by each block's call (explicit ``(before, after)`` pairs, zero inside).
``reflect``, ``replicate`` and ``circular`` read data from the edge blocks, or from the far end
(circular): the input is padded lazily first (slices of the edge blocks, flipped or broadcast,
concatenated at each end: a few small tasks per edge block), and the blocks then pad nothing;
the output's chunks are those of zero padding. A transposed convolution is computed as its
forward twin (:mod:`xpconv._transpose`: stride 1, the kernel flipped, the input with
``stride - 1`` zeros between elements): each block's task spreads its own region with zeros
before its call, so nothing spread is ever stored and there is still one task per output block;
the weight is flipped once (a few tasks on the small weight).

Tasks (added to the input's graph)
----------------------------------
With ``Bn`` batch blocks, ``S`` spatial output blocks, ``J`` input-channel blocks, ``O`` output-
channel blocks (with ``groups > 1``: ``O = 1`` per input-channel block, no sum) and ``R`` spatial
input blocks that some other block reads from (``R ≤`` the number of spatial input blocks):

* halo bundles: ``Bn·J·R``, shared by all output-channel blocks;
* block convolutions: ``Bn·S·J·O`` (``Bn·S·J`` with groups);
* the tree sum (``groups == 1``, ``J > 1``): ``Bn·S·O·r(J)`` with ``r(J)`` the number of nodes of a
  tree of fan-in :data:`SPLIT_EVERY` over ``J`` leaves (:func:`tree_size`: 1 for ``J ≤ 4``, 4 for
  ``J = 9``), the root adding the bias;
* plus the rechunks of the weight and bias to the channel blocks (at most ``J·O + O``) and of
  the input where it was not aligned.

So at most 2 tasks per (input block × output-channel block) plus the sum: a
``(4, 16, 512, 512)`` input in ``(1, 16, 256, 256)`` chunks with a ``(32, 16, 3, 3)`` weight and
``padding=1`` adds 16 block convolutions, 16 halo bundles and the weight's one task.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._spec import ConvPlan

#: Fan-in of the tree that sums the input-channel blocks (as ``dask.array.tensordot``'s sum).
SPLIT_EVERY = 4


# -- the plan, read in one place ------------------------------------------------------------
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

    A transposed plan becomes its forward twin (:func:`xpconv._transpose.forward_twin`) read
    through ``spread`` and ``offset``; a padding mode other than zeros becomes a convolution
    without padding of the input padded lazily (:func:`conv`), ``size`` counting the padding."""
    rank = plan.rank
    if plan.transposed:
        from .._transpose import forward_twin

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
    if plan.transposed:
        return [0, *(min(b * s, out) for b in inner), out]
    return [0, *(min(-(-b // s), out) for b in inner), out]


def block_conv(x: Any, weight: Any, bias: Any, padding: tuple[tuple[int, int], ...], stride: tuple[int, ...],
               dilation: tuple[int, ...], groups: int, data_format: str, method: str) -> Any:
    """xpconv on one block's library, with explicit per-axis ``(before, after)`` zero padding: the
    one per-block call."""
    from .._conv import conv

    return conv(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups,
                data_format=data_format, method=method)


# -- chunk arithmetic ------------------------------------------------------------------------
def _aligned(chunks: tuple[int, ...], step: int) -> tuple[int, ...]:
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


def tree_size(leaves: int, split_every: int = SPLIT_EVERY) -> int:
    """Tasks of a sum tree of fan-in ``split_every`` over ``leaves`` partial results."""
    count = 0
    while leaves > 1:
        leaves = math.ceil(leaves / split_every)
        count += leaves
    return count


# -- what the tasks run ----------------------------------------------------------------------
def _bundle(block: Any, indices: tuple[tuple[slice, ...], ...]) -> tuple:
    """Copies of the slices of ``block`` that its neighbours read (a view would keep the whole
    block alive in the worker that holds the bundle)."""
    return tuple(_copy(block[index]) for index in indices)


def _copy(a: Any) -> Any:
    return a.copy() if hasattr(a, "copy") else a


def _assemble(pieces: Any, axes: tuple[int, ...]) -> Any:
    """Nested lists of ``[array or bundle, position]`` leaves (one level per spatial axis),
    concatenated into one region."""
    if not axes:
        source, position = pieces
        return source if position is None else source[position]
    parts = [_assemble(p, axes[1:]) for p in pieces]
    if len(parts) == 1:
        return parts[0]
    from array_api_compat import array_namespace

    return array_namespace(parts[0]).concat(parts, axis=axes[0])


def _spread(xp: Any, region: Any, axis: int, step: int) -> Any:
    """``region`` with ``step - 1`` zeros between its elements along ``axis`` (none after the last)."""
    n = region.shape[axis]
    stacked = xp.stack([region] + [xp.zeros_like(region)] * (step - 1), axis=axis + 1)
    shape = list(region.shape)
    shape[axis] = n * step
    return xp.reshape(stacked, tuple(shape))[(slice(None),) * axis + (slice(0, (n - 1) * step + 1),)]


def _run_block(pieces: Any, weight: Any, bias: Any, padding: tuple[tuple[int, int], ...],
               out_shape: tuple[int, ...], spec: tuple) -> Any:
    """One output block: its region assembled from the pieces (spread with zeros for a transposed
    convolution), convolved with explicit zero padding."""
    spatial_axes, channel_axis, stride, dilation, groups, data_format, method, spreads = spec
    region = _assemble(pieces, spatial_axes)
    from array_api_compat import array_namespace

    xp = array_namespace(region)
    if any(region.shape[a] == 0 for a in spatial_axes):  # windows of zeros only: zeros (+ bias)
        out = xp.zeros(out_shape, dtype=region.dtype)
        return out if bias is None else out + _bias_shaped(bias, len(out_shape), channel_axis)
    for a, step in zip(spatial_axes, spreads):
        if step > 1:
            region = _spread(xp, region, a, step)
    return block_conv(region, weight, bias, padding, stride, dilation, groups, data_format, method)


def _bias_shaped(bias: Any, ndim: int, channel_axis: int) -> Any:
    """``bias`` reshaped to broadcast along the channel axis of an ``ndim``-D block."""
    shape = [1] * ndim
    shape[channel_axis] = bias.shape[0]
    return bias.reshape(tuple(shape))


def _sum(parts: list, bias: Any = None, channel_axis: int = 0) -> Any:
    """The sum of partial results (one node of the tree); the root adds the bias."""
    total = functools.reduce(lambda a, b: a + b, parts)
    return total if bias is None else total + _bias_shaped(bias, total.ndim, channel_axis)


# -- the graph ---------------------------------------------------------------------------------
def _check_known(name: str, a: Any) -> None:
    if any(math.isnan(c) for dim in a.chunks for c in dim):
        raise ValueError(
            f"{name} must have known chunk sizes. Received: {name} with chunks {a.chunks}; "
            f"call {name}.compute_chunk_sizes() first"
        )


def _mode_padded(x: Any, plan: ConvPlan, geo: Geometry) -> Any:
    """``x`` padded lazily as ``plan.padding_mode`` says (reflected, replicated or wrapped slices of
    the edge blocks, or of the far ones, concatenated at each end): the blocks then pad nothing."""
    from .._padding import pad
    from .dask import _namespace

    padded = pad(_namespace(), x, list(x.shape), plan.padding, geo.spatial_axes, plan.padding_mode)
    others = {a: x.chunks[a] for a in range(x.ndim) if a not in geo.spatial_axes}
    if any(padded.chunks[a] != c for a, c in others.items()):
        padded = padded.rechunk(others)
    return padded


def conv(x: Any, weight: Any, bias: Any, plan: ConvPlan, *, method: str = "auto") -> Any:
    """The convolution of Dask array ``x`` as described in the module's docstring; lazy.

    Parameters
    ----------
    x : dask.array.Array
        The input in the plan's layout, e.g. ``(N, C_in, H, W)`` or ``(N, W, C_in)``, any chunks.
    weight : dask.array.Array
        ``(C_out, C_in/groups, *kernel)``, for a transposed plan ``(C_in, C_out/groups, *kernel)``
        (flipped here, lazily); small (rechunked to the channel blocks).
    bias : dask.array.Array or None
        ``(C_out,)``.
    plan : ConvPlan
        From :func:`xpconv._spec.make_plan` for these shapes.
    method : {"auto", "native", "portable"}
        Handed on to each block's call (checked here against the chunks' library first).

    Returns
    -------
    dask.array.Array
        ``plan.output_shape`` in the input's layout, chunked as the module's docstring says, with
        chunks of the input's chunk library; nothing is computed.
    """
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    for name, a in (("x", x), ("weight", weight), ("bias", bias)):
        if a is not None:
            _check_known(name, a)
    geo = geometry(plan)
    if method == "native":
        from .dask import _chunk_backend

        inner = _chunk_backend(x)
        if not (inner.has_native and inner.native_supports(x.dtype)):
            raise ValueError(
                "method='native' needs a backend with a native convolution. Received: arrays of backend "
                f"'dask', which has none of its own: its blocks run on backend {inner.name!r}, which has none "
                f"for dtype {x.dtype}; use method='auto'"
            )
    grouped = geo.groups > 1
    # 1. align: spatial boundaries to the stride, channel boundaries to the groups
    chunks = list(x.chunks)
    for a, ax in zip(geo.spatial_axes, geo.axes):
        chunks[a] = _aligned(chunks[a], ax.stride)
    per_group_in = geo.in_channels // geo.groups
    per_group_out = geo.out_channels // geo.groups
    if grouped:
        chunks[geo.channel_axis] = _aligned(chunks[geo.channel_axis], per_group_in)
    if tuple(chunks) != x.chunks:
        x = x.rechunk(tuple(chunks))
    in_chunks = x.chunks[geo.channel_axis]
    starts_out = [output_starts(x.chunks[a], plan, i) for i, a in enumerate(geo.spatial_axes)]
    if not plan.transposed and not plan.zero_padded:
        x = _mode_padded(x, plan, geo)
    # 2. the weight and bias in the channel blocks (a transposed weight as its forward twin's)
    if plan.transposed:
        from .._transpose import flipped_weight
        from .dask import _namespace

        weight = flipped_weight(_namespace(), weight, plan)
    if grouped:
        out_chunks = tuple(c // per_group_in * per_group_out for c in in_chunks)
        w_chunks = (out_chunks, (weight.shape[1],), *((k,) for k in weight.shape[2:]))
    else:
        out_chunks = weight.chunks[0]
        w_chunks = (out_chunks, in_chunks, *((k,) for k in weight.shape[2:]))
    weight = weight.rechunk(w_chunks)
    if bias is not None:
        bias = bias.rechunk((out_chunks,))
    # 3. the blocks along each spatial axis
    per_axis = [spatial_blocks(starts_out[i], x.chunks[a], ax) for i, (a, ax) in enumerate(zip(geo.spatial_axes, geo.axes))]
    token = tokenize(x.name, weight.name, None if bias is None else bias.name, plan, method)
    name, halo_name, part_name = f"xpconv-conv-{token}", f"xpconv-halo-{token}", f"xpconv-part-{token}"
    ndim = x.ndim
    spec = (geo.spatial_axes, geo.channel_axis, tuple(a.stride for a in geo.axes),
            tuple(a.dilation for a in geo.axes), 1, geo.data_format, method, tuple(a.spread for a in geo.axes))
    batch_blocks = range(len(x.chunks[0])) if geo.batch_axis is not None else [None]
    layer: dict = {}

    def x_index(n, c, spatial):
        index = [0] * ndim
        if n is not None:
            index[0] = n
        index[geo.channel_axis] = c
        for a, s in zip(geo.spatial_axes, spatial):
            index[a] = s
        return index

    bundles: dict[tuple, list] = {}  # source block -> the slices of it that other blocks read

    def piece(n, c, picks):
        """``[key, position]``: the whole input block (position ``None``), or one slice in the bundle
        of slices that its neighbours read from that block (one task per source block)."""
        src = tuple(x_index(n, c, [p[0] for p in picks]))
        whole = all(p[1] == 0 and p[2] == x.chunks[a][p[0]] for a, p in zip(geo.spatial_axes, picks))
        if whole:
            return [(x.name, *src), None]
        index = [slice(None)] * ndim
        for a, p in zip(geo.spatial_axes, picks):
            index[a] = slice(p[1], p[2])
        wanted = bundles.setdefault(src, [])
        if tuple(index) not in wanted:
            wanted.append(tuple(index))
        return [(halo_name, *src), wanted.index(tuple(index))]

    def nested(n, c, blocks, depth=0, picks=()):
        if depth == len(blocks):
            return piece(n, c, picks)
        return [nested(n, c, blocks, depth + 1, (*picks, p)) for p in blocks[depth].pieces]

    j_count, o_count = len(in_chunks), len(out_chunks)
    w_rest = (0,) * (weight.ndim - 2)
    for n in batch_blocks:
        for s_index in itertools.product(*(range(len(b)) for b in per_axis)):
            blocks = [per_axis[k][i] for k, i in enumerate(s_index)]
            padding = tuple((b.before, b.after) for b in blocks)
            for o in range(o_count):
                out_index = tuple(x_index(n, o, s_index))
                out_shape = [0] * ndim
                if n is not None:
                    out_shape[0] = x.chunks[0][n]
                out_shape[geo.channel_axis] = out_chunks[o]
                for a, b in zip(geo.spatial_axes, blocks):
                    out_shape[a] = b.out_size
                out_shape = tuple(out_shape)
                b_key = None if bias is None else (bias.name, o)
                if grouped:
                    groups_here = in_chunks[o] // per_group_in
                    spec_here = (*spec[:4], groups_here, *spec[5:])
                    layer[(name, *out_index)] = (
                        _run_block, nested(n, o, blocks), (weight.name, o, 0, *w_rest), b_key, padding,
                        out_shape, spec_here,
                    )
                    continue
                parts = []
                for j in range(j_count):
                    key = (name, *out_index) if j_count == 1 else (part_name, *out_index, j)
                    layer[key] = (
                        _run_block, nested(n, j, blocks), (weight.name, o, j, *w_rest),
                        b_key if j_count == 1 else None, padding, out_shape, spec,
                    )
                    parts.append(key)
                level = 0
                while len(parts) > 1:
                    level += 1
                    groups_of = [parts[i:i + SPLIT_EVERY] for i in range(0, len(parts), SPLIT_EVERY)]
                    last = len(groups_of) == 1
                    parts_next = []
                    for g, members in enumerate(groups_of):
                        key = (name, *out_index) if last else (f"{part_name}-sum{level}", *out_index, g)
                        layer[key] = (_sum, members, b_key, geo.channel_axis) if last else (_sum, members)
                        parts_next.append(key)
                    parts = parts_next
    for src, indices in bundles.items():
        layer[(halo_name, *src)] = (_bundle, (x.name, *src), tuple(indices))
    out_chunk_spec = list(x.chunks)
    out_chunk_spec[geo.channel_axis] = out_chunks
    for a, blocks in zip(geo.spatial_axes, per_axis):
        out_chunk_spec[a] = tuple(b.out_size for b in blocks)
    deps = [x, weight] + ([bias] if bias is not None else [])
    graph = HighLevelGraph.from_collections(name, layer, dependencies=deps)
    return da.Array(graph, name, tuple(out_chunk_spec), meta=x._meta)

