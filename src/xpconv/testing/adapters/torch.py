"""PyTorch: tensors, autograd, and ``torch.nn.functional.conv*`` as the reference."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Adapter, named


class TorchAdapter(Adapter):
    autodiff = True
    name = "torch"
    native_takes_unbatched = True

    def dtype(self, name: str) -> Any:
        return getattr(self.m, name)

    def asarray(self, a: Any, dtype: str | None = None) -> Any:
        a = np.asarray(a)
        data = a.astype(np.float64) if dtype == "bfloat16" else a
        return self.m.tensor(data, dtype=self.dtype(dtype or a.dtype.name))

    def array_of(self, name: str, data: Any) -> Any | None:
        try:  # through .to(): torch.tensor builds few of the unsigned and complex32 dtypes itself
            return self.m.tensor(np.asarray(data)).to(getattr(self.m, name))
        except (AttributeError, TypeError, RuntimeError):
            return None

    def to_numpy(self, t: Any) -> np.ndarray:
        t = t.detach()
        return (t.float() if t.dtype == self.m.bfloat16 else t).cpu().numpy()

    def is_array(self, t: Any) -> bool:
        return isinstance(t, self.m.Tensor)

    def device(self, t: Any) -> Any:
        return t.device

    def use_every_core(self) -> None:
        import os

        self.m.set_num_threads(max(1, os.cpu_count() or 1))

    def reference_conv2d(self, x, w, b, *, stride, padding, dilation, groups):
        (pt, pb), (pl, pr) = padding
        x = self.m.nn.functional.pad(x, (pl, pr, pt, pb))
        return self.m.nn.functional.conv2d(x, w, b, stride, 0, dilation, groups)

    def gradients(self, conv, x, w, b, g, **options):
        """``torch.autograd``: leaf tensors with ``requires_grad``, one ``backward``."""
        args = [None if a is None else self.m.tensor(a, requires_grad=True) for a in (x, w, b)]
        self.m.sum(conv(*args, **options) * self.m.from_numpy(g)).backward()
        return named([t.grad for t in args if t is not None], lambda t: t.numpy())

    def native_call(self, x, w_np, *, rank, stride, padding, dilation, groups, transpose, layout):
        functional = self.m.nn.functional
        w = self.asarray(w_np)
        if transpose:
            transposed = getattr(functional, f"conv_transpose{rank}d")
            return lambda: transposed(x, w, None, stride, padding, 0, groups, dilation)
        forward = getattr(functional, f"conv{rank}d")
        return lambda: forward(x, w, None, stride, padding, dilation, groups)
