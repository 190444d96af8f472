"""How the tests talk to each framework: independent of xpconv.backends on purpose.

Each adapter creates arrays from NumPy data, reads them back, names the framework's
array type and dtypes, and runs the framework's *own* convolution as a reference.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from xpconv._oracle import conv2d_oracle


class Framework:
    name: str
    module: str
    has_native = True
    #: The dtype names the library has at all (None: every dtype a test names); a test
    #: parametrized with a ``dtype`` the library lacks is deselected (tests/conftest.py).
    dtypes: frozenset[str] | None = None

    def __init__(self) -> None:
        self.m: Any = None

    def load(self) -> None:
        self.m = importlib.import_module(self.module)

    def __repr__(self) -> str:
        return self.name

    # arrays -------------------------------------------------------------------------
    def dtype(self, name: str) -> Any:
        return getattr(self.m, name)

    def has_dtype(self, name: str) -> bool:
        return self.dtypes is None or name in self.dtypes

    def asarray(self, a: Any, dtype: str | None = None) -> Any:
        raise NotImplementedError

    def to_numpy(self, t: Any) -> np.ndarray:
        return np.asarray(t)

    def is_array(self, t: Any) -> bool:
        raise NotImplementedError

    def device(self, t: Any) -> Any:
        return None

    def version(self) -> str:
        return self.m.__version__

    # references ---------------------------------------------------------------------
    def reference_conv2d(self, x, w, b, *, stride, padding, dilation, groups) -> Any:
        """The framework's own NCHW convolution with explicit ((t, b), (l, r)) padding."""
        raise NotImplementedError


def _dtype_of(a: np.ndarray, dtype: str | None) -> str:
    return dtype or a.dtype.name


