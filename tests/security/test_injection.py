"""Data never becomes code (issue 11, part 1): names drawn from a hostile alphabet (template syntax
``{{ }}``, ``{% %}``, ``{# #}``, ``${...}``, ``</script>``, ``<!--``, quotes, backslashes, U+2028/U+2029,
CJK) shown EXACTLY as stored by every map (in the builder's HTML, the file ``parkplan map -o`` writes
and what ``GET /maps/...`` serves), the web pages, the charts, the PDF review sheet and the exports;
nothing in them is ever evaluated (``X{{ 7*191 }}`` never becomes ``X1337``; a payload that walks
``cycler.__init__.__globals__`` to ``os`` leaves no file behind), and a map's executable script is the
same whatever the names are (data live in JSON blocks only). A few examples run in headless chromium:
what the page shows (title, popup, the strings its scripts read) and no CSP violation.
"""

from __future__ import annotations

import html as htmlmod
import io
import json
import os
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

PWNED = Path(f"/tmp/parkplan_injection_pwned_{os.getpid()}")
EVAL_PAYLOAD = "{{ cycler.__init__.__globals__.os.system('touch " + str(PWNED) + "') }}"
# what an evaluation would have produced; the fragments themselves never contain these words
EVALUATED = ("X1337", "ppEVAL", "ppIF")

FRAGMENTS = [
    "X{{ 7*191 }}", "{{ 'pp' ~ 'EVAL' }}", "{% if true %}pp{% endif %}IF", "{% if false %}ppDROP{% endif %}",
    "{# ppCOMMENT #}", "{%- raw -%}", "${7*191}", "`${document.cookie}`", "</script>", "<script>alert(1)</script>",
    "<!--", "-->", "<img src=x onerror=alert(1)>", "</title>", '"', "'", "\\", "\\u003c", "\u2028", "\u2029",
    "工业园区", "有限公司", "绍兴柯桥", "{{", "}}", "{%", "%}", "{#", "#}", "{", "}", "&amp;", "&#x3c;", "]]>",
    "%s", "{0}", "$x^2$", "$x^$", "$\\frac{a}{$", "**b**", "=1+1", EVAL_PAYLOAD,
]
CHARS = "{}%#$<>/\"'\\&`=-+@ ~*工业园区\u2028\u2029"

hostile_names = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet=CHARS, min_size=1, max_size=4)),
                         min_size=1, max_size=5).map("".join)

PROFILE = {"sector": "textiles", "land_ha": 5.0, "employees": 120, "pollution_class": "light", "lon": 120.6, "lat": 29.9}


# ------------------------------------------------------------------------------------------ helpers

def _strings(value) -> list[str]:
    """Every string in a JSON value (keys and values)."""
    out: list[str] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            out.extend(k for k in v if isinstance(k, str))
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return out


def _page_strings(html: str) -> set[str]:
    from maps.base import json_blocks

    return set(_strings(list(json_blocks(html).values())))


_SCRIPT = re.compile(r"<script([^>]*)>(.*?)</script>", re.S)


def _code(html: str) -> str:
    """The executable script of a map page (JSON blocks left out), element ids normalised."""
    code = "\n".join(body for attrs, body in _SCRIPT.findall(html) if "application/json" not in attrs)
    return re.sub(r"[0-9a-f]{32}", "ID", code)


def _title(html: str) -> str:
    return htmlmod.unescape(re.search(r"<title>(.*?)</title>", html, re.S).group(1))


def _no_evaluation(text: str) -> None:
    for word in EVALUATED:
        assert word not in text
    assert not PWNED.exists(), "a template payload ran a command"


