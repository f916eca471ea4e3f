"""The API's own refusals (not a coded error of geodata/parks) through the real app: each answers problem+json with a
stable ``code`` and ``detail_zh`` in Chinese, and its English ``detail`` word for word as before (clients read it).

The English references are independent of :mod:`api.problems`: pydantic's own message for the same value
(``TypeAdapter``), the sentences clients have read so far, and the app's settings."""

from __future__ import annotations

import re
from typing import Annotated, Literal

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from api.problems import STATUS_ZH, VALIDATION_ZH, validation_message_zh

PROBLEM = "application/problem+json"
CJK = re.compile(r"[\u4e00-\u9fff]")
HOSTILE = "<script>alert(1)</script>"


def _problem(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    doc = r.json()
    assert doc["status"] == status and isinstance(doc["code"], str) and CJK.search(doc["detail_zh"]), doc
    return doc


def _pydantic_msg(annotation, value) -> tuple[str, str]:
    """(type, msg) pydantic itself gives for ``value`` against ``annotation``."""
    with pytest.raises(ValidationError) as info:
        TypeAdapter(annotation).validate_python(value)
    e = info.value.errors()[0]
    return e["type"], e["msg"]


# --- 404, 405 ------------------------------------------------------------------------------------------------


def test_unknown_route_is_404_with_code_and_chinese(api):
    doc = _problem(api.get("/no/such/path", as_=None), 404)
    assert doc["detail"] == "no such resource; see /openapi.json for the paths this API serves"
    assert doc["code"] == "http.not_found"
    assert doc["detail_zh"] == "没有这个资源；本 API 提供的路径见 /openapi.json"


def test_a_routes_own_not_found_quotes_its_english_after_the_chinese(api):
    r = api.get("/collections/nothing", as_="viewer")
    doc = _problem(r, 404)
    assert doc["code"] == "http.not_found" and doc["detail"].startswith("collection 'nothing' not found")
    assert doc["detail_zh"] == f"未找到所请求的资源（原始信息：{doc['detail']!r}）"


def test_method_not_allowed_is_405_with_allow_and_chinese(api):
    r = api.client.delete("/health")
    doc = _problem(r, 405)
    allowed = [m.strip() for m in r.headers["allow"].split(",")]
    assert "GET" in allowed and "DELETE" not in allowed
    assert doc["detail"] == f"method DELETE is not allowed here; allowed: {', '.join(allowed)}"
    assert doc["code"] == "http.method_not_allowed"
    assert doc["detail_zh"] == f"此处不接受 DELETE 方法；可用的方法：{'、'.join(allowed)}"


# --- 413 --------------------------------------------------------------------------------------------------------


def _too_large_english(limit: int) -> str:
    return f"request body larger than the limit of {limit} bytes (setting PARKPLAN_MAX_BODY_BYTES)"


def test_body_too_large_by_header_is_413_with_chinese(api):
    limit = api.app.state.settings.max_body_bytes
    r = api.post("/suitability", as_="analyst", content=b"x" * (limit + 1), headers={"content-type": "application/json"})
    doc = _problem(r, 413)
    assert doc["detail"] == _too_large_english(limit) and doc["code"] == "body.too_large"
    assert str(limit) in doc["detail_zh"] and "请求体超过" in doc["detail_zh"]


def test_body_too_large_while_streaming_is_413_with_chinese(api):
    limit = api.app.state.settings.max_body_bytes

    def chunks():  # no Content-Length: the limit is met while reading
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    r = api.post("/suitability", as_="analyst", content=chunks(), headers={"content-type": "application/json"})
    doc = _problem(r, 413)
    assert doc["detail"] == _too_large_english(limit) and doc["code"] == "body.too_large"
    assert str(limit) in doc["detail_zh"]


# --- 422: each pydantic error type met, its field and what is accepted in Chinese -----------------------------------

_ITEMS = "/collections/parks/items"


@pytest.mark.parametrize("query, annotation, value, field, zh", [
    ({"limit": "abc"}, int, "abc", "limit", "查询参数 limit：应为整数"),
    ({"limit": "1.5"}, int, "1.5", "limit", "查询参数 limit：应为整数"),
    ({"limit": "0"}, Annotated[int, Field(ge=1)], "0", "limit", "查询参数 limit：应不小于 1"),
    ({"offset": "2000000000"}, Annotated[int, Field(le=1_000_000_000)], "2000000000", "offset",
     "查询参数 offset：应不大于 1000000000"),
    ({"offset": "-1"}, Annotated[int, Field(ge=0)], "-1", "offset", "查询参数 offset：应不小于 0"),
])
def test_a_bad_query_parameter_is_422_with_its_field_in_chinese(api, query, annotation, value, field, zh):
    doc = _problem(api.get(_ITEMS, as_="viewer", params=query), 422)
    _type, msg = _pydantic_msg(annotation, value)
    assert doc["code"] == "request.invalid"
    assert doc["errors"] == [{"field": f"query.{field}", "message": msg, "message_zh": zh}]
    assert doc["detail"] == f"invalid request: query.{field}: {msg}"  # the English, as before
    assert doc["detail_zh"] == f"请求无效：{zh}"


def test_a_literal_parameter_names_its_values_and_never_echoes_the_input(api):
    r = api.get("/maps/parks", as_="viewer", params={"lang": HOSTILE})
    doc = _problem(r, 422)
    _type, msg = _pydantic_msg(Literal["zh", "en"], HOSTILE)
    assert _type == "literal_error"
    assert doc["errors"] and all(e == {"field": "query.lang", "message": msg, "message_zh": "查询参数 lang：应为 'zh'、'en' 之一"}
                                 for e in doc["errors"])
    assert HOSTILE not in doc["detail_zh"] and "<" not in doc["detail_zh"]


def test_a_bad_json_body_is_422_json_invalid_in_chinese(api):
    r = api.post("/suitability", as_="analyst", content=b"{not json", headers={"content-type": "application/json"})
    doc = _problem(r, 422)
    assert doc["code"] == "request.invalid"
    (e,) = doc["errors"]
    assert e["message"] == "JSON decode error"  # FastAPI's message, as before
    assert e["message_zh"].startswith("请求体：不是有效的 JSON（") and "Expecting" in e["message_zh"], e


def test_body_fields_missing_and_out_of_range_in_chinese(api):
    r = api.post("/suitability/batch", as_="analyst", json={"top": 99, "extra": 1})
    doc = _problem(r, 422)
    assert {"field": "enterprise_ids", "message": "Field required",
            "message_zh": "请求体字段 enterprise_ids：缺少此项（必填）"} in doc["errors"]
    assert {"field": "top", "message": _pydantic_msg(Annotated[int, Field(le=50)], 99)[1],
            "message_zh": "请求体字段 top：应不大于 50"} in doc["errors"]
    assert {"field": "extra", "message": "Extra inputs are not permitted",
            "message_zh": "请求体字段 extra：不接受此项"} in doc["errors"]
    assert doc["detail"] == "invalid request: " + "; ".join(f"{e['field']}: {e['message']}" for e in doc["errors"])
    assert doc["detail_zh"] == "请求无效：" + "；".join(e["message_zh"] for e in doc["errors"])
    # a model's own validator (a sentence, type value_error): the Chinese says the value is invalid and quotes it
    r = api.post("/suitability", as_="analyst", json={})
    doc = _problem(r, 422)
    (e,) = doc["errors"]
    assert e["message"].startswith("Value error, give exactly one of enterprise_id")
    assert e["message_zh"] == f"请求体：取值无效（原始信息：{e['message']!r}）"
    r = api.post("/suitability/sensitivity", as_="analyst", json={"enterprise_id": "E1", "n": 0})
    doc = _problem(r, 422)
    _type, msg = _pydantic_msg(Annotated[int, Field(ge=1)], 0)
    assert {"field": "n", "message": msg, "message_zh": "请求体字段 n：应不小于 1"} in doc["errors"]
    r = api.post("/suitability/sensitivity", as_="analyst", json={"enterprise_id": "E1", "n": "many"})
    doc = _problem(r, 422)
    assert {"field": "n", "message": _pydantic_msg(int, "many")[1], "message_zh": "请求体字段 n：应为整数"} in doc["errors"]


def test_every_chinese_sentence_is_chinese_and_fills_its_context():
    # each template renders with pydantic's own context for its type; an unknown type or a missing context value
    # quotes pydantic's English message instead of leaving a placeholder
    cases = {
        "literal_error": _err(Literal["a", "b", "c"], "z"),
        "greater_than": _err(Annotated[float, Field(gt=2.5)], 1),
        "less_than": _err(Annotated[int, Field(lt=3)], 9),
        "string_too_long": _err(Annotated[str, Field(max_length=4)], "abcdef"),
        "too_short": _err(Annotated[list[int], Field(min_length=2)], [1]),
        "float_parsing": _err(float, "x"),
        "bool_parsing": _err(bool, "maybe"),
    }
    assert validation_message_zh(cases["literal_error"]) == "应为 'a'、'b'、'c' 之一"
    assert validation_message_zh(cases["greater_than"]) == "应大于 2.5"
    assert validation_message_zh(cases["less_than"]) == "应小于 3"
    assert validation_message_zh(cases["string_too_long"]) == "最多 4 个字符"
    assert validation_message_zh(cases["too_short"]) == "至少 2 项"
    assert validation_message_zh(cases["float_parsing"]) == "应为数字"
    assert validation_message_zh(cases["bool_parsing"]) == "应为 true 或 false"
    for e in cases.values():
        assert e["type"] in VALIDATION_ZH
    no_ctx = {"type": "less_than_equal", "msg": "5 draws is above the server's limit of 4"}
    assert validation_message_zh(no_ctx) == f"取值无效（原始信息：{no_ctx['msg']!r}）"
    assert validation_message_zh({"type": "url_scheme", "msg": "URL scheme should be 'http'"}).startswith("取值无效（")
    assert all(CJK.search(t) for t in VALIDATION_ZH.values())
    assert all(CJK.search(zh) for _c, zh in STATUS_ZH.values())


def _err(annotation, value) -> dict:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(annotation).validate_python(value)
    return info.value.errors()[0]


# --- 401, 403 from authentication ----------------------------------------------------------------------------------


def test_authentication_refusals_carry_codes_and_chinese(api):
    doc = _problem(api.get("/collections", as_=None), 401)
    assert doc["code"] == "auth.required" and doc["detail"].startswith("authentication required: send 'Authorization")
    assert doc["detail_zh"].startswith("需要身份验证")
    doc = _problem(api.client.get("/collections", headers={"Authorization": "Basic abc"}), 401)
    assert doc["code"] == "auth.header_malformed" and doc["detail"] == "the Authorization header must be 'Bearer TOKEN'"
    doc = _problem(api.client.get("/collections", headers={"Authorization": "Bearer nope"}), 401)
    assert doc["code"] == "auth.token_invalid" and doc["detail"] == "the token is not valid (unknown, malformed or revoked)"
    assert doc["detail_zh"] == "令牌无效（不存在、格式有误或已吊销）"


def test_a_role_too_low_is_403_with_role_names_in_chinese(api):
    r = api.get("/metrics", as_="viewer")
    doc = _problem(r, 403)
    assert doc["detail"] == "this needs the analyst role or higher; your token has viewer"
    assert doc["code"] == "auth.role" and doc["detail_zh"] == "此操作需要分析员或更高的角色；您的令牌是查看者"


def test_precondition_required_quotes_its_english(api):
    cid = _candidate_id(api)
    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="admin", json={"decision": "approved", "comment": "ok"})
    doc = _problem(r, 428)
    assert doc["code"] == "http.precondition_required"
    assert doc["detail_zh"].startswith("须在 If-Match 请求头中给出当前版本（ETag）（原始信息：")


