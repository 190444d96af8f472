"""Run in a process of its own per Keras backend (``KERAS_BACKEND``), by ``test_keras_layers.py``:
every ``xpconv.keras`` layer against its ``keras.layers`` twin, then ``padding_mode``, groups on
the transposed layers, serialization and ``fit``. Prints one JSON report on its last line."""

from __future__ import annotations

import json
import os
import sys
import tempfile

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras

import xpconv
import xpconv.keras

#: (class, keyword arguments, input shape): Keras' own options, every class, both layouts.
TWINS = [
    ("Conv1D", {"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (2, 11, 5)),
    ("Conv1D", {"filters": 3, "kernel_size": 4, "strides": 3, "padding": "same"}, (2, 11, 5)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"}, (2, 9, 9, 6)),
    ("Conv2D", {"filters": 4, "kernel_size": (3, 2), "dilation_rate": 2, "groups": 2, "use_bias": False}, (2, 9, 9, 6)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same", "data_format": "channels_first"}, (2, 6, 7, 7)),
    ("Conv3D", {"filters": 2, "kernel_size": 3, "padding": "same", "strides": (1, 2, 2)}, (1, 4, 6, 5, 3)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 5, "strides": 2, "padding": "same"}, (2, 7, 4)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 1, "strides": 3}, (2, 7, 4)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 5, 5, 4)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "valid"}, (2, 5, 5, 4)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 1},
     (2, 5, 5, 4)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 3, "output_padding": 2}, (2, 5, 5, 4)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 2, "strides": 3, "padding": "same"}, (2, 5, 5, 4)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "padding": "same", "dilation_rate": 2}, (2, 5, 5, 4)),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same",
                         "data_format": "channels_first"}, (1, 3, 3, 4, 3)),
]

NP_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def numpy(a):
    return np.asarray(keras.ops.convert_to_numpy(a), dtype=np.float64)


def twins(rng):
    """Each layer with its twin's weights: the largest difference, and whether shapes matched."""
    worst, shapes = 0.0, True
    for name, options, shape in TWINS:
        x = rng.standard_normal(shape).astype("float32")
        twin, ours = getattr(keras.layers, name)(**options), getattr(xpconv.keras, name)(**options)
        expected = twin(x)
        ours.build(shape)
        ours.set_weights(twin.get_weights())  # Keras' layout, unchanged
        y = ours(x)
        shapes &= tuple(y.shape) == tuple(expected.shape) == tuple(ours.compute_output_shape(shape))
        worst = max(worst, float(np.abs(numpy(y) - numpy(expected)).max() / (np.abs(numpy(expected)).max() + 1)))
    return worst, shapes


def padding_modes(rng):
    """padding="same" and "causal" pad with the mode: a twin padding the input with NumPy, then "valid"."""
    worst = 0.0
    x = rng.standard_normal((2, 8, 9, 3)).astype("float32")
    for mode, np_mode in NP_MODES.items():
        ours = xpconv.keras.Conv2D(4, (3, 5), padding="same", padding_mode=mode)
        twin = keras.layers.Conv2D(4, (3, 5))
        y = ours(x)
        twin.build((2, 10, 13, 3))
        twin.set_weights(ours.get_weights())
        expected = twin(np.pad(x, ((0, 0), (1, 1), (2, 2), (0, 0)), mode=np_mode))
        worst = max(worst, float(np.abs(numpy(y) - numpy(expected)).max()))
        causal = xpconv.keras.Conv1D(2, 3, padding="causal", dilation_rate=2, padding_mode=mode)
        s = x[:, 0]
        y = causal(s)
        twin = keras.layers.Conv1D(2, 3, dilation_rate=2)
        twin.build((2, 13, 3))
        twin.set_weights(causal.get_weights())
        expected = twin(np.pad(s, ((0, 0), (4, 0), (0, 0)), mode=np_mode))
        worst = max(worst, float(np.abs(numpy(y) - numpy(expected)).max()))
    return worst


def transposed_modes_and_groups(rng):
    """Conv2DTranspose with groups and a mode: xpconv.conv_transpose with its kernel as
    (C_in, filters/groups, kH, kW) and the same output window."""
    x = rng.standard_normal((2, 5, 6, 4)).astype("float32")
    layer = xpconv.keras.Conv2DTranspose(6, 3, strides=2, padding="same", groups=2, padding_mode="reflect")
    y = layer(x)
    kernel, bias = layer.get_weights()
    expected = xpconv.conv_transpose2d(np.moveaxis(x, -1, 1), np.transpose(kernel, (3, 2, 0, 1)), bias, stride=2,
                                       padding="same", groups=2, padding_mode="reflect")
    return kernel.shape == (3, 3, 3, 4), float(np.abs(numpy(y) - np.moveaxis(expected, 1, -1)).max())


def model(conv, transposed):
    inputs = keras.Input((16, 16, 3))
    h = conv(8, 3, strides=2, padding="same", activation="relu")(inputs)
    h = transposed(4, 3, strides=2, padding="same")(h)
    return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(h)))


def fit_and_save(rng):
    """The same model built of xpconv's layers and of Keras', the same initial weights: the same
    losses and predictions after fit; the xpconv model saved to .keras and loaded back."""
    keras.utils.set_random_seed(3)
    ours = model(xpconv.keras.Conv2D, xpconv.keras.Conv2DTranspose)
    twin = model(keras.layers.Conv2D, keras.layers.Conv2DTranspose)
    twin.set_weights(ours.get_weights())
    x = rng.standard_normal((32, 16, 16, 3)).astype("float32")
    target = rng.standard_normal((32, 2)).astype("float32")
    losses, predictions = {}, {}
    for name, m in (("xpconv", ours), ("keras", twin)):
        m.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        losses[name] = [float(v) for v in m.fit(x, target, epochs=2, batch_size=8, shuffle=False, verbose=0)
                        .history["loss"]]
        predictions[name] = numpy(m.predict(x[:4], verbose=0)).tolist()
    path = os.path.join(tempfile.mkdtemp(), "model.keras")
    ours.save(path)
    loaded = keras.saving.load_model(path)
    reloaded = float(np.abs(numpy(loaded.predict(x[:4], verbose=0)) - np.array(predictions["xpconv"])).max())
    classes = [f"{type(layer).__module__}.{type(layer).__name__}" for layer in loaded.layers[1:3]]
    config = xpconv.keras.Conv2D(2, 3, padding="same", padding_mode="circular").get_config()
    again = xpconv.keras.Conv2D.from_config(config)
    return {"losses": losses, "predictions": predictions, "reloaded": reloaded, "classes": classes,
            "config_mode": again.padding_mode, "registered": keras.saving.get_registered_name(xpconv.keras.Conv2D)}


def main() -> None:
    rng = np.random.default_rng(0)
    worst, shapes = twins(rng)
    kernel_shape_ok, transposed_error = transposed_modes_and_groups(rng)
    print(json.dumps({
        "backend": keras.backend.backend(),
        "twins_error": worst,
        "twins_shapes": shapes,
        "modes_error": padding_modes(rng),
        "grouped_kernel_shape": kernel_shape_ok,
        "transposed_modes_error": transposed_error,
        **fit_and_save(rng),
    }))


if __name__ == "__main__":
    main()
    sys.stdout.flush()