class _Text(HTMLParser):
    """The text nodes of an HTML page, as a browser's DOM holds them (scripts and styles left out)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.texts.append(data)


def _page_text(html: str) -> str:
    p = _Text()
    p.feed(html)
    return "".join(p.texts)


# ------------------------------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def base(raw_dataset):
    """The small dataset, prepared, with the clusters analysis and a suitability context built once."""
    from maps.clusters_map import cluster_layers
    from parks.joins import prepare
    from parks.suitability import context_from_dataset

    ds = prepare(raw_dataset)
    return {"ds": ds, "clusters": cluster_layers(ds, None, permutations=99), "ctx": context_from_dataset(ds)}


def _renamed(ds, name: str):
    """``ds`` with the first park, county and enterprise named ``name`` (the joins do not read names)."""
    parks, counties, ent = ds.parks.copy(), ds.counties.copy(), ds.enterprises.copy()
    parks.loc[parks.index[0], "name"] = name
    counties.loc[counties.index[0], "name"] = name
    ent.loc[ent.index[0], "name"] = name
    return replace(ds, parks=parks, counties=counties, enterprises=ent)


def _maps(base, name: str) -> dict[str, str]:
    """Every map (and the one-candidate map, the scenarios' flow map) over the dataset renamed to ``name``."""
    from maps import build_map, render_html
    from maps.clusters_map import clusters_map
    from maps.flows_map import flows_map
    from maps.transfers_map import candidate_map, transfers_map

    ds = _renamed(base["ds"], name)
    park, ent = ds.parks.iloc[0], ds.enterprises.iloc[0]
    origin = str(ds.counties.loc[ds.counties["code"] != park["county_code"], "code"].iloc[0])
    cand = {"candidate_id": "C0", "enterprise_id": str(ent["enterprise_id"]), "origin_county_code": origin,
            "destination_county_code": str(park["county_code"]), "park_id": str(park["park_id"]), "status": "pending",
            "snapshot": {"enterprise": {"name": name, "lon": 120.6, "lat": 29.9}}}
    return {
        "parks": render_html(build_map("parks", ds)),
        "enterprises": render_html(build_map("enterprises", ds)),
        "clusters": render_html(clusters_map(ds, analysis=base["clusters"])),
        "suitability": render_html(build_map("suitability", ds, profile={**PROFILE, "name": name},
                                             suitability_context=base["ctx"])),
        "transfers": render_html(transfers_map(ds, [cand])),
        "candidate": render_html(candidate_map(ds, cand)),
        "flows": render_html(flows_map(ds, [{"origin_county_code": origin, "destination_county_code": str(ds.counties["code"].iloc[0]),
                                             "firms": 3, "jobs": 120}])),
    }


@pytest.fixture(scope="module")
def baseline(base):
    return {k: _code(v) for k, v in _maps(base, "PLAIN").items()}


# ------------------------------------------------------------------------------------------ maps (builders)

@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(name=hostile_names)
def test_every_map_shows_hostile_names_exactly_and_runs_no_data(base, baseline, name):
    pages = _maps(base, name)
    for kind, html in pages.items():
        _no_evaluation(html)
        # the executable script does not depend on the data: names live in JSON blocks only
        assert _code(html) == baseline[kind], kind
        assert html.count("<script") == html.count("</script>"), kind
        strings = _page_strings(html)
        if kind == "parks":
            assert name in strings  # the park's popup title and tooltip, the county's
        elif kind == "enterprises":
            assert name in strings  # the enterprise's label column, the county names
        elif kind == "clusters":
            assert name in strings  # the county's tooltip and popup title
        elif kind == "suitability":
            assert name in strings  # the site's tooltip and the search index; the park as a candidate or excluded
            assert _title(html).endswith(" · " + name)
        elif kind == "flows":
            assert name in strings  # the county's name on the map (the scenarios' flow map)
        elif kind == "transfers":
            assert name in strings and f"C0 · {name}" in strings  # receiving park; the flow's candidate row
        else:
            assert name in strings and _title(html).endswith(" · " + name)


@settings(max_examples=50, deadline=None)
@given(value=st.recursive(st.none() | st.booleans() | st.integers() | hostile_names,
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_names, inner, max_size=3),
                          max_leaves=8))