def _candidate_id(api) -> str:
    page = api.get("/transfer-candidates", as_="admin", params={"limit": 1}).json()
    return page["items"][0]["candidate_id"]


def test_the_openapi_problem_schema_still_validates_the_new_members(api):
    import jsonschema_rs

    schema = api.get("/openapi.json", as_=None).json()
    validator = jsonschema_rs.validator_for({"$ref": "#/components/schemas/Problem", "components": schema["components"]})
    for r in (api.get("/no/such/path", as_=None), api.get(_ITEMS, as_="viewer", params={"limit": "abc"}),
              api.get("/metrics", as_="viewer")):
        validator.validate(r.json())


def test_problem_text_for_a_page():
    from api.problems import NotFound, Unauthorized, auth_members, problem_text

    own = Unauthorized("the token is not valid (unknown, malformed or revoked)", **auth_members("auth.token_invalid"))
    assert problem_text(own, "zh") == "令牌无效（不存在、格式有误或已吊销）"
    assert problem_text(own, "en") == own.detail
    plain = NotFound("transfer candidate 'X' not found")
    assert problem_text(plain, "zh") == "未找到所请求的资源（原始信息：\"transfer candidate 'X' not found\"）"
    assert problem_text(plain, "en") == "transfer candidate 'X' not found"


