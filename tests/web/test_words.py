"""Words on the pages: lookups that find nothing name what was looked up, empty results explain
themselves, no raw codes (HH/LH, hot/cold) on a Chinese page."""

from __future__ import annotations

import re

from .conftest import login_client


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_a_lookup_that_finds_nothing_names_it(web):
    client = login_client(web.app, web.tokens["analyst"])
    page = client.get("/ui/suitability", params={"q": "不存在的企业名"}).text
    assert "没有找到与“不存在的企业名”匹配的企业。" in page
    page = client.get("/ui/suitability", params={"enterprise_id": "E-NOPE-1"}).text
    assert "未找到编号为“E-NOPE-1”的企业" in page
    en = client.get("/ui/suitability", params={"enterprise_id": "E-NOPE-1", "lang": "en"}).text
    assert "No enterprise has the id “E-NOPE-1”" in en


def test_metrics_page_has_no_raw_codes_and_explains_an_empty_lisa(web):
    client = login_client(web.app, web.tokens["analyst"])
    text = _text(client.get("/ui/metrics", params={"sector": "textiles"}).text)
    counts = re.search(r"高-高：\d+；低-高：\d+；低-低：\d+；高-低：\d+；不显著：\d+", text)
    assert counts, "LISA counts in Chinese"
    for raw in (" HH", " LH", " LL", " HL", "hot:", "cold:", "ns:"):
        assert raw not in text, raw
    n_sig = sum(int(n) for n in re.findall(r"高：(\d+)|低：(\d+)", counts.group(0)) for n in n if n)
    assert ("没有显著的局部空间自相关县" in text) == (n_sig == 0)
