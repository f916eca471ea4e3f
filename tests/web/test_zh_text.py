"""Every page and every map frame of the workspace, in Chinese (the default), as each role sees it in headless
chromium: the visible text (``innerText``), the ``title`` / ``placeholder`` / ``aria-label`` / ``alt`` attributes,
button and option labels, the page title, and in the map frames the legends, the layer control and every
tooltip and popup bound to a layer (opened from Leaflet's own layers, as a click or a hover would show them;
a map page from which none was read fails), and the enterprise points' popups, which the map builds only on a
click at the nearest point (opened with the click's own function for a point of each sector, size and county;
the enterprises map fails if none was read). Not read: the charts' text (SVG drawn as paths on the server).

No ASCII word may be left there beyond :data:`ALLOWED`: the names of methods and statistics that Chinese
planning texts keep in Latin letters (each is written after its Chinese name), product and file names, the
units a page uses on purpose, and ids (park, enterprise, candidate ids, county codes: the data's own values,
taken from the dataset, not listed here). Names of places, parks, enterprises and projects, and token labels,
are the data's too and are removed before the scan. Raw keys (``needs_info``, ``textile``, ``land_ha``) and
untranslated English fail the test, which names the page, the role and the words.
"""

from __future__ import annotations

import os
import re

import pytest

from .test_browser import Watch, login, new_context

pytestmark = pytest.mark.browser

#: Latin words a Chinese page may show, and why (each one seen on a page; nothing here "just in case").
ALLOWED = {
    # statistics written in Latin letters after their Chinese name, as Chinese planning texts do:
    # "EG 指数（Ellison-Glaeser）", "最近邻指数（Clark-Evans R）", "Ripley L 函数", "局部空间自相关（LISA）",
    # "Gi* 热点", "显著性 p 值"
    "Clark-Evans", "Ellison-Glaeser", "Maurel-Sédillot", "Ripley", "LISA", "Gi", "EG", "MS", "L", "R", "p",
    # clustering methods named in the clusters map's layers ("企业集群（凸包） · DBSCAN")
    "DBSCAN", "HDBSCAN",
    # products and file formats (download links), the language switch, the project's name, the map library's
    # name in the attribution
    "Excel", "PDF", "JSON", "English", "parkplan", "Leaflet",
    # a query parameter's name, as the address shows it, on the page that refuses its value (查询参数 offset：应为整数)
    "offset",
}

UNKNOWN_ID = "E-NOPE-1"  # an id a user typed: shown back as typed, like any id
BAD_YEAR = "abc"  # a year a user typed: the 400 page quotes it (also a bad offset, which the 422 page does not quote)
ROLES = ("viewer", "analyst", "reviewer_a", "reviewer_dest", "admin")

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-é]*")
_ID = re.compile(r"[A-Z]{1,3}-?\d+")  # park, enterprise, candidate and project ids (SP004, E0000008, TC0001)
_CLASS = re.compile(r"(?<![A-Za-z])[A-D] ?类")  # the per-mu classes as the programme writes them: "A 类" ... "D 类"
_NEG_ZERO = re.compile(r"(?<![\w.])-0(?:\.0+)?(?![\d.])")  # "-0.0000": a small negative number shown as minus zero

