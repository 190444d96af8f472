"""xpconv on Dask arrays (every rank, every padding mode, transposed): lazy graphs of one task
per output block, on a real cluster.

Every result is compared with in-memory xpconv on the same NumPy data (float64 to 1e-12),
the reference cases also with the float64 oracle; graphs are built under a scheduler that
fails on any compute. Selected with ``XPCONV_BACKENDS=dask`` (the ``tests-dask`` session).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpconv
from xpconv._oracle import conv2d_oracle, conv_oracle, conv_transpose_oracle

pytestmark = pytest.mark.needs("dask")


def _no_compute(*args, **kwargs):
    raise AssertionError("building the graph computed something")


@pytest.fixture(scope="module")
def da():
    import dask.array

    return dask.array


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, 300 MiB apiece; they spill to disk at 60% of it
    and never pause (a paused worker with spilled data could wait forever)."""
    import dask
    from dask.distributed import Client, LocalCluster

    settings_ = {"distributed.worker.memory.pause": False, "distributed.worker.memory.terminate": False}
    with dask.config.set(settings_):
        cluster = LocalCluster(
            processes=True, n_workers=2, threads_per_worker=1, memory_limit="300MiB",
            dashboard_address=":0", env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        )
        with Client(cluster) as c:
            yield c
        cluster.close()


def build(da, xn, chunks, wn, bn=None, *, weight_chunks=None, fn=xpconv.conv2d, **options):
    """``fn`` (xpconv's conv2d unless told) on ``xn`` as a Dask array in ``chunks``, under a
    scheduler that fails on any compute."""
    import dask

    x = da.from_array(xn, chunks=chunks)
    w = wn if weight_chunks is None else da.from_array(wn, chunks=weight_chunks)
    with dask.config.set(scheduler=_no_compute):
        return fn(x, w, bn, **options)


def check(da, y, xn, wn, bn, options, *, fn=xpconv.conv2d, **compute):
    """``y`` is a lazy Dask array of NumPy chunks; computed, it equals in-memory ``fn``."""
    expected = fn(xn, wn, bn, **options)
    assert isinstance(y, da.Array)
    assert type(y._meta) is np.ndarray
    assert y.dtype == expected.dtype and y.shape == expected.shape
    assert all(sum(c) == s for c, s in zip(y.chunks, y.shape))
    result = y.compute(**compute)
    assert type(result) is np.ndarray and result.dtype == expected.dtype and result.shape == expected.shape
    if np.issubdtype(expected.dtype, np.integer):
        np.testing.assert_array_equal(result, expected)
    else:
        np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)
    return result


def xpconv_tasks(y) -> dict[str, int]:
    """The tasks xpconv added, by kind (halo bundles, block convolutions and sums)."""
    counts: dict[str, int] = {}
    for key in dict(y.__dask_graph__()):
        name = key[0] if isinstance(key, tuple) else key
        if name.startswith("xpconv-"):
            kind = name.split("-")[1] + ("-sum" if "-sum" in name else "")
            counts[kind] = counts.get(kind, 0) + 1
    return counts


rng = np.random.default_rng(9)

