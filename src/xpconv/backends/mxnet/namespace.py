"""A small Array API namespace for ``mx.np.ndarray``: exactly what xpconv's core uses.

MXNet's ``mx.np`` is NumPy-like but not the standard: ``asarray``, ``astype`` (as a function),
``concat``, ``permute_dims`` and ``isdtype`` are missing, ``result_type`` rejects arrays,
``reshape`` rejects ``copy=``, ``flip`` rejects ``axis=None`` and negative axes,
``stack``/``concatenate`` refuse mixed dtypes, Python integers become float32, and
``matmul`` has kernels for float32 and float64 only (MXNet 1.9.1). This module provides the functions listed in :data:`xpconv.kernels.core_api.CORE_FUNCTIONS` with the
standard's names, signatures and semantics, plus the dtype objects (NumPy's, as ``mx.np``
arrays report them). Importing it imports MXNet; xpconv does so only once the caller holds an
MXNet array.

Functions: ``asarray``, ``astype``, ``broadcast_to``, ``clip``, ``concat``, ``exp``, ``flip``,
``floor``, ``isdtype``, ``matmul``, ``permute_dims``, ``reshape``, ``result_type``, ``round``,
``stack``, ``take``, ``zeros``, ``zeros_like``.

MXNet has the dtypes int8, int32, int64, uint8, float16, float32 and float64 (no int16, no
uint16-64, no bfloat16, no complex). Promotion follows the standard's tables within a kind;
across kinds the floating dtype wins, as in PyTorch and JAX. ``matmul`` on integers is exact
(wrapping on overflow like every integer product): the operands are split into 16-bit limbs
whose products float64 sums exactly. Every function also takes legacy ``mx.nd.NDArray``
arrays and then returns one (``xpconv`` reshapes and casts the caller's arrays with them);
the conversions share memory and keep ``mx.autograd`` recording.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Sequence
from typing import Any

import mxnet as mx
import numpy as _onp

_np = mx.np

__array_api_version__ = "2024.12"

bool = _onp.dtype("bool")
int8, int32, int64, uint8 = (_onp.dtype(n) for n in ("int8", "int32", "int64", "uint8"))
float16, float32, float64 = (_onp.dtype(n) for n in ("float16", "float32", "float64"))

_SIGNED = (int8, int32, int64)
_UNSIGNED = (uint8,)
_REAL = (float16, float32, float64)
_KINDS = {
    "bool": (bool,),
    "signed integer": _SIGNED,
    "unsigned integer": _UNSIGNED,
    "integral": _SIGNED + _UNSIGNED,
    "real floating": _REAL,
    "complex floating": (),
    "numeric": _SIGNED + _UNSIGNED + _REAL,
}


def _keeps_kind(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` on ``mx.np`` views of its array arguments (one, or a sequence of them); its
    result is an ``mx.nd.NDArray`` when the (first) argument was one."""

    @functools.wraps(function)
    def wrapper(arrays: Any, /, *args: Any, **kwargs: Any) -> Any:
        many = isinstance(arrays, (list, tuple))
        first = (arrays[0] if arrays else None) if many else arrays
        if not isinstance(first, mx.nd.NDArray) or isinstance(first, _np.ndarray):
            if not many or all(isinstance(a, _np.ndarray) for a in arrays):
                return function(arrays, *args, **kwargs)
            return function([_as_np(a) for a in arrays], *args, **kwargs)
        converted = [_as_np(a) for a in arrays] if many else _as_np(arrays)
        return function(converted, *args, **kwargs).as_nd_ndarray()

    return wrapper


def _as_np(a: Any) -> Any:
    return a.as_np_ndarray() if isinstance(a, mx.nd.NDArray) and not isinstance(a, _np.ndarray) else a


def _dtype(dtype: Any) -> Any:
    """A NumPy dtype object for a dtype, a scalar type (``mx.nd`` arrays report those) or a name."""
    return _onp.dtype(dtype)


def asarray(obj: Any, /, *, dtype: Any = None, device: Any = None, copy: Any = None) -> Any:
    """Convert ``obj`` (an MXNet array, a NumPy array, a nested sequence or a scalar) to an ``mx.np`` array.

    Python integers become int64 and Python floats float32 (MXNet's default floating dtype);
    ``device`` is an MXNet context (the current one when ``None``).
    """
    if isinstance(obj, mx.nd.NDArray):  # mx.np.ndarray subclasses it
        out = obj if isinstance(obj, _np.ndarray) else obj.as_np_ndarray()
        if device is not None and out.ctx != device:
            out = out.as_in_context(device)
        elif copy:
            out = out.copy()
        return out if dtype is None else astype(out, dtype, copy=False)
    data = _onp.asarray(obj)
    if dtype is None and data.dtype == _onp.float64 and not isinstance(obj, (_onp.ndarray, _onp.generic)):
        data = data.astype(_onp.float32)
    elif dtype is not None:
        data = data.astype(_dtype(dtype))
    if data.dtype not in _KINDS["numeric"] + (bool,):
        raise TypeError(f"asarray: MXNet has no dtype {data.dtype}")
    return _np.array(data, dtype=data.dtype, ctx=device)


