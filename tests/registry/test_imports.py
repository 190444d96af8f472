"""Importing xpconv imports no array framework; using it imports only the caller's."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xpconv.backends import catalog

#: Every backend's library (from the registry), and Keras.
FRAMEWORK_MODULES = (*(b.module.split(".")[0] for b in catalog() if b.lane), "keras")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(','.join(m for m in {FRAMEWORK_MODULES!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(filter(None, out.stdout.rstrip("\n").rsplit("\n", 1)[-1].split(",")))


def test_import_xpconv_imports_no_framework():
    assert _loaded_after("import xpconv, xpconv.backends, xpconv.cost") == set()


def test_numpy_call_imports_nothing_else():
    loaded = _loaded_after("import numpy as np, xpconv\nxpconv.corr2d(np.ones((3, 3)), np.ones((2, 2)))")
    assert loaded == {"numpy"}


@pytest.mark.needs("torch")
def test_torch_call_imports_no_other_framework():
    loaded = _loaded_after("import torch, xpconv\nxpconv.corr2d(torch.ones(3, 3), torch.ones(2, 2))")
    assert loaded <= {"torch", "numpy"}, loaded


@pytest.mark.needs("mxnet")
def test_mxnet_call_imports_no_other_framework():
    loaded = _loaded_after("import mxnet as mx, xpconv\nxpconv.corr2d(mx.np.ones((3, 3)), mx.np.ones((2, 2)))")
    assert "mxnet" in loaded and loaded <= {"mxnet", "numpy"}, loaded


@pytest.mark.needs("torch")
def test_the_torch_layers_import_torch_alone():
    """``import xpconv`` leaves the layer modules out; ``import xpconv.torch`` brings torch only."""
    assert _loaded_after("import xpconv\nimport sys\nassert 'xpconv.torch' not in sys.modules") == set()
    assert "torch" in _loaded_after("import xpconv.torch") <= {"torch", "numpy"}


@pytest.mark.needs("tensorflow")
def test_the_keras_layers_import_keras_and_its_backend_alone():
    chosen = "import os\nos.environ['KERAS_BACKEND'] = 'tensorflow'\n"
    loaded = _loaded_after(chosen + "import xpconv\nimport sys\nassert 'xpconv.keras' not in sys.modules\n"
                           "import xpconv.keras")
    assert {"keras", "tensorflow"} <= loaded == _loaded_after(chosen + "import keras"), loaded  # what Keras brings
