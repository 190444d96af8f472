"""The threads NumPy's own kernel shares: the blocks of one convolution run on several cores.

NumPy's copies run on one core and its BLAS on all of them, one call at a time; a kernel whose
blocks gather (a copy) then multiply (BLAS) leaves the other cores idle during every copy.
:func:`parallel` runs a call's blocks on a few threads instead (NumPy releases the GIL in its
copy loops and in BLAS), each block's product on one BLAS thread: NumPy's BLAS is held to one
thread (``threadpoolctl``) from the first such call in the process until the last one ends, so
the cores are not asked for twice as many threads as they have.

The blocks are the same whatever the number of threads (the kernel sizes them before it asks
here) and each is computed the same way wherever it runs, so the numbers depend on the number of
threads only as far as BLAS's own do (OpenBLAS, MKL and BLIS split a product's rows and
columns over their threads, never its sums; a test compares 1 and 4 threads bit for bit). A call made from any thread but the
main one runs its blocks itself: it is a worker of some other pool (Dask's threaded scheduler,
a server's), which already spreads the work over the cores. Without ``threadpoolctl`` (a
dependency of xpconv, so only where it was removed) the blocks run one after another.

The pool is made on first use; it and the BLAS limit's count live here, next to :func:`parallel`,
their only user.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

#: At most this many threads run one call's blocks, whatever the machine (each holds one block's buffers).
MAX_WORKERS = 4
#: Below this many multiply-adds per thread, a thread costs more than it saves.
MIN_WORK_PER_WORKER = 4_000_000

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_blas: Any = None  # threadpoolctl's controller of NumPy's BLAS; False where there is none to hold
_limiter: Any = None  # the limit in force while _holders > 0
_holders = 0


def available() -> int:
    """The threads a call from the main thread may use: the cores this process may run on, at most
    :data:`MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def parallel(run: Callable[[Sequence[T]], Any], items: Sequence[T], work: int) -> None:
    """Call ``run(share)`` on shares of ``items`` that together hold each item once, on up to
    :func:`available` threads, the caller's included; ``work`` is the multiply-adds of all items,
    which sets how many threads pay. Raises what a share raised, after every share has ended."""
    count = min(available(), len(items), max(1, work // MIN_WORK_PER_WORKER))
    if count <= 1 or threading.current_thread() is not threading.main_thread():
        run(items)
        return
    with _one_blas_thread() as held:
        if not held:
            run(items)
            return
        shares = [items[i::count] for i in range(count)]
        futures = [_executor().submit(run, share) for share in shares[1:]]
        try:
            run(shares[0])
        finally:
            errors = [future.exception() for future in futures]
        for error in errors:
            if error is not None:
                raise error


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=MAX_WORKERS - 1, thread_name_prefix="xpconv-block")
        return _pool


@contextmanager
def _one_blas_thread() -> Iterator[bool]:
    """NumPy's BLAS on one thread while any call is inside; yields whether it could be held."""
    global _blas, _limiter, _holders
    with _lock:
        if _blas is None:
            _blas = _numpy_blas()
        if _blas is False:
            held = False
        else:
            if _holders == 0:
                _limiter = _blas.limit(limits=1)
            _holders += 1
            held = True
    try:
        yield held
    finally:
        if held:
            with _lock:
                _holders -= 1
                if _holders == 0:
                    _limiter.restore_original_limits()
                    _limiter = None


def _numpy_blas() -> Any:
    """threadpoolctl's controller of the BLAS that NumPy loaded, or False (no threadpoolctl, or no
    BLAS it can set)."""
    try:
        import threadpoolctl
    except ImportError:
        return False
    controller = threadpoolctl.ThreadpoolController().select(user_api="blas")
    return controller if controller.lib_controllers else False
