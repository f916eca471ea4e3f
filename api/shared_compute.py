"""What is the same for every worker process, computed once by one of them and read by the others from the review
database: :class:`SharedResults`.

``parkplan serve --workers N`` runs N processes and each runs the start-up warm-up (:func:`api.app.warm_tasks`).
What the warm-up computes depends only on the dataset version and parameters (the metrics report, the cluster
map, ...), so with this class the first worker to get to an item computes it and stores its bytes in the review
database's ``shared_cache`` table (:class:`api.shared_cache.SharedBytesCache`, used as is); the others read them.

* **Only bytes cross processes.** A value is stored as what ``encode`` makes of it (JSON bytes, the served HTML)
  and rebuilt with ``decode``: never pickle, nothing that runs code on load. The tests compare a value read back
  with a fresh computation.
* **Computed once.** Before computing, a worker claims the key: a row ``claim|<key>`` in the same table, written
  in one write transaction (:func:`api.db.write_transaction`: ``BEGIN IMMEDIATE`` on SQLite; on PostgreSQL the
  primary key refuses a second claim), holding the owner and a time. While it computes, the owner refreshes the
  time every :data:`HEARTBEAT_S` seconds; another worker that finds a claim waits for the result, polling the
  table. A claim not refreshed for :data:`STALE_S` seconds (its worker crashed or was killed) is taken over;
  a claim released without a result (the computation failed) lets the next waiter compute; past
  :data:`MAX_WAIT_S` of waiting a worker computes itself whatever the claim says.
* **A cache.** A failed read or write of the table is logged and costs only the computation; a stored value
  that cannot be decoded is computed again (and replaced).
* **Keyed by the dataset version and the code.** Keys start with the dataset version (:meth:`api.state.AppState.key`),
  to which the digest of the program's source is added (:func:`code_version`); a result's scope is its key
  without them, so storing it for a new version deletes the old version's row.

:attr:`SharedResults.counts` counts what this process did per kind (``read``, ``computed``, ``waited``,
``taken_over``): the tests and the warm-up's log read it.
"""

from __future__ import annotations

import functools

import json
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .db import utcnow, write_transaction
from .shared_cache import SHARED_CACHE, SharedBytesCache, key_text

__all__ = ["SharedResults", "HEARTBEAT_S", "STALE_S", "MAX_WAIT_S", "POLL_S", "json_codec"]

T = TypeVar("T")

#: seconds between two refreshes of a claim by the worker computing it
HEARTBEAT_S = float(os.environ.get("PARKPLAN_SHARED_HEARTBEAT_S", "5"))
#: a claim not refreshed for this long is taken over (its worker is gone)
STALE_S = float(os.environ.get("PARKPLAN_SHARED_STALE_S", "30"))
#: seconds a worker waits for another's result at most, then computes itself
MAX_WAIT_S = float(os.environ.get("PARKPLAN_SHARED_MAX_WAIT_S", "900"))
#: ``PARKPLAN_SHARED_WARM=0``: every process computes for itself, nothing is read or stored (a measurement's "before")
ENABLED = os.environ.get("PARKPLAN_SHARED_WARM", "1") != "0"
#: seconds between two looks for the result while waiting
POLL_S = 0.25
#: seconds a claim's write waits for a busy database (then: computed without a claim)
CLAIM_PATIENCE_S = 5.0


