"""The public convolutions (``conv``, ``conv1d/2d/3d``, ``conv_transpose*``): arguments → plan → backend → kernel."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from ._cache import LRUCache
from ._dtypes import describe, dtype_name, native_byte_order, resolve_out_dtype, result_dtype
from ._spec import LAYOUTS, ConvPlan, PaddingArg, make_options, make_plan
from ._taps import Reach, reach
from ._transpose import forward_twin
from .backends import backend_of_type, on_registry_change, registry_generation, resolve

if TYPE_CHECKING:
    from .backends import Backend

Method = Literal["auto", "native", "portable"]
PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
METHODS = ("auto", "native", "portable")


def _shape(backend: Backend, name: str, a: Any) -> tuple[Any, ...]:
    """``a``'s shape, unknown sizes as the backend's symbolic values; the rank must be known."""
    try:
        return backend.shape(a)
    except ValueError as error:  # an unknown rank
        raise ValueError(f"{name} must have a known number of dimensions. Received: {name} ({error})") from None


def check_dtypes(backend: Backend, xp: Any, arrays: dict[str, Any]) -> None:
    """Refuse, naming the argument, every dtype outside the backend's table (``backend.dtypes``):
    bool, strings and objects everywhere, and what a framework cannot compute (torch's
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
            real = bool(xp.isdtype(dtype, ("real floating", "complex floating", "integral")))
        except Exception:  # a dtype the namespace does not know at all (strings, objects)
            real = False
        if not real:
            raise TypeError(
                f"{name} must have a numeric dtype (integer, real or complex floating-point). "
                f"Received: {name} with dtype {found}"
            )
        hint = "; long double is not computed: convert to float64" if found in ("float128", "float96", "longdouble") else ""
        raise TypeError(
            f"{name} must have a dtype the {backend.name} backend computes ({describe(backend.dtypes)}). "
            f"Received: {name} with dtype {found}{hint}"
        )


def prepare(
    named: dict[str, Any], options_args: tuple, method: str, out_dtype: Any = None, resolved: Any = None
) -> tuple[Backend, Any, tuple[Any, Any, Any], ConvPlan]:
    """Validate everything, then bring the arrays to one dtype: no other work before every check.

    ``named`` holds the input, the weight and the bias, in that order, under the names
    that error messages use (``x``/``weight`` for ``conv``, ``X``/``K`` for the chapter's).
    ``resolved``: ``(backend, converted)`` from :func:`xpconv.backends.resolve`, where the
    caller resolved already (the chapter's functions reshape first).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}. Received: method={method!r}")
    for name, value in list(named.items())[:2]:
        if value is None:
            raise TypeError(f"{name} must be an array or a nested list of numbers. Received: {name}=None")
    if any(isinstance(v, (list, tuple, int, float)) for v in named.values()):
        make_options(*options_args, cache=False)  # options first: a list is converted (copied) by resolve
    backend, converted = resolved or resolve(named)
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
    if plan.requirements:  # sizes known only at run time: the framework checks them then
        x = backend.require(x, plan.requirements)
    arrays = (x, weight, bias)
    dtype = native_byte_order(result_dtype(xp, {n: a.dtype for n, a in converted.items() if a is not None}))
    if out_dtype is not None:
        dtype = resolve_out_dtype(xp, out_dtype, dtype, backend.name, backend.dtypes, backend.dtype_hint)
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
    """The function ``method`` runs for this backend, dtype and plan, on the caller's arrays.

    Kernels see batched arrays: for an unbatched input the batch axis is added and removed
    here, once (:meth:`Backend.add_batch`), never inside a kernel. A backend that picks the
    kernel for every method itself (:meth:`Backend.method_kernel`, Dask) is asked first.
    """
    batched = plan if plan.batched else dataclasses.replace(plan, batched=True)
    own = backend.method_kernel(xp, dtype, method, plan)
    reach = None if own is not None else _reach(batched)
    if own is not None:
        kernel = own
    elif reach is not None and reach.empty:  # nothing reads the input (an empty batch, say): no kernel runs
        kernel = backend.own_kernel(functools.partial(_bias_only, backend, xp))
    else:
        computed = batched if reach is None else reach.plan
        if method == "portable":
            kernel = backend.portable_kernel(xp)
        elif method == "native":
            kernel = backend.native_kernel(computed)
        else:
            kernel = backend.auto_kernel(xp, dtype, computed)
        if reach is not None and reach.trims:
            kernel = reach.cut(kernel)
    if not plan.batch_static:
        kernel = backend.guard_empty_batch(kernel, functools.partial(_bias_only, backend, xp))
    if plan.batched:
        return kernel

    def unbatched(x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        return backend.drop_batch(kernel(backend.add_batch(x), weight, bias, batched))

    return unbatched


def _reach(plan: ConvPlan) -> Reach | None:
    """What ``plan`` reads: ``empty`` when no output element reads the input (a batch of 0, a
    transposed convolution that crops every input element away, strides that step over it), cut
    when some taps read only zero padding (see :mod:`xpconv._taps`); ``None``: as it is."""
    if plan.batch_static and plan.batch == 0:
        return Reach((), (), plan, trims=True, empty=True)
    if plan.transposed:
        if plan.spatial_static and any(n < 1 for n in forward_twin(plan)[0].in_size):
            return Reach((), (), plan, trims=True, empty=True)
        return None
    found = reach(plan)
    return found if found is not None and found.trims else None


def _bias_only(backend: Backend, xp: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
    """The output of a plan that reads no input: zeros of the plan's shape, plus the bias."""
    y = xp.zeros(plan.batched_output_shape, dtype=x.dtype, device=backend.device(x))
    if bias is None:
        return y
    rank = plan.rank
    return y + xp.reshape(bias, (1, *(1,) * rank, -1) if plan.channels_last else (1, -1, *(1,) * rank))


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
    stride, padding, dilation, groups, data_format, padding_mode, output_padding, _ = options
    if not (type(stride) is int and type(dilation) is int and type(groups) is int and type(padding) in (int, str)
            and type(output_padding) is int and type(data_format) is str and type(padding_mode) is str):
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
    except (TypeError, AttributeError, RuntimeError):  # lists, None, nested tensors (no sizes): the full path
        return None


def _call(x: Any, weight: Any, bias: Any, options: tuple, method: str, out_dtype: Any) -> Any:
    """Validate (or find the call's signature already validated), then run the kernel."""
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


_GENERIC = {"channels_first": False, "channels_last": True}


def _layout(data_format: Any, rank: int) -> Any:
    """A rank-specific function's ``channels_first``/``channels_last`` as its explicit spelling
    (which pins the weight's rank); anything else is checked by the options."""
    if isinstance(data_format, str) and data_format.lower() in _GENERIC:
        return LAYOUTS[rank][_GENERIC[data_format.lower()]]
    return data_format


def conv(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    stride: int | tuple[int, ...] = 1,
    padding: PaddingArg = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
    data_format: str = "channels_first",
    method: Method = "auto",
    out_dtype: Any = None,
) -> Any:
    """N-D cross-correlation over channels, as in CNNs, on any supported array library.

    The number of spatial axes ``d`` (1, 2 or 3) is the weight's rank minus 2.

    Parameters
    ----------
    x : array
        ``(N, C_in, *spatial)`` or unbatched ``(C_in, *spatial)`` with ``d`` spatial sizes
        (``(N, C_in, W)``, ``(N, C_in, H, W)``, ``(N, C_in, D, H, W)``); channels last,
        ``(N, *spatial, C_in)`` or ``(*spatial, C_in)``. A NumPy, PyTorch, JAX, TensorFlow or
        array_api_strict array, any array array-api-compat recognizes, or a Python list.
    weight : array
        ``(C_out, C_in/groups, *kernel)`` in every layout.
    bias : array, optional
        ``(C_out,)``.
    stride, dilation : int or tuple of d ints
        Positive.
    padding : {"valid", "same"}, int, tuple of d ints, or tuple of d (before, after) pairs
        ``"same"`` works for any stride and dilation: along each axis the total is
        ``max((ceil(n/s)-1)·s + (k-1)·dilation + 1 - n, 0)``, the odd pixel at the end
        (TensorFlow's and JAX's rule). An int or one int per axis pads both sides alike.
    groups : int
        Divides ``C_in`` and ``C_out``; ``groups == C_in`` is a depthwise convolution.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
        What the padding holds, as in PyTorch's ``nn.Conv2d``: zeros, the input mirrored
        without repeating the edge (padding smaller than the input), the edge repeated, or
        the input wrapped around (padding at most the input size).
    data_format : {"channels_first", "channels_last", "NCW", "NWC", "NCHW", "NHWC", "NCDHW", "NDHWC"}
        Layout of ``x`` and of the result; an explicit spelling must match the weight's rank.
    method : {"auto", "native", "portable"}
        ``"portable"``: the Array API implementation. ``"native"``: the framework's own
        kernel (an error for NumPy and array_api_strict). ``"auto"``: the fastest correct
        kernel for the backend, dtype and shape.
    out_dtype : dtype or str, optional
        The dtype of the accumulation and of the result (a dtype of the inputs' library, or a
        name such as ``"int32"``); it must hold every value of the inputs' dtype. ``int8``
        inputs with ``out_dtype="int32"`` give exact int32 results; ``float16`` with
        ``"float32"`` gives float32 results with no float16 rounding in between. ``None``: the
        promoted dtype of the inputs, in which integers accumulate and wrap on overflow.

    Returns
    -------
    array
        ``(N, C_out, *out)`` (or the channels-last / unbatched equivalent), of the same
        library, device and (promoted) dtype as the inputs, with, per axis,
        ``out = floor((n + pad_before + pad_after - dilation·(k-1) - 1) / stride) + 1``.
        Complex inputs give ``sum(x · w)`` (no conjugation, as PyTorch).

    Raises
    ------
    ValueError, TypeError
        Before any computation, naming the argument, what was expected and what was received.

    Examples
    --------
    >>> import numpy as np, xpconv
    >>> x = np.arange(2 * 10, dtype=np.float32).reshape(1, 2, 10)
    >>> xpconv.conv(x, np.ones((4, 2, 3), dtype=np.float32), padding="same").shape
    (1, 4, 10)
    """
    options = (stride, padding, dilation, groups, data_format, padding_mode, 0, False)
    return _call(x, weight, bias, options, method, out_dtype)


def conv1d(x: Any, weight: Any, bias: Any = None, *, stride: int | tuple[int] = 1, padding: PaddingArg = 0,
           dilation: int | tuple[int] = 1, groups: int = 1, padding_mode: PaddingMode = "zeros",
           data_format: str = "NCW", method: Method = "auto", out_dtype: Any = None) -> Any:
    """1-D convolution: :func:`conv` with ``x (N, C_in, W)`` (``"NWC"``: ``(N, W, C_in)``),
    ``weight (C_out, C_in/groups, kW)``, result ``(N, C_out, W')``; unbatched without ``N``."""
    options = (stride, padding, dilation, groups, _layout(data_format, 1), padding_mode, 0, False)
    return _call(x, weight, bias, options, method, out_dtype)


def conv2d(x: Any, weight: Any, bias: Any = None, *, stride: int | tuple[int, int] = 1, padding: PaddingArg = 0,
           dilation: int | tuple[int, int] = 1, groups: int = 1, padding_mode: PaddingMode = "zeros",
           data_format: str = "NCHW", method: Method = "auto", out_dtype: Any = None) -> Any:
    """2-D convolution: :func:`conv` with ``x (N, C_in, H, W)`` (``"NHWC"``: ``(N, H, W, C_in)``),
    ``weight (C_out, C_in/groups, kH, kW)``, result ``(N, C_out, H', W')``; unbatched without ``N``.

    ``padding`` may also be ``((top, bottom), (left, right))``.

    Examples
    --------
    >>> import numpy as np, xpconv
    >>> x = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    >>> w = np.ones((4, 2, 2, 2), dtype=np.float32)
    >>> xpconv.conv2d(x, w).shape
    (4, 2, 2)
    """
    if type(data_format) is not str or data_format != "NCHW":  # the default needs no translation (the fast path)
        data_format = _layout(data_format, 2)
    options = (stride, padding, dilation, groups, data_format, padding_mode, 0, False)
    return _call(x, weight, bias, options, method, out_dtype)


def conv3d(x: Any, weight: Any, bias: Any = None, *, stride: int | tuple[int, int, int] = 1, padding: PaddingArg = 0,
           dilation: int | tuple[int, int, int] = 1, groups: int = 1, padding_mode: PaddingMode = "zeros",
           data_format: str = "NCDHW", method: Method = "auto", out_dtype: Any = None) -> Any:
    """3-D convolution: :func:`conv` with ``x (N, C_in, D, H, W)`` (``"NDHWC"``: ``(N, D, H, W, C_in)``),
    ``weight (C_out, C_in/groups, kD, kH, kW)``, result ``(N, C_out, D', H', W')``; unbatched without ``N``."""
    options = (stride, padding, dilation, groups, _layout(data_format, 3), padding_mode, 0, False)
    return _call(x, weight, bias, options, method, out_dtype)


def conv_transpose(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    stride: int | tuple[int, ...] = 1,
    padding: PaddingArg = 0,
    output_padding: int | tuple[int, ...] = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
    data_format: str = "channels_first",
    method: Method = "auto",
    out_dtype: Any = None,
) -> Any:
    """N-D transposed convolution (the gradient of :func:`conv` with respect to its input), PyTorch's semantics.

    Parameters
    ----------
    x : array
        ``(N, C_in, *spatial)`` or ``(C_in, *spatial)``; channels last as in :func:`conv`.
    weight : array
        ``(C_in, C_out/groups, *kernel)`` (PyTorch's ``ConvTranspose`` layout).
    bias : array, optional
        ``(C_out,)``.
    stride, dilation : int or tuple of d ints
    padding : {"valid", "same"}, int, tuple of d ints, or tuple of d (before, after) pairs
        Numbers: what is cropped from each end of the full output, as PyTorch's ``padding``
        (pairs may differ). ``"same"``: TensorFlow's meaning, an output of ``n·stride``.
        ``"valid"``: no cropping, ``n·stride + max(dilation·(k-1) + 1 - stride, 0)`` (Keras').
    output_padding : int or tuple of d ints
        Added at the end of each axis; smaller than the stride or the dilation. Only with
        numeric padding.
    groups, data_format, method, out_dtype
        As in :func:`conv`.

    Returns
    -------
    array
        ``(N, C_out, *out)`` with, per axis,
        ``out = (n-1)·stride - pad_before - pad_after + dilation·(k-1) + output_padding + 1``.

    Examples
    --------
    >>> import numpy as np, xpconv
    >>> x = np.ones((1, 4, 5, 5), dtype=np.float32)
    >>> xpconv.conv_transpose(x, np.ones((4, 2, 3, 3), dtype=np.float32), stride=2, padding=1, output_padding=1).shape
    (1, 2, 10, 10)
    """
    options = (stride, padding, dilation, groups, data_format, "zeros", output_padding, True)
    return _call(x, weight, bias, options, method, out_dtype)


def _transpose_nd(rank: int, default: str) -> Callable[..., Any]:
    axes = {1: "W", 2: "H, W", 3: "D, H, W"}[rank]
    kernel = {1: "kW", 2: "kH, kW", 3: "kD, kH, kW"}[rank]

    def conv_transpose_nd(x: Any, weight: Any, bias: Any = None, *, stride: Any = 1, padding: PaddingArg = 0,
                          output_padding: Any = 0, dilation: Any = 1, groups: int = 1, data_format: str = default,
                          method: Method = "auto", out_dtype: Any = None) -> Any:
        options = (stride, padding, dilation, groups, _layout(data_format, rank), "zeros", output_padding, True)
        return _call(x, weight, bias, options, method, out_dtype)

    conv_transpose_nd.__name__ = conv_transpose_nd.__qualname__ = f"conv_transpose{rank}d"
    conv_transpose_nd.__doc__ = (
        f"{rank}-D transposed convolution: :func:`conv_transpose` with ``x (N, C_in, {axes})`` "
        f"(``{LAYOUTS[rank][1]!r}``: channels last), ``weight (C_in, C_out/groups, {kernel})``; unbatched without ``N``."
    )
    return conv_transpose_nd


conv_transpose1d = _transpose_nd(1, "NCW")
conv_transpose2d = _transpose_nd(2, "NCHW")
conv_transpose3d = _transpose_nd(3, "NCDHW")
