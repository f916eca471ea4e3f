"""``POST /suitability`` (issue 15): the answer encoded once by orjson is the library's document, the response model
stays in the schema, and the scenario constraints the CLI's scenarios use (own city / own county bands, no park in
an urban core) are request fields, validated, giving the library's and the batch scorer's result."""

from __future__ import annotations

import json

import pytest

from geodata.jsonable import dumps
from parks.suitability import Constraints, score_enterprise
from parks.suitability.scenarios import scenario_constraints


def _library(api, target, constraints=None, top=5) -> dict:
    """What ``parkplan suitability --json`` prints: the library's document, strict JSON."""
    ctx = api.app.state.parkplan.suitability_context()
    return json.loads(dumps(score_enterprise(ctx, target, None, constraints, top=top).to_dict()))


def test_answers_are_the_library_document(api, dataset):
    ids = dataset.enterprises["enterprise_id"].astype(str).iloc[::97].tolist()[:8]
    for eid in ids:
        r = api.post("/suitability", as_="analyst", json={"enterprise_id": eid, "top": 5})
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.json() == _library(api, eid)
    profile = {"sector": "textiles", "land_ha": 2.0, "employees": 120, "pollution_class": "light",
               "lon": 120.6, "lat": 29.9}
    r = api.post("/suitability", as_="analyst", json={"profile": profile, "top": 3})
    assert r.status_code == 200 and r.json() == _library(api, profile, top=3)


