"""The public ``conv2d``: arguments → plan → backend → kernel."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from . import _portable
from ._cache import LRUCache
from ._dtypes import dtype_name
from ._spec import ConvPlan, PaddingArg, make_options, make_plan
from .backends import backend_of_type, on_registry_change, registry_generation, resolve

if TYPE_CHECKING:
    from .backends import Backend

Method = Literal["auto", "native", "portable"]
METHODS = ("auto", "native", "portable")


def _shape(backend: Backend, name: str, a: Any) -> tuple[Any, ...]:
    """``a``'s shape, unknown sizes as the backend's symbolic values; the rank must be known."""
    try:
        return backend.shape(a)
    except ValueError as error:  # an unknown rank
        raise ValueError(f"{name} must have a known number of dimensions. Received: {name} ({error})") from None


_DTYPE_OK: LRUCache[bool] = LRUCache(256)


def check_dtypes(backend: Backend, xp: Any, arrays: dict[str, Any], *, cache: bool = True) -> None:
    """Refuse bool, complex, string and object dtypes, naming the argument.

    Memoized per backend and dtype: NumPy (ml_dtypes) and JAX share dtype objects such as
    bfloat16, and one backend's answer must never decide another's. ``cache=False`` while
    the framework traces (see :func:`xpconv._spec.make_options`).
    """
    for name, a in arrays.items():
        if a is None:
            continue
        dtype = a.dtype
        key = (backend.name, type(dtype), dtype)  # the type first: no cross-library dtype comparison
        ok = _DTYPE_OK.get(key) if cache else None
        if ok is None:
            try:
                ok = bool(xp.isdtype(dtype, ("real floating", "integral")))
            except Exception:  # a dtype the namespace does not know at all (strings, objects)
                ok = False
            if cache:
                _DTYPE_OK.put(key, ok)
        if not ok:
            raise TypeError(
                f"{name} must have a real floating-point or integer dtype. "
                f"Received: {name} with dtype {dtype_name(dtype)}"
            )


def prepare(
    named: dict[str, Any], options_args: tuple, method: str
) -> tuple[Backend, Any, tuple[Any, Any, Any], ConvPlan]:
    """Validate everything and promote dtypes; no arithmetic yet.

    ``named`` holds the input, the weight and the bias, in that order, under the names
    that error messages use (``x``/``weight`` for ``conv2d``, ``X``/``K`` for the chapter's).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}. Received: method={method!r}")
    backend, converted = resolve(named)
    tracing = backend.is_tracing()  # then no cache is read or written (torch.compile guards on them)
    options = make_options(*options_args, cache=not tracing)
    (x_name, x), (w_name, weight), (b_name, bias) = converted.items()
    xp = backend.namespace(x)
    check_dtypes(backend, xp, converted, cache=not tracing)
    plan = make_plan(
        options,
        _shape(backend, x_name, x),
        _shape(backend, w_name, weight),
        None if bias is None else _shape(backend, b_name, bias),
        x_name,
        w_name,
        maximum=backend.size_max,
        traced=tracing,
    )
    arrays = (x, weight, bias)
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != x.dtype):
        dtype = xp.result_type(*(a for a in arrays if a is not None))
        arrays = tuple(None if a is None else xp.astype(a, dtype) for a in arrays)
    x = arrays[0]
    if method == "native":
        if not backend.has_native:
            raise ValueError(
                f"method='native' needs a backend with a native convolution. Received: arrays of "
                f"backend {backend.name!r}, which has none; use method='auto' or 'portable'"
            )
        if not backend.native_supports(x.dtype):
            raise ValueError(
                f"method='native': the {backend.name} convolution does not support dtype "
                f"{dtype_name(x.dtype)}. Received: {x_name} with dtype {dtype_name(x.dtype)}; use method='auto'"
            )
    return backend, xp, arrays, plan


def kernel_for(
    backend: Backend, xp: Any, dtype: Any, method: str, plan: ConvPlan
) -> Callable[[Any, Any, Any, ConvPlan], Any]:
    """The function ``method`` runs for this backend, dtype and plan."""
    if method == "portable":
        return functools.partial(_portable.conv2d, xp)
    if method == "native":
        return backend.native_conv2d
    return backend.auto_kernel(xp, dtype, plan)


def run(backend: Backend, xp: Any, arrays: tuple[Any, Any, Any], plan: ConvPlan, method: str) -> Any:
    """Call the kernel ``method`` picks on arrays and a plan from :func:`prepare`."""
    return kernel_for(backend, xp, arrays[0].dtype, method, plan)(*arrays, plan)


