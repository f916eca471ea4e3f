"""Every page in both languages, in headless Chromium, read as a person sees it (the visible text,
``innerText``): no English words on a Chinese page (roles, "token 4", HH/LH, hot/cold, CSR, field
names such as free_land_ha) and no Chinese on an English page except the names of places, parks,
enterprises and projects; a screenshot of each."""

from __future__ import annotations

import os
import re

import pytest

from .test_browser import Watch, login, new_context

pytestmark = pytest.mark.browser

#: Latin words a Chinese page may show: proper names of statistics (the glossary puts them in
#: parentheses after the Chinese), product names, the language switch, units and ids
ALLOWED_LATIN = {"Clark-Evans", "Ellison-Glaeser", "Maurel-Sédillot", "Ripley", "LISA", "Gi", "EG", "MS", "Excel",
                 "PDF", "parkplan", "English", "TD", "T", "L", "r", "R", "n", "p", "km", "ha", "CR", "AHP", "Moran"}
FORBIDDEN_ON_ZH = {"admin", "analyst", "reviewer", "viewer", "token", "HH", "LH", "LL", "HL", "hot", "cold", "CSR",
                   "free_land_ha", "pending", "approved", "rejected"}


def test_no_other_language_on_any_page(web_browser, server, web, tmp_path):
    web_browser.run(_no_other_language_on_any_page, server, web, tmp_path)


def _names(ds) -> set[str]:
    out = set(ds.counties["name"].astype(str)) | set(ds.counties["city"].astype(str))
    out |= set(ds.parks["name"].astype(str)) | set(ds.enterprises["name"].astype(str))
    if len(ds.projects) and "title" in ds.projects.columns:
        out |= set(ds.projects["title"].astype(str))
    if "name" in ds.province.columns:
        out |= set(ds.province["name"].astype(str))
    if hasattr(ds, "cities"):
        out |= set(ds.cities["name"].astype(str))
    return out


def _no_other_language_on_any_page(browser, server, web, tmp_path):
    ds = web.app.state.dataset
    names = sorted(_names(ds) | set(web.tokens), key=len, reverse=True)  # token labels are names too
    ids = set(ds.parks["park_id"].astype(str)) | set(ds.enterprises["enterprise_id"].astype(str))
    park = str(ds.parks["park_id"].iloc[3])
    pages = {"home": "/", "parks": "/ui/parks", "park": f"/ui/parks/{park}", "suitability": "/ui/suitability",
             "review": "/ui/review", "candidate": f"/ui/review/{web.candidates['a'][1]}",
             "metrics": "/ui/metrics?sector=textiles"}
    shots = os.environ.get("PARKPLAN_TEST_SHOTS") or str(tmp_path)
    problems = []
    for lang in ("zh", "en"):
        watch = Watch()
        ctx = new_context(browser, watch, "zh-CN" if lang == "zh" else "en-GB")
        page = login(ctx, server, web.tokens["admin"])
        for name, path in pages.items():
            sep = "&" if "?" in path else "?"
            page.goto(server + path + (f"{sep}lang=en" if lang == "en" else ""), wait_until="load")
            page.screenshot(path=os.path.join(shots, f"page-{name}-{lang}.png"))
            text = page.locator("body").inner_text()
            for n in names:  # names are what they are, in either language
                text = text.replace(n, " ")
            if lang == "zh":
                words = set(re.findall(r"[A-Za-z][A-Za-z_\-é]*", text)) - ALLOWED_LATIN
                words = {w for w in words if w not in ids and not re.fullmatch(r"[A-Z]{2}\d*|TC|E|SP|TZ", w)}
                bad = words & FORBIDDEN_ON_ZH or {w for w in words if len(w) > 3}
                if bad:
                    problems.append((lang, name, sorted(bad)[:20]))
            else:
                han = re.findall(r"[\u4e00-\u9fff]+", text.replace("中文", " "))
                if han:
                    problems.append((lang, name, sorted(set(han))[:20]))
        watch.assert_clean()
        ctx.close()
    assert problems == []
