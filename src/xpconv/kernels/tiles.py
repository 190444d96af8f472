"""The matrices of the fast algorithms: Winograd (Toom-Cook) and Fourier tiles, per spatial axis.

A fast algorithm computes ``m`` outputs of a 1-D cross-correlation with ``r`` taps from a tile of
``α = m + r - 1`` inputs as ``y = A · ((G · g) ⊙ (B · d))``: ``B`` (the data transform) and ``G``
(the filter transform) map the tile and the taps to ``α``-ish transform points, the product is
pointwise, and ``A`` (the inverse) maps the points back to the ``m`` outputs. On several spatial
axes the transforms apply axis by axis (:func:`tiles`; :mod:`xpconv.kernels.transform`, shared
by every algorithm, runs each as one matrix product); only the matrices differ.

- **Winograd** F(m, r) (Lavin & Gray, arXiv 1509.09308): Toom-Cook evaluation at the points
  ``0, ±1, ±2, ±1/2, …`` and ``∞``; the matrices are derived here exactly (in rationals, then
  rounded once to float64), as wincnn does. Real throughout.
- **Fourier**: a DFT of ``α`` points (16 by default, as NNPACK's FFT tiles). The transforms are
  complex; the kernel carries real and imaginary parts as two real arrays, so every backend
  computes with real matrix products only. The first transformed axis takes the real DFT
  (``α/2 + 1`` frequencies); the inverse of that axis, applied last, keeps the real part.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from fractions import Fraction

import numpy as np

#: Winograd tile outputs by kernel taps: F(4, 3) for 3 taps (4× fewer multiplications in 2-D),
#: F(2, r) beyond; float32 error grows quickly with the tile (F(6, 3) is ~10× F(4, 3)).
WINOGRAD_OUTPUTS = {2: 4, 3: 4, 4: 3, 5: 2}
#: How many axes (the last ones) take those tiles; the others take F(2, r). The error multiplies
#: across axes: F(4, 3) on three axes is 3.0e-5 of the output's scale in float32, on two (and F(2, 3)
#: on the first) 8e-6, within the 1e-5 the tolerance model allows (measured on the 3-D bench workload).
WINOGRAD_WIDE_AXES = 2
#: Fourier tile size (points per axis) by kernel taps.
FOURIER_POINTS = 16


@dataclasses.dataclass(frozen=True)
class AxisTransform:
    """One spatial axis of an algorithm: ``m`` outputs per tile of ``alpha`` inputs, ``r`` taps,
    ``points`` transform points (complex for Fourier: their real and imaginary parts).

    ``data`` is ``(points, alpha)``, ``filter`` ``(points, r)`` and ``inverse`` ``(m, points)``,
    float64 or complex128. ``hermitian``: the inverse keeps only the real part (the axis took the
    real DFT: its ``alpha/2 + 1`` frequencies stand for all ``alpha``)."""

    m: int
    r: int
    alpha: int
    points: int
    data: np.ndarray
    filter: np.ndarray
    inverse: np.ndarray
    hermitian: bool = False


def _points(count: int) -> list[Fraction]:
    """The ``count`` finite Toom-Cook points: 0, 1, -1, 2, -2, 1/2, -1/2, 3, -3, …"""
    found = [Fraction(0)]
    for size in (1, 2, Fraction(1, 2), 3, Fraction(1, 3), 4, Fraction(1, 4)):
        found += [Fraction(size), -Fraction(size)]
    return found[:count]


def _vandermonde(points: list[Fraction], degree: int) -> list[list[Fraction]]:
    """Rows ``[1, p, …, p^(degree-1)]`` per finite point, then ``[0, …, 0, 1]`` for ``∞``."""
    rows = [[p**j for j in range(degree)] for p in points]
    return [*rows, [Fraction(0)] * (degree - 1) + [Fraction(1)]]


def _inverse(matrix: list[list[Fraction]]) -> list[list[Fraction]]:
    """The exact inverse of a square rational matrix (Gauss-Jordan)."""
    n = len(matrix)
    rows = [list(row) + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = next(i for i in range(col, n) if rows[i][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        scale = rows[col][col]
        rows[col] = [v / scale for v in rows[col]]
        for i in range(n):
            if i != col and rows[i][col] != 0:
                factor = rows[i][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[col])]
    return [row[n:] for row in rows]


@functools.cache
def winograd(m: int, r: int) -> AxisTransform:
    """F(m, r) for cross-correlation: the transpose of Toom-Cook's linear convolution.

    Linear convolution ``s = g * h`` (``h`` of length ``m``) is ``C · ((V_r g) ⊙ (V_m h))``
    with ``V_k`` the evaluation at ``α`` points (``α - 1`` finite and ``∞``) and ``C`` the
    interpolation; correlation is its transpose in ``h``: ``y = V_mᵀ · ((V_r g) ⊙ (Cᵀ d))``.
    """
    alpha = m + r - 1
    points = _points(alpha - 1)
    interpolate = _inverse(_vandermonde(points, alpha))
    as_float = functools.partial(np.array, dtype=np.float64)
    data = as_float([[float(interpolate[j][i]) for j in range(alpha)] for i in range(alpha)])  # Cᵀ
    filt = as_float([[float(v) for v in row] for row in _vandermonde(points, r)])
    inverse = as_float([[float(v) for v in row] for row in _vandermonde(points, m)]).T
    return AxisTransform(m, r, alpha, alpha, data, filt, np.ascontiguousarray(inverse))


@functools.cache
def fourier(r: int, alpha: int, first: bool) -> AxisTransform:
    """A DFT tile of ``alpha`` points for ``r`` taps; ``first``: the axis transformed first (real
    data in: the real DFT; its inverse, applied last, keeps the real part).

    ``y_i = (1/α) Σ_f ω^{fi} D_f Ĝ_f`` with ``D_f = Σ_x d_x ω^{-fx}`` and ``Ĝ_f = Σ_k g_k ω^{fk}``
    (``ω = e^{2πi/α}``): a circular correlation, exact for ``i < m = α - r + 1``.
    """
    m = alpha - r + 1
    freqs = np.arange(alpha // 2 + 1 if first else alpha)
    data = np.exp(-2j * np.pi * freqs[:, None] * np.arange(alpha)[None, :] / alpha)
    filt = np.exp(2j * np.pi * freqs[:, None] * np.arange(r)[None, :] / alpha)
    inverse = np.exp(2j * np.pi * np.arange(m)[:, None] * freqs[None, :] / alpha) / alpha
    if first:  # y = Re(Σ_f c_f ω^{fi} Z_f) / α over the real DFT's frequencies: c_f = 2 but at 0 and α/2
        inverse = inverse * np.where((freqs == 0) | (2 * freqs == alpha), 1.0, 2.0)[None, :]
    return AxisTransform(m, r, alpha, len(freqs), data, filt, inverse, hermitian=first)


@dataclasses.dataclass(frozen=True)
class Tiles:
    """An algorithm on every spatial axis: one :class:`AxisTransform` per axis, applied axis by
    axis (separably). For Fourier the last axis takes the real DFT: it is transformed first and
    inverted last (keeping the real part)."""

    axes: tuple[AxisTransform, ...]

    @property
    def m(self) -> tuple[int, ...]:
        return tuple(t.m for t in self.axes)

    @property
    def alpha(self) -> tuple[int, ...]:
        return tuple(t.alpha for t in self.axes)

    @property
    def points(self) -> int:
        return math.prod(t.points for t in self.axes)

    @property
    def complex(self) -> bool:
        return any(np.iscomplexobj(t.data) for t in self.axes)


def tiles(algorithm: str, kernel: tuple[int, ...], out_size: tuple[int, ...]) -> Tiles:
    """The matrices of ``algorithm`` for ``kernel`` (one size per spatial axis) and an output of
    ``out_size``. Winograd takes F(m, r) on the last :data:`WINOGRAD_WIDE_AXES` axes, F(2, r)
    on the others. Fourier tiles are :data:`FOURIER_POINTS` long (twice the kernel beyond), or the
    power of two that covers a smaller axis whole; the last axis takes the real DFT."""
    if algorithm == "winograd":
        narrow = len(kernel) - WINOGRAD_WIDE_AXES
        return _tiles(algorithm, kernel, tuple((2 if i < narrow else WINOGRAD_OUTPUTS.get(k, 2)) + k - 1
                                               for i, k in enumerate(kernel)))
    alphas = tuple(max(_power_of_two(k), min(max(FOURIER_POINTS, _power_of_two(2 * k)), _power_of_two(n + k - 1)))
                   for k, n in zip(kernel, out_size))
    return _tiles(algorithm, kernel, alphas)


def _power_of_two(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(n)))


@functools.cache
def _tiles(algorithm: str, kernel: tuple[int, ...], alphas: tuple[int, ...]) -> Tiles:
    rank = len(kernel)
    if algorithm == "winograd":
        return Tiles(tuple(winograd(a - k + 1, k) for k, a in zip(kernel, alphas)))
    return Tiles(tuple(fourier(k, a, i == rank - 1) for i, (k, a) in enumerate(zip(kernel, alphas))))
