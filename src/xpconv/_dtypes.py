"""Dtype names across libraries."""

from __future__ import annotations


def dtype_name(dtype: object) -> str:
    """``"float32"`` for ``torch.float32``, ``tf.float32``, ``np.float32``, ``jnp.float32``..."""
    name = getattr(dtype, "name", None) or str(dtype)
    return str(name).rsplit(".", 1)[-1]