def test_js_json_is_inert_json(value):
    """What every JSON block holds: the same value back, and nothing a parser of HTML, JavaScript or
    templates could take for markup, a line end or a tag."""
    from maps.base import js_json

    text = js_json(value)
    assert json.loads(text) == value
    assert not re.search(r"[<>&\u2028\u2029]|\{[{%#]", text)


# ------------------------------------------------------------------------------------------ imported data: CLI, server, pages, PDF, exports

SAMPLE = ["X{{ 7*191 }}", EVAL_PAYLOAD + "有限公司", "</script><script>alert(1)</script>{% raw %}",
          "${7*191}\u2028\"'\\<!--{# c #}工业园", '=HYPERLINK("http://x","y")', "杭州{%- if true -%}湾{%- endif -%}园区"]


@pytest.fixture(scope="module")
def imported(dataset_path, raw_dataset, tmp_path_factory):
    """A copy of the session dataset with enterprises and parks named from SAMPLE, imported through the
    real importer (GeoJSON files, append mode); the names as stored are read back from the dataset."""
    import shutil

    from geodata.dataset import load_dataset
    from geodata.importer import import_layer

    tmp = tmp_path_factory.mktemp("injection")
    path = tmp / "hostile.gpkg"
    shutil.copyfile(dataset_path, path)
    ent = raw_dataset.enterprises.iloc[:len(SAMPLE)].copy()
    ent["enterprise_id"] = [f"EH{i:05d}" for i in range(len(SAMPLE))]
    ent["name"] = SAMPLE
    ent.to_file(tmp / "ent.geojson", driver="GeoJSON")
    import_layer(path, "enterprises", tmp / "ent.geojson", mode="append")
    parks = raw_dataset.parks.iloc[:len(SAMPLE)].copy()
    parks["park_id"] = [f"PH{i:03d}" for i in range(len(SAMPLE))]
    parks["name"] = SAMPLE
    parks.to_file(tmp / "parks.geojson", driver="GeoJSON")
    import_layer(path, "parks", tmp / "parks.geojson", mode="append")
    ds = load_dataset(path)
    stored_e = dict(zip(ds.enterprises["enterprise_id"], ds.enterprises["name"]))
    stored_p = dict(zip(ds.parks["park_id"], ds.parks["name"]))
    return {"path": path, "tmp": tmp, "enterprises": {f"EH{i:05d}": stored_e[f"EH{i:05d}"] for i in range(len(SAMPLE))},
            "parks": {f"PH{i:03d}": stored_p[f"PH{i:03d}"] for i in range(len(SAMPLE))}}


def test_imported_names_are_stored_as_typed(imported):
    assert sorted(imported["enterprises"].values()) == sorted(SAMPLE)
    assert sorted(imported["parks"].values()) == sorted(SAMPLE)


@pytest.mark.parametrize("name,extra", [("parks", []), ("enterprises", []), ("suitability", ["--enterprise-id", "EH00001"]),
                                        ("transfers", []), ("clusters", ["--sector", "textiles"])])
def test_cli_map_files_show_names_exactly(imported, name, extra):
    from typer.testing import CliRunner

    from api.cli import app

    out = imported["tmp"] / f"{name}.html"
    r = CliRunner().invoke(app, ["map", name, "-o", str(out), "--data", str(imported["path"]), *extra])
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    _no_evaluation(page)
    strings = _page_strings(page)
    if name == "parks":
        assert set(imported["parks"].values()) <= strings
    if name == "enterprises":
        assert set(imported["enterprises"].values()) <= strings
    if name == "suitability":
        assert imported["enterprises"]["EH00001"] in strings and set(imported["parks"].values()) <= strings
        assert _title(page).endswith(" · " + imported["enterprises"]["EH00001"])


