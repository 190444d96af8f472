"""The chapter's functions, as thin special cases of :func:`xpconv.conv2d`: one resolution of the
backend, then the same validation and kernels (:func:`xpconv.dispatch.prepare` and ``run``)."""

from __future__ import annotations

from typing import Any

from ._plan import ConvOptions, Kind
from .backends import resolve
from .dispatch import prepare, run

#: The chapter's convolutions: no padding, stride 1, channels first.
_OPTIONS = ConvOptions(data_format="NCHW")


def _as_arrays(X: Any, K: Any) -> tuple[Any, Any, Any, Any]:
    backend, arrays = resolve({"X": X, "K": K})
    return backend, backend.namespace(arrays["X"]), arrays["X"], arrays["K"]


def _ndim(name: str, a: Any, ndim: int, shape_text: str) -> None:
    shape = tuple(a.shape)
    if len(shape) != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array of shape {shape_text}. "
            f"Received: {name} with shape {shape} ({len(shape)}-D)"
        )


def _convolve(backend: Any, X: Any, K: Any, method: str = "auto") -> Any:
    """``X (C_in, H, W)`` and ``K (C_out, C_in, kH, kW)`` through conv2d's path, with X/K in messages."""
    named = {"X": X, "K": K, "bias": None}
    backend, xp, arrays, plan = prepare(Kind.FORWARD, named, _OPTIONS, method, resolved=(backend, named))
    return run(backend, xp, arrays, plan, method)


def corr2d(X: Any, K: Any) -> Any:
    """2-D cross-correlation of one channel.

    Parameters
    ----------
    X : array, shape (H, W)
    K : array, shape (kH, kW)

    Returns
    -------
    array, shape (H - kH + 1, W - kW + 1)
        Same library, device and dtype as ``X``.
    """
    backend, xp, X, K = _as_arrays(X, K)
    _ndim("X", X, 2, "(H, W)")
    _ndim("K", K, 2, "(kH, kW)")
    Y = _convolve(backend, xp.reshape(X, (1, *X.shape)), xp.reshape(K, (1, 1, *K.shape)))
    return xp.reshape(Y, Y.shape[1:])


def corr2d_multi_in(X: Any, K: Any) -> Any:
    """Cross-correlation summed over input channels.

    Parameters
    ----------
    X : array, shape (C_in, H, W)
    K : array, shape (C_in, kH, kW)

    Returns
    -------
    array, shape (H - kH + 1, W - kW + 1)
    """
    backend, xp, X, K = _as_arrays(X, K)
    _ndim("X", X, 3, "(C_in, H, W)")
    _ndim("K", K, 3, "(C_in, kH, kW)")
    Y = _convolve(backend, X, xp.reshape(K, (1, *K.shape)))
    return xp.reshape(Y, Y.shape[1:])


def corr2d_multi_in_out(X: Any, K: Any) -> Any:
    """One multi-input-channel cross-correlation per output channel, stacked.

    Parameters
    ----------
    X : array, shape (C_in, H, W)
    K : array, shape (C_out, C_in, kH, kW)

    Returns
    -------
    array, shape (C_out, H - kH + 1, W - kW + 1)
    """
    backend, _, X, K = _as_arrays(X, K)
    _ndim("X", X, 3, "(C_in, H, W)")
    _ndim("K", K, 4, "(C_out, C_in, kH, kW)")
    return _convolve(backend, X, K)


def corr2d_multi_in_out_1x1(X: Any, K: Any) -> Any:
    """The 1×1 convolution as one matrix product over channels.

    Parameters
    ----------
    X : array, shape (C_in, H, W)
    K : array, shape (C_out, C_in, 1, 1)

    Returns
    -------
    array, shape (C_out, H, W)
        ``K.reshape(C_out, C_in) @ X.reshape(C_in, H·W)``, reshaped; it runs the portable
        kernel, whose 1×1 case is exactly that matrix product.
    """
    backend, _, X, K = _as_arrays(X, K)
    _ndim("X", X, 3, "(C_in, H, W)")
    _ndim("K", K, 4, "(C_out, C_in, 1, 1)")
    if tuple(K.shape[2:]) != (1, 1):
        raise ValueError(
            "K must be a 1x1 kernel of shape (C_out, C_in, 1, 1). "
            f"Received: K with shape {tuple(K.shape)}"
        )
    return _convolve(backend, X, K, method="portable")
