"""The API contract: parameters validated before anything is computed, strong If-Match, the OGC datetime
parameter, Allow on 405, and an OpenAPI document that says what the server answers."""

from __future__ import annotations

import time

import pytest

PROBLEM = "application/problem+json"


def _candidate(api):
    from sqlalchemy import select

    from api.db import TransferCandidate

    office = api.offices[0]
    with api.app.state.sessions() as db:
        return db.execute(select(TransferCandidate.candidate_id).where(
            TransferCandidate.origin_county_code == office).order_by(TransferCandidate.candidate_id)).scalars().first()


# --- validation before computation ---------------------------------------------------------------------


@pytest.fixture
def no_metrics_context(api, monkeypatch):
    """The module's app as on a fresh server (no metrics context), with building one recorded."""
    from parks.metrics import report

    built: list[str] = []
    state = api.app.state.parkplan
    kept = state.contexts.get(state.key("metrics"))
    state.forget_metrics_context()
    monkeypatch.setattr(report, "MetricsContext", lambda *a, **k: built.append("context"))
    api.built = built
    yield api
    state.forget_metrics_context()
    if kept is not None:
        state.contexts.put(state.key("metrics"), kept)


@pytest.mark.parametrize("query", ["permutations=0", "permutations=18", "permutations=10000", "simulations=-1",
                                   "simulations=100", "simulations=999", "sector=txtile", "county=33010",
                                   "county=%D9%A3%D9%A3%D9%A0%D9%A1%D9%A0%D9%A2"])
@pytest.mark.parametrize("path", ["/metrics", "/metrics/lisa", "/metrics/ripley"])
def test_metric_parameters_out_of_range_are_422_before_any_computation(no_metrics_context, path, query):
    """The issue's case (permutations=0 answered 500 after 85 s): refused at once, and nothing is computed (no
    metrics context is built, so no report function can run)."""
    api = no_metrics_context
    t0 = time.perf_counter()
    r = api.get(f"{path}?{query}", as_="analyst")
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
    assert time.perf_counter() - t0 < 5 and api.built == [] and api.app.state.parkplan.key("metrics") not in api.app.state.parkplan.contexts
    assert query.split("=")[0] in r.json()["detail"]


def test_unknown_county_is_404_before_any_computation(no_metrics_context):
    r = no_metrics_context.get("/metrics/lisa?county=000000", as_="analyst")
    assert r.status_code == 404 and "000000" in r.json()["detail"] and no_metrics_context.built == []


def test_metric_limits_at_the_boundary_are_accepted(api):
    r = api.get("/metrics/lisa?permutations=19&simulations=0&sector=textiles", as_="analyst")
    assert r.status_code == 200 and r.json()["lisa"]
    assert all(row["p_sim"] is None or row["p_sim"] >= 1 / 20 for row in r.json()["lisa"])


def test_metric_part_names_are_the_reports():
    from api.routes.metrics import PART_NAMES
    from parks.metrics.report import METRIC_KEYS

    assert tuple(PART_NAMES) == tuple(METRIC_KEYS)


@pytest.mark.parametrize("body, field", [
    ({"enterprise_id": "E0000001", "weights": {}}, "weights"),
    ({"enterprise_id": "E0000001", "weights": {"distance": 0, "policy": 0}}, "weights"),
    ({"enterprise_id": "E0000001", "weights": {"distance": -1}}, "weights.distance"),
    ({"enterprise_id": "E0000001", "weights": {"nonsense": 1}}, "weights"),
    ({}, "body"),
    ({"enterprise_id": None}, "enterprise_id"),
])
def test_suitability_bodies_the_schema_refuses_are_422(api, body, field):
    r = api.post("/suitability", as_="analyst", json=body)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
    assert any(e["field"].startswith(field) for e in r.json()["errors"]), r.json()


def test_zero_weights_besides_a_positive_one_are_accepted(api, dataset):
    eid = str(dataset.enterprises["enterprise_id"].iloc[0])
    r = api.post("/suitability", as_="analyst", json={"enterprise_id": eid, "weights": {"distance": 0, "policy": 2}})
    assert r.status_code == 200 and r.json()["weights"]["policy"] == 1.0 and r.json()["weights"]["distance"] == 0.0


def test_server_limits_are_in_the_schema_and_enforced(api, dataset):
    settings = api.app.state.settings
    comps = api.app.openapi()["components"]["schemas"]
    assert comps["SensitivityIn"]["properties"]["n"]["maximum"] == settings.max_draws
    assert comps["BatchIn"]["properties"]["enterprise_ids"]["maxItems"] == settings.max_batch
    eid = str(dataset.enterprises["enterprise_id"].iloc[0])
    r = api.post("/suitability/sensitivity", as_="analyst", json={"enterprise_id": eid, "n": settings.max_draws + 1})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "n" and "PARKPLAN_MAX_DRAWS" in r.text
    r = api.post("/suitability/batch", as_="analyst", json={"enterprise_ids": [eid] * (settings.max_batch + 1)})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "enterprise_ids"


