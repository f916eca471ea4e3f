"""The review database: tokens, browser sessions, transfer candidates, reviews and the audit log.

SQLAlchemy 2 over SQLite by default (one file next to the dataset, WAL journal, a busy timeout,
``synchronous=FULL``, write transactions started with ``BEGIN IMMEDIATE`` so that two writers queue
instead of failing on a stale snapshot) or PostgreSQL when the URL says so
(``postgresql+psycopg://...``). The same models and queries run on both.

Optimistic concurrency: a candidate carries ``version``; a review is one conditional
``UPDATE ... WHERE version = :expected`` in the same transaction as its review row and audit row, so
an accepted decision and its audit entry are committed together or not at all, and a stale version
changes nothing.

Contention: :func:`write_transaction` runs a unit of work in a write transaction and, when the
database says it is busy (SQLite ``database is locked`` after the busy timeout; PostgreSQL
serialization failure, deadlock or lock timeout), rolls back and runs the whole unit again (it
re-reads, so the version check is redone) with jittered back-off, for up to
:data:`WRITE_PATIENCE_S` seconds; then it raises :class:`DatabaseBusy` (the API answers 503 with
``Retry-After``: nothing was changed). A busy database is never an unexplained 500.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, create_engine, event,
                        text)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

__all__ = [
    "Base",
    "Token",
    "BrowserSession",
    "Secret",
    "TransferCandidate",
    "Review",
    "AuditEntry",
    "STATUSES",
    "DECISIONS",
    "default_db_url",
    "make_engine",
    "init_db",
    "SESSION_KEY_NAME",
    "session_factory",
    "write_session",
    "write_transaction",
    "is_busy_error",
    "DatabaseBusy",
    "WRITE_PATIENCE_S",
    "SQLITE_BUSY_TIMEOUT_MS",
    "integrity_check",
    "utcnow",
    "as_utc",
]

STATUSES = ("pending", "approved", "rejected", "needs_info")
DECISIONS = ("approved", "rejected", "needs_info")
SQLITE_BUSY_TIMEOUT_MS = 30_000  # one statement waits this long for SQLite's write lock
WRITE_PATIENCE_S = 60.0  # write_transaction retries a busy unit of work for about this long, then DatabaseBusy
# PostgreSQL SQLSTATEs after which the whole transaction may simply be run again
_PG_RETRYABLE = {"40001", "40P01", "55P03"}  # serialization_failure, deadlock_detected, lock_not_available
T = TypeVar("T")
_backoff_sleep = time.sleep  # a module attribute so that tests can observe the retries


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: DateTime(timezone=True), dict[str, Any]: JSON, list[Any]: JSON}


class Token(Base):
    """An API token. Only ``prefix`` (public, for lookup) and the SHA-256 of the secret part are stored."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    offices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class BrowserSession(Base):
    """A browser login: the cookie carries a random id (signed); the table keeps its SHA-256 and expiry."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid_sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()


class Secret(Base):
    """Server-side secrets generated on first start (the session-cookie signing key)."""

    __tablename__ = "secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class TransferCandidate(Base):
    __tablename__ = "transfer_candidates"
    candidate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(64), index=True)
    origin_county_code: Mapped[str] = mapped_column(String(12), index=True)
    destination_county_code: Mapped[str] = mapped_column(String(12), index=True)
    park_id: Mapped[str] = mapped_column(String(64), index=True)
    scenario: Mapped[str] = mapped_column(String(32), default="")
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    last_comment: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("transfer_candidates.candidate_id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version_before: Mapped[int] = mapped_column(Integer)
    version_after: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Append-only: who did what to which object, when, and the object before and after."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    origin_county_code: Mapped[str | None] = mapped_column(String(12), nullable=True, index=True)
    destination_county_code: Mapped[str | None] = mapped_column(String(12), nullable=True, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


def default_db_url(data_path: Path) -> str:
    """The SQLite file next to a dataset: ``zj.gpkg`` -> ``zj.reviews.sqlite``."""
    p = Path(data_path).resolve()
    return f"sqlite:///{p.with_name(p.stem + '.reviews.sqlite')}"


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


#: the engine's execution option holding its :func:`write_transaction` patience (``make_engine(write_patience_s=)``)
PATIENCE_OPTION = "parkplan_write_patience_s"


def make_engine(url: str, *, sqlite_busy_timeout_ms: int | None = None,
                write_patience_s: float | None = None) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout (``sqlite_busy_timeout_ms`` per statement, default
    :data:`SQLITE_BUSY_TIMEOUT_MS`), FULL sync and explicit BEGIN handling.

    ``write_patience_s``: how long :func:`write_transaction` on this engine retries a busy unit of work before
    :class:`DatabaseBusy` when the caller gives no ``patience_s`` (default :data:`WRITE_PATIENCE_S`); the server's
    settings ``PARKPLAN_DB_PATIENCE_S`` and ``PARKPLAN_DB_BUSY_TIMEOUT_MS`` (:class:`api.settings.Settings`)."""
    if sqlite_busy_timeout_ms is None:
        sqlite_busy_timeout_ms = SQLITE_BUSY_TIMEOUT_MS
    if write_patience_s is not None and not write_patience_s >= 0:
        raise ValueError(f"write_patience_s must be a number of seconds >= 0, got {write_patience_s!r}")
    if sqlite_busy_timeout_ms < 0:
        raise ValueError(f"sqlite_busy_timeout_ms must be >= 0, got {sqlite_busy_timeout_ms!r}")
    options = {} if write_patience_s is None else {PATIENCE_OPTION: float(write_patience_s)}
    if not _is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30, pool_timeout=60,
                             execution_options=options)
    db = make_url(url).database
    if db and db != ":memory:":
        Path(db).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": sqlite_busy_timeout_ms / 1000, "check_same_thread": False},
                           pool_size=20, max_overflow=40, pool_timeout=60, execution_options=options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(sqlite_busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised by every SQLite test
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


#: the ``secrets`` row holding the session-cookie signing key (seeded by :func:`init_db`)
SESSION_KEY_NAME = "session_signing_key"
#: PostgreSQL: the transaction-scoped advisory lock :func:`init_db` holds (any constant shared by all workers)
_INIT_LOCK_KEY = 0x70617263  # "parc"


def init_db(engine: Engine, *, patience_s: float | None = None) -> None:
    """Create the tables that do not exist yet and the seed rows (the session-cookie signing key): idempotent,
    and safe when several worker processes start on a new database at once.

    The check and the creation are one write transaction (:func:`write_transaction`): ``BEGIN IMMEDIATE`` on
    SQLite takes the write lock before the schema is read, so a second process waits for the first to commit
    and then finds the tables and the key already there; on PostgreSQL a transaction-scoped advisory lock does
    the same (DDL there is transactional). Before this, processes that read the empty schema at once then
    failed on ``CREATE TABLE`` ("database is locked", or "table already exists"). A key already stored is
    never replaced (sessions signed with it stay valid across restarts). Busy past ``patience_s`` (default
    :data:`WRITE_PATIENCE_S`): :class:`DatabaseBusy`.
    """

    def work(db: Session) -> None:
        conn = db.connection()
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INIT_LOCK_KEY})
        Base.metadata.create_all(conn, checkfirst=True)
        if db.get(Secret, SESSION_KEY_NAME) is None:
            db.add(Secret(name=SESSION_KEY_NAME, value=secrets.token_hex(32)))

    write_transaction(engine, work, patience_s=patience_s)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def write_session(engine: Engine) -> Session:
    """A session whose transaction takes the write lock at BEGIN on SQLite (no upgrade deadlocks)."""
    return Session(bind=engine.execution_options(sqlite_immediate=True), expire_on_commit=False)


