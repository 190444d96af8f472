"""Dask in every rank, every padding mode, and transposed."""

from __future__ import annotations

import numpy as np
import pytest
from dask_cases import CASES, build, check, no_compute, partition, rng, xpconv_tasks  # noqa: F401

import xpconv
from xpconv.testing import conv_oracle, conv_transpose_oracle

pytestmark = pytest.mark.needs("dask")


# -- every rank, padding modes, transposed ------------------------------------------------------
T = xpconv.conv_transpose
# (function, x shape, x chunks, weight shape, options)
ND_CASES = {
    "1d-same-stride-2": (xpconv.conv, (2, 3, 41), (1, 2, 9), (4, 3, 4), {"padding": "same", "stride": 2}),
    "1d-nwc-dilated-groups": (xpconv.conv1d, (2, 37, 6), (1, 10, 4), (4, 3, 3), {"padding": 3, "dilation": 2, "groups": 2, "data_format": "NWC"}),
    "1d-unbatched-reflect": (xpconv.conv, (3, 30), (2, 7), (2, 3, 5), {"padding": ((4, 2),), "padding_mode": "reflect"}),
    "1d-circular-beyond-a-chunk": (xpconv.conv, (1, 2, 20), (1, 2, 3), (3, 2, 9), {"padding": 8, "padding_mode": "circular"}),
    "2d-replicate-stride-3": (xpconv.conv2d, (2, 3, 23, 19), (1, 2, 7, 6), (4, 3, 3, 3), {"padding": ((2, 1), (0, 3)), "stride": 3, "padding_mode": "replicate"}),
    "2d-nhwc-circular": (xpconv.conv2d, (1, 14, 15, 4), (1, 5, 4, 3), (4, 2, 3, 2), {"padding": "same", "groups": 2, "padding_mode": "circular", "data_format": "NHWC"}),
    "3d-same": (xpconv.conv, (2, 3, 9, 10, 11), (1, 2, 4, 5, 6), (4, 3, 3, 3, 3), {"padding": "same"}),
    "3d-ndhwc-stride-dilation": (xpconv.conv3d, (1, 11, 9, 10, 4), (1, 4, 5, 3, 4), (6, 4, 2, 3, 2), {"padding": 1, "stride": (2, 1, 3), "dilation": (1, 2, 1), "data_format": "NDHWC"}),
    "3d-reflect-depthwise": (xpconv.conv3d, (1, 4, 8, 9, 7), (1, 2, 3, 4, 3), (4, 1, 3, 3, 3), {"padding": (2, 1, 1), "groups": 4, "padding_mode": "reflect"}),
    "t1d-stride-2-output-padding": (T, (2, 3, 17), (1, 2, 5), (3, 4, 4), {"stride": 2, "padding": 1, "output_padding": 1}),
    "t1d-nwc-dilated-stride-3": (xpconv.conv_transpose1d, (1, 13, 4), (1, 4, 3), (4, 3, 3), {"stride": 3, "dilation": 2, "padding": ((4, 0),), "groups": 2, "data_format": "NWC"}),
    "t1d-unbatched-kernel-below-stride": (T, (3, 11), (2, 3), (3, 2, 2), {"stride": 4, "padding": ((1, 3),), "output_padding": 3}),
    "t2d-upsample": (xpconv.conv_transpose2d, (2, 4, 12, 13), (1, 3, 5, 4), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    "t2d-same-and-chunked-weight": (T, (1, 6, 10, 9), (1, 6, 3, 4), (6, 2, 3, 2), {"stride": (3, 2), "padding": "same"}),
    "t2d-nhwc-groups-valid": (T, (2, 9, 8, 6), (1, 4, 3, 2), (6, 2, 2, 3), {"stride": 2, "padding": "valid", "groups": 3, "data_format": "NHWC"}),
    "t3d": (xpconv.conv_transpose3d, (2, 4, 5, 6, 7), (1, 2, 2, 3, 4), (4, 2, 3, 2, 3), {"stride": (2, 1, 3), "padding": (1, 0, 2), "output_padding": (1, 0, 2), "dilation": (1, 2, 1)}),
    "t3d-ndhwc": (T, (1, 6, 5, 4, 3), (1, 3, 2, 3, 2), (3, 2, 2, 2, 2), {"stride": 2, "data_format": "NDHWC"}),
}


@pytest.mark.parametrize("case", list(ND_CASES))
def test_every_rank_mode_and_transposed_equal_in_memory(da, case):
    fn, shape, chunks, w_shape, options = ND_CASES[case]
    xn, wn = rng.standard_normal(shape), rng.standard_normal(w_shape)
    out_channels = w_shape[1] * options.get("groups", 1) if fn in (T, xpconv.conv_transpose1d, xpconv.conv_transpose2d, xpconv.conv_transpose3d) else w_shape[0]
    bn = rng.standard_normal(out_channels)
    w_chunks = (w_shape[0] // 2, *w_shape[1:]) if "chunked-weight" in case else None
    y = build(da, xn, chunks, wn, bn, weight_chunks=w_chunks, fn=fn, **options)
    check(da, y, xn, wn, bn, options, fn=fn, scheduler="sync")


def test_transposed_and_padding_modes_against_the_oracle(da):
    xn, wn, bn = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(3)
    y = build(da, xn, (1, 2, 4, 3), wn, bn, fn=T, stride=(2, 3), padding=((1, 0), (0, 1)), output_padding=(1, 2))
    expected = conv_transpose_oracle(xn, wn, bn, stride=(2, 3), padding=((1, 0), (0, 1)), output_padding=(1, 2))
    np.testing.assert_allclose(y.compute(scheduler="sync"), expected, rtol=1e-10, atol=1e-10)
    wn = rng.standard_normal((3, 4, 3, 3))
    for mode in ("reflect", "replicate", "circular"):
        y = build(da, xn, (1, 2, 4, 3), wn, bn, padding=((2, 1), (1, 2)), stride=2, padding_mode=mode)
        expected = conv_oracle(xn, wn, bn, stride=(2, 2), padding=((2, 1), (1, 2)), padding_mode=mode)
        np.testing.assert_allclose(y.compute(scheduler="sync"), expected, rtol=1e-10, atol=1e-10)


def test_transposed_is_one_task_per_output_block_with_stride_times_the_chunks(da):
    """No spread input is ever stored: the blocks spread their own regions; the weight is flipped once."""
    import dask

    x = da.random.random((4, 16, 64, 64), chunks=(1, 16, 32, 32))
    w = np.ones((16, 8, 3, 3))
    with dask.config.set(scheduler=no_compute):
        y = xpconv.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    assert y.chunks == ((1, 1, 1, 1), (8,), (64, 64), (64, 64))
    counts = xpconv_tasks(y)
    assert counts["conv"] == 16 and counts["halo"] <= 16 and set(counts) == {"conv", "halo"}
    added = len(dict(y.__dask_graph__())) - len(dict(x.__dask_graph__()))
    assert added <= 2 * 16 + 8  # blocks and bundles, plus the weight's few tasks
    x1 = da.random.random((1, 2, 30), chunks=(1, 2, (7, 11, 12)))
    with dask.config.set(scheduler=no_compute):
        y1 = xpconv.conv_transpose(x1, np.ones((2, 3, 5)), stride=3)
    assert y1.chunks == ((1,), (3,), (21, 33, 36 + 2))


def test_padding_modes_keep_the_chunks_of_zero_padding(da):
    """The lazily padded input: slices of the edge blocks, and Dask's concatenation aliasing every
    block once per padded axis (no copies); still one convolution per output block."""
    x = da.random.random((1, 4, 64, 64), chunks=(1, 4, 16, 16))
    w = np.ones((4, 4, 3, 3))
    zeros = xpconv.conv2d(x, w, padding=1)
    for mode in ("reflect", "replicate", "circular"):
        y = xpconv.conv2d(x, w, padding=1, padding_mode=mode)
        assert y.chunks == zeros.chunks == x.chunks
        assert xpconv_tasks(y) == {"conv": 16, "halo": 32}  # 6 x 6 padded blocks, the 4 corners read whole
        added = len(dict(y.__dask_graph__())) - len(dict(x.__dask_graph__()))
        assert added <= 10 * 16, (mode, added)  # zeros: 2 per block
        xn = x.compute(scheduler="sync")
        check(da, y, xn, w, None, {"padding": 1, "padding_mode": mode}, scheduler="sync")
