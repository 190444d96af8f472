"""TensorFlow's native dilated convolution for a huge dilation, taped and not."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv


# -- 8. TensorFlow dilation ----------------------------------------------------------------------------
@pytest.mark.needs("tensorflow")
@pytest.mark.parametrize("taped", [False, True], ids=["no-tape", "taped"])
def test_tensorflow_huge_dilation_runs_the_native_dilated_convolution(taped):
    """Dilation 10^5 on a 3x1 kernel: zero insertion built a (2·10^5+1)-row filter (the finding:
    112 s and 3.9 GB at 10^6); the native dilated forward runs it directly, taped or not."""
    import tensorflow as tf

    d, h = 10**5, 2 * 10**5 + 5
    x_np = np.random.default_rng(6).standard_normal((1, 2, h, 1))
    w_np = np.random.default_rng(7).standard_normal((3, 2, 3, 1))
    x, w = tf.constant(x_np), tf.constant(w_np)
    if taped:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = xpconv.conv2d(x, w, dilation=(d, 1))
    else:
        y = xpconv.conv2d(x, w, dilation=(d, 1))
    expected = np.stack([sum(np.einsum("ch,oc->oh", x_np[0, :, i * d : i * d + 5, 0], w_np[:, :, i, 0]) for i in range(3))])
    assert tuple(y.shape) == (1, 3, 5, 1)
    np.testing.assert_allclose(y.numpy()[..., 0], expected, rtol=1e-12, atol=1e-12)




