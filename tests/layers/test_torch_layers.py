"""``xpconv.torch``: modules with ``torch.nn``'s arguments and ``state_dict``, against their
``torch.nn`` twins (values, gradients, state dicts both ways), plus what ``torch.nn`` refuses:
strided ``padding="same"``, padding modes on transposed convolutions, ``out_dtype``."""

from __future__ import annotations

import numpy as np
import pytest

from xpconv.testing import conv_transpose_oracle

pytestmark = pytest.mark.needs("torch")

#: (class name, positional arguments, keyword arguments, input shape): nn's own options only.
TWINS = [
    ("Conv1d", (4, 6, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}, (2, 4, 17)),
    ("Conv1d", (3, 5, 4), {"padding": "same", "padding_mode": "circular"}, (3, 9)),
    ("Conv2d", (3, 8, 3), {"padding": 1, "padding_mode": "reflect"}, (2, 3, 9, 8)),
    ("Conv2d", (4, 4, (3, 2)), {"stride": (2, 1), "groups": 4, "bias": False}, (2, 4, 9, 8)),
    ("Conv2d", (3, 6, 5), {"padding": "same", "dilation": 2, "padding_mode": "replicate"}, (1, 3, 12, 11)),
    ("Conv3d", (2, 4, 3), {"stride": (1, 2, 2), "padding": (1, 0, 1)}, (1, 2, 5, 6, 7)),
    ("ConvTranspose1d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}, (2, 4, 7)),
    ("ConvTranspose2d", (4, 3, 4), {"stride": 2, "padding": 1}, (2, 4, 5, 6)),
    ("ConvTranspose2d", (4, 2, 3), {"stride": (2, 3), "dilation": 2, "padding": (0, 2), "bias": False}, (1, 4, 4, 5)),
    ("ConvTranspose3d", (2, 2, 3), {"stride": 2, "padding": 1, "output_padding": (1, 0, 1)}, (1, 2, 3, 4, 3)),
]


def _pair(name, args, kwargs):
    import torch

    import xpconv.torch

    torch.manual_seed(0)
    ours = getattr(xpconv.torch, name)(*args, **kwargs, dtype=torch.float64)
    torch.manual_seed(0)  # the same draws: torch.nn's initialization
    twin = getattr(torch.nn, name)(*args, **kwargs, dtype=torch.float64)
    return ours, twin


@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), TWINS, ids=lambda v: v if isinstance(v, str) else None)
def test_modules_equal_their_torch_nn_twins(name, args, kwargs, shape):
    """The same parameters (names, shapes, dtype), a state_dict loaded either way, the same output
    and the same gradients of input, weight and bias."""
    import torch

    ours, twin = _pair(name, args, kwargs)
    with torch.no_grad():  # the state dict, not the seed, must make them equal
        for p in ours.parameters():
            p.uniform_(-1, 1)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in twin.state_dict().items()}
    assert ours.load_state_dict(twin.state_dict()).missing_keys == []
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    y, expected = ours(x), twin(x)
    assert type(y) is torch.Tensor and y.dtype == torch.float64 and y.shape == expected.shape
    torch.testing.assert_close(y, expected, rtol=0, atol=1e-12)
    g = torch.randn(expected.shape, dtype=torch.float64)
    got = torch.autograd.grad(y, [x, *ours.parameters()], g)
    want = torch.autograd.grad(expected, [x, *twin.parameters()], g)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-11)
    twin.load_state_dict(ours.state_dict())  # and back
    assert repr(ours).split("(", 1)[0] == name


def test_initialization_is_torch_nns():
    """The same random draws as torch.nn's modules (Kaiming-uniform weight, fan-in bias)."""
    import torch

    for name, args, kwargs, _ in TWINS:
        ours, twin = _pair(name, args, kwargs)
        for a, b in zip(ours.parameters(), twin.parameters()):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize(("size", "kernel", "stride", "dilation"), [(17, 3, 2, 1), (16, 4, 3, 1), (10, 3, 4, 2), (9, 1, 2, 1)])
