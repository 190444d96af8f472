"""Transform-domain convolution, written once against the Array API: Winograd and Fourier tiles.

The output is cut into tiles of ``m`` outputs per axis; each tile reads ``α = m + r - 1`` inputs
per axis. With the input channels last, everything is a matrix product
(:mod:`xpconv.kernels.tiles` holds the matrices):

1. the data transform, axis by axis: the ``α`` inputs of the axis' tiles (``α`` strided views,
   stacked) times ``(points_a × α_a)``, gives ``P = Π points_a`` per tile;
2. per point (and group), ``(N·tiles × C_in/G) @ (C_in/G × C_out/G)`` with the transformed
   weight does the work that the direct convolution does per tap;
3. the inverse, ``(m_a × points_a)`` on each axis, gives each tile's ``M = Π m`` outputs, put in
   place by permutations and cut to the output size.

Multiplications per output and pair of channels (step 2): ``P / M`` — Winograd F(4,3) in 2-D:
36/16 instead of 9; Fourier 16×16 tiles for 5×5: 3·(16·9)/144 real products (a complex product as
three real ones) instead of 25. Complex values are carried as two real arrays, so only real
matrix products run: every backend computes, traces and differentiates it with
:data:`~xpconv.kernels.core_api.CORE_FUNCTIONS`, slicing, ``+`` and ``-``.

Forward plans with stride 1, dilation 1 and static sizes (:func:`unsupported`); any padding
mode. Blocks of tile rows along the first spatial axis keep the transformed data under
``scratch_elements`` (the backend's :attr:`~xpconv.backends.Backend.transform_block_elements`):
each block reads its rows of the input padded as it reads them (never the whole input padded),
runs steps 1–3 and puts its outputs in the channels-last layout; the blocks are joined by one
concatenation (and one permutation for channels first).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .._plan import ConvPlan, Kind
from .padding import pad, padded_range
from .transpose import forward_twin

if TYPE_CHECKING:
    import numpy as np

    from .tiles import Tiles

#: Upper bound on the elements of one block of transformed data (32 MiB of float32).
SCRATCH_ELEMENTS = 8 * 1024 * 1024
#: The fast algorithms, by the name ``method=`` takes.
ALGORITHMS = ("winograd", "fourier")

Parts = list[Any]  # one real array, or the real and imaginary parts of a complex one


def unsupported(plan: ConvPlan) -> str | None:
    """Why a fast algorithm cannot run ``plan`` (a phrase for a message), or ``None`` if it can;
    a transposed plan runs as its forward twin, so the twin is what is asked about."""
    if plan.kind is Kind.TRANSPOSED:
        plan = forward_twin(plan)[0]
    if not plan.spatial_static:
        return "spatial sizes known before the call"
    if any(s != 1 for s in plan.stride):
        return "stride 1"
    if any(d != 1 for d in plan.dilation):
        return "dilation 1"
    return None


def conv(xp: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan, *, algorithm: str, device: Any = None,
         scratch_elements: int | None = None) -> Any:
    """Cross-correlate a batched ``x`` with ``weight`` as ``plan`` says, by ``algorithm`` (one of
    :data:`ALGORITHMS`); real floating arrays of one dtype, half precision computed in float32.

    ``device`` is where the transform matrices are made (the arrays' device; ``None``: the
    library's default). Each block is padded as it is read and put in the output's layout by
    itself: temporary memory is a block's, plus the blocks kept for the one concatenation."""
    import numpy as np  # the matrices are made with NumPy (imported here: ``import xpconv`` imports no library)

    from .tiles import tiles

    dtype = x.dtype
    work = dtype if dtype in (xp.float32, xp.float64) else xp.float32
    t = tiles(algorithm, plan.kernel, plan.out_size)
    counts = [math.ceil(n / m) for n, m in zip(plan.out_size, t.m)]

    def parts(values: np.ndarray) -> Parts:
        halves = [values.real, values.imag] if np.iscomplexobj(values) else [values]
        return [_matrix(xp, np.ascontiguousarray(h), work, device) for h in halves]

    u = _filter(xp, _as(xp, weight, work), t, [parts(a.filter) for a in t.axes], plan)
    b = None if bias is None else xp.reshape(_as(xp, bias, work), (plan.out_channels,))  # channels last
    if not plan.channels_last:
        x = xp.permute_dims(x, (0, *range(2, plan.rank + 2), 1))
    data, inverse = [parts(a.data) for a in t.axes], [parts(a.inverse) for a in t.axes]
    rows = block_rows(t, counts, plan, scratch_elements)

    def run(first: int) -> Any:
        block_counts = [min(rows, counts[0] - first), *counts[1:]]
        block = _padded_block(xp, x, t, block_counts, first, plan)
        v = _data(xp, _as(xp, block, work), data, t, block_counts, plan)
        y = _inverse(xp, _product(xp, u, v, plan), inverse, t, block_counts, plan)
        y = _place(xp, y, t, block_counts, plan, min(block_counts[0] * t.m[0], plan.out_size[0] - first * t.m[0]))
        y = y if b is None else y + b
        return y if work == dtype else xp.astype(y, dtype)

    blocks = [run(first) for first in range(0, counts[0], rows)]
    y = blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=1)  # (N, *out_size, C_out)
    return y if plan.channels_last else xp.permute_dims(y, (0, plan.rank + 1, *range(1, plan.rank + 1)))


