"""The Dask tests' fixtures: ``dask.array``, and a real 2-process cluster."""

from __future__ import annotations

import pytest


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