@pytest.fixture(scope="module")
def served(imported, tmp_path_factory):
    """The app over the imported dataset, one stored candidate for each hostile enterprise (into a
    hostile park), and an admin token."""
    from api.app import create_app
    from api.auth import create_token
    from api.reviews import add_candidates

    db = tmp_path_factory.mktemp("injectiondb") / "reviews.sqlite"
    app = create_app(imported["path"], db_url=f"sqlite:///{db}")
    ds = app.state.dataset
    parks = ds.parks.set_index("park_id")
    ents = ds.enterprises.set_index("enterprise_id")
    from api.app import suitability_context
    from parks.suitability import score_enterprise

    ctx = suitability_context(app)
    rows = []
    for i, (eid, pid) in enumerate(zip(imported["enterprises"], imported["parks"])):
        # the snapshot in the shape `parkplan transfers propose` stores, the hostile park as the proposal
        res = score_enterprise(ctx, eid, top=3).to_dict()
        dest = str(parks.loc[pid, "county_code"])
        origin = str(ents.loc[eid, "county_code"])
        origin = origin if origin != dest else str(ds.counties.loc[ds.counties["code"] != dest, "code"].iloc[0])
        best, second = res["ranked"][0], res["ranked"][1]
        rows.append({"candidate_id": f"HC{i}", "enterprise_id": eid, "origin_county_code": origin,
                     "destination_county_code": dest, "park_id": pid, "scenario": "test", "score": best["score"],
                     "snapshot": {"enterprise": res["enterprise"], "park": {"park_id": pid, "name": parks.loc[pid, "name"]},
                                  "criteria": best["criteria"], "score": best["score"], "weights": res["weights"],
                                  "alternative": {k: second[k] for k in ("rank", "park_id", "county_code", "score")},
                                  "excluded": res["excluded"][:5]}})
    add_candidates(app.state.engine, rows)
    with app.state.sessions() as s:
        token, _ = create_token(s, "admin", label="injection")
        s.commit()
    return {"app": app, "token": token, "candidates": {r["candidate_id"]: r for r in rows}}


@pytest.fixture(scope="module")
def client(served):
    from fastapi.testclient import TestClient

    c = TestClient(served["app"], base_url="http://127.0.0.1")
    c.headers["Authorization"] = f"Bearer {served['token']}"
    return c


@pytest.mark.parametrize("url", ["/maps/parks", "/maps/enterprises", "/maps/suitability?enterprise_id=EH00000",
                                 "/maps/transfers", "/maps/transfers?candidate_id=HC3", "/maps/clusters?sector=textiles"])
def test_served_maps_show_names_exactly_with_a_nonce_csp(client, imported, served, url):
    r = client.get(url)
    assert r.status_code == 200, r.text
    page = r.text
    _no_evaluation(page)
    strings = _page_strings(page)
    csp = r.headers["content-security-policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)';", csp).group(1)
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert page.count("<script") == page.count(f'<script nonce="{nonce}"')
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", page)  # no inline event handler attributes
    if url == "/maps/parks":
        assert set(imported["parks"].values()) <= strings
    elif url == "/maps/enterprises":
        assert set(imported["enterprises"].values()) <= strings
    elif url.startswith("/maps/suitability"):
        assert imported["enterprises"]["EH00000"] in strings and set(imported["parks"].values()) <= strings
    elif url == "/maps/transfers":
        assert set(imported["parks"].values()) <= strings
    elif "candidate_id" in url:
        assert imported["enterprises"]["EH00003"] in strings and imported["parks"]["PH003"] in strings