class NumpyFramework(Framework):
    name = module = "numpy"
    has_native = False

    def asarray(self, a, dtype=None):
        return np.asarray(a, dtype=_dtype_of(np.asarray(a), dtype))

    def is_array(self, t):
        return isinstance(t, np.ndarray)

    def device(self, t):
        return "cpu"

    def reference_conv2d(self, x, w, b, *, stride, padding, dilation, groups):
        y = conv2d_oracle(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        return y.astype(x.dtype)


class TorchFramework(Framework):
    name = module = "torch"

    def asarray(self, a, dtype=None):
        a = np.asarray(a)
        return self.m.tensor(a.astype(np.float64) if dtype == "bfloat16" else a, dtype=self.dtype(_dtype_of(a, dtype)))

    def to_numpy(self, t):
        t = t.detach()
        return (t.float() if t.dtype == self.m.bfloat16 else t).cpu().numpy()

    def is_array(self, t):
        return isinstance(t, self.m.Tensor)

    def device(self, t):
        return t.device

    def reference_conv2d(self, x, w, b, *, stride, padding, dilation, groups):
        (pt, pb), (pl, pr) = padding
        x = self.m.nn.functional.pad(x, (pl, pr, pt, pb))
        return self.m.nn.functional.conv2d(x, w, b, stride, 0, dilation, groups)


class JaxFramework(Framework):
    name = module = "jax"

    def load(self):
        super().load()
        self.m.config.update("jax_enable_x64", True)  # float64 must be float64
        self.jnp = importlib.import_module("jax.numpy")

    def dtype(self, name):
        return getattr(self.jnp, name)

    def asarray(self, a, dtype=None):
        a = np.asarray(a)
        return self.jnp.asarray(a, dtype=self.dtype(_dtype_of(a, dtype)))

    def to_numpy(self, t):
        if t.dtype == self.jnp.bfloat16:
            t = t.astype(self.jnp.float32)
        return np.asarray(t)

    def is_array(self, t):
        return isinstance(t, self.m.Array)

    def device(self, t):
        return next(iter(t.devices()))

    def reference_conv2d(self, x, w, b, *, stride, padding, dilation, groups):
        y = self.m.lax.conv_general_dilated(
            x, w, stride, padding, rhs_dilation=dilation, feature_group_count=groups,
            dimension_numbers=("NCHW", "OIHW", "NCHW"),
        )
        return y if b is None else y + b[None, :, None, None]


class TensorflowFramework(Framework):
    name = module = "tensorflow"

    def asarray(self, a, dtype=None):
        a = np.asarray(a)
        return self.m.constant(a.astype(np.float64) if dtype == "bfloat16" else a, dtype=self.dtype(_dtype_of(a, dtype)))

    def to_numpy(self, t):
        if t.dtype == self.m.bfloat16:
            t = self.m.cast(t, self.m.float32)
        return t.numpy()

    def is_array(self, t):
        return isinstance(t, self.m.Tensor)

    def device(self, t):
        return t.device

    def reference_conv2d(self, x, w, b, *, stride, padding, dilation, groups):
        tf = self.m
        (pt, pb), (pl, pr) = padding
        y = tf.nn.conv2d(
            tf.transpose(x, (0, 2, 3, 1)), tf.transpose(w, (2, 3, 1, 0)), stride,
            [[0, 0], [pt, pb], [pl, pr], [0, 0]], dilations=dilation,
        )
        if b is not None:
            y = tf.nn.bias_add(y, b)
        return tf.transpose(y, (0, 3, 1, 2))


class StrictFramework(Framework):
    name = module = "array_api_strict"
    has_native = False

    def asarray(self, a, dtype=None):
        a = np.asarray(a)
        return self.m.asarray(a, dtype=self.dtype(_dtype_of(a, dtype)))

    def to_numpy(self, t):
        return np.from_dlpack(self.m.asarray(t, device=self.m.Device("CPU_DEVICE"), copy=True))

    def is_array(self, t):
        return isinstance(t, type(self.m.asarray(0)))

    def device(self, t):
        return t.device

    def reference_conv2d(self, x, w, b, *, stride, padding, dilation, groups):
        xn, wn = self.to_numpy(x), self.to_numpy(w)
        bn = None if b is None else self.to_numpy(b)
        y = conv2d_oracle(xn, wn, bn, stride=stride, padding=padding, dilation=dilation, groups=groups)
        return self.asarray(y.astype(xn.dtype))


class MxnetFramework(Framework):
    """``mx.np`` arrays (the book's current code); ``mx.nd`` has its own tests (test_mxnet.py)."""

    name = module = "mxnet"
    dtypes = frozenset({"int8", "int32", "int64", "uint8", "float16", "float32", "float64", "bool"})

    def dtype(self, name):
        return np.dtype(name)

    def asarray(self, a, dtype=None):
        a = np.asarray(a)
        return self.m.np.array(a, dtype=np.dtype(_dtype_of(a, dtype)))

    def to_numpy(self, t):
        return t.asnumpy()

    def is_array(self, t):
        return isinstance(t, self.m.np.ndarray)

    def device(self, t):
        return t.ctx

    def reference_conv2d(self, x, w, b, *, stride, padding, dilation, groups):
        """``mx.npx.convolution`` on an input padded in NumPy (MXNet pads symmetrically only)."""
        padded = self.m.np.array(np.pad(x.asnumpy(), ((0, 0), (0, 0), *padding)), dtype=x.dtype, ctx=x.ctx)
        return self.m.npx.convolution(
            padded, w, b, kernel=tuple(w.shape[2:]), stride=stride, dilate=dilation, pad=(0, 0),
            num_filter=w.shape[0], num_group=groups, no_bias=b is None,
        )


class DaskFramework(Framework):
    """Dask arrays of NumPy chunks, two blocks along every axis (halos, channel sums and group
    realignment in every test); computed with the synchronous scheduler."""

    name = "dask"
    module = "dask.array"
    has_native = False  # "native" goes to the chunks' library: NumPy has none

    def dtype(self, name):
        return getattr(np, name)

    def asarray(self, a, dtype=None):
        a = np.asarray(a)
        a = np.asarray(a, dtype=_dtype_of(a, dtype))
        return self.m.from_array(a, chunks=tuple(max(1, (s + 1) // 2) for s in a.shape))

    def to_numpy(self, t):
        return np.asarray(t.compute(scheduler="sync"))

    def is_array(self, t):
        return isinstance(t, self.m.Array)

    def version(self):
        return importlib.import_module("dask").__version__

    def reference_conv2d(self, x, w, b, *, stride, padding, dilation, groups):
        xn, wn = self.to_numpy(x), self.to_numpy(w)
        bn = None if b is None else self.to_numpy(b)
        y = conv2d_oracle(xn, wn, bn, stride=stride, padding=padding, dilation=dilation, groups=groups)
        return self.asarray(y.astype(xn.dtype))


def methods(fw: Framework) -> list[str]:
    """The ``method`` values that apply to ``fw``: portable and auto, and native where it has one."""
    return ["portable", "auto", "native"] if fw.has_native else ["portable", "auto"]


FRAMEWORKS: dict[str, Framework] = {
    f.name: f
    for f in (NumpyFramework(), TorchFramework(), JaxFramework(), TensorflowFramework(), MxnetFramework(),
              StrictFramework(), DaskFramework())
}