# Calls already validated, by signature: (types, shapes, dtypes, simple options, method) ->
# (backend, plan, kernel). A hit skips every check that depends only on the signature; the
# devices of the actual arrays are still compared on every call. Registering a backend
# clears it (through the registry's hook, so a hit costs no generation check).
_CALLS: LRUCache[tuple[Backend, ConvPlan, Callable]] = LRUCache(4096)
on_registry_change(_CALLS.clear)


def _signature(x: Any, weight: Any, bias: Any, options: tuple, method: str) -> tuple | None:
    """The cache key of a call, or ``None`` where the full path must run. Not hashed here:
    the look-up hashes it once, and an unhashable key (a TensorShape) means the full path."""
    stride, padding, dilation, groups, _ = options
    if not (type(stride) is int and type(dilation) is int and type(groups) is int and type(padding) in (int, str)):
        return None  # tuples may hide bools that would compare equal to ints: take the full path
    try:
        shape = x.shape
        if type(sum(shape)) is not int:
            return None  # symbolic (SymInt, JAX dims), unknown (None) or NaN sizes: never hashed
        if bias is None:
            return (type(x), type(weight), shape, weight.shape, x.dtype, weight.dtype, options, method)
        return (type(x), type(weight), type(bias), shape, weight.shape, bias.shape,
                x.dtype, weight.dtype, bias.dtype, options, method)
    except (TypeError, AttributeError):  # lists, None, shapes that do not add up: the full path
        return None


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: PaddingArg = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    data_format: Literal["NCHW", "NHWC"] = "NCHW",
    method: Method = "auto",
) -> Any:
    """2-D cross-correlation over channels, as in CNNs, on any supported array library.

    Parameters
    ----------
    x : array
        ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``; with ``data_format="NHWC"``,
        ``(N, H, W, C_in)`` or ``(H, W, C_in)``. A NumPy, PyTorch, JAX, TensorFlow or
        array_api_strict array, any array array-api-compat recognizes, or a Python list.
    weight : array
        ``(C_out, C_in/groups, kH, kW)`` in every layout.
    bias : array, optional
        ``(C_out,)``.
    stride, dilation : int or (int, int)
        Positive.
    padding : {"valid", "same"}, int, (int, int) or ((int, int), (int, int))
        Zero padding. ``"same"`` works for any stride and dilation: along each axis the
        total is ``max((ceil(n/s)-1)·s + (k-1)·d + 1 - n, 0)``, the odd pixel at the end
        (TensorFlow's and JAX's rule). An int or a pair pads both sides alike;
        ``((top, bottom), (left, right))`` is explicit.
    groups : int
        Divides ``C_in`` and ``C_out``; ``groups == C_in`` is a depthwise convolution.
    data_format : {"NCHW", "NHWC"}
        Layout of ``x`` and of the result.
    method : {"auto", "native", "portable"}
        ``"portable"``: the Array API implementation. ``"native"``: the framework's own
        kernel (an error for NumPy and array_api_strict). ``"auto"``: the fastest correct
        kernel for the backend and dtype.

    Returns
    -------
    array
        ``(N, C_out, H', W')`` (or the NHWC / unbatched equivalent), of the same library,
        device and (promoted) dtype as the inputs, with
        ``H' = floor((H + pad_top + pad_bottom - dilation·(kH-1) - 1) / stride) + 1``.

    Raises
    ------
    ValueError, TypeError
        Before any computation, naming the argument, what was expected and what was received.

    Examples
    --------
    >>> import numpy as np, xpconv
    >>> x = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    >>> w = np.ones((4, 2, 2, 2), dtype=np.float32)
    >>> xpconv.conv2d(x, w).shape
    (4, 2, 2)
    """
    options = (stride, padding, dilation, groups, data_format)
    known = backend_of_type(type(x))
    key = None if known is None or known.is_tracing() else _signature(x, weight, bias, options, method)
    hit = None
    if key is not None:
        try:
            hit = _CALLS.get(key)
        except TypeError:  # an unhashable part (TensorShape): the full path, uncached
            key = None
    if hit is not None:
        backend, plan, kernel = hit
        backend.check_devices(x, weight, bias)
        return kernel(x, weight, bias, plan)
    generation = registry_generation()
    backend, xp, arrays, plan = prepare({"x": x, "weight": weight, "bias": bias}, options, method)
    kernel = kernel_for(backend, xp, arrays[0].dtype, method, plan)
    if key is not None and plan.static and arrays[0] is x and arrays[1] is weight and arrays[2] is bias:
        _CALLS.put(key, (backend, plan, kernel))  # nothing converted or promoted: the signature decides all
        if registry_generation() != generation:  # a backend was registered meanwhile: the entry may be stale
            _CALLS.clear()
    return kernel(*arrays, plan)
