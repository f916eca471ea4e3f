"""A review sheet made by one worker is read by the others (``parkplan serve --workers N``): two app states over the
same review database stand for two worker processes (each has its own per-process caches; the review database
is what they share). The sheet is made once (counted at :func:`api.routes.transfers.make_sheet`, which still
runs), stored in the database, and the other worker serves the same bytes; a decision replaces the stored sheet
with the new version's, and a sheet is still served when the store cannot be written."""

from __future__ import annotations

import io

import pypdf
import pytest
from sqlalchemy import select

from api.routes import transfers
from api.routes.transfers import sheet_key
from api.shared_cache import SHARED_CACHE, SharedBytesCache, key_text
from tests.api.test_sheet_cache import _first_candidate, _sheet


@pytest.fixture
def made(monkeypatch) -> list[str]:
    """The candidate ids of the sheets actually made (the real function runs, in the sheet process; its calls are
    counted in the server's process, at :func:`api.routes.transfers.make_sheet`)."""
    calls: list[str] = []
    real = transfers.make_sheet

    def counted(state, candidate):
        calls.append(candidate["candidate_id"])
        return real(state, candidate)

    monkeypatch.setattr(transfers, "make_sheet", counted)
    return calls


@pytest.fixture
def second_worker(fresh_api, dataset_path):
    """Another app over the same dataset and review database: a second worker process's state."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    from .conftest import Api

    app = create_app(dataset_path, fresh_api.app.state.engine.url.render_as_string(hide_password=False))
    other = Api(app, fresh_api.tokens)
    other.client = TestClient(app, raise_server_exceptions=False)
    yield other
    app.state.engine.dispose()


def _stored(state, cid: str) -> list[str]:
    with state.engine.connect() as conn:
        return [k for (k,) in conn.execute(select(SHARED_CACHE.c.key).where(SHARED_CACHE.c.scope.like(f"sheet|{cid}|%")))]


def _text(data: bytes) -> str:
    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_a_sheet_made_by_one_worker_is_served_by_the_other(fresh_api, second_worker, made):
    a, b = fresh_api, second_worker
    sa, sb = a.app.state.parkplan, b.app.state.parkplan
    cid = _first_candidate(a)
    first = _sheet(a, cid)
    assert made == [cid]
    assert _stored(sa, cid) == [key_text(sheet_key(sa, cid, 1))]
    assert sheet_key(sb, cid, 1) not in sb.sheets  # nothing in the other worker's own cache yet
    assert _sheet(b, cid) == first
    assert made == [cid]  # read from the database, not made again
    assert sb.sheets.get(sheet_key(sb, cid, 1)) == first  # and now kept in that worker's process too


def test_a_decision_on_one_worker_replaces_the_sheet_the_other_serves(fresh_api, second_worker, made):
    a, b = fresh_api, second_worker
    sa, sb = a.app.state.parkplan, b.app.state.parkplan
    cid = _first_candidate(a)
    assert "版本 1" in _text(_sheet(b, cid))  # made by worker b
    r = a.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a",
               json={"decision": "approved", "comment": "两个进程共用审核表", "version": 1})
    assert r.status_code == 201, r.text
    made_in_a = sa.sheets.future(sheet_key(sa, cid, 2), lambda: b"unused").result(timeout=120)  # the background one
    assert made == [cid, cid]
    assert _stored(sa, cid) == [key_text(sheet_key(sa, cid, 2))]  # version 1's row is gone
    served = _sheet(b, cid)  # worker b still holds version 1 in its process: the version in the key decides
    assert served == made_in_a
    assert made == [cid, cid]
    text = _text(served)
    assert "版本 2" in text and "两个进程共用审核表" in text


def test_a_sheet_is_served_when_the_store_fails(fresh_api, made):
    api = fresh_api
    state = api.app.state.parkplan
    cid = _first_candidate(api)
    with state.engine.begin() as conn:
        conn.execute(SHARED_CACHE.delete())
    SHARED_CACHE.drop(state.engine)  # reads and writes of the table now fail: the sheet is made and served
    try:
        data = _sheet(api, cid)
        assert data.startswith(b"%PDF") and made == [cid]
    finally:
        SHARED_CACHE.create(state.engine)


def test_the_shared_cache_keeps_bytes_only(fresh_api):
    cache = SharedBytesCache(4, "test", fresh_api.app.state.engine)
    with pytest.raises(TypeError, match="keeps bytes, got dict"):
        cache.get_or_compute(("k",), lambda: {"not": "bytes"})
    assert cache.get_or_compute(("k",), lambda: b"abc") == b"abc"
    assert SharedBytesCache(4, "test", fresh_api.app.state.engine).load(("k",)) == b"abc"


def _open_cache(url: str, start) -> str:
    from api.db import make_engine

    start.wait()
    engine = make_engine(url)
    try:
        SharedBytesCache(4, "race", engine).store(("k", url), b"x")
        return "ok"
    finally:
        engine.dispose()


def test_workers_starting_at_once_on_a_fresh_database(tmp_path):
    """Four processes create the table at the same moment (``parkplan serve --workers 4`` on a new database)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager, ProcessPoolExecutor(4, mp_context=ctx) as pool:
        start = manager.Barrier(4)
        assert list(pool.map(_open_cache, [url] * 4, [start] * 4)) == ["ok"] * 4
