"""The public ``conv2d``: arguments → plan → backend → kernel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from . import _portable
from ._dtypes import dtype_name
from ._spec import ConvPlan, PaddingArg, make_options, make_plan
from .backends import resolve

if TYPE_CHECKING:
    from .backends import Backend

Method = Literal["auto", "native", "portable"]
METHODS = ("auto", "native", "portable")


def _shape(name: str, a: Any) -> tuple[int, ...]:
    shape = tuple(a.shape)
    if any(not isinstance(s, int) for s in shape):
        raise ValueError(
            f"{name} must have a static shape (every dimension known). Received: {name} with shape {shape}"
        )
    return shape


def check_dtypes(xp: Any, arrays: dict[str, Any]) -> None:
    """Refuse bool, complex, string and object dtypes, naming the argument."""
    for name, a in arrays.items():
        if a is None:
            continue
        try:
            ok = xp.isdtype(a.dtype, ("real floating", "integral"))
        except Exception:  # a dtype the namespace does not know at all (strings, objects)
            ok = False
        if not ok:
            raise TypeError(
                f"{name} must have a real floating-point or integer dtype. "
                f"Received: {name} with dtype {dtype_name(a.dtype)}"
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
    options = make_options(*options_args)
    backend, converted = resolve(named)
    (x_name, x), (w_name, weight), (b_name, bias) = converted.items()
    xp = backend.namespace(x)
    check_dtypes(xp, converted)
    plan = make_plan(
        options,
        _shape(x_name, x),
        _shape(w_name, weight),
        None if bias is None else _shape(b_name, bias),
        input_name=x_name,
        weight_name=w_name,
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


def run(backend: Backend, xp: Any, arrays: tuple[Any, Any, Any], plan: ConvPlan, method: str) -> Any:
    """Call the kernel ``method`` picks on arrays and a plan from :func:`prepare`."""
    x, weight, bias = arrays
    if method == "portable":
        return _portable.conv2d(xp, x, weight, bias, plan)
    if method == "native":
        return backend.native_conv2d(x, weight, bias, plan)
    return backend.auto_conv2d(xp, x, weight, bias, plan)


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
    backend, xp, arrays, plan = prepare(
        {"x": x, "weight": weight, "bias": bias},
        (stride, padding, dilation, groups, data_format),
        method,
    )
    return run(backend, xp, arrays, plan, method)
