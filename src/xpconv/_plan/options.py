"""The keyword options of a convolution as one value: :class:`ConvOptions`.

The public functions build it by keyword from their arguments; :meth:`ConvOptions.validated`
checks and normalizes every option once (an int stands for every spatial axis, so the options
are independent of any shape), naming the argument in every error, and caches the answer under
the one cache rule (:func:`xpconv.cache.cache_key`). Nothing here looks at an array.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any, NamedTuple

from ..cache import LRUCache, cache_key
from .kind import Kind
from .shapes import SIZE_LIMIT

Pair = tuple[int, int]
PaddingArg = str | int | tuple[int, ...] | tuple[tuple[int, int], ...]

PADDING_STRINGS = ("valid", "same", "same_lower")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
#: Explicit layout spellings by rank: (channels first, channels last).
LAYOUTS = {1: ("NCW", "NWC"), 2: ("NCHW", "NHWC"), 3: ("NCDHW", "NDHWC")}
#: Each explicit spelling: (its rank, whether channels come last).
EXPLICIT = {name: (rank, name.index("C") != 1) for rank, names in LAYOUTS.items() for name in names}
DATA_FORMATS = ("channels_first", "channels_last", *EXPLICIT)
_PADDING_TEXT = ("padding must be 'valid', 'same', 'same_lower', a non-negative int, one int per spatial axis or one "
                 "(before, after) pair per spatial axis")


class ConvOptions(NamedTuple):
    """Every keyword option of a convolution, as given (then :meth:`ConvOptions.validated`) or normalized.

    Normalized, ``stride``, ``dilation`` and ``output_padding`` are an int (every axis) or a tuple
    of ints, ``padding`` is ``"valid"``, ``"same"``, an int, a tuple of ints or a tuple of
    ``(before, after)`` pairs, ``data_format`` is ``"channels_first"``, ``"channels_last"`` or an
    explicit spelling (``"NHWC"``...), and ``out_dtype`` is as given (it is resolved against the
    arrays' library). Hashable; a key of a cache only as :func:`xpconv.cache.cache_key` allows.
    """

    stride: Any = 1
    padding: Any = 0
    dilation: Any = 1
    groups: Any = 1
    padding_mode: Any = "zeros"
    data_format: Any = "channels_first"
    output_padding: Any = 0
    out_dtype: Any = None

    def validated(self, kind: Kind, *, cache: bool = True) -> ConvOptions:
        """These options checked and normalized for a convolution of ``kind``.

        Cached under :func:`xpconv.cache.cache_key`. ``cache=False`` (while a framework traces:
        ``torch.compile`` guards on what a global cache holds, so a miss now and a hit later would
        recompile) neither reads nor writes the cache.
        """
        key = cache_key((kind.value, *self)) if cache else None
        if key is None:
            return _validate(self, kind)
        found = _VALIDATED.get(key)
        if found is None:
            found = _validate(self, kind)
            _VALIDATED.put(key, found)
        return found


_VALIDATED: LRUCache[ConvOptions] = LRUCache(2048)

#: ``ConvOptions`` from a tuple of all its fields in order (stride, padding, dilation, groups,
#: padding_mode, data_format, output_padding, out_dtype), without the keyword machinery of
#: ``ConvOptions(...)``: 0.1 µs instead of 0.5 on the public functions' validated-call fast path.
from_fields: Callable[[tuple[Any, ...]], ConvOptions] = functools.partial(tuple.__new__, ConvOptions)


def as_int(value: object, name: str, expected: str) -> int:
    """``value`` as a Python int; bools, floats and strings are refused naming ``name``."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be {expected}. Received: {name}={value!r}")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be {expected}. Received: {name}={value!r}") from None


