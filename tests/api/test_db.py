"""The review database's write path under contention: a busy SQLite database (another connection holds the
write lock) is retried until the lock is free; past the patience the API answers 503 with Retry-After and
nothing is changed; errors that are not "busy" are not retried. The lock is held and released by the test
itself (released from the back-off hook), so nothing here depends on timing."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api import db as dbmod
from api.db import DatabaseBusy, Review, Secret, TransferCandidate, is_busy_error, make_engine, write_transaction

from .conftest import Api, build_app, fresh_pg_database, make_tokens, pg_url_or_skip


class WriteLock:
    """Another connection holding SQLite's write lock (``BEGIN IMMEDIATE``) until :meth:`release`."""

    def __init__(self, path) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")
        self.held = True

    def release(self) -> None:
        if self.held:
            self.conn.execute("COMMIT")
            self.held = False

    def close(self) -> None:
        self.release()
        self.conn.close()


@pytest.fixture
def sqlite_engine(tmp_path):
    path = tmp_path / "r.sqlite"
    engine = make_engine(f"sqlite:///{path}", sqlite_busy_timeout_ms=20)
    dbmod.init_db(engine)
    yield engine, path
    engine.dispose()


def test_a_busy_write_is_retried_until_the_lock_is_free(sqlite_engine, monkeypatch):
    engine, path = sqlite_engine
    lock = WriteLock(path)
    backoffs: list[float] = []

    def backoff(seconds: float) -> None:  # the lock holder lets go after the third busy attempt
        backoffs.append(seconds)
        if len(backoffs) == 3:
            lock.release()

    monkeypatch.setattr(dbmod, "_backoff_sleep", backoff)
    try:
        out = write_transaction(engine, lambda s: s.add(Secret(name="x", value="1")) or "done", patience_s=3600)
    finally:
        lock.close()
    assert out == "done"
    assert len(backoffs) == 3 and all(0 < b <= 1.0 for b in backoffs)
    with engine.connect() as conn:
        assert conn.execute(select(Secret.value).where(Secret.name == "x")).scalar_one() == "1"


def test_past_its_patience_a_busy_write_raises_and_changes_nothing(sqlite_engine, monkeypatch):
    engine, path = sqlite_engine
    monkeypatch.setattr(dbmod, "_backoff_sleep", lambda s: None)
    lock = WriteLock(path)
    try:
        with pytest.raises(DatabaseBusy) as info:
            write_transaction(engine, lambda s: s.add(Secret(name="y", value="1")), patience_s=0)
    finally:
        lock.close()
    assert info.value.attempts == 1 and "nothing was changed" in str(info.value)
    with engine.connect() as conn:
        assert conn.execute(select(Secret).where(Secret.name == "y")).first() is None


def test_other_database_errors_are_not_retried(sqlite_engine, monkeypatch):
    engine, _ = sqlite_engine
    backoffs: list[float] = []
    monkeypatch.setattr(dbmod, "_backoff_sleep", backoffs.append)
    write_transaction(engine, lambda s: s.add(Secret(name="z", value="1")))
    with pytest.raises(IntegrityError):
        write_transaction(engine, lambda s: s.add(Secret(name="z", value="2")))
    assert backoffs == []


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize("error, busy", [
    (sqlite3.OperationalError("database is locked"), True),
    (sqlite3.OperationalError("no such table: reviews"), False),
    (_PgError("40001"), True),  # serialization_failure
    (_PgError("40P01"), True),  # deadlock_detected
    (_PgError("55P03"), True),  # lock_not_available
    (_PgError("23505"), False),  # unique_violation: a real conflict, not contention
])
def test_which_errors_count_as_busy(error, busy):
    assert is_busy_error(error) is busy


def test_a_busy_review_is_503_with_retry_after_and_the_same_request_succeeds_later(
        dataset_path, candidate_rows, tmp_path, monkeypatch):
    path = tmp_path / "reviews.sqlite"
    app = build_app(dataset_path, f"sqlite:///{path}", candidate_rows)
    api = Api(app, make_tokens(app, (candidate_rows[0]["origin_county_code"], candidate_rows[1]["origin_county_code"])))
    app.state.engine.dispose()
    app.state.engine = make_engine(f"sqlite:///{path}", sqlite_busy_timeout_ms=20)
    monkeypatch.setattr(dbmod, "WRITE_PATIENCE_S", 0.0)
    cid = candidate_rows[0]["candidate_id"]
    etag = api.get(f"/transfer-candidates/{cid}").headers["ETag"]
    body = {"decision": "approved", "comment": "busy"}
    lock = WriteLock(path)
    try:
        r = api.post(f"/transfer-candidates/{cid}/reviews", headers={"If-Match": etag}, json=body)
    finally:
        lock.close()
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["title"] == "Service Unavailable" and "nothing was changed" in r.json()["detail"]
    assert r.json()["code"] == "db.busy"  # and in Chinese for the offices, with the wait it asks for
    assert "未做任何更改" in r.json()["detail_zh"] and f"{r.headers['Retry-After']} 秒后" in r.json()["detail_zh"]
    # nothing was recorded, so the very same request (same ETag) now wins
    again = api.post(f"/transfer-candidates/{cid}/reviews", headers={"If-Match": etag}, json=body)
    assert again.status_code == 201, again.text
    with app.state.engine.connect() as conn:
        assert conn.execute(select(Review.comment).where(Review.candidate_id == cid)).scalars().all() == ["busy"]
        assert conn.execute(select(TransferCandidate.version).where(TransferCandidate.candidate_id == cid)
                            ).scalar_one() == 2
    app.state.engine.dispose()


