"""The web workspace through FastAPI's TestClient: access rules, CSRF, cookies, escaping, the review
conflict, and the suitability page against ``POST /suitability``."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from .conftest import HOSTILE, csrf_of, login_client

ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
PAGES = ("/", "/ui/parks", "/ui/suitability", "/ui/review", "/ui/metrics")


@pytest.fixture(scope="module")
def clients(web):
    return {name: login_client(web.app, token) for name, token in web.tokens.items()}


def _rows(html: str, attr: str) -> list[str]:
    return re.findall(rf'{attr}="([^"]+)"', html)


# ------------------------------------------------------------------ login, sessions, cookies


def test_pages_need_a_login(web):
    anon = TestClient(web.app)
    for path in PAGES[1:] + ("/ui/parks/SP001", "/ui/review/TC0001"):
        r = anon.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    html = anon.get("/", headers={"accept": "text/html"}, follow_redirects=False)
    assert html.status_code == 303
    js = anon.get("/", headers={"accept": "application/json"})
    assert js.status_code == 200 and js.json()["title"] == "parkplan"  # the OGC landing stays JSON for clients


def test_login_sets_a_strict_httponly_session_cookie(web):
    client = TestClient(web.app)
    page = client.get("/login")
    assert page.status_code == 200 and 'name="token"' in page.text
    r = client.post("/login", data={"csrf_token": csrf_of(page.text), "token": web.tokens["viewer"]},
                    follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "parkplan_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Secure" not in cookie and "Max-Age=" in cookie  # plain http on loopback; the session expires
    assert client.get("/", headers={"accept": "text/html"}).status_code == 200


def test_cookie_is_secure_under_tls(web):
    client = TestClient(web.app, base_url="https://127.0.0.1")
    page = client.get("/login")
    r = client.post("/login", data={"csrf_token": csrf_of(page.text), "token": web.tokens["viewer"]},
                    follow_redirects=False)
    assert "Secure" in r.headers["set-cookie"]


def test_login_refuses_a_missing_or_forged_csrf_token_and_a_bad_token(web):
    client = TestClient(web.app)
    client.get("/login")
    r = client.post("/login", data={"token": web.tokens["viewer"]}, follow_redirects=False)
    assert r.status_code == 400 and "set-cookie" not in {k.lower() for k in r.headers if "parkplan_session" in r.headers[k]}
    r = client.post("/login", data={"csrf_token": "0" * 64, "token": web.tokens["viewer"]}, follow_redirects=False)
    assert r.status_code == 400
    page = client.get("/login")
    r = client.post("/login", data={"csrf_token": csrf_of(page.text), "token": "ppt_000000000000_" + "x" * 40},
                    follow_redirects=False)
    assert r.status_code == 401 and "login-error" in r.text
    assert "parkplan_session" not in client.cookies


def test_login_next_never_leaves_the_site(web):
    client = TestClient(web.app)
    page = client.get("/login")
    for target, expected in (("/ui/parks", "/ui/parks"), ("//evil.example/x", "/"), ("https://evil.example", "/")):
        r = client.post("/login", data={"csrf_token": csrf_of(page.text), "token": web.tokens["viewer"], "next": target},
                        follow_redirects=False)
        assert r.headers["location"] == expected


def test_logout_ends_the_session_server_side(web):
    client = login_client(web.app, web.tokens["viewer"])
    cookie = client.cookies.get("parkplan_session")
    home = client.get("/", headers={"accept": "text/html"})
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 400  # no CSRF token: refused
    r = client.post("/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    replay = TestClient(web.app, cookies={"parkplan_session": cookie})
    assert replay.get("/ui/parks", follow_redirects=False).status_code == 303  # the old cookie is dead


def test_an_expired_session_sends_back_to_login(web):
    """A session whose expiry passes sends back to the login page at once, also while its lookup is cached (the
    cache keeps the session's expiry and checks it at each use; ``api.deps``)."""
    import time

    from api import auth

    with web.app.state.sessions() as db:
        short = auth.login(db, web.tokens["viewer"], key=web.app.state.session_key, ttl=dt.timedelta(seconds=2))
        db.commit()
    client = TestClient(web.app, base_url="http://127.0.0.1")
    client.cookies.set(auth.SESSION_COOKIE, short.cookie_value)
    assert client.get("/ui/parks", follow_redirects=False).status_code == 200
    time.sleep(max(0.0, (short.expires_at - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 0.1)
    r = client.get("/ui/parks", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


# ------------------------------------------------------------------ roles and office scope


@pytest.mark.parametrize("role, path, status", [
    ("viewer", "/ui/parks", 200), ("viewer", "/ui/suitability", 403), ("viewer", "/ui/review", 403),
    ("viewer", "/ui/metrics", 403), ("analyst", "/ui/suitability", 200), ("analyst", "/ui/review", 403),
    ("reviewer_a", "/ui/review", 200), ("admin", "/ui/review", 200),
])
def test_roles(clients, role, path, status):
    r = clients[role].get(path, follow_redirects=False)
    assert r.status_code == status
    if status == 403:
        assert 'id="message"' in r.text and "csrf_token" in r.text  # a plain page (with the logout form)


def test_each_office_sees_only_its_candidates(web, clients):
    for office, other in (("a", "b"), ("b", "a")):
        client = clients[f"reviewer_{office}"]
        listed = set(_rows(client.get("/ui/review").text, "data-candidate"))
        assert listed == set(web.candidates[office])
        for cid in web.candidates[other]:
            assert client.get(f"/ui/review/{cid}").status_code == 404  # as if it did not exist
    assert set(_rows(clients["admin"].get("/ui/review").text, "data-candidate")) == set(web.candidates["a"] + web.candidates["b"])


def test_review_list_counts_and_filters(web, clients):
    html = clients["reviewer_b"].get("/ui/review").text
    counts = dict(re.findall(r'data-status="(\w+)">[^<]*<b>(\d+)</b>', html))
    assert sum(int(v) for v in counts.values()) == len(web.candidates["b"])
    pending = clients["reviewer_b"].get("/ui/review?status=pending").text
    statuses = set(_rows(pending, "data-status")) - set(counts)  # row statuses only
    assert statuses <= {"pending"}


# ------------------------------------------------------------------ reviews: CSRF, versions, conflict


def test_a_decision_needs_csrf_and_a_stale_one_is_refused_and_shown(web, clients):
    from api import reviews

    cid = web.candidates["b"][0]
    client = clients["reviewer_b"]
    page = client.get(f"/ui/review/{cid}").text
    version = int(re.search(r'name="version" value="(\d+)"', page).group(1))
    r = client.post(f"/ui/review/{cid}", data={"decision": "approved", "version": version, "comment": "x"},
                    follow_redirects=False)
    assert r.status_code == 400  # no CSRF token
    ok = client.post(f"/ui/review/{cid}", data={"csrf_token": csrf_of(page), "decision": "approved",
                                                "version": version, "comment": "同意迁入"}, follow_redirects=False)
    assert ok.status_code == 303
    # a second reviewer of the same office still holds the old page: its decision must not be stored
    stale = login_client(web.app, web.tokens["reviewer_b"])
    r = stale.post(f"/ui/review/{cid}", data={"csrf_token": csrf_of(stale.get("/ui/review").text),
                                              "decision": "rejected", "version": version, "comment": "驳回"})
    assert r.status_code == 200 and 'id="conflict"' in r.text and "同意迁入" in r.text
    with web.app.state.sessions() as db:
        history = reviews.candidate_reviews(db, cid)
    assert [h.decision for h in history] == ["approved"]
    shown = client.get(f"/ui/review/{cid}").text
    assert 'id="history"' in shown and "同意迁入" in shown


def test_a_reviewer_cannot_decide_another_offices_candidate(web, clients):
    from api import reviews

    cid = web.candidates["a"][1]
    client = clients["reviewer_b"]
    token = csrf_of(client.get("/ui/review").text)
    r = client.post(f"/ui/review/{cid}", data={"csrf_token": token, "decision": "rejected", "version": 1})
    assert r.status_code == 404
    with web.app.state.sessions() as db:
        assert reviews.candidate_reviews(db, cid) == []


def test_candidate_page_shows_frozen_breakdown_second_best_and_exports(web, clients):
    cid = web.candidates["a"][0]
    html = clients["reviewer_a"].get(f"/ui/review/{cid}").text
    assert 'id="breakdown"' in html and html.count("<tr>") >= 9
    from api import reviews
    from api.auth import Principal

    with web.app.state.sessions() as db:
        second = reviews.get_candidate(db, Principal(0, "t", "admin"), cid).snapshot["alternative"]["park_id"]
    assert re.search(rf'id="second-best"><a href="/ui/parks/{second}"', html)
    sheet = re.search(r'id="review-sheet"', html) and re.search(r'href="([^"]+sheet\.pdf)"', html).group(1)
    pdf = clients["reviewer_a"].get(sheet)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xlsx = re.search(r'href="([^"]+decisions\.xlsx)"', clients["reviewer_a"].get("/ui/review").text).group(1)
    book = clients["reviewer_a"].get(xlsx)
    assert book.status_code == 200 and book.content[:2] == b"PK"


def test_candidate_page_maps_this_candidate_for_its_offices_only(web, clients):
    """The candidate page's map is this candidate's (site, proposed and second-best park); the map URL
    answers the candidate's origin and destination offices and 404 to another office."""
    import html as html_lib

    cid = web.candidates["a"][0]
    page = clients["reviewer_a"].get(f"/ui/review/{cid}").text
    src = html_lib.unescape(re.search(r'id="candidate-map"', page) and re.search(r'<iframe[^>]+src="([^"]+)"', page).group(1))
    assert src == f"/maps/transfers?candidate_id={cid}"
    for who in ("reviewer_a", "reviewer_dest", "admin"):
        r = clients[who].get(src + "&lang=en")
        assert r.status_code == 200, who
        assert "Proposed park" in r.text and "Second-best park" in r.text and cid in r.text
    for who in ("reviewer_b", "viewer"):
        assert clients[who].get(src).status_code == 404, who


# ------------------------------------------------------------------ escaping and headers


def test_hostile_names_are_escaped_everywhere(web, clients):
    pages = [clients["analyst"].get("/ui/parks").text, clients["analyst"].get("/ui/parks/" + _first_park(web)).text,
             clients["analyst"].get("/ui/suitability", params={"q": "有限公司"}).text]
    if web.hostile_candidate:
        pages += [clients["reviewer_a"].get("/ui/review").text,
                  clients["reviewer_a"].get(f"/ui/review/{web.hostile_candidate}").text]
    for html in pages:
        assert HOSTILE not in html
    assert ESCAPED in pages[0] and ESCAPED in pages[1] and ESCAPED in pages[2]
    if web.hostile_candidate:
        assert ESCAPED in pages[3] and ESCAPED in pages[4]


def _first_park(web) -> str:
    return str(web.app.state.dataset.parks["park_id"].iloc[0])


class _Tags(HTMLParser):
    """Every start tag with its attributes, as the browser's parser sees them."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_pages_run_no_inline_script_and_send_a_csp(clients):
    for path in PAGES + ("/login",):
        r = clients["admin"].get(path, headers={"accept": "text/html"})
        assert r.status_code == 200, path
        assert "script-src 'self'" in r.headers["content-security-policy"]
        tags = _Tags(r.text).tags
        assert [a.get("src") for t, a in tags if t == "script"] == ["/ui/static/app.js"], path
        assert not [(t, k) for t, a in tags for k in a if k.startswith("on")], path  # no event-handler attributes
        assert not [t for t, a in tags if t == "img" and a.get("src") == "x"], path  # the hostile tag is text only
        forms = re.findall(r"<form\b.*?</form>", r.text, flags=re.S)
        assert forms, path
        for form in forms:
            if 'method="post"' in form:  # every form that changes something carries the token
                assert 'name="csrf_token"' in form, (path, form[:80])
            else:  # navigation (filters) never puts the session's CSRF secret into a URL
                assert 'name="csrf_token"' not in form, (path, form[:80])


def test_static_files_are_a_fixed_list(clients):
    assert clients["viewer"].get("/favicon.ico").headers["content-type"] == "image/svg+xml"
    assert clients["viewer"].get("/ui/static/app.js").status_code == 200
    assert clients["viewer"].get("/ui/static/..%2F__init__.py").status_code == 404
    assert clients["viewer"].get("/ui/static/core.py").status_code == 404


# ------------------------------------------------------------------ home, parks, language


def test_home_summary_matches_the_dataset(web, clients):
    ds = web.app.state.dataset
    html = clients["viewer"].get("/", headers={"accept": "text/html"}).text
    number = lambda i: int(re.search(rf'id="{i}">([\d,]+)<', html).group(1).replace(",", ""))  # noqa: E731
    assert number("n-parks") == len(ds.parks) and number("n-enterprises") == len(ds.enterprises)
    assert number("n-projects") == len(ds.projects) and number("n-counties") == len(ds.counties)
    assert number("n-less-developed") == int(ds.counties["less_developed"].astype(bool).sum())
    assert 'href="/maps/parks"' in html and 'href="/ui/parks"' in html
    assert 'href="/ui/suitability"' not in html and 'href="/ui/review"' not in html  # links a viewer may not follow
    full = clients["admin"].get("/", headers={"accept": "text/html"}).text
    for link in ("/maps/parks", "/maps/enterprises", "/maps/clusters", "/maps/transfers", "/ui/parks", "/ui/suitability",
                 "/ui/review", "/ui/metrics"):
        assert f'href="{link}"' in full
    assert "数据集概况" in html
    en = clients["viewer"].get("/?lang=en", headers={"accept": "text/html"}).text
    assert "Dataset summary" in en and 'href="/ui/parks?lang=en"' in en


def test_parks_table_lists_every_park_and_filters(web, clients):
    ds = web.app.state.dataset
    html = clients["viewer"].get("/ui/parks").text
    assert len(re.findall(r"<tr data-park=\"[^\"]+\" data-kind=", html)) == len(ds.parks)
    assert 'src="/maps/parks"' in html
    only = clients["viewer"].get("/ui/parks", params={"kind": "specialty_park", "sector": "textiles"}).text
    expected = ds.parks[(ds.parks["kind"] == "specialty_park") & ds.parks["leading_sectors"].str.split(",").map(lambda s: "textiles" in s)]
    assert len(re.findall(r"<tr data-park=\"[^\"]+\" data-kind=", only)) == len(expected)
    assert 'id="lang-switch" href="/ui/parks?kind=specialty_park&amp;sector=textiles&amp;lang=en"' in only


def test_park_page_profile_matches_its_enterprises(web, clients):
    ds = web.app.state.dataset
    pid = ds.enterprises["park_id"].dropna().value_counts().index[0]
    html = clients["viewer"].get(f"/ui/parks/{pid}").text
    n = int(re.search(r'id="park-enterprises">([\d,]+)<', html).group(1).replace(",", ""))
    assert n == int((ds.enterprises["park_id"] == pid).sum())
    assert 'id="land-intensity"' in html and 'id="per-mu"' in html and 'id="by-sector"' in html
    assert clients["viewer"].get("/ui/parks/NOPE").status_code == 404


# ------------------------------------------------------------------ suitability


def _ranked(html: str) -> list[str]:
    return re.findall(r'<tr data-park="([^"]+)">', html)


def test_suitability_page_matches_the_api(web, clients):
    client = clients["analyst"]
    eid = str(web.app.state.dataset.enterprises["enterprise_id"].iloc[7])
    page = client.get("/ui/suitability").text
    weights = {"sector_fit": 5, "supply_chain": 10, "distance": 60, "transport": 10, "land_price": 5, "land_margin": 0,
               "labour": 5, "policy": 5, "ecology": 0}
    form = {"csrf_token": csrf_of(page), "enterprise_id": eid, "mode": "sliders", **{f"w_{k}": v for k, v in weights.items()}}
    html = client.post("/ui/suitability", data=form).text
    api = client.post("/suitability", json={"enterprise_id": eid, "weights": weights, "top": 20},
                      headers={"Authorization": f"Bearer {web.tokens['analyst']}"}).json()
    assert _ranked(html) == [r["park_id"] for r in api["ranked"]]
    assert len(_ranked(html)) > 0 and 'id="sensitivity"' in html and 'id="excluded"' in html
    # the map beside the table ranks with the same weights
    import html as html_lib

    src = html_lib.unescape(re.search(r'<iframe[^>]+src="([^"]+)"[^>]*id="suit-map"', html).group(1))
    assert "weights=sector_fit%3A5.0%2Csupply_chain%3A10.0%2Cdistance%3A60.0" in src
    suit_map = client.get(src).text
    assert len(re.findall(r'"_tip": ?"#(\d+) [^"]*"', suit_map)) == api["ranked_total"]
    park_order = re.findall(r'"_id": ?"([^"]+)"[^}]*?"_label": ?"(\d+)"|"_label": ?"(\d+)"[^}]*?"_id": ?"([^"]+)"',
                            suit_map)
    labelled = sorted((int(a[1] or a[2]), a[0] or a[3]) for a in park_order)
    assert [p for _, p in labelled] == _ranked(html)[:10]
    default = client.post("/ui/suitability", data={"csrf_token": csrf_of(page), "enterprise_id": eid}).text
    assert _ranked(default) != _ranked(html) or len(_ranked(html)) <= 1


def test_suitability_search_by_name_and_id(web, clients):
    ent = web.app.state.dataset.enterprises
    eid, name = str(ent["enterprise_id"].iloc[100]), str(ent["name"].iloc[100])
    by_id = clients["analyst"].get("/ui/suitability", params={"q": eid}).text
    assert f'name="enterprise_id" value="{eid}" class="pick"' in by_id
    by_name = clients["analyst"].get("/ui/suitability", params={"q": name[2:6]}).text
    assert 'id="matches"' in by_name


def _ahp_form(csrf, eid, judgements):
    from parks.suitability import CRITERIA

    form = {"csrf_token": csrf, "enterprise_id": eid, "mode": "ahp"}
    for (i, j) in itertools.combinations(range(len(CRITERIA)), 2):
        form[f"ahp_{i}_{j}"] = judgements.get((i, j), "1")
    return form


def test_ahp_refuses_inconsistent_judgements_and_uses_consistent_ones(web, clients):
    from parks.suitability import CRITERIA, ahp

    client = clients["analyst"]
    eid = str(web.app.state.dataset.enterprises["enterprise_id"].iloc[7])
    csrf = csrf_of(client.get("/ui/suitability").text)
    # consistent: distance (2) three times as important as every other criterion
    good = {(i, 2): "1/3" for i in range(2)} | {(2, j): "3" for j in range(3, len(CRITERIA))}
    html = client.post("/ui/suitability", data=_ahp_form(csrf, eid, good)).text
    assert 'id="ahp-cr" class="ok"' in html and _ranked(html)
    # inconsistent: a > b, b > c, c > a, all strongly
    bad = {(0, 1): "9", (1, 2): "9", (0, 2): "1/9"}
    html = client.post("/ui/suitability", data=_ahp_form(csrf, eid, bad)).text
    cr = float(re.search(r'id="cr-value">([\d.]+)<', html).group(1))
    import numpy as np

    a = np.ones((9, 9))
    a[0, 1], a[1, 0], a[1, 2], a[2, 1], a[0, 2], a[2, 0] = 9, 1 / 9, 9, 1 / 9, 1 / 9, 9
    assert cr == pytest.approx(ahp(a, CRITERIA).cr, abs=5e-4) and cr >= 0.1
    assert 'id="ahp-cr" class="alert"' in html and not _ranked(html)


def test_suitability_with_a_profile(web, clients):
    client = clients["analyst"]
    csrf = csrf_of(client.get("/ui/suitability").text)
    html = client.post("/ui/suitability", data={"csrf_token": csrf, "p_sector": "textiles", "p_land_ha": "2",
                                                "p_employees": "80", "p_pollution_class": "light", "p_lon": "120.6",
                                                "p_lat": "29.9", "p_name": HOSTILE}).text
    assert _ranked(html) and HOSTILE not in html and ESCAPED in html
    # the map shows the typed-in profile: the same parks ranked, the name as text
    import html as html_lib

    src = html_lib.unescape(re.search(r'<iframe[^>]+id="suit-map"', html) and re.search(r'<iframe[^>]+src="([^"]+)"[^>]*id="suit-map"', html).group(1))
    assert src.startswith("/maps/suitability?sector=textiles&land_ha=2.0&employees=80&pollution_class=light&lon=120.6&lat=29.9")
    r = client.get(src)
    assert r.status_code == 200 and HOSTILE not in r.text
    assert re.findall(r'"_label": ?"(\d+)"', r.text) == [str(i) for i in range(1, min(len(_ranked(html)), 10) + 1)]


def test_metrics_page(clients):
    html = clients["analyst"].get("/ui/metrics?sector=textiles").text
    assert 'id="sector-indices"' in html and html.count('src="data:image/svg+xml;base64,') >= 4
    assert 'id="capture-table"' in html


def test_review_list_pages_through_every_candidate(web, clients, monkeypatch):
    from api.web import pages_review

    monkeypatch.setattr(pages_review, "PAGE_SIZE", 3)
    seen, url = [], "/ui/review"
    while url:
        html = clients["admin"].get(url.replace("&amp;", "&")).text
        seen += _rows(html, "data-candidate")
        m = re.search(r'href="([^"]+)" id="next-page"', html)
        url = m.group(1) if m else None
    assert sorted(seen) == sorted(web.candidates["a"] + web.candidates["b"]) and len(seen) == len(set(seen))


@pytest.mark.parametrize("role", ["viewer", "analyst", "reviewer_a", "admin"])
def test_nav_links_lead_only_to_pages_the_role_may_open(clients, role):
    """Every link of the navigation bar opens (200) for the role that sees it, and every workspace page the role
    may open is in the bar (an analyst reaches the plans and the plan monitoring from any page, not only home)."""
    client = clients[role]
    html = client.get("/ui/parks").text
    nav = re.search(r"<nav>(.*?)</nav>", html, re.S).group(1)
    linked = {re.sub(r"\?.*", "", h) for h in re.findall(r'href="([^"]+)"', nav)}
    for path in linked:
        assert client.get(path, follow_redirects=False).status_code == 200, path
    pages = ["/ui/parks", "/ui/suitability", "/ui/review", "/ui/metrics", "/ui/scenarios", "/ui/plan"]
    opens = {p for p in pages if client.get(p, follow_redirects=False).status_code == 200}
    assert opens <= linked