@pytest.fixture(scope="module")
def web_client(served):
    """A TestClient logged in to the web workspace through the /login form (pages need a session)."""
    from fastapi.testclient import TestClient

    c = TestClient(served["app"], base_url="http://127.0.0.1")
    page = c.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.post("/login", data={"csrf_token": csrf, "token": served["token"]}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def test_web_pages_show_names_exactly(web_client, imported, served):
    client = web_client
    r = client.get("/ui/parks")
    assert r.status_code == 200
    text = _page_text(r.text)
    _no_evaluation(text)
    assert all(n in text for n in imported["parks"].values())
    for pid, name in imported["parks"].items():
        r = client.get(f"/ui/parks/{pid}")
        assert r.status_code == 200, r.text
        assert name in _page_text(r.text)
    for cid, row in served["candidates"].items():
        r = client.get(f"/ui/review/{cid}")
        assert r.status_code == 200, r.text
        text = _page_text(r.text)
        _no_evaluation(text)
        assert imported["enterprises"][row["enterprise_id"]] in text and imported["parks"][row["park_id"]] in text
    for page in (r.text, client.get("/ui/parks").text):
        assert "<script>" not in page and not re.search(r"<script(?![^>]*\ssrc=)", page)  # no inline script at all


def test_review_sheet_pdf_prints_names_as_typed(client, imported, served):
    for cid, row in served["candidates"].items():
        r = client.get(f"/transfer-candidates/{cid}/sheet.pdf")
        assert r.status_code == 200, r.text  # the CJK font is packaged (mplfonts): never a 503 here
        text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(r.content)).pages)
        flat = re.sub(r"\s+", "", text.replace("\x00", ""))
        _no_evaluation(flat)
        for name in (imported["enterprises"][row["enterprise_id"]], imported["parks"][row["park_id"]]):
            assert re.sub(r"\s+", "", name) in flat, (name, text[:400])


