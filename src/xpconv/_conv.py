"""The public ``conv2d``: arguments → plan → backend → kernel."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from ._cache import LRUCache
from ._dtypes import describe, dtype_name, native_byte_order, resolve_out_dtype, result_dtype
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


def check_dtypes(backend: Backend, xp: Any, arrays: dict[str, Any]) -> None:
    """Refuse, naming the argument, every dtype outside the backend's table (``backend.dtypes``):
    bool, complex, strings and objects everywhere, and what a framework cannot compute (torch's
    uint16-64, TensorFlow's uint64, 8-bit floats, 4-bit ints, long double). A name look-up: the
    answer never depends on which backend saw a shared dtype object first."""
    for name, a in arrays.items():
        if a is None:
            continue
        dtype = a.dtype
        found = dtype_name(dtype)
        if found in backend.dtypes:
            continue
        try:
            real = bool(xp.isdtype(dtype, ("real floating", "integral")))
        except Exception:  # a dtype the namespace does not know at all (strings, objects)
            real = False
        if not real:
            raise TypeError(
                f"{name} must have a real floating-point or integer dtype. Received: {name} with dtype {found}"
            )
        hint = "; long double is not computed: convert to float64" if found in ("float128", "float96", "longdouble") else ""
        raise TypeError(
            f"{name} must have a dtype the {backend.name} backend computes ({describe(backend.dtypes)}). "
            f"Received: {name} with dtype {found}{hint}"
        )


def prepare(
    named: dict[str, Any], options_args: tuple, method: str, out_dtype: Any = None
) -> tuple[Backend, Any, tuple[Any, Any, Any], ConvPlan]:
    """Validate everything, then bring the arrays to one dtype: no other work before every check.

    ``named`` holds the input, the weight and the bias, in that order, under the names
    that error messages use (``x``/``weight`` for ``conv2d``, ``X``/``K`` for the chapter's).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}. Received: method={method!r}")
    for name, value in list(named.items())[:2]:
        if value is None:
            raise TypeError(f"{name} must be an array or a nested list of numbers. Received: {name}=None")
    if any(isinstance(v, (list, tuple, int, float)) for v in named.values()):
        make_options(*options_args, cache=False)  # options first: a list is converted (copied) by resolve
    backend, converted = resolve(named)
    tracing = backend.is_tracing()  # then no cache is read or written (torch.compile guards on them)
    options = make_options(*options_args, cache=not tracing)
    (x_name, x), (w_name, weight), (b_name, bias) = converted.items()
    xp = backend.namespace(x)
    check_dtypes(backend, xp, converted)
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
    dtype = native_byte_order(result_dtype(xp, {n: a.dtype for n, a in converted.items() if a is not None}))
    if out_dtype is not None:
        dtype = resolve_out_dtype(xp, out_dtype, dtype, backend.name, backend.dtypes)
    if method == "native":
        if not backend.has_native:
            raise ValueError(
                f"method='native' needs a backend with a native convolution. Received: arrays of "
                f"backend {backend.name!r}, which has none; use method='auto' or 'portable'"
            )
        if not backend.native_supports(dtype):
            raise ValueError(
                f"method='native': the {backend.name} convolution does not support dtype "
                f"{dtype_name(dtype)}. Received: {x_name} with dtype {dtype_name(x.dtype)}"
                + ("" if out_dtype is None else f", out_dtype={dtype_name(dtype)}")
                + "; use method='auto'"
            )
    # every check passed: now, and only now, copies (promotion, byte order, out_dtype)
    arrays = tuple(a if a is None or a.dtype == dtype else xp.astype(a, dtype) for a in arrays)
    return backend, xp, arrays, plan


def kernel_for(
    backend: Backend, xp: Any, dtype: Any, method: str, plan: ConvPlan
) -> Callable[[Any, Any, Any, ConvPlan], Any]:
    """The function ``method`` runs for this backend, dtype and plan."""
    if method == "portable":
        return backend.portable_kernel(xp)
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
    the look-up hashes it once (an unhashable part means the full path)."""
    stride, padding, dilation, groups, _ = options
    if not (type(stride) is int and type(dilation) is int and type(groups) is int and type(padding) in (int, str)):
        return None  # tuples may hide bools that would compare equal to ints: take the full path
    try:
        shape, w_shape = x.shape, weight.shape
        if type(sum(shape) + sum(w_shape)) is not int:
            return None  # symbolic (SymInt, JAX dims), unknown (None) or NaN sizes: never hashed
        if bias is None:
            return (type(x), type(weight), shape, w_shape, x.dtype, weight.dtype, options, method)
        b_shape = bias.shape
        if type(sum(b_shape)) is not int:
            return None
        return (type(x), type(weight), type(bias), shape, w_shape, b_shape,
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
    out_dtype: Any = None,
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
    out_dtype : dtype or str, optional
        The dtype of the accumulation and of the result (a dtype of the inputs' library, or a
        name such as ``"int32"``); it must hold every value of the inputs' dtype. ``int8``
        inputs with ``out_dtype="int32"`` give exact int32 results (ONNX ``ConvInteger``,
        zero points aside); ``float16`` with ``"float32"`` gives float32 results with no
        float16 rounding in between. ``None``: the promoted dtype of the inputs, in which
        integers accumulate and wrap on overflow, as in every framework.

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
    key = None
    if known is not None and out_dtype is None and not known.is_tracing():
        key = _signature(x, weight, bias, options, method)
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
    backend, xp, arrays, plan = prepare({"x": x, "weight": weight, "bias": bias}, options, method, out_dtype)
    kernel = kernel_for(backend, xp, arrays[0].dtype, method, plan)
    if key is not None and plan.static and arrays[0] is x and arrays[1] is weight and arrays[2] is bias:
        _CALLS.put(key, (backend, plan, kernel))  # nothing converted or promoted: the signature decides all
        if registry_generation() != generation:  # a backend was registered meanwhile: the entry may be stale
            _CALLS.clear()
    return kernel(*arrays, plan)
