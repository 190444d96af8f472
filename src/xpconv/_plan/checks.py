"""Shapes checked against the options and each other, before any arithmetic: :func:`read_shapes`.

Every error names the argument, what was expected and what was received. Only the channel
counts and the kernel's size must be plain ints; the batch and spatial sizes may be symbolic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .kind import Kind
from .options import EXPLICIT, LAYOUTS, ConvOptions
from .shapes import AXES, describe, is_static


@dataclass(frozen=True)
class Shapes:
    """What the shapes say, checked: the rank, the layout, the batch and channel counts, the
    spatial sizes (channels first, whatever the caller's layout) and the kernel."""

    rank: int
    channels_last: bool
    batched: bool
    batch: Any
    in_channels: int
    in_size: tuple[Any, ...]
    out_channels: int
    kernel: tuple[int, ...]


def _texts(rank: int, channels_last: bool, kind: Kind) -> tuple[str, str]:
    axes = ", ".join(AXES[rank])
    inner = f"{axes}, C_in" if channels_last else f"C_in, {axes}"
    return f"(N, {inner}) or ({inner})", kind.weight_text(", ".join(f"k{a}" for a in AXES[rank]))


def _rank(options: ConvOptions, weight_shape: tuple[Any, ...], weight_name: str) -> tuple[int, bool]:
    rank, layout = len(weight_shape) - 2, options.data_format
    if layout in EXPLICIT:
        wanted, channels_last = EXPLICIT[layout]
        if rank != wanted:
            raise ValueError(
                f"{weight_name} must be a {wanted + 2}-D array for data_format={layout!r} (a {wanted}-D "
                f"convolution). Received: {weight_name} with shape {describe(weight_shape)} ({len(weight_shape)}-D)"
            )
        return rank, channels_last
    if rank not in (1, 2, 3):
        raise ValueError(
            f"{weight_name} must be a 3-D, 4-D or 5-D array of shape (C_out, C_in/groups, *kernel) "
            f"(1, 2 or 3 spatial axes). Received: {weight_name} with shape {describe(weight_shape)} "
            f"({len(weight_shape)}-D)"
        )
    return rank, layout == "channels_last"


def _known(names: tuple[str, str], shapes: tuple[tuple[Any, ...], ...]) -> None:
    for name, shape in zip(names, shapes):
        if any(isinstance(d, float) for d in shape):
            raise ValueError(
                f"{name} must have known sizes. Received: {name} with shape {describe(shape)}; "
                "for a lazy array with unknown (NaN) chunk sizes, call compute_chunk_sizes() first"
            )


def read_shapes(kind: Kind, options: ConvOptions, input_shape: tuple[Any, ...], weight_shape: tuple[Any, ...],
                bias_shape: tuple[Any, ...] | None, names: tuple[str, str]) -> Shapes:
    """Check the shapes of a convolution of ``kind`` against ``options`` and each other; ``names``
    are the input's and the weight's names in messages (``x``/``weight``, or the chapter's ``X``/``K``)."""
    input_name, weight_name = names
    _known(names, (input_shape, weight_shape))
    rank, channels_last = _rank(options, weight_shape, weight_name)
    x_text, w_text = _texts(rank, channels_last, kind)
    layout = options.data_format
    if len(input_shape) not in (rank + 1, rank + 2):
        raise ValueError(
            f"{input_name} must be a {rank + 1}-D or {rank + 2}-D array of shape {x_text} for "
            f"data_format={layout!r} and a {rank}-D {weight_name}. Received: {input_name} with shape "
            f"{describe(input_shape)} ({len(input_shape)}-D)"
        )
    batched = len(input_shape) == rank + 2
    full = input_shape if batched else (1, *input_shape)
    c_in = full[-1] if channels_last else full[1]
    if not is_static(c_in):
        raise ValueError(
            f"{input_name} must have a known number of channels (only the batch and spatial sizes may be "
            f"unknown or symbolic). Received: {input_name} with shape {describe(input_shape)} for "
            f"data_format={layout!r}"
        )
    if not all(is_static(d) for d in weight_shape):
        raise ValueError(
            f"{weight_name} must have a known (static) shape. Received: {weight_name} with shape "
            f"{describe(weight_shape)}"
        )
    for name, dims, shape in ((input_name, full[1:], input_shape), (weight_name, weight_shape, weight_shape)):
        if any(is_static(d) and d == 0 for d in dims):  # a batch of 0 is allowed: an empty result
            raise ValueError(f"{name} must have no zero-sized dimension. Received: {name} with shape {describe(shape)}")
    other = full[1] if channels_last else full[-1]
    hint = f"; did you mean data_format={LAYOUTS[rank][not channels_last]!r}?"
    c_out = _channels(kind, options.groups, c_in, other, weight_shape, names, w_text, hint)
    if bias_shape is not None and (len(bias_shape) != 1 or (is_static(bias_shape[0]) and bias_shape[0] != c_out)):
        raise ValueError(
            f"bias must be None or a 1-D array of shape (C_out,) = ({c_out},). "
            f"Received: bias with shape {describe(tuple(bias_shape))}"
        )
    sizes = tuple(full[1:-1] if channels_last else full[2:])
    return Shapes(rank, channels_last, batched, full[0], c_in, sizes, c_out, tuple(weight_shape[2:]))


def _channels(kind: Kind, groups: int, c_in: int, other: Any, weight_shape: tuple[int, ...],
              names: tuple[str, str], w_text: str, hint: str) -> int:
    """The output channels, after checking the channel counts against the weight and ``groups``.
    ``other`` is the size on the other layout's channel axis: the hint names that layout where it
    would have matched."""
    input_name, weight_name = names
    transposed = kind is Kind.TRANSPOSED
    per_group = weight_shape[0] // groups if transposed else weight_shape[1]
    matches = is_static(other) and other % groups == 0 and (
        other == weight_shape[0] if transposed else other // groups == per_group)
    hint = hint if matches else ""
    if c_in % groups:
        raise ValueError(
            f"groups must divide the number of input channels. Received: groups={groups}, input channels={c_in}{hint}")
    if transposed:
        if weight_shape[0] % groups:
            raise ValueError(
                f"groups must divide {weight_name}.shape[0] (the input channels, weight shape {w_text}). "
                f"Received: groups={groups}, {weight_name}.shape[0]={weight_shape[0]}"
            )
        if c_in != weight_shape[0]:
            raise ValueError(
                f"The number of input channels must match {weight_name}.shape[0] (weight shape {w_text}). "
                f"Received: input channels={c_in}, {weight_name}.shape[0]={weight_shape[0]}, groups={groups}{hint}"
            )
        return weight_shape[1] * groups
    c_out = weight_shape[0]
    if c_out % groups:
        raise ValueError(
            f"groups must divide the number of output channels ({weight_name}.shape[0]). "
            f"Received: groups={groups}, output channels={c_out}"
        )
    if c_in // groups != per_group:
        if weight_name == "weight":
            raise ValueError(
                "The number of input channels must match the kernel's input channels "
                f"times groups (weight shape {w_text}). Received: "
                f"input channels={c_in}, kernel input channels={per_group}, groups={groups}{hint}"
            )
        raise ValueError(  # the chapter's functions: their own names, no groups
            f"The number of input channels of {input_name} must match the input channels of {weight_name} "
            f"({weight_name} shape (C_out, C_in, kH, kW)). Received: {input_name} with {c_in} input channels, "
            f"{weight_name} with {per_group}"
        )
    return c_out
