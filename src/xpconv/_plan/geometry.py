"""Per-axis geometry of a plan: the padding, the output size, and every check that needs a size.

A check whose sizes are plain ints is made now and raises; one that needs a size known only
when the framework runs becomes a :class:`Requirement` of the plan, checked then by the
framework (:meth:`xpconv.backends.Backend.require`) with the same message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .options import ConvOptions, Pair
from .shapes import (
    SIZE_LIMIT,
    describe,
    extent,
    is_static,
    joined,
    output_size,
    run_time_text,
    same_padding,
    transposed_extension,
    transposed_size,
)

#: The padding strings that give the output ceil(n / stride) elements (transposed: n·stride).
SAME = ("same", "same_lower")
_TRANSPOSED_RULE = ("The transposed convolution's output must have at least one element on each axis: "
                    "(i-1)·stride - pad_before - pad_after + dilation·(k-1) + output_padding + 1")


class Requirement(NamedTuple):
    """A check that needs a size known only at run time: ``lhs >= rhs`` must hold, else
    ``ValueError(message)``. The message formats no size that may be symbolic (that could fix it
    while a framework traces)."""

    lhs: Any
    rhs: Any
    message: str


@dataclass(frozen=True)
class Axes:
    """The per-axis numbers a convolution's options give for ``rank`` spatial axes."""

    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    kernel: tuple[int, ...]

    @property
    def extents(self) -> tuple[int, ...]:
        return tuple(extent(k, d) for k, d in zip(self.kernel, self.dilation))


@dataclass(frozen=True)
class Geometry:
    """The padding (forward: added; transposed: cropped), the output padding (transposed), the
    output size, whether all are plain ints, and the checks left for run time."""

    padding: tuple[tuple[Any, Any], ...]
    output_padding: tuple[int, ...]
    out_size: tuple[Any, ...]
    spatial_static: bool
    requirements: tuple[Requirement, ...]


def per_axis(value: int | tuple[int, ...], rank: int, name: str) -> tuple[int, ...]:
    """An option given as an int or one int per axis, as one int per axis."""
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        raise ValueError(
            f"{name} must be an int or {rank} int{'s' if rank > 1 else ''} (one per spatial axis) for a {rank}-D "
            f"convolution. Received: {name}={value!r}"
        )
    return value


def explicit_padding(padding: Any, rank: int) -> tuple[Pair, ...]:
    """Numeric padding as one ``(before, after)`` pair per axis."""
    if isinstance(padding, int):
        return ((padding, padding),) * rank
    if isinstance(padding[0], int):
        return tuple((p, p) for p in per_axis(padding, rank, "padding"))
    if len(padding) != rank:
        raise ValueError(
            f"padding must have one (before, after) pair per spatial axis: {rank} for a {rank}-D convolution. "
            f"Received: padding={padding!r}"
        )
    return padding


def _static(*values: Any) -> bool:
    return all(is_static(v) for v in values)


def forward(options: ConvOptions, axes: Axes, sizes: tuple[Any, ...], input_shape: tuple[Any, ...], name: str,
            maximum: Callable[[Any, Any], Any], traced: bool) -> Geometry:
    """The geometry of a forward convolution over ``sizes`` (``name``'s spatial sizes)."""
    rank = len(axes.kernel)
    if options.padding == "valid":
        padding = ((0, 0),) * rank
    elif options.padding in SAME:
        padding = tuple(same_padding(n, k, s, d, maximum) for n, k, s, d in zip(sizes, axes.kernel, axes.stride,
                                                                               axes.dilation))
        if options.padding == "same_lower":  # ONNX's SAME_LOWER: the odd pixel before
            padding = tuple((b, a) for a, b in padding)
    else:
        padding = explicit_padding(options.padding, rank)
    known = not traced and _static(*sizes, *(p for pair in padding for p in pair))
    requirements = _fits(options, axes, sizes, padding, input_shape, name, known, traced)
    requirements += _modes(options, sizes, padding, input_shape, name, known, traced)
    out_size = tuple(output_size(n, k, s, d, p) for n, k, s, d, p in zip(sizes, axes.kernel, axes.stride,
                                                                         axes.dilation, padding))
    spatial_static = not traced and _static(*sizes, *out_size, *(p for pair in padding for p in pair))
    return Geometry(padding, (), out_size, spatial_static, requirements)


def _fits(options: ConvOptions, axes: Axes, sizes: tuple[Any, ...], padding: tuple[tuple[Any, Any], ...],
          input_shape: tuple[Any, ...], name: str, known: bool, traced: bool) -> tuple[Requirement, ...]:
    """The kernel fits the padded input (checked now when the sizes are known; "same" always fits)."""
    extents = axes.extents
    if known:
        padded = tuple(n + a + b for n, (a, b) in zip(sizes, padding))
        if any(e > p for e, p in zip(extents, padded)):
            raise ValueError(
                f"The kernel must not be larger than the padded input. Received: kernel size {joined(axes.kernel)} "
                f"(dilated extent {joined(extents)}), padded input size {joined(padded)} ({name} {joined(sizes)}, "
                f"padding {padding}, dilation {axes.dilation})"
            )
        if any(p > SIZE_LIMIT for p in padded):
            raise ValueError(
                "The padded input size must be below 2**31 along each axis (the frameworks index with 32-bit "
                f"ints). Received: padded input size {joined(padded)} from {name} {joined(sizes)}, padding {padding}"
            )
        return ()
    if options.padding in SAME:
        return ()
    text = run_time_text(name, input_shape, traced)
    return tuple(
        Requirement(n + a + b, e, (
            f"The kernel must not be larger than the padded input. Received: {name} of size below {e - a - b} on "
            f"spatial axis {axis} ({text}), kernel size {joined(axes.kernel)} (dilated extent {joined(extents)}), "
            f"padding {padding}"))
        for axis, (n, (a, b), e) in enumerate(zip(sizes, padding, extents))
        if traced or not is_static(n) or n + a + b < e
    )


