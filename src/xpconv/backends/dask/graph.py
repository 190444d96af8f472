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
forward twin (:mod:`xpconv.kernels.transpose`: stride 1, the kernel flipped, the input with
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
  tree of fan-in :data:`SPLIT_EVERY` over ``J`` leaves (1 for ``J ≤ 4``, 4 for ``J = 9``), the root
  adding the bias;
* plus the rechunks of the weight and bias to the channel blocks (at most ``J·O + O``) and of
  the input where it was not aligned.

So at most 2 tasks per (input block × output-channel block) plus the sum: a
``(4, 16, 512, 512)`` input in ``(1, 16, 256, 256)`` chunks with a ``(32, 16, 3, 3)`` weight and
``padding=1`` adds 16 block convolutions, 16 halo bundles and the weight's one task.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

from ..._plan import ConvOptions, ConvPlan, Kind
from ...kernels.padding import pad
from ...kernels.transpose import flipped_weight
from .blocks import Geometry, SpatialBlock, aligned, geometry, output_starts, spatial_blocks
from .namespace import namespace
from .tasks import BlockCall, bundle, run_block, total

#: Fan-in of the tree that sums the input-channel blocks (as ``dask.array.tensordot``'s sum).
SPLIT_EVERY = 4


def _check_known(name: str, a: Any) -> None:
    if any(math.isnan(c) for dim in a.chunks for c in dim):
        raise ValueError(
            f"{name} must have known chunk sizes. Received: {name} with chunks {a.chunks}; "
            f"call {name}.compute_chunk_sizes() first"
        )


def _mode_padded(x: Any, plan: ConvPlan, geo: Geometry) -> Any:
    """``x`` padded lazily as ``plan.padding_mode`` says (reflected, replicated or wrapped slices of
    the edge blocks, or of the far ones, concatenated at each end): the blocks then pad nothing."""
    padded = pad(namespace(), x, list(x.shape), plan.padding, geo.spatial_axes, plan.padding_mode)
    others = {a: x.chunks[a] for a in range(x.ndim) if a not in geo.spatial_axes}
    if any(padded.chunks[a] != c for a, c in others.items()):
        padded = padded.rechunk(others)
    return padded


def _aligned_input(x: Any, plan: ConvPlan, geo: Geometry) -> tuple[Any, list[list[int]]]:
    """``x`` rechunked where needed (spatial boundaries to the stride, channel boundaries to the
    groups; padded lazily for a padding mode), and where the output blocks of each spatial axis start."""
    chunks = list(x.chunks)
    for a, ax in zip(geo.spatial_axes, geo.axes):
        chunks[a] = aligned(chunks[a], ax.stride)
    if geo.groups > 1:
        chunks[geo.channel_axis] = aligned(chunks[geo.channel_axis], geo.in_channels // geo.groups)
    if tuple(chunks) != x.chunks:
        x = x.rechunk(tuple(chunks))
    starts_out = [output_starts(x.chunks[a], plan, i) for i, a in enumerate(geo.spatial_axes)]
    if plan.kind is Kind.FORWARD and not plan.zero_padded:
        x = _mode_padded(x, plan, geo)
    return x, starts_out


def _channel_blocks(weight: Any, bias: Any, plan: ConvPlan, geo: Geometry,
                    in_chunks: tuple[int, ...]) -> tuple[Any, Any, tuple[int, ...]]:
    """The weight and bias rechunked to the channel blocks (a transposed weight as its forward
    twin's, flipped lazily), and the output-channel chunks."""
    if plan.kind is Kind.TRANSPOSED:
        weight = flipped_weight(namespace(), weight, plan)
    if geo.groups > 1:
        per_in, per_out = geo.in_channels // geo.groups, geo.out_channels // geo.groups
        out_chunks = tuple(c // per_in * per_out for c in in_chunks)
        w_chunks = (out_chunks, (weight.shape[1],), *((k,) for k in weight.shape[2:]))
    else:
        out_chunks = weight.chunks[0]
        w_chunks = (out_chunks, in_chunks, *((k,) for k in weight.shape[2:]))
    weight = weight.rechunk(w_chunks)
    return weight, None if bias is None else bias.rechunk((out_chunks,)), out_chunks


def conv(x: Any, weight: Any, bias: Any, plan: ConvPlan, *, method: str = "auto",
         call: Callable[..., Any]) -> Any:
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
        From :func:`xpconv.plan` for these shapes.
    method : {"auto", "native", "portable"}
        Handed on to each block's call (the dispatcher checked it against the chunks' library).
    call : callable
        ``call(kind, block, weight, bias, options, method)``: xpconv on one block's library.

    Returns
    -------
    dask.array.Array
        ``plan.output_shape`` in the input's layout, chunked as the module's docstring says, with
        chunks of the input's chunk library; nothing is computed.
    """
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph

    for name, a in (("x", x), ("weight", weight), ("bias", bias)):
        if a is not None:
            _check_known(name, a)
    geo = geometry(plan)
    x, starts_out = _aligned_input(x, plan, geo)
    in_chunks = x.chunks[geo.channel_axis]
    weight, bias, out_chunks = _channel_blocks(weight, bias, plan, geo, in_chunks)
    per_axis = [spatial_blocks(starts_out[i], x.chunks[a], ax) for i, (a, ax) in enumerate(zip(geo.spatial_axes, geo.axes))]
    options = ConvOptions(stride=tuple(a.stride for a in geo.axes), dilation=tuple(a.dilation for a in geo.axes),
                          data_format=geo.data_format)
    block = BlockCall(geo.spatial_axes, geo.channel_axis, tuple(a.spread for a in geo.axes), options, method, call)
    builder = _Layer(x, weight, bias, plan, geo, block, out_chunks)
    builder.build(per_axis)
    out_chunk_spec = list(x.chunks)
    out_chunk_spec[geo.channel_axis] = out_chunks
    for a, blocks in zip(geo.spatial_axes, per_axis):
        out_chunk_spec[a] = tuple(b.out_size for b in blocks)
    deps = [x, weight] + ([bias] if bias is not None else [])
    graph = HighLevelGraph.from_collections(builder.name, builder.layer, dependencies=deps)
    return da.Array(graph, builder.name, tuple(out_chunk_spec), meta=x._meta)


class _Layer:
    """The tasks of one convolution: a halo bundle per source block that others read from, one
    block convolution per (output block, input-channel block), and the sum trees."""

    def __init__(self, x: Any, weight: Any, bias: Any, plan: ConvPlan, geo: Geometry, block: BlockCall,
                 out_chunks: tuple[int, ...]) -> None:
        from dask.base import tokenize

        self.x, self.weight, self.bias, self.geo, self.block = x, weight, bias, geo, block
        self.out_chunks, self.in_chunks = out_chunks, x.chunks[geo.channel_axis]
        token = tokenize(x.name, weight.name, None if bias is None else bias.name, plan, block.method)
        self.name, self.halo, self.part = f"xpconv-conv-{token}", f"xpconv-halo-{token}", f"xpconv-part-{token}"
        self.layer: dict = {}
        self.bundles: dict[tuple, list] = {}  # source block -> the slices of it that other blocks read

    def index(self, n: int | None, c: int, spatial: Any) -> list[int]:
        index = [0] * self.x.ndim
        if n is not None:
            index[0] = n
        index[self.geo.channel_axis] = c
        for a, s in zip(self.geo.spatial_axes, spatial):
            index[a] = s
        return index

    def piece(self, n: int | None, c: int, picks: tuple) -> list:
        """``[key, position]``: the whole input block (position ``None``), or one slice in the bundle
        of slices that its neighbours read from that block (one task per source block)."""
        src = tuple(self.index(n, c, [p[0] for p in picks]))
        if all(p[1] == 0 and p[2] == self.x.chunks[a][p[0]] for a, p in zip(self.geo.spatial_axes, picks)):
            return [(self.x.name, *src), None]
        index = [slice(None)] * self.x.ndim
        for a, p in zip(self.geo.spatial_axes, picks):
            index[a] = slice(p[1], p[2])
        wanted = self.bundles.setdefault(src, [])
        if tuple(index) not in wanted:
            wanted.append(tuple(index))
        return [(self.halo, *src), wanted.index(tuple(index))]

    def nested(self, n: int | None, c: int, blocks: list, depth: int = 0, picks: tuple = ()) -> Any:
        if depth == len(blocks):
            return self.piece(n, c, picks)
        return [self.nested(n, c, blocks, depth + 1, (*picks, p)) for p in blocks[depth].pieces]

    def build(self, per_axis: list[list[SpatialBlock]]) -> None:
        batch_blocks = range(len(self.x.chunks[0])) if self.geo.batch_axis is not None else [None]
        for n in batch_blocks:
            for s_index in itertools.product(*(range(len(b)) for b in per_axis)):
                blocks = [per_axis[k][i] for k, i in enumerate(s_index)]
                for o in range(len(self.out_chunks)):
                    self.output_block(n, s_index, blocks, o)
        for src, indices in self.bundles.items():
            self.layer[(self.halo, *src)] = (bundle, (self.x.name, *src), tuple(indices))

    def output_block(self, n: int | None, s_index: tuple, blocks: list, o: int) -> None:
        """The tasks of output block ``o`` (channels) at spatial blocks ``s_index`` of batch block ``n``."""
        geo, rest = self.geo, (0,) * (self.weight.ndim - 2)
        padding = tuple((b.before, b.after) for b in blocks)
        out_index = tuple(self.index(n, o, s_index))
        shape = [0] * self.x.ndim
        if n is not None:
            shape[0] = self.x.chunks[0][n]
        shape[geo.channel_axis] = self.out_chunks[o]
        for a, b in zip(geo.spatial_axes, blocks):
            shape[a] = b.out_size
        b_key = None if self.bias is None else (self.bias.name, o)
        if geo.groups > 1:  # each block of whole groups gives its own output channels: no sum
            groups = self.in_chunks[o] // (geo.in_channels // geo.groups)
            self.layer[(self.name, *out_index)] = (
                run_block, self.nested(n, o, blocks), (self.weight.name, o, 0, *rest), b_key, padding, tuple(shape),
                groups, self.block)
            return
        j_count = len(self.in_chunks)
        parts = []
        for j in range(j_count):
            key = (self.name, *out_index) if j_count == 1 else (self.part, *out_index, j)
            self.layer[key] = (run_block, self.nested(n, j, blocks), (self.weight.name, o, j, *rest),
                               b_key if j_count == 1 else None, padding, tuple(shape), 1, self.block)
            parts.append(key)
        self.sum_tree(parts, out_index, b_key)

    def sum_tree(self, parts: list, out_index: tuple, b_key: Any) -> None:
        """Input-channel blocks summed by a tree of fan-in :data:`SPLIT_EVERY`; the root adds the bias."""
        level = 0
        while len(parts) > 1:
            level += 1
            groups_of = [parts[i:i + SPLIT_EVERY] for i in range(0, len(parts), SPLIT_EVERY)]
            last = len(groups_of) == 1
            following = []
            for g, members in enumerate(groups_of):
                key = (self.name, *out_index) if last else (f"{self.part}-sum{level}", *out_index, g)
                self.layer[key] = (total, members, b_key, self.geo.channel_axis) if last else (total, members)
                following.append(key)
            parts = following
