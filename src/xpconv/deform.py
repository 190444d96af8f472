"""Deformable convolution, ONNX's ``DeformConv`` (v1, and v2 with a modulation mask), 1-D to 3-D.

Each kernel tap reads the input not at its grid position but there plus a learned offset, per
output position and offset group, by multilinear interpolation (bilinear in 2-D; neighbours
outside the input count as zeros, as ONNX's ``GridSample`` with ``align_corners=1`` and
torchvision's ``deform_conv2d`` read them), optionally scaled by a mask; the sampled columns then
meet the weight in one matrix product per group, as the direct kernel's columns do. Written once
on the Array API: the positions are a ``take`` from the flattened input.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from ._dtypes import dtype_name
from ._plan import ConvOptions, ConvPlan, Kind, make_plan
from .backends import resolve
from .dispatch import check_dtypes


def _check(backend: Any, xp: Any, arrays: dict[str, Any], options: ConvOptions, offset_groups: Any) -> ConvPlan:
    """Every shape, dtype and option, named, before any work."""
    if backend.container:
        raise TypeError(f"deform_conv needs in-memory arrays (its taps read anywhere in the input, across blocks). "
                        f"Received: arrays of backend {backend.name!r}; compute them first")
    check_dtypes(backend, xp, arrays)
    for name, a in arrays.items():
        if a is not None and not xp.isdtype(a.dtype, "real floating"):
            raise TypeError(f"{name} must have a real floating-point dtype. Received: {name} with dtype "
                            f"{dtype_name(a.dtype)}")
    shapes = {name: tuple(backend.shape(a)) for name, a in arrays.items() if a is not None}
    plan = make_plan(Kind.FORWARD, options.validated(Kind.FORWARD), shapes["x"], shapes["weight"],
                     shapes.get("bias"), ("x", "weight"))
    if not plan.batched or not plan.static:
        raise ValueError(f"x must be batched, (N, C_in, *spatial), with known sizes. Received: x with shape {shapes['x']}")
    if isinstance(offset_groups, bool) or not isinstance(offset_groups, int) or offset_groups < 1 or (
            plan.in_channels % offset_groups):
        raise ValueError(f"offset_groups must be a positive int dividing the input channels ({plan.in_channels}). "
                         f"Received: offset_groups={offset_groups!r}")
    taps = offset_groups * plan.taps
    expected = {"offset": (plan.batch, taps * plan.rank, *plan.out_size), "mask": (plan.batch, taps, *plan.out_size)}
    for name, shape in expected.items():
        if name in shapes and shapes[name] != shape:
            what = "offset_groups·prod(kernel)·rank" if name == "offset" else "offset_groups·prod(kernel)"
            raise ValueError(f"{name} must have shape {shape}, (N, {what}, *output). Received: {name} with shape "
                             f"{shapes[name]}")
    return plan


def deform_conv(
    x: Any,
    weight: Any,
    offset: Any,
    bias: Any = None,
    mask: Any = None,
    *,
    stride: int | tuple[int, ...] = 1,
    padding: Any = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
    offset_groups: int = 1,
) -> Any:
    """ONNX ``DeformConv``: a convolution whose taps read at learned fractional offsets.

    Parameters
    ----------
    x : array
        ``(N, C_in, *spatial)``, 1 to 3 spatial axes, real floating point.
    weight : array
        ``(C_out, C_in/groups, *kernel)``.
    offset : array
        ``(N, offset_groups·prod(kernel)·d, *out)``: per offset group, per tap (row-major over the
        kernel), the ``d`` displacements (along the spatial axes in order) of where it reads.
    bias : array, optional
        ``(C_out,)``.
    mask : array, optional
        ``(N, offset_groups·prod(kernel), *out)``: each sampled value is multiplied by it (v2).
    stride, padding, dilation, groups
        As for :func:`xpconv.conv` (zero padding: a tap reading outside the input reads zeros).
    offset_groups : int
        Input channels share offsets in this many groups (ONNX's ``offset_group``).

    Returns
    -------
    array
        ``(N, C_out, *out)``, the sizes :func:`xpconv.conv` gives.

    Examples
    --------
    >>> import numpy as np, xpconv
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> shift = np.zeros((1, 2, 3, 3)); shift[:, 1] = 0.5  # every tap half a pixel to the right
    >>> xpconv.deform_conv(x, np.ones((1, 1, 1, 1)), shift).tolist()
    [[[[0.5, 1.5, 1.0], [3.5, 4.5, 2.5], [6.5, 7.5, 4.0]]]]
    """
    options = ConvOptions(stride=stride, padding=padding, dilation=dilation, groups=groups)
    backend, arrays = resolve({"x": x, "weight": weight, "offset": offset, "bias": bias, "mask": mask})
    xp = backend.namespace(arrays["x"])
    plan = _check(backend, xp, arrays, options, offset_groups)
    # checked: now the work, in the arrays' common dtype
    dtype = xp.result_type(*(a for a in arrays.values() if a is not None))
    x, weight, offset, bias, mask = (a if a is None or a.dtype == dtype else xp.astype(a, dtype)
                                     for a in arrays.values())
    columns = _sampled(xp, x, offset, mask, plan, offset_groups, backend.device(x))
    n, c, g = plan.batch, plan.in_channels, plan.groups
    taps, positions = plan.taps, math.prod(plan.out_size)
    columns = xp.reshape(columns, (n, g, c // g * taps, positions))
    kernel = xp.reshape(weight, (1, g, plan.out_channels // g, c // g * taps))
    y = xp.reshape(xp.matmul(kernel, columns), (n, plan.out_channels, *plan.out_size))
    return y if bias is None else y + xp.reshape(bias, plan.bias_shape)


def _grid(plan: ConvPlan) -> list[Any]:
    """Per spatial axis, where each tap of each output position reads without offsets, ``(K, P)``
    NumPy ints (taps and output positions row-major)."""
    import numpy as np  # host-side index arithmetic, from the plan's sizes
    taps = np.array(list(itertools.product(*(range(k) for k in plan.kernel)))).reshape(-1, plan.rank)
    outs = np.array(list(itertools.product(*(range(o) for o in plan.out_size)))).reshape(-1, plan.rank)
    return [taps[:, a, None] * plan.dilation[a] + outs[None, :, a] * plan.stride[a] - plan.padding[a][0]
            for a in range(plan.rank)]


def _sampled(xp: Any, x: Any, offset: Any, mask: Any, plan: ConvPlan, offset_groups: int, device: Any) -> Any:
    """The interpolated (and masked) input of every tap at every output position,
    ``(N, C_in, K, P)``: the columns of the deformed convolution."""
    n, c, rank = plan.batch, plan.in_channels, plan.rank
    taps, positions, size = plan.taps, math.prod(plan.out_size), math.prod(plan.in_size)
    per_group = c // offset_groups
    offset = xp.reshape(offset, (n, offset_groups, taps, rank, positions))
    index_dtype = xp.int32 if n * c * size < 2**31 else xp.int64
    lows, fracs = [], []
    for axis, grid in enumerate(_grid(plan)):
        where = xp.asarray(grid, dtype=x.dtype, device=device) + offset[:, :, :, axis, :]  # (N, G, K, P)
        low = xp.floor(where)
        lows.append(xp.astype(low, index_dtype))
        fracs.append(where - low)
    # every input element's flat position: ((n·G + g)·C_g + c)·S + spatial index
    starts = [[[[[((i * offset_groups + g) * per_group + j) * size]] for j in range(per_group)]
               for g in range(offset_groups)] for i in range(n)]
    base = xp.asarray(starts, dtype=index_dtype, device=device)  # (N, G, C_g, 1, 1)
    flat_x = xp.reshape(x, (n * c * size,))
    sampled = None
    for corner in itertools.product((0, 1), repeat=rank):
        factor, flat = None, None
        for axis, bit in enumerate(corner):
            at = lows[axis] + bit
            inside = xp.astype((at >= 0) & (at <= plan.in_size[axis] - 1), x.dtype)
            share = (fracs[axis] if bit else 1 - fracs[axis]) * inside
            factor = share if factor is None else factor * share
            step = math.prod(plan.in_size[axis + 1:])
            term = xp.clip(at, 0, plan.in_size[axis] - 1) * step
            flat = term if flat is None else flat + term
        positions_of = base + xp.reshape(flat, (n, offset_groups, 1, taps, positions))
        values = xp.reshape(xp.take(flat_x, xp.reshape(positions_of, (-1,)), axis=0),
                            (n, offset_groups, per_group, taps, positions))
        term = values * xp.reshape(factor, (n, offset_groups, 1, taps, positions))
        sampled = term if sampled is None else sampled + term
    if mask is not None:
        sampled = sampled * xp.reshape(mask, (n, offset_groups, 1, taps, positions))
    return xp.reshape(sampled, (n, c, taps, positions))
