"""``GET /maps/{name}`` split into a query dependency, a role dependency and a builder per map: the order of
its answers (401, then 422, then 403, then 404/400), the OpenAPI document of its parameters and statuses, and
one cache key per page whatever the ignored parameters."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


@pytest.mark.parametrize("query", ["lang=fr", "county=12", "sector=" + "x" * 41])
def test_a_bad_query_is_422_before_the_role_check(api, query):
    """A viewer may not see the enterprises map (403), but a malformed query is answered first (422)."""
    assert api.get(f"/maps/enterprises?{query}", as_=None).status_code == 401
    r = api.get(f"/maps/enterprises?{query}", as_="viewer")
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
    assert query.split("=")[0] in r.json()["detail"]


def test_the_role_check_comes_before_the_dataset_lookups(api):
    r = api.get("/maps/enterprises?county=999999", as_="viewer")
    assert r.status_code == 403 and "analyst" in r.json()["detail"], r.text
    r = api.get("/maps/enterprises?county=999999", as_="analyst")
    assert r.status_code == 404 and "999999" in r.json()["detail"], r.text


def test_a_reviewer_outside_the_county_gets_403_on_the_transfers_map(api):
    other_office = api.offices[1]
    r = api.get(f"/maps/transfers?county={other_office}", as_="reviewer_a")
    assert r.status_code == 403 and other_office in r.json()["detail"], r.text


def test_openapi_documents_the_parameters_and_the_403(api):
    """The parameters are those of the single handler before the split, in its order; the 403 the route
    answers is documented (it was not)."""
    op = api.client.get("/openapi.json").json()["paths"]["/maps/{name}"]["get"]
    names = [(p["in"], p["name"]) for p in op["parameters"]]
    assert names == [("path", "name"), ("query", "lang"), ("query", "sector"), ("query", "county"),
                     ("query", "metric"), ("query", "candidate_id"), ("query", "highlight")]
    assert {"200", "400", "401", "403", "404", "422"} <= set(op["responses"])
    assert op["responses"]["403"]["content"][PROBLEM]
    by_name = {p["name"]: p for p in op["parameters"]}
    assert by_name["county"]["schema"]["anyOf"][0]["pattern"] == "^[0-9]{6}$"
    assert by_name["name"]["schema"]["enum"] == ["parks", "enterprises", "clusters", "transfers"]


def test_parameters_a_map_ignores_share_its_cached_page(api):
    """The clusters map is of the whole province: a county (checked) or a metric does not make another page."""
    state = api.app.state.parkplan
    assert api.get("/maps/clusters?lang=en", as_="viewer").status_code == 200
    n = len(state.maps)
    for query in ("lang=en&county=" + api.offices[0], "lang=en&metric=employees"):
        assert api.get(f"/maps/clusters?{query}", as_="viewer").status_code == 200
    assert len(state.maps) == n
    assert api.get("/maps/clusters?lang=en&sector=textiles", as_="viewer").status_code == 200
    assert len(state.maps) == n + 1
