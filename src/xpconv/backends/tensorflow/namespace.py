"""A small Array API namespace for ``tf.Tensor``: exactly what xpconv's core uses.

array-api-compat does not wrap TensorFlow, so xpconv ships this. It provides the
functions listed in :data:`xpconv.kernels.core_api.CORE_FUNCTIONS`, with the standard's names,
signatures and semantics, plus the standard's dtype objects. Importing it imports
TensorFlow; xpconv does so only once the caller holds a ``tf.Tensor``.

Functions: ``asarray``, ``astype``, ``broadcast_to``, ``clip``, ``concat``, ``exp``, ``flip``,
``floor``, ``isdtype``, ``matmul``, ``permute_dims``, ``reshape``, ``result_type``, ``round``,
``stack``, ``take``, ``zeros``, ``zeros_like``.

Type promotion follows the standard's tables within a kind; across kinds (an integer
with a floating dtype) the floating dtype wins, as in PyTorch and JAX, and float16 with
bfloat16 gives float32; a complex dtype wins over a real one (complex64 with float64 gives
complex128).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import tensorflow as tf

__array_api_version__ = "2024.12"

bool = tf.bool
int8, int16, int32, int64 = tf.int8, tf.int16, tf.int32, tf.int64
uint8, uint16, uint32, uint64 = tf.uint8, tf.uint16, tf.uint32, tf.uint64
float16, bfloat16, float32, float64 = tf.float16, tf.bfloat16, tf.float32, tf.float64
complex64, complex128 = tf.complex64, tf.complex128

_SIGNED = (int8, int16, int32, int64)
_UNSIGNED = (uint8, uint16, uint32, uint64)
_REAL = (float16, bfloat16, float32, float64)
_COMPLEX = (complex64, complex128)
_KINDS = {
    "bool": (bool,),
    "signed integer": _SIGNED,
    "unsigned integer": _UNSIGNED,
    "integral": _SIGNED + _UNSIGNED,
    "real floating": _REAL,
    "complex floating": _COMPLEX,
    "numeric": _SIGNED + _UNSIGNED + _REAL + _COMPLEX,
}


def _device_scope(device: Any) -> Any:
    return tf.device(device) if device else contextlib.nullcontext()


def asarray(obj: Any, /, *, dtype: Any = None, device: Any = None, copy: Any = None) -> tf.Tensor:
    """Convert ``obj`` (a tensor, a NumPy array, a nested sequence or a scalar) to a tensor."""
    with _device_scope(device):
        if isinstance(obj, (tf.Tensor, tf.Variable)):
            out = tf.identity(obj) if copy else tf.convert_to_tensor(obj)
            return out if dtype is None else tf.cast(out, dtype)
        try:
            return tf.convert_to_tensor(obj, dtype=dtype)
        except (TypeError, ValueError):  # e.g. floats asked for as integers: convert, then cast
            if dtype is None:
                raise
            return tf.cast(tf.convert_to_tensor(obj), dtype)


def astype(x: tf.Tensor, dtype: Any, /, *, copy: Any = True, device: Any = None) -> tf.Tensor:
    """``x`` cast to ``dtype`` (integer casts from floats truncate toward zero)."""
    with _device_scope(device):
        if x.dtype == dtype:
            return tf.identity(x) if copy else x
        return tf.cast(x, dtype)


def broadcast_to(x: tf.Tensor, /, shape: Sequence[int]) -> tf.Tensor:
    return tf.broadcast_to(x, tuple(shape))


def clip(x: tf.Tensor, /, min: Any = None, max: Any = None) -> tf.Tensor:
    """``x`` limited to ``[min, max]`` (either may be None), in ``x``'s dtype."""
    if min is not None:
        x = tf.maximum(x, tf.cast(min, x.dtype))
    if max is not None:
        x = tf.minimum(x, tf.cast(max, x.dtype))
    return x


def concat(arrays: Sequence[tf.Tensor], /, *, axis: int | None = 0) -> tf.Tensor:
    """Join along ``axis`` (flattened first when ``axis`` is None), promoting dtypes."""
    arrays = list(arrays)
    dtype = result_type(*arrays)
    arrays = [a if a.dtype == dtype else tf.cast(a, dtype) for a in arrays]
    if axis is None:
        return tf.concat([tf.reshape(a, (-1,)) for a in arrays], axis=0)
    return tf.concat(arrays, axis=axis)


def exp(x: tf.Tensor, /) -> tf.Tensor:
    return tf.exp(x)


def flip(x: tf.Tensor, /, *, axis: int | Sequence[int] | None = None) -> tf.Tensor:
    """``x`` reversed along ``axis`` (every axis when None)."""
    axes = list(range(x.shape.rank)) if axis is None else [axis] if isinstance(axis, int) else list(axis)
    return tf.reverse(x, axis=axes)


def floor(x: tf.Tensor, /) -> tf.Tensor:
    return tf.floor(x)


def isdtype(dtype: Any, kind: Any) -> bool:
    """Whether ``dtype`` is ``kind``: a dtype, a kind name, or a tuple of those."""
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        try:
            return dtype in _KINDS[kind]
        except KeyError:
            raise ValueError(f"kind must be a dtype or one of {sorted(_KINDS)}. Received: {kind!r}") from None
    return dtype == kind


