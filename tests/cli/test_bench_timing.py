"""``xpconv bench``'s timing: the allocator state every measurement starts from."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.needs("numpy")

#: A fresh process: page faults of five calls of a small Winograd layer, before and after ``settle_allocator``.
FAULTS = """
import resource
import numpy as np
import xpconv
from xpconv.cli.bench.timing import settle_allocator

rng = np.random.default_rng(0)
x = rng.standard_normal((4, 32, 56, 56), dtype=np.float32)
w = rng.standard_normal((32, 32, 3, 3), dtype=np.float32)

def faults():
    xpconv.conv(x, w, padding=1, method="winograd")
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        xpconv.conv(x, w, padding=1, method="winograd")
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start

before = faults()
settle_allocator()
print(before, faults())
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="glibc's malloc thresholds (CI runs on glibc Linux)")
def test_settled_allocator_reuses_large_blocks():
    """Before, the kernel's temporaries are fresh pages on every call (about 3000 faults of 4 KiB per
    call on this layer, whose input is 1.6 MiB); after, malloc keeps and reuses them: what made NumPy
    kernel timings in a fresh process differ from the bench's (up to 3x on the ResNet 3x3 layer)."""
    out = subprocess.run([sys.executable, "-c", FAULTS], capture_output=True, text=True, check=True).stdout
    before, after = map(int, out.split())
    assert before >= 5 * 400  # at least one input's worth of fresh pages per call
    assert after < before // 10


@pytest.mark.needs("dask")
def test_bench_times_dask_calls_computed():
    """``xpconv bench`` times ``sync(call())``: for Dask that is the result computed (its chunks in
    memory, still a Dask array), not a graph built (the full bench reported 374% of the machine's
    peak for Dask before)."""
    import dask.array as da
    import numpy as np

    import xpconv
    from xpconv.testing.adapters import adapter

    fw = adapter("dask").load()
    x = fw.asarray(np.ones((2, 3, 8, 8), dtype=np.float32))
    y = xpconv.conv(x, fw.asarray(np.ones((4, 3, 3, 3), dtype=np.float32)))
    done = fw.sync(y)
    assert isinstance(done, da.Array) and done.shape == y.shape
    chunks = dict(done.__dask_graph__())
    assert len(chunks) == done.npartitions  # one entry per chunk, each already an array: nothing left to run
    assert all(isinstance(v, np.ndarray) for v in chunks.values())
    np.testing.assert_array_equal(fw.to_numpy(done), np.full((2, 4, 6, 6), 27.0, dtype=np.float32))
    assert not all(isinstance(v, np.ndarray) for v in dict(y.__dask_graph__()).values())  # the call alone: a graph


def test_per_call_runs_rounds_of_calls_and_keeps_each_candidates_fastest():
    """Every candidate: ``calls`` calls as one candidate of ``side_by_side`` (two warm-ups, then ``rounds``
    rounds), each result synced; the seconds a call of the fastest round."""
    from xpconv.cli.bench.timing import per_call

    counts = {"a": 0, "b": 0}
    synced = []

    def call(name):
        counts[name] += 1
        return name

    seconds = per_call({"a": lambda: call("a"), "b": lambda: call("b")}, synced.append, calls=10, rounds=3)
    assert counts == {"a": 50, "b": 50} and len(synced) == 100 and set(synced) == {"a", "b"}
    assert set(seconds) == {"a", "b"} and all(0 < s < 1e-3 for s in seconds.values())


@pytest.mark.needs("torch")
@pytest.mark.needs("tensorflow")
def test_call_overhead_compares_the_same_input_as_each_framework_takes_it():
    """The chapter's example is unbatched: PyTorch's own call takes it so; TensorFlow's takes the batch
    axis its users add. Both give the float64 oracle's values; the overhead is the two sides' difference."""
    import numpy as np

    from xpconv.cli.bench.baselines import OVERHEAD_LIMIT_US, inputs, overhead, own_convolution
    from xpconv.cli.bench.workloads import OVERHEAD_WORKLOAD, WORKLOADS
    from xpconv.testing import conv_oracle
    from xpconv.testing.adapters import adapter

    chapter = next(wl for wl in WORKLOADS if wl.name == OVERHEAD_WORKLOAD)
    x_np, w_np = inputs(chapter, "channels_first")
    expected = conv_oracle(x_np[None].astype("float64"), w_np.astype("float64"))[0]  # (C_out, H', W')
    for name, layout, shape in (("torch", "channels_first", (3, 2, 2)), ("tensorflow", "channels_last", (1, 2, 2, 3))):
        fw = adapter(name).load()
        x_np, w_np = inputs(chapter, layout)
        got = fw.to_numpy(fw.sync(own_convolution(fw, chapter, layout, fw.asarray(x_np), w_np)()))
        assert got.shape == shape
        if layout == "channels_last":
            got = got[0].transpose(2, 0, 1)
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        found = overhead(fw, chapter, layout, calls=20)
        assert found["limit_us"] == OVERHEAD_LIMIT_US
        assert found["overhead_us"] == pytest.approx(found["auto_us"] - found["native_us"], abs=0.02)
        assert found["ok"] == (found["auto_us"] - found["native_us"] <= OVERHEAD_LIMIT_US)