#: what the browser reads in a page or frame: visible text and the labels a person sees on hover or in a control
_COLLECT = r"""() => {
  const out = [document.title, document.body ? document.body.innerText : ""];
  for (const el of document.querySelectorAll("[title],[placeholder],[aria-label],[alt]")) {
    for (const a of ["title", "placeholder", "aria-label", "alt"]) { const v = el.getAttribute(a); if (v) out.push(v); }
  }
  const words = el => {  // each text node apart (textContent would glue "DBSCAN" and "HDBSCAN" into one word)
    const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), parts = [];
    while (w.nextNode()) parts.push(w.currentNode.nodeValue);
    return parts.join(" ");
  };
  for (const el of document.querySelectorAll("option, button, th, caption, legend, label, svg title,"
                                              + " .leaflet-control, .leaflet-control-layers-list"))
    out.push(words(el));
  for (const el of document.querySelectorAll("input[type=submit], input[type=button]")) out.push(el.value);
  const asText = (c, layer) => {
    if (typeof c === "function") { try { c = c(layer); } catch (e) { return ""; } }
    if (c == null) return "";
    if (typeof c === "string") { const d = document.createElement("div"); d.innerHTML = c; c = d; }
    return words(c);
  };
  const maps = (window.PARKPLAN && window.PARKPLAN.maps) || [];
  let bound = 0, points = 0; const pointTexts = [];
  for (const m of maps) {
    m.eachLayer(layer => {
      if (layer.getTooltip && layer.getTooltip()) { bound++; out.push(asText(layer.getTooltip().getContent(), layer)); }
      if (layer.getPopup && layer.getPopup()) { bound++; out.push(asText(layer.getPopup().getContent(), layer)); }
    });
    // the enterprise points (PARKPLAN.PointLayer, drawn on a canvas): their popup is built on a click at the
    // nearest point (PARKPLAN.pointClick -> pointPopup); opened here for one point of each sector, size and
    // county seen in each layer, read, and closed again
    for (const l of (m._ppPoints || [])) {
      const d = l._data, seen = new Set();
      for (const i of l._idx) {
        const kinds = ["s" + d.sector[i], "z" + d.size[i], "c" + d.county[i]];
        if (kinds.every(k => seen.has(k))) continue;
        kinds.forEach(k => seen.add(k));
        window.PARKPLAN.pointPopup(m, l, i);
        if (m._popup) { points++; bound++; const text = asText(m._popup.getContent(), null); out.push(text); pointTexts.push(text); }
        m.closePopup();
      }
    }
  }
  return {texts: out, bound: bound, points: points, pointTexts: pointTexts};
}"""


def _names(ds, tokens) -> list[str]:
    out = set(ds.counties["name"].astype(str)) | set(ds.counties["city"].astype(str))
    out |= set(ds.parks["name"].astype(str)) | set(ds.enterprises["name"].astype(str)) | set(tokens)
    if len(ds.projects) and "title" in ds.projects.columns:
        out |= set(ds.projects["title"].astype(str))
    if "name" in ds.province.columns:
        out |= set(ds.province["name"].astype(str))
    return sorted(out, key=len, reverse=True)


def _ids(ds) -> set[str]:
    ids = set(ds.parks["park_id"].astype(str)) | set(ds.enterprises["enterprise_id"].astype(str))
    ids |= set(ds.counties["county_code"].astype(str)) if "county_code" in ds.counties.columns else set()
    return ids


def pages_of(web) -> dict[str, list[tuple[str, str]]]:
    """role -> [(name, path)]: every page the role may open, a page it may not (the 403 page) and a missing one."""
    ds = web.app.state.dataset
    park = str(ds.parks["park_id"].iloc[3])
    eid = str(ds.enterprises["enterprise_id"].iloc[7])
    cand = web.candidates["a"][0]
    common = [("home", "/"), ("parks", "/ui/parks"), ("park", f"/ui/parks/{park}"),
              ("park-missing", "/ui/parks/NO-SUCH-PARK"), ("parks-bad-filter", "/ui/parks?kind=bogus"),
              ("map-parks", "/maps/parks"), ("ui-missing", "/ui/nonexistent")]
    analyst = [("suitability", "/ui/suitability"), ("suitability-search", "/ui/suitability?q=%E5%85%AC%E5%8F%B8"),
               ("suitability-enterprise", f"/ui/suitability?enterprise_id={eid}"),
               ("suitability-unknown", f"/ui/suitability?enterprise_id={UNKNOWN_ID}"),
               ("suitability-nothing-found", "/ui/suitability?q=%E4%B8%8D%E5%AD%98%E5%9C%A8"),
               ("plan-bad-year", f"/ui/plan?year={BAD_YEAR}"),
               ("metrics", "/ui/metrics"), ("metrics-sector", "/ui/metrics?sector=textiles"),
               ("plan", "/ui/plan"), ("scenarios", "/ui/scenarios"),
               ("map-enterprises", "/maps/enterprises"), ("map-clusters", "/maps/clusters"),
               ("map-suitability", f"/maps/suitability?enterprise_id={eid}"), ("map-flows", "/scenarios/all/map")]
    review = [("review", "/ui/review"), ("review-pending", "/ui/review?status=proposed"),
              ("review-bad-offset", f"/ui/review?offset={BAD_YEAR}"),
              ("candidate", f"/ui/review/{cand}"), ("map-transfers", "/maps/transfers"),
              ("map-candidate", f"/maps/transfers?candidate_id={cand}")]
    return {
        "viewer": common + [("forbidden", "/ui/metrics"), ("forbidden-review", "/ui/review")],
        "analyst": common + analyst + [("forbidden-review", "/ui/review")],
        "reviewer_a": common + review + [("candidate-other-office", f"/ui/review/{web.candidates['b'][0]}")],
        "reviewer_dest": [("review", "/ui/review"), ("candidate", f"/ui/review/{cand}"),
                          ("map-candidate", f"/maps/transfers?candidate_id={cand}")],
        "admin": common + analyst + review,
    }