def test_decision_exports_hold_names_as_text(client, imported, served):
    import csv

    from openpyxl import load_workbook

    from geodata.spreadsheet import unguard_cell

    comment = SAMPLE[4] + " " + SAMPLE[0]
    for cid in served["candidates"]:
        r = client.post(f"/transfer-candidates/{cid}/reviews", json={"decision": "approved", "comment": comment, "version": 1})
        assert r.status_code == 201, r.text
    r = client.get("/transfer-candidates/decisions.csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))[1:]
    names = {unguard_cell(x["enterprise_name"]) for x in rows if x["candidate_id"] in served["candidates"]}
    assert names == set(imported["enterprises"].values())
    assert all(not x["enterprise_name"].startswith(("=", "+", "-", "@")) for x in rows)
    assert {unguard_cell(x["comment"]) for x in rows if x["candidate_id"] in served["candidates"]} == {comment}
    ws = load_workbook(io.BytesIO(client.get("/transfer-candidates/decisions.xlsx").content)).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula cell
    assert set(imported["enterprises"].values()) <= {unguard_cell(c.value) for c in cells if isinstance(c.value, str)}


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "geojson"])
def test_cli_exports_hold_names_as_typed(imported, suffix):
    import geopandas as gpd
    import pandas as pd
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from api.cli import app
    from geodata.spreadsheet import unguard_cell

    out = imported["tmp"] / f"enterprises.{suffix}"
    r = CliRunner().invoke(app, ["export", "enterprises", str(out), "--data", str(imported["path"])])
    assert r.exit_code == 0, r.output
    if suffix == "csv":
        frame = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    elif suffix == "xlsx":
        wb = load_workbook(out)
        assert not [c.coordinate for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
        frame = pd.read_excel(out, dtype=str, engine="calamine")
    else:
        frame = gpd.read_file(out)
    id_col = next(c for c in frame.columns if c in ("enterprise_id", "企业编号"))
    name_col = next(c for c in frame.columns if c in ("name", "企业名称"))
    got = dict(zip(frame[id_col], frame[name_col]))
    guard = unguard_cell if suffix != "geojson" else (lambda v: v)
    assert {k: guard(got[k]) for k in imported["enterprises"]} == imported["enterprises"]


@settings(max_examples=15, deadline=None)
@given(name=hostile_names)
@example(name="绍兴$x^$园区")
@example(name="$\\frac{a}{$")
def test_charts_draw_names_as_text(name):
    import base64
    import xml.etree.ElementTree as ET

    from api.web.charts import bar_chart

    uri = bar_chart([name, "绍兴柯桥"], [1.0, 2.0], xlabel=name)  # mathtext would raise on e.g. "$x^$"
    svg = base64.b64decode(uri.split(",", 1)[1]).decode("utf-8")
    root = ET.fromstring(svg)
    tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert not tags & {"script", "foreignObject", "a", "iframe"}
    assert "<text" not in svg  # text drawn as paths, so no data as markup


def test_static_map_png_draws_hostile_county_names(base, tmp_path):
    """The matplotlib fallback of ``parkplan map --png`` writes county names: mathtext never parses them."""
    from maps.static import static_png

    for name in ("$x^$", "$\\frac{a}{$", "X{{ 7*191 }}"):
        out = static_png(_renamed(base["ds"], name), "parks", tmp_path / "m.png", dpi=40)
        assert out.stat().st_size > 1000
    assert not PWNED.exists()


# ------------------------------------------------------------------------------------------ browser

def _chromium() -> str | None:
    import shutil

    path = os.environ.get("PARKPLAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if path and os.path.exists(path) else None


_READ_PAGE = """() => {
  const strings = [];
  const walk = (v) => { if (typeof v === "string") { strings.push(v); }
                        else if (Array.isArray(v)) { v.forEach(walk); }
                        else if (v && typeof v === "object") { Object.keys(v).forEach((k) => { strings.push(k); walk(v[k]); }); } };
  document.querySelectorAll('script[type="application/json"]').forEach((b) => walk(PARKPLAN.data(b.id)));
  const title = document.querySelector(".pp-title-main");
  return {strings, title: title ? title.textContent : null, docTitle: document.title};
}"""

_OPEN_POPUP = """([key, id]) => {
  let found = null;
  (PARKPLAN.layers[key] || []).forEach((g) => g.eachLayer && g.eachLayer((l) => {
    if (l.feature && l.feature.properties._id === id) { found = l; } }));
  if (!found) { return null; }
  found.openPopup(found.getBounds().getCenter());
  const el = document.querySelector(".leaflet-popup-content .pp-popup-title");
  return el ? el.textContent : null;
}"""


def _browse(browser, base_url: str, token: str, cookies: list[dict], jobs: list[tuple[str, str | None]]) -> list[dict]:
    """Open each (url, park id whose popup to open) and read what the page shows."""
    import time

    ctx = browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"})
    ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith((base_url, "file:", "data:", "about:"))
              else route.abort())  # offline: nothing but the test server and the file
    ctx.add_cookies([{**c, "url": base_url} for c in cookies])
    # CSP violations recorded by the page itself (an init script is not subject to the page's CSP)
    ctx.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation',"
                        " function (e) { window.__csp.push(e.violatedDirective + ' ' + e.blockedURI); });")
    out = []
    try:
        for url, popup in jobs:
            page = ctx.new_page()
            errors, dialogs = [], []
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.on("dialog", lambda d, dialogs=dialogs: (dialogs.append(d.message), d.dismiss()))
            page.goto(url if url.startswith("file://") else base_url + url, wait_until="load")
            result = {"url": url, "popup_id": popup, "errors": errors, "dialogs": dialogs}
            page.wait_for_timeout(200)
            if url.startswith(("/maps/", "file://")):
                deadline = time.time() + 60
                while not page.evaluate("() => !!(window.PARKPLAN && PARKPLAN.ready)"):
                    assert time.time() < deadline, (url, errors)
                    page.wait_for_timeout(100)
                result.update(page.evaluate(_READ_PAGE))
                result["popup"] = page.evaluate(_OPEN_POPUP, ["parks", popup]) if popup else None
            else:
                result["text"] = page.evaluate("() => document.body.textContent")
            result["csp"] = page.evaluate("() => window.__csp")
            out.append(result)
            page.close()
    finally:
        ctx.close()
    return out


