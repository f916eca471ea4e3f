"""The API's one cache policy: :class:`LockedCache`, a small bounded LRU per process, locked, that computes
each key once.

Every cache of the server (map pages, metrics results, scenario plans, the web workspace's tables, the
suitability and metrics contexts) is one of these, held by :class:`api.state.AppState`. Keys start with
what they depend on: the dataset version and the parameters, so a new dataset never meets an old entry.

Policy:

* **bounded**: at most ``maxsize`` entries; inserting beyond it forgets the least recently used one
  (an entry still being computed is forgotten too: its waiters still get its value);
* **compute once per key**: the first caller of :meth:`LockedCache.get_or_compute` for a key computes it
  (outside the lock), concurrent callers for the same key wait for that one computation; a computation
  that raised is forgotten, so the next caller tries again (its waiters get the exception);
* **locked**: every read and write of the table holds one lock, never while computing; nothing iterates
  the table outside it.

Per process: with ``parkplan serve --workers N`` each worker has its own caches (state that must be shared
lives in the database).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

__all__ = ["LockedCache"]

V = TypeVar("V")


def _start_thread(name: str) -> Callable[[Callable[[], None]], None]:
    def start(fn: Callable[[], None]) -> None:
        threading.Thread(target=fn, name=name, daemon=True).start()

    return start


class LockedCache(Generic[V]):
    """A bounded, locked LRU of futures: one computation per key (see the module's docstring)."""

    def __init__(self, maxsize: int, name: str = "cache") -> None:
        if maxsize < 1:
            raise ValueError(f"a cache holds at least 1 entry, got maxsize={maxsize}")
        self.maxsize = maxsize
        self.name = name
        self._lock = threading.Lock()
        self._table: OrderedDict[Hashable, Future] = OrderedDict()

    # ------------------------------------------------------------------ computing
    def future(self, key: Hashable, compute: Callable[[], V],
               start: Callable[[Callable[[], None]], None] | None = None) -> Future:
        """The computation of ``key``: started with ``start(run)`` (default: a daemon thread) if no
        computation of it is cached or running, else the one already there."""
        fut, owner = self._claim(key)
        if owner:
            (start or _start_thread(f"{self.name}-compute"))(lambda: self._run(key, fut, compute))
        return fut

    def get_or_compute(self, key: Hashable, compute: Callable[[], V], timeout: float | None = None) -> V:
        """The value of ``key``: computed here by the first caller, waited for by concurrent ones (up to
        ``timeout`` seconds: :class:`concurrent.futures.TimeoutError`)."""
        fut, owner = self._claim(key)
        if owner:
            self._run(key, fut, compute)
        return fut.result(timeout=timeout)

    def _claim(self, key: Hashable) -> tuple[Future, bool]:
        with self._lock:
            fut = self._table.get(key)
            if fut is not None:
                self._table.move_to_end(key)
                return fut, False
            fut = Future()
            fut.set_running_or_notify_cancel()
            self._insert(key, fut)
            return fut, True

    def _run(self, key: Hashable, fut: Future, compute: Callable[[], V]) -> None:
        try:
            value = compute()
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter, then forgotten
            with self._lock:
                if self._table.get(key) is fut:
                    del self._table[key]
            fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        fut.set_result(value)

    def _insert(self, key: Hashable, fut: Future) -> None:
        # under self._lock
        self._table[key] = fut
        self._table.move_to_end(key)
        while len(self._table) > self.maxsize:
            self._table.popitem(last=False)

    # ------------------------------------------------------------------ plain access
    def get(self, key: Hashable, default: Any = None) -> V | Any:
        """The value of ``key`` if it is computed (successfully), else ``default``; never waits."""
        with self._lock:
            fut = self._table.get(key)
            if fut is None or not fut.done() or fut.exception() is not None:
                return default
            self._table.move_to_end(key)
        return fut.result()

    def put(self, key: Hashable, value: V) -> None:
        fut: Future = Future()
        fut.set_running_or_notify_cancel()
        fut.set_result(value)
        with self._lock:
            self._insert(key, fut)

    def __setitem__(self, key: Hashable, value: V) -> None:
        """``cache[key] = value``: :meth:`put` (for code written against a dict, such as
        :class:`parks.metrics.report.MetricsContext`, which reads with :meth:`get` only)."""
        self.put(key, value)

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._table.pop(key, None)

    def discard_where(self, predicate: Callable[[Hashable], bool]) -> int:
        """Forget every key for which ``predicate(key)`` is true; how many were forgotten."""
        with self._lock:
            gone = [k for k in self._table if predicate(k)]
            for k in gone:
                del self._table[k]
        return len(gone)

    def clear(self) -> None:
        with self._lock:
            self._table.clear()

    def keys(self) -> list[Hashable]:
        """A snapshot of the keys, oldest first."""
        with self._lock:
            return list(self._table)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._table

    def __len__(self) -> int:
        with self._lock:
            return len(self._table)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self.keys())

    def __repr__(self) -> str:
        return f"LockedCache({self.name!r}, {len(self)}/{self.maxsize})"
