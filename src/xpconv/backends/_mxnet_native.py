"""MXNet's own convolution (``mx.npx.convolution``) with xpconv's semantics, for any rank.

MXNet pads symmetrically only and convolves channels-first on the CPU: asymmetric padding is
the symmetric part passed to MXNet plus an explicit ``mx.np.pad`` of the rest, a channels-last
input is transposed in and out. Every step is recorded by ``mx.autograd``. The number of
spatial axes comes from the plan's kernel size (MXNet takes 1, 2 and 3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .._spec import ConvPlan


class _Args(NamedTuple):
    """What the kernel reads from a plan, in one place (the plan's field names may change)."""

    rank: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    groups: int
    out_channels: int
    channels_last: bool
    batched: bool
    batch: int


def _args(plan: ConvPlan) -> _Args:
    return _Args(
        rank=len(plan.kernel_hw),
        kernel=tuple(plan.kernel_hw),
        stride=tuple(plan.stride),
        dilation=tuple(plan.dilation),
        padding=tuple((int(b), int(a)) for b, a in plan.padding),
        groups=plan.groups,
        out_channels=plan.out_channels,
        channels_last=plan.data_format == "NHWC",
        batched=plan.batched,
        batch=plan.batch,
    )


def convolve(mx: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
    """Cross-correlate ``mx.np`` arrays of one float dtype as ``plan`` says; the result is in
    the caller's layout and batchedness."""
    np = mx.np
    args = _args(plan)
    if args.batch == 0:  # MXNet's convolution fails on an empty batch, and only when a result is read
        return np.zeros(plan.output_shape, dtype=x.dtype, ctx=x.ctx)
    spatial = tuple(range(2, 2 + args.rank))
    if not args.batched:
        x = np.expand_dims(x, 0)
    if args.channels_last:  # (N, *S, C) -> (N, C, *S)
        x = np.transpose(x, (0, 1 + args.rank, *range(1, 1 + args.rank)))
    symmetric = tuple(min(before, after) for before, after in args.padding)
    rest = tuple((before - s, after - s) for (before, after), s in zip(args.padding, symmetric))
    if any(b or a for b, a in rest):
        x = np.pad(x, ((0, 0), (0, 0), *rest), mode="constant")
    y = mx.npx.convolution(
        x, weight, bias,
        kernel=args.kernel, stride=args.stride, dilate=args.dilation, pad=symmetric,
        num_filter=args.out_channels, num_group=args.groups, no_bias=bias is None,
    )
    if args.channels_last:  # (N, C, *S) -> (N, *S, C)
        y = np.transpose(y, (0, *spatial, 1))
    return y if args.batched else np.squeeze(y, axis=0)
