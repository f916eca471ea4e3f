"""POST /suitability (+ sensitivity, batch) and GET /metrics return the library's (= the CLI's) JSON."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def ctx(dataset):
    from parks.suitability import context_from_dataset

    return context_from_dataset(dataset)


def _enterprise(dataset) -> str:
    return str(dataset.enterprises["enterprise_id"].iloc[5])


def test_suitability_equals_the_library_document(api, dataset, ctx):
    from parks.suitability import score_enterprise

    eid = _enterprise(dataset)
    weights = {"transport": 2, "land_price": 1, "labour": 1}
    r = api.post("/suitability", as_="analyst", json={"enterprise_id": eid, "weights": weights, "top": 5,
                                                      "constraints": {"max_distance_km": 150}})
    assert r.status_code == 200, r.text
    expected = score_enterprise(ctx, eid, weights, {"max_distance_km": 150}, top=5).to_dict()
    assert r.json() == expected
    assert len(r.json()["ranked"]) <= 5 and r.json()["ranked_total"] + len(r.json()["excluded"]) == len(dataset.parks)


def test_suitability_for_a_profile(api):
    profile = {"sector": "machinery", "land_ha": 2.5, "employees": 120, "pollution_class": "medium",
               "lon": 120.6, "lat": 28.0, "name": "<img src=x onerror=alert(1)>"}
    r = api.post("/suitability", as_="analyst", json={"profile": profile, "top": 3})
    assert r.status_code == 200
    assert r.json()["enterprise"]["source"] == "profile" and r.json()["enterprise"]["name"] == profile["name"]


def test_suitability_errors(api):
    assert api.post("/suitability", as_="viewer", json={"enterprise_id": "E0000001"}).status_code == 403
    r = api.post("/suitability", as_="analyst", json={"enterprise_id": "E9999999"})
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    r = api.post("/suitability", as_="analyst", json={"enterprise_id": "E0000001", "weights": {"beauty": 1}})
    assert r.status_code == 422 and "accepted" in r.json()["detail"] and "sector_fit" in r.json()["detail"]
    r = api.post("/suitability", as_="analyst", json={})
    assert r.status_code == 422 and "exactly one" in r.json()["detail"]


def test_sensitivity_is_the_library_table_and_limited(api, dataset, ctx):
    from parks.suitability.sensitivity import weight_sensitivity

    eid = _enterprise(dataset)
    r = api.post("/suitability/sensitivity", as_="analyst", json={"enterprise_id": eid, "n": 200, "seed": 3})
    assert r.status_code == 200
    table = weight_sensitivity(ctx, eid, n=200, seed=3)
    got = r.json()["parks"]
    assert [p["park_id"] for p in got] == list(table["park_id"])
    assert [p["p_rank1"] for p in got] == pytest.approx(list(table["p_rank1"]))
    too_many = api.app.state.settings.max_draws + 1
    r = api.post("/suitability/sensitivity", as_="analyst", json={"enterprise_id": eid, "n": too_many})
    assert r.status_code == 422 and "limit" in r.json()["detail"] and r.json()["errors"][0]["field"] == "n"


def test_batch_matches_single_scoring_and_has_a_size_limit(api, dataset, ctx):
    from parks.suitability import score_enterprise

    ids = list(dataset.enterprises["enterprise_id"].astype(str).iloc[:6])
    r = api.post("/suitability/batch", as_="analyst", json={"enterprise_ids": ids, "top": 2})
    assert r.status_code == 200
    top = r.json()["top"]
    for eid in ids[:3]:
        single = score_enterprise(ctx, eid, top=2).to_dict()["ranked"]
        assert [t["park_id"] for t in top if t["enterprise_id"] == eid] == [p["park_id"] for p in single]
    limit = api.app.state.settings.max_batch
    r = api.post("/suitability/batch", as_="analyst", json={"enterprise_ids": [f"E{i:07d}" for i in range(limit + 1)]})
    assert r.status_code == 422 and "limit" in r.json()["detail"] and "PARKPLAN_MAX_BATCH" in r.json()["detail"]
    r = api.post("/suitability/batch", as_="analyst", json={"enterprise_ids": ids[:1] + ["E9999999"]})
    assert r.status_code == 404 and "E9999999" in r.json()["detail"]


def test_metrics_part_equals_the_report_function(api, dataset):
    from parks.metrics.report import jsonable, location_quotient_rows, park_capture_rows

    r = api.get("/metrics/location_quotients?sector=textiles", as_="analyst")
    assert r.status_code == 200
    assert r.json() == {"location_quotients": jsonable(location_quotient_rows(dataset, "textiles", None))}
    county = str(dataset.enterprises["county_code"].dropna().iloc[0])
    r = api.get(f"/metrics/park_capture?county={county}", as_="analyst")
    assert r.json() == {"park_capture": jsonable(park_capture_rows(dataset, None, county))}


def test_metrics_document_has_every_key_and_errors(api):
    from parks.metrics.report import METRIC_KEYS

    r = api.get("/metrics?sector=textiles&permutations=49&simulations=0", as_="analyst")
    assert r.status_code == 200 and set(r.json()) == set(METRIC_KEYS)
    r = api.get("/metrics/location_quotients?sector=nonsense", as_="analyst")
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM and "textiles" in r.json()["detail"]
    assert api.get("/metrics/sectors", as_="viewer").status_code == 403


@pytest.fixture
def fresh_metrics_context(api):
    """The app as on a fresh server: no metrics context yet (the one it had is put back afterwards)."""
    state = api.app.state.parkplan
    kept = state.contexts.get(state.key("metrics"))
    state.forget_metrics_context()
    yield api
    state.forget_metrics_context()
    if kept is not None:
        state.contexts.put(state.key("metrics"), kept)


def test_metrics_requests_share_one_context_built_once(fresh_metrics_context, monkeypatch):
    """Two uncached metric requests get the same MetricsContext (the app's), built once; what they answer is
    what the report functions give for the plain dataset."""
    from parks.metrics import report

    api = fresh_metrics_context

    built: list[object] = []
    seen: list[object] = []

    class CountingContext(report.MetricsContext):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    def spy(fn):
        def wrapper(ds, *args, **kwargs):
            seen.append(ds)
            return fn(ds, *args, **kwargs)
        return wrapper

    monkeypatch.setattr(report, "MetricsContext", CountingContext)
    monkeypatch.setattr(report, "location_quotient_rows", spy(report.location_quotient_rows))
    monkeypatch.setattr(report, "per_mu_rows", spy(report.per_mu_rows))
    # distinct parameters, so that neither answer comes from the route's result cache
    a = api.get("/metrics/location_quotients?sector=petrochemical&permutations=21", as_="analyst")
    b = api.get("/metrics/per_mu?sector=petrochemical&permutations=22", as_="analyst")
    assert a.status_code == 200 and b.status_code == 200
    assert len(built) == 1 and len(seen) == 2
    assert seen[0] is seen[1] is built[0] is api.app.state.parkplan.metrics_context()
    dataset = api.app.state.dataset
    assert a.json() == {"location_quotients": report.jsonable(report.location_quotient_rows(dataset, "petrochemical"))}
    assert b.json() == {"per_mu": report.jsonable(report.per_mu_rows(dataset, "petrochemical"))}


def test_metrics_context_is_built_once_under_concurrent_first_use(fresh_metrics_context, monkeypatch):
    import threading

    from api.app import metrics_context
    from parks.metrics import report

    api = fresh_metrics_context

    built: list[object] = []

    class CountingContext(report.MetricsContext):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(report, "MetricsContext", CountingContext)
    n = 8
    start = threading.Barrier(n)
    got: list[object] = []

    def first_use():
        start.wait()
        got.append(metrics_context(api.app))

    threads = [threading.Thread(target=first_use) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and len(got) == n and all(c is built[0] for c in got)


def test_metrics_cache_is_bounded(api, monkeypatch):
    from api.cache import LockedCache

    state = api.app.state.parkplan
    monkeypatch.setattr(state, "metrics", LockedCache(3, "metrics"))
    for p in range(19, 24):
        assert api.get(f"/metrics/location_quotients?permutations={p}", as_="analyst").status_code == 200
    assert len(state.metrics) == 3
    assert [k[-2] for k in state.metrics.keys()] == [21, 22, 23]  # the three most recent permutations


def test_the_api_returns_the_clis_json(api, dataset, dataset_path):
    """`parkplan suitability --json` and `parkplan metrics --json` print what the API answers."""
    import json

    from typer.testing import CliRunner

    from api.cli import app as cli

    runner = CliRunner()
    eid = _enterprise(dataset)
    out = runner.invoke(cli, ["suitability", "--enterprise", eid, "--top", "5", "--json", "--data", str(dataset_path)])
    assert out.exit_code == 0, out.output
    api_doc = api.post("/suitability", as_="analyst", json={"enterprise_id": eid, "top": 5}).json()
    assert json.loads(out.stdout) == api_doc

    out = runner.invoke(cli, ["metrics", "--sector", "textiles", "--simulations", "0", "--permutations", "49", "--json",
                              "--data", str(dataset_path)])
    assert out.exit_code == 0, out.output
    api_doc = api.get("/metrics?sector=textiles&simulations=0&permutations=49", as_="analyst").json()
    assert json.loads(out.stdout) == api_doc