def _modes(options: ConvOptions, sizes: tuple[Any, ...], padding: tuple[tuple[Any, Any], ...],
           input_shape: tuple[Any, ...], name: str, known: bool, traced: bool,
           what: str = "padding") -> tuple[Requirement, ...]:
    """Reflect padding is smaller than the input, circular padding at most the input (PyTorch's limits).

    ``padding``: what the mode makes up before and after the input on each axis (a transposed
    convolution's extension, ``what="extension"``)."""
    mode = options.padding_mode
    if mode not in ("reflect", "circular"):
        return ()
    relation = "smaller than" if mode == "reflect" else "at most"
    rule = (f"padding_mode={mode!r} needs padding {relation} the input size on each axis" if what == "padding" else
            f"padding_mode={mode!r} on a transposed convolution extends the input by (d·(k-1) - padding) // stride "
            f"elements on each end (what its output window reads beyond the input), {relation} the input size")
    requirements = []
    for axis, (n, (a, b)) in enumerate(zip(sizes, padding)):
        # "same" puts the odd pixel after, "same_lower" before
        largest = {"same": b, "same_lower": a}.get(options.padding, max(a, b)) if what == "padding" else max(a, b)
        needed = largest + 1 if mode == "reflect" else largest
        if known:
            if n < needed:
                raise ValueError(
                    f"{rule}. Received: {what} {(a, b)} on spatial axis {axis} of size {n} "
                    f"({name} shape {describe(input_shape)})"
                )
            continue
        amounts = repr(options.padding) if options.padding in SAME and what == "padding" else (a, b)
        requirements.append(Requirement(n, needed, (
            f"{rule}. Received: {what} {amounts} on spatial axis {axis} of {name} "
            f"({run_time_text(name, input_shape, traced)})")))
    return tuple(requirements)


def transposed(options: ConvOptions, axes: Axes, sizes: tuple[Any, ...], input_shape: tuple[Any, ...], name: str,
               traced: bool) -> Geometry:
    """The geometry of a transposed convolution (PyTorch's semantics; "valid"/"same" as TensorFlow's)."""
    rank, stride, dilation, kernel = len(axes.kernel), axes.stride, axes.dilation, axes.kernel
    if isinstance(options.padding, str):
        extra = tuple(max(s - e, 0) for s, e in zip(stride, axes.extents))
        if options.padding == "valid":  # Keras' rule: i·s + max(e - s, 0)
            padding = ((0, 0),) * rank
        else:  # "same", an output of i·s: crop what the forward "same" pads ("same_lower": the odd one first)
            totals = tuple(max(e - s, 0) for s, e in zip(stride, axes.extents))
            padding = tuple((t - t // 2, t // 2) if options.padding == "same_lower" else (t // 2, t - t // 2)
                            for t in totals)
    else:
        padding = explicit_padding(options.padding, rank)
        extra = per_axis(options.output_padding, rank, "output_padding")
        for axis, (op, s, d) in enumerate(zip(extra, stride, dilation)):
            if op >= s and op >= d:
                raise ValueError(
                    "output_padding must be smaller than the stride or the dilation on each axis. Received: "
                    f"output_padding={options.output_padding!r}, stride={stride}, dilation={dilation} (spatial axis {axis})"
                )
    out_size = tuple(transposed_size(n, k, s, d, p, op) for n, k, s, d, p, op in zip(sizes, kernel, stride, dilation,
                                                                                    padding, extra))
    if not traced and _static(*sizes):
        if any(o < 1 for o in out_size):
            raise ValueError(
                f"{_TRANSPOSED_RULE}. Received: output size {joined(out_size)} from {name} {joined(sizes)}, kernel "
                f"{joined(kernel)}, stride {stride}, padding {padding}, dilation {dilation}"
            )
        if any(o > SIZE_LIMIT for o in out_size):
            raise ValueError(
                "The output size must be below 2**31 along each axis (the frameworks index with 32-bit ints). "
                f"Received: output size {joined(out_size)}"
            )
    requirements = tuple(
        Requirement(o, 1, (
            f"{_TRANSPOSED_RULE}. Received: {name} too small on spatial axis {axis} "
            f"({run_time_text(name, input_shape, traced)}), kernel {joined(kernel)}, stride {stride}, padding "
            f"{padding}, dilation {dilation}"))
        for axis, (n, o) in enumerate(zip(sizes, out_size))
        if traced or not is_static(n)
    )
    extensions = tuple(transposed_extension(*args) for args in zip(kernel, stride, dilation, padding, extra))
    requirements += _modes(options, sizes, extensions, input_shape, name, not traced and _static(*sizes), traced,
                           "extension")
    spatial_static = not traced and _static(*sizes, *out_size)
    return Geometry(padding, extra, out_size, spatial_static, requirements)
