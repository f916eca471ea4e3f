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

from .cache import LockedCache
from .db import _INIT_LOCK_KEY, utcnow, write_transaction

__all__ = ["SharedBytesCache", "SHARED_CACHE", "key_text"]

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


class SharedBytesCache(LockedCache[bytes]):
    """A per-process :class:`LockedCache` of bytes backed by the ``shared_cache`` table of ``engine``.

    ``scope(key)`` names the group of keys that replace one another (default: the whole key, nothing is
    replaced); storing a key deletes the other rows of its scope."""

    def __init__(self, maxsize: int, name: str, engine: Engine,
                 scope: Callable[[Hashable], str] | None = None) -> None:
        super().__init__(maxsize, name)
        self.engine = engine
        self.scope = scope or key_text
        _create_table(engine)

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
        """Keep ``value`` for ``key`` in the database (replacing the rows of its scope); False if it could not."""
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"{self.name}: a shared cache keeps bytes, got {type(value).__name__}")
        text, scope = key_text(key), self.scope(key)

        def work(db) -> None:
            db.execute(delete(SHARED_CACHE).where(SHARED_CACHE.c.scope == scope))
            db.execute(SHARED_CACHE.insert().values(key=text, scope=scope, value=bytes(value), created_at=utcnow()))

        try:
            write_transaction(self.engine, work, patience_s=STORE_PATIENCE_S)
        except Exception as exc:  # noqa: BLE001 - a cache: served without being kept
            print(f"parkplan: {self.name} cache write failed: {type(exc).__name__}: {exc}", flush=True)
            return False
        return True