def _padded_block(xp: Any, x: Any, t: Tiles, counts: list[int], first: int, plan: ConvPlan) -> Any:
    """The inputs that ``counts`` tiles from tile row ``first`` read, from the channels-last ``x``:
    padded as the plan says, then with zeros to whole tiles (what those read is cut off later)."""
    shape = [plan.batch, *plan.in_size, plan.in_channels]
    axes = tuple(range(1, plan.rank + 1))
    covered = [c * m + a - m for c, m, a in zip(counts, t.m, t.alpha)]
    extra = [c - p for c, p in zip(covered, plan.padded_size)]  # beyond the padded input (blocks: first axis below)
    start = first * t.m[0]
    stop = start + covered[0]
    end = min(stop, plan.padded_size[0])
    block = padded_range(xp, x, shape, 1, plan.padding[0], plan.padding_mode, start, end)
    shape[1] = end - start
    if stop > end:  # the last block's tiles reach past the padded input
        block = padded_range(xp, block, shape, 1, (0, stop - end), "zeros")
        shape[1] = stop - start
    if plan.rank == 1:
        return block
    rest = axes[1:]
    if plan.padding_mode == "zeros":  # one copy
        return pad(xp, block, shape, tuple((p0, p1 + e) for (p0, p1), e in zip(plan.padding[1:], extra[1:])), rest)
    block = pad(xp, block, shape, plan.padding[1:], rest, plan.padding_mode)
    for a, size in zip(rest, plan.padded_size[1:]):
        shape[a] = size
    return pad(xp, block, shape, tuple((0, e) for e in extra[1:]), rest)