def astype(x: Any, dtype: Any, /, *, copy: Any = True, device: Any = None) -> Any:
    """``x`` cast to ``dtype`` (integer casts from floats truncate toward zero), of ``x``'s kind."""
    if device is not None and x.ctx != device:
        x = x.as_in_context(device)
    return x.astype(_dtype(dtype), copy=builtins.bool(copy))


@_keeps_kind
def broadcast_to(x: Any, /, shape: Sequence[int]) -> Any:
    return _np.broadcast_to(x, tuple(shape))


@_keeps_kind
def clip(x: Any, /, min: Any = None, max: Any = None) -> Any:
    """``x`` limited to ``[min, max]`` (either may be None)."""
    if min is not None:
        x = _np.maximum(x, min)
    if max is not None:
        x = _np.minimum(x, max)
    return x


@_keeps_kind
def exp(x: Any, /) -> Any:
    return _np.exp(x)


@_keeps_kind
def floor(x: Any, /) -> Any:
    return _np.floor(x)


@_keeps_kind
def take(x: Any, indices: Any, /, *, axis: int | None = None) -> Any:
    """The elements of ``x`` at ``indices`` (1-D integers) along ``axis`` (of the flattened ``x`` when None)."""
    if axis is None:
        return _np.take(_np.reshape(x, (-1,)), indices)
    return _np.take(x, indices, axis=axis)


@_keeps_kind
def round(x: Any, /) -> Any:
    """The nearest integer value, halves to even (MXNet's ``round`` takes halves away from zero and
    its ``rint`` down: built from ``floor``)."""
    floor = _np.floor(x)
    frac = x - floor
    odd = (floor - 2 * _np.floor(floor / 2)).astype(x.dtype)  # 1 where floor is odd
    up = (frac > 0.5).astype(x.dtype) + (frac == 0.5).astype(x.dtype) * odd
    return floor + up


def _common(arrays: Sequence[Any]) -> list[Any]:
    arrays = list(arrays)
    dtype = result_type(*arrays)
    return [a if a.dtype == dtype else a.astype(dtype) for a in arrays]


@_keeps_kind
def concat(arrays: Sequence[Any], /, *, axis: int | None = 0) -> Any:
    """Join along ``axis`` (flattened first when ``axis`` is None), promoting dtypes."""
    arrays = _common(arrays)
    if axis is None:
        return _np.concatenate([_np.reshape(a, (-1,)) for a in arrays], axis=0)
    return _np.concatenate(arrays, axis=axis)


