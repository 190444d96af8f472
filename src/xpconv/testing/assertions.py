"""Assertions that check what a result *is*, not only its values (after SciPy's ``xp_assert_close``):
its library, dtype, shape and device, then its values within the one tolerance model."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._dtypes import dtype_name
from .tolerance import allowed_error


def assert_array(fw: Any, result: Any, *, dtype: str, shape: tuple[int, ...], device: Any = None) -> None:
    """``result`` is an array of the library of ``fw`` (an :class:`~xpconv.testing.Adapter`), with this
    dtype, shape and device."""
    assert fw.is_array(result), f"expected a {fw.name} array, got {type(result).__module__}.{type(result).__name__}"
    assert dtype_name(result.dtype) == dtype, f"dtype {dtype_name(result.dtype)} != {dtype}"
    assert tuple(result.shape) == tuple(shape), f"shape {tuple(result.shape)} != {tuple(shape)}"
    if device is not None:
        assert fw.device(result) == device, f"device {fw.device(result)} != {device}"


def assert_close(
    fw: Any, result: Any, expected: np.ndarray, *, dtype: str, magnitude: np.ndarray | None = None,
    reduction_length: int = 1, device: Any = None, algorithm: str | None = None, rank: int = 2,
) -> float:
    """Type, dtype, shape, device, then values within the dtype/reduction-length tolerance.

    ``expected`` is float64 (the oracle or another framework's result); ``magnitude``
    defaults to ``|expected|``; ``algorithm`` and ``rank``: a fast algorithm's allowance
    (:func:`~xpconv.testing.tolerance.allowed_error`). Returns the largest deviation.
    """
    assert_array(fw, result, dtype=dtype, shape=expected.shape, device=device)
    actual = fw.to_numpy(result)
    actual = actual.astype(np.complex128 if np.iscomplexobj(actual) else np.float64)
    mag = np.abs(expected) if magnitude is None else magnitude
    allowed = allowed_error(dtype, reduction_length, mag, algorithm, rank)
    deviation = np.abs(actual - expected)
    bad = deviation > allowed
    assert not bad.any(), (
        f"{int(bad.sum())} of {bad.size} elements outside tolerance ({dtype}, K={reduction_length}); "
        f"worst deviation {deviation.max():.3g} where {allowed.ravel()[np.argmax(deviation - allowed)]:.3g} is allowed"
    )
    return float(deviation.max(initial=0.0))
