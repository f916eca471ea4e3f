"""The decisions workbook is kept per worker process and made anew after any decision (issue 15).

``GET /transfer-candidates/decisions.xlsx`` keeps the workbook's bytes per (dataset version, the user's scope, the
office asked for, the last review id and number of reviews of that scope). Two app states over one review
database stand for two worker processes (``parkplan serve --workers 2``): a decision recorded through the other
one must show in this one's next download, since its cache key is read from the database on every request."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from api import exports
from tests.api.test_shared_sheets import second_worker  # noqa: F401  (the fixture: another worker's app)


def _rows(content: bytes) -> list[list]:
    ws = load_workbook(io.BytesIO(content)).active
    return [[c.value for c in row] for row in ws.iter_rows()][1:]


def _decide(api, cid: str, version: int, decision: str, comment: str) -> None:
    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a",
                 json={"decision": decision, "comment": comment, "version": version})
    assert r.status_code == 201, r.text


def _mine(api) -> list[dict]:
    r = api.get("/transfer-candidates?limit=5", as_="reviewer_a")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_decision_through_the_other_worker_shows_in_the_next_workbook(fresh_api, second_worker, monkeypatch):  # noqa: F811
    a, b = fresh_api, second_worker
    made: list[int] = []
    real = exports.decisions_xlsx

    def counted(rows, names=None):
        made.append(len(rows))
        return real(rows, names)

    monkeypatch.setattr(exports, "decisions_xlsx", counted)
    c1, c2 = _mine(a)[:2]
    _decide(a, c1["candidate_id"], 1, "approved", "第一个决定")

    first = a.get("/transfer-candidates/decisions.xlsx", as_="reviewer_a")
    assert first.status_code == 200
    assert [r[0] for r in _rows(first.content)] == [c1["candidate_id"]]
    again = a.get("/transfer-candidates/decisions.xlsx", as_="reviewer_a")
    assert again.content == first.content and made == [1]  # the same rows: served from the cache, not made again

    _decide(b, c2["candidate_id"], 1, "rejected", "另一个进程的决定")  # through the other worker
    after = a.get("/transfer-candidates/decisions.xlsx", as_="reviewer_a")
    rows = _rows(after.content)
    assert sorted(r[0] for r in rows) == sorted([c1["candidate_id"], c2["candidate_id"]])
    assert any("另一个进程的决定" in str(v) for r in rows for v in r)
    assert made == [1, 2]

    # a second decision on the same candidate (its status changes; the number of candidates does not)
    _decide(b, c1["candidate_id"], 2, "needs_info", "再议")
    rows = _rows(a.get("/transfer-candidates/decisions.xlsx", as_="reviewer_a").content)
    assert len(rows) == 3 and made == [1, 2, 3]
    # what the workbook lists is what an uncached export of the same rows lists
    with a.app.state.parkplan.sessions() as db:
        from api import reviews
        from api.auth import Principal

        user = Principal(token_id=0, label="", role="reviewer", offices=frozenset(a.offices[:1]))
        expected = _rows(real(reviews.office_decisions(db, user, None),
                              dict(zip(a.app.state.dataset.counties["code"].astype(str),
                                       a.app.state.dataset.counties["name"].astype(str)))))
    assert rows == expected


def test_the_cache_is_per_scope(fresh_api):
    """Another office's reviewer (and an admin) never gets this office's cached workbook."""
    api = fresh_api
    c = _mine(api)[0]
    _decide(api, c["candidate_id"], 1, "approved", "本办公室")
    mine = _rows(api.get("/transfer-candidates/decisions.xlsx", as_="reviewer_a").content)
    assert [r[0] for r in mine] == [c["candidate_id"]]
    theirs = api.get("/transfer-candidates/decisions.xlsx", as_="reviewer_b")
    assert theirs.status_code == 200
    assert c["candidate_id"] not in {r[0] for r in _rows(theirs.content)}
    everyone = _rows(api.get("/transfer-candidates/decisions.xlsx", as_="admin").content)
    assert c["candidate_id"] in {r[0] for r in everyone}
    office = api.offices[1]
    assert api.get(f"/transfer-candidates/decisions.xlsx?office={office}", as_="reviewer_a").status_code == 404
