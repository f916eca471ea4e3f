"""Issue 13's layers and fields: stored, loaded (also from files written before them), imported."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from geodata.dataset import OPTIONAL_LAYERS, load_dataset, save_dataset
from geodata.importer import import_layer
from geodata.schema import LAYERS
from geodata.validate import ImportValidationError


def test_builtin_layers_round_trip(raw_dataset, dataset_path):
    back = load_dataset(dataset_path)
    for name in OPTIONAL_LAYERS:
        assert len(back.layer(name)) == len(raw_dataset.layer(name)) > 0, name
        assert set(f.name for f in LAYERS[name].fields) <= set(back.layer(name).columns)
    for col in ("township_enterprise", "small_giant", "high_tech"):
        assert back.enterprises[col].dtype == bool
    assert back.projects["start_date"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()


def test_synthetic_layers_say_so(dataset_path):
    import pyogrio

    for name in OPTIONAL_LAYERS:
        assert pyogrio.read_info(dataset_path, layer=name)["layer_metadata"]["DESCRIPTION"].startswith("SYNTHETIC")


def test_a_file_written_before_the_new_layers_still_loads(tmp_dataset_path):
    with sqlite3.connect(tmp_dataset_path) as con:
        for name in OPTIONAL_LAYERS:
            con.execute(f'DROP TABLE "{name}"')
            con.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (name,))
    ds = load_dataset(tmp_dataset_path)
    for name in OPTIONAL_LAYERS:
        frame = ds.layer(name)
        assert len(frame) == 0 and list(frame.columns) == [f.name for f in LAYERS[name].fields]
    save_dataset(ds, tmp_dataset_path)  # and saving writes them (empty)
    assert len(load_dataset(tmp_dataset_path).suppliers) == 0


def _csv(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_suppliers_fai_and_enterprise_years(tmp_dataset_path, tmp_path, raw_dataset):
    ids = raw_dataset.enterprises["enterprise_id"].tolist()
    leader = raw_dataset.enterprises.loc[raw_dataset.enterprises["chain_leader"], "enterprise_id"].iloc[0]
    src = _csv(tmp_path, "s.csv", f"配套企业编号,链主企业编号,配套份额\n{ids[0]},{leader},0.4\n{ids[1]},{leader},\n")
    assert import_layer(tmp_dataset_path, "suppliers", src).rows == 2
    code = raw_dataset.counties["code"].iloc[0]
    src = _csv(tmp_path, "f.csv", "区县代码,年份,全社会固定资产投资(亿元),工业固定资产投资(亿元),技术改造投资(万元)\n"
                                  f"{code},2003,120.5,40,120000\n{code},2004年,130,45,\n")
    report = import_layer(tmp_dataset_path, "fixed_asset_investment", src)
    fai = load_dataset(tmp_dataset_path).fixed_asset_investment
    assert report.rows == 2 and fai["year"].tolist() == [2003, 2004]
    assert fai["total"].iloc[0] == pytest.approx(120.5e8) and fai["tech_transformation"].iloc[0] == pytest.approx(12e8)
    assert pd.isna(fai["tech_transformation"].iloc[1])
    src = _csv(tmp_path, "y.csv", f"企业编号,年份,销售收入(万元),工业增加值(万元)\n{ids[0]},2005,1000,250\n")
    import_layer(tmp_dataset_path, "enterprise_years", src)
    years = load_dataset(tmp_dataset_path).enterprise_years
    assert years["sales"].tolist() == [1e7] and years["value_added"].tolist() == [2.5e6]


def test_bad_rows_of_the_new_layers_are_named(tmp_dataset_path, tmp_path, raw_dataset):
    ids = raw_dataset.enterprises["enterprise_id"].tolist()
    src = _csv(tmp_path, "s.csv", f"supplier_id,leader_id,share\n{ids[0]},E9999999,1.5\n")
    with pytest.raises(ImportValidationError) as err:
        import_layer(tmp_dataset_path, "suppliers", src)
    text = str(err.value)
    assert "row 2" in text and "'E9999999' is not in the enterprises layer" in text and "above the maximum 1" in text
    src = _csv(tmp_path, "f.csv", "county_code,year,total,industrial\n999999,2003,1,1\n330102,two thousand,1,1\n")
    with pytest.raises(ImportValidationError, match=r"(?s)row 3: 'two thousand' is not a number.*row 2: '999999' is not in the counties layer"):
        import_layer(tmp_dataset_path, "fixed_asset_investment", src)


@pytest.mark.parametrize("value, stored", [("2003-06-30", "2003-06-30"), ("2003/6/30", "2003-06-30"),
                                           ("2003年6月30日", "2003-06-30"), ("20030630", "2003-06-30")])
def test_project_dates_are_stored_iso(tmp_dataset_path, tmp_path, raw_dataset, value, stored):
    e = raw_dataset.enterprises["enterprise_id"].iloc[0]
    src = _csv(tmp_path, "p.csv", "项目编号,企业编号,项目名称,行业,总投资(万元),资金来源,开工年份,状态,开工日期,计划竣工日期\n"
                                  f"X1,{e},改造,纺织服装,500,own,2003,in_progress,{value},2004-12-31\n")
    import_layer(tmp_dataset_path, "projects", src)
    p = load_dataset(tmp_dataset_path).projects
    assert p["start_date"].tolist() == [stored] and p["planned_completion"].tolist() == ["2004-12-31"]


@pytest.mark.parametrize("value", ["2003-02-30", "June 2003", "2003"])
def test_a_bad_date_is_refused_with_what_is_accepted(tmp_dataset_path, tmp_path, raw_dataset, value):
    e = raw_dataset.enterprises["enterprise_id"].iloc[0]
    src = _csv(tmp_path, "p.csv", "project_id,enterprise_id,title,sector,investment,funding,start_year,status,"
                                  f"planned_completion\nX1,{e},t,textiles,5e6,own,2003,planned,{value}\n")
    with pytest.raises(ImportValidationError, match=r"(?s)planned_completion' \(accepted: a date YYYY-MM-DD.*row 2: .* is not a date"):
        import_layer(tmp_dataset_path, "projects", src)


def test_shanhai_pairs_name_real_counties_developed_to_mountain(raw_dataset):
    from geodata.builtin import read_data_csv

    rows = read_data_csv("shanhai_pairs_zhejiang.csv")
    counties = raw_dataset.counties.set_index("code")
    assert rows
    for r in rows:
        assert counties.loc[r["developed_county_code"], "name"] == r["developed_county"]
        assert counties.loc[r["less_developed_county_code"], "name"] == r["less_developed_county"]
        assert not counties.loc[r["developed_county_code"], "less_developed"]
        assert counties.loc[r["less_developed_county_code"], "less_developed"]
        assert r["source"].strip()


def test_a_repeated_key_of_a_table_is_refused(tmp_dataset_path, tmp_path, raw_dataset):
    e = raw_dataset.enterprises["enterprise_id"].iloc[0]
    src = _csv(tmp_path, "y.csv", f"enterprise_id,year,sales,value_added\n{e},2004,1e7,2e6\n{e},2005,1e7,2e6\n"
                                  f"{e},2004年,2e7,3e6\n")
    with pytest.raises(ImportValidationError, match=rf"(?s)column 'enterprise_id, year' \(accepted: each combination once\).*"
                                                    rf"row 4: duplicate enterprise_id \+ year {e} / 2004 \(row 2, row 4\)"):
        import_layer(tmp_dataset_path, "enterprise_years", src)


@pytest.mark.parametrize("layer", OPTIONAL_LAYERS)
def test_an_exported_layer_imports_back(tmp_dataset_path, tmp_path, layer):
    from geodata.writers import export_layer

    ds = load_dataset(tmp_dataset_path)
    before = ds.layer(layer)
    out = export_layer(ds, layer, tmp_path / f"{layer}.csv", lang="zh")
    import_layer(tmp_dataset_path, layer, out)
    after = load_dataset(tmp_dataset_path).layer(layer)
    pd.testing.assert_frame_equal(after.reset_index(drop=True), before.reset_index(drop=True), check_dtype=False)
