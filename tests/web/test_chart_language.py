"""The charts' own text in the page's language: titles, axis labels, legends and tick labels, read from the SVG
that the browser gets. The text is drawn as paths, but matplotlib writes each text it draws beside its paths as an
XML comment (``<!-- L(r) − r（米） -->``): that is what is read here, per chart, in Chinese and in English.

In Chinese no Latin word beyond :data:`tests.web.test_zh_text.ALLOWED` (plus the ``r`` of ``L(r) − r``, the
distance variable of Ripley's function), shares as percentages, units in Chinese with full-width brackets; in
English the English words.
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import numpy as np

from api.web import charts
from api.web.pages_plan import target_chart

from .conftest import login_client
from .test_zh_text import ALLOWED, _ids, _names, latin_words

#: ALLOWED, and the distance variable r of "L(r) − r" (the Ripley chart's y-axis, as the page writes L)
CHART_ALLOWED = ALLOWED | {"r"}

_PCT = re.compile(r"−?\d+(?:\.\d+)?%")
_NUMBER = re.compile(r"−?\d+(?:\.\d+)?")


def svg_texts(uri: str) -> list[str]:
    """Every text matplotlib drew in the SVG of a ``data:`` URI (the comment it writes beside each text's paths)."""
    assert uri.startswith("data:image/svg+xml;base64,"), uri[:40]
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.fromstring(base64.b64decode(uri.split(",", 1)[1]), parser=parser)
    return [el.text.strip() for el in root.iter() if el.tag is ET.Comment and el.text and el.text.strip()]


def _zh_words(texts: list[str], names=(), ids=frozenset()) -> set[str]:
    return {w for w in latin_words(texts, list(names), set(ids)) if w not in CHART_ALLOWED}


def _img(html: str, img_id: str) -> str:
    m = re.search(rf'<img[^>]*id="{img_id}"[^>]*src="([^"]+)"', html) or re.search(
        rf'<img[^>]*src="([^"]+)"[^>]*id="{img_id}"', html)
    assert m, img_id
    return m.group(1)


def test_ripley_axis_in_each_language():
    r = np.linspace(500, 10_000, 10)
    zh = svg_texts(charts.ripley_chart(r, r + 100, r - 50, r + 50, xlabel="距离（公里）", observed="观测值",
                                       envelope="完全随机分布包络", title="纺织服装"))
    assert "L(r) − r（米）" in zh and not any("(m)" in t for t in zh)
    assert {"距离（公里）", "观测值", "完全随机分布包络", "纺织服装"} <= set(zh)
    assert _zh_words(zh) == set()
    en = svg_texts(charts.ripley_chart(r, r + 100, r - 50, r + 50, xlabel="Distance (km)", observed="observed",
                                       envelope="envelope", lang="en"))
    assert "L(r) − r (m)" in en and not any("米" in t for t in en)


def test_bar_chart_writes_shares_as_percentages():
    values = [0.05, 0.42, 0.5]
    texts = svg_texts(charts.bar_chart(["甲县", "乙县", "丙县"], values, xlabel="入园企业比例", percent=True))
    ticks = [t for t in texts if _NUMBER.search(t)]
    assert ticks and all(_PCT.fullmatch(t) for t in ticks), ticks
    top = max(float(t.rstrip("%").replace("−", "-")) for t in ticks)
    assert top >= max(values) * 100 and top <= 100  # the axis covers the largest share, in percent
    for small in ([0.004, 0.008], [0.0, 0.0]):  # small shares: ticks told apart (0.1%, 0.2% ...); none below 0%
        ticks = [t for t in svg_texts(charts.bar_chart(["甲县", "乙县"], small, percent=True)) if _NUMBER.search(t)]
        assert ticks and all(_PCT.fullmatch(t) and not t.startswith(("-", "−")) for t in ticks), ticks
        assert len(set(ticks)) == len(ticks), ticks
    # without percent=True the same values are plain numbers (the counts of the other bar charts)
    plain = [t for t in svg_texts(charts.bar_chart(["甲县"], [3])) if _NUMBER.search(t)]
    assert plain and not any("%" in t for t in plain)


def test_plan_chart_title_brackets_in_each_language():
    args = ([2001, 2002, 2003], [1.0, 2.0, None], [1.0, 1.12, 1.25])
    zh = svg_texts(target_chart(*args, title="技术改造投资", unit="亿元", value_label="实际值", path_label="目标路径值"))
    assert "技术改造投资（亿元）" in zh and _zh_words(zh) == set()
    en = svg_texts(target_chart(*args, title="Investment", unit="100 M yuan", value_label="Value",
                                path_label="Target path", lang="en"))
    assert "Investment (100 M yuan)" in en


def test_metrics_page_charts_in_each_language(web):
    """The metrics page's Ripley chart, capture chart and county maps, as served, in Chinese and in English."""
    client = login_client(web.app, web.tokens["analyst"])
    ds = web.app.state.dataset
    names, ids = _names(ds, web.tokens), _ids(ds)
    zh = client.get("/ui/metrics", params={"sector": "textiles"}).text
    en = client.get("/ui/metrics", params={"sector": "textiles", "lang": "en"}).text
    for img in ("ripley-chart", "lisa-map", "hotspot-map", "capture-chart"):
        texts = svg_texts(_img(zh, img))
        assert texts, img
        assert _zh_words(texts, names, ids) == set(), (img, texts)
    ripley_zh, ripley_en = svg_texts(_img(zh, "ripley-chart")), svg_texts(_img(en, "ripley-chart"))
    assert "L(r) − r（米）" in ripley_zh and "距离（公里）" in ripley_zh
    assert "L(r) − r (m)" in ripley_en and "Distance (km)" in ripley_en
    for html, xlabel in ((zh, "入园企业比例"), (en, "Share of enterprises in parks")):
        texts = svg_texts(_img(html, "capture-chart"))
        assert xlabel in texts
        ticks = [t for t in texts if _NUMBER.fullmatch(t.rstrip("%"))]
        assert ticks and all(t.endswith("%") for t in ticks), ticks


def test_scenarios_and_plan_charts_in_each_language(web):
    client = login_client(web.app, web.tokens["analyst"])
    ds = web.app.state.dataset
    names, ids = _names(ds, web.tokens), _ids(ds)
    zh = svg_texts(_img(client.get("/ui/scenarios").text, "bands-chart"))
    en = svg_texts(_img(client.get("/ui/scenarios", params={"lang": "en"}).text, "bands-chart"))
    assert "0–10 公里" in zh and any(t.endswith("公里以上") for t in zh) and _zh_words(zh, names, ids) == set()
    assert "0-10 km" in en and not any("公里" in t for t in en)
    plan = client.get("/ui/plan").text
    uris = re.findall(r'<img class="chart target-chart" src="([^"]+)"', plan)
    assert uris
    for uri in uris:
        texts = svg_texts(uri)
        assert _zh_words(texts, names, ids) == set(), texts
        assert not any("(" in t or ")" in t for t in texts), texts  # full-width brackets in Chinese
    for uri in re.findall(r'<img class="chart map-img" id="county-map" src="([^"]+)"', plan):
        assert _zh_words(svg_texts(uri), names, ids) == set()
    park_charts = [uri for park in ds.parks["park_id"].astype(str).head(5)  # parks' enterprises by sector
                   for uri in re.findall(r'<img class="chart" src="([^"]+)"', client.get(f"/ui/parks/{park}").text)]
    assert park_charts
    for uri in park_charts:
        texts = svg_texts(uri)
        assert texts and _zh_words(texts, names, ids) == set(), texts
