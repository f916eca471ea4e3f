"""Fixtures for the API tests: an app over the small session dataset, tokens of every role, candidates.

``review_db_url`` is parametrised over SQLite and PostgreSQL (``PARKPLAN_TEST_PG_URL``, started by
``scripts/test``); without that variable the PostgreSQL case is skipped, except under CI (``CI=true``)
where it fails. Each PostgreSQL case gets a database of its own, created for the test and dropped after.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy.pool import NullPool


def pg_url_or_skip() -> str:
    url = os.environ.get("PARKPLAN_TEST_PG_URL")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PARKPLAN_TEST_PG_URL is not set under CI: scripts/test must start PostgreSQL")
        pytest.skip("PARKPLAN_TEST_PG_URL not set (run scripts/test or scripts/start-postgres)")
    return url


@contextlib.contextmanager
def fresh_pg_database(url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of ``url`` for one test, dropped afterwards: tests (and
    other test runs on the same server) never share tables, so none can drop or change another's."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"parkplan_t_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def review_db_url(request, tmp_path) -> Iterator[str]:
    """An empty review database for one test: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reviews.sqlite'}"
        return
    with fresh_pg_database(pg_url_or_skip()) as url:
        yield url


@pytest.fixture(scope="session")
def candidate_rows(dataset):
    """The suitability model's real proposal for the small dataset (coastal transfer + allocation)."""
    from api.proposals import propose

    rows = propose(dataset)
    assert len(rows) >= 20, "the small dataset gives coastal-transfer candidates"
    return rows


def make_tokens(app, offices: tuple[str, str]) -> dict[str, str]:
    from api.auth import create_token

    out = {}
    with app.state.sessions() as db:
        for role in ("viewer", "analyst", "admin"):
            out[role], _ = create_token(db, role, label=role)
        out["reviewer_a"], _ = create_token(db, "reviewer", [offices[0]], label="office A")
        out["reviewer_b"], _ = create_token(db, "reviewer", [offices[1]], label="office B")
        out["reviewer_other"], _ = create_token(db, "reviewer", ["999999"], label="elsewhere")
        db.commit()
    return out


def build_app(dataset_path, db_url: str, candidates: list[dict], **settings):
    from api.app import Settings, create_app
    from api.reviews import add_candidates

    app = create_app(dataset_path, db_url, Settings(**settings) if settings else None)
    add_candidates(app.state.engine, candidates)
    return app


class Api:
    """A TestClient with tokens: ``api.get(path, as_="analyst")``."""

    def __init__(self, app, tokens):
        from fastapi.testclient import TestClient

        self.app = app
        self.tokens = tokens
        self.client = TestClient(app, raise_server_exceptions=False)

    def headers(self, as_: str | None, extra=None) -> dict:
        h = {"Authorization": f"Bearer {self.tokens[as_]}"} if as_ else {}
        h.update(extra or {})
        return h

    def get(self, path, as_="admin", headers=None, **kw):
        return self.client.get(path, headers=self.headers(as_, headers), **kw)

    def post(self, path, as_="admin", headers=None, **kw):
        return self.client.post(path, headers=self.headers(as_, headers), **kw)


def _offices(candidates) -> tuple[str, str]:
    """Two offices with candidates, neither the other's origin or destination."""
    a = candidates[0]
    for c in candidates[1:]:
        if {c["origin_county_code"], c["destination_county_code"]}.isdisjoint(
                {a["origin_county_code"], a["destination_county_code"]}):
            return a["origin_county_code"], c["origin_county_code"]
    pytest.skip("no two disjoint offices among the candidates")


@pytest.fixture(scope="module")
def api(dataset_path, candidate_rows, tmp_path_factory):
    """A module-wide app on SQLite with candidates and tokens (tests that change reviews use their own)."""
    db = tmp_path_factory.mktemp("api") / "reviews.sqlite"
    app = build_app(dataset_path, f"sqlite:///{db}", candidate_rows)
    offices = _offices(candidate_rows)
    api = Api(app, make_tokens(app, offices))
    api.offices = offices
    return api


@pytest.fixture
def fresh_api(dataset_path, candidate_rows, review_db_url):
    """A new app and empty review database per test, over SQLite and PostgreSQL."""
    app = build_app(dataset_path, review_db_url, candidate_rows)
    offices = _offices(candidate_rows)
    api = Api(app, make_tokens(app, offices))
    api.offices = offices
    yield api
    app.state.engine.dispose()


# --- a real server on loopback ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER_SCRIPT = """
import sys, uvicorn
from api.app import create_app
app = create_app(sys.argv[1], sys.argv[2])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning", workers=1)
"""


class Server:
    """A uvicorn process over a dataset and review database. Its stderr goes to a log file, never to a pipe:
    a pipe nobody reads fills up (64 KiB: three logged tracebacks) and then blocks the server's logging, and
    with it every request that logs, until the clients time out."""

    def __init__(self, dataset_path: Path, db_url: str, port: int | None = None, log_path: Path | None = None):
        self.dataset_path, self.db_url = dataset_path, db_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="parkplan-server-", suffix=".log")
            os.close(fd)
            log_path = Path(name)
        self.log_path = Path(log_path)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def start(self, timeout: float = 300.0) -> "Server":  # loading the dataset takes minutes on a loaded machine
        import httpx

        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, str(self.dataset_path), self.db_url,
                                          str(self.port)], cwd=str(Path(__file__).resolve().parents[2]),
                                         stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_tail(2000)}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer /health within {timeout:.0f} s: {self.log_tail(2000)}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing: a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def served(dataset_path, candidate_rows, review_db_url, tmp_path):
    """A review database prepared in-process (candidates, tokens), then a server process over it."""
    app = build_app(dataset_path, review_db_url, candidate_rows)
    offices = (candidate_rows[0]["origin_county_code"], candidate_rows[1]["origin_county_code"])
    tokens = make_tokens(app, offices)
    app.state.engine.dispose()
    server = Server(dataset_path, review_db_url, log_path=tmp_path / "server.log").start()
    server.tokens = tokens
    yield server
    server.stop()


@pytest.fixture(scope="module")
def read_server(dataset_path, candidate_rows, tmp_path_factory):
    """One server per module for read-only clients (SQLite)."""
    folder = tmp_path_factory.mktemp("read")
    url = f"sqlite:///{folder / 'reviews.sqlite'}"
    app = build_app(dataset_path, url, candidate_rows)
    tokens = make_tokens(app, (candidate_rows[0]["origin_county_code"], candidate_rows[1]["origin_county_code"]))
    app.state.engine.dispose()
    server = Server(dataset_path, url, log_path=folder / "server.log").start()
    server.tokens = tokens
    yield server
    server.stop()
