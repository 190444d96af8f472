"""The public convolutions: ``conv``, ``conv1d/2d/3d``, ``conv_transpose*`` and ``plan``.

Each is thin: its keyword arguments become one :class:`ConvOptions` value, built by keyword, and
go to the dispatcher (:func:`xpconv.dispatch.call`) with the kind of convolution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from ._plan import LAYOUTS, ConvOptions, ConvPlan, Kind, PaddingArg, from_fields, make_plan
from .dispatch import call

Method = Literal["auto", "native", "portable", "winograd", "fourier"]
PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
_FORWARD, _TRANSPOSED = Kind.FORWARD, Kind.TRANSPOSED

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
    padding : {"valid", "same", "same_lower"}, int, tuple of d ints, or tuple of d (before, after) pairs
        ``"same"`` works for any stride and dilation: along each axis the total is
        ``max((ceil(n/s)-1)·s + (k-1)·dilation + 1 - n, 0)``, the odd pixel at the end
        (TensorFlow's and JAX's rule, ONNX's ``SAME_UPPER``); ``"same_lower"``: the odd pixel at
        the start (ONNX's ``SAME_LOWER``). An int or one int per axis pads both sides alike.
    groups : int
        Divides ``C_in`` and ``C_out``; ``groups == C_in`` is a depthwise convolution.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
        What the padding holds, as in PyTorch's ``nn.Conv2d``: zeros, the input mirrored
        without repeating the edge (padding smaller than the input), the edge repeated, or
        the input wrapped around (padding at most the input size).
    data_format : {"channels_first", "channels_last", "NCW", "NWC", "NCHW", "NHWC", "NCDHW", "NDHWC"}
        Layout of ``x`` and of the result; an explicit spelling must match the weight's rank.
    method : {"auto", "native", "portable", "winograd", "fourier"}
        ``"portable"``: the direct Array API implementation. ``"native"``: the framework's own
        kernel (an error for NumPy and array_api_strict). ``"winograd"``, ``"fourier"``: the
        fast algorithms (Winograd F(4,3)-style and 16-point Fourier tiles, on the Array API;
        real floating dtypes, stride 1, dilation 1, static sizes; a stated extra error, see
        :mod:`xpconv.testing.tolerance`). ``"auto"``: the kernel a cost model predicts fastest
        for the backend, dtype and shape (:mod:`xpconv.kernels.cost_model`; deterministic).
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
    options = from_fields((stride, padding, dilation, groups, padding_mode, data_format, 0, out_dtype))
    return call(_FORWARD, x, weight, bias, options, method)


def conv1d(x: Any, weight: Any, bias: Any = None, *, stride: int | tuple[int] = 1, padding: PaddingArg = 0,
           dilation: int | tuple[int] = 1, groups: int = 1, padding_mode: PaddingMode = "zeros",
           data_format: str = "NCW", method: Method = "auto", out_dtype: Any = None) -> Any:
    """1-D convolution: :func:`conv` with ``x (N, C_in, W)`` (``"NWC"``: ``(N, W, C_in)``),
    ``weight (C_out, C_in/groups, kW)``, result ``(N, C_out, W')``; unbatched without ``N``."""
    options = from_fields((stride, padding, dilation, groups, padding_mode, _layout(data_format, 1), 0, out_dtype))
    return call(_FORWARD, x, weight, bias, options, method)


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
    options = from_fields((stride, padding, dilation, groups, padding_mode, data_format, 0, out_dtype))
    return call(_FORWARD, x, weight, bias, options, method)


def conv3d(x: Any, weight: Any, bias: Any = None, *, stride: int | tuple[int, int, int] = 1, padding: PaddingArg = 0,
           dilation: int | tuple[int, int, int] = 1, groups: int = 1, padding_mode: PaddingMode = "zeros",
           data_format: str = "NCDHW", method: Method = "auto", out_dtype: Any = None) -> Any:
    """3-D convolution: :func:`conv` with ``x (N, C_in, D, H, W)`` (``"NDHWC"``: ``(N, D, H, W, C_in)``),
    ``weight (C_out, C_in/groups, kD, kH, kW)``, result ``(N, C_out, D', H', W')``; unbatched without ``N``."""
    options = from_fields((stride, padding, dilation, groups, padding_mode, _layout(data_format, 3), 0, out_dtype))
    return call(_FORWARD, x, weight, bias, options, method)


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
    padding_mode: PaddingMode = "zeros",
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
    padding : {"valid", "same", "same_lower"}, int, tuple of d ints, or tuple of d (before, after) pairs
        Numbers: what is cropped from each end of the full output, as PyTorch's ``padding``
        (pairs may differ). ``"same"``: TensorFlow's meaning, an output of ``n·stride``, the odd
        element cropped at the end; ``"same_lower"``: at the start (ONNX's ``SAME_LOWER``).
        ``"valid"``: no cropping, ``n·stride + max(dilation·(k-1) + 1 - stride, 0)`` (Keras').
    output_padding : int or tuple of d ints
        Added at the end of each axis; smaller than the stride or the dilation. Only with
        numeric padding.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
        How the input continues beyond its border: ``"zeros"`` (PyTorch's and every framework's
        transposed convolution), or extended by reflection, its edge or periodically by what the
        output window reads there, ``(d·(k-1) - pad) // stride`` elements per end. The output
        size is unchanged; ``"circular"`` with ``output = n·stride`` is the periodic upsampling
        of a periodic signal (the transpose of the strided circular :func:`conv`).
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
    options = ConvOptions(stride=stride, padding=padding, dilation=dilation, groups=groups, padding_mode=padding_mode,
                          data_format=data_format, output_padding=output_padding, out_dtype=out_dtype)
    return call(_TRANSPOSED, x, weight, bias, options, method)


def _transpose_nd(rank: int, default: str) -> Callable[..., Any]:
    axes = {1: "W", 2: "H, W", 3: "D, H, W"}[rank]
    kernel = {1: "kW", 2: "kH, kW", 3: "kD, kH, kW"}[rank]

    def conv_transpose_nd(x: Any, weight: Any, bias: Any = None, *, stride: Any = 1, padding: PaddingArg = 0,
                          output_padding: Any = 0, dilation: Any = 1, groups: int = 1,
                          padding_mode: PaddingMode = "zeros", data_format: str = default, method: Method = "auto",
                          out_dtype: Any = None) -> Any:
        options = ConvOptions(stride=stride, padding=padding, dilation=dilation, groups=groups,
                              padding_mode=padding_mode, data_format=_layout(data_format, rank),
                              output_padding=output_padding, out_dtype=out_dtype)
        return call(_TRANSPOSED, x, weight, bias, options, method)

    conv_transpose_nd.__name__ = conv_transpose_nd.__qualname__ = f"conv_transpose{rank}d"
    conv_transpose_nd.__doc__ = (
        f"{rank}-D transposed convolution: :func:`conv_transpose` with ``x (N, C_in, {axes})`` "
        f"(``{LAYOUTS[rank][1]!r}``: channels last), ``weight (C_in, C_out/groups, {kernel})``; unbatched without ``N``."
    )
    return conv_transpose_nd


conv_transpose1d = _transpose_nd(1, "NCW")
conv_transpose2d = _transpose_nd(2, "NCHW")
conv_transpose3d = _transpose_nd(3, "NCDHW")


def plan(
    input_shape: tuple[Any, ...],
    weight_shape: tuple[Any, ...],
    bias_shape: tuple[Any, ...] | None = None,
    *,
    transposed: bool = False,
    stride: int | tuple[int, ...] = 1,
    padding: PaddingArg = 0,
    output_padding: int | tuple[int, ...] = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
    data_format: str = "channels_first",
) -> ConvPlan:
    """The plan of a convolution of these shapes: every check a call makes, and its geometry.

    Parameters
    ----------
    input_shape, weight_shape : tuple of int
        As for :func:`conv` (or, with ``transposed=True``, :func:`conv_transpose`).
    bias_shape : tuple of int, optional
        ``(C_out,)``.
    transposed : bool, optional
        A transposed convolution's plan.
    stride, padding, output_padding, dilation, groups, padding_mode, data_format
        As for :func:`conv` and :func:`conv_transpose`.

    Returns
    -------
    ConvPlan
        The output shape (``plan.output_shape``), the padding per axis, the extents, the
        reduction length and cost (``plan.macs``); the same object the kernels receive.

    Raises
    ------
    ValueError, TypeError
        As the convolution itself would, naming the argument.

    Examples
    --------
    >>> import xpconv
    >>> xpconv.plan((1, 3, 32, 32), (16, 3, 3, 3), stride=2, padding="same").output_shape
    (1, 16, 16, 16)
    """
    if not isinstance(transposed, bool):
        raise TypeError(f"transposed must be a bool. Received: transposed={transposed!r}")
    kind = Kind.TRANSPOSED if transposed else Kind.FORWARD
    options = ConvOptions(stride=stride, padding=padding, dilation=dilation, groups=groups, padding_mode=padding_mode,
                          data_format=data_format, output_padding=output_padding).validated(kind)
    return make_plan(kind, options, tuple(input_shape), tuple(weight_shape),
                     None if bias_shape is None else tuple(bias_shape), ("input_shape", "weight_shape"))