@_keeps_kind
def flip(x: Any, /, *, axis: int | tuple[int, ...] | None = None) -> Any:
    """``x`` with the order of elements reversed along ``axis`` (every axis when None)."""
    ndim = x.ndim
    axes = tuple(range(ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(a + ndim if a < 0 else a for a in axes)
    if not axes:
        return x.copy()
    return _np.flip(x, axis=axes)


def isdtype(dtype: Any, kind: Any) -> Any:
    """Whether ``dtype`` is ``kind``: a dtype, a kind name, or a tuple of those."""
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        try:
            return _dtype(dtype) in _KINDS[kind]
        except KeyError:
            raise ValueError(f"kind must be a dtype or one of {sorted(_KINDS)}. Received: {kind!r}") from None
    return _dtype(dtype) == _dtype(kind)


def matmul(x1: Any, x2: Any, /) -> Any:
    """The standard's ``matmul``: 1-D operands promoted and squeezed; batch dims broadcast.

    float32 and float64 use MXNet's ``matmul``; float16 is computed in float32 and rounded
    once; integers exactly (see :func:`_integer_matmul`).
    """
    if isinstance(x1, mx.nd.NDArray) and not isinstance(x1, _np.ndarray):
        return _matmul(_as_np(x1), _as_np(x2)).as_nd_ndarray()
    return _matmul(x1, _as_np(x2))


def _matmul(x1: Any, x2: Any) -> Any:
    dtype = result_type(x1, x2)
    a = x1 if x1.dtype == dtype else x1.astype(dtype)
    b = x2 if x2.dtype == dtype else x2.astype(dtype)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul needs operands of at least one dimension; received a 0-D operand")
    vector_a, vector_b = a.ndim == 1, b.ndim == 1
    if vector_a:
        a = _np.expand_dims(a, 0)
    if vector_b:
        b = _np.expand_dims(b, -1)
    if dtype in (float32, float64):
        out = _np.matmul(a, b)
    elif dtype == float16:
        out = _np.matmul(a.astype(float32), b.astype(float32)).astype(float16)
    else:
        out = _integer_matmul(a, b, dtype)
    if vector_a or vector_b:  # drop the axes the 1-D operands gained
        shape = out.shape[:-2] + (() if vector_a else out.shape[-2:-1]) + (() if vector_b else out.shape[-1:])
        out = _np.reshape(out, shape)
    return out


#: Bits per limb: products of two limbs are below 2**32, so float64 sums 2**21 of them exactly.
_LIMB = 16
_LIMBS = {int8: 1, uint8: 1, int32: 2, int64: 4}


def _limbs(a: Any, count: int) -> list[Any]:
    """``a`` (integers) as ``count`` float64 arrays of 16-bit limbs, least significant first:
    ``a = Σ limb_i · 2**(16 i)``; the lower limbs lie in [0, 2**16), the top one is signed."""
    if count == 1:
        return [a.astype(float64)]
    a = a.astype(int64)
    out = []
    for _ in range(count - 1):
        low = _np.bitwise_and(a, (1 << _LIMB) - 1)
        out.append(low.astype(float64))
        a = ((a - low).astype(float64) / float(1 << _LIMB)).astype(int64)  # exact: a multiple of 2**16
    out.append(a.astype(float64))
    return out


def _integer_matmul(a: Any, b: Any, dtype: Any) -> Any:
    """Exact ``a @ b`` of integers of ``dtype`` (at least 2-D), wrapping modulo ``2**bits``.

    MXNet has no integer matrix product. The operands are split into 16-bit limbs; each limb
    product is a float64 ``matmul`` whose sums are exact (every term is below ``2**32`` in
    magnitude, and the inner axis is summed in chunks of ``2**21``); the partial products are
    recombined in int64, whose arithmetic wraps, and cast to ``dtype``.
    """
    count = _LIMBS[dtype]
    limit = 2**53 // (2 ** (2 * _LIMB) if count > 1 else 2**16)  # terms float64 sums exactly
    a_limbs, b_limbs = _limbs(a, count), _limbs(b, count)
    k = a.shape[-1]
    total = None
    for start in range(0, k, limit):
        stop = min(k, start + limit)
        for i in range(count):
            for j in range(count - i):  # limbs of weight 2**(16(i+j)) >= 2**64 vanish
                part = _np.matmul(a_limbs[i][..., start:stop], b_limbs[j][..., start:stop, :]).astype(int64)
                if i + j:  # at most 2**48: an int64 product, which wraps
                    part = part * (1 << (_LIMB * (i + j)))
                total = part if total is None else total + part
    return total.astype(dtype)


@_keeps_kind
def permute_dims(x: Any, /, axes: Sequence[int]) -> Any:
    return _np.transpose(x, tuple(axes))


@_keeps_kind
def reshape(x: Any, /, shape: Sequence[int], *, copy: Any = None) -> Any:
    """``x`` in ``shape``; a 0-d array (which MXNet operates on only with NumPy's shape semantics,
    ``npx.set_np()``) is reshaped with them on."""
    if x.ndim == 0 and not mx.util.is_np_shape():
        with mx.util.np_shape(True):
            out = _np.reshape(x, tuple(shape))
    else:
        out = _np.reshape(x, tuple(shape))
    return out.copy() if copy else out


def _promote(a: Any, b: Any) -> Any:
    if a == b:
        return a
    if a == bool or b == bool:
        raise TypeError(f"result_type: bool does not promote with other dtypes. Received: {a!r}, {b!r}")
    a_real, b_real = a in _REAL, b in _REAL
    if a_real and b_real:
        return a if a.itemsize > b.itemsize else b
    if a_real or b_real:  # across kinds: the floating dtype (implementation-defined in the standard)
        return a if a_real else b
    if (a in _SIGNED) == (b in _SIGNED):
        return a if a.itemsize > b.itemsize else b
    signed, unsigned = (a, b) if a in _SIGNED else (b, a)
    if signed.itemsize > unsigned.itemsize:
        return signed
    return int32  # uint8 with int8: int16 in the standard, which MXNet lacks; int32 holds both


def result_type(*arrays_and_dtypes: Any) -> Any:
    """The promoted dtype of arrays and dtypes, by the standard's promotion tables."""
    if not arrays_and_dtypes:
        raise ValueError("result_type needs at least one array or dtype")
    dtypes = [_dtype(getattr(a, "dtype", a)) for a in arrays_and_dtypes]
    out = dtypes[0]
    for d in dtypes[1:]:
        out = _promote(out, d)
    return out


@_keeps_kind
def stack(arrays: Sequence[Any], /, *, axis: int = 0) -> Any:
    """Join along a new ``axis``, promoting dtypes."""
    return _np.stack(_common(arrays), axis=axis)


def zeros(shape: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """Zeros of ``shape`` (a 0 in it is a size, as in NumPy, not MXNet's "unknown")."""
    with mx.util.np_shape(True):
        return _np.zeros(shape, dtype=float32 if dtype is None else _dtype(dtype), ctx=device)


@_keeps_kind
def zeros_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> Any:
    return _np.zeros_like(x, dtype=None if dtype is None else _dtype(dtype), ctx=device)
