"""Hypothesis sweeps of options and chunkings, threaded and on a real 2-process cluster that spills."""

from __future__ import annotations

import numpy as np
import pytest
from dask_cases import CASES, build, check, no_compute, partition, rng, xpconv_tasks  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpconv

pytestmark = pytest.mark.needs("dask")


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
    chunks = tuple(partition(draw, s) for s in shape)
    w_chunks = (partition(draw, c_out, 2), c_in // groups, *kernel) if groups == 1 else None
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
        w_shape, fn = (c_in, c_out // groups, *kernel), xpconv.conv_transpose
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
    chunks = tuple(partition(draw, n, 3) for n in shape)
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


