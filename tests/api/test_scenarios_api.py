"""``/scenarios``: the plan report over HTTP (schema, roles, the same numbers as the report computed
directly), its Excel workbook read back with openpyxl, the flow map, and the background computation."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from api.routes import scenarios as route
from api.routes.scenarios import PlanOut, ScenariosOut

SCENARIOS = ("urban-core", "scattered", "coastal-transfer", "all")


@pytest.fixture(scope="module")
def plans(api):
    """Every plan over HTTP as the analyst (computed once per app)."""
    out = {}
    for s in SCENARIOS:
        r = api.get(f"/scenarios/{s}/plan", as_="analyst")
        assert r.status_code == 200, r.text
        out[s] = r.json()
    return out


@pytest.mark.parametrize("path", ["/scenarios", "/scenarios/urban-core/plan", "/scenarios/all/plan.xlsx",
                                  "/scenarios/all/map"])
def test_roles(api, path):
    assert api.get(path, as_=None).status_code == 401
    r = api.get(path, as_="viewer")
    assert r.status_code == 403 and "analyst" in r.json()["detail"]
    if path == "/scenarios":
        for role in ("analyst", "reviewer_a", "admin"):
            assert api.get(path, as_=role).status_code == 200


def test_scenarios_and_their_parameters(api):
    r = api.get("/scenarios", as_="analyst")
    doc = ScenariosOut.model_validate(r.json()).model_dump()
    assert [s["id"] for s in doc["scenarios"]] == list(SCENARIOS)
    by_id = {s["id"]: s for s in doc["scenarios"]}
    assert by_id["coastal-transfer"]["constraints"]["less_developed_only"] is True
    assert by_id["urban-core"]["label_zh"] == "城区企业退城入园" and by_id["all"]["constraints"] is None
    assert doc["default_priority"] == ["urban-core", "coastal-transfer", "scattered"]
    assert doc["report_params"]["bands_km"] == [10.0, 30.0, 50.0, 100.0]
    assert "urban_core_band_km" in doc["scenario_params"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_plan_document_follows_its_schema_and_adds_up(plans, scenario):
    doc = plans[scenario]
    PlanOut.model_validate(doc)  # extra="forbid": no field the schema does not name
    assert doc["scenario"] == scenario and doc["allocation_status"] in ("optimal", "time_limit", "time_limit_greedy")
    expected = [scenario] if scenario != "all" else ["urban-core", "scattered", "coastal-transfer", "all"]
    assert doc["scenarios"] == expected
    for row in doc["summary"]:
        s = row["scenario"]
        assert row["assigned"] + row["unassigned"] == row["enterprises"]
        bands = [b for b in doc["distance_bands"] if b["scenario"] == s]
        assert sum(b["firms"] for b in bands) == row["assigned"]
        load = [p for p in doc["park_load"] if p["scenario"] == s]
        assert sum(p["firms"] for p in load) == row["assigned"]
        assert sum(p["land_ha"] for p in load) == pytest.approx(row["land_ha"])
        unplaced = [u for u in doc["unplaced"] if u["scenario"] == s]
        assert sum(u["firms"] for u in unplaced) == row["unassigned"]
        if s != "all":
            assert sum(f["firms"] for f in doc["flows"] if f["scenario"] == s) == row["assigned"]


def test_the_joint_plan_promises_no_park_more_than_its_free_land(plans):
    doc = plans["all"]
    assert [f for f in doc["flags"] if f["flag"] == "over_free_land"] == []
    for p in doc["park_land"]:
        assert p["land_left_ha"] >= -1e-6, p
        parts = sum(v for k, v in p.items() if k.startswith("land_") and k not in ("land_used_ha", "land_left_ha"))
        assert parts == pytest.approx(p["land_used_ha"])
    # every scenario's own plan is part of the joint one: the joint summary adds them up
    rows = {r["scenario"]: r for r in doc["summary"]}
    assert rows["all"]["assigned"] == sum(rows[s]["assigned"] for s in SCENARIOS[:3])


def test_the_route_reports_what_the_report_module_computes(api, plans):
    """The JSON is the report computed directly from the same dataset and plan (the plumbing adds nothing)."""
    from api.app import suitability_context

    done = route.compute_plan(api.app.state.dataset, suitability_context(api.app), "scattered")
    direct = json.loads(json.dumps(done.report.to_dict(), allow_nan=False))
    got = {k: v for k, v in plans["scattered"].items() if k in direct}
    assert got == direct


def test_priority_is_for_the_joint_plan(api):
    r = api.get("/scenarios/scattered/plan?priority=scattered", as_="analyst")
    assert r.status_code == 400 and "joint plan" in r.json()["detail"]
    r = api.get("/scenarios/all/plan?priority=scattered,nowhere", as_="analyst")
    assert r.status_code == 422 and "query.priority" in r.json()["detail"]
    r = api.get("/scenarios/all/plan?priority=scattered,scattered", as_="analyst")
    assert r.status_code == 422 and "query.priority" in r.json()["detail"]
    r = api.get("/scenarios/everything/plan", as_="analyst")
    assert r.status_code == 422


def test_a_plan_in_progress_answers_503_then_the_plan(api, monkeypatch):
    """A request waits PLAN_WAIT_S for the background computation; past it, 503 with Retry-After."""
    monkeypatch.setattr(route, "PLAN_WAIT_S", 0.0)
    r = api.get("/scenarios/all/plan?priority=coastal-transfer", as_="analyst")
    assert r.status_code == 503, r.text[:300]
    assert r.headers["retry-after"] == str(route.RETRY_AFTER_S)
    assert r.headers["content-type"].startswith("application/problem+json") and "being computed" in r.json()["detail"]
    done = route.get_plan(api.app, "all", "coastal-transfer", wait=300)  # the same computation, finished
    assert done.order == ("coastal-transfer",)
    r = api.get("/scenarios/all/plan?priority=coastal-transfer", as_="analyst")
    assert r.status_code == 200 and r.json()["order"] == ["coastal-transfer"]


def test_one_computation_per_plan(api, plans):
    f1 = route.plan_future(api.app, "urban-core")
    f2 = route.plan_future(api.app, "urban-core")
    assert f1 is f2 and f1.done()


def _workbook(content: bytes):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(content))


def test_excel_has_a_sheet_per_table_and_no_formula(api, plans):
    from parks.suitability.plan_report import TABLES, label

    r = api.get("/scenarios/all/plan.xlsx", as_="analyst")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert 'filename="plan-all.xlsx"' in r.headers["content-disposition"]
    wb = _workbook(r.content)
    assert wb.sheetnames == [label(f"table_{t}") for t in TABLES]
    summary = wb["方案汇总"]
    header = [c.value for c in summary[1]]
    assert header[:3] == ["情景", "涉及企业数", "已安置"]
    rows = {r[0]: r for r in summary.iter_rows(min_row=2, values_only=True)}
    assert rows["联合方案（全部情景）"][2] == next(s for s in plans["all"]["summary"] if s["scenario"] == "all")["assigned"]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f" and not (isinstance(cell.value, str) and cell.value.startswith("=")), \
                    (ws.title, cell.coordinate, cell.value)
    en = _workbook(api.get("/scenarios/all/plan.xlsx?lang=en", as_="analyst").content)
    assert en.sheetnames[0] == "Summary"


def test_excel_guards_hostile_text(tmp_path):
    """Names that a spreadsheet would run come out as text (geodata.spreadsheet.safe_frame)."""
    from api.scenario_exports import plan_workbook, write_plan_xlsx
    from parks.suitability.plan_report import plan_report

    hostile = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "@SUM(1)", "+1", "-2"]
    crs = "EPSG:4549"
    counties = pd.DataFrame({"code": ["A"], "name": ["-甲县"], "city": ["=乙市"]})
    parks = gpd.GeoDataFrame({"park_id": ["P1"], "name": ["=园区"], "free_land_ha": [1.0], "county_code": ["A"]},
                             geometry=[shapely.box(0, 0, 1000, 1000)], crs=crs)
    ents = gpd.GeoDataFrame({"enterprise_id": [f"E{i}" for i in range(5)], "name": hostile, "county_code": "A",
                             "employees": 10, "land_ha": 1.0}, geometry=[shapely.Point(i * 100, 0) for i in range(5)], crs=crs)
    a = pd.DataFrame({"enterprise_id": [f"E{i}" for i in range(5)], "park_id": ["P1", None, None, None, None],
                      "status": ["assigned"] + ["unassigned"] * 4, "reason": [None, "=bad", "capacity", "capacity", "capacity"]})
    report = plan_report(a, ents, parks, counties, metric_crs=crs, scenario="urban-core")
    wb = _workbook(plan_workbook(report))
    seen = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "@")), cell.value
                    seen.append(cell.value)
    text = " ".join(seen)
    assert "'=园区" in text and "'=bad" in text and "'-甲县" in text  # guarded: shown as typed
    assert "E1 =cmd|' /C calc'!A0" in text and "E2 @SUM(1)" in text  # examples start with the id: plain text
    path = write_plan_xlsx(report, tmp_path / "plan.xlsx")
    assert _workbook(path.read_bytes()).sheetnames == list(report.tables())
    with pytest.raises(ValueError, match="xlsx"):
        write_plan_xlsx(report, tmp_path / "plan.csv")


def test_flow_map(api, plans):
    from maps.base import json_blocks

    r = api.get("/scenarios/all/map", as_="analyst")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    nonce = csp.split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<script nonce="{nonce}"' in r.text
    blocks = json_blocks(r.text)
    arcs = [b for b in blocks.values() if isinstance(b, dict) and "arcs" in b]
    assert len(arcs) == 3  # a layer per scenario
    drawn = sum(sum(next(v for k, v in f["rows"] if k == "企业数") for f in b["arcs"] + b["within"]) for b in arcs)
    summary = {s["scenario"]: s for s in plans["all"]["summary"]}
    assert drawn == summary["all"]["assigned"]
    assert "县际流向" in r.text and "联合方案（全部情景）" in r.text
    en = api.get("/scenarios/urban-core/map?lang=en&width=jobs", as_="analyst")
    assert en.status_code == 200 and "Flows between counties" in en.text
    assert api.get("/scenarios/urban-core/map?width=land", as_="analyst").status_code == 422


def test_openapi_documents_the_routes(api):
    schema = api.get("/openapi.json", as_=None).json()
    paths = schema["paths"]
    for p in ("/scenarios", "/scenarios/{scenario}/plan", "/scenarios/{scenario}/plan.xlsx", "/scenarios/{scenario}/map",
              "/scenarios/all/plan", "/scenarios/all/plan.xlsx", "/scenarios/all/map"):
        assert p in paths
    # priority only where it applies (the joint plan), as an enumeration of the orders the server accepts
    for p in ("/scenarios/{scenario}/plan", "/scenarios/{scenario}/plan.xlsx", "/scenarios/{scenario}/map"):
        assert "priority" not in [q["name"] for q in paths[p]["get"].get("parameters", [])]
    import re

    prio = next(q for q in paths["/scenarios/all/plan"]["get"]["parameters"] if q["name"] == "priority")
    pattern = next(s["pattern"] for s in prio["schema"]["anyOf"] if "pattern" in s)
    assert re.match(pattern, "urban-core,coastal-transfer,scattered") and re.match(pattern, "scattered")
    assert not re.match(pattern, "scattered,scattered") and not re.match(pattern, "scattered,nowhere")
    plan = paths["/scenarios/{scenario}/plan"]["get"]
    assert "503" in plan["responses"]
    ref = plan["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/PlanOut")
    enum = next(p for p in plan["parameters"] if p["name"] == "scenario")["schema"]["enum"]
    assert sorted(enum) == sorted(s for s in SCENARIOS if s != "all")
    assert np.all([k in schema["components"]["schemas"]["PlanOut"]["properties"]
                   for k in ("summary", "distance_bands", "park_load", "top_parks", "unplaced", "flags", "flows")])
