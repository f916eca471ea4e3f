"""One stored candidate's map (the candidate page's frame) is kept per what it draws of the candidate: built once,
equal to a fresh build, rebuilt after a decision that changes its status, and never a way round the office check."""

from __future__ import annotations

import re

import pytest

from tests.api.test_reviews import _foreign, _mine

NONCE = re.compile(r'nonce-[^;\'"]+|nonce="[^"]+"')
FOLIUM_ID = re.compile(r"([a-z]+)_[0-9a-f]{32}(?![0-9a-f])")  # folium names each element with a fresh uuid per build


def _page(api, cid, as_="reviewer_a"):
    r = api.get(f"/maps/transfers?candidate_id={cid}", as_=as_, headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200, r.text[:300]
    return NONCE.sub("NONCE", r.text)


def _same(a: str, b: str) -> bool:
    return FOLIUM_ID.sub(r"\1_ID", a) == FOLIUM_ID.sub(r"\1_ID", b)


def test_a_candidates_map_is_built_once_and_equals_a_fresh_build(fresh_api):
    api = fresh_api
    state = api.app.state.parkplan
    cid = _mine(api)[0]["candidate_id"]
    first = _page(api, cid)
    assert len(state.candidate_maps.keys()) == 1
    assert _page(api, cid) == first and len(state.candidate_maps.keys()) == 1
    state.candidate_maps.clear()
    fresh = _page(api, cid)
    assert fresh != first and _same(fresh, first)  # a fresh build: new element ids, the same page
    assert len(state.maps.keys()) == 0 or all("transfers" not in k for k in state.maps.keys())


def test_a_new_status_gives_a_new_map_entry_and_a_decision_keeping_it_does_not(fresh_api):
    """The map is kept per what it draws of the candidate: a decision that changes the status is a new entry (the
    map draws the status); one that keeps it (a new comment, a new version) serves the kept map, which is the same
    page a fresh build makes for the candidate as it now stands."""
    api = fresh_api
    state = api.app.state.parkplan
    cid = _mine(api)[0]["candidate_id"]
    pending = _page(api, cid)
    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a", json={"decision": "approved", "version": 1})
    assert r.status_code == 201
    approved = _page(api, cid)
    assert len(state.candidate_maps.keys()) == 2 and not _same(approved, pending)
    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a",
                 json={"decision": "approved", "version": 2, "comment": "再次确认"})
    assert r.status_code == 201
    assert _page(api, cid) == approved and len(state.candidate_maps.keys()) == 2  # kept: the same status
    state.candidate_maps.clear()
    assert _same(_page(api, cid), approved)  # what a fresh build of the candidate, version 3, draws


def test_the_map_is_a_function_of_its_inputs(fresh_api):
    """``candidate_map_inputs`` holds everything the map reads: built from the inputs alone, the map is the map of
    the whole candidate; a part outside them (version, history, comment) changes nothing drawn."""
    from maps.base import render_html
    from maps.transfers_map import candidate_map, candidate_map_inputs

    from api import reviews
    from api.auth import Principal

    api = fresh_api
    cid = _mine(api)[0]["candidate_id"]
    with api.app.state.sessions() as db:
        cand = reviews.candidate_public(reviews.get_candidate(db, Principal(0, "t", "admin"), cid), snapshot=True)
    ds = api.app.state.dataset
    inputs = candidate_map_inputs(cand)
    assert set(inputs) < set(cand)
    other = {**cand, "version": 99, "comment": "无关", "history": [{"decision": "rejected"}]}
    built = [NONCE.sub("NONCE", render_html(candidate_map(ds, c))) for c in (cand, inputs, other)]
    assert _same(built[0], built[1]) and _same(built[0], built[2])
    changed = {**cand, "status": "rejected"}
    assert not _same(built[0], NONCE.sub("NONCE", render_html(candidate_map(ds, changed))))


def test_a_kept_map_is_404_for_another_office(fresh_api):
    api = fresh_api
    theirs = _foreign(api)["candidate_id"]
    _page(api, theirs, as_="reviewer_b")  # kept now
    r = api.get(f"/maps/transfers?candidate_id={theirs}", as_="reviewer_a")
    assert r.status_code == 404


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_language_is_its_own_entry(fresh_api, lang):
    api = fresh_api
    state = api.app.state.parkplan
    cid = _mine(api)[0]["candidate_id"]
    r = api.get(f"/maps/transfers?candidate_id={cid}&lang={lang}", as_="reviewer_a")
    assert r.status_code == 200
    assert any(getattr(k[3], "lang", None) == lang for k in state.candidate_maps.keys())


def test_the_candidates_map_gzip_is_the_same_page_at_its_faster_level(api):
    """One candidate's map is compressed at zlib level 1 (made again after each decision); what the browser
    inflates (httpx's gzip decoder, which checks the stream's CRC and length) is byte for byte the page served
    uncompressed."""
    cid = _mine(api)[0]["candidate_id"]
    r = api.get(f"/maps/transfers?candidate_id={cid}", as_="reviewer_a", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers.get("content-encoding") == "gzip"
    html = r.content.decode("utf-8")  # httpx inflated it
    assert NONCE.sub("NONCE", html) == _page(api, cid)
