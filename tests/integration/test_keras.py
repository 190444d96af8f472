"""Issue 7: Keras 3. A layer holding its weight as a Keras variable, in a functional model
built symbolically (batch None), compiled and fit, on each Keras backend in its own process
(Keras picks its backend at import). Predictions and loss history must equal a twin model
that uses ``keras.layers.Conv2D`` with the same initial weights and data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matrix import keras_backends, keras_report

SCRIPT = Path(__file__).parent / "keras_fit.py"


@pytest.mark.parametrize("backend", keras_backends())
def test_keras_model_fits_like_keras_conv2d(backend):
    report = keras_report(SCRIPT, backend)
    assert "keras" in report["variable_type"]  # the layer really passed a Keras variable
    assert report["symbolic_output_shape"] == [None, 8, 8, 8]  # built on keras.Input: batch None
    assert report["eager_shape"] == [2, 8, 8, 8]
    losses = report["losses"]
    assert len(losses["xpconv"]) == 2 and losses["xpconv"][1] < losses["xpconv"][0]  # it learned
    np.testing.assert_allclose(losses["xpconv"], losses["keras"], rtol=1e-4)
    np.testing.assert_allclose(report["predictions"]["xpconv"], report["predictions"]["keras"], rtol=1e-4, atol=1e-6)
