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


def is_wrapper(kind: type) -> bool:
    """Whether values of type ``kind`` stand for an array (Keras 3 variables). Not cached per
    type: a cache written while ``torch.compile`` traces would be guarded on, and the check is
    one ``sys.modules`` look-up when Keras is not loaded."""
    keras = sys.modules.get("keras")
    variable = getattr(keras, "Variable", None)  # Keras 3 only; None for a blocked or stub module
    return isinstance(variable, type) and issubclass(kind, variable)


def unwrap(value: Any) -> Any:
    """The array ``value`` stands for, or ``value`` itself."""
    return value.value if value is not None and is_wrapper(type(value)) else value
