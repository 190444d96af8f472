"""The registry under threads, blocked frameworks, and the caches' limits."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

import xpconv
from xpconv import backends, dispatch
from xpconv.cache import LRUCache


# -- 6. registry and caches ---------------------------------------------------------------------------
@pytest.mark.needs("numpy")
def test_registering_is_atomic_for_readers_in_other_threads():
    """register_backend cleared and refilled the registry while callers read it (KeyError: 'numpy')."""
    errors: list[BaseException] = []
    stop = threading.Event()
    x, w = np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3))

    def reader():
        while not stop.is_set():
            try:
                assert xpconv.conv2d(x, w).shape == (1, 3, 3, 3)
                assert "numpy" in xpconv.registered_backends()
            except BaseException as error:
                errors.append(error)
                return

    class Extra(backends.Backend):
        name, module = "extra", "numpy"

        def matches(self, value):
            return False

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(300):
            xpconv.register_backend(Extra(), replace=True)
            backends.unregister_backend("extra")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]


@pytest.mark.needs("numpy")
@pytest.mark.parametrize("block", ["None", "stub"])
def test_a_blocked_or_stub_framework_counts_as_not_loaded(block):
    code = f"""
import sys, types
sys.modules["torch"] = {"None" if block == "None" else "types.ModuleType('torch')"}
sys.modules["jax"] = {"None" if block == "None" else "types.ModuleType('jax')"}
import numpy as np, xpconv
print(xpconv.conv2d(np.ones((1, 2, 4, 4)), np.ones((1, 2, 3, 3))).ravel().tolist())
print(xpconv.corr2d(np.ones((3, 3)), np.ones((2, 2))).ravel().tolist())
available = xpconv.available_backends()
print(available["torch"], available["jax"], available["numpy"])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:3] == ["[18.0, 18.0, 18.0, 18.0]", "[4.0, 4.0, 4.0, 4.0]", "False False True"]


def test_lru_cache_evicts_the_least_recently_used():
    cache: LRUCache[int] = LRUCache(3)
    for k in "abc":
        cache.put(k, ord(k))
    assert cache.get("a") == ord("a")  # a is now the most recent
    cache.put("d", 4)
    assert "b" not in cache and len(cache) == 3 and cache.get("a") == ord("a")
    with pytest.raises(ValueError, match="limit must be a positive int"):
        LRUCache(0)


@pytest.mark.needs("numpy")
def test_the_call_cache_keeps_working_past_its_limit(monkeypatch):
    """The validated-call cache stopped growing at 4,096 entries and never evicted."""
    monkeypatch.setattr(dispatch.CALLS, "limit", 8)
    dispatch.CALLS.clear()
    w = np.ones((1, 1, 2, 2))
    for size in range(3, 40):  # 37 signatures through an 8-entry cache
        x = np.ones((1, 1, size, size))
        for _ in range(2):
            assert xpconv.conv2d(x, w).shape == (1, 1, size - 1, size - 1)
    assert len(dispatch.CALLS) == 8
    assert any((1, 1, 39, 39) in k for k in dispatch.CALLS.keys())  # the newest stays
    assert not any((1, 1, 3, 3) in k for k in dispatch.CALLS.keys())  # the oldest went