def _ints(value: object, name: str, minimum: int) -> int | tuple[int, ...]:
    """An int, or a tuple of ints (one per spatial axis; its length is checked by the plan)."""
    bound = "positive" if minimum == 1 else "non-negative"
    expected = f"a {bound} int or one {bound} int per spatial axis"
    if isinstance(value, (tuple, list)):
        if not 1 <= len(value) <= 3:
            raise ValueError(f"{name} must be {expected}. Received: {name}={value!r}")
        values: tuple[int, ...] = tuple(as_int(v, name, expected) for v in value)
    else:
        values = (as_int(value, name, expected),)
    if min(values) < minimum:
        raise ValueError(f"{name} must be {expected}. Received: {name}={value!r}")
    if max(values) > SIZE_LIMIT:
        raise ValueError(f"{name} must be at most 2**31 - 1 = {SIZE_LIMIT}. Received: {name}={value!r}")
    return values[0] if not isinstance(value, (tuple, list)) else values


def to_pair(value: object, name: str, *, minimum: int) -> Pair:
    """Normalize an int or a pair of ints, each at least ``minimum`` (``param_count``'s kernel size)."""
    values = _ints(value, name, minimum)
    if isinstance(values, int):
        return (values, values)
    if len(values) != 2:
        bound = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name} must be a {bound} int or a pair of {bound} ints. Received: {name}={value!r}")
    return values  # type: ignore[return-value]


def _padding(padding: object) -> str | int | tuple[int, ...] | tuple[Pair, ...]:
    """``"valid"``, ``"same"``, an int, per-axis ints, or explicit ``((before, after), ...)``."""
    if isinstance(padding, str):
        lowered = padding.lower()
        if lowered not in PADDING_STRINGS:
            raise ValueError(f"{_PADDING_TEXT}. Received: padding={padding!r}")
        return lowered
    if isinstance(padding, (tuple, list)) and padding and all(isinstance(p, (tuple, list)) for p in padding):
        if len(padding) > 3 or any(len(pair) != 2 for pair in padding):
            raise ValueError(f"{_PADDING_TEXT}. Received: padding={padding!r}")
        return tuple(tuple(_ints(tuple(pair), "padding", 0)) for pair in padding)  # type: ignore[misc]
    if isinstance(padding, (tuple, list)) and any(isinstance(p, (tuple, list)) for p in padding):
        raise ValueError(f"{_PADDING_TEXT}. Received: padding={padding!r}")
    return _ints(padding, "padding", 0)


def _layout(data_format: object) -> str:
    if not isinstance(data_format, str):
        raise TypeError(f"data_format must be one of {DATA_FORMATS}. Received: data_format={data_format!r}")
    lowered = data_format.lower()
    if lowered in ("channels_first", "channels_last"):
        return lowered
    if data_format.upper() in EXPLICIT:
        return data_format.upper()
    raise ValueError(f"data_format must be one of {DATA_FORMATS}. Received: data_format={data_format!r}")


def _mode(padding_mode: object) -> str:
    if not isinstance(padding_mode, str) or padding_mode not in PADDING_MODES:
        raise (TypeError if not isinstance(padding_mode, str) else ValueError)(
            f"padding_mode must be one of {PADDING_MODES}. Received: padding_mode={padding_mode!r}"
        )
    return padding_mode


def _validate(options: ConvOptions, kind: Kind) -> ConvOptions:
    data_format = _layout(options.data_format)
    groups = as_int(options.groups, "groups", "a positive int")
    if groups < 1:
        raise ValueError(f"groups must be a positive int. Received: groups={options.groups!r}")
    normalized = ConvOptions(
        stride=_ints(options.stride, "stride", 1),
        padding=_padding(options.padding),
        dilation=_ints(options.dilation, "dilation", 1),
        groups=groups,
        padding_mode=_mode(options.padding_mode),
        data_format=data_format,
        output_padding=_ints(options.output_padding, "output_padding", 0),
        out_dtype=options.out_dtype,
    )
    extra = normalized.output_padding
    if isinstance(normalized.padding, str) and extra not in (0, (0,), (0, 0), (0, 0, 0)):
        raise ValueError(
            "output_padding must be 0 with padding='valid', 'same' or 'same_lower' (which fix the output size: i·s "
            "for 'same'); "
            f"give the padding as ints to choose it. Received: padding={options.padding!r}, "
            f"output_padding={options.output_padding!r}"
        )
    return normalized
