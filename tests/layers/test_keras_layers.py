"""``xpconv.keras``: the six layers against their ``keras.layers`` twins on every Keras backend,
each in its own process (Keras picks its backend at import): the same weights give the same
outputs and shapes; ``padding_mode`` pads as it says; groups on the transposed layers;
``get_config``, ``.keras`` save and load; ``fit`` gives the twin model's losses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from matrix import keras_backends, keras_report

SCRIPT = Path(__file__).parent / "keras_layers_run.py"


@pytest.mark.parametrize("backend", keras_backends())
def test_keras_layers_equal_their_twins_save_and_fit(backend):
    report = keras_report(SCRIPT, backend)
    assert report["twins_shapes"] and report["twins_error"] < 1e-5  # float32, relative to the output's scale
    assert report["modes_error"] < 1e-5 and report["transposed_modes_error"] < 1e-5
    assert report["grouped_kernel_shape"]
    losses = report["losses"]
    assert losses["xpconv"][1] < losses["xpconv"][0]  # it learned
    np.testing.assert_allclose(losses["xpconv"], losses["keras"], rtol=1e-4)
    np.testing.assert_allclose(report["predictions"]["xpconv"], report["predictions"]["keras"], rtol=1e-4, atol=1e-5)
    assert report["reloaded"] == 0.0
    assert report["classes"] == ["xpconv.keras.Conv2D", "xpconv.keras.Conv2DTranspose"]
    assert report["config_mode"] == "circular" and report["registered"] == "xpconv>Conv2D"


@pytest.mark.needs("tensorflow")
def test_bad_layer_arguments_are_named():
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    probe = (
        "import xpconv.keras as k\n"
        "for make in (lambda: k.Conv2D(4, 3, padding_mode='mirror'), lambda: k.Conv2DTranspose(5, 3, groups=2),\n"
        "             lambda: k.Conv2DTranspose(4, 3, groups=0)):\n"
        "    try:\n        make()\n    except ValueError as error:\n        print(error)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300)
    lines = out.stdout.strip().splitlines()[-3:]
    assert lines == [
        "padding_mode must be one of ('zeros', 'reflect', 'replicate', 'circular'). Received: padding_mode='mirror'",
        "filters must be divisible by groups. Received: filters=5, groups=2",
        "groups must be a positive int. Received: groups=0",
    ], out.stderr[-2000:]
