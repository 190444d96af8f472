"""A repeated PyTorch call runs ``F.conv*d`` as its own users call it: an unbatched input goes in as it
comes (torch adds the batch axis in C++; adding and removing it in Python cost 4 µs a call), and only
the arguments that differ from ``F.conv*d``'s defaults are passed. Recorded with torch's own
``TorchFunctionMode``, which sees every torch function a call runs; values against the oracle."""

from __future__ import annotations

import numpy as np
import pytest

import xpconv
from xpconv.testing import conv_oracle

pytestmark = pytest.mark.needs("torch")  # deselected, never skipped, where PyTorch is not selected


def recorded(call):
    """``call()``'s result and the torch functions it ran (attribute reads aside: shape, dtype, device),
    each with the shape of its first argument and its number of arguments."""
    from torch.overrides import TorchFunctionMode

    seen = []

    class Record(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = getattr(func, "__name__", str(func))
            if name != "__get__":
                seen.append((name, tuple(args[0].shape) if args else None, len(args) + len(kwargs or {})))
            return func(*args, **(kwargs or {}))

    with Record():
        out = call()
    return out, seen


@pytest.mark.parametrize(("x_shape", "w_shape", "options", "arguments"), [
    ((2, 3, 3), (3, 2, 2, 2), {}, 3),  # the chapter's example: x, weight, bias
    ((4, 9, 7), (6, 2, 3, 3), {"padding": ((1, 1), (1, 1)), "groups": 2}, 7),  # every argument up to groups
    ((4, 9), (6, 4, 3), {"stride": (2,)}, 4),  # 1-D: up to the stride
    ((2, 5, 6, 7), (3, 2, 3, 3, 3), {"dilation": (1, 2, 1)}, 6),  # 3-D: up to the dilation
])
def test_an_unbatched_input_goes_to_torch_as_it_comes(x_shape, w_shape, options, arguments):
    import torch

    rng = np.random.default_rng(0)
    x_np, w_np = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    x, w = torch.asarray(x_np), torch.asarray(w_np)
    xpconv.conv(x, w, **options)  # validated once; the next call takes the fast path
    out, seen = recorded(lambda: xpconv.conv(x, w, **options))
    rank = len(w_shape) - 2
    assert seen == [(f"conv{rank}d", x_shape, arguments)]  # one call, no indexing, no squeeze
    assert type(out) is torch.Tensor and out.dtype == torch.float64 and out.device == x.device
    expected = conv_oracle(x_np[None], w_np, **options)[0]
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_a_batched_input_takes_the_same_single_call():
    import torch

    x, w = torch.ones(1, 2, 3, 3), torch.ones(3, 2, 2, 2)
    xpconv.conv(x, w)
    out, seen = recorded(lambda: xpconv.conv(x, w))
    assert seen == [("conv2d", (1, 2, 3, 3), 3)]
    assert out.shape == (1, 3, 2, 2) and bool((out == 8).all())
