"""Messages name the argument, what was expected and what was received."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv


# -- 7. messages ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    ({"x": None}, TypeError, r"^x must be an array or a nested list of numbers\. Received: x=None$"),
    ({"weight": None}, TypeError, r"^weight must be an array or a nested list of numbers\. Received: weight=None$"),
    ({"data_format": ["NCHW"]}, TypeError, r"^data_format must be one of \('channels_first', 'channels_last', 'NCW', 'NWC', 'NCHW', 'NHWC', 'NCDHW', 'NDHWC'\)\. Received: data_format=\['NCHW'\]$"),
    ({"stride": {"a": 1}}, TypeError, r"^stride must be a positive int or one positive int per spatial axis\. Received: stride=\{'a': 1\}$"),
    ({"padding": [[0, 1], [1]]}, ValueError, r"^padding must be 'valid', 'same', 'same_lower', a non-negative int, one int per spatial axis or one \(before, after\) pair per spatial axis\. Received: padding=\[\[0, 1\], \[1\]\]$"),
    ({"groups": None}, TypeError, r"^groups must be a positive int\. Received: groups=None$"),
    ({"method": ["auto"]}, ValueError, r"^method must be one of \('auto', 'native', 'portable', 'winograd', 'fourier'\)\. Received: method=\['auto'\]$"),
])
def test_bad_arguments_are_named(fw, kwargs, error, pattern):
    args = {"x": fw.asarray(np.ones((1, 2, 4, 4)), "float32"), "weight": fw.asarray(np.ones((1, 2, 3, 3)), "float32"), **kwargs}
    with pytest.raises(error, match=pattern):
        xpconv.conv2d(args.pop("x"), args.pop("weight"), **args)


@pytest.mark.needs("numpy")
def test_a_ragged_list_is_named():
    with pytest.raises(ValueError, match=r"^x must be an array or a rectangular nested list of numbers\. Received: x of type list that cannot be read as one \(a ragged nested list"):
        xpconv.conv2d([[[[1.0, 2.0], [3.0]]]], np.ones((1, 1, 1, 1)))
    with pytest.raises(ValueError, match=r"^K must be an array or a rectangular nested list"):
        xpconv.corr2d(np.ones((3, 3)), [[1.0], [2.0, 3.0]])


def test_channel_mismatch_suggests_the_other_layout(fw):
    nhwc = fw.asarray(np.ones((2, 9, 9, 3)), "float32")
    w = fw.asarray(np.ones((4, 3, 3, 3)), "float32")
    with pytest.raises(ValueError, match=r"input channels=9, kernel input channels=3, groups=1; did you mean data_format='NHWC'\?$"):
        xpconv.conv2d(nhwc, w)
    nchw = fw.asarray(np.ones((2, 3, 9, 9)), "float32")
    with pytest.raises(ValueError, match=r"did you mean data_format='NCHW'\?$"):
        xpconv.conv2d(nchw, w, data_format="NHWC")
    with pytest.raises(ValueError, match=r"input channels=9, kernel input channels=2, groups=1$"):  # no hint when it would not help
        xpconv.conv2d(nhwc, fw.asarray(np.ones((4, 2, 3, 3)), "float32"))




# -- found in review ------------------------------------------------------------------------------------
@pytest.mark.needs("torch")
def test_options_given_as_tensors_are_read_on_every_call():
    """A 0-d tensor hashes by identity: cached options would keep a value changed in place."""
    import torch

    x, w = torch.ones(1, 1, 5, 5), torch.ones(1, 1, 2, 2)
    stride = torch.tensor(1)
    assert tuple(xpconv.conv2d(x, w, stride=stride).shape) == (1, 1, 4, 4)
    stride.fill_(2)
    assert tuple(xpconv.conv2d(x, w, stride=stride).shape) == (1, 1, 2, 2)