def test_the_suitability_maps_profile_keeps_its_limits_in_chinese(api):
    # the map validates a profile given as query parameters with the API's Profile model; its errors keep pydantic's
    # context, so the Chinese names each parameter's limit
    q = {"sector": "textiles", "land_ha": "-1", "employees": "10", "pollution_class": "light", "lon": "120.2",
         "lat": "95"}
    doc = _problem(api.get("/maps/suitability", as_="analyst", params=q), 422)
    zh = {e["field"]: e["message_zh"] for e in doc["errors"]}
    assert zh == {"query.land_ha": "查询参数 land_ha：应不小于 0", "query.lat": "查询参数 lat：应不大于 90"}, doc
    assert {e["field"]: e["message"] for e in doc["errors"]} == {
        "query.land_ha": _pydantic_msg(Annotated[float, Field(ge=0)], -1)[1],
        "query.lat": _pydantic_msg(Annotated[float, Field(le=90)], 95)[1]}


def test_the_servers_own_limits_say_the_limit_and_its_setting_in_chinese(api):
    settings = api.app.state.settings
    r = api.post("/suitability/sensitivity", as_="analyst", json={"enterprise_id": "E1", "n": settings.max_draws + 1})
    doc = _problem(r, 422)
    (e,) = doc["errors"]
    assert e["message"] == (f"{settings.max_draws + 1} draws is above the server's limit of {settings.max_draws} "
                            "(setting PARKPLAN_MAX_DRAWS)")  # the English, as before
    assert e["message_zh"] == (f"请求体字段 n：共 {settings.max_draws + 1} 个，超过服务器的上限 {settings.max_draws}"
                               "（设置 PARKPLAN_MAX_DRAWS）")
