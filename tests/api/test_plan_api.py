"""``GET /plan/indicators``, ``GET /plan/projects``, the projects collection's filters and ``parkplan plan
report`` (JSON the same as the API; the Excel workbook read back with openpyxl)."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ..parks.monitoring.plan_layers import HOSTILE_NAME, HOSTILE_TITLE, plan_dataset_file

runner = CliRunner()


@pytest.fixture(scope="module")
def plan_env(raw_dataset, tmp_path_factory):
    from types import SimpleNamespace

    from api.app import create_app
    from api.auth import create_token

    d = tmp_path_factory.mktemp("plan")
    path = plan_dataset_file(raw_dataset, d / "plan.gpkg")
    app = create_app(path, f"sqlite:///{d / 'reviews.sqlite'}")
    with app.state.sessions() as db:
        tokens = {role: create_token(db, role, label=role)[0] for role in ("viewer", "analyst", "admin")}
        db.commit()
    client = TestClient(app)
    return SimpleNamespace(app=app, path=path, client=client, dir=d,
                           h={r: {"Authorization": f"Bearer {t}"} for r, t in tokens.items()})


def cli_json(*args) -> dict:
    from api.cli import app

    r = runner.invoke(app, ["plan", "report", "--json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_api_answers_what_the_cli_prints(plan_env, monkeypatch):
    monkeypatch.delenv("PARKPLAN_TARGETS", raising=False)
    doc = cli_json("--data", str(plan_env.path))
    ind = plan_env.client.get("/plan/indicators", headers=plan_env.h["analyst"])
    assert ind.status_code == 200, ind.text
    assert ind.json() == doc["indicators"]
    pr = plan_env.client.get("/plan/projects", headers=plan_env.h["analyst"])
    assert pr.status_code == 200, pr.text
    assert pr.json() == doc["projects"]
    body = ind.json()
    assert body["year"] == 2005 and len(body["targets"]) == 8
    assert {r["level"] for r in body["rows"]} == {"province", "city", "county", "less_developed"}
    assert {t["id"] for t in body["targets"]} >= {"tech_share_of_fai", "high_tech_share", "township_zones"}


def test_filters_and_access(plan_env):
    c, h = plan_env.client, plan_env.h
    assert c.get("/plan/indicators").status_code == 401
    assert c.get("/plan/indicators", headers=h["viewer"]).status_code == 403
    assert c.get("/plan/projects", headers=h["viewer"]).status_code == 403
    r = c.get("/plan/indicators?level=county&group=330106", headers=h["analyst"]).json()
    assert r["rows"] and {(x["level"], x["group"]) for x in r["rows"]} == {("county", "330106")}
    for bad in ("/plan/indicators?year=20055", "/plan/indicators?level=town", "/plan/projects?county_code=abc",
                "/plan/projects?as_of=2003-02-30", "/plan/projects?as_of=0", "/plan/projects?status=done", "/plan/projects?limit=0",
                "/plan/indicators?source=guess"):
        resp = c.get(bad, headers=h["analyst"])
        assert resp.status_code == 422, bad
        assert resp.headers["content-type"].startswith("application/problem+json")
    r = c.get("/plan/projects?county_code=999999", headers=h["analyst"])
    assert r.status_code == 404 and "999999" in r.json()["detail"]
    ds = plan_env.app.state.dataset
    code = ds.projects["county_code"].dropna().astype(str).value_counts().index[0]
    r = c.get(f"/plan/projects?county_code={code}&year=2003&as_of=2004-06-30&limit=5", headers=h["analyst"]).json()
    sel = ds.projects[(ds.projects["county_code"] == code) & (ds.projects["year"] == 2003)]
    assert r["count"] == len(sel) and r["as_of"] == "2004-06-30" and len(r["overdue"]) <= 5
    live = sel[sel["status"] != "cancelled"]
    assert sum(x["investment"] for x in r["sums"]["funding"]) == pytest.approx(live["investment"].sum())
    sg = c.get("/plan/projects?key=small_giant", headers=h["analyst"]).json()["key_enterprises"]
    assert sg["total"] == int(ds.enterprises["small_giant"].sum()) and all(x["small_giant"] for x in sg["rows"])


def test_projects_collection_filters_by_park_county_year_status(plan_env):
    c, h = plan_env.client, plan_env.h["analyst"]
    pr = plan_env.app.state.dataset.projects
    row = pr.dropna(subset=["park_id"]).iloc[0]
    q = {"park_id": row["park_id"], "county_code": row["county_code"], "year": int(row["year"]), "status": row["status"]}
    r = c.get("/collections/projects/items", params={**q, "limit": 1000}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    expect = pr[(pr["park_id"] == q["park_id"]) & (pr["county_code"] == q["county_code"]) & (pr["year"] == q["year"])
                & (pr["status"] == q["status"])]
    assert body["numberMatched"] == len(expect) >= 1
    assert {f["id"] for f in body["features"]} == set(expect["project_id"])
    for f in body["features"]:
        p = f["properties"]
        assert (p["park_id"], p["county_code"], p["year"], p["status"]) == (q["park_id"], q["county_code"], q["year"], q["status"])
    n = c.get("/collections/projects/items", params={"county_code": row["county_code"], "limit": 1}, headers=h).json()
    assert n["numberMatched"] == int((pr["county_code"] == row["county_code"]).sum())


def _edited_targets(tmp, value: int):
    from geodata.targets import builtin_targets_path

    text = builtin_targets_path().read_text(encoding="utf-8")
    assert "target_value = 25\n" in text
    p = tmp / f"targets_{value}.toml"
    p.write_text(text.replace("target_value = 25\n", f"target_value = {value}\n"), encoding="utf-8")
    return p


def test_an_edited_targets_file_changes_the_api_and_a_bad_one_is_a_500_naming_the_line(plan_env, monkeypatch, tmp_path):
    c, h = plan_env.client, plan_env.h["analyst"]
    target = lambda body: next(t for t in body["targets"] if t["id"] == "high_tech_share")  # noqa: E731
    monkeypatch.setenv("PARKPLAN_TARGETS", str(_edited_targets(tmp_path, 40)))
    a = target(c.get("/plan/indicators", headers=h).json())
    monkeypatch.setenv("PARKPLAN_TARGETS", str(_edited_targets(tmp_path, 10)))
    b = target(c.get("/plan/indicators", headers=h).json())
    assert a["target_value"] == pytest.approx(0.40) and b["target_value"] == pytest.approx(0.10)
    assert a["value"] == b["value"] and a["expected"] > b["expected"]
    bad = tmp_path / "bad.toml"
    bad.write_text(_edited_targets(tmp_path, 10).read_text(encoding="utf-8").replace('unit = "家"', 'unit = "亿元"', 1),
                   encoding="utf-8")
    line = next(i for i, ln in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if 'unit = "亿元"' in ln
                and i > 60)
    monkeypatch.setenv("PARKPLAN_TARGETS", str(bad))
    r = c.get("/plan/indicators", headers=h)
    assert r.status_code == 500 and f"line {line}:" in r.json()["detail"] and "accepted: count" in r.json()["detail"]


def test_cli_refuses_a_bad_targets_file_naming_the_line(plan_env, tmp_path):
    from api.cli import app

    bad = tmp_path / "t.toml"
    bad.write_text('[targets.a]\nindicator = "tech_share_of_fai"\nunit = "yuan"\nbase_year = 2000\ntarget_year = 2005\n'
                   'target_value = 30\n', encoding="utf-8")
    r = runner.invoke(app, ["plan", "report", "--data", str(plan_env.path), "--targets", str(bad), "--lang", "en"])
    assert r.exit_code == 2
    assert "line 3" in r.output and "accepted: share, percent, %" in r.output
    r = runner.invoke(app, ["plan", "report", "--data", str(plan_env.path), "--targets", str(bad), "--lang", "zh"])
    one_line = r.output.replace("\n", "")  # the console folds long lines
    assert r.exit_code == 2 and "第 3 行" in one_line and "可接受的单位：share, percent, %" in one_line, r.output
    r = runner.invoke(app, ["plan", "report", "--data", str(plan_env.path), "-o", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and ".xlsx" in r.output


def test_workbook_sheets_charts_and_no_formulas(plan_env, tmp_path):
    from api.cli import app
    from api.plan_workbook import SHEETS

    out = tmp_path / "report.xlsx"
    r = runner.invoke(app, ["plan", "report", "--data", str(plan_env.path), "-o", str(out), "--year", "2004"])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [zh for zh, _ in SHEETS.values()]
    trends = wb["全省趋势"]
    assert len(trends._charts) == 8  # one line chart per target, value against its path
    assert all(len(ch.series) == 2 for ch in trends._charts)
    assert len(wb["项目按年度"]._charts) == 1
    formulas = [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'" + HOSTILE_TITLE in texts and HOSTILE_TITLE not in texts
    assert HOSTILE_NAME in texts  # text, not markup: a spreadsheet shows it as typed
    targets = {row[0]: row for row in wb["目标"].iter_rows(min_row=2, values_only=True)}
    assert targets["tech_investment_total"][8] == 4000 and targets["tech_investment_total"][4] == "亿元"
    assert targets["high_tech_share"][10] == 2004
    # the trend block's values are the indicators' (province, in the file's unit)
    doc = cli_json("--data", str(plan_env.path), "--year", "2004")
    prov = {(x["target_id"], x["year"]): x["value"] for x in doc["indicators"]["rows"] if x["level"] == "province"}
    col = 1 + 4 * 2  # third target: tech_share_of_fai, in percent
    got = {trends.cell(row=r, column=col).value: trends.cell(row=r, column=col + 1).value for r in range(3, 13)}
    for y, v in got.items():
        ref = prov.get(("tech_share_of_fai", y))
        assert (v is None and ref is None) or np.isclose(v, ref * 100)


def test_an_edited_target_changes_the_workbook(plan_env, tmp_path):
    from api.cli import app

    out = {}
    for v in (40, 10):
        path = tmp_path / f"r{v}.xlsx"
        r = runner.invoke(app, ["plan", "report", "--data", str(plan_env.path), "--targets",
                                str(_edited_targets(tmp_path, v)), "-o", str(path)])
        assert r.exit_code == 0, r.output
        out[v] = {row[0]: row for row in openpyxl.load_workbook(path)["目标"].iter_rows(min_row=2, values_only=True)}
    assert out[40]["high_tech_share"][8] == 40 and out[10]["high_tech_share"][8] == 10
    assert out[40]["high_tech_share"][11] == out[10]["high_tech_share"][11]  # same value
    assert out[40]["high_tech_share"][12] > out[10]["high_tech_share"][12]  # a higher path


def test_cli_tables(plan_env, monkeypatch):
    from api.cli import app

    monkeypatch.delenv("PARKPLAN_TARGETS", raising=False)
    r = runner.invoke(app, ["plan", "report", "--data", str(plan_env.path), "--year", "2003", "--as-of", "2003-12-31",
                            "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "Targets (2003" in r.output and "Overdue projects at 2003-12-31" in r.output, r.output
    assert "亿元" not in r.output  # units in English too (100 million yuan)
    r = runner.invoke(app, ["plan", "report", "--data", str(plan_env.path), "--as-of", "31/12/2003"])
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output
