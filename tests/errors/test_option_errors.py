"""Issue 3: conv2d's bad input, named and explained before any work, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv


def arrays(fw, x_shape=(2, 4, 6, 6), w_shape=(6, 2, 3, 3), b_shape=None):
    x = fw.asarray(np.ones(x_shape, np.float32))
    w = fw.asarray(np.ones(w_shape, np.float32))
    b = None if b_shape is None else fw.asarray(np.ones(b_shape, np.float32))
    return x, w, b


CASES = [
    # (x shape, weight shape, bias shape, options, exception, pattern)
    ((2, 4, 6, 6), (6, 3, 3, 3), None, {}, ValueError,
     r"number of input channels must match the kernel's input channels times groups .*Received: input channels=4, kernel input channels=3, groups=1"),
    ((2, 4, 6, 6), (6, 1, 3, 3), None, {"groups": 2}, ValueError, r"input channels=4, kernel input channels=1, groups=2"),
    ((2, 4, 6, 6), (6, 1, 3, 3), None, {"groups": 3}, ValueError, r"groups must divide the number of input channels\. Received: groups=3, input channels=4"),
    ((2, 4, 6, 6), (5, 2, 3, 3), None, {"groups": 2}, ValueError, r"groups must divide the number of output channels .*Received: groups=2, output channels=5"),
    ((2, 4, 6, 6), (6, 4, 3, 3), (5,), {}, ValueError, r"bias must be None or a 1-D array of shape \(C_out,\) = \(6,\)\. Received: bias with shape \(5,\)"),
    ((2, 4, 6, 6), (6, 4, 3, 3), (6, 1), {}, ValueError, r"Received: bias with shape \(6, 1\)"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"stride": 0}, ValueError, r"stride must be a positive int or one positive int per spatial axis\. Received: stride=0"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"stride": (1, -2)}, ValueError, r"Received: stride=\(1, -2\)"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"stride": 1.5}, TypeError, r"stride must be a positive int .*Received: stride=1\.5"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"stride": (1, 2, 3)}, ValueError, r"Received: stride=\(1, 2, 3\)"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"dilation": 0}, ValueError, r"dilation must be a positive int or one positive int per spatial axis\. Received: dilation=0"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"dilation": True}, TypeError, r"Received: dilation=True"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"padding": -1}, ValueError, r"padding must be a non-negative int or one non-negative int per spatial axis\. Received: padding=-1"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"padding": ((0, 1), (-1, 0))}, ValueError, r"Received: padding=\(-1, 0\)"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"padding": "full"}, ValueError, r"padding must be 'valid', 'same', 'same_lower', a non-negative int, one int per spatial axis or one \(before, after\) pair per spatial axis\. Received: padding='full'"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"data_format": "CHWN"}, ValueError, r"data_format must be one of \('channels_first', 'channels_last', 'NCW', 'NWC', 'NCHW', 'NHWC', 'NCDHW', 'NDHWC'\)\. Received: data_format='CHWN'"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"method": "fast"}, ValueError, r"method must be one of \('auto', 'native', 'portable', 'winograd', 'fourier'\)\. Received: method='fast'"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"groups": 0}, ValueError, r"groups must be a positive int\. Received: groups=0"),
    ((2, 4, 3, 3), (6, 4, 5, 5), None, {"padding": 0}, ValueError, r"kernel must not be larger than the padded input\. Received: kernel size 5x5 \(dilated extent 5x5\), padded input size 3x3"),
    ((2, 4, 6, 6), (6, 4, 3, 3), None, {"dilation": 3}, ValueError, r"kernel size 3x3 \(dilated extent 7x7\), padded input size 6x6"),
    ((4, 6, 6), (6, 4, 3, 3), None, {"data_format": "NHWC"}, ValueError, r"input channels=6, kernel input channels=4"),
    ((2, 1, 4, 6, 6), (6, 4, 3, 3), None, {}, ValueError, r"x must be a 3-D or 4-D array of shape \(N, C_in, H, W\) or \(C_in, H, W\) for data_format='NCHW' and a 2-D weight\. Received: x with shape \(2, 1, 4, 6, 6\) \(5-D\)"),
    ((2, 4, 6, 6), (4, 3, 3), None, {}, ValueError, r"weight must be a 4-D array for data_format='NCHW' \(a 2-D convolution\)\. Received: weight with shape \(4, 3, 3\) \(3-D\)"),
    ((2, 4, 0, 6), (6, 4, 3, 3), None, {"padding": 2}, ValueError, r"x must have no zero-sized dimension\. Received: x with shape \(2, 4, 0, 6\)"),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "b_shape", "options", "error", "pattern"), CASES)
def test_conv2d_bad_input(fw, x_shape, w_shape, b_shape, options, error, pattern):
    x, w, b = arrays(fw, x_shape, w_shape, b_shape)
    with pytest.raises(error, match=pattern):
        xpconv.conv2d(x, w, b, **options)


def test_native_method_needs_a_native_kernel(fw):
    x, w, _ = arrays(fw, w_shape=(6, 4, 3, 3))
    if fw.has_native:
        assert fw.is_array(xpconv.conv2d(x, w, method="native"))
    else:
        with pytest.raises(ValueError, match=rf"method='native' needs a backend with a native convolution\. Received: arrays of backend '{fw.name}', which has none"):
            xpconv.conv2d(x, w, method="native")


def test_native_method_refuses_dtypes_its_kernel_lacks(native_fw):
    x = native_fw.asarray(np.ones((1, 2, 4, 4)), "int32")
    w = native_fw.asarray(np.ones((1, 2, 2, 2)), "int32")
    if native_fw.backend.native_takes(native_fw.dtype("int32")):  # XLA convolves integers natively
        assert native_fw.to_numpy(xpconv.conv2d(x, w, method="native")).ravel()[0] == 8
    else:
        with pytest.raises(ValueError, match=rf"the {native_fw.name} convolution does not support dtype int32\. Received: x with dtype int32"):
            xpconv.conv2d(x, w, method="native")
    assert native_fw.to_numpy(xpconv.conv2d(x, w, method="auto")).ravel()[0] == 8
