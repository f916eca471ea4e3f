"""The start-up warm-up's share for the pages' frames and the scenarios page (issue 15: with ``--workers 2`` each
worker warms its own, so no user's visit draws them): after :func:`api.web.pages_scenarios.warm` and
:func:`api.routes.maps.warm_frames`, the scenarios page of every scenario, its flow map, the parks map and a new
suitability query's map are answered without drawing a chart or building a folium map."""

from __future__ import annotations

import pytest

from .conftest import login_client


def _fail(*_a, **_k):
    pytest.fail("built again after the warm-up")


def test_warmed_pages_and_frames_build_nothing(web, monkeypatch):
    from api.routes import maps as map_routes
    from api.routes import scenarios as scenario_routes
    from api.web import charts, pages_scenarios

    state = web.app.state.parkplan
    pages_scenarios.warm(state)
    map_routes.warm_frames(state)
    for target, name in ((charts, "bar_chart"), (scenario_routes, "flows_map"), (map_routes, "build_map"),
                         (map_routes, "suitability_template")):
        monkeypatch.setattr(target, name, _fail)
    monkeypatch.setattr(map_routes.SuitabilityBase, "build", classmethod(_fail))
    client = login_client(web.app, web.tokens["analyst"])
    for scenario in pages_scenarios.SCENARIO_CHOICES:
        r = client.get(f"/ui/scenarios?scenario={scenario}")
        assert r.status_code == 200 and 'id="table-summary"' in r.text, scenario
        frame = client.get(f"/scenarios/{scenario}/map")
        assert frame.status_code == 200 and "PARKPLAN.ready = true" in frame.text, scenario
    assert client.get("/maps/parks").status_code == 200
    ent = state.dataset.enterprises["enterprise_id"].astype(str)
    for eid in ent.iloc[[3, len(ent) // 2]]:  # new queries: only their own data are written into the template
        r = client.get(f"/maps/suitability?enterprise_id={eid}")
        assert r.status_code == 200 and "PARKPLAN.ready = true" in r.text


def test_a_repeated_suitability_query_is_joined_from_its_kept_texts(web, monkeypatch):
    """The frame of a query asked again (a reload) is the same page, made without scoring or writing its data again;
    the kept queries are bounded (the oldest is made again)."""
    import re

    from api.routes import maps as map_routes

    client = login_client(web.app, web.tokens["analyst"])
    ent = web.app.state.parkplan.dataset.enterprises["enterprise_id"].astype(str)
    url = f"/maps/suitability?enterprise_id={ent.iloc[5]}&lang=en"
    first = client.get(url)
    real = map_routes.suitability_values
    monkeypatch.setattr(map_routes, "suitability_values", _fail)
    again = client.get(url)
    nonce = re.compile(r'nonce="[^"]+"')
    assert first.status_code == again.status_code == 200
    assert nonce.sub("", again.text) == nonce.sub("", first.text)
    monkeypatch.setattr(map_routes, "suitability_values", real)
    for eid in ent.iloc[6:6 + map_routes.SUITABILITY_QUERIES_KEPT]:  # pushes the first query out
        assert client.get(f"/maps/suitability?enterprise_id={eid}&lang=en").status_code == 200
    calls = []
    monkeypatch.setattr(map_routes, "suitability_values", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert nonce.sub("", client.get(url).text) == nonce.sub("", first.text)
    assert calls == [1]


def test_the_warm_up_compiles_templates_that_exist():
    from api.web.core import TEMPLATES
    from api.web.warm import PAGE_TEMPLATES

    for name in PAGE_TEMPLATES:
        assert TEMPLATES.get_template(name).name == name