def json_codec() -> tuple[Callable[[Any], bytes], Callable[[bytes], Any]]:
    """(encode, decode) for plain JSON values (dicts, lists, str, int, float, bool, None): orjson, which writes
    floats in their shortest exact form, so a value read back equals the one stored."""
    import orjson

    return orjson.dumps, orjson.loads


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the program's source (the ``.py`` files and templates of geodata, parks, maps and api): a stored
    result is read only by the same code that made it (an upgraded server never reads an old server's results
    from a review database that outlived it). Read once per process: the running code does not change under it,
    and every app state (one per ``create_app``) asks for it."""
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in ("geodata", "parks", "maps", "api"):
        for path in sorted((root / package).rglob("*")):
            if path.suffix in (".py", ".html", ".js", ".css", ".json") and path.is_file():
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _scope(key: Hashable) -> str:
    # ("<dataset version>", "shared", kind, ...params): the rows of one kind and parameters replace one another
    # across dataset versions
    parts = key if isinstance(key, tuple) else (key,)
    return key_text(tuple(parts[1:]))


class SharedResults:
    """Results computed once for every process over the same review database (see the module's docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.table = SharedBytesCache(1, "shared results", engine, scope=_scope)  # its load/store only
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.code = code_version()
        self.counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._held: dict[tuple, threading.Event] = {}  # the claims this process holds, and their heartbeats' stops
        self._held_lock = threading.Lock()
        self.closed = False

    def close(self) -> None:
        """The server is stopping: release every claim this process holds (their heartbeats stop), so that the next
        start does not wait :data:`STALE_S` seconds for a claim nobody will fulfil; from now on nothing is claimed
        (a computation still running here, the warm-up's, is computed without a claim and stored if it finishes)."""
        with self._held_lock:
            self.closed = True
            held = list(self._held.items())
            self._held.clear()
        for key, beat in held:
            beat.set()
            self._release(key)

    # ------------------------------------------------------------------ the one entry point
    def get(self, key: tuple, compute: Callable[[], T], encode: Callable[[T], bytes],
            decode: Callable[[bytes], T]) -> T:
        """The value of ``key`` (a tuple that starts with the dataset version): read from the table if a worker
        stored it, else computed here (once among the workers: see the module's docstring) and stored."""
        kind = str(key[2]) if len(key) > 2 else str(key[-1])
        key = (f"{key[0]}+{self.code}", *key[1:])  # the dataset's version and the code's
        if not ENABLED:
            self._count("computed", kind)
            return compute()
        value = self._read(key, decode)
        if value is not None:
            self._count("read", kind)
            return value[0]
        claimed = self._claim(key) if not self.closed else None
        if claimed is False:
            self._count("waited", kind)
            start = time.monotonic()
            while claimed is False:
                time.sleep(POLL_S)
                value = self._read(key, decode)
                if value is not None:
                    self._count("read", kind)
                    return value[0]
                if time.monotonic() - start > MAX_WAIT_S:
                    print(f"parkplan: {key_text(key)}: waited {MAX_WAIT_S:.0f} s for another worker; computing it "
                          "here", flush=True)
                    claimed = None
                    break
                claimed = self._claim(key) if not self.closed else False  # stopping: nothing more is claimed
        if claimed:
            # another worker may have stored the value and released its claim between our last look and our claim
            # (it stores before it releases): look once more, holding the claim
            value = self._read(key, decode)
            if value is not None:
                self._release(key)
                self._count("read", kind)
                return value[0]
        beat = self._hold(key) if claimed else None
        try:
            result = compute()
            try:
                data = encode(result)
            except Exception as exc:  # noqa: BLE001 - served, not shared (a bug to fix: logged)
                print(f"parkplan: {key_text(key)}: not stored, it does not encode: {type(exc).__name__}: {exc}",
                      flush=True)
            else:
                self.table.store(key, data)
        finally:
            if beat is not None:
                beat.set()
                if self._unhold(key):  # else close() released it already
                    self._release(key)
        self._count("computed", kind)
        return result

    # ------------------------------------------------------------------ parts
    def _count(self, what: str, kind: str) -> None:
        with self._counts_lock:
            self.counts[what] += 1
            self.counts[f"{what}:{kind}"] += 1

    def _read(self, key: tuple, decode: Callable[[bytes], T]) -> tuple[T] | None:
        raw = self.table.load(key)  # a failed read is logged there and is None
        if raw is None:
            return None
        try:
            return (decode(raw),)
        except Exception as exc:  # noqa: BLE001 - a cache: computed again (and replaced)
            print(f"parkplan: {key_text(key)}: the stored value could not be read back ({type(exc).__name__}: "
                  f"{exc}); computing it", flush=True)
            return None

    @staticmethod
    def _claim_key(key: tuple) -> str:
        return "claim|" + key_text(key)

    def _claim(self, key: tuple) -> bool | None:
        """True: this process holds the claim (new, or taken over from a stale one); False: another worker's
        claim is live; None: the database could not be written (compute without a claim)."""
        ck = self._claim_key(key)
        mine = json.dumps({"owner": self.owner, "t": time.time()}).encode()

        def work(db) -> tuple[bool, str | None]:
            row = db.execute(select(SHARED_CACHE.c.value).where(SHARED_CACHE.c.key == ck)).first()
            previous = None
            if row is not None:
                try:
                    held = json.loads(bytes(row[0]))
                    owner, t = str(held["owner"]), float(held["t"])
                except (ValueError, KeyError, TypeError):
                    owner, t = "?", 0.0
                if owner != self.owner and time.time() - t < STALE_S:
                    return False, None
                previous = owner
                db.execute(delete(SHARED_CACHE).where(SHARED_CACHE.c.key == ck))
            db.execute(SHARED_CACHE.insert().values(key=ck, scope=ck, value=mine, created_at=utcnow()))
            return True, previous

        try:
            ok, previous = write_transaction(self.engine, work, patience_s=CLAIM_PATIENCE_S)
        except IntegrityError:  # PostgreSQL: another worker inserted its claim between our read and insert
            return False
        except Exception as exc:  # noqa: BLE001 - a cache: computed without a claim
            print(f"parkplan: claiming {key_text(key)} failed: {type(exc).__name__}: {exc}", flush=True)
            return None
        if ok and previous is not None and previous != self.owner:
            print(f"parkplan: {key_text(key)}: took over the stale claim of {previous}", flush=True)
            self._count("taken_over", str(key[2]) if len(key) > 2 else str(key[-1]))
        return ok

    def _hold(self, key: tuple) -> threading.Event:
        """Start the heartbeat of a claim just taken and remember it (:meth:`close` releases it); a claim taken
        while :meth:`close` ran is released at once (the computation goes on without it)."""
        beat = self._heartbeat(key)
        with self._held_lock:
            if not self.closed:
                self._held[key] = beat
                return beat
        beat.set()
        self._release(key)
        return threading.Event()  # set by the caller; nothing is held

    def _unhold(self, key: tuple) -> bool:
        with self._held_lock:
            return self._held.pop(key, None) is not None

    def _heartbeat(self, key: tuple) -> threading.Event:
        """Refresh the claim every :data:`HEARTBEAT_S` seconds until the returned event is set."""
        stop = threading.Event()
        ck = self._claim_key(key)

        def beat() -> None:
            while not stop.wait(HEARTBEAT_S):
                mine = json.dumps({"owner": self.owner, "t": time.time()}).encode()
                try:
                    write_transaction(self.engine, lambda db: db.execute(
                        update(SHARED_CACHE).where(SHARED_CACHE.c.key == ck).values(value=mine)),
                        patience_s=HEARTBEAT_S)
                except Exception as exc:  # noqa: BLE001 - the next beat tries again
                    print(f"parkplan: refreshing the claim of {key_text(key)} failed: {type(exc).__name__}: {exc}",
                          flush=True)

        threading.Thread(target=beat, name="parkplan-claim", daemon=True).start()
        return stop

    def _release(self, key: tuple) -> None:
        """Delete this process's claim of ``key`` (a claim another worker took over is left to it)."""
        ck = self._claim_key(key)

        def work(db) -> None:
            row = db.execute(select(SHARED_CACHE.c.value).where(SHARED_CACHE.c.key == ck)).first()
            if row is None:
                return
            try:
                owner = json.loads(bytes(row[0])).get("owner")
            except ValueError:
                owner = None
            if owner == self.owner:
                db.execute(delete(SHARED_CACHE).where(SHARED_CACHE.c.key == ck))

        try:
            write_transaction(self.engine, work, patience_s=CLAIM_PATIENCE_S)
        except Exception as exc:  # noqa: BLE001 - the claim goes stale and is taken over
            print(f"parkplan: releasing the claim of {key_text(key)} failed: {type(exc).__name__}: {exc}", flush=True)
