"""TensorFlow: tensors, ``tf.GradientTape``, and ``tf.nn.conv*`` as the reference."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Adapter, named


class TensorflowAdapter(Adapter):
    autodiff = True
    name = "tensorflow"

    def dtype(self, name: str) -> Any:
        return getattr(self.m, name)

    def array_of(self, name: str, data: Any) -> Any | None:
        if name == "string":
            return self.m.constant(np.asarray(data).astype(str))
        return super().array_of(name, data)

    def asarray(self, a: Any, dtype: str | None = None) -> Any:
        a = np.asarray(a)
        data = a.astype(np.float64) if dtype == "bfloat16" else a
        return self.m.constant(data, dtype=self.dtype(dtype or a.dtype.name))

    def to_numpy(self, t: Any) -> np.ndarray:
        if t.dtype == self.m.bfloat16:
            t = self.m.cast(t, self.m.float32)
        return t.numpy()

    def is_array(self, t: Any) -> bool:
        return isinstance(t, self.m.Tensor)

    def device(self, t: Any) -> Any:
        return t.device

    def taped(self, fn, x):
        tf = self.m

        def run():
            with tf.GradientTape() as tape:
                tape.watch(x)
                return fn(x)

        return run

    def reference_conv2d(self, x, w, b, *, stride, padding, dilation, groups):
        tf = self.m
        (pt, pb), (pl, pr) = padding
        y = tf.nn.conv2d(tf.transpose(x, (0, 2, 3, 1)), tf.transpose(w, (2, 3, 1, 0)), stride,
                         [[0, 0], [pt, pb], [pl, pr], [0, 0]], dilations=dilation)
        if b is not None:
            y = tf.nn.bias_add(y, b)
        return tf.transpose(y, (0, 3, 1, 2))

    def gradients(self, conv, x, w, b, g, **options):
        """``tf.GradientTape`` watching constant tensors."""
        tf = self.m
        args = [None if a is None else tf.constant(a) for a in (x, w, b)]
        watched = [t for t in args if t is not None]
        with tf.GradientTape() as tape:
            tape.watch(watched)
            loss = tf.reduce_sum(conv(*args, **options) * tf.constant(g))
        return named(tape.gradient(loss, watched), lambda t: t.numpy())

    def native_call(self, x, w_np, *, rank, stride, padding, dilation, groups, transpose, layout):
        """``tf.nn.conv{1,2,3}d`` or ``conv_transpose`` (VALID, then cropped) without groups."""
        tf, s, p, d = self.m, stride, padding, dilation
        if groups != 1:
            return None
        filters = tf.constant(np.ascontiguousarray(w_np.transpose(*range(2, rank + 2), 1, 0)))
        if transpose:  # tf.nn.conv_transpose's padding is VALID/SAME: VALID, then crop
            if d != 1:
                return None
            sizes, kernel = x.shape[1:-1], w_np.shape[2:]
            full = [(n - 1) * s + k for n, k in zip(sizes, kernel)]
            shape = [x.shape[0], *full, w_np.shape[1]]
            crop = (slice(None), *(slice(p, n - p) for n in full), slice(None))
            return lambda: tf.nn.conv_transpose(x, filters, shape, s, "VALID")[crop]
        pads = [[0, 0], *([[p, p]] * rank), [0, 0]]
        if rank == 3:  # Conv3D takes no explicit padding
            return lambda: tf.nn.conv3d(tf.pad(x, pads), filters, [1, s, s, s, 1], "VALID", dilations=[1, d, d, d, 1])
        if rank == 1:  # conv1d takes no explicit padding either
            return lambda: tf.nn.conv1d(tf.pad(x, pads), filters, s, "VALID", dilations=d)
        return lambda: tf.nn.conv2d(x, filters, s, pads, dilations=d)

    def traced(self, fn):
        return self.m.function(fn)
