"""MXNet's own convolutions (``mx.npx.convolution``, ``mx.npx.deconvolution``) with xpconv's semantics.

The arrays are batched ``mx.np`` arrays (see :class:`xpconv.backends.mxnet.MxnetBackend`); the
dispatcher never sends an empty batch here.
MXNet pads symmetrically only and convolves channels-first on the CPU: asymmetric padding is
the symmetric part passed to MXNet plus an explicit ``mx.np.pad`` of the rest (a transposed
convolution crops the rest from its output instead), a channels-last input is transposed in
and out. Every step is recorded by ``mx.autograd``. ``npx.convolution`` takes 1, 2 and 3
spatial axes; ``npx.deconvolution`` on the CPU only 1 and 2, and with a dilation above 1 its
results differ from the definition (MXNet 1.9.1), so those plans take the forward twin
(:mod:`xpconv.kernels.transpose`) on ``npx.convolution``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..._plan import ConvPlan


def _channels_first(np: Any, x: Any, plan: ConvPlan) -> Any:
    return np.transpose(x, plan.to_channels_first) if plan.channels_last else x


def _caller_layout(np: Any, y: Any, plan: ConvPlan) -> Any:
    return np.transpose(y, plan.from_channels_first) if plan.channels_last else y


def _split(padding: tuple[tuple[int, int], ...]) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Padding pairs as the symmetric part MXNet takes and what remains on each side."""
    symmetric = tuple(min(before, after) for before, after in padding)
    rest = tuple((before - s, after - s) for (before, after), s in zip(padding, symmetric))
    return symmetric, rest


def convolve(mx: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
    """Cross-correlate batched ``mx.np`` arrays of one float dtype, zero padding, as ``plan`` says."""
    np = mx.np
    x = _channels_first(np, x, plan)
    symmetric, rest = _split(tuple((int(b), int(a)) for b, a in plan.padding))
    if any(b or a for b, a in rest):
        x = np.pad(x, ((0, 0), (0, 0), *rest), mode="constant")
    y = mx.npx.convolution(
        x, weight, bias,
        kernel=plan.kernel, stride=plan.stride, dilate=plan.dilation, pad=symmetric,
        num_filter=plan.out_channels, num_group=plan.groups, no_bias=bias is None,
    )
    return _caller_layout(np, y, plan)


def has_deconvolution(plan: ConvPlan) -> bool:
    """Whether ``npx.deconvolution`` computes ``plan`` (a transposed plan) correctly on the CPU."""
    return plan.rank <= 2 and all(d == 1 for d in plan.dilation)


def deconvolve(mx: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
    """A transposed convolution (PyTorch's semantics) of batched ``mx.np`` arrays: MXNet crops
    the symmetric part of the padding, the rest is sliced off its output."""
    np = mx.np
    x = _channels_first(np, x, plan)
    symmetric, rest = _split(tuple((int(b), int(a)) for b, a in plan.padding))
    y = mx.npx.deconvolution(
        x, weight, bias,
        kernel=plan.kernel, stride=plan.stride, dilate=plan.dilation, pad=symmetric,
        adj=plan.output_padding, num_filter=plan.out_channels, num_group=plan.groups, no_bias=bias is None,
    )
    if any(b or a for b, a in rest):
        y = y[(slice(None), slice(None), *(slice(b, b + n) for (b, _), n in zip(rest, plan.out_size)))]
    return _caller_layout(np, y, plan)
