"""A :class:`api.cache.LockedCache` whose values (bytes) are also kept in the review database, so that what one
worker process made, every other worker reads instead of making it again: :class:`SharedBytesCache`.

``parkplan serve --workers N`` runs N processes, each with its own caches (:mod:`api.cache`). A review sheet
PDF (:mod:`api.routes.transfers`) is made in the background by the worker that recorded the decision; the next
request for it may land on the other worker, which would make it again (a second of CPU on a busy machine).
With this cache, a computation first looks in the table ``shared_cache`` of the review database (SQLite or
PostgreSQL: whatever the workers share) and stores what it computed there; the per-process LRU in front of it
keeps the policy of :mod:`api.cache` (bounded, locked, computed once per key and process).

A row is ``(key, scope, value)``: ``key`` is the cache key as text (``|``-joined parts; it starts with the
dataset version), ``scope`` groups the keys that replace one another (for a sheet: the candidate id), so that
storing a new version deletes the rows of the scope's older versions in the same transaction. The store is
one ``INSERT`` (after that ``DELETE``) in one short write transaction, committed whole or not at all, so a
reader never sees half a value. The table is a cache: a failed read or write (a busy database) is logged and
the value is computed, or served without being stored; deleting the table's rows is always safe.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Column, DateTime, LargeBinary, MetaData, String, Table, delete, select, text
from sqlalchemy.engine import Engine

from .cache import LockedCache, _start_thread
from .waited import WAITED, Waited
from .db import _INIT_LOCK_KEY, utcnow, write_transaction

__all__ = ["SharedBytesCache", "SHARED_CACHE", "key_text", "Waited", "WAITED"]

_META = MetaData()
SHARED_CACHE = Table(
    "shared_cache", _META,
    Column("key", String(400), primary_key=True),
    Column("scope", String(200), nullable=False, index=True),
    Column("value", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
#: seconds a background store waits for a busy database before giving up (the value is still served)
STORE_PATIENCE_S = 5.0


def key_text(key: Hashable) -> str:
    """A cache key as the table's text: its parts joined by ``|`` (a tuple), else ``str(key)``."""
    parts = key if isinstance(key, tuple) else (key,)
    return "|".join(str(p) for p in parts)


def _create_table(engine: Engine, patience_s: float = 30.0) -> None:
    """The table, if it does not exist yet, as :func:`api.db.init_db` creates the review tables: the check and
    the creation in one write transaction (``BEGIN IMMEDIATE`` on SQLite, the same advisory lock on PostgreSQL),
    so worker processes starting at once on a new database wait for each other instead of failing; busy past
    ``patience_s``: :class:`api.db.DatabaseBusy`."""

    def work(db) -> None:
        conn = db.connection()
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INIT_LOCK_KEY})
        _META.create_all(conn, checkfirst=True)

    write_transaction(engine, work, patience_s=patience_s)


class _Background:
    """A computation started by :meth:`SharedBytesCache.future`: ``queued``, then ``running``, or ``taken`` by a
    request before it started."""

    __slots__ = ("state", "waited")

    def __init__(self) -> None:
        self.state = "queued"
        self.waited = Waited()