def read_texts(page, counts: dict | None = None) -> tuple[list[str], int]:
    """The texts of the page and of its frames (each frame read after its maps are ready), and how many
    tooltips and popups were read from the maps' layers (``counts["points"]``: how many of them were enterprise
    points' popups)."""
    out, bound = [], 0
    for frame in page.frames:
        try:
            frame.wait_for_function("() => !window.PARKPLAN || !window.PARKPLAN.maps || window.PARKPLAN.ready",
                                    timeout=30000)
            got = frame.evaluate(_COLLECT)
            out += got["texts"]
            bound += got["bound"]
            if counts is not None:
                counts["points"] = counts.get("points", 0) + got["points"]
                counts.setdefault("point_texts", []).extend(got["pointTexts"])
        except Exception as exc:  # a frame that did not load is a failure of its own, reported as text
            out.append(f"FRAME-NOT-READ {frame.url} {exc}")
    return out, bound


def latin_words(texts: list[str], names: list[str], ids: set[str]) -> set[str]:
    words = set()
    for text in texts:
        for n in names:
            if n in text:
                text = text.replace(n, " ")
        for w in _WORD.findall(_CLASS.sub(" ", text)):
            if w not in ALLOWED and w not in ids and not _ID.fullmatch(w):
                words.add(w)
        words |= {f"minus zero: {m}" for m in _NEG_ZERO.findall(text)}
    return words


def scan(browser, server, web, dump: str | None = None) -> dict[tuple[str, str], set[str]]:
    ds = web.app.state.dataset
    names, ids = _names(ds, web.tokens), _ids(ds)
    ids |= {c for cs in web.candidates.values() for c in cs} | {UNKNOWN_ID, BAD_YEAR}  # the user's own values
    found = {}
    for role, pages in pages_of(web).items():
        watch = Watch()
        ctx = new_context(browser, watch, "zh-CN")
        ctx.set_default_timeout(180_000)  # the metrics and plan pages compute on a first visit (shared cores)
        if role == ROLES[0]:  # the login page, before any session
            page = ctx.new_page()
            page.goto(server + "/login", wait_until="load")
            texts, _ = read_texts(page)
            bad = latin_words(texts, names, ids)
            if bad:
                found[("anonymous", "login")] = bad
            page.close()
        page = login(ctx, server, web.tokens[role])
        for name, path in pages:
            page.goto(server + path, wait_until="load")
            for el in page.locator("iframe").all():  # lazy frames load when seen
                el.scroll_into_view_if_needed()
            page.wait_for_load_state("load")
            counts: dict = {}
            texts, bound = read_texts(page, counts)
            if name.startswith("map-") and bound == 0:  # the scan must have read the map's tooltips and popups
                found[(role, name)] = {"NO-POPUPS-READ"}
                continue
            if name == "map-enterprises" and not counts.get("points"):  # and the enterprise points' popups
                found[(role, name)] = {"NO-POINT-POPUPS-READ"}
                continue
            if dump:
                with open(dump, "a", encoding="utf-8") as f:
                    f.write(f"==== {role} {name} {path}\n" + "\n".join(t for t in texts if t) + "\n")
            bad = latin_words(texts, names, ids)
            if bad:
                found[(role, name)] = bad
        ctx.close()
    return found


def _with_history(web) -> None:
    """The scanned candidate has a decision in its history (who, when), whichever tests ran before: the history's
    actor (``token N (label)``) and its UTC time are shown in the page's words."""
    from api import reviews
    from api.auth import Principal

    cid = web.candidates["a"][0]
    with web.app.state.sessions() as db:
        if reviews.candidate_reviews(db, cid):
            return
        version = reviews.get_candidate(db, Principal(0, "省经信厅", "admin"), cid).version
    reviews.decide(web.app.state.engine, Principal(0, "省经信厅", "admin"), cid, decision="needs_info",
                   comment="请补充用地资料", if_match=None, version=version)


def test_no_ascii_words_on_any_zh_page_or_frame(web_browser, server, web):
    _with_history(web)
    found = web_browser.run(scan, server, web, os.environ.get("PARKPLAN_ZH_DUMP"))
    assert found == {}, "\n".join(f"{role} {name}: {sorted(w)}" for (role, name), w in sorted(found.items()))