@pytest.mark.browser
def test_browser_sees_a_csp_violation(served, serve_app, web_client):
    """The browser check is not blind: a page whose inline script lacks the nonce is reported."""
    path = _chromium()
    if path is None:
        pytest.skip("chromium not installed (set PARKPLAN_CHROMIUM)")
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.responses import HTMLResponse

    app = served["app"]
    if not any(getattr(r, "path", None) == "/test-csp" for r in app.routes):
        app.add_api_route("/test-csp", lambda: HTMLResponse(
            "<script>var x = 1;</script>", headers={"Content-Security-Policy": "script-src 'nonce-abcdefghijklmnop'"}),
            include_in_schema=False)
    base_url = serve_app(app)

    def run():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu"])
            try:
                ctx = browser.new_context()
                ctx.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation',"
                                    " function (e) { window.__csp.push(e.violatedDirective); });")
                page = ctx.new_page()
                errors = []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.goto(base_url + "/test-csp")
                page.wait_for_timeout(200)
                return page.evaluate("() => window.__csp"), errors
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        csp, errors = pool.submit(run).result()
    assert csp and errors


@pytest.mark.browser
def test_browser_shows_names_exactly_and_runs_nothing(served, imported, serve_app, web_client):
    path = _chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI")
        pytest.skip("chromium not installed (set PARKPLAN_CHROMIUM)")
    from concurrent.futures import ThreadPoolExecutor

    base_url = serve_app(served["app"])
    cookies = [{"name": k, "value": v} for k, v in web_client.cookies.items()]  # the session of the /login form
    from typer.testing import CliRunner

    from api.cli import app as cli

    page_file = imported["tmp"] / "browser-parks.html"  # the file `parkplan map -o` writes: its own CSP, no server
    r = CliRunner().invoke(cli, ["map", "parks", "-o", str(page_file), "--data", str(imported["path"])])
    assert r.exit_code == 0, r.output
    assert "Content-Security-Policy" in page_file.read_text(encoding="utf-8")
    jobs = [("/maps/parks", "PH000"), ("/maps/parks", "PH003"), ("/maps/suitability?enterprise_id=EH00002", None),
            ("/maps/transfers?candidate_id=HC5", None), ("/maps/enterprises", None), ("/ui/review/HC1", None),
            (page_file.as_uri(), "PH002")]

    def run():  # its own thread: other tests may hold a sync Playwright in the main thread
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=path, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            try:
                return _browse(browser, base_url, served["token"], cookies, jobs)
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        results = pool.submit(run).result()
    ents, parks = imported["enterprises"], imported["parks"]
    for res in results:
        assert res["csp"] == [] and res["errors"] == [] and res["dialogs"] == [], res  # no CSP violation, error, alert
        shown = " ".join([res.get("text") or "", res.get("title") or "", res.get("docTitle") or "",
                          res.get("popup") or "", *res.get("strings", [])])
        _no_evaluation(shown)
    for res in results:
        if res["popup_id"]:
            assert res["popup"] == parks[res["popup_id"]]  # the popup's title, as the browser shows it
    suit = next(r for r in results if r["url"].startswith("/maps/suitability"))
    assert suit["title"].endswith(" · " + ents["EH00002"]) and suit["docTitle"].endswith(" · " + ents["EH00002"])
    assert set(parks.values()) <= set(suit["strings"])
    cand = next(r for r in results if "candidate_id" in r["url"])
    assert ents["EH00005"] in cand["strings"] and cand["title"].endswith(" · " + ents["EH00005"])
    ent = next(r for r in results if r["url"] == "/maps/enterprises")
    assert set(ents.values()) <= set(ent["strings"])
    review = next(r for r in results if r["url"].startswith("/ui/"))
    assert ents["EH00001"] in review["text"] and parks["PH001"] in review["text"]
