"""Empty batches and invalid run-time sizes through TensorFlow, eagerly and in ``tf.function`` with
unknown sizes. Run as a script, once with ``TF_ENABLE_ONEDNN_OPTS=0`` and once with ``=1``
(TensorFlow reads it at import; CPUs differ in its default: with it on, TensorFlow's own
convolutions returned their input for an empty batch). Prints one JSON line: what ran, and
every result that was wrong."""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf

import xpconv

CASES = [  # (x shape NCHW, weight shape, options, transposed, expected output shape NCHW)
    ((0, 4, 7, 8), (6, 2, 3, 3), {"groups": 2, "stride": 2, "padding": 1}, False, (0, 6, 4, 4)),
    ((0, 4, 7, 8), (4, 1, 3, 3), {"groups": 4, "padding": "same"}, False, (0, 4, 7, 8)),
    ((0, 4, 7, 8), (6, 4, 3, 3), {"padding": 1, "dilation": 2}, False, (0, 6, 5, 6)),
    ((0, 4, 9), (6, 4, 3), {"stride": 2}, False, (0, 6, 4)),
    ((0, 2, 4, 5, 6), (3, 2, 2, 2, 2), {"padding": 1}, False, (0, 3, 5, 6, 7)),
    ((0, 4, 5, 5), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, True, (0, 3, 10, 10)),
    ((0, 4, 5, 5), (4, 2, 3, 3), {"stride": 2, "groups": 2}, True, (0, 4, 11, 11)),
]
INVALID = [  # (x shape NCHW, weight shape, options, what the error names)
    ((1, 2, 3, 3), (3, 2, 3, 3), {"padding": 3, "padding_mode": "reflect"}, "needs padding smaller than the input size"),
    ((1, 2, 2, 2), (3, 2, 3, 3), {"padding": 0}, "kernel must not be larger than the padded input"),
    ((1, 2, 3, 3), (3, 2, 3, 3), {"padding": 4, "padding_mode": "circular"}, "needs padding at most the input size"),
]


def _last(shape):
    return (shape[0], *shape[2:], shape[1])


def run() -> dict:
    results, wrong = [], []
    for x_shape, w_shape, options, transposed, expected in CASES:
        function = xpconv.conv_transpose if transposed else xpconv.conv
        w = tf.ones(w_shape)
        b = tf.ones((expected[1],))
        for layout in ("channels_first", "channels_last"):
            last = layout == "channels_last"
            shape = _last(x_shape) if last else x_shape
            want = _last(expected) if last else expected
            for method in ("auto", "native", "portable"):
                for bias in (None, b):
                    def call(x, w=w, bias=bias, method=method, layout=layout, function=function, options=options):
                        return function(x, w, bias, data_format=layout, method=method, **options)

                    traced = tf.function(call, input_signature=[tf.TensorSpec((None, *shape[1:]), tf.float32)])
                    for mode, f in (("eager", call), ("tf.function", traced)):
                        label = f"{mode} {layout} {method} bias={bias is not None} {options}"
                        try:
                            y = f(tf.zeros(shape))
                            ok = tuple(y.shape) == want and y.dtype == tf.float32
                        except Exception as error:  # reported as wrong
                            ok, y = False, error
                        results.append(label)
                        if not ok:
                            wrong.append(f"{label}: {getattr(y, 'shape', y)}")
                    full = traced(tf.ones((2, *shape[1:])))  # the guarded kernel still computes
                    if full.shape[0] != 2:
                        wrong.append(f"batch 2 {layout} {method}: {full.shape}")
    for x_shape, w_shape, options, message in INVALID:
        for method in ("auto", "native", "portable"):
            traced = tf.function(lambda x, method=method, options=options, w_shape=w_shape:
                                 xpconv.conv2d(x, tf.ones(w_shape), method=method, **options),
                                 input_signature=[tf.TensorSpec((1, 2, None, None), tf.float32)])
            label = f"invalid {options} {method}"
            results.append(label)
            try:
                y = traced(tf.ones(x_shape))
                wrong.append(f"{label}: ran, gave {y.shape}")
            except tf.errors.InvalidArgumentError as error:
                if message not in str(error):
                    wrong.append(f"{label}: {str(error)[:200]}")
    return {"onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS"), "results": results, "wrong": wrong}


if __name__ == "__main__":
    print(json.dumps(run()))
