"""Which kernel ``method="auto"`` runs: a cost model, deterministic, with calibrated constants.

For a plan a fast algorithm can run (:func:`xpconv.kernels.transform.unsupported`), each candidate's
time is predicted from the plan alone, in seconds:

- the framework's own convolution, or xpconv's direct kernel: ``macs · per_mac + moved · per_element``
  (``moved``: the input's and the output's elements);
- a fast algorithm: ``products · per_product + transformed · per_element + weights · per_weight``,
  where ``products`` counts the multiplications of its per-point matrix products
  (``N·G·(k·C_out/G)·(k·C_in/G)`` per point and tile), ``transformed`` the elements its data
  transforms write (``N·(C_in + C_out)·k·points`` per tile) and ``weights`` the elements of the
  per-point weight matrices its products read, once per block of tiles
  (``points·C_in·C_out/G``): the cost of many small matrix products, which dominates on small
  images (a 28×28 layer's 16×16 Fourier tiles give each point a 16-row product).

The constants (per backend, dtype width and number of spatial axes: a framework's efficiency
differs most between ranks, e.g. XLA's 3-D convolution runs at a third of its 2-D speed) are
measured by ``xpconv bench --calibrate`` and shipped in ``calibration.json``; nothing is timed at
call time, so the same call always takes the same path. A fast algorithm is chosen where its
predicted time over the other kernel's (the ratio: what the choice turns on), made worse by the
ratio model's risk on the calibration workloads (``{algorithm}_over_{kernel}``: how much slower,
relatively, the measured ratio came out than the predicted one, worst case, on the workloads it
was predicted at least as fast on), is under a margin (:data:`MARGIN`): ``auto`` must never be
slower than the kernel it would otherwise run. A backend or rank without constants never takes one
in ``auto`` (``method="winograd"``/``"fourier"`` force one).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._dtypes import dtype_name
from .transform import ALGORITHMS, block_rows, unsupported

if TYPE_CHECKING:
    from .._plan import ConvPlan
    from ..backends import Backend

#: A fast algorithm's predicted time over the other kernel's, after the ratio model's risk, must be
#: under this to be chosen.
MARGIN = 0.9
#: Fewer input channels per group than this never pay for the transforms (depthwise layers).
MIN_CHANNELS = 8
CALIBRATION = Path(__file__).with_name("calibration.json")


#: Tables in force instead of the calibration, innermost last (:func:`using`).
_OVERRIDES: list[dict[str, Any]] = []


@functools.lru_cache(maxsize=1)
def _calibration() -> dict[str, Any]:
    path = os.environ.get("XPCONV_COST_MODEL") or CALIBRATION
    return json.loads(Path(path).read_text())


def constants() -> dict[str, Any]:
    """The table in force: ``{"backends": {name: {width: {"<rank>d": {constant: seconds}}}}, ...}``, read once
    from ``$XPCONV_COST_MODEL`` (a file written by ``xpconv bench --calibrate``) or the shipped
    ``calibration.json``, unless :func:`using` says otherwise."""
    return _OVERRIDES[-1] if _OVERRIDES else _calibration()


def reload() -> None:
    """Read the calibration again on next use (after ``XPCONV_COST_MODEL`` changed)."""
    _calibration.cache_clear()


def overridden() -> bool:
    """Whether :func:`using` is in force (then the dispatcher caches no choice)."""
    return bool(_OVERRIDES)


@contextlib.contextmanager
def using(table: dict[str, Any]) -> Iterator[None]:
    """Choose with ``table`` inside the block (``{"backends": {}}``: never a fast algorithm), as
    ``xpconv bench --calibrate`` does to time what ``auto`` runs without one."""
    _OVERRIDES.append(table)
    try:
        yield
    finally:
        _OVERRIDES.pop()


def counts(algorithm: str, plan: ConvPlan, block_elements: int | None = None) -> tuple[int, int, int]:
    """``(products, transformed, weights)`` of ``algorithm`` on ``plan`` (see the module's docstring), in blocks
    of ``block_elements`` (the backend's :attr:`~xpconv.backends.Backend.transform_block_elements`)."""
    from .tiles import tiles  # NumPy's matrices: imported on first use, not by ``import xpconv``

    t = tiles(algorithm, plan.kernel, plan.out_size)
    per_axis = [math.ceil(n / m) for n, m in zip(plan.out_size, t.m)]
    count = math.prod(per_axis)
    parts = 3 if t.complex else 1  # a complex product: three real ones
    n, groups = plan.batch, plan.groups
    products = parts * t.points * n * count * plan.in_channels * plan.out_channels // groups
    transformed = n * count * (plan.in_channels * math.prod(t.alpha) + (plan.in_channels + plan.out_channels) * t.points * parts)
    blocks = math.ceil(per_axis[0] / block_rows(t, per_axis, plan, block_elements))
    weights = parts * t.points * plan.in_channels * plan.out_channels // groups * blocks
    return products, transformed, weights


def features(kernel: str, plan: ConvPlan, block_elements: int | None = None) -> dict[str, int]:
    """What ``kernel``'s time is proportional to on ``plan``, by the name of its constant (``block_elements``:
    see :func:`counts`)."""
    if kernel in ("native", "direct"):
        return {"per_mac": plan.macs, "per_element": moved(plan)}
    products, transformed, weights = counts(kernel, plan, block_elements)
    return {"per_product": products, "per_element": transformed, "per_weight": weights}


def moved(plan: ConvPlan) -> int:
    """The elements a direct convolution reads and writes at least: input and output."""
    return plan.batch * (plan.in_channels * math.prod(plan.in_size) + plan.out_channels * math.prod(plan.out_size))


def constants_of(backend: str, width: int, rank: int) -> dict[str, float]:
    """The constants of ``backend`` for ``width``-bit floats on ``rank`` spatial axes (empty: none)."""
    return constants()["backends"].get(backend, {}).get(str(width), {}).get(f"{rank}d", {})


def predict(backend: str, width: int, kernel: str, plan: ConvPlan, block_elements: int | None = None) -> float | None:
    """Predicted seconds of ``kernel`` (``"native"``, ``"direct"`` or an algorithm), or ``None``
    where the backend has no constants for it on the plan's rank (``block_elements``: see :func:`counts`)."""
    known = constants_of(backend, width, plan.rank)
    terms = features(kernel, plan, block_elements)
    if f"{kernel}_{next(iter(terms))}" not in known:
        return None
    return sum(count * known.get(f"{kernel}_{name}", 0.0) for name, count in terms.items())


def fastest(backend: Backend, plan: ConvPlan, dtype: Any, native: bool) -> str | None:
    """The fast algorithm ``auto`` runs for ``plan`` instead of the native (``native``) or direct
    kernel, or ``None``: only real float32/float64 (half precision: computed in float32), static
    sizes, stride and dilation 1, enough channels per group, and a prediction under the margin."""
    if backend.container or plan.kind.name != "FORWARD" or unsupported(plan) is not None:
        return None
    if not plan.batch_static or plan.in_channels // plan.groups < MIN_CHANNELS or plan.taps == 1:
        return None
    width = _width(dtype)
    if width is None:
        return None
    kernel = "native" if native and not backend.prefers_own(plan, dtype) else "direct"
    base = predict(backend.name, width, kernel, plan)
    if base is None or base <= 0:
        return None
    # the ratio must win by the margin after its worst excess on the calibration workloads
    known = constants_of(backend.name, width, plan.rank)
    best, best_ratio = None, MARGIN
    for algorithm in ALGORITHMS:
        time = predict(backend.name, width, algorithm, plan, backend.transform_block_elements)
        risk = known.get(f"{algorithm}_over_{kernel}")
        if time is None or risk is None:
            continue
        worst = time / base * (1 + risk)
        if worst < best_ratio:
            best, best_ratio = algorithm, worst
    return best


def _width(dtype: Any) -> int | None:
    """64 for float64, 32 for float32 and half precision (computed in float32), else ``None``."""
    return {"float64": 64, "float32": 32, "float16": 32, "bfloat16": 32}.get(dtype_name(dtype))