# (x shape, x chunks, weight shape, weight chunks or None, options)
CASES = {
    "same-2x2-blocks": ((4, 16, 64, 64), (1, 16, 32, 32), (32, 16, 3, 3), None, {"padding": 1}),
    "channels-split": ((2, 12, 30, 31), (1, 5, 11, 9), (8, 12, 3, 3), (3, 12, 3, 3), {"padding": "same"}),
    "tree-of-9": ((1, 9, 12, 12), (1, 1, 6, 12), (4, 9, 3, 3), None, {"padding": ((1, 0), (0, 2))}),
    "nhwc-stride-2": ((2, 30, 31, 12), (1, 11, 9, 5), (6, 12, 3, 2), None, {"padding": "same", "stride": 2, "data_format": "NHWC"}),
    "unbatched": ((12, 30, 31), (5, 11, 9), (6, 12, 3, 3), None, {"padding": "valid", "stride": (2, 1)}),
    "groups-realigned": ((2, 12, 20, 21), (1, (5, 7), 7, 8), (9, 4, 3, 3), None, {"groups": 3, "padding": 1}),
    "depthwise-dilated": ((2, 6, 20, 21), (1, 4, 8, 5), (12, 1, 3, 3), None, {"groups": 6, "dilation": 2, "padding": "same"}),
    "stride-3-asymmetric": ((1, 3, 29, 31), (1, 2, 10, 7), (4, 3, 3, 4), None, {"stride": 3, "padding": ((2, 0), (1, 3))}),
    "chunks-below-halo": ((1, 2, 17, 19), (1, 1, 2, 3), (3, 2, 5, 5), None, {"dilation": 2, "padding": 4}),
    "portable": ((1, 4, 16, 16), (1, 2, 9, 7), (5, 4, 3, 3), None, {"padding": 1, "method": "portable"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_reference_cases_equal_in_memory_and_oracle(da, case):
    shape, chunks, w_shape, w_chunks, options = CASES[case]
    xn, wn, bn = rng.standard_normal(shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    y = build(da, xn, chunks, wn, bn, weight_chunks=w_chunks, **options)
    result = check(da, y, xn, wn, bn, options, scheduler="sync")
    # the oracle: NCHW, batched, explicit padding (from the in-memory plan)
    plan = xpconv._conv.prepare({"x": xn, "weight": wn, "bias": bn}, tuple(
        options.get(k, d) for k, d in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1), ("data_format", "NCHW"))
    ), "auto")[3]
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
    with dask.config.set(scheduler=_no_compute):
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
    with dask.config.set(scheduler=_no_compute):
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


# -- a hypothesis sweep: options and chunkings ------------------------------------------------
def _partition(draw, size: int, most: int = 4) -> tuple[int, ...]:
    cuts = draw(st.lists(st.integers(1, max(size - 1, 1)), max_size=most, unique=True)) if size > 1 else []
    edges = [0, *sorted(cuts), size]
    return tuple(b - a for a, b in itertools.pairwise(edges))


@st.composite
def problems(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    extent = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    padding = draw(st.one_of(
        st.sampled_from(["valid", "same"]),
        st.tuples(*(st.tuples(st.integers(0, e), st.integers(0, e)) for e in extent)),
    ))
    sizes = [draw(st.integers(max(e, 1), 14)) for e in extent]
    batched = draw(st.booleans())
    nhwc = draw(st.booleans())
    n = draw(st.integers(1, 2))
    shape = (c_in, *sizes) if not nhwc else (*sizes, c_in)
    if batched:
        shape = (n, *shape)
    chunks = tuple(_partition(draw, s) for s in shape)
    w_chunks = (_partition(draw, c_out, 2), c_in // groups, *kernel) if groups == 1 else None
    bias = draw(st.booleans())
    options = {"stride": stride, "dilation": dilation, "padding": padding, "groups": groups,
               "data_format": "NHWC" if nhwc else "NCHW"}
    return shape, chunks, (c_out, c_in // groups, *kernel), w_chunks, bias, options


def _run_problem(da, problem, seed, **compute):
    shape, chunks, w_shape, w_chunks, bias, options = problem
    r = np.random.default_rng(seed)
    xn, wn = r.standard_normal(shape), r.standard_normal(w_shape)
    bn = r.standard_normal(w_shape[0]) if bias else None
    y = build(da, xn, chunks, wn, bn, weight_chunks=w_chunks, **options)
    check(da, y, xn, wn, bn, options, **compute)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(problem=problems(), seed=st.integers(0, 2**16))
def test_sweep_threaded_equals_in_memory(da, problem, seed):
    _run_problem(da, problem, seed, scheduler="threads")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(problem=problems(), seed=st.integers(0, 2**16))
def test_sweep_on_a_cluster_equals_in_memory(da, client, problem, seed):
    _run_problem(da, problem, seed)  # the client is the default scheduler while it is open


# -- the cluster ------------------------------------------------------------------------------
def test_cluster_spills_and_loses_nothing(da, client):
    """Input (128 MiB) and output (384 MiB) together exceed one worker's 300 MiB: the persisted
    output spills to disk, and every value comes back equal to in-memory xpconv."""
    from dask.distributed import wait

    x = da.random.default_rng(1).standard_normal((1, 4, 2048, 2048), chunks=(1, 4, 512, 512))
    wn = rng.standard_normal((12, 4, 3, 3))
    bn = rng.standard_normal(12)
    y = xpconv.conv2d(x, wn, bn, padding="same").persist()
    wait(y)
    held = client.run(lambda dask_worker: (dask_worker.data.fast.total_weight, len(dask_worker.data.slow)))
    assert any(slow > 0 for _, slow in held.values()), f"no worker spilled: {held}"
    assert len(client.who_has(y)) == 16 and all(client.who_has(y).values())
    xn = x.compute(scheduler="sync")
    expected = xpconv.conv2d(xn, wn, bn, padding="same")
    result = y.compute()
    assert type(result) is np.ndarray and result.shape == expected.shape == (1, 12, 2048, 2048)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)
    del y


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
    with dask.config.set(scheduler=_no_compute):
        y = xpconv.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    assert y.chunks == ((1, 1, 1, 1), (8,), (64, 64), (64, 64))
    counts = xpconv_tasks(y)
    assert counts["conv"] == 16 and counts["halo"] <= 16 and set(counts) == {"conv", "halo"}
    added = len(dict(y.__dask_graph__())) - len(dict(x.__dask_graph__()))
    assert added <= 2 * 16 + 8  # blocks and bundles, plus the weight's few tasks
    x1 = da.random.random((1, 2, 30), chunks=(1, 2, (7, 11, 12)))
    with dask.config.set(scheduler=_no_compute):
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


@st.composite
def nd_problems(draw):
    rank = draw(st.integers(1, 3))
    transposed = draw(st.booleans())
    groups = draw(st.sampled_from([1, 1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    sizes = [draw(st.integers(2, 12 if rank < 3 else 6)) for _ in range(rank)]
    options = {"stride": stride, "dilation": dilation, "groups": groups}
    if transposed:
        options["padding"] = tuple(draw(st.integers(0, 3)) for _ in range(rank))
        options["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        w_shape, fn = (c_in, c_out // groups, *kernel), T
    else:
        mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
        options["padding"] = tuple((draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))) for n in sizes)
        options["padding_mode"] = mode
        w_shape, fn = (c_out, c_in // groups, *kernel), xpconv.conv
    last = draw(st.booleans())
    options["data_format"] = "channels_last" if last else "channels_first"
    shape = (*sizes, c_in) if last else (c_in, *sizes)
    if draw(st.booleans()):
        shape = (draw(st.integers(1, 2)), *shape)
    chunks = tuple(_partition(draw, n, 3) for n in shape)
    return fn, shape, chunks, w_shape, c_out, options


def _run_nd(da, problem, seed, **compute):
    fn, shape, chunks, w_shape, c_out, options = problem
    r = np.random.default_rng(seed)
    xn, wn, bn = r.standard_normal(shape), r.standard_normal(w_shape), r.standard_normal(c_out)
    try:
        fn(xn, wn, bn, **options)
    except ValueError:  # an empty output, a reflection wider than the input: refused in memory too
        with pytest.raises(ValueError):
            build(da, xn, chunks, wn, bn, fn=fn, **options)
        return
    y = build(da, xn, chunks, wn, bn, fn=fn, **options)
    check(da, y, xn, wn, bn, options, fn=fn, **compute)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(problem=nd_problems(), seed=st.integers(0, 2**16))
def test_sweep_every_rank_threaded_equals_in_memory(da, problem, seed):
    _run_nd(da, problem, seed, scheduler="threads")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(problem=nd_problems(), seed=st.integers(0, 2**16))
def test_sweep_every_rank_on_a_cluster_equals_in_memory(da, client, problem, seed):
    _run_nd(da, problem, seed)
