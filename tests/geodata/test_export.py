"""Exporting layers: every format, Chinese text in CSV/Excel, and export -> import round trips."""

from __future__ import annotations

import codecs
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely

from geodata import writers
from geodata.dataset import load_dataset
from geodata.importer import import_layer
from geodata.readers import read_table
from geodata.schema import LAYERS
from geodata.validate import header_zh, validate_layer
from geodata.writers import ExportError, export_layer


@pytest.fixture(scope="module")
def stored(dataset_path):
    """The session dataset as stored (no derived columns)."""
    return load_dataset(dataset_path)


def assert_same_layer(a: pd.DataFrame, b: pd.DataFrame, layer: str, tolerance: float = 1e-7) -> None:
    """Same rows (by id), same schema attributes, geometries equal within ``tolerance`` degrees."""
    key = LAYERS[layer].id_field
    a = a.sort_values(key).reset_index(drop=True)
    b = b.sort_values(key).reset_index(drop=True)
    cols = [f.name for f in LAYERS[layer].fields if f.name in a.columns]
    pd.testing.assert_frame_equal(pd.DataFrame(a[cols]), pd.DataFrame(b[cols]), check_dtype=False, rtol=1e-12)
    if "geometry" in a.columns:
        # normalised: GeoJSON (RFC 7946) rewinds rings counter-clockwise
        ga, gb = shapely.normalize(a.geometry.to_numpy()), shapely.normalize(b.geometry.to_numpy())
        assert shapely.equals_exact(ga, gb, tolerance=tolerance).all()


# degrees: GeoJSON (RFC 7946) keeps 7 decimals (about 1 cm), Excel 15-16 significant digits (nanometres),
# the others every bit
TOLERANCE = {"geojson": 1e-7, "xlsx": 1e-9, "gpkg": 0, "csv": 0, "parquet": 0}


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv", "parquet", "xlsx"])
def test_export_import_round_trip(stored, tmp_dataset_path, tmp_path, fmt):
    out = export_layer(stored, "enterprises", tmp_path / f"enterprises.{fmt}")
    crs = 4326 if fmt in ("csv", "xlsx") else None

    report = import_layer(tmp_dataset_path, "enterprises", out, crs=crs)

    assert report.rows == len(stored.enterprises) and report.ignored_columns == []
    assert_same_layer(stored.enterprises, load_dataset(tmp_dataset_path).enterprises, "enterprises",
                      tolerance=TOLERANCE[fmt])


@pytest.mark.parametrize("layer, fmt", [
    (layer, fmt) for layer in ("parks", "projects", "protected_areas", "catalogue")
    for fmt in TOLERANCE if LAYERS[layer].geometry or fmt != "geojson"  # a table has no GeoJSON form
])
def test_round_trip_other_layers(stored, tmp_path, fmt, layer):
    """Export, then read and validate as an import would (the write itself is tested above)."""
    out = export_layer(stored, layer, tmp_path / f"{layer}.{fmt}")
    crs = 4326 if fmt in ("csv", "xlsx") and LAYERS[layer].geometry else None
    back = validate_layer(read_table(out, target=layer), layer, crs=crs)
    assert back.ignored_columns == []
    if layer == "catalogue":  # no id: compare in order
        pd.testing.assert_frame_equal(pd.DataFrame(stored.catalogue).fillna(""), back.frame.fillna(""),
                                      check_dtype=False)
    else:
        assert_same_layer(stored.layer(layer), back.frame, layer, tolerance=TOLERANCE[fmt])


def test_csv_is_utf8_with_bom_and_chinese_survives(stored, tmp_path):
    out = export_layer(stored, "enterprises", tmp_path / "e.csv")
    data = out.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)  # Excel on Chinese Windows reads it as UTF-8
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert table["name"].tolist() == stored.enterprises["name"].tolist()
    np.testing.assert_array_equal(table["lon"].astype(float), stored.enterprises.geometry.x)
    np.testing.assert_array_equal(table["lat"].astype(float), stored.enterprises.geometry.y)


def test_csv_gbk_option(stored, tmp_path):
    out = export_layer(stored, "parks", tmp_path / "parks.csv", encoding="gbk", lang="zh")
    text = out.read_bytes().decode("gbk")  # strict: every byte is GBK
    header = text.split("\r\n", 1)[0].split(",")
    zh = {f.name: header_zh(f) for f in LAYERS["parks"].fields}
    assert header == [zh.get(c, c) for c in stored.parks.columns if c != "geometry"] + ["wkt"]
    assert {"园区名称", "面积(公顷)", "地价(元/平方米)"} <= set(header)
    assert stored.parks["name"].iloc[0] in text


@pytest.mark.parametrize("layer, fmt, expected", [
    ("parks", "xlsx", {"园区名称": None, "面积(公顷)": None, "类型": "特色工业园区", "最高污染等级": "重度"}),
    ("enterprises", "csv", {"营业收入(元)": None, "行业": "纺织服装", "五个一批": "否", "经度": None}),
    ("projects", "xlsx", {"总投资(元)": None, "资金来源": "自筹", "状态": "建成"}),
    ("catalogue", "csv", {"类别": "淘汰类"}),
])
def test_chinese_tables_read_back(stored, tmp_path, layer, fmt, expected):
    out = export_layer(stored, layer, tmp_path / f"{layer}.{fmt}", lang="zh")
    table = pd.read_excel(out, dtype=str, engine="openpyxl") if fmt == "xlsx" else pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    for header, label in expected.items():
        assert header in table.columns
        assert label is None or label in set(table[header])
    assert not any(v in set(table.to_numpy().ravel()) for v in ("textiles", "True", "own", "heavy"))

    back = validate_layer(read_table(out), layer, crs=4326 if LAYERS[layer].geometry else None)

    assert not back.units and not back.ignored_columns
    if layer == "catalogue":
        pd.testing.assert_frame_equal(pd.DataFrame(stored.catalogue).fillna(""), back.frame.fillna(""),
                                      check_dtype=False)
    else:
        assert_same_layer(stored.layer(layer), back.frame, layer, tolerance=TOLERANCE[fmt])