# --- If-Match: strong comparison -----------------------------------------------------------------------


def test_weak_if_match_never_matches(fresh_api):
    api = fresh_api
    cid = _candidate(api)
    r = api.get(f"/transfer-candidates/{cid}", as_="admin")
    etag = r.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    body = {"decision": "approved", "comment": "weak"}
    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="admin", json=body, headers={"If-Match": f"W/{etag}"})
    assert r.status_code == 412 and r.headers["content-type"] == PROBLEM
    assert "weak" in r.json()["detail"] and r.headers["ETag"] == etag
    assert api.get(f"/transfer-candidates/{cid}", as_="admin").json()["version"] == 1  # nothing changed
    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="admin", json=body, headers={"If-Match": "0000"})
    assert r.status_code == 412 and "names no entity tag" in r.json()["detail"]
    # a list with the strong tag matches; the same list only weak does not
    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="admin", json=body,
                 headers={"If-Match": f'W/"x", {etag}'})
    assert r.status_code == 201 and r.json()["candidate"]["version"] == 2


# --- OGC datetime ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2005-01-01T00:00:00Z", "2005-01-01T08:00:00+08:00", "2005-01-01",
                                   "../2005-12-31T00:00:00Z", "2005-01-01T00:00:00Z/..",
                                   "2005-01-01T00:00:00Z/2005-12-31T23:59:60Z", "2005-06-30t23:59:59.5z"])
def test_datetime_instants_and_intervals_are_accepted(api, value):
    from urllib.parse import quote

    r = api.get(f"/collections/parks/items?limit=1&datetime={quote(value)}", as_="viewer")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert r.json()["numberMatched"] == len(api.app.state.dataset.parks)  # no temporal extent: nothing filtered


@pytest.mark.parametrize("value, status, words", [
    ("yesterday", 422, "datetime"), ("2005-01-01T00:00:00", 422, "datetime"), ("2005-13-01", 422, "datetime"),
    ("../..", 422, "datetime"), ("2005-01-01/2005-02-01/2005-03-01", 422, "datetime"),
    ("2005-02-30", 400, "not a calendar date"), ("0000-01-01", 400, "not a calendar date"),
    ("2006-01-01/2005-01-01", 400, "starts after it ends"),
])
def test_malformed_datetime_is_refused_naming_it(api, value, status, words):
    from urllib.parse import quote

    r = api.get(f"/collections/parks/items?datetime={quote(value)}", as_="viewer")
    assert r.status_code == status and r.headers["content-type"] == PROBLEM
    assert words in r.json()["detail"]


@pytest.mark.parametrize("bbox, status", [("120,29,121,30", 200), ("120,29,0,121,30,0", 200), ("120,95,121,96", 400),
                                          ("120,30,121,29", 400), ("a,b,c,d", 422), ("1,2,3", 422)])
def test_bbox_pattern_and_ranges(api, bbox, status):
    assert api.get(f"/collections/parks/items?bbox={bbox}", as_="viewer").status_code == status


# --- 405 and Allow --------------------------------------------------------------------------------------


def test_405_lists_every_method_of_the_path(api):
    cid = _candidate(api)
    r = api.client.request("DELETE", f"/transfer-candidates/{cid}/reviews", headers=api.headers("admin"))
    assert r.status_code == 405 and r.headers["content-type"] == PROBLEM
    assert {m.strip() for m in r.headers["Allow"].split(",")} == {"GET", "POST"}
    r = api.client.request("PUT", "/suitability", headers=api.headers("admin"))
    assert r.status_code == 405 and r.headers["Allow"] == "POST"


# --- the OpenAPI document -------------------------------------------------------------------------------


