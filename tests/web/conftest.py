"""Fixtures of the web workspace tests: one app over a dataset whose names are hostile, a review
database with candidates for two offices, tokens for each role, and (for the browser tests) one
uvicorn server on 127.0.0.1 and one headless Debian chromium per session.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace

import pytest

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_PARK = HOSTILE + "工业园区"
HOSTILE_ENTERPRISE = HOSTILE + "有限公司"


@pytest.fixture(scope="session")
def hostile_dataset_path(raw_dataset, tmp_path_factory):
    """The small built-in dataset with a hostile name on the first park and on a few enterprises."""
    from geodata.dataset import save_dataset

    parks = raw_dataset.parks.copy()
    parks.loc[parks.index[0], "name"] = HOSTILE_PARK
    ents = raw_dataset.enterprises.copy()
    ents.loc[ents.index[:40:4], "name"] = HOSTILE_ENTERPRISE
    ds = replace(raw_dataset, parks=parks, enterprises=ents, path=None)
    return save_dataset(ds, tmp_path_factory.mktemp("webdata") / "hostile.gpkg")


def own_review_app(dataset_path, db_path, label: str, first: int, settings=None):
    """An app of its own (its own review database at ``db_path``), one office's four transfer candidates (ids from
    ``first``) and a reviewer's token for that office: for tests whose decisions must change no candidate the
    session's other tests read. A namespace with ``app``, ``path``, ``token``, ``candidates``."""
    from types import SimpleNamespace

    from api.app import create_app
    from api.auth import create_token
    from api.reviews import add_candidates

    app = create_app(dataset_path, f"sqlite:///{db_path}", **({"settings": settings} if settings else {}))
    ent = app.state.dataset.enterprises
    origin = ent[~ent["less_developed"].astype(bool)]["county_code"].astype(str).value_counts().index[0]
    rows = _candidate_rows(app, origin, 4, first)
    assert len(rows) == 4
    add_candidates(app.state.engine, rows)
    with app.state.sessions() as db:
        token, _ = create_token(db, "reviewer", (origin,), label=label)
        db.commit()
    return SimpleNamespace(app=app, path=db_path, token=token, candidates=[r["candidate_id"] for r in rows])


def _candidate_rows(app, origin: str, n: int, start: int, ids=None) -> list[dict]:
    """Candidates from ``origin`` to the best park in a less-developed county, with a frozen snapshot
    in the shape ``parkplan transfers propose`` stores (enterprise, park, criteria, alternative, ...)."""
    from api.app import suitability_context
    from parks.suitability import score_enterprise

    ds = app.state.dataset
    ctx = suitability_context(app)
    if ids is None:
        ids = ds.enterprises.loc[ds.enterprises["county_code"].astype(str) == origin, "enterprise_id"].astype(str)
    rows = []
    for eid in sorted(ids):
        res = score_enterprise(ctx, eid, constraints={"less_developed_only": True}, top=3).to_dict()
        if len(res["ranked"]) < 2:
            continue
        best = res["ranked"][0]
        rows.append({
            "candidate_id": f"TC{start + len(rows):04d}", "enterprise_id": eid, "origin_county_code": origin,
            "destination_county_code": best["county_code"], "park_id": best["park_id"], "scenario": "test",
            "score": best["score"],
            "snapshot": {"enterprise": res["enterprise"], "park": {"park_id": best["park_id"], "name": best["name"]},
                         "criteria": best["criteria"], "score": best["score"], "weights": res["weights"],
                         "alternative": {k: res["ranked"][1][k] for k in ("rank", "park_id", "county_code", "score")},
                         "excluded": res["excluded"][:5]},
        })
        if len(rows) == n:
            break
    return rows


