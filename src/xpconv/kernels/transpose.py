"""Transposed convolution as the forward convolution it equals: its geometry, zero insertion and
the flipped weight, written once against the Array API.

A transposed convolution (the gradient of a convolution with respect to its input) with stride
``s``, dilation ``d``, padding ``(p0, p1)`` and output padding ``op`` equals a forward convolution
with stride 1 and dilation ``d`` of the input with ``s - 1`` zeros inserted between its elements,
padded by ``(e - 1 - p0, e - 1 - p1 + op)`` (``e = d·(k-1) + 1``, :func:`twin_padding`; a negative
amount crops instead), with the kernel flipped on every spatial axis and its two channel axes
swapped within each group. Any forward kernel (the direct one, NumPy's, a framework's native)
then computes it (:func:`via_forward`); frameworks with a transposed convolution of their own
declare it and the dispatcher calls it instead.

A padding mode other than zeros (which no framework's transposed convolution has) extends the
input beyond its border as the mode says, by what the output window reads there
(:func:`xpconv._plan.transposed_extension`), and crops that much more from the output
(:func:`extend_first`): the output is the zero-padded one's window of the transposed convolution
of the input continued by reflection, by its edge or periodically (a periodic signal's
upsampling, pytorch#46027).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from .._plan import ConvPlan, Kind, transposed_extension
from .padding import axis_range, pad, padded_range

Kernel = Callable[[Any, Any, Any, ConvPlan], Any]


def twin_padding(plan: ConvPlan) -> tuple[tuple[int, int], ...]:
    """Per axis, what the forward twin pads its zero-inserted input by: ``(d·(k-1) - p0,
    d·(k-1) - p1 + output_padding)``; a negative amount is a crop."""
    return tuple((d * (k - 1) - p0, d * (k - 1) - p1 + extra)
                 for k, d, (p0, p1), extra in zip(plan.kernel, plan.dilation, plan.padding, plan.output_padding))


def forward_twin(plan: ConvPlan) -> tuple[ConvPlan, tuple[tuple[int, int], ...]]:
    """The forward plan that a transposed ``plan`` equals, and what to crop from the dilated input.

    With spatial sizes known only at run time, :func:`dilate` pads before it crops (a crop may
    reach past the input into the padding on the other side, which a crop of the input alone
    would make an empty axis of the wrong length): the twin then reads that padded input and pads
    nothing itself."""
    pads, crops = [], []
    for before, after in twin_padding(plan):
        pads.append((max(before, 0), max(after, 0)))
        crops.append((max(-before, 0), max(-after, 0)))
    sizes = tuple((n - 1) * s + 1 - a - b for n, s, (a, b) in zip(plan.in_size, plan.stride, crops))
    if not plan.spatial_static:
        sizes = tuple(n + p0 + p1 for n, (p0, p1) in zip(sizes, pads))
        pads = [(0, 0)] * plan.rank
    twin = dataclasses.replace(plan, kind=Kind.FORWARD, in_size=sizes, stride=(1,) * plan.rank, padding=tuple(pads),
                               output_padding=(), same=False)
    return twin, tuple(crops)


def reads_nothing(plan: ConvPlan) -> bool:
    """Whether a transposed ``plan`` crops every input element away (its output is the bias alone)."""
    return plan.spatial_static and any(n < 1 for n in forward_twin(plan)[0].in_size)


def dilate(xp: Any, x: Any, plan: ConvPlan, crops: tuple[tuple[int, int], ...]) -> Any:
    """``x`` (batched, in the plan's layout) with ``s - 1`` zeros between elements on each spatial
    axis, then ``crops`` removed from its ends; with symbolic spatial sizes, padded by the twin's
    padding before the crops (:func:`forward_twin`)."""
    shape = list(plan.batched_input_shape)
    symbolic = not plan.spatial_static
    for axis, s, (a, b), (before, after) in zip(plan.spatial_axes, plan.stride, crops, twin_padding(plan)):
        n = shape[axis]
        if s > 1:
            spread = xp.stack([x] + [xp.zeros_like(x)] * (s - 1), axis=axis + 1)
            shape[axis] = n * s
            x = xp.reshape(spread, tuple(shape))
        length = (n - 1) * s + 1
        if symbolic:
            if s > 1:
                x = axis_range(x, axis, 0, length)
            shape[axis] = length
            x = padded_range(xp, x, shape, axis, (max(before, 0), max(after, 0)), "zeros")
            length = length + max(before, 0) + max(after, 0)
        if s > 1 or a or b:
            x = axis_range(x, axis, a, length - b)
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


def via_forward(xp: Any, forward: Kernel) -> Kernel:
    """A kernel for transposed plans that runs ``forward``, a forward kernel chosen for the forward
    twin (:func:`forward_twin`; the dispatcher has cut it to the twin's live taps already), on the
    zero-inserted input and the flipped weight."""

    def run(x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        twin, crops = forward_twin(plan)
        return forward(dilate(xp, x, plan, crops), flipped_weight(xp, weight, plan), bias, twin)

    return run


def extend_first(xp: Any, plan: ConvPlan) -> tuple[Callable[[Kernel], Kernel], ConvPlan]:
    """For a transposed ``plan`` whose padding mode is not zeros: the zero-padded plan of the input
    extended by the mode (``(before, after)`` elements per axis, :func:`transposed_extension`,
    cropped ``stride`` times that from the output, which keeps its size), and a wrapper that
    extends the input so before the kernel runs."""
    extensions = tuple(transposed_extension(*args) for args in zip(plan.kernel, plan.stride, plan.dilation,
                                                                 plan.padding, plan.output_padding))
    after = dataclasses.replace(
        plan, padding_mode="zeros", same=False,
        in_size=tuple(n + a + b for n, (a, b) in zip(plan.in_size, extensions)),
        padding=tuple((p0 + a * s, p1 + b * s) for (p0, p1), (a, b), s in zip(plan.padding, extensions, plan.stride)),
    )

    def wrap(kernel: Kernel) -> Kernel:
        def run(x: Any, weight: Any, bias: Any, _: ConvPlan) -> Any:
            extended = pad(xp, x, list(plan.batched_input_shape), extensions, plan.spatial_axes, plan.padding_mode)
            return kernel(extended, weight, bias, after)

        return run

    return wrap, after