def test_response_model_stays_in_the_schema(api):
    op = api.client.get("/openapi.json").json()["paths"]["/suitability"]["post"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SuitabilityOut"}
    props = api.client.get("/openapi.json").json()["components"]["schemas"]["ConstraintsIn"]["properties"]
    assert {"own_city_or_km", "own_county_or_km", "exclude_urban_core_parks"} <= props.keys()


def _urban_core_ids(dataset, n=4) -> list[str]:
    ent = dataset.enterprises
    ids = ent.loc[ent["in_urban_core"].astype(bool), "enterprise_id"].astype(str).tolist()
    assert len(ids) >= n, "the small dataset has enterprises in urban cores"
    return ids[:: max(1, len(ids) // n)][:n]


@pytest.mark.parametrize("scenario", ["urban-core", "scattered"])
def test_scenario_constraints_give_the_library_and_batch_results(api, dataset, scenario):
    """The CLI's scenario constraints (parks.suitability.scenarios.scenario_constraints, which `parkplan suitability
    --scenario` applies) sent as request fields: the library's document, and the same feasible parks and best
    parks as the vectorised batch scorer (a separate implementation) finds."""
    cons = scenario_constraints(scenario)
    fields = {k: v for k, v in cons.to_dict().items()
              if k in ("exclude_urban_core_parks", "own_city_or_km", "own_county_or_km") and v not in (None, False)}
    assert fields, cons
    ids = _urban_core_ids(dataset)
    changed = 0
    for eid in ids:
        r = api.post("/suitability", as_="analyst", json={"enterprise_id": eid, "top": 3, "constraints": fields})
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc == _library(api, eid, Constraints.from_mapping(fields), top=3)
        plain = _library(api, eid, top=3)
        changed += doc["ranked_total"] != plain["ranked_total"]
        codes = {c["code"] for p in doc["excluded"] for c in p["reasons"]}
        assert codes - {c["code"] for p in plain["excluded"] for c in p["reasons"]} <= {
            "urban_core_park", "outside_city_band", "outside_county_band"}
        b = api.post("/suitability/batch", as_="analyst",
                     json={"enterprise_ids": [eid], "top": 3, "constraints": fields})
        assert b.status_code == 200, b.text
        batch = b.json()
        assert batch["summary"][0]["n_feasible"] == doc["ranked_total"]
        assert [t["park_id"] for t in batch["top"]] == [p["park_id"] for p in doc["ranked"]]
        for t, p in zip(batch["top"], doc["ranked"]):
            assert t["score"] == pytest.approx(p["score"], abs=1e-9)
    assert changed, f"the {scenario} constraints exclude parks for at least one of {ids}"


@pytest.mark.parametrize("constraints,field", [
    ({"own_city_or_km": -1}, "own_city_or_km"),
    ({"own_county_or_km": "far"}, "own_county_or_km"),
    ({"own_county_or_km": 1e9}, "own_county_or_km"),
    ({"exclude_urban_core_parks": "sometimes"}, "exclude_urban_core_parks"),
    ({"own_town_or_km": 5}, "own_town_or_km"),
])
def test_bad_scenario_constraints_are_422_naming_the_field(api, dataset, constraints, field):
    eid = str(dataset.enterprises["enterprise_id"].iloc[0])
    r = api.post("/suitability", as_="analyst", json={"enterprise_id": eid, "constraints": constraints})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert field in r.json()["detail"]


def _to_dict_bytes(res) -> bytes:
    """The library's document encoded as the route encoded it before ``result_bytes`` (the reference)."""
    import orjson

    from geodata.jsonable import json_default

    return orjson.dumps(res.to_dict(), default=json_default, option=orjson.OPT_SERIALIZE_NUMPY)


def test_result_bytes_are_the_library_documents_bytes(api, dataset):
    """``result_bytes`` (the route's encoder) gives ``to_dict``'s bytes exactly: ids across the dataset (eliminated
    and ordinary enterprises), a profile, scenario constraints, other weights, every ``top``."""
    from api.routes.suitability import result_bytes

    ctx = api.app.state.parkplan.suitability_context()
    ids = dataset.enterprises["enterprise_id"].astype(str).iloc[::37].tolist()
    profile = {"sector": "petrochemical", "land_ha": 3.5, "employees": 80, "pollution_class": "heavy",
               "lon": 121.1, "lat": 28.7, "product": "dyeing", "size": "below"}
    cases = [(eid, None, None, 5) for eid in ids]
    cases += [(profile, None, None, None), (profile, {"ecology": 1.0, "distance": 0.0}, None, 2)]
    cases += [(eid, {"land_price": 2, "labour": 1}, scenario_constraints(s), top)
              for eid in ids[:12] for s, top in (("urban-core", None), ("scattered", 1))]
    flags = set()
    for target, weights, cons, top in cases:
        res = score_enterprise(ctx, target, weights, cons, top=top)
        got = result_bytes(res)
        assert got == _to_dict_bytes(res), (target, weights, cons, top)
        doc = json.loads(got)
        flags.add(doc["flag"])
    assert len(cases) > 100 and flags == {None, "closure_or_upgrade"}  # eliminated enterprises among them


def test_result_bytes_write_nan_infinity_and_numpy_numbers_as_to_dict_does():
    """Values the data does not produce today: NaN and infinities become ``null``, numpy floats plain numbers, a
    reason dict's own keys stay as they are: the bytes still equal ``to_dict``'s."""
    import numpy as np

    from api.routes.suitability import result_bytes
    from parks.suitability.model import CriterionScore, ExcludedPark, RankedPark, SuitabilityResult

    crit = {"sector_fit": CriterionScore(float("nan"), np.float64(0.25), 0.5, np.float64(0.125)),
            "distance": CriterionScore(float("inf"), -float("inf"), np.float32(0.5), 1e-320)}
    res = SuitabilityResult(
        enterprise={"enterprise_id": "E1", "land_ha": np.float64(2.5), "employees": np.int64(7), "lon": float("nan")},
        weights={"sector_fit": np.float64(0.5), "distance": 0.5}, constraints={"land_margin": 1.2, "kinds": ("a",)},
        ranked=[RankedPark("P1", 1, np.float64(0.3), crit, "园区 \"1\"", "330100"),
                RankedPark("P2", 2, float("nan"), crit, None, "330200")],
        excluded=[ExcludedPark("P3", [{"code": "pollution", "message": "too heavy", "message_zh": "污染"}], None, "330300")],
        ranked_total=2, flag="closure_or_upgrade", params={"speed_kmh": np.float64(60.0), "year": np.int32(2005)})
    assert result_bytes(res) == _to_dict_bytes(res)
    doc = json.loads(result_bytes(res))
    assert doc["ranked"][0]["criteria"]["sector_fit"]["value"] is None
    assert doc["ranked"][0]["criteria"]["distance"] == {"value": None, "score": None, "weight": 0.5,
                                                        "contribution": 1e-320}
    assert doc["ranked"][1]["score"] is None
