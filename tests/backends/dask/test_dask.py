"""xpconv on Dask arrays of NumPy chunks: lazy graphs of one task per output block, equal to in-memory xpconv and the float64 oracle; errors before any work."""

from __future__ import annotations

import numpy as np
import pytest
from dask_cases import CASES, build, check, no_compute, partition, rng, xpconv_tasks  # noqa: F401

import xpconv
from xpconv.testing import conv2d_oracle

pytestmark = pytest.mark.needs("dask")


@pytest.mark.parametrize("case", list(CASES))
def test_reference_cases_equal_in_memory_and_oracle(da, case):
    shape, chunks, w_shape, w_chunks, options = CASES[case]
    xn, wn, bn = rng.standard_normal(shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    y = build(da, xn, chunks, wn, bn, weight_chunks=w_chunks, **options)
    result = check(da, y, xn, wn, bn, options, scheduler="sync")
    # the oracle: NCHW, batched, explicit padding (from the in-memory plan)
    geometry = {k: v for k, v in options.items() if k != "method"}
    plan = xpconv.plan(xn.shape, wn.shape, bn.shape, **{"data_format": "NCHW", **geometry})
    nchw = xn if not plan.channels_last else np.moveaxis(xn, -1, -3)
    nchw = nchw if plan.batched else nchw[None]
    expected = conv2d_oracle(nchw, wn, bn, stride=plan.stride, padding=plan.padding, dilation=plan.dilation, groups=plan.groups)
    got = result if plan.batched else result[None]
    got = got if not plan.channels_last else np.moveaxis(got, -1, -3)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_integers_are_exact_and_out_dtype_is_kept(da):
    xn = rng.integers(-100, 100, (2, 5, 13, 11), dtype=np.int32)
    wn = rng.integers(-5, 5, (4, 5, 3, 3), dtype=np.int32)
    y = build(da, xn, (1, 2, 5, 4), wn, padding="same")
    check(da, y, xn, wn, None, {"padding": "same"}, scheduler="sync")
    x8, w8 = xn.astype(np.int8), wn.astype(np.int8)
    y = build(da, x8, (1, 2, 5, 4), w8, out_dtype="int32")
    assert y.dtype == np.int32
    check(da, y, x8, w8, None, {"out_dtype": "int32"}, scheduler="sync")


def test_float32_to_its_tolerance(da):
    xn = rng.standard_normal((1, 8, 20, 20)).astype(np.float32)
    wn = rng.standard_normal((4, 8, 3, 3)).astype(np.float32)
    y = build(da, xn, (1, 3, 7, 7), wn, padding=1)
    assert y.dtype == np.float32
    result = y.compute(scheduler="sync")
    expected = conv2d_oracle(xn, wn, padding=((1, 1), (1, 1)))
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


def test_output_chunks_follow_input_chunks(da):
    """Stride 1 "same": the input's chunks; stride 2: halved, after aligning odd boundaries down."""
    xn, wn = rng.standard_normal((2, 4, 64, 60)), rng.standard_normal((8, 4, 3, 3))
    y = build(da, xn, (1, 4, 32, (25, 35)), wn, padding="same")
    assert y.chunks == ((1, 1), (8,), (32, 32), (25, 35))
    y = build(da, xn, (1, 4, 32, (25, 35)), wn, padding="same", stride=2)
    assert y.chunks == ((1, 1), (8,), (16, 16), (12, 18))  # 25 -> 24: one aligned rechunk
    y = build(da, xn, (1, (1, 3), 32, 30), wn, weight_chunks=(3, 4, 3, 3), padding="valid")
    assert y.chunks == ((1, 1), (3, 3, 2), (32, 30), (30, 28))


def test_task_counts_of_the_documented_formula(da):
    """Bn·J·(input blocks read by a neighbour) bundles + Bn·S·J·O convolutions + the tree."""
    import dask

    x = da.random.random((4, 16, 512, 512), chunks=(1, 16, 256, 256))
    w = np.ones((32, 16, 3, 3))
    with dask.config.set(scheduler=no_compute):
        y = xpconv.conv2d(x, w, padding=1)
    assert xpconv_tasks(y) == {"halo": 16, "conv": 16}
    added = len(dict(y.__dask_graph__())) - len(dict(x.__dask_graph__()))
    assert added <= 4 * 16  # ≤ 4 per (input block x output-channel block); the weight is 1 more
    assert y.chunks == ((1, 1, 1, 1), (32,), (256, 256), (256, 256))
    # 9 input-channel blocks, 2 output-channel blocks: 9 partials each, a tree of 3 + 1 nodes
    xn, wn = rng.standard_normal((1, 9, 12, 12)), rng.standard_normal((4, 9, 3, 3))
    y = build(da, xn, (1, 1, 6, 12), wn, weight_chunks=(2, 9, 3, 3), padding=1)
    spatial, j_blocks, o_blocks = 2, 9, 2
    assert xpconv_tasks(y) == {
        "halo": 2 * j_blocks, "part": spatial * j_blocks * o_blocks, "part-sum": spatial * o_blocks * 3,
        "conv": spatial * o_blocks,
    }
    # groups: one call per block of whole groups, no sum
    xn, wn = rng.standard_normal((2, 8, 20, 20)), rng.standard_normal((8, 2, 3, 3))
    y = build(da, xn, (1, 4, 10, 20), wn, groups=4)
    assert xpconv_tasks(y) == {"halo": 2 * 2, "conv": 2 * 2 * 2}


def test_errors_name_the_argument_before_any_work(da):
    import dask

    xn, wn = rng.standard_normal((4, 3, 8, 8)), rng.standard_normal((2, 3, 3, 3))
    x = da.from_array(xn, chunks=(2, 3, 4, 4))
    unknown = x[da.from_array(np.array([True, False, True, True]), chunks=2)]
    with dask.config.set(scheduler=no_compute):
        with pytest.raises(ValueError, match=r"x must have known sizes.*compute_chunk_sizes\(\)"):
            xpconv.conv2d(unknown, wn)
        with pytest.raises(TypeError, match="x and weight must be arrays of the same library"):
            xpconv.conv2d(xn, da.from_array(wn))
        with pytest.raises(ValueError, match=r"method='native'.*its blocks run on backend 'numpy'"):
            xpconv.conv2d(x, wn, method="native")
        with pytest.raises(ValueError, match="groups must divide"):
            xpconv.conv2d(x, wn, groups=2)
    unknown.compute_chunk_sizes()
    check(da, xpconv.conv2d(unknown, wn), xn[[0, 2, 3]], wn, None, {}, scheduler="sync")


def test_dask_weight_and_bias_and_lists(da):
    xn, wn, bn = rng.standard_normal((1, 3, 9, 9)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    x = da.from_array(xn, chunks=(1, 2, 5, 5))
    y = xpconv.conv2d(x, da.from_array(wn, chunks=(1, 3, 3, 3)), da.from_array(bn), padding=1)
    check(da, y, xn, wn, bn, {"padding": 1}, scheduler="sync")
    y = xpconv.conv2d(x, wn.tolist(), bn.tolist(), padding=1)
    check(da, y, xn, wn, bn, {"padding": 1}, scheduler="sync")




def test_bench_large_image_workload(capsys):
    """``xpconv bench --workload "large image" --quick``: every run, with tasks and peak memory."""
    from xpconv.cli import main

    assert main(["bench", "--workload", "large image", "--quick", "--repeats", "1", "--markdown"]) == 0
    table = capsys.readouterr().out
    for run in ("in-memory NumPy xpconv", "Dask threaded", "Dask LocalCluster 2x1", "Dask threaded (xpconv)",
                "dask-image ndfilters.correlate"):
        row = next(line for line in table.splitlines() if f"| {run} |" in line)
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[2]) > 0 and float(cells[5]) > 0, row
        if run != "in-memory NumPy xpconv":
            assert int(cells[4]) > 0, row


@pytest.mark.parametrize("data_format", ["NCHW", "NHWC"])
def test_blocks_whose_windows_read_only_padding(da, data_format):
    """A 1x1 kernel with padding 2 on 1-pixel chunks: output blocks that see padding alone are
    zeros plus the bias, made in the chunks' library without a call."""
    xn, wn, bn = rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((3, 2, 1, 1)), rng.standard_normal(3)
    if data_format == "NHWC":
        xn = np.ascontiguousarray(np.moveaxis(xn, 1, -1))
    options = {"padding": ((2, 2), (3, 0)), "data_format": data_format}
    chunks = (1, 1, 1, 1)
    y = build(da, xn, chunks, wn, bn, **options)
    check(da, y, xn, wn, bn, options, scheduler="sync")
    y = build(da, xn, chunks, wn, bn, stride=3, **options)
    check(da, y, xn, wn, bn, {**options, "stride": 3}, scheduler="sync")