class SharedBytesCache(LockedCache[bytes]):
    """A per-process :class:`LockedCache` of bytes backed by the ``shared_cache`` table of ``engine``.

    ``scope(key)`` names the group of keys that replace one another (default: the whole key, nothing is
    replaced); storing a key deletes the other rows of its scope."""

    def __init__(self, maxsize: int, name: str, engine: Engine,
                 scope: Callable[[Hashable], str] | None = None,
                 newer: Callable[[str, Hashable], bool] | None = None) -> None:
        super().__init__(maxsize, name)
        self.engine = engine
        self.scope = scope or key_text
        # newer(stored key's text, key): the stored row supersedes key (a newer version of the same thing), so key's
        # value is not stored over it (an older candidate version's sheet finishing late)
        self.newer = newer
        self._background: dict[Hashable, _Background] = {}  # the computations started by future(), not done
        _create_table(engine)

    # a computation started in the background (a decision's new review sheet) is taken over by a request that asks
    # for it while it is still queued (the request computes it itself, as if nobody had started it: the background
    # runner skips it), and knows (WAITED) when a request joins it while it runs
    def future(self, key: Hashable, compute: Callable[[], bytes],
               start: Callable[[Callable[[], None]], None] | None = None) -> Future:
        """As :meth:`LockedCache.future`; the computation runs with a :class:`api.waited.Waited` in
        :data:`api.waited.WAITED`, set when :meth:`get_or_compute` joins it; taken over by :meth:`get_or_compute`
        if it has not started yet."""
        fut, owner = self._claim(key)
        if owner:  # registered before it is started: a request may ask for it while it is still queued
            entry = _Background()
            with self._lock:
                self._background[key] = entry
            (start or _start_thread(f"{self.name}-compute"))(lambda: self._run_background(key, fut, entry, compute))
        return fut

    def _run_background(self, key: Hashable, fut: Future, entry: _Background, compute: Callable[[], bytes]) -> None:
        with self._lock:
            if entry.state == "taken":  # a request computed it meanwhile
                return
            entry.state = "running"
        token = WAITED.set(entry.waited)
        try:
            self._run(key, fut, compute)
        finally:
            WAITED.reset(token)
            self._forget_background(key, entry)

    def _forget_background(self, key: Hashable, entry: _Background) -> None:
        with self._lock:
            if self._background.get(key) is entry:
                del self._background[key]

    def get_or_compute(self, key: Hashable, compute: Callable[[], bytes], timeout: float | None = None) -> bytes:
        """As :meth:`LockedCache.get_or_compute`; a computation started in the background is computed here if it
        is still queued, and told that somebody waits for it (its :class:`api.waited.Waited`) if it runs."""
        take = False
        waited = None
        with self._lock:
            fut = self._table.get(key)
            entry = self._background.get(key) if fut is not None and not fut.done() else None
            if entry is not None:
                if entry.state == "queued":
                    entry.state, take = "taken", True
                else:
                    waited = entry.waited
        if take and fut is not None and entry is not None:
            self._forget_background(key, entry)
            self._run(key, fut, compute)
            return fut.result(timeout=timeout)
        if waited is not None:
            waited.set()
        return super().get_or_compute(key, compute, timeout)

    # the shared layer sits inside the once-per-key computation of LockedCache: a key is looked up in the
    # database (and computed and stored if missing) once per process, concurrent callers wait for that one
    def _run(self, key: Hashable, fut: Future, compute: Callable[[], Any]) -> None:
        super()._run(key, fut, lambda: self._load_or_make(key, compute))

    def _load_or_make(self, key: Hashable, compute: Callable[[], bytes]) -> bytes:
        stored = self.load(key)
        if stored is not None:
            return stored
        value = compute()
        self.store(key, value)
        return value

    def load(self, key: Hashable) -> bytes | None:
        """The stored value of ``key``, or None (not stored, or the database could not be read)."""
        try:
            with self.engine.connect() as conn:
                row = conn.execute(select(SHARED_CACHE.c.value).where(SHARED_CACHE.c.key == key_text(key))).first()
        except Exception as exc:  # noqa: BLE001 - a cache: computed instead
            print(f"parkplan: {self.name} cache read failed: {type(exc).__name__}: {exc}", flush=True)
            return None
        return None if row is None else bytes(row[0])

    def store(self, key: Hashable, value: bytes) -> bool:
        """Keep ``value`` for ``key`` in the database (replacing the rows of its scope); False if it could not, or if
        a row of its scope is :attr:`newer` (then nothing is changed)."""
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"{self.name}: a shared cache keeps bytes, got {type(value).__name__}")
        text, scope = key_text(key), self.scope(key)

        def work(db) -> bool:
            if self.newer is not None:
                held = db.execute(select(SHARED_CACHE.c.key).where(SHARED_CACHE.c.scope == scope)).scalars()
                if any(self.newer(k, key) for k in held):
                    return False
            db.execute(delete(SHARED_CACHE).where(SHARED_CACHE.c.scope == scope))
            db.execute(SHARED_CACHE.insert().values(key=text, scope=scope, value=bytes(value), created_at=utcnow()))
            return True

        try:
            return bool(write_transaction(self.engine, work, patience_s=STORE_PATIENCE_S))
        except Exception as exc:  # noqa: BLE001 - a cache: served without being kept
            print(f"parkplan: {self.name} cache write failed: {type(exc).__name__}: {exc}", flush=True)
            return False
