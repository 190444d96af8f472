"""Objects that stand for an array without being one: unwrapped before dispatch.

Keras 3 variables (``keras.Variable``, what ``Layer.add_weight`` returns) hold a tensor of the
Keras backend's framework in ``.value``: a ``tf.Variable``, a ``jax.Array`` (a tracer inside
``model.fit``, where Keras swaps in the traced values) or a ``torch.nn.Parameter``. Reading
``.value`` keeps gradients flowing on every backend. Keras is recognized only when it is
already in ``sys.modules``; the answer is cached per type.
"""

from __future__ import annotations

import sys
from typing import Any


def _is_keras_variable(kind: type) -> bool:
    keras = sys.modules.get("keras")
    variable = getattr(keras, "Variable", None)  # Keras 3 only; None for a blocked or stub module
    return isinstance(variable, type) and issubclass(kind, variable)


class _Unwrap:
    """``unwrap(value)``: the array a wrapper stands for, or ``value`` itself."""

    def __init__(self) -> None:
        self._by_type: dict[type, bool] = {}

    def applies(self, kind: type) -> bool:
        known = self._by_type.get(kind)
        if known is None:
            known = self._by_type[kind] = _is_keras_variable(kind)
        return known

    def __call__(self, value: Any) -> Any:
        return value.value if value is not None and self.applies(type(value)) else value


unwrap = _Unwrap()
