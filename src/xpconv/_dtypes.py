"""Dtypes: names across libraries, the one promotion rule, and ``out_dtype``.

Which dtypes a backend computes is a written table (each backend's ``dtypes``, by name; the
the capability page shows it); everything here works on any backend's namespace ``xp``.

Promotion: among floating-point (real or complex) dtypes, and among integer dtypes, the Array
API's tables (``xp.result_type``). Across kinds (an integer array with a floating one) the
floating dtype wins: the result is the promotion of the floating dtypes alone, as in PyTorch
and JAX, on every backend (array_api_strict, which refuses cross-kind promotion, included).
"""

from __future__ import annotations

from typing import Any


def dtype_name(dtype: object) -> str:
    """``"float32"`` for ``torch.float32``, ``tf.float32``, ``np.float32``, ``jnp.float32``..."""
    if isinstance(dtype, type):  # NumPy's scalar types (np.float32), as array_api_compat.numpy names dtypes
        return dtype.__name__
    name = getattr(dtype, "name", None) or str(dtype)
    return str(name).rsplit(".", 1)[-1]


#: Complex dtypes: computed with PyTorch's convention, ``sum(x · w)`` without conjugation.
COMPLEX = frozenset({"complex64", "complex128"})
#: The dtypes of the Array API standard that xpconv computes (bool is not).
STANDARD = frozenset(
    {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"}
) | COMPLEX
#: Sizes in bits, for ordering dtypes in messages.
_ORDER = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "bfloat16", "float32", "float64", "complex64", "complex128")


def describe(names: frozenset[str]) -> str:
    """``"int8, int16, ..., float64"`` in a fixed, readable order."""
    return ", ".join(n for n in _ORDER if n in names)


def native_byte_order(dtype: Any) -> Any:
    """``dtype`` in the machine's byte order (NumPy's ``>f8`` becomes ``float64``); others as they are."""
    order = getattr(dtype, "byteorder", "=")
    if order in ("=", "|") or not hasattr(dtype, "newbyteorder"):
        return dtype
    return dtype.newbyteorder("=")


def is_float(xp: Any, dtype: Any) -> bool:
    """Real or complex floating point."""
    return bool(xp.isdtype(dtype, ("real floating", "complex floating")))


def is_complex(xp: Any, dtype: Any) -> bool:
    return bool(xp.isdtype(dtype, "complex floating"))


def result_dtype(xp: Any, named: dict[str, Any]) -> Any:
    """The dtype a convolution of arrays with these dtypes (by argument name) computes in (see
    the module's rule). Integers with no common integer dtype (int64 with uint64) are refused
    with a TypeError naming the arguments: they would silently become floats (NumPy) or fail
    without a name (array_api_strict)."""
    dtypes = list(named.values())
    first = dtypes[0]
    if all(d == first for d in dtypes[1:]):
        return first
    floats = [d for d in dtypes if is_float(xp, d)]
    if floats:
        return xp.result_type(*floats)
    try:
        result = xp.result_type(*dtypes)
        integral = bool(xp.isdtype(result, "integral"))
    except TypeError:
        integral = False
    if not integral:
        found = ", ".join(f"{name} with dtype {dtype_name(d)}" for name, d in named.items())
        unsigned = sorted({dtype_name(d) for d in dtypes if bool(xp.isdtype(d, "unsigned integer"))})
        signed = sorted({dtype_name(d) for d in dtypes if bool(xp.isdtype(d, "signed integer"))})
        raise TypeError(
            f"Integer arguments must have a common integer dtype ({', '.join(unsigned)} and {', '.join(signed)} "
            f"have none: no signed dtype holds every {unsigned[-1]}); cast one of them. Received: {found}"
        )
    return result


#: Bits of precision of each float (mantissa and the implicit bit), and of each integer's magnitude.
_FLOAT_BITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53, "complex64": 24, "complex128": 53}
_INT_BITS = {"int8": 7, "uint8": 8, "int16": 15, "uint16": 16, "int32": 31, "uint32": 32, "int64": 63, "uint64": 64}


def resolve_out_dtype(xp: Any, out_dtype: Any, computed: Any, backend_name: str, names: frozenset[str],
                      hint: Any = lambda name: "") -> Any:
    """``out_dtype`` (a dtype of ``xp`` or a name such as ``"int32"``) checked against the
    inputs' dtype ``computed``: it must hold every value of it (integers may widen or become
    floats; floats may only widen), and ``backend_name`` must compute it. ``hint(name)``: why the
    backend lacks a dtype, where it can say (JAX without 64-bit types)."""
    resolved = out_dtype
    if isinstance(out_dtype, str):
        resolved = getattr(xp, out_dtype, None) if out_dtype in names else None
        if resolved is None:
            raise ValueError(
                f"out_dtype must be None or a dtype the {backend_name} backend computes ({describe(names)}). "
                f"Received: out_dtype={out_dtype!r}{hint(out_dtype)}"
            )
    name = dtype_name(resolved)
    try:
        known = name in names and bool(xp.isdtype(resolved, ("real floating", "complex floating", "integral")))
    except Exception:  # not a dtype of this namespace at all
        known = False
    if not known:
        raise TypeError(
            f"out_dtype must be None or a dtype the {backend_name} backend computes ({describe(names)}). "
            f"Received: out_dtype={out_dtype!r}{hint(name)}"
        )
    if (is_float(xp, computed) and not is_float(xp, resolved)) or (is_complex(xp, computed) and not is_complex(xp, resolved)):
        holds = False
    elif is_float(xp, resolved) and not is_float(xp, computed):  # integers into a float accumulator
        holds = _INT_BITS.get(dtype_name(computed), 64) <= _FLOAT_BITS.get(name, 0)
    else:
        holds = xp.result_type(computed, resolved) == resolved
    if not holds:
        raise ValueError(
            "out_dtype must hold every value of the inputs' dtype (integers may widen, or become a float "
            "whose precision holds them, e.g. int8 -> float16, int32 -> float64; floats may only widen, to a "
            "wider float or a complex dtype; complex only to a wider complex). "
            f"Received: out_dtype={name} for inputs of dtype {dtype_name(computed)}"
        )
    return resolved