def test_same_with_a_stride_is_tensorflows_output_size(size, kernel, stride, dilation):
    """nn.Conv2d refuses padding="same" with a stride (pytorch#3867): here the output has
    ceil(n / stride) elements, the odd padding after, as TensorFlow pads."""
    import torch
    import torch.nn.functional as F

    import xpconv.torch

    torch.manual_seed(1)
    layer = xpconv.torch.Conv2d(3, 5, kernel, stride=stride, dilation=dilation, padding="same", dtype=torch.float64)
    x = torch.randn(2, 3, size, size, dtype=torch.float64)
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    padded = F.pad(x, (total // 2, total - total // 2) * 2)
    expected = F.conv2d(padded, layer.weight, layer.bias, stride=stride, dilation=dilation)
    y = layer(x)
    assert y.shape == (2, 5, out, out)
    torch.testing.assert_close(y, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_transposed_padding_modes_against_the_oracle(mode):
    """What nn.ConvTranspose2d refuses (pytorch#46027), against the float64 oracle; gradients flow."""
    import torch

    import xpconv.torch

    torch.manual_seed(2)
    layer = xpconv.torch.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1, padding_mode=mode,
                                         dtype=torch.float64)
    x = torch.randn(2, 4, 5, 6, dtype=torch.float64, requires_grad=True)
    y = layer(x)
    expected = conv_transpose_oracle(x.detach().numpy(), layer.weight.detach().numpy(), layer.bias.detach().numpy(),
                                     stride=(2, 2), padding=((1, 1), (1, 1)), output_padding=(1, 1), padding_mode=mode)
    assert y.shape == (2, 2, 10, 12)
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=0, atol=1e-12)
    y.square().sum().backward()
    assert x.grad.shape == x.shape and layer.weight.grad.shape == layer.weight.shape


def test_output_size_picks_the_output_padding_as_torch_nn():
    import torch

    ours, twin = _pair("ConvTranspose2d", (3, 2, 3), {"stride": 2, "padding": 1})
    x = torch.randn(1, 3, 5, 5, dtype=torch.float64)
    for size in ([9, 9], [10, 10], [1, 2, 10, 9]):
        torch.testing.assert_close(ours(x, output_size=size), twin(x, output_size=size), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match=r"output_size must be between \(9, 9\) and \(10, 10\) for this input\. "
                                         r"Received: output_size=\(12, 12\)"):
        ours(x, output_size=[12, 12])


def test_large_strides_and_paddings_are_accepted_at_construction():
    """Options are checked at construction on a large input: none that fits some input is refused."""
    import torch

    import xpconv.torch

    up = xpconv.torch.ConvTranspose1d(1, 1, 3, stride=64, padding=1000, padding_mode="replicate")
    assert up(torch.ones(1, 1, 40)).shape == (1, 1, (40 - 1) * 64 - 2000 + 3)
    assert xpconv.torch.Conv1d(1, 1, 3, padding=5000)(torch.ones(1, 1, 4)).shape == (1, 1, 10002)


def test_out_dtype_and_integer_parameters():
    """int8 data with int8 weights, summed exactly into int32."""
    import torch

    import xpconv.torch

    layer = xpconv.torch.Conv2d(2, 1, 2, bias=False, dtype=torch.int8, out_dtype=torch.int32)
    assert not layer.weight.requires_grad and layer.weight.dtype == torch.int8
    with torch.no_grad():
        layer.weight.fill_(100)
    x = torch.full((1, 2, 3, 3), 100, dtype=torch.int8)
    y = layer(x)
    assert y.dtype == torch.int32 and y.shape == (1, 1, 2, 2)
    assert (y == 8 * 100 * 100).all()
    assert "out_dtype=torch.int32" in repr(layer)


@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    ({"groups": 2}, ValueError, r"in_channels must be divisible by groups\. Received: in_channels=3, groups=2"),
    ({"kernel_size": (3, 3, 3)}, ValueError, r"kernel_size must be an int or 2 ints \(one per spatial axis\)\. Received"),
    ({"padding_mode": "mirror"}, ValueError, r"padding_mode must be one of \('zeros', 'reflect', 'replicate', 'circular'\)"),
    ({"padding": (1, 2, 3)}, ValueError, r"padding must be an int or 2 ints \(one per spatial axis\) for a 2-D convolution"),
    ({"stride": 0}, ValueError, r"stride must be a positive int\. Received: stride=0"),
    ({"in_channels": 2.5}, TypeError, r"in_channels must be a positive int\. Received: in_channels=2\.5"),
    ({"bias": "yes"}, TypeError, r"bias must be a bool\. Received: bias='yes'"),
])
def test_bad_arguments_are_named_at_construction(kwargs, error, pattern):
    import xpconv.torch

    arguments = {"in_channels": 3, "out_channels": 6, "kernel_size": 3, **kwargs}
    with pytest.raises(error, match=pattern):
        xpconv.torch.Conv2d(**arguments)


def test_a_module_exports_with_a_dynamic_batch_and_size():
    """torch.export of a strided "same" module, batch and sizes symbolic; the program equals eager."""
    import torch
    from torch.export import Dim

    import xpconv.torch

    torch.manual_seed(3)
    layer = xpconv.torch.Conv2d(3, 4, 3, stride=2, padding="same")
    shapes = {"input": {0: Dim("n"), 2: Dim("h", min=3, max=64), 3: Dim("w", min=3, max=64)}}
    program = torch.export.export(layer, (torch.randn(2, 3, 16, 16),), dynamic_shapes=shapes)
    x = torch.randn(5, 3, 17, 40)
    y = program.module()(x)
    assert y.shape == (5, 4, 9, 20)
    torch.testing.assert_close(y, layer(x), rtol=1e-6, atol=1e-6)
