"""Pages whose content is made once and kept (``backend.render_content_cached``: the plan and parks pages) and the
suitability page's view kept per query answer the same bytes as the plain render of the same request, for each
user (the header, the user's name, the CSRF token and the language switch stay per request); a content block that
reads something per request is refused."""

from __future__ import annotations

import re

import pytest

from api.web import backend, pages_parks, pages_plan, pages_suitability
from api.web.core import render

from .conftest import login_client


def _plain(request, template, context, key, user, status_code=200):
    """The reference: the page as :func:`api.web.core.render` makes it, nothing kept."""
    return render(request, template, context, status_code=status_code, user=user)


@pytest.mark.parametrize("module,path", [
    (pages_plan, "/ui/plan"), (pages_plan, "/ui/plan?key=small_giant&lang=en"),
    (pages_parks, "/ui/parks"), (pages_parks, "/ui/parks?kind=specialty_park"), (pages_parks, "/ui/parks?lang=en"),
    (pages_parks, "/ui/parks?county=%3Cb%3E%22x"),
])
def test_kept_content_equals_the_plain_render_for_each_user(web, monkeypatch, module, path):
    admin, analyst = login_client(web.app, web.tokens["admin"]), login_client(web.app, web.tokens["analyst"])
    kept = [c.get(path) for c in (admin, analyst, admin)]  # made by the first, read by the others
    assert all(r.status_code == 200 for r in kept), [r.status_code for r in kept]
    monkeypatch.setattr(module.backend, "render_content_cached", _plain)
    plain = [c.get(path) for c in (admin, analyst)]
    assert kept[0].text == plain[0].text
    assert kept[1].text == plain[1].text
    assert kept[2].text == kept[0].text
    # the two users' pages differ (their CSRF tokens at least): what is per request was not kept
    csrf = re.compile(r'name="csrf_token" value="([^"]+)"')
    assert csrf.findall(kept[0].text) != csrf.findall(kept[1].text)


def test_suitability_view_kept_per_query_equals_the_plain_page(web, monkeypatch):
    ent = web.app.state.dataset.enterprises
    eid, q = str(ent["enterprise_id"].iloc[3]), str(ent["name"].iloc[3])[:2]
    path = f"/ui/suitability?q={q}&enterprise_id={eid}"
    a, b = login_client(web.app, web.tokens["analyst"]), login_client(web.app, web.tokens["admin"])
    kept = [a.get(path).text, b.get(path).text]
    assert 'id="result-enterprise"' in kept[0]
    monkeypatch.setattr(pages_suitability, "_view", lambda request, form: pages_suitability._run(
        request, {k: form[k] for k in form if k != "csrf_token"}))
    assert [a.get(path).text, b.get(path).text] == kept
    # the form's CSRF token is each user's own, not the one of the user whose visit made the view
    assert csrf_of_all(kept[0]) != csrf_of_all(kept[1])


def csrf_of_all(html: str) -> list[str]:
    return re.findall(r'name="csrf_token" value="([^"]+)"', html)


def test_a_content_block_that_reads_per_request_values_is_refused(web, monkeypatch):
    """Only the CSRF token is put in per request (suitability.html's form reads it and is kept); a content block that
    reads the user, the request or the language switch would be kept for every user: refused."""
    from types import SimpleNamespace

    request = SimpleNamespace(app=web.app)
    assert backend._content_names("suitability.html") & backend.PER_REQUEST == {"csrf_token"}
    assert backend._content_names("home.html") & backend.PER_REQUEST == {"user"}
    with pytest.raises(ValueError, match=r"home.html.*\['user'\].*cannot be cached"):
        backend.render_content_cached(request, "home.html", {}, ("x",), None)
    for names in ({"request"}, {"lang_switch", "csrf_token"}):
        monkeypatch.setattr(backend, "_content_names", lambda template, names=names: frozenset(names))
        with pytest.raises(ValueError, match="cannot be cached"):
            backend.render_content_cached(request, "plan.html", {}, ("x",), None)