# ------------------------------------------------------------------ init_db: several workers on a new database

def _start_worker(url: str, start) -> tuple[str, str]:
    """What ``create_app`` does with the review database at start-up: the engine, ``init_db``, the signing key."""
    from api.auth import signing_key
    from api.db import init_db, make_engine, session_factory

    engine = make_engine(url)
    try:
        start.wait()  # every process reaches init_db at the same moment
        init_db(engine)
        with session_factory(engine)() as db:
            return "ok", signing_key(db).hex()
    except Exception as exc:  # reported, not raised: the test names what failed in which process
        return f"{type(exc).__name__}: {exc}", ""
    finally:
        engine.dispose()


def _schema(url) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(kind, name) of every table and named index (``ix_*``) as the database lists them (a duplicate would show
    twice), and the rows of ``secrets``. ``url``: a SQLAlchemy URL or a SQLite file."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    url = url if isinstance(url, str) else f"sqlite:///{url}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                listing = ("SELECT type, name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                           "UNION ALL SELECT type, name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%'")
            else:
                listing = ("SELECT 'table', table_name FROM information_schema.tables WHERE table_schema = 'public' "
                           "UNION ALL SELECT 'index', indexname FROM pg_indexes WHERE schemaname = 'public' "
                           "AND indexname LIKE 'ix_%'")
            objects = sorted(tuple(r) for r in conn.execute(text(listing)))
            has_secrets = any(name == "secrets" for kind, name in objects if kind == "table")
            rows = conn.execute(text("SELECT name, value FROM secrets")).all() if has_secrets else []
    finally:
        engine.dispose()
    return objects, sorted(tuple(r) for r in rows)


_WANT = sorted({("table", t.name) for t in dbmod.Base.metadata.sorted_tables}
               | {("index", str(i.name)) for t in dbmod.Base.metadata.sorted_tables for i in t.indexes})


@contextlib.contextmanager
def _new_database(backend: str, path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{path}"
        return
    with fresh_pg_database(pg_url_or_skip()) as url:
        yield url


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_workers_starting_at_once_on_a_new_database_create_it_once(backend, tmp_path):
    """Six processes (spawned, as ``parkplan serve --workers N``) open a new review database at the same
    moment, three times over: each starts, the tables and indexes exist once, and one signing key is stored
    and read by all. (With the former ``create_all`` alone, most processes failed on CREATE TABLE: "database
    is locked" on SQLite, a unique violation in ``pg_type`` on PostgreSQL.)"""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    n = 6
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager, ProcessPoolExecutor(n, mp_context=ctx) as pool:
        for round_ in range(3):
            with _new_database(backend, tmp_path / f"fresh{round_}.sqlite") as url:
                start = manager.Barrier(n)
                results = list(pool.map(_start_worker, [url] * n, [start] * n))
                assert [r[0] for r in results] == ["ok"] * n, results
                objects, secrets = _schema(url)
                assert objects == _WANT
                assert len(secrets) == 1 and secrets[0][0] == dbmod.SESSION_KEY_NAME
                assert {r[1] for r in results} == {secrets[0][1]} and len(bytes.fromhex(secrets[0][1])) == 32


def test_init_db_is_idempotent_and_keeps_the_stored_key(review_db_url):
    engine = make_engine(review_db_url)
    try:
        dbmod.init_db(engine)
        first = _schema(review_db_url)
        assert first[0] == _WANT
        with dbmod.write_session(engine) as db, db.begin():
            db.add(Secret(name="other", value="kept"))
        dbmod.init_db(engine)
        dbmod.init_db(engine)
        objects, secrets = _schema(review_db_url)
        assert objects == first[0]
        assert secrets == sorted(first[1] + [("other", "kept")])  # the key is the first one, once
    finally:
        engine.dispose()


def test_init_db_seeds_the_key_of_a_database_made_before_it_did(review_db_url):
    """A review database created by the former init_db (tables, no key row) gets its key once."""
    engine = make_engine(review_db_url)
    try:
        dbmod.Base.metadata.create_all(engine)
        assert _schema(review_db_url)[1] == []
        dbmod.init_db(engine)
        dbmod.init_db(engine)
        assert [name for name, _ in _schema(review_db_url)[1]] == [dbmod.SESSION_KEY_NAME]
    finally:
        engine.dispose()


def test_init_db_waits_for_a_writer_and_gives_up_past_its_patience(tmp_path, monkeypatch):
    """The check-and-create queues behind another writer (the lock released from the back-off hook) and, past
    its patience, raises DatabaseBusy having created nothing."""
    path = tmp_path / "busy.sqlite"
    sqlite3.connect(str(path)).close()
    engine = make_engine(f"sqlite:///{path}", sqlite_busy_timeout_ms=20)
    lock = WriteLock(path)
    try:
        monkeypatch.setattr(dbmod, "_backoff_sleep", lambda s: None)
        with pytest.raises(DatabaseBusy):
            dbmod.init_db(engine, patience_s=0)
        conn = sqlite3.connect(str(path))
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        conn.close()
        monkeypatch.setattr(dbmod, "_backoff_sleep", lambda s: lock.release())
        dbmod.init_db(engine, patience_s=3600)
        assert [name for name, _ in _schema(path)[1]] == [dbmod.SESSION_KEY_NAME]
    finally:
        lock.close()
        engine.dispose()
