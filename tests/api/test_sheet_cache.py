"""The review sheet PDF is kept per candidate version (``AppState.sheets``): the same bytes while nothing changes,
a new sheet after a decision (through the API or the web page), and the decision itself is written, not cached."""

from __future__ import annotations

import io
import re

import pypdf

from api.routes.transfers import sheet_key


def _pdf_text(data: bytes) -> str:
    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def _first_candidate(api) -> str:
    r = api.get("/transfer-candidates?limit=1", as_="reviewer_a")
    assert r.status_code == 200 and r.json()["items"], r.text
    return r.json()["items"][0]["candidate_id"]


def _sheet(api, cid: str) -> bytes:
    r = api.get(f"/transfer-candidates/{cid}/sheet.pdf", as_="reviewer_a")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    return r.content


def _sheet_keys(state, cid: str) -> list[tuple]:
    return [k for k in state.sheets.keys() if k[1:3] == ("sheet", cid)]


def test_sheet_is_kept_and_made_again_after_an_api_decision(fresh_api):
    api = fresh_api
    state = api.app.state.parkplan
    cid = _first_candidate(api)
    first = _sheet(api, cid)
    assert _sheet_keys(state, cid) == [sheet_key(state, cid, 1)]
    assert _sheet(api, cid) == first  # the kept bytes (a new sheet would carry a new creation time)
    assert state.sheets.get(sheet_key(state, cid, 1)) == first
    assert "版本 1" in _pdf_text(first) and "尚无审核记录" in _pdf_text(first)

    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a",
                 json={"decision": "rejected", "comment": "缓存测试意见", "version": 1})
    assert r.status_code == 201, r.text
    # the old sheet is forgotten at once; the new version's is started in the background
    assert sheet_key(state, cid, 1) not in state.sheets
    assert sheet_key(state, cid, 2) in state.sheets
    after = _sheet(api, cid)
    assert after != first
    text = _pdf_text(after)
    assert "版本 2" in text and "缓存测试意见" in text and "尚无审核记录" not in text
    assert _sheet(api, cid) == after
    assert _sheet_keys(state, cid) == [sheet_key(state, cid, 2)]


def test_web_decision_forgets_the_sheet_and_the_decision_is_durable(fresh_api, dataset_path):
    from fastapi.testclient import TestClient

    from api.app import create_app

    api = fresh_api
    state = api.app.state.parkplan
    cid = _first_candidate(api)
    first = _sheet(api, cid)

    web = TestClient(api.app, base_url="http://127.0.0.1")
    page = web.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert web.post("/login", data={"csrf_token": csrf, "token": api.tokens["reviewer_a"]},
                    follow_redirects=False).status_code == 303
    form = web.get(f"/ui/review/{cid}")
    assert form.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    r = web.post(f"/ui/review/{cid}", data={"csrf_token": csrf, "version": "1", "seen_status": "pending",
                                            "decision": "needs_info", "comment": "请补充材料"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert sheet_key(state, cid, 1) not in state.sheets
    after = _sheet(api, cid)
    assert after != first and "请补充材料" in _pdf_text(after)

    # durable: another server process over the same database reads the decision from the database
    other = create_app(dataset_path, str(api.app.state.engine.url.render_as_string(hide_password=False)))
    try:
        from api import reviews

        with other.state.sessions() as db:
            [review] = reviews.candidate_reviews(db, cid)
        assert (review.decision, review.comment, review.version_after) == ("needs_info", "请补充材料", 2)
    finally:
        other.state.engine.dispose()


def test_sheet_of_another_office_is_404_even_when_kept(fresh_api):
    api = fresh_api
    cid = _first_candidate(api)
    _sheet(api, cid)  # kept now
    r = api.get(f"/transfer-candidates/{cid}/sheet.pdf", as_="reviewer_b")
    assert r.status_code == 404
