"""A refusal of the suitability model (a coded error) answers problem+json with its English ``detail`` as before, its stable
``code`` and ``detail_zh`` (the same refusal in Chinese), as the OpenAPI document's Problem schema says."""

from __future__ import annotations

import pytest

from geodata.messages import message
from parks.suitability import UnknownEnterpriseError

PROBLEM = "application/problem+json"


def test_a_coded_refusal_carries_its_code_and_chinese_detail(api):
    # the request model refuses bad weights and profiles itself (422); what reaches the model is refused by it
    r = api.post("/suitability", as_="analyst", json={"enterprise_id": "E-NOPE-<b>"})
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM, r.text
    doc = r.json()
    expected = UnknownEnterpriseError("enterprise.unknown", enterprise_id="E-NOPE-<b>")
    assert doc["detail"] == str(expected) == "enterprise_id 'E-NOPE-<b>' is not in the dataset"  # English, as before
    assert doc["code"] == "enterprise.unknown"
    assert doc["detail_zh"] == message(expected, "zh") == "企业编号 'E-NOPE-<b>' 不在数据集中"


def test_a_routes_sentence_gets_its_statuss_code_and_quotes_the_english(api):
    # a route's own ProblemError (a sentence, no code of geodata/parks): the status's code (api.problems.STATUS_ZH)
    # and the kind of refusal in Chinese with the English detail quoted after it
    doc = api.get("/collections/nothing", as_="viewer").json()
    assert doc["code"] == "http.not_found"
    assert doc["detail_zh"] == f"未找到所请求的资源（原始信息：{doc['detail']!r}）"


def test_the_problem_schema_documents_code_and_detail_zh(api):
    import jsonschema_rs

    schema = api.get("/openapi.json", as_=None).json()
    props = schema["components"]["schemas"]["Problem"]["properties"]
    assert {"code", "detail_zh"} <= set(props) and set(schema["components"]["schemas"]["Problem"]["required"]) == {
        "title", "status", "detail"}
    doc = api.post("/suitability", as_="analyst", json={"enterprise_id": "E-NOPE"}).json()
    assert doc["code"] == "enterprise.unknown"
    jsonschema_rs.validator_for({"$ref": "#/components/schemas/Problem",
                                 "components": schema["components"]}).validate(doc)
