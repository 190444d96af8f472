"""The one rule for how far a result may sit from the float64 oracle."""

from __future__ import annotations

import math

import numpy as np

from .._dtypes import dtype_name

#: Unit roundoff of each floating dtype, by name; integer results must be exact.
EPS = {
    "float16": 2.0**-10,
    "bfloat16": 2.0**-7,
    "float32": 2.0**-23,
    "float64": 2.0**-52,
    # a complex product rounds its real and imaginary parts from two products each: twice the roundoff
    "complex64": 2.0**-22,
    "complex128": 2.0**-51,
}


def allowed_error(dtype: object, reduction_length: int, magnitude: np.ndarray) -> np.ndarray:
    """Largest acceptable ``|result - oracle|`` per element.

    ``magnitude`` is ``conv(|x|, |w|) + |b|`` in float64 (see ``conv2d_oracle(absolute=True)``);
    for a gradient, the same sums of absolute values (``conv2d_oracle_grad(absolute=True)``).
    A sum of ``K`` rounded products drifts like ``sqrt(K)`` roundoffs of the magnitude
    (we allow 8 of them, for blocked and Winograd-style summation orders), plus one
    roundoff for the final rounding to ``dtype``. Integer dtypes: exact (0).
    """
    name = dtype_name(dtype)
    if name not in EPS:
        return np.zeros_like(magnitude)
    eps = EPS[name]
    return (8.0 * math.sqrt(reduction_length) + 1.0) * eps * magnitude
