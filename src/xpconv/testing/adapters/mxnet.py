"""MXNet: ``mx.np`` arrays (the book's current code), ``mx.autograd``, and ``npx.convolution`` as
the reference."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Adapter, named


class MxnetAdapter(Adapter):
    autodiff = True
    name = "mxnet"
    dtypes = frozenset({"int8", "int32", "int64", "uint8", "float16", "float32", "float64", "bool"})

    def dtype(self, name: str) -> Any:
        return np.dtype(name)

    def asarray(self, a: Any, dtype: str | None = None) -> Any:
        a = np.asarray(a)
        return self.m.np.array(a, dtype=np.dtype(dtype or a.dtype.name))

    def to_numpy(self, t: Any) -> np.ndarray:
        return t.asnumpy()

    def is_array(self, t: Any) -> bool:
        return isinstance(t, self.m.np.ndarray)

    def device(self, t: Any) -> Any:
        return t.ctx

    def sync(self, t: Any) -> Any:
        t.wait_to_read()  # MXNet runs operators asynchronously
        return t

    def reference_conv2d(self, x, w, b, *, stride, padding, dilation, groups):
        """``mx.npx.convolution`` on an input padded in NumPy (MXNet pads symmetrically only)."""
        padded = self.m.np.array(np.pad(x.asnumpy(), ((0, 0), (0, 0), *padding)), dtype=x.dtype, ctx=x.ctx)
        return self.m.npx.convolution(padded, w, b, kernel=tuple(w.shape[2:]), stride=stride, dilate=dilation,
                                      pad=(0, 0), num_filter=w.shape[0], num_group=groups, no_bias=b is None)

    def gradients(self, conv, x, w, b, g, **options):
        """``mx.autograd``: ``mx.np`` arrays with ``attach_grad``, recorded, one ``backward``."""
        mx = self.m
        args = [None if a is None else mx.np.array(a, dtype=a.dtype) for a in (x, w, b)]
        present = [a for a in args if a is not None]
        for a in present:
            a.attach_grad()
        with mx.autograd.record():
            loss = (conv(*args, **options) * mx.np.array(g, dtype=g.dtype)).sum()
        loss.backward()
        return named([a.grad for a in present], lambda a: a.asnumpy())

    def native_call(self, x, w_np, *, rank, stride, padding, dilation, groups, transpose, layout):
        """``npx.convolution``/``deconvolution``, channels first only (MXNet's CPU kernels)."""
        if layout != "channels_first":
            return None
        npx, w = self.m.npx, self.asarray(w_np)
        common = {"kernel": tuple(w_np.shape[2:]), "stride": (stride,) * rank, "dilate": (dilation,) * rank,
                  "pad": (padding,) * rank, "num_group": groups, "no_bias": True}
        if transpose:  # no 3-D deconvolution on the CPU, and a dilated one is wrong: then none
            if rank == 3 or dilation != 1:
                return None
            return lambda: npx.deconvolution(x, w, num_filter=w_np.shape[1] * groups, **common)
        return lambda: npx.convolution(x, w, num_filter=w_np.shape[0], **common)
