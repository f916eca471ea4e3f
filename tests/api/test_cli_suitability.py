"""``parkplan suitability`` through the real command line: JSON equals the library, files, errors."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from parks.suitability import context_from_dataset, score_enterprise

runner = CliRunner()


@pytest.fixture(scope="module")
def ctx(dataset):
    return context_from_dataset(dataset)


def _eid(dataset):
    return str(dataset.enterprises["enterprise_id"].iloc[7])


def test_json_equals_the_library_document(dataset, dataset_path, ctx):
    eid = _eid(dataset)
    r = runner.invoke(app, ["suitability", "--enterprise", eid, "--top", "4", "--json", "--data", str(dataset_path)])
    assert r.exit_code == 0, r.output
    expected = json.loads(json.dumps(score_enterprise(ctx, eid, top=4).to_dict()))
    assert json.loads(r.stdout) == expected


def test_weights_file_toml_and_json(dataset, dataset_path, ctx, tmp_path):
    eid = _eid(dataset)
    toml = tmp_path / "w.toml"
    toml.write_text("[weights]\ndistance = 3\nlabour = 1\n", encoding="utf-8")
    jsn = tmp_path / "w.json"
    jsn.write_text(json.dumps({"distance": 0.75, "labour": 0.25}), encoding="utf-8")
    docs = []
    for f in (toml, jsn):
        r = runner.invoke(app, ["suitability", "--enterprise", eid, "--weights", str(f), "--json", "--data", str(dataset_path)])
        assert r.exit_code == 0, r.output
        docs.append(json.loads(r.stdout))
    assert docs[0] == docs[1]
    assert docs[0]["weights"]["distance"] == pytest.approx(0.75) and docs[0]["weights"]["sector_fit"] == 0
    assert docs[0]["ranked"][0]["park_id"] == score_enterprise(ctx, eid, {"distance": 3, "labour": 1}).ranked[0].park_id


def test_inconsistent_ahp_is_refused(dataset, dataset_path, tmp_path):
    ahp = tmp_path / "ahp.json"
    ahp.write_text(json.dumps({"criteria": ["sector_fit", "distance", "labour"],
                               "matrix": [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]}), encoding="utf-8")
    r = runner.invoke(app, ["suitability", "--enterprise", _eid(dataset), "--ahp", str(ahp), "--data", str(dataset_path),
                            "--lang", "en"])
    assert r.exit_code == 2 and "inconsistent" in r.output and "CR =" in r.output


def test_consistent_ahp_and_profile(dataset_path, tmp_path):
    ahp = tmp_path / "ahp.toml"
    ahp.write_text('criteria = ["distance", "land_price"]\nmatrix = [[1, 3], [0.3333333333, 1]]\n', encoding="utf-8")
    r = runner.invoke(app, ["suitability", "--sector", "textiles", "--land-ha", "1.5", "--employees", "80",
                            "--lon", "120.6", "--lat", "28.0", "--ahp", str(ahp), "--json", "--data", str(dataset_path)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["enterprise"]["source"] == "profile" and doc["weights"]["distance"] == pytest.approx(0.75, abs=1e-6)


@pytest.mark.parametrize("args, message", [
    (["--enterprise", "NOPE"], "'NOPE' is not in the dataset"),
    ([], "give exactly one of"),
    (["--sector", "textiles", "--lon", "120"], "a profile needs --land-ha"),
    (["--scenario", "coastal"], "unknown scenario 'coastal'"),
])
def test_errors(dataset_path, args, message):
    r = runner.invoke(app, ["suitability", *args, "--data", str(dataset_path), "--lang", "en"])  # the model's words
    assert r.exit_code == 2 and message in r.output


def test_scenario_batch_to_csv_gpkg_xlsx(dataset, dataset_path, tmp_path):
    out = {}
    for suffix in ("csv", "gpkg", "xlsx"):
        path = tmp_path / f"coastal.{suffix}"
        r = runner.invoke(app, ["suitability", "--scenario", "coastal-transfer", "--top", "2", "--allocate", "--cap", "5",
                                "-o", str(path), "--json", "--data", str(dataset_path)])
        assert r.exit_code == 0, r.output
        out[suffix] = path
    doc = json.loads(r.stdout[r.stdout.index("{"):])
    assert doc["scenario"] == "coastal-transfer" and doc["allocation"]["assigned"] > 0
    csv = pd.read_csv(out["csv"], dtype={"county_code": str, "park_county_code": str})
    gpkg = gpd.read_file(out["gpkg"], layer="suitability")
    xlsx = pd.read_excel(out["xlsx"], engine="calamine")
    assert len(csv) == len(gpkg) == len(xlsx) > 0
    assert gpkg.crs.to_epsg() == 4326 and (gpkg.geom_type == "Point").all()
    ranked = csv.dropna(subset=["rank"])
    assert ranked["rank"].max() <= 2
    ld = set(dataset.counties.loc[dataset.counties["less_developed"].astype(bool), "code"].astype(str))
    assert set(ranked["park_county_code"]) <= ld  # coastal-transfer: destinations only in less-developed counties
    assert doc["selected"] == csv["enterprise_id"].nunique()
    # the allocation's land use per park: CSV sibling, Excel sheet, GeoPackage layer
    parks_csv = pd.read_csv(tmp_path / "coastal_parks.csv", dtype={"county_code": str})
    parks_xlsx = pd.read_excel(out["xlsx"], sheet_name="parks", engine="calamine")
    parks_gpkg = gpd.read_file(out["gpkg"], layer="allocation_parks")
    assert len(parks_csv) == len(parks_xlsx) == len(parks_gpkg) == len(dataset.parks)
    assert (parks_csv["land_used_ha"] <= parks_csv["free_land_ha"] + 1e-9).all()
    assert parks_csv["land_used_ha"].sum() == pytest.approx(doc["allocation"]["land_used_ha"])
    assert (parks_gpkg.geom_type.isin(["Polygon", "MultiPolygon"])).all()


def test_a_scenario_workbook_is_written_in_one_pass_and_in_place(dataset_path, tmp_path, monkeypatch):
    """Every sheet of an .xlsx output (the table, the parks' land, the report) goes through one writer: the workbook
    is never opened again to add a sheet (openpyxl parsed the whole table back for each: most of a scenario's 35-73
    s, 2026-12-01). It is written beside the target and renamed onto it: a failure while writing the report's
    sheets leaves an earlier file as it was and no partial file."""
    import openpyxl

    import api.jobs.suitability as jobs

    loads = []
    real_load = openpyxl.load_workbook

    def counting_load(*a, **k):
        loads.append(a)
        return real_load(*a, **k)

    monkeypatch.setattr(openpyxl, "load_workbook", counting_load)
    monkeypatch.setattr("openpyxl.reader.excel.load_workbook", counting_load)
    path = tmp_path / "plan.xlsx"
    args = ["suitability", "--scenario", "coastal-transfer", "--top", "2", "--allocate", "--cap", "5", "-o", str(path),
            "--data", str(dataset_path)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert loads == []  # written once, never read back
    sheets = pd.read_excel(path, sheet_name=None, engine="calamine")
    assert list(sheets)[:2] == ["suitability", "parks"] and len(sheets) > 4  # the report's sheets follow
    assert list(tmp_path.iterdir()) == [path]  # no partial file left beside it
    before = path.read_bytes()

    def broken(*a, **k):
        raise RuntimeError("disk full while writing the report")

    monkeypatch.setattr(jobs, "write_plan_sheets", broken)
    r = runner.invoke(app, args)
    assert r.exit_code != 0
    assert path.read_bytes() == before  # the earlier workbook, untouched
    assert list(tmp_path.iterdir()) == [path]


def test_bad_output_suffix(dataset_path, tmp_path):
    r = runner.invoke(app, ["suitability", "--scenario", "scattered", "-o", str(tmp_path / "x.parquet"),
                            "--data", str(dataset_path)])
    assert r.exit_code == 2 and "accepted: .csv, .gpkg, .xlsx" in r.output


def test_scenario_all_writes_the_joint_plan(dataset, dataset_path, tmp_path):
    path = tmp_path / "plan.xlsx"
    r = runner.invoke(app, ["suitability", "--scenario", "all", "--priority", "scattered,urban-core,coastal-transfer",
                            "-o", str(path), "--json", "--data", str(dataset_path)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout[r.stdout.index("{"):])
    assert doc["mode"] == "priority" and doc["order"] == ["scattered", "urban-core", "coastal-transfer"]
    assert doc["parks_over_free_land"] == 0
    plan = pd.read_excel(path, sheet_name="suitability", dtype={"park_id": str}, engine="calamine")
    parks = pd.read_excel(path, sheet_name="parks", engine="calamine")
    assert not plan["enterprise_id"].duplicated().any()
    assert set(plan["scenario"]) <= {"urban-core", "scattered", "coastal-transfer"}
    for s in ("urban_core", "scattered", "coastal_transfer"):
        assert f"land_{s}_ha" in parks.columns
    # recomputed from the written plan: no park promised more than its free land
    used = plan[plan["status"] == "assigned"].groupby("park_id")["land_ha"].sum()
    free = dataset.parks.set_index("park_id")["free_land_ha"]
    assert (used <= free.reindex(used.index) + 1e-6).all()
    for s, v in doc["scenarios"].items():
        assert v["assigned"] == int(((plan["scenario"] == s) & (plan["status"] == "assigned")).sum())


def test_scenario_all_with_weights_and_a_tiny_time_limit(dataset_path, tmp_path):
    r = runner.invoke(app, ["suitability", "--scenario", "all", "--scenario-weights", "urban-core:2,scattered:1",
                            "--time-limit", "0.01", "--json", "--data", str(dataset_path)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout[r.stdout.index("{"):])
    assert doc["mode"] == "weights" and doc["scenario_weights"] == {"urban-core": 2.0, "scattered": 1.0}
    assert set(doc["scenarios"]) == {"urban-core", "scattered"}
    assert doc["status"] in ("time_limit", "time_limit_greedy", "optimal") and doc["mip_gap"] is not None
    assert doc["parks_over_free_land"] == 0


@pytest.mark.parametrize("args, message", [
    (["--scenario", "all", "--priority", "urban-core,city"], "'city' is not a scenario"),
    (["--scenario", "all", "--scenario-weights", "urban-core=2"], "is not scenario:weight"),
    (["--scenario", "all", "--scenario-weights", "urban-core:-1"], "must be a finite number > 0"),
    (["--scenario", "scattered", "--priority", "scattered"], "are for --scenario all"),
])
def test_joint_plan_errors(dataset_path, args, message):
    r = runner.invoke(app, ["suitability", *args, "--data", str(dataset_path), "--lang", "en"])  # the model's words
    assert r.exit_code == 2 and message in r.output, r.output