# TensorFlow's CPU MatMul has no kernels for 8- and 16-bit integers: widen, then wrap back.
_MATMUL_WIDE = {int8: int32, int16: int32, uint8: int32, uint16: int32, uint32: int64}


def matmul(x1: tf.Tensor, x2: tf.Tensor, /) -> tf.Tensor:
    """The standard's ``matmul``: 1-D operands promoted and squeezed; batch dims broadcast."""
    dtype = result_type(x1, x2)
    a, b = tf.cast(x1, dtype), tf.cast(x2, dtype)
    if a.shape.rank == 0 or b.shape.rank == 0:
        raise ValueError("matmul needs operands of at least one dimension; received a 0-D operand")
    squeeze = []
    if a.shape.rank == 1:
        a, squeeze = a[None, :], [*squeeze, -2]
    if b.shape.rank == 1:
        b, squeeze = b[:, None], [*squeeze, -1]
    wide = _MATMUL_WIDE.get(dtype)
    if wide is not None:
        out = tf.cast(tf.linalg.matmul(tf.cast(a, wide), tf.cast(b, wide)), dtype)
    else:
        out = tf.linalg.matmul(a, b)
    return tf.squeeze(out, axis=squeeze) if squeeze else out


def permute_dims(x: tf.Tensor, /, axes: Sequence[int]) -> tf.Tensor:
    return tf.transpose(x, perm=list(axes))


def reshape(x: tf.Tensor, /, shape: Sequence[int], *, copy: Any = None) -> tf.Tensor:
    return tf.reshape(x, tuple(shape))


def _promote(a: Any, b: Any) -> Any:
    if a == b:
        return a
    if a == bool or b == bool:
        raise TypeError(f"result_type: bool does not promote with other dtypes. Received: {a!r}, {b!r}")
    if a in _COMPLEX or b in _COMPLEX:  # complex wins; its precision is the wider of the two
        bits = max(_PRECISION.get(a, 0), _PRECISION.get(b, 0))
        return complex128 if bits > 32 else complex64
    a_real, b_real = a in _REAL, b in _REAL
    if a_real and b_real:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a.size > b.size else b
    if a_real or b_real:  # across kinds: the floating dtype (implementation-defined in the standard)
        return a if a_real else b
    if (a in _SIGNED) == (b in _SIGNED):
        return a if a.size > b.size else b
    signed, unsigned = (a, b) if a in _SIGNED else (b, a)
    if signed.size > unsigned.size:
        return signed
    if unsigned.size < 8:
        return {1: int16, 2: int32, 4: int64}[unsigned.size]
    raise TypeError(f"result_type: no integer dtype holds both {a!r} and {b!r}")


# bits of each floating component, for promotion with complex dtypes
_PRECISION = {float16: 16, bfloat16: 16, float32: 32, float64: 64, complex64: 32, complex128: 64}


def result_type(*arrays_and_dtypes: Any) -> Any:
    """The promoted dtype of tensors and dtypes, by the standard's promotion tables."""
    if not arrays_and_dtypes:
        raise ValueError("result_type needs at least one array or dtype")
    dtypes = [getattr(a, "dtype", a) for a in arrays_and_dtypes]
    out = tf.as_dtype(dtypes[0])
    for d in dtypes[1:]:
        out = _promote(out, tf.as_dtype(d))
    return out


def round(x: tf.Tensor, /) -> tf.Tensor:
    """The nearest integer value, halves to even (``tf.round``'s rule, the standard's)."""
    return tf.round(x)


def stack(arrays: Sequence[tf.Tensor], /, *, axis: int = 0) -> tf.Tensor:
    """Join along a new ``axis``, promoting dtypes."""
    arrays = list(arrays)
    dtype = result_type(*arrays)
    return tf.stack([a if a.dtype == dtype else tf.cast(a, dtype) for a in arrays], axis=axis)


def take(x: tf.Tensor, indices: tf.Tensor, /, *, axis: int | None = None) -> tf.Tensor:
    """The elements of ``x`` at ``indices`` (1-D integers) along ``axis`` (of the flattened ``x`` when None)."""
    if axis is None:
        return tf.gather(tf.reshape(x, (-1,)), indices)
    return tf.gather(x, indices, axis=axis)


def zeros(shape: Any, *, dtype: Any = None, device: Any = None) -> tf.Tensor:
    """Zeros of ``shape`` (whose sizes may be scalar tensors: sizes known only at run time)."""
    with _device_scope(device):
        sizes = shape if isinstance(shape, (tuple, list)) else (shape,)
        if any(isinstance(n, (tf.Tensor, tf.Variable)) for n in sizes):
            shape = tf.stack([tf.cast(n, tf.int32) for n in sizes])
        return tf.zeros(shape, dtype=float32 if dtype is None else dtype)


def zeros_like(x: tf.Tensor, /, *, dtype: Any = None, device: Any = None) -> tf.Tensor:
    with _device_scope(device):
        return tf.zeros_like(x, dtype=dtype)
