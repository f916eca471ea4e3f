"""The review list's rows are kept per worker process under a mark of the office's candidates
(:func:`api.web.pages_review.status_counts_mark`: per status the count and the sum of the versions), read on every
visit. Two apps over one review database stand for two worker processes (``parkplan serve --workers 2``): a
decision made through the other one shows in this one's next list, and a kept list is the one a fresh visit
(every cache emptied) makes."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import csrf_of, login_client


@pytest.fixture(scope="module")
def other_worker(web, hostile_dataset_path):
    from api.app import create_app

    app = create_app(hostile_dataset_path, web.app.state.engine.url.render_as_string(hide_password=False))
    yield app
    app.state.engine.dispose()


def _row(html: str, cid: str) -> str:
    m = re.search(rf'<tr data-candidate="{re.escape(cid)}".*?</tr>', html, re.S)
    assert m, f"{cid} not listed"
    return m.group(0)


def _decide(client, cid: str, decision: str) -> None:
    page = client.get(f"/ui/review/{cid}").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    seen = re.search(r'name="seen_status" value="(\w+)"', page).group(1)
    r = client.post(f"/ui/review/{cid}", data={"csrf_token": csrf_of(page), "decision": decision, "version": version,
                                               "seen_status": seen, "confirm_replace": "yes", "comment": "另一进程"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def test_a_decision_through_the_other_worker_shows_in_the_next_list(web, other_worker):
    here = login_client(web.app, web.tokens["reviewer_b"])
    there = login_client(other_worker, web.tokens["reviewer_b"])
    cid = web.candidates["b"][0]
    before = here.get("/ui/review").text
    assert here.get("/ui/review").text == before  # nothing changed: the kept list
    version = int(re.search(r'data-v="(\d+)">\d+</td>\s*</tr>', _row(before, cid)).group(1))
    for decision in ("rejected", "rejected"):  # the second changes no count by status, only the version
        _decide(there, cid, decision)
        version += 1
        after = here.get("/ui/review").text
        assert f'data-status="{decision}"' in _row(after, cid), _row(after, cid)
        assert f'data-v="{version}">{version}</td>' in _row(after, cid), _row(after, cid)
        before = after
    # the kept list is what a visit with every cache emptied makes
    state = web.app.state.parkplan
    state.pages.clear()
    state.review_rows.clear()
    assert here.get("/ui/review").text == after
    # filtered views are kept apart
    pending = here.get("/ui/review?status=pending").text
    assert f'data-candidate="{cid}"' not in pending


def test_the_kept_list_is_per_office(web):
    a = login_client(web.app, web.tokens["reviewer_a"])
    b = login_client(web.app, web.tokens["reviewer_b"])
    la, lb = a.get("/ui/review").text, b.get("/ui/review").text
    for office, html in ((web.offices["a"], la), (web.offices["b"], lb)):
        listed = re.findall(r'<tr data-candidate="([^"]+)"', html)
        assert listed and all(office in web.rows[c] for c in listed), (office, listed)
    assert la != lb


def test_warmed_rows_are_the_rows_a_visit_renders(web):
    """The start-up warm-up (:func:`api.web.pages_review.warm`) keeps every candidate's row as a visit renders it:
    after it, a visit of the list renders no row, and its page is the one a visit without the warm-up makes."""
    from api.web import pages_review

    client = login_client(web.app, web.tokens["reviewer_a"])
    state = web.app.state.parkplan
    state.pages.clear()
    state.review_rows.clear()
    fresh = client.get("/ui/review").text  # every row rendered by the visit
    state.pages.clear()
    state.review_rows.clear()
    n = pages_review.warm(state)
    assert n == len(web.rows) == len(state.review_rows)
    kept = set(state.review_rows.keys())
    assert client.get("/ui/review").text == fresh
    assert set(state.review_rows.keys()) == kept  # no row rendered by the visit
    with pytest.raises(ValueError, match="default language"):
        pages_review.warm(state, "en")
