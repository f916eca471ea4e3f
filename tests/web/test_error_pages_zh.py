"""The API's own refusals under ``/ui`` answer a browser with a workspace page in the page's language (Chinese by
default, English with ``lang=en``), not problem+json: an unknown page (404), a method a page does not take (405), a
query parameter a page's route refuses (422, each parameter and what it accepts), a body over the limit (413). The
refused value is never echoed, and every text is escaped. A client asking for JSON, and every path outside ``/ui``,
still gets problem+json with ``code`` and ``detail_zh``."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from .conftest import login_client

PROBLEM = "application/problem+json"
HOSTILE = "<script>alert(1)</script>"
_TAG = re.compile(r"<[^>]+>")


@pytest.fixture(scope="module")
def clients(web):
    return {name: login_client(web.app, web.tokens[name]) for name in ("viewer", "reviewer_a")}


def _page(r, status: int) -> tuple[str, str]:
    """(the #message text, the .detail text) of an error page."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
    assert "content-security-policy" in r.headers
    message = re.search(r'<p id="message">(.*?)</p>', r.text, re.S)
    detail = re.search(r'<p class="detail">(.*?)</p>', r.text, re.S)
    assert message, r.text[:2000]
    return unescape(message.group(1)).strip(), unescape(detail.group(1)).strip() if detail else ""


def test_an_unknown_page_is_a_chinese_page_and_english_with_lang_en(clients):
    c = clients["viewer"]
    msg, detail = _page(c.get("/ui/nonexistent"), 404)
    assert msg == "没有这个页面。" and detail == ""
    assert 'id="who"' in c.get("/ui/nonexistent").text  # the logged-in user's navigation is there
    msg, _ = _page(c.get("/ui/nonexistent?lang=en"), 404)
    assert msg == "No such page."
    # not logged in: the same page (no navigation), never a JSON body
    msg, _ = _page(TestClient(clients["viewer"].app).get("/ui/nonexistent/" + HOSTILE), 404)
    assert msg == "没有这个页面。"


def test_a_refused_query_parameter_is_a_page_naming_the_parameter(clients, web):
    c = clients["reviewer_a"]
    r = c.get("/ui/review", params={"offset": HOSTILE})
    msg, detail = _page(r, 422)
    assert msg == "网址中的参数无效。" and detail == "查询参数 offset：应为整数"
    assert HOSTILE not in r.text and "&lt;script" not in r.text  # the value typed is not echoed
    msg, detail = _page(c.get("/ui/review", params={"offset": "x", "lang": "en"}), 422)
    assert msg == "A parameter in the address is not valid."
    assert detail == "invalid request: query.offset: Input should be a valid integer, unable to parse string as an integer"
    cid = web.candidates["a"][0]
    msg, detail = _page(c.get(f"/ui/review/{cid}", params={"saved": "yes"}), 422)
    assert detail == "查询参数 saved：应为整数"


def test_a_method_the_page_does_not_take_is_a_page(clients):
    r = clients["viewer"].delete("/ui/parks")
    msg, detail = _page(r, 405)
    assert msg == "此页面不接受这种请求方式。" and detail.startswith("此处不接受 DELETE 方法；可用的方法：GET")
    assert "GET" in r.headers["allow"]


def test_a_client_asking_for_json_and_the_api_still_get_problem_json(clients):
    c = clients["viewer"]
    r = c.get("/ui/nonexistent", headers={"accept": "application/json"})
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "http.not_found"
    r = c.get("/no/such/api/path")
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["detail_zh"] == "没有这个资源；本 API 提供的路径见 /openapi.json"


@pytest.mark.parametrize("field, typed, zh, en", [
    ("p_land_ha", "abc", "企业概况的 land_ha", "profile land_ha must be a number >= 0, got 'abc'"),
    ("p_employees", HOSTILE, "企业概况的 employees", f"profile employees must be a number >= 0, got {HOSTILE!r}"),
    ("p_lon", "east", "'east'", "profile lon/lat ('east', 30.2) are not WGS 84 degrees (lon, lat)"),
])
def test_the_suitability_page_refuses_a_typed_number_that_is_not_one(web, field, typed, zh, en):
    # the suitability page reads its query as a form: a number that is not one is the model's refusal, shown in the
    # page's language with the field and the value as typed (escaped), not silently read as 0
    from parks.suitability import SuitabilityError
    from geodata.messages import message

    c = login_client(web.app, web.tokens["analyst"])
    query = {"p_sector": "textiles", "p_land_ha": "2", "p_employees": "120", "p_pollution_class": "light",
             "p_lon": "120.2", "p_lat": "30.2", field: typed}
    for lang, expected in (("zh", zh), ("en", en)):
        r = c.get("/ui/suitability", params={**query, **({"lang": "en"} if lang == "en" else {})})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        m = re.search(r'id="suit-error"[^>]*>(.*?)</', r.text, re.S)
        assert m, r.text[:1500]
        text = unescape(m.group(1)).strip()
        assert expected in text, text
        assert HOSTILE not in r.text  # escaped wherever it is shown
        if lang == "zh":
            assert "must be" not in text and "not WGS" not in text
    # the English is the model's own refusal of the same value
    if field == "p_land_ha":
        assert en == str(SuitabilityError("profile.number", name="land_ha", value=typed))
        assert message(SuitabilityError("profile.number", name="land_ha", value=typed), "zh").startswith(zh)


def test_a_form_over_the_body_limit_is_a_page(clients, web):
    limit = web.app.state.settings.max_body_bytes
    cid = web.candidates["a"][0]
    r = clients["reviewer_a"].post(f"/ui/review/{cid}", content=b"x" * (limit + 1),
                                   headers={"content-type": "application/x-www-form-urlencoded"})
    msg, detail = _page(r, 413)
    assert msg == "提交的内容过大。" and detail == f"请求体超过 {limit} 字节的上限（服务器设置 PARKPLAN_MAX_BODY_BYTES）"
    r = clients["reviewer_a"].post(f"/ui/review/{cid}?lang=en", content=b"x" * (limit + 1),
                                   headers={"content-type": "application/x-www-form-urlencoded"})
    msg, detail = _page(r, 413)
    assert msg == "What was sent is too large." and detail.startswith("request body larger than the limit of")
