"""Objects that stand for an array without being one: unwrapped before dispatch.

Keras 3 variables (``keras.Variable``, what ``Layer.add_weight`` returns) hold a tensor of the
Keras backend's framework in ``.value``: a ``tf.Variable``, a ``jax.Array`` (a tracer inside
``model.fit``, where Keras swaps in the traced values) or a ``torch.nn.Parameter``. Reading
``.value`` keeps gradients flowing on every backend. Keras is recognized only when it is
already in ``sys.modules``.
"""

from __future__ import annotations

import sys
from typing import Any


def _is_keras_variable(kind: type) -> bool:
    keras = sys.modules.get("keras")
    variable = getattr(keras, "Variable", None)  # Keras 3 only; None for a blocked or stub module
    return isinstance(variable, type) and issubclass(kind, variable)


class _Unwrap:
    """``unwrap(value)``: the array a wrapper stands for, or ``value`` itself.

    Not cached per type: a cache written while ``torch.compile`` traces would be guarded on,
    and the check is one ``sys.modules`` look-up when Keras is not loaded.
    """

    @staticmethod
    def applies(kind: type) -> bool:
        return _is_keras_variable(kind)

    def __call__(self, value: Any) -> Any:
        return value.value if value is not None and self.applies(type(value)) else value


unwrap = _Unwrap()