@pytest.fixture(scope="session")
def web(hostile_dataset_path, tmp_path_factory):
    """The app (``create_app``) with two offices' candidates and a token per role.

    Returns a namespace: ``app``, ``tokens`` (role name -> token string; ``reviewer_a``/``reviewer_b``
    are two origin offices, ``reviewer_dest`` the destination office of office A's first candidate),
    ``offices``, ``candidates`` (office -> candidate ids), ``rows`` (candidate id -> (origin,
    destination)), ``hostile_candidate`` (a candidate of office A whose enterprise name is hostile).
    """
    from types import SimpleNamespace

    from api.app import create_app
    from api.auth import create_token
    from api.reviews import add_candidates

    db_path = tmp_path_factory.mktemp("webdb") / "reviews.sqlite"
    app = create_app(hostile_dataset_path, f"sqlite:///{db_path}")
    ds = app.state.dataset
    ent = ds.enterprises
    origins = (ent[~ent["less_developed"].astype(bool)]["county_code"].astype(str).value_counts().index[:2].tolist())
    rows_a = _candidate_rows(app, origins[0], 3, 1)
    rows_b = _candidate_rows(app, origins[1], 3, 101)
    # a candidate of office A whose enterprise has a hostile name (shown from the snapshot)
    hostile_ids = ent.loc[ent["name"] == HOSTILE_ENTERPRISE, "enterprise_id"].astype(str)
    hostile_rows = _candidate_rows(app, origins[0], 1, 500, ids=hostile_ids)
    rows = rows_a + rows_b + hostile_rows
    add_candidates(app.state.engine, rows)
    # the destination county's office of office A's first candidate: both offices review that candidate
    dest = rows_a[0]["destination_county_code"]
    tokens = {}
    with app.state.sessions() as db:
        for name, role, offices in (("viewer", "viewer", ()), ("analyst", "analyst", ()),
                                    ("reviewer_a", "reviewer", (origins[0],)), ("reviewer_b", "reviewer", (origins[1],)),
                                    ("reviewer_dest", "reviewer", (dest,)), ("admin", "admin", ())):
            tokens[name], _ = create_token(db, role, offices, label=name)
        db.commit()
    return SimpleNamespace(app=app, tokens=tokens, offices={"a": origins[0], "b": origins[1], "dest": dest},
                           rows={r["candidate_id"]: (r["origin_county_code"], r["destination_county_code"]) for r in rows},
                           candidates={"a": [r["candidate_id"] for r in rows_a + hostile_rows],
                                       "b": [r["candidate_id"] for r in rows_b]},
                           hostile_candidate=hostile_rows[0]["candidate_id"] if hostile_rows else None)


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "the page has no csrf_token field"
    return m.group(1)


def login_client(app, token: str):
    """A TestClient logged in through the /login form."""
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="http://127.0.0.1")
    page = client.get("/login")
    r = client.post("/login", data={"csrf_token": csrf_of(page.text), "token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def server(web, serve_app):
    """The app served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    return serve_app(web.app)


def chromium_path() -> str | None:
    path = os.environ.get("PARKPLAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if path and os.path.exists(path) else None


class BrowserThread:
    """Headless chromium driven from one worker thread of its own.

    Playwright's sync API refuses to start while another sync Playwright runs in the same thread
    (the maps tests keep one open for the session); a thread per instance is the supported way to
    have two. Every call on the browser must then happen in that thread: ``run(fn, *args)`` calls
    ``fn(browser, *args)`` there and returns its result or raises its exception here.
    """

    def __init__(self, path: str):
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="web-playwright")
        self._pool.submit(self._start, path).result()

    def _start(self, path: str) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=path, headless=True,
                                                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                      "--disable-background-networking", "--disable-component-update"])

    def _stop(self) -> None:
        self.browser.close()
        self._pw.stop()

    def run(self, fn, *args):
        return self._pool.submit(fn, self.browser, *args).result()

    def close(self) -> None:
        self._pool.submit(self._stop).result()
        self._pool.shutdown()


@pytest.fixture(scope="session")
def web_browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Debian chromium is required in CI (apt-get install chromium); set PARKPLAN_CHROMIUM")
        pytest.skip("Debian chromium is not installed (set PARKPLAN_CHROMIUM)")
    bt = BrowserThread(path)
    yield bt
    bt.close()
