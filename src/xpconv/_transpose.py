"""Transposed convolution as the forward convolution it equals, written once against the Array API.

A transposed convolution (the gradient of a convolution with respect to its input) with
stride ``s``, dilation ``d``, padding ``(p0, p1)`` and output padding ``op`` equals a forward
convolution with stride 1 and dilation ``d`` of the input with ``s - 1`` zeros inserted between
its elements, padded by ``(e - 1 - p0, e - 1 - p1 + op)`` (``e = d·(k-1) + 1``; a negative amount
crops instead), with the kernel flipped on every spatial axis and its two channel axes swapped
within each group. Any forward kernel (portable, NumPy, a framework's native) then computes it;
frameworks with a transposed convolution of their own use it instead (``Backend.native_conv``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ._spec import ConvPlan
from ._taps import reach


def forward_twin(plan: ConvPlan) -> tuple[ConvPlan, tuple[tuple[int, int], ...]]:
    """The forward plan that a transposed ``plan`` equals, and what to crop from the dilated input."""
    pads, crops = [], []
    for k, d, (p0, p1), extra in zip(plan.kernel, plan.dilation, plan.padding, plan.output_padding):
        before, after = d * (k - 1) - p0, d * (k - 1) - p1 + extra
        pads.append((max(before, 0), max(after, 0)))
        crops.append((max(-before, 0), max(-after, 0)))
    sizes = tuple((n - 1) * s + 1 - a - b for n, s, (a, b) in zip(plan.in_size, plan.stride, crops))
    twin = dataclasses.replace(
        plan, in_size=sizes, stride=(1,) * plan.rank, padding=tuple(pads), transposed=False,
        output_padding=(), same=False,
    )
    return twin, tuple(crops)


def dilate(xp: Any, x: Any, plan: ConvPlan, crops: tuple[tuple[int, int], ...]) -> Any:
    """``x`` (batched, in the plan's layout) with ``s - 1`` zeros between elements on each spatial
    axis, then ``crops`` removed from its ends."""
    first = 1 if plan.channels_last else 2
    shape = list(plan.batched_input_shape)
    for i, (s, (a, b)) in enumerate(zip(plan.stride, crops)):
        axis = first + i
        n = shape[axis]
        if s > 1:
            spread = xp.stack([x] + [xp.zeros_like(x)] * (s - 1), axis=axis + 1)
            shape[axis] = n * s
            x = xp.reshape(spread, tuple(shape))
        length = (n - 1) * s + 1
        if s > 1 or a or b:
            x = x[(slice(None),) * axis + (slice(a, length - b), ...)]
        shape[axis] = length - a - b
    return x


def flipped_weight(xp: Any, weight: Any, plan: ConvPlan) -> Any:
    """``(C_in, C_out/G, *k)`` → ``(C_out, C_in/G, *k)``, channel axes swapped per group, kernel flipped."""
    groups, rank = plan.groups, plan.rank
    c_in, per_group = plan.in_channels, plan.out_channels // plan.groups
    w = xp.reshape(weight, (groups, c_in // groups, per_group, *plan.kernel))
    w = xp.permute_dims(w, (0, 2, 1, *range(3, rank + 3)))
    w = xp.reshape(w, (plan.out_channels, c_in // groups, *plan.kernel))
    return xp.flip(w, axis=tuple(range(2, rank + 2)))


def conv_transpose(xp: Any, forward: Callable[[Any, Any, Any, ConvPlan], Any], x: Any, weight: Any, bias: Any,
                   plan: ConvPlan) -> Any:
    """The transposed ``plan`` on batched arrays, computed by ``forward(x, weight, bias, plan)``."""
    twin, crops = forward_twin(plan)
    found = reach(twin)
    if found is not None and found.trims and not found.empty:  # taps that read only padding: a huge dilation
        forward, twin = found.cut(forward), found.plan
    return forward(dilate(xp, x, plan, crops), flipped_weight(xp, weight, plan), bias, twin)