class DatabaseBusy(RuntimeError):
    """The database stayed busy (locked by other writers) for longer than the caller's patience; the unit of
    work was rolled back every time, so nothing was changed."""

    def __init__(self, message: str, *, attempts: int, waited_s: float) -> None:
        super().__init__(message)
        self.attempts, self.waited_s = attempts, waited_s


def is_busy_error(exc: BaseException) -> bool:
    """Whether ``exc`` (a SQLAlchemy DBAPIError or a driver error) means "busy, try the transaction again":
    SQLite SQLITE_BUSY/SQLITE_LOCKED, PostgreSQL serialization failure, deadlock or lock timeout."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, sqlite3.OperationalError):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
        message = str(orig).lower()
        return "database is locked" in message or "database table is locked" in message or "busy" in message
    return getattr(orig, "sqlstate", None) in _PG_RETRYABLE or getattr(orig, "pgcode", None) in _PG_RETRYABLE


def write_transaction(engine: Engine, work: Callable[[Session], T], *, patience_s: float | None = None) -> T:
    """Run ``work(session)`` in a write transaction (``BEGIN IMMEDIATE`` on SQLite) and commit; return its result.

    When the database is busy, the transaction is rolled back and ``work`` runs again from the start (so it
    must read what it checks inside the transaction, as :func:`api.reviews.decide` does), with jittered
    exponential back-off, until ``patience_s`` has passed (default: the engine's ``write_patience_s``, see
    :func:`make_engine`, else :data:`WRITE_PATIENCE_S`); then :class:`DatabaseBusy`. Any other exception (a 412, a
    bug) propagates at once after the rollback.
    """
    if patience_s is None:
        patience_s = engine.get_execution_options().get(PATIENCE_OPTION)
    patience = WRITE_PATIENCE_S if patience_s is None else float(patience_s)
    start = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            with write_session(engine) as db, db.begin():
                return work(db)
        except DBAPIError as exc:
            if not is_busy_error(exc):
                raise
            waited = time.monotonic() - start
            if waited >= patience:
                raise DatabaseBusy(f"the review database stayed busy for {waited:.0f} s ({attempt} attempts); "
                                   "nothing was changed", attempts=attempt, waited_s=waited) from exc
            _backoff_sleep(min(0.05 * 2 ** min(attempt, 5), 1.0) * random.uniform(0.5, 1.0))


def integrity_check(engine: Engine) -> dict[str, Any]:
    """``{"ok": bool, "backend": ..., "detail": [...]}``: SQLite ``PRAGMA integrity_check`` and foreign keys;
    on PostgreSQL, that every review and audit row refers to an existing candidate."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
            fk = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            detail = [] if rows == ["ok"] else rows
            detail += [f"foreign key violation in {r[0]} row {r[1]}" for r in fk]
        else:
            orphans = conn.execute(text(
                "select count(*) from reviews r left join transfer_candidates c on c.candidate_id = r.candidate_id "
                "where c.candidate_id is null")).scalar_one()
            detail = [f"{orphans} reviews without a candidate"] if orphans else []
        conn.rollback()
    return {"ok": not detail, "backend": engine.dialect.name, "detail": detail}
