"""NumPy's own kernel runs its blocks on several threads (xpconv.kernels.workers): forced both ways
(one thread, four), the numbers are the same bit for bit and right; the pool covers each block once,
stays out of other pools' threads, raises what a block raised, and gives NumPy's BLAS its threads back."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import threadpoolctl
from hypothesis import given, settings
from hypothesis import strategies as st

import xpconv
from xpconv.kernels import workers
from xpconv.testing import conv_oracle

pytestmark = pytest.mark.needs("numpy")

CASES = [  # (x shape, weight shape, options), options explicit as the oracle reads them: each of the kernel's paths
    ((3, 8, 23, 19), (6, 8, 3, 3), {"padding": ((1, 1), (1, 1))}),  # stride 1
    ((2, 4, 30, 17), (8, 2, 5, 3), {"stride": (2, 3), "padding": ((2, 2), (2, 2)), "groups": 2}),  # im2col, groups
    ((2, 6, 21, 21), (6, 1, 3, 3), {"padding": ((1, 1), (1, 1)), "groups": 6}),  # depthwise, stride 1
    ((2, 6, 21, 21), (6, 1, 3, 3), {"stride": (2, 2), "groups": 6}),  # depthwise, strided
    ((2, 5, 18, 14), (4, 5, 3, 2), {"padding": ((2, 2), (2, 2)), "padding_mode": "reflect", "dilation": (2, 2)}),
    ((4, 3, 40), (5, 3, 7), {"padding": ((3, 3),)}),  # 1-D
]


@pytest.fixture
def threads(monkeypatch):
    """Set how many threads a call may use; every call is worth threading (tiny blocks)."""
    monkeypatch.setattr(workers, "MIN_WORK_PER_WORKER", 1)

    def use(count: int) -> None:
        monkeypatch.setattr(workers, "MAX_WORKERS", count)

    return use


@pytest.mark.parametrize("x_shape, w_shape, options", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_threads_do_not_change_the_numbers(threads, x_shape, w_shape, options, dtype):
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    results = {}
    for count in (1, 4):
        threads(count)
        results[count] = xpconv.conv(x, w, **options)
    np.testing.assert_array_equal(results[4], results[1])
    expected = conv_oracle(x.astype(np.float64), w.astype(np.float64), None, **options)
    tolerance = 1e-4 if dtype == "float32" else 1e-11
    np.testing.assert_allclose(results[4], expected, rtol=tolerance, atol=tolerance * np.abs(expected).max())


@settings(max_examples=25, deadline=None)
@given(count=st.integers(1, 6), items=st.lists(st.integers(), max_size=20))
def test_parallel_runs_each_item_once(count, items):
    seen, names, lock = [], set(), threading.Lock()

    def run(share):
        with lock:
            seen.extend(share)
            names.add(threading.current_thread().name)

    original = workers.MAX_WORKERS
    workers.MAX_WORKERS = count
    try:
        workers.parallel(run, items, work=10**12)
    finally:
        workers.MAX_WORKERS = original
    assert sorted(seen) == sorted(items)
    shares = min(workers.available() if count >= 1 else 1, count, len(items))
    if shares > 1:
        assert any(name.startswith("xpconv-block") for name in names), names


def test_small_work_and_other_threads_run_inline(threads, monkeypatch):
    threads(4)
    names = []

    def run(share):
        names.append(threading.current_thread().name)

    monkeypatch.setattr(workers, "MIN_WORK_PER_WORKER", 100)
    workers.parallel(run, list(range(8)), work=150)  # worth one thread only
    assert names == [threading.current_thread().name]
    names.clear()
    other = threading.Thread(target=workers.parallel, args=(run, list(range(8)), 10**9), name="another-pool")
    other.start()
    other.join()
    assert names == ["another-pool"]  # a worker of another pool (Dask's) runs its blocks itself


def test_an_error_in_a_share_is_raised_after_every_share_ends(threads):
    threads(4)
    ended = []

    def run(share):
        if 0 in share:
            raise ValueError("block 0")
        ended.append(share)

    with pytest.raises(ValueError, match="block 0"):
        workers.parallel(run, list(range(8)), work=10**9)
    count = workers.available()  # the shares: items i::count; the first (0's) raises, the others end
    assert sorted(i for share in ended for i in share) == ([i for i in range(8) if i % count] if count > 1 else [])


def test_numpy_blas_has_one_thread_inside_and_its_own_after(threads):
    threads(4)
    before = [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]
    inside = []

    def run(share):
        inside.extend(info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas")

    workers.parallel(run, list(range(4)), work=10**9)
    after = [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]
    assert before and after == before
    if workers.available() > 1:
        assert inside and set(inside) == {1}
