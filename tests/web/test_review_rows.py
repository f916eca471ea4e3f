"""The review list's rows are rendered once per candidate version and language and kept
(:func:`api.web.pages_review._row_html`): a decision shows at once (new version, new row), the kept rows are the
ones a fresh render makes, and the plain-row listing equals the ORM one (:func:`api.reviews.list_candidate_dicts`
against :func:`api.reviews.list_candidates`)."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import csrf_of, login_client


@pytest.fixture(scope="module")
def clients(web):
    return {name: login_client(web.app, web.tokens[name]) for name in ("reviewer_a",)}


def _row(html: str, cid: str) -> str:
    m = re.search(rf'<tr data-candidate="{re.escape(cid)}".*?</tr>', html, re.S)
    assert m, f"{cid} not listed"
    return m.group(0)


def test_a_decision_changes_its_row_only_and_kept_rows_equal_fresh_ones(web, clients):
    client = clients["reviewer_a"]
    state = web.app.state.parkplan
    cid, other = web.candidates["a"][-1], web.candidates["a"][-2]
    before = client.get("/ui/review").text
    assert _row(before, cid).count("data-status=") == 1
    version = int(re.search(r'data-v="(\d+)">\d+</td>\s*</tr>', _row(before, cid)).group(1))

    page = client.get(f"/ui/review/{cid}").text
    r = client.post(f"/ui/review/{cid}", data={"csrf_token": csrf_of(page), "decision": "needs_info",
                                               "version": version, "seen_status": re.search(
                                                   r'data-status="(\w+)"', _row(before, cid)).group(1),
                                               "confirm_replace": "yes", "comment": "行缓存"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    after = client.get("/ui/review").text
    assert 'data-status="needs_info"' in _row(after, cid) and f'data-v="{version + 1}"' in _row(after, cid)
    assert _row(after, other) == _row(before, other)

    # the kept rows are what rendering them anew gives (the cache emptied: every row rendered again)
    state.review_rows.clear()
    assert client.get("/ui/review").text == after
    en = client.get("/ui/review?lang=en").text  # another language: its own rows
    assert 'data-status="needs_info"' in _row(en, cid)
    assert _row(en, other) != _row(after, other)


def test_plain_rows_list_as_the_orm_objects(web):
    from api import reviews
    from api.auth import Principal

    admin = Principal(token_id=0, label="t", role="admin")
    with web.app.state.sessions() as db:
        for filters, county, limit, offset in (({}, None, 1000, 0), ({"status": "pending"}, None, 7, 3),
                                               ({}, web.offices["a"], 5, 0), ({"park_id": "nope"}, None, 10, 0)):
            objs, n1 = reviews.list_candidates(db, admin, filters=filters, limit=limit, offset=offset, county=county,
                                               with_snapshot=False)
            rows, n2 = reviews.list_candidate_dicts(db, admin, filters=filters, limit=limit, offset=offset,
                                                    county=county)
            assert n1 == n2 and rows == [reviews.candidate_public(c) for c in objs]
