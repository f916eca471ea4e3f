"""api.cache.LockedCache under threads: one computation per key, no KeyError/RuntimeError, the bound held."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.cache import LockedCache


def _hammer(cache: LockedCache, keys: list, threads: int, calls: int, seed: int = 0):
    computed: Counter = Counter()
    count_lock = threading.Lock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def compute(key):
        with count_lock:
            computed[key] += 1
        time.sleep(0.002)  # long enough for other threads to ask for the same key meanwhile
        return ("value", key)

    def worker(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        barrier.wait()
        try:
            for _ in range(calls):
                key = rng.choice(keys)
                assert cache.get_or_compute(key, lambda k=key: compute(k)) == ("value", key)
                assert len(cache) <= cache.maxsize
                cache.keys()  # iterating a snapshot while others write
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return computed, errors


def test_one_computation_per_key_under_threads():
    keys = [("v1", k) for k in range(20)]
    cache = LockedCache(maxsize=64)
    computed, errors = _hammer(cache, keys, threads=32, calls=200)
    assert errors == []
    assert set(computed) == set(keys)
    assert all(n == 1 for n in computed.values()), computed
    assert len(cache) == len(keys)


def test_bound_respected_under_threads():
    keys = list(range(200))
    cache = LockedCache(maxsize=16)
    computed, errors = _hammer(cache, keys, threads=32, calls=150, seed=1)
    assert errors == []
    assert len(cache) <= 16
    # evicted keys are computed again: more computations than keys, and the bound forced it
    assert sum(computed.values()) > len(computed)


def test_concurrent_callers_wait_for_the_first():
    cache = LockedCache(maxsize=4)
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow():
        calls.append(1)
        started.set()
        release.wait(5)
        return 42

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(cache.get_or_compute, "k", slow)
        assert started.wait(5)
        others = [pool.submit(cache.get_or_compute, "k", slow) for _ in range(7)]
        time.sleep(0.05)
        assert not any(f.done() for f in others)  # waiting, not computing
        release.set()
        assert first.result(5) == 42
        assert [f.result(5) for f in others] == [42] * 7
    assert calls == [1]


def test_failure_reaches_waiters_and_is_retried():
    cache = LockedCache(maxsize=4)
    attempts = []

    def failing():
        attempts.append(1)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        cache.get_or_compute("k", failing)
    assert "k" not in cache
    assert cache.get_or_compute("k", lambda: 7) == 7
    assert attempts == [1]


def test_lru_order_and_plain_access():
    cache = LockedCache(maxsize=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]
    assert cache.get("b", "gone") == "gone"
    assert cache.discard_where(lambda k: k == "a") == 1
    assert cache.keys() == ["c"]
    with pytest.raises(ValueError):
        LockedCache(0)


def test_background_future_computes_once():
    cache = LockedCache(maxsize=4)
    calls = []
    release = threading.Event()

    def compute():
        calls.append(1)
        release.wait(5)
        return "plan"

    futs = [cache.future("p", compute) for _ in range(10)]
    assert len({id(f) for f in futs}) == 1
    assert cache.get("p") is None  # not ready: get never waits
    release.set()
    assert futs[0].result(5) == "plan"
    assert cache.get("p") == "plan"
    assert calls == [1]


def test_get_then_set_never_raises_under_eviction():
    """The metrics report's pattern (`hit = c.get(key)`; else compute, `c[key] = v`, return v) against a
    cache that other threads evict constantly (maxsize 2): no KeyError, never a wrong value."""
    view = LockedCache(maxsize=2)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        rng = random.Random(i)
        try:
            for _ in range(2000):
                key = rng.randrange(50)
                hit = view.get(key)
                if hit is not None:
                    assert hit == key * 2
                else:
                    view[key] = key * 2
                    assert len(view) <= 2
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    assert len(view) <= 2


def test_metrics_context_keeps_envelopes_in_a_locked_cache(dataset):
    """The API hands MetricsContext a LockedCache (no dict view): a repeated Ripley section is the kept
    result (the same object), and a cache of one entry evicts the first section for the second."""
    from parks.metrics.report import MetricsContext, ripley_section

    ctx = MetricsContext(dataset, cache=LockedCache(maxsize=1, name="metrics-context"))
    first = ripley_section(ctx, "textiles", simulations=3)
    assert ripley_section(ctx, "textiles", simulations=3) is first
    other = ripley_section(ctx, "machinery", simulations=3)
    assert len(ctx.cache) == 1 and ripley_section(ctx, "machinery", simulations=3) is other
    again = ripley_section(ctx, "textiles", simulations=3)
    assert again is not first and again == first  # computed again after eviction, same numbers