def block_rows(t: Tiles, counts: list[int], plan: ConvPlan, scratch_elements: int | None = None) -> int:
    """Tile rows (along the first spatial axis) per block: the block's transformed data stays under
    ``scratch_elements`` (default :data:`SCRATCH_ELEMENTS`); each block runs its own per-point matrix products."""
    scratch_elements = SCRATCH_ELEMENTS if scratch_elements is None else scratch_elements
    per_row = 2 * max(t.points, math.prod(t.alpha)) * math.prod(counts[1:]) * plan.batch * max(
        plan.in_channels, plan.out_channels)
    return max(1, min(counts[0], scratch_elements // max(1, per_row)))


def _as(xp: Any, a: Any, dtype: Any) -> Any:
    """``a`` in ``dtype``, copied only if it is not already."""
    return a if a.dtype == dtype else xp.astype(a, dtype)


def _matrix(xp: Any, values: np.ndarray, dtype: Any, device: Any) -> Any:
    """A constant matrix in ``dtype`` on ``device`` (where asarray takes that device)."""
    if device is not None:
        try:
            return xp.asarray(values, dtype=dtype, device=device)
        except (TypeError, ValueError):  # a device asarray cannot take (a sharding's set of devices)
            pass
    return xp.asarray(values, dtype=dtype)


def _apply(xp: Any, m: Parts, z: Parts, real: bool = False) -> Parts:
    """The (complex) matrix ``m`` times the (complex) ``z``, as real products; ``real``: the
    real part only."""
    if len(m) == 1:
        return [xp.matmul(m[0], part) for part in z]
    if len(z) == 1:
        return [xp.matmul(m[0], z[0]), xp.matmul(m[1], z[0])]
    rr, ii = xp.matmul(m[0], z[0]), xp.matmul(m[1], z[1])
    if real:
        return [rr - ii]
    return [rr - ii, xp.matmul(m[0], z[1]) + xp.matmul(m[1], z[0])]


def _filter(xp: Any, weight: Any, t: Tiles, matrices: list[Parts], plan: ConvPlan) -> Parts:
    """The transformed weight, ``(P, C_in, C_out)`` per part; with groups ``(P, G, C_in/G, C_out/G)``.
    ``P`` runs over the axes' points row-major (the first axis' slowest), as the data's. A complex
    weight has a third part, real plus imaginary, which every block's product (:func:`_product`) reads."""
    rank, groups = plan.rank, plan.groups
    c_group, o_group = plan.in_channels // groups, plan.out_channels // groups
    w = [xp.permute_dims(weight, (*range(2, rank + 2), 1, 0))]  # (*kernel, C_in/G, C_out)
    sizes = [*plan.kernel, c_group * plan.out_channels]
    for a in reversed(range(rank)):  # the last axis first: Fourier's real DFT
        pre, post = math.prod(sizes[:a]), math.prod(sizes[a + 1:])
        w = _apply(xp, matrices[a], [xp.reshape(p, (pre, sizes[a], post)) for p in w])
        sizes[a] = t.axes[a].points
    if groups == 1:
        w = [xp.reshape(p, (t.points, c_group, plan.out_channels)) for p in w]
    else:
        w = [xp.permute_dims(xp.reshape(p, (t.points, c_group, groups, o_group)), (0, 2, 1, 3)) for p in w]
    return w if len(w) == 1 else [*w, w[0] + w[1]]


def _data(xp: Any, x: Any, matrices: list[Parts], t: Tiles, counts: list[int], plan: ConvPlan) -> Parts:
    """A padded channels-last block ``(N, *covered, C)`` transformed: ``(P, N·tiles, C)`` per part.

    Axis by axis from the last: the ``α`` inputs of its tiles are ``α`` strided views, stacked in
    front, and the axis' matrix turns them into its points in one matrix product; the stacked
    points end up in front, in order: ``(*points, N, *tiles, C)``, no permutation needed."""
    rank = plan.rank
    z, shape = [x], [plan.batch, *x.shape[1:]]
    for a in reversed(range(rank)):
        m, alpha, count = t.m[a], t.alpha[a], counts[a]
        at = len(shape) - 1 - rank + a  # the axis' place: after the points stacked so far and N
        pre, post = math.prod(shape[:at]), math.prod(shape[at + 1:])
        cut = [xp.stack([q[:, i: i + (count - 1) * m + 1: m, :] for i in range(alpha)], axis=0)
               for q in (xp.reshape(p, (pre, shape[at], post)) for p in z)]  # (α, pre, tiles, post): at most 4-D
        z = _apply(xp, matrices[a], [xp.reshape(p, (alpha, pre * count * post)) for p in cut])
        shape = [t.axes[a].points, *shape[:at], count, *shape[at + 1:]]
        z = [xp.reshape(p, tuple(shape)) for p in z]
    rows = plan.batch * math.prod(counts)
    return [xp.reshape(p, (t.points, rows, plan.in_channels)) for p in z]


def _product(xp: Any, u: Parts, v: Parts, plan: ConvPlan) -> Parts:
    """Per point and group, ``(N·tiles × C_in/G) @ (C_in/G × C_out/G)``: ``(P, N·tiles, C_out)``.
    A complex product takes three real ones (Gauss): ``(a+bi)(c+di) = ac - bd + ((a+b)(c+d) - ac - bd)i``,
    with ``c+d`` made once for all blocks (``u``'s third part, :func:`_filter`)."""
    groups = plan.groups
    points, rows = v[0].shape[0], v[0].shape[1]
    if groups > 1:  # (P, R, G, C/G) -> (P, G, R, C/G)
        v = [xp.permute_dims(xp.reshape(p, (points, rows, groups, plan.in_channels // groups)), (0, 2, 1, 3)) for p in v]
    if len(u) == 1:
        y = [xp.matmul(v[0], u[0])]
    else:
        ac, bd = xp.matmul(v[0], u[0]), xp.matmul(v[1], u[1])
        y = [ac - bd, xp.matmul(v[0] + v[1], u[2]) - ac - bd]
    if groups > 1:  # (P, G, R, C_out/G) -> (P, R, C_out)
        y = [xp.reshape(xp.permute_dims(p, (0, 2, 1, 3)), (points, rows, plan.out_channels)) for p in y]
    return y


def _inverse(xp: Any, y: Parts, matrices: list[Parts], t: Tiles, counts: list[int], plan: ConvPlan) -> Any:
    """``(P, N·tiles, C_out)`` back to each tile's outputs, ``(*m, N, *tiles, C_out)``: axis by
    axis from the first (Fourier's real-DFT axis, the last, keeps the real part)."""
    rank = plan.rank
    sizes = [a.points for a in t.axes] + [plan.batch * math.prod(counts) * plan.out_channels]
    for a in range(rank):
        pre, post = math.prod(sizes[:a]), math.prod(sizes[a + 1:])
        y = _apply(xp, matrices[a], [xp.reshape(p, (pre, sizes[a], post)) for p in y], real=a == rank - 1)
        sizes[a] = t.m[a]
    return xp.reshape(y[0], (*t.m, plan.batch, *counts, plan.out_channels))


def _place(xp: Any, y: Any, t: Tiles, counts: list[int], plan: ConvPlan, rows: int) -> Any:
    """``(*m, N, *tiles, C_out)`` as ``rows`` outputs along the first spatial axis, channels last:
    each tile's outputs in place, cut to the output size. One axis at a time, so that no
    permutation has more than five axes (MXNet's limit is six)."""
    rank, n, c = plan.rank, plan.batch, plan.out_channels
    m, sizes = t.m, [k * m for k, m in zip(counts, t.m)]
    rest_m, rest_t = math.prod(m[1:]), math.prod(counts[1:]) * c
    y = xp.permute_dims(xp.reshape(y, (m[0], rest_m, n, counts[0], rest_t)), (2, 3, 0, 1, 4))  # (N, T0, m0, ...)
    head = n * sizes[0]
    for a in range(1, rank):
        rest_m, rest_t = rest_m // m[a], rest_t // counts[a]
        y = xp.permute_dims(xp.reshape(y, (head, m[a], rest_m, counts[a], rest_t)), (0, 3, 1, 2, 4))
        head *= sizes[a]
    y = xp.reshape(y, (n, *sizes, c))
    cut = (rows, *plan.out_size[1:])
    if all(k == s for k, s in zip(cut, sizes)):
        return y
    return y[(slice(None), *(slice(0, k) for k in cut), slice(None))]
