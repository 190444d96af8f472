"""Which kernel taps and input positions an output reads, so that none is computed in vain.

Along one spatial axis of a zero-padded forward convolution (input ``n``, padding ``(p0, p1)``,
kernel ``k``, dilation ``d``, stride ``s``, output ``o``), tap ``i`` of output ``t`` reads input
position ``t·s + i·d - p0``. A tap that reads only padding for every ``t`` adds zeros: the live
taps are those with ``p0 - (o-1)·s <= i·d <= p0 + n - 1`` (an interval), and the input positions
they read form an interval too. :func:`reach` returns the smaller convolution over those
intervals, which gives the same output: the weight cut to the live taps, the input cut to the
positions read, and the padding that keeps the output size. A huge dilation with ``"same"``
padding (a 3-tap kernel 2**25 apart over a short signal) then costs what its live taps cost,
not memory proportional to the dilation. Where no tap of some axis reads the input, the output
is the bias alone (:attr:`Reach.empty`).

Only for plans whose sizes are plain ints and whose padding is zeros (other modes read data
from the padding). :func:`bias_only` is the kernel of a plan that reads nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._plan import ConvPlan, Kind

Kernel = Callable[[Any, Any, Any, ConvPlan], Any]


@dataclass(frozen=True)
class Reach:
    """What a forward plan reads: per spatial axis, the live taps ``[lo, hi)`` and input ``[lo, hi)``."""

    taps: tuple[tuple[int, int], ...]
    inputs: tuple[tuple[int, int], ...]
    plan: ConvPlan  # the plan over the live taps and the inputs read
    #: Some tap reads only padding: computing over the live ones is cheaper.
    trims: bool = False
    #: Some axis has no live tap: the output is the bias alone.
    empty: bool = False

    def cut(self, kernel: Kernel) -> Kernel:
        """``kernel`` run on the live taps of the weight and the input positions read."""
        first = self.plan.spatial_axes[0]
        inputs = (*(slice(None),) * first, *(slice(lo, hi) for lo, hi in self.inputs), ...)
        taps = (slice(None), slice(None), *(slice(lo, hi) for lo, hi in self.taps))
        cut = self.plan

        def run(x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
            return kernel(x[inputs], weight[taps], bias, cut)

        return run


def _axis(n: int, p0: int, k: int, d: int, s: int, o: int) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]] | None:
    """Live taps, input positions read and the new padding of one axis; ``None`` when no tap is live."""
    last = (o - 1) * s
    lo = max(0, -(-(p0 - last) // d))
    hi = min(k - 1, (p0 + n - 1) // d)
    if lo > hi:
        return None
    first = max(0, lo * d - p0)
    final = min(n - 1, last + hi * d - p0)
    before = p0 + first - lo * d
    after = last + (hi - lo) * d + 1 - (final - first + 1) - before
    return (lo, hi + 1), (first, final + 1), (before, after)


def reach(plan: ConvPlan) -> Reach | None:
    """The live taps and input positions of a static, zero-padded forward ``plan``; ``None`` when
    the sizes are not plain ints or the padding holds data (see the module's docstring)."""
    if plan.kind is not Kind.FORWARD or not plan.static or not plan.zero_padded:
        return None
    taps, inputs, pads = [], [], []
    for n, (p0, _), k, d, s, o in zip(plan.in_size, plan.padding, plan.kernel, plan.dilation, plan.stride, plan.out_size):
        axis = _axis(n, p0, k, d, s, o)
        if axis is None:
            return nothing(plan)
        taps.append(axis[0])
        inputs.append(axis[1])
        pads.append(axis[2])
    kernel = tuple(hi - lo for lo, hi in taps)
    if kernel == plan.kernel:
        return Reach(tuple(taps), tuple(inputs), plan)
    sizes = tuple(hi - lo for lo, hi in inputs)
    cut = dataclasses.replace(plan, in_size=sizes, kernel=kernel, padding=tuple(pads), same=False)
    return Reach(tuple(taps), tuple(inputs), cut, trims=True)


def nothing(plan: ConvPlan) -> Reach:
    """The reach of a plan whose output reads no input (an empty batch, say)."""
    return Reach((), (), plan, trims=True, empty=True)


def bias_only(backend: Any, xp: Any) -> Kernel:
    """The kernel of a plan that reads no input: zeros of the plan's output shape, on the input's
    device and in its dtype, plus the bias; no convolution runs."""

    def run(x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        y = xp.zeros(plan.batched_output_shape, dtype=x.dtype, device=backend.device(x))
        return y if bias is None else y + xp.reshape(bias, plan.bias_shape)

    return run