def test_openapi_documents_what_the_server_answers(api):
    schema = api.app.openapi()
    paths = schema["paths"]

    def responses(method, path):
        return paths[path][method]["responses"]

    for path in ("/collections/{collection_id}/items", "/collections/{collection_id}/items/{feature_id}"):
        ok = responses("get", path)["200"]["content"]
        assert list(ok) == ["application/geo+json"] and "$ref" in ok["application/geo+json"]["schema"]
    assert set(responses("post", "/transfer-candidates/{candidate_id}/reviews")) >= {
        "201", "400", "401", "403", "404", "412", "413", "422", "428"}
    assert "ETag" in responses("post", "/transfer-candidates/{candidate_id}/reviews")["412"]["headers"]
    for method, path in (("post", "/suitability"), ("post", "/suitability/sensitivity"),
                         ("post", "/suitability/batch"), ("get", "/metrics"), ("get", "/metrics/{name}"),
                         ("get", "/transfer-candidates"), ("get", "/transfer-candidates/{candidate_id}")):
        ok = responses(method, path).get("200")
        assert "$ref" in ok["content"]["application/json"]["schema"], (method, path)
    assert "401" not in responses("get", "/health") and "401" in responses("get", "/conformance")
    assert "403" not in responses("get", "/conformance") and "403" in responses("get", "/metrics")
    assert "413" in responses("post", "/suitability") and "413" not in responses("get", "/metrics")
    assert "412" not in responses("post", "/suitability")
    for item in paths.values():
        for op in item.values():
            for code, resp in op["responses"].items():
                if code[0] in "45":
                    assert resp["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    metric = [p for p in paths["/metrics/{name}"]["get"]["parameters"] if p["name"] == "name"][0]
    from parks.metrics.report import METRIC_KEYS

    assert metric["schema"]["enum"] == list(METRIC_KEYS)
    perms = [p for p in paths["/metrics"]["get"]["parameters"] if p["name"] == "permutations"][0]["schema"]
    assert perms["minimum"] >= 19 and perms["maximum"] <= 9999


def test_every_documented_error_answer_is_a_problem(api):
    """Real answers of each documented kind carry the Problem schema's members."""
    cid = _candidate(api)
    answers = [
        api.get("/metrics", as_=None),  # 401
        api.get("/metrics", as_="viewer"),  # 403
        api.get("/collections/nothing", as_="viewer"),  # 404
        api.get("/collections/parks/items?bbox=1,95,2,96", as_="viewer"),  # 400
        api.post("/suitability", as_="analyst", json={}),  # 422
        api.post(f"/transfer-candidates/{cid}/reviews", as_="admin", json={"decision": "approved"}),  # 428
        api.post(f"/transfer-candidates/{cid}/reviews", as_="admin", json={"decision": "approved", "version": 99}),  # 412
    ]
    assert [r.status_code for r in answers] == [401, 403, 404, 400, 422, 428, 412]
    for r in answers:
        body = r.json()
        assert r.headers["content-type"] == PROBLEM and {"type", "title", "status", "detail"} <= set(body)
        assert body["status"] == r.status_code


def _validator(schema, ref):
    import jsonschema_rs

    return jsonschema_rs.validator_for({"$ref": ref, "components": schema["components"]})


def test_real_answers_match_their_documented_models(api, dataset):
    """What the routes answer on real requests validates against the response schema the document gives them
    (schemathesis rarely reaches batch with existing ids; here each is called with real data)."""
    schema = api.app.openapi()
    ids = list(dataset.enterprises["enterprise_id"].astype(str).iloc[:3])
    cid = _candidate(api)
    feature = str(dataset.parks["park_id"].iloc[0])
    calls = [
        ("post", "/suitability", api.post("/suitability", as_="analyst", json={"enterprise_id": ids[0], "top": 3})),
        ("post", "/suitability/sensitivity", api.post("/suitability/sensitivity", as_="analyst",
                                                      json={"enterprise_id": ids[0], "n": 50})),
        ("post", "/suitability/batch", api.post("/suitability/batch", as_="analyst",
                                                json={"enterprise_ids": ids, "top": 2})),
        ("get", "/metrics", api.get("/metrics?sector=textiles&simulations=5&permutations=19", as_="analyst")),
        ("get", "/metrics/{name}", api.get("/metrics/clusters?sector=textiles", as_="analyst")),
        ("get", "/metrics/{name}", api.get("/metrics/ripley?sector=textiles&simulations=3", as_="analyst")),
        ("get", "/collections/{collection_id}/items", api.get("/collections/enterprises/items?limit=5", as_="analyst")),
        ("get", "/collections/{collection_id}/items/{feature_id}",
         api.get(f"/collections/parks/items/{feature}", as_="viewer")),
        ("get", "/transfer-candidates", api.get("/transfer-candidates?limit=3", as_="admin")),
        ("get", "/", api.get("/", as_=None)),
        ("get", "/conformance", api.get("/conformance", as_="viewer")),
        ("get", "/collections", api.get("/collections", as_="analyst")),
        ("get", "/collections/{collection_id}", api.get("/collections/counties", as_="viewer")),
        ("get", "/transfer-candidates/{candidate_id}", api.get(f"/transfer-candidates/{cid}", as_="admin")),
    ]
    for method, path, r in calls:
        assert r.status_code == 200, (path, r.text[:300])
        content = schema["paths"][path][method]["responses"]["200"]["content"]
        ctype = r.headers["content-type"].split(";")[0]
        assert list(content)[0] == ctype, (path, ctype)
        ref = content[ctype]["schema"]["$ref"]
        errors = [str(e) for e in _validator(schema, ref).iter_errors(r.json())][:3]
        assert not errors, (path, errors)
    # and a wrong shape does not pass: the models say something
    assert not _validator(schema, "#/components/schemas/MetricsPart").is_valid({"lisa": [], "sectors": []})
    assert not _validator(schema, "#/components/schemas/FeatureCollectionOut").is_valid({"type": "Feature"})