def test_character_outside_gbk_is_refused_and_target_kept(stored, tmp_path):
    ent = stored.enterprises.copy()
    ent.loc[ent.index[4], "name"] = "𠮷野家餐饮有限公司"  # U+20BB7: in GB 18030, not in GBK
    ds = stored.with_layer("enterprises", ent)
    target = tmp_path / "e.csv"
    target.write_bytes(b"previous export")
    with pytest.raises(ExportError, match=r"'𠮷' \(row 6\) cannot be written in gbk; export with --encoding utf-8-sig"):
        export_layer(ds, "enterprises", target, encoding="gbk")
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["e.csv"]  # no temporary file left behind
    export_layer(ds, "enterprises", target, encoding="gb18030")
    assert "𠮷野家" in target.read_bytes().decode("gb18030")


def test_geojson_is_rfc7946(stored, tmp_path):
    out = export_layer(stored, "parks", tmp_path / "parks.geojson")
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert len(doc["features"]) == len(stored.parks)
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 118 < lon < 123 and 27 < lat < 31.5  # lon/lat order, WGS 84


def test_geoparquet_metadata(stored, tmp_path):
    out = export_layer(stored, "enterprises", tmp_path / "e.parquet")
    assert b"geo" in pq.read_schema(out).metadata
    back = gpd.read_parquet(out)
    assert back.crs.to_epsg() == 4326 and len(back) == len(stored.enterprises)


@pytest.mark.parametrize("layer", ["province", "cities", "import_log", "catalogue"])
def test_other_layers_export(stored, tmp_path, layer):
    out = export_layer(stored, layer, tmp_path / f"{layer}.gpkg")
    assert out.exists() and out.stat().st_size > 0


@pytest.mark.parametrize("kwargs, pattern", [
    ({"layer": "projects", "out": "p.geojson"}, r"layer 'projects' has no geometry; export it as csv"),
    ({"out": "e.kml"}, r"cannot tell the format from 'e.kml'"),
    ({"out": "e.dat", "format": "kml"}, r"unknown export format 'kml'; accepted: geojson, gpkg, csv, parquet, xlsx"),
    ({"out": "e.csv", "encoding": "big5"}, r"encoding 'big5' unknown; accepted:"),
    ({"out": "e.csv", "lang": "fr"}, r"lang 'fr' unknown; accepted: en, zh"),
])
def test_export_refusals(stored, tmp_path, kwargs, pattern):
    kwargs = {"layer": "enterprises", **kwargs}
    kwargs["out"] = tmp_path / kwargs["out"]
    with pytest.raises(ExportError, match=pattern):
        export_layer(stored, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_excel_cell_limit(stored, tmp_path, monkeypatch):
    monkeypatch.setattr(writers, "EXCEL_MAX_CELL", 100)
    with pytest.raises(ExportError, match=r"the geometry in row \d+ of 'counties' needs [\d,]+ characters; an Excel "
                                          r"cell holds 100: export as gpkg"):
        export_layer(stored, "counties", tmp_path / "counties.xlsx")


def test_cli_export(dataset_path, tmp_path):
    from typer.testing import CliRunner

    from api.cli import app

    runner = CliRunner()
    out = tmp_path / "parks.csv"
    result = runner.invoke(app, ["export", "parks", str(out), "--lang", "zh", "--encoding", "gbk",
                                 "--data", str(dataset_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"layer": "parks", "file": str(out), "rows": 200}
    assert "园区名称" in out.read_bytes().decode("gbk")

    # the refusal follows the locale (this command's --lang is the language of the file it writes)
    bad = ["export", "parks", str(tmp_path / "p.txt"), "--data", str(dataset_path)]
    result = runner.invoke(app, bad, env={"LC_ALL": "en_US.UTF-8"})
    assert result.exit_code == 2 and "cannot tell the format" in result.output
    result = runner.invoke(app, bad + ["--lang", "en"], env={"LC_ALL": "zh_CN.UTF-8"})
    assert result.exit_code == 2 and "无法从文件名 'p.txt' 判断导出格式" in result.output, result.output


# --------------------------------------------------------------------------- the formula guard

from hypothesis import given, strategies as st  # noqa: E402

from geodata.spreadsheet import FORMULA_PREFIXES, safe_cell, safe_frame, unguard_cell, unguard_frame  # noqa: E402

_GUARD_TEXT = st.lists(st.sampled_from(list("=+-@\t\r'a1 ,\"浙") + ["{{", "</script>"]), max_size=12).map("".join)


@given(_GUARD_TEXT)
def test_the_guard_never_leaves_a_formula_and_is_undone_exactly(text):
    guarded = safe_cell(text)
    assert not guarded.startswith(FORMULA_PREFIXES)
    assert unguard_cell(guarded) == text
    assert guarded == text or guarded == "'" + text


@given(st.lists(st.one_of(_GUARD_TEXT, st.floats(allow_nan=False), st.integers(), st.none()), min_size=1, max_size=8))
def test_safe_frame_round_trips_through_unguard_frame(values):
    frame = pd.DataFrame({"v": pd.Series(values, dtype=object), "=h": range(len(values))})
    back = unguard_frame(safe_frame(frame))
    assert list(back.columns) == ["v", "=h"]
    assert back["v"].tolist() == frame["v"].tolist()
    assert all(not (isinstance(v, str) and v.startswith(FORMULA_PREFIXES)) for v in safe_frame(frame)["v"])
