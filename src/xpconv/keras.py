"""Keras 3 layers whose convolution is xpconv's: ``import xpconv.keras`` (it imports Keras).

:class:`Conv1D`, :class:`Conv2D`, :class:`Conv3D`, :class:`Conv1DTranspose`,
:class:`Conv2DTranspose` and :class:`Conv3DTranspose` are ``keras.layers``' own classes with
the convolution replaced: the same arguments, the same weights in the same layout (so
``layer.set_weights(keras_layer.get_weights())`` gives the same output), the same output shapes,
serialization (``get_config``, ``.keras`` files) and training, on the TensorFlow, JAX and PyTorch
Keras backends. They add ``padding_mode`` (``"zeros"``, ``"reflect"``, ``"replicate"``,
``"circular"``: what ``padding="same"`` or ``"causal"`` pads with, which Keras declined in
keras#19988) and ``groups`` on the transposed layers.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from ._plan import PADDING_MODES
from ._plan.shapes import extent
from .api import conv, conv_transpose

__all__ = ["Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose"]

#: Where the serialized layers are registered: ``"xpconv>Conv2D"`` in a saved model's config.
PACKAGE = "xpconv"


def _mode(padding_mode: Any) -> str:
    if not isinstance(padding_mode, str) or padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}. Received: padding_mode={padding_mode!r}")
    return padding_mode


class _Forward:
    """The convolution of ``keras.layers.ConvND`` (mixed in before it), done by :func:`xpconv.conv`."""

    def __init__(self, *args: Any, padding_mode: str = "zeros", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.padding_mode = _mode(padding_mode)

    def call(self, inputs: Any) -> Any:
        rank = self.rank
        # Keras' kernel (*k, C_in/groups, filters) as xpconv's (filters, C_in/groups, *k)
        kernel = ops.transpose(self.kernel, (rank + 1, rank, *range(rank)))
        if self.padding == "causal":  # Conv1D: everything before, d·(k-1)
            padding: Any = ((self.dilation_rate[0] * (self.kernel_size[0] - 1), 0),)
        else:
            padding = self.padding
        outputs = conv(inputs, kernel, self.bias if self.use_bias else None, stride=self.strides, padding=padding,
                       dilation=self.dilation_rate, groups=self.groups, padding_mode=self.padding_mode,
                       data_format=self.data_format)
        return outputs if self.activation is None else self.activation(outputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding_mode": self.padding_mode}


def keras_transposed_padding(kernel: int, stride: int, dilation: int, padding: str,
                             output_padding: int | None) -> tuple[tuple[int, int], int]:
    """Keras' transposed ``padding`` and ``output_padding`` on one axis as xpconv's: what is cropped
    before and after the full output, and the output padding.

    Keras pads the zero-inserted input by ``(left, right)`` (its rule for every backend: "valid"
    pads ``e - 1`` and the output padding, which defaults to ``max(e, s) - e``; "same" pads
    ``s + e - 2`` in all, or ``e + e % 2 - 2 + output_padding``, at most ``e - 1`` before); xpconv
    crops ``e - 1 - left`` before and ``e - 1 - right`` after, a negative crop being output padding.
    """
    e = extent(kernel, dilation)
    if padding == "valid":
        left = e - 1
        right = e - 1 + (max(e, stride) - e if output_padding is None else output_padding)
    else:
        total = stride + e - 2 if output_padding is None else e + e % 2 - 2 + output_padding
        left = min(total // 2 + total % 2, e - 1)
        right = total - left
    after = e - 1 - right
    return (e - 1 - left, max(after, 0)), max(-after, 0)


class _Transposed:
    """The convolution of ``keras.layers.ConvNDTranspose`` (mixed in before it), done by
    :func:`xpconv.conv_transpose`, with ``groups``: a kernel ``(*k, filters/groups, C_in)``."""

    def __init__(self, *args: Any, padding_mode: str = "zeros", groups: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.padding_mode = _mode(padding_mode)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"groups must be a positive int. Received: groups={groups!r}")
        if self.filters % groups:
            raise ValueError(f"filters must be divisible by groups. Received: filters={self.filters}, groups={groups}")
        self.groups = groups

    def build(self, input_shape: Any) -> None:
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        if channels % self.groups:
            raise ValueError(f"The input channels must be divisible by groups. Received: input channels={channels}, "
                             f"groups={self.groups}")
        self.input_spec = keras.layers.InputSpec(min_ndim=self.rank + 2,
                                                 axes={-1 if self.data_format == "channels_last" else 1: channels})
        self.kernel = self.add_weight(name="kernel", shape=(*self.kernel_size, self.filters // self.groups, channels),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, trainable=True, dtype=self.dtype)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        trainable=True, dtype=self.dtype)

    def call(self, inputs: Any) -> Any:
        rank = self.rank
        # Keras' kernel (*k, filters/groups, C_in) as xpconv's (C_in, filters/groups, *k)
        kernel = ops.transpose(self.kernel, (rank + 1, rank, *range(rank)))
        extra = self.output_padding or (None,) * rank
        pairs = [keras_transposed_padding(k, s, d, self.padding, op)
                 for k, s, d, op in zip(self.kernel_size, self.strides, self.dilation_rate, extra)]
        outputs = conv_transpose(inputs, kernel, self.bias, stride=self.strides,
                                 padding=tuple(pair for pair, _ in pairs), output_padding=tuple(op for _, op in pairs),
                                 dilation=self.dilation_rate, groups=self.groups, padding_mode=self.padding_mode,
                                 data_format=self.data_format)
        return outputs if self.activation is None else self.activation(outputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding_mode": self.padding_mode, "groups": self.groups}


class Conv1D(_Forward, keras.layers.Conv1D):
    """``keras.layers.Conv1D`` computed by xpconv: its arguments (``padding="causal"`` included)
    and weights ``kernel (kW, C_in/groups, filters)``, ``bias (filters,)``, plus ``padding_mode``."""


class Conv2D(_Forward, keras.layers.Conv2D):
    """``keras.layers.Conv2D`` computed by xpconv: its arguments and weights ``kernel (kH, kW,
    C_in/groups, filters)``, ``bias (filters,)``, plus ``padding_mode`` (what ``padding="same"`` pads with).

    Examples
    --------
    >>> import keras, numpy as np, xpconv.keras
    >>> layer = xpconv.keras.Conv2D(8, 3, strides=2, padding="same", padding_mode="reflect")
    >>> tuple(layer(np.ones((1, 17, 17, 3), "float32")).shape)
    (1, 9, 9, 8)
    """


class Conv3D(_Forward, keras.layers.Conv3D):
    """``keras.layers.Conv3D`` computed by xpconv: its arguments and weights ``kernel (kD, kH, kW,
    C_in/groups, filters)``, ``bias (filters,)``, plus ``padding_mode``."""


class Conv1DTranspose(_Transposed, keras.layers.Conv1DTranspose):
    """``keras.layers.Conv1DTranspose`` computed by xpconv: its arguments and weights ``kernel (kW,
    filters/groups, C_in)``, ``bias (filters,)``, plus ``padding_mode`` and ``groups``."""


class Conv2DTranspose(_Transposed, keras.layers.Conv2DTranspose):
    """``keras.layers.Conv2DTranspose`` computed by xpconv: its arguments and weights ``kernel (kH,
    kW, filters/groups, C_in)``, ``bias (filters,)``, plus ``padding_mode`` (the input continued
    beyond its border) and ``groups``."""


class Conv3DTranspose(_Transposed, keras.layers.Conv3DTranspose):
    """``keras.layers.Conv3DTranspose`` computed by xpconv: its arguments and weights ``kernel (kD,
    kH, kW, filters/groups, C_in)``, ``bias (filters,)``, plus ``padding_mode`` and ``groups``."""


for _layer in (Conv1D, Conv2D, Conv3D, Conv1DTranspose, Conv2DTranspose, Conv3DTranspose):
    keras.saving.register_keras_serializable(package=PACKAGE)(_layer)  # "xpconv>Conv2D" in saved configs
