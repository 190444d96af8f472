"""What ``xpconv bench`` times for one framework and workload: xpconv (``auto``, ``portable`` and the
fast algorithms where the workload allows them),
the framework's own convolution called directly (its adapter's :meth:`~xpconv.testing.Adapter.native_call`)
and ``keras.ops.conv``'s implementation for that framework when Keras is installed; and what one
validated call adds to the framework's own (:func:`overhead`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import conv, conv_transpose, plan
from ...backends import get_backend
from ...dispatch import algorithm_of
from ...kernels.transform import ALGORITHMS, unsupported
from ...testing import Adapter
from .timing import per_call
from .workloads import Workload

#: The most a validated call may add to the framework's own call (the project's standard), microseconds.
OVERHEAD_LIMIT_US = 5.0

#: The frameworks Keras 3 runs on (its own list; ``keras.ops.conv`` is timed on each, and on NumPy).
KERAS_BACKENDS = ("torch", "jax", "tensorflow")


def _keras_conv(name: str) -> Callable | None:
    """keras.ops.conv's implementation for one framework, without switching Keras' global backend."""
    try:
        import importlib

        module = importlib.import_module(f"keras.src.backend.{name}.nn")
    except Exception:
        return None
    return module.conv


def inputs(wl: Workload, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x, weight)`` of ``wl``: float32, the same on every framework, ``x`` in ``layout``."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(wl.x, dtype=np.float32)
    if layout == "channels_last":
        x_np = np.ascontiguousarray(np.moveaxis(x_np, -(wl.rank + 1), -1))
    return x_np, rng.standard_normal(wl.w, dtype=np.float32)


def _options(wl: Workload, layout: str) -> dict[str, Any]:
    return {"stride": wl.stride, "padding": wl.padding, "groups": wl.groups, "dilation": wl.dilation,
            "data_format": layout}


@functools.lru_cache(maxsize=2)
def reference(wl: Workload, layout: str) -> np.ndarray:
    """``wl``'s output from its float32 inputs computed in float64 (xpconv's direct kernel on NumPy):
    what :func:`error` measures each candidate against."""
    x_np, w_np = (a.astype(np.float64) for a in inputs(wl, layout))
    function = conv_transpose if wl.transpose else conv
    return np.asarray(function(x_np, w_np, method="portable", **_options(wl, layout)))


def error(fw: Adapter, wl: Workload, layout: str, call: Callable[[], Any]) -> float:
    """``max |call() - reference| / max |reference|``: one candidate's float32 error, in units of
    the output's scale (the issue's accuracy target is 1e-5). A native call on an unbatched workload
    has the batch axis of one."""
    expected = reference(wl, layout)
    got = np.asarray(fw.to_numpy(fw.sync(call())), dtype=np.float64).reshape(expected.shape)
    return float(np.max(np.abs(got - expected)) / max(float(np.max(np.abs(expected))), 1e-300))


def candidates(fw: Adapter, wl: Workload, layout: str) -> dict[str, Callable[[], Any]]:
    """The candidates timed side by side for ``fw`` on ``wl`` in ``layout``, by label."""
    x_np, w_np = inputs(wl, layout)
    x, w = fw.asarray(x_np), fw.asarray(w_np)
    options = _options(wl, layout)
    function = conv_transpose if wl.transpose else conv
    auto = fw.compiled(lambda x, w: function(x, w, **options))
    portable = fw.compiled(lambda x, w: function(x, w, method="portable", **options))
    out: dict[str, Callable[[], Any]] = {"xpconv auto": lambda: auto(x, w), "xpconv portable": lambda: portable(x, w)}
    if not wl.transpose and unsupported(_plan(wl, layout)) is None:
        for algorithm in ALGORITHMS:
            fast = fw.compiled(lambda x, w, algorithm=algorithm: function(x, w, method=algorithm, **options))
            out[f"xpconv {algorithm}"] = lambda fast=fast: fast(x, w)
    taped = fw.taped(lambda x: function(x, w, **options), x) if wl.dilation > 1 else None
    if taped is not None:  # a gradient may be recorded: TensorFlow's native forward with a custom gradient
        out["xpconv auto, taped"] = taped
    native = own_convolution(fw, wl, layout, x, w_np)
    if native is not None:
        out[f"{fw.name} native"] = native
    keras_conv = _keras_conv(fw.name)
    if keras_conv is not None and wl.batched and not wl.transpose:
        spatial_first = (*range(2, wl.rank + 2), 1, 0)  # (*kernel, C_in/groups, C_out)
        hwio = fw.asarray(np.ascontiguousarray(w_np.transpose(spatial_first)))
        padding = "same" if wl.padding else "valid"
        keras = fw.compiled(lambda x, k: keras_conv(x, k, strides=wl.stride, padding=padding, data_format=layout,
                                                    dilation_rate=wl.dilation))
        out["keras.ops.conv"] = lambda: keras(x, hwio)
    return out


def own_convolution(fw: Adapter, wl: Workload, layout: str, x: Any, w_np: np.ndarray) -> Callable[[], Any] | None:
    """The framework's own convolution of ``x`` as given where it takes it (an unbatched input: PyTorch's
    ``F.conv*d``, :attr:`~xpconv.testing.Adapter.native_takes_unbatched`), else with the batch axis its
    users add; ``None`` where it has none for ``wl``."""
    batched = x if wl.batched or fw.native_takes_unbatched else x[None, ...]
    return fw.native_call(batched, w_np, rank=wl.rank, stride=wl.stride, padding=wl.padding, dilation=wl.dilation,
                          groups=wl.groups, transpose=wl.transpose, layout=layout)


def overhead(fw: Adapter, wl: Workload, layout: str, calls: int) -> dict[str, Any] | None:
    """What a validated ``xpconv.conv`` call (eager, the fast path) adds to the framework's own call on
    ``wl``, in µs, from :func:`~.timing.per_call` (rounds of ``calls`` calls); ``None`` where the framework
    has no convolution of its own."""
    x_np, w_np = inputs(wl, layout)
    x, w = fw.asarray(x_np), fw.asarray(w_np)
    native = own_convolution(fw, wl, layout, x, w_np)
    if native is None:
        return None
    options = _options(wl, layout)
    seconds = per_call({"native": native, "auto": lambda: conv(x, w, **options)}, fw.sync, calls)
    native_us, auto_us = 1e6 * seconds["native"], 1e6 * seconds["auto"]
    return {"native_us": round(native_us, 2), "auto_us": round(auto_us, 2), "overhead_us": round(auto_us - native_us, 2),
            "limit_us": OVERHEAD_LIMIT_US, "ok": auto_us - native_us <= OVERHEAD_LIMIT_US}


def _plan(wl: Workload, layout: str) -> Any:
    shape = wl.x if layout == "channels_first" else (*wl.x[:-wl.rank - 1], *wl.x[-wl.rank:], wl.x[-wl.rank - 1])
    return plan(shape, wl.w, stride=wl.stride, padding=wl.padding, groups=wl.groups, dilation=wl.dilation,
                data_format=layout, transposed=wl.transpose)


def algorithms(fw: Adapter, wl: Workload, layout: str) -> dict[str, str]:
    """What each xpconv candidate runs on ``wl`` (``auto``: the cost model's choice, float32):
    ``native``, ``direct`` or a fast algorithm; transposed workloads name only the forced ones."""
    found = {"xpconv portable": "direct", **{f"xpconv {a}": a for a in ALGORITHMS}}
    if not wl.transpose:
        backend = get_backend(fw.name)
        found["xpconv auto"] = algorithm_of(backend, fw.dtype("float32"), "auto", _plan(wl, layout).with_batch())
    return found
