"""The metrics page's and the suitability page's content blocks are rendered once and kept (per dataset version,
language and sector / form); each visit answers the same bytes as the plain render of the same request, for each
user. The suitability content is kept with a mark where the CSRF token goes: every user gets its own token, and the
mark never reaches a page."""

from __future__ import annotations

import re

import pytest

from api.web import backend, pages_metrics, pages_suitability
from api.web.core import render

from .conftest import login_client

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _plain_content(request, template, context, key, user, status_code=200):
    """The reference of backend.render_content_cached: the page as :func:`api.web.core.render` makes it."""
    return render(request, template, context, status_code=status_code, user=user)


def _plain_suitability(request, context, form, user):
    """The reference of pages_suitability._render: the page as :func:`api.web.core.render` makes it."""
    return render(request, "suitability.html", context, user=user)


@pytest.mark.parametrize("query", ["", "?sector=machinery", "?sector=textiles&lang=en", "?sector=%3Cb%3E%22x"])
def test_metrics_kept_content_equals_the_plain_render_for_each_user(web, monkeypatch, query):
    admin, analyst = login_client(web.app, web.tokens["admin"]), login_client(web.app, web.tokens["analyst"])
    kept = [c.get("/ui/metrics" + query) for c in (admin, analyst, admin)]
    assert all(r.status_code == 200 for r in kept), [r.status_code for r in kept]
    monkeypatch.setattr(pages_metrics.backend, "render_content_cached", _plain_content)
    plain = [c.get("/ui/metrics" + query) for c in (admin, analyst)]
    assert kept[0].text == plain[0].text
    assert kept[1].text == plain[1].text
    assert kept[2].text == kept[0].text
    assert CSRF.findall(kept[0].text) != CSRF.findall(kept[1].text)  # the header's logout form: per user


def test_metrics_kept_content_follows_the_sector(web):
    a = login_client(web.app, web.tokens["analyst"])
    sectors = pages_metrics.sectors_present(web.app.state.parkplan)
    assert len(sectors) >= 2
    pages = [a.get(f"/ui/metrics?sector={s}").text for s in sectors[:2]]
    assert pages[0] != pages[1]
    for s, page in zip(sectors[:2], pages):
        assert re.search(rf'<tr class="sel"><td data-v="{s}">', page), s


def _suitability_paths(web) -> list[str]:
    ent = web.app.state.dataset.enterprises
    eid, q = str(ent["enterprise_id"].iloc[3]), str(ent["name"].iloc[3])[:2]
    eid2 = str(ent["enterprise_id"].iloc[11])
    return [f"/ui/suitability?q={q}&enterprise_id={eid}",
            f"/ui/suitability?enterprise_id={eid2}&w_land=80&max_distance_km=150",
            f"/ui/suitability?enterprise_id={eid}&lang=en",
            "/ui/suitability?q=%3Cscript%3E%22x",
            "/ui/suitability?mode=ahp&enterprise_id=" + eid + "&ahp_0_1=9&ahp_1_2=1/9",
            "/ui/suitability"]


def test_suitability_kept_content_equals_the_plain_render_for_each_user(web, monkeypatch):
    a, b = login_client(web.app, web.tokens["analyst"]), login_client(web.app, web.tokens["admin"])
    paths = _suitability_paths(web)
    kept = {p: [a.get(p), b.get(p), a.get(p)] for p in paths}  # made by the first visit, read by the others
    assert all(r.status_code == 200 for rs in kept.values() for r in rs)
    assert 'id="result-enterprise"' in kept[paths[0]][0].text
    monkeypatch.setattr(pages_suitability, "_render", _plain_suitability)
    for p in paths:
        plain = [a.get(p).text, b.get(p).text]
        assert kept[p][0].text == plain[0], p
        assert kept[p][1].text == plain[1], p
        assert kept[p][2].text == kept[p][0].text, p
        assert backend.CSRF_MARK not in kept[p][0].text
        # the search form's token and the header's are each user's own, not those of the visit that made the content
        tokens_a, tokens_b = CSRF.findall(kept[p][0].text), CSRF.findall(kept[p][1].text)
        assert len(tokens_a) >= 2 and len(set(tokens_a)) == 1 and len(set(tokens_b)) == 1
        assert tokens_a[0] != tokens_b[0]


def test_suitability_posted_form_answers_the_kept_content_with_the_posters_token(web, monkeypatch):
    a = login_client(web.app, web.tokens["analyst"])
    ent = web.app.state.dataset.enterprises
    eid = str(ent["enterprise_id"].iloc[5])
    token = CSRF.findall(a.get("/ui/suitability").text)[0]
    form = {"csrf_token": token, "enterprise_id": eid, "mode": "sliders", "w_land": "55"}
    kept = [a.post("/ui/suitability", data=form).text for _ in range(2)]
    monkeypatch.setattr(pages_suitability, "_render", _plain_suitability)
    plain = a.post("/ui/suitability", data=form).text
    assert kept[0] == kept[1] == plain
    assert set(CSRF.findall(plain)) == {token}


def test_suitability_content_follows_the_form(web):
    a = login_client(web.app, web.tokens["analyst"])
    eid = str(web.app.state.dataset.enterprises["enterprise_id"].iloc[7])
    one = a.get(f"/ui/suitability?enterprise_id={eid}&w_land=10").text
    two = a.get(f"/ui/suitability?enterprise_id={eid}&w_land=90").text
    assert one != two  # another weight: another content, not the kept one
    state = web.app.state.parkplan
    contents = state.web.get_or_compute(state.key("suitability_contents"), lambda: None)
    assert contents is not None and len(contents) >= 2


def test_suitability_refuses_to_keep_a_content_that_reads_the_user(web, monkeypatch):
    """Only the CSRF token is put in per request: were the content block to read the user (or anything else that
    differs per request), keeping it would show one user's page to another, so the page refuses to keep it."""
    from fastapi.testclient import TestClient

    from api.web import backend

    reads = backend._content_names("suitability.html")
    assert reads & backend.PER_REQUEST == {"csrf_token"}  # as the template stands
    client = login_client(web.app, web.tokens["analyst"])
    assert client.get("/ui/suitability").status_code == 200
    monkeypatch.setattr(backend, "_content_names", lambda template: reads | {"user"})
    quiet = TestClient(web.app, base_url="http://127.0.0.1", raise_server_exceptions=False, cookies=client.cookies)
    assert quiet.get("/ui/suitability").status_code == 500
