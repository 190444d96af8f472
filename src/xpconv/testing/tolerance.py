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


#: The fast algorithms' extra error, by spatial rank, in units of ``eps · sqrt(K) · scale`` where
#: ``scale`` is the output's largest magnitude: their transforms mix a whole tile, so an output's
#: error follows the scale of its tile, not its own magnitude. Winograd's grows with the rank
#: (its matrices' norms multiply per axis: F(4,3) measured up to 2, 9 and 18 units in 1-D, 2-D
#: and 3-D); Fourier's (unitary up to scaling) does not (measured up to 9 in float64, 1.3 in float32).
ALGORITHM_ERROR = {"winograd": {1: 8.0, 2: 32.0, 3: 32.0}, "fourier": {1: 32.0, 2: 32.0, 3: 32.0}}


def allowed_error(dtype: object, reduction_length: int, magnitude: np.ndarray, algorithm: str | None = None,
                  rank: int = 2) -> np.ndarray:
    """Largest acceptable ``|result - oracle|`` per element.

    ``magnitude`` is ``conv(|x|, |w|) + |b|`` in float64 (see ``conv2d_oracle(absolute=True)``);
    for a gradient, the same sums of absolute values (``conv2d_oracle_grad(absolute=True)``).
    A sum of ``K`` rounded products drifts like ``sqrt(K)`` roundoffs of the magnitude
    (we allow 8 of them, for blocked and Winograd-style summation orders), plus one
    roundoff for the final rounding to ``dtype``. Integer dtypes: exact (0). A fast
    ``algorithm`` (``"winograd"``, ``"fourier"``) on ``rank`` spatial axes adds
    :data:`ALGORITHM_ERROR` units of ``eps · sqrt(K)`` times the output's scale.
    """
    name = dtype_name(dtype)
    if name not in EPS:
        return np.zeros_like(magnitude)
    eps = EPS[name]
    allowed = (8.0 * math.sqrt(reduction_length) + 1.0) * eps * magnitude
    if algorithm in ALGORITHM_ERROR:
        scale = float(np.max(magnitude, initial=0.0))
        allowed = allowed + ALGORITHM_ERROR[algorithm][rank] * eps * math.sqrt(reduction_length) * scale
    return allowed
