"""Python lists and scalars as arrays: read once with NumPy, then given the input's dtype.

A nested list is read with NumPy (a dependency), which tells its kind (integer, real or
complex) and refuses what is not a rectangular array of numbers; the message then says why:
a ``None``, an object, an integer beyond 64 bits, or rows of different lengths (strings and bools
are read as such, and refused as every string or bool array is). Beside an
input array, the list takes the input's dtype as the Array API's Python scalars do: an input
of a floating dtype makes every number of that dtype (a complex list: the complex dtype of the
same precision), an integer input makes integers of its dtype (they must fit); floats beside an
integer input take the library's default floating dtype.
"""

from __future__ import annotations

import warnings
from typing import Any

_INT_RANGES = {"int8": (-(2**7), 2**7 - 1), "int16": (-(2**15), 2**15 - 1), "int32": (-(2**31), 2**31 - 1),
               "int64": (-(2**63), 2**63 - 1), "uint8": (0, 2**8 - 1), "uint16": (0, 2**16 - 1),
               "uint32": (0, 2**32 - 1), "uint64": (0, 2**64 - 1)}
_COMPLEX_OF = {"float16": "complex64", "bfloat16": "complex64", "float32": "complex64", "float64": "complex128"}


def _why(value: Any) -> str:
    """Why NumPy could not read ``value`` as a rectangular array of numbers."""
    shapes: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            shapes.add(len(item))
            stack.extend(item)
        elif item is None:
            return "it holds None"
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not -(2**63) <= item < 2**64:
                return f"it holds {item}, an integer beyond 64 bits"
        elif not isinstance(item, (float, complex)) and not hasattr(item, "dtype"):
            return f"it holds a value of type {type(item).__name__}, not a number"
    return "a ragged nested list (rows of different lengths)"


def numbers(name: str, value: Any) -> Any:
    """``value`` (a nested list or a Python scalar) as a NumPy array of numbers, or a named ``ValueError``."""
    import numpy as np

    def refuse(reason: str) -> ValueError:
        return ValueError(f"{name} must be an array or a rectangular nested list of numbers. Received: {name} of "
                          f"type {type(value).__name__} that cannot be read as one ({reason})")

    try:
        with warnings.catch_warnings():  # NumPy < 1.24 made an object array of a ragged list, with a warning
            warnings.simplefilter("ignore", getattr(np, "VisibleDeprecationWarning", Warning))
            data = np.asarray(value)
    except (ValueError, TypeError, OverflowError):
        raise refuse(_why(value)) from None
    if data.dtype.kind == "O":
        raise refuse(_why(value))
    if data.dtype.kind not in "biufc":  # strings: not numbers, as a string array is not
        raise TypeError(f"{name} must have a numeric dtype (integer, real or complex floating-point). "
                        f"Received: {name} with dtype {data.dtype}")
    return data


def list_dtype(xp: Any, name: str, data: Any, like: Any) -> Any:
    """The dtype that numbers read from a list take beside the array ``like`` (see the module's docstring)."""
    from .._dtypes import dtype_name

    kind = data.dtype.kind
    if kind == "b":
        return None  # bools stay bools, and are refused as every bool array is
    target = dtype_name(like.dtype)
    floating = bool(xp.isdtype(like.dtype, "real floating"))
    if bool(xp.isdtype(like.dtype, "complex floating")):
        return like.dtype
    if floating:
        return getattr(xp, _COMPLEX_OF.get(target, "complex128"), None) if kind == "c" else like.dtype
    if kind in "biu" and target in _INT_RANGES:
        low, high = _INT_RANGES[target]
        if data.size and (int(data.min()) < low or int(data.max()) > high):
            raise ValueError(
                f"{name} must hold numbers that fit the input's dtype {target} ({low} to {high}), as Python "
                f"integers beside an integer array do. Received: {name} with values from {int(data.min())} to "
                f"{int(data.max())}; pass an array of a wider dtype"
            )
        return like.dtype
    return xp.asarray(0j if kind == "c" else 0.0).dtype  # the library's default floating dtype
