"""Train a Keras 3 model whose convolution is xpconv, and its twin with ``keras.layers.Conv2D``.

Run as a script with ``KERAS_BACKEND`` set (one process per Keras backend, since Keras picks
its backend at import): prints one JSON line with both models' loss histories and
predictions, the xpconv model's output shapes, and what its variables were. The test in
``test_keras.py`` compares them.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras

import xpconv


class XpConv2D(keras.layers.Layer):
    """The Keras guide's (docs/guide/keras.md) layer, as written there."""

    def __init__(self, filters, kernel_size, strides=1, padding="same", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = filters, kernel_size
        self.strides, self.padding = strides, padding

    def build(self, input_shape):
        c_in = input_shape[-1]
        self.kernel = self.add_weight(shape=(self.filters, c_in, self.kernel_size, self.kernel_size),
                                      initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    def call(self, x):
        return xpconv.conv2d(x, self.kernel, self.bias, stride=self.strides, padding=self.padding,
                             data_format="NHWC")


def model(conv_layer: keras.layers.Layer) -> keras.Model:
    inputs = keras.Input((16, 16, 3))
    y = conv_layer(inputs)
    y = keras.layers.ReLU()(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    outputs = keras.layers.Dense(4)(y)
    return keras.Model(inputs, outputs)


def main() -> None:
    keras.utils.set_random_seed(7)
    ours = model(XpConv2D(8, 3, strides=2, padding="same"))
    twin = model(keras.layers.Conv2D(8, 3, strides=2, padding="same"))
    kernel, bias = ours.layers[1].get_weights()  # (C_out, C_in, kH, kW) → Keras' (kH, kW, C_in, C_out)
    twin.layers[1].set_weights([np.transpose(kernel, (2, 3, 1, 0)), bias])
    for a, b in zip(ours.layers[2:], twin.layers[2:]):
        b.set_weights(a.get_weights())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 16, 16, 3)).astype("float32")
    target = rng.standard_normal((64, 4)).astype("float32")
    histories, predictions = {}, {}
    for name, m in (("xpconv", ours), ("keras", twin)):
        m.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        history = m.fit(x, target, epochs=2, batch_size=16, shuffle=False, verbose=0)
        histories[name] = [float(v) for v in history.history["loss"]]
        predictions[name] = np.asarray(m.predict(x[:8], verbose=0), dtype=np.float64).tolist()
    conv = ours.layers[1]
    print(json.dumps({
        "backend": keras.backend.backend(),
        "losses": histories,
        "predictions": predictions,
        "symbolic_output_shape": list(conv.output.shape),
        "variable_type": f"{type(conv.kernel).__module__}.{type(conv.kernel).__qualname__}",
        "eager_shape": list(np.shape(conv(x[:2]))),
    }))


if __name__ == "__main__":
    main()
    sys.stdout.flush()
