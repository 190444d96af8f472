"""The kinds of convolution a plan can describe."""

from __future__ import annotations

import enum


class Kind(enum.Enum):
    """Which operation a plan describes; the dispatcher branches on it in one place.

    ``FORWARD``: cross-correlation, ``weight (C_out, C_in/groups, *kernel)``.
    ``TRANSPOSED``: its gradient with respect to the input, ``weight (C_in, C_out/groups, *kernel)``
    (PyTorch's layout), computed natively or as the forward convolution it equals
    (:mod:`xpconv.kernels.transpose`).
    """

    FORWARD = "forward"
    TRANSPOSED = "transposed"

    #: Members are singletons compared by identity: hash them by identity too (in C; ``Enum``'s
    #: own ``__hash__`` is Python code, 0.17 µs on every look-up of the validated-call cache).
    __hash__ = object.__hash__

    def weight_text(self, kernel: str) -> str:
        """The weight's shape for messages, e.g. ``(C_out, C_in/groups, kH, kW)``."""
        if self is Kind.TRANSPOSED:
            return f"(C_in, C_out/groups, {kernel})"
        return f"(C_out, C_in/groups, {kernel})"
