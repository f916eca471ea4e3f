"""Importing files into a dataset: formats, encodings, Chinese headers, CRS conversion, and refusals.

Every refusal is checked twice: the error names the problem (row, field, what is accepted), and the
dataset file is byte for byte what it was (SHA-256 before and after).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from geodata.crs import gcj02_to_bd09, wgs84_to_gcj02
from geodata.dataset import load_dataset
from geodata.importer import import_layer, source_sha256
from geodata.readers import ImportReadError, detect_text_encoding, find_coordinate_columns, read_table, split_header
from geodata.validate import ImportValidationError, validate_layer

pytestmark = pytest.mark.filterwarnings(
    "ignore:Normalized/laundered field name:RuntimeWarning", "ignore:Column names longer than 10:UserWarning")

# Hangzhou, Ningbo, Wenzhou city centres (WGS 84): inside Zhejiang
POINTS = [(120.1551, 30.2741), (121.5503, 29.8746), (120.6994, 27.9943)]


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def enterprises_frame(n: int = 3) -> pd.DataFrame:
    """A valid enterprises table with English headers and lon/lat columns (WGS 84)."""
    pts = [POINTS[i % len(POINTS)] for i in range(n)]
    return pd.DataFrame({
        "enterprise_id": [f"T{i:04d}" for i in range(n)],
        "name": [f"测试企业{i}有限公司" for i in range(n)],
        "sector": [("textiles", "machinery", "biopharma")[i % 3] for i in range(n)],
        "employees": [str(50 + i) for i in range(n)],
        "revenue": [str(1_000_000 * (i + 1)) for i in range(n)],
        "land_ha": ["1.5"] * n,
        "pollution_class": ["light"] * n,
        "lon": [str(p[0]) for p in pts],
        "lat": [str(p[1]) for p in pts],
    })


def write_csv(frame: pd.DataFrame, path, encoding: str = "utf-8"):
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    return path


@pytest.fixture(scope="module")
def province(dataset_path):
    return load_dataset(dataset_path).province.geometry.iloc[0]


def validated(frame: pd.DataFrame, tmp_path, province, layer: str = "enterprises", encoding: str = "utf-8", **kw):
    """Rows of ``frame`` written as CSV, read back and validated (no dataset write: the fast path)."""
    return validate_file(write_csv(frame, tmp_path / "v.csv", encoding), province, layer, **{"crs": 4326, **kw})


def validate_file(path, province, layer: str = "enterprises", source_layer=None, **kw):
    """What an import of ``path`` would store, without touching a dataset."""
    raw = read_table(path, target=layer, source_layer=source_layer)
    return validate_layer(raw, layer, province=province, province_name="浙江省", **kw)


def park_frame(geoms) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame({
        "park_id": [f"NP{i:03d}" for i in range(n)], "name": [f"新园区{i}" for i in range(n)],
        "kind": ["specialty_park"] * n, "county_code": ["330102"] * n, "leading_sectors": ["textiles"] * n,
        "area_ha": [100.0] * n, "free_land_ha": [10.0] * n, "land_price": [800.0] * n,
        "max_pollution_class": ["medium"] * n, "rail_km": [1.0] * n, "port_km": [20.0] * n,
        "expressway_km": [3.0] * n,
    }, geometry=geoms, crs=4326)


def small_square(lon: float, lat: float, d: float = 0.01) -> Polygon:
    return box(lon, lat, lon + d, lat + d)


# --------------------------------------------------------------------------- successful imports

def test_gbk_csv_with_chinese_headers_and_units(tmp_dataset_path, tmp_path):
    rows = ("企业编号,企业名称,行业,从业人员,营业收入（万元）,用地面积(亩),污染等级,五个一批,经度,纬度,备注\n"
            "N001,杭州华丰纺织有限公司,纺织服装,120,\"1,500\",30,中度,是,120.1551,30.2741,老厂\n"
            "N002,宁波精工机械有限公司,C3411,80,800.5,15,轻度,否,121.5503,29.8746,\n")
    src = tmp_path / "企业名录.csv"
    src.write_bytes(rows.encode("gbk"))
    before = load_dataset(tmp_dataset_path)

    report = import_layer(tmp_dataset_path, "enterprises", src, crs="4326", mode="append")

    assert report.rows == 2 and report.total_rows == len(before.enterprises) + 2
    assert report.encoding == "gb18030"
    assert report.ignored_columns == ["备注"]
    assert report.columns["营业收入（万元）"] == "revenue"
    ds = load_dataset(tmp_dataset_path)
    new = ds.enterprises.set_index("enterprise_id").loc[["N001", "N002"]]
    assert new["name"].tolist() == ["杭州华丰纺织有限公司", "宁波精工机械有限公司"]
    assert new["sector"].tolist() == ["textiles", "machinery"]  # Chinese label, GB/T 4754 class C3411
    assert new["revenue"].tolist() == [15_000_000.0, 8_005_000.0]  # 万元 -> yuan
    np.testing.assert_allclose(new["land_ha"], [2.0, 1.0])  # 亩 -> ha (15 mu = 1 ha)
    assert new["pollution_class"].tolist() == ["medium", "light"]
    assert new["key_enterprise"].tolist() == [True, False]
    np.testing.assert_allclose(new.geometry.x, [120.1551, 121.5503])
    log = ds.import_log
    assert len(log) == len(before.import_log) + 1
    entry = log.iloc[-1]
    assert (entry["layer"], entry["mode"], int(entry["rows"])) == ("enterprises", "append", 2)
    assert entry["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert entry["source"].endswith("企业名录.csv")
    assert dt.datetime.fromisoformat(entry["time"]).tzinfo is not None
    assert "rows appended from 企业名录.csv" in ds.metadata["layer_descriptions"]["enterprises"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_detected(tmp_path, province, encoding):
    frame = enterprises_frame()
    frame["name"] = ["浙江省绍兴市柯桥区轻纺城印染有限公司", "宁波北仑港口物流", "温州鹿城鞋业"]
    out = validated(frame, tmp_path, province, encoding=encoding)
    assert out.frame["name"].tolist() == frame["name"].tolist()


def test_short_gbk_text_is_read_as_gb18030_not_guessed():
    # statistical detectors often call short Chinese GBK text Shift-JIS; strict trial decoding does not
    data = "企业名称,经度,纬度\n杭州某纺织有限公司,120.1,30.2\n".encode("gbk")
    assert detect_text_encoding(data) == "gb18030"
    assert detect_text_encoding(codecs_bom() + "名称".encode()) == "utf-8-sig"


def codecs_bom() -> bytes:
    import codecs

    return codecs.BOM_UTF8


def test_excel_with_chinese_headers(tmp_dataset_path, tmp_path):
    frame = pd.DataFrame({
        "企业编号": ["X1", "X2"], "企业名称": ["义乌小商品制造厂", "台州医化股份"], "行业": ["轻工业", "生物工程和医药"],
        "从业人员": [35, 420], "营业收入(亿元)": [0.12, 3.5], "用地面积（平方米）": [15000, 82000],
        "污染等级": ["轻", "重度"], "成立日期": [dt.datetime(1998, 5, 1), dt.datetime(2003, 11, 20)],
        "经度": [120.0750, 121.4200], "纬度": [29.3060, 28.6560],
    })
    src = tmp_path / "enterprises.xlsx"
    with pd.ExcelWriter(src) as xl:
        pd.DataFrame({"说明": ["填表说明"]}).to_excel(xl, sheet_name="readme", index=False)
        frame.to_excel(xl, sheet_name="enterprises", index=False)

    report = import_layer(tmp_dataset_path, "enterprises", src, crs=4326)

    assert report.source_layer == "enterprises"  # the sheet named like the layer
    ent = load_dataset(tmp_dataset_path).enterprises.set_index("enterprise_id")
    assert len(ent) == 2
    assert ent.loc["X1", "sector"] == "light_industry" and ent.loc["X2", "sector"] == "biopharma"
    assert ent["revenue"].tolist() == [12_000_000.0, 350_000_000.0]
    np.testing.assert_allclose(ent["land_ha"], [1.5, 8.2])
    assert ent["pollution_class"].tolist() == ["light", "heavy"]
    assert ent["established"].tolist() == [1998, 2003]


def test_excel_with_several_sheets_none_named_like_the_layer_is_refused(tmp_dataset_path, tmp_path):
    src = tmp_path / "book.xlsx"
    with pd.ExcelWriter(src) as xl:
        enterprises_frame().to_excel(xl, sheet_name="2024", index=False)
        enterprises_frame().to_excel(xl, sheet_name="2025", index=False)
    before = sha(tmp_dataset_path)
    with pytest.raises(ImportReadError, match=r"2 sheets \(2024, 2025\).*--source-layer"):
        import_layer(tmp_dataset_path, "enterprises", src, crs=4326)
    assert sha(tmp_dataset_path) == before
    assert read_table(src, source_layer="2025").source_layer == "2025"


def formatted_sheet(path, frame: pd.DataFrame, last_row: int = 1_000_000, tail: list | None = None):
    """An .xlsx whose sheet is ``frame`` (header in row 1) and then styled, value-less rows up to ``last_row``
    (as a sheet formatted down to the bottom), with ``tail`` as values in ``last_row`` if given. Written as
    XML straight into the zip, streamed: seconds, not the minutes openpyxl would take for a million rows."""
    import io
    import re

    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "enterprises"
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append(list(row))
    ws["A1"].fill = PatternFill("solid", fgColor="FFFF00")
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    sheet = "xl/worksheets/sheet1.xml"
    xml = src.read(sheet).decode()
    style = re.search(r'<c r="A1" s="(\d+)"', xml).group(1)
    head, end = xml.split("</sheetData>")
    width = len(frame.columns)
    last_col = chr(ord("A") + width - 1)
    head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last_col}{last_row}"/>', head)
    first_empty, stop = len(frame) + 2, last_row if tail is None else last_row - 1
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            if item.filename != sheet:
                out.writestr(item, src.read(item.filename))
                continue
            with out.open(sheet, "w", force_zip64=True) as fh:
                fh.write(head.encode())
                for block in range(first_empty, stop + 1, 10_000):
                    fh.write("".join(
                        f'<row r="{r}" s="{style}" customFormat="1"><c r="A{r}" s="{style}"/>'
                        f'<c r="{last_col}{r}" s="{style}"/></row>'
                        for r in range(block, min(block + 10_000, stop + 1))).encode())
                if tail is not None:
                    cells = "".join(f'<c r="{chr(ord("A") + k)}{last_row}" t="inlineStr"><is><t>{v}</t></is></c>'
                                    for k, v in enumerate(tail))
                    fh.write(f'<row r="{last_row}">{cells}</row>'.encode())
                fh.write(("</sheetData>" + end).encode())
    return path


def test_excel_formatted_to_a_million_rows_reads_only_its_data(tmp_dataset_path, tmp_path):
    """50 rows in a sheet formatted down to row 1,000,000 (issue 11: 272 s before): the reader keeps only the
    cells that hold values. Checked in bytes: Python's peak allocation while reading stays far below what a
    million row records would take (about 100 MB)."""
    import tracemalloc

    from openpyxl import load_workbook

    src = formatted_sheet(tmp_path / "formatted.xlsx", enterprises_frame(50))
    ws = load_workbook(src, read_only=True).active
    assert ws.max_row == 1_000_000  # the file is what the test says
    tracemalloc.start()
    try:
        raw = read_table(src, target="enterprises")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2 ** 20, f"{peak / 2 ** 20:.0f} MiB allocated while reading 50 rows"
    assert len(raw.frame) == 50 and raw.row_numbers == list(range(2, 52))
    assert raw.frame["enterprise_id"].tolist() == enterprises_frame(50)["enterprise_id"].tolist()
    report = import_layer(tmp_dataset_path, "enterprises", src, crs=4326)
    assert report.rows == 50 and len(load_dataset(tmp_dataset_path).enterprises) == 50


def test_excel_values_after_a_long_formatted_gap_are_not_lost(tmp_path, province):
    """Trusting cells, not a count of empty rows: a record in the sheet's last row is read, with its row number."""
    frame = enterprises_frame(3)
    extra = enterprises_frame(4).iloc[3].tolist()
    extra[2] = "txtile"
    src = formatted_sheet(tmp_path / "gap.xlsx", frame, last_row=400_000, tail=extra)
    raw = read_table(src)
    assert raw.row_numbers == [2, 3, 4, 400_000]
    with pytest.raises(ImportValidationError, match=r"row 400000: 'txtile' is not accepted"):
        validate_layer(raw, "enterprises", province=province, crs=4326)


def test_excel_cells_read_as_openpyxl_gives_them(tmp_path):
    """Whole numbers as int (so ids and codes keep their form), dates as datetime, text as text."""
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    wb.active.append(["code", "when", "x", "flag", "text", "mixed"])
    wb.active.append([330102, dt.datetime(2003, 6, 30), 1.5, True, "007", "=1+1"])
    wb.active.append([-7, dt.datetime(2003, 6, 30, 12, 30), 2.0, False, "浙江", None])
    wb.save(tmp_path / "cells.xlsx")
    expected = [[c for c in row] for row in load_workbook(tmp_path / "cells.xlsx", read_only=True, data_only=True)
                .active.iter_rows(min_row=2, values_only=True)]
    raw = read_table(tmp_path / "cells.xlsx")
    got = raw.frame.astype(object).where(raw.frame.notna(), None).values.tolist()
    assert got == expected
    assert [type(v) for v in got[0][:4]] == [int, dt.datetime, float, bool]


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_declared_chinese_datum_is_converted_to_wgs84(tmp_dataset_path, tmp_path, province, datum):
    lon, lat = np.array([p[0] for p in POINTS]), np.array([p[1] for p in POINTS])
    glon, glat = wgs84_to_gcj02(lon, lat)
    if datum == "bd09":
        glon, glat = gcj02_to_bd09(glon, glat)
    frame = enterprises_frame()
    frame["lon"], frame["lat"] = [repr(float(v)) for v in glon], [repr(float(v)) for v in glat]
    src = write_csv(frame, tmp_path / "amap.csv")

    if datum == "gcj02":  # through a whole import
        assert import_layer(tmp_dataset_path, "enterprises", src, crs=datum).crs == datum
        stored = load_dataset(tmp_dataset_path).enterprises
    else:
        stored = validate_file(src, province, crs=datum).frame
    geod = pyproj.Geod(ellps="WGS84")
    _, _, err = geod.inv(stored.geometry.x.to_numpy(), stored.geometry.y.to_numpy(), lon, lat)
    _, _, offset = geod.inv(glon, glat, lon, lat)
    assert err.max() < 1.0  # BD-09's published inverse is approximate; GCJ-02's is exact to mm
    assert offset.min() > 300  # the declared datum really was hundreds of metres away


def test_projected_geopackage_is_transformed(tmp_path, province):
    frame = enterprises_frame()
    pts = gpd.GeoSeries([Point(p) for p in POINTS], crs=4326).to_crs(4549)
    gdf = gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]), geometry=pts.values, crs=4549)
    src = tmp_path / "cgcs2000.gpkg"
    gdf.to_file(src, layer="enterprises")

    out = validate_file(src, province)

    assert out.crs == "EPSG:4549"
    np.testing.assert_allclose(np.c_[out.frame.geometry.x, out.frame.geometry.y], POINTS, atol=1e-7)


def test_file_crs_overridden_by_stated_crs(tmp_path, province):
    # AMap exports GeoJSON whose coordinates are GCJ-02 although GeoJSON means WGS 84
    glon, glat = wgs84_to_gcj02(*np.array(POINTS).T)
    gdf = gpd.GeoDataFrame(enterprises_frame().drop(columns=["lon", "lat"]),
                           geometry=[Point(x, y) for x, y in zip(glon, glat)], crs=4326)
    src = tmp_path / "amap.geojson"
    gdf.to_file(src)
    out = validate_file(src, province, crs="gcj02")
    assert any("--crs gcj02 was used" in n for n in out.notes)
    stored = out.frame
    np.testing.assert_allclose(np.c_[stored.geometry.x, stored.geometry.y], POINTS, atol=1e-8)


@pytest.mark.parametrize("cpg", ["GBK", "936", None])
def test_shapefile_gbk_attributes(tmp_dataset_path, tmp_path, cpg):
    gdf = gpd.GeoDataFrame(enterprises_frame().drop(columns=["lon", "lat"]),
                           geometry=[Point(p) for p in POINTS], crs=4326)
    gdf["name"] = ["绍兴柯桥纺织印染厂", "慈溪小家电制造", "瑞安汽摩配件"]
    src = tmp_path / "ent.shp"
    pyogrio.write_dataframe(gdf, src, encoding="GBK")
    (tmp_path / "ent.cpg").unlink()
    if cpg is not None:
        (tmp_path / "ent.cpg").write_text(cpg)
    assert "绍兴".encode("gbk") in (tmp_path / "ent.dbf").read_bytes()  # the attributes really are GBK

    raw = read_table(src)

    assert raw.encoding == "gb18030"
    assert any(("detected" in n) == (cpg is None) for n in raw.notes)
    assert raw.frame["name"].tolist() == gdf["name"].tolist()
    if cpg == "GBK":  # and through a whole import
        assert import_layer(tmp_dataset_path, "enterprises", src).encoding == "gb18030"
        assert load_dataset(tmp_dataset_path).enterprises["name"].tolist() == gdf["name"].tolist()


def test_zipped_shapefile(tmp_path, province):
    gdf = gpd.GeoDataFrame(enterprises_frame().drop(columns=["lon", "lat"]),
                           geometry=[Point(p) for p in POINTS], crs=4326)
    pyogrio.write_dataframe(gdf, tmp_path / "ent.shp", encoding="UTF-8")
    src = tmp_path / "ent.zip"
    with zipfile.ZipFile(src, "w") as zf:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            zf.write(tmp_path / f"ent.{ext}", f"数据/ent.{ext}")
    raw = read_table(src)
    assert raw.format == "Shapefile" and raw.source_layer == "数据/ent.shp"
    assert len(validate_file(src, province).frame) == 3
    assert source_sha256(src) == hashlib.sha256(src.read_bytes()).hexdigest()


def test_shapefile_sha256_covers_attributes(tmp_path):
    gdf = gpd.GeoDataFrame({"a": ["x"]}, geometry=[Point(120, 30)], crs=4326)
    pyogrio.write_dataframe(gdf, tmp_path / "s.shp")
    first = source_sha256(tmp_path / "s.shp")
    gdf["a"] = ["y"]  # same geometry, different attribute: only the .dbf changes
    pyogrio.write_dataframe(gdf, tmp_path / "s.shp")
    assert source_sha256(tmp_path / "s.shp") != first


def test_append_twice_logs_both(tmp_dataset_path, tmp_path):
    n0 = len(load_dataset(tmp_dataset_path).enterprises)
    a = enterprises_frame(2)
    b = enterprises_frame(5).iloc[2:]
    import_layer(tmp_dataset_path, "enterprises", write_csv(a, tmp_path / "a.csv"), crs=4326, mode="append")
    report = import_layer(tmp_dataset_path, "enterprises", write_csv(b, tmp_path / "b.csv"), crs=4326, mode="append")
    ds = load_dataset(tmp_dataset_path)
    assert report.total_rows == len(ds.enterprises) == n0 + 5
    assert ds.enterprises["enterprise_id"].is_unique
    assert ds.import_log["source"].str.rsplit("/", n=1).str[-1].tolist()[-2:] == ["a.csv", "b.csv"]


def test_replace_marks_layer_imported(tmp_dataset_path, tmp_path):
    src = write_csv(enterprises_frame(), tmp_path / "real.csv")
    report = import_layer(tmp_dataset_path, "enterprises", src, crs=4326)
    ds = load_dataset(tmp_dataset_path)
    # the synthetic projects now point at enterprises that are gone: said, not refused
    n = len(ds.projects)
    assert f"{n} of {n} projects refer by enterprise_id to enterprises no longer in the layer" in " ".join(report.notes)
    assert len(ds.enterprises) == 3
    assert "enterprises" not in ds.metadata["provenance"]["synthetic"]
    assert ds.metadata["layer_descriptions"]["enterprises"].startswith("IMPORTED from real.csv")


def test_polygon_layers_geometry_kinds(dataset_path, tmp_path, province):
    # parks: single-part multipolygons unwrapped; counties: polygons promoted to multipolygons
    parks = park_frame([shapely.MultiPolygon([small_square(120.10, 30.20)]), small_square(120.30, 30.10)])
    parks.to_file(tmp_path / "parks.geojson")
    assert validate_file(tmp_path / "parks.geojson", province, "parks").frame.geom_type.tolist() == ["Polygon"] * 2

    counties = load_dataset(dataset_path).counties.head(3).copy()
    counties["geometry"] = [max(g.geoms, key=lambda p: p.area) for g in counties.geometry]
    counties.to_file(tmp_path / "counties.geojson")
    out = validate_file(tmp_path / "counties.geojson", province, "counties").frame
    assert out.geom_type.unique().tolist() == ["MultiPolygon"]


def test_table_layer_with_chinese_labels(tmp_path, province):
    frame = pd.DataFrame({"行业": ["建材", "纺织服装", "C26"], "产品": ["立窑水泥", "喷水织机", "光气"],
                          "类别": ["淘汰类", "限制", "鼓励类"], "说明": ["", "", ""]})
    out = validated(frame, tmp_path, province, "catalogue", "gbk", crs=None)
    cat = out.frame
    assert out.crs is None
    assert cat["sector"].tolist() == ["building_materials", "textiles", "petrochemical"]
    assert cat["level"].tolist() == ["eliminate", "restricted", "encouraged"]


@pytest.mark.parametrize("value, expected", [
    ("textiles", "textiles"), ("Textiles", "textiles"), ("纺织服装", "textiles"),
    ("Textiles and apparel", "textiles"), ("C1711", "textiles"), ("18", "textiles"),
    ("27", "biopharma"), ("C3911", "information"), ("G5411", "logistics"),
])
def test_sector_spellings(tmp_path, province, value, expected):
    frame = enterprises_frame(1)
    frame["sector"] = [value]
    assert validated(frame, tmp_path, province).frame["sector"].tolist() == [expected]


@pytest.mark.parametrize("header, value, field, expected", [
    ("revenue(万元)", "150", "revenue", 1_500_000.0),
    ("营业收入（亿元）", "1.5", "revenue", 150_000_000.0),
    ("营业收入万元", "150", "revenue", 1_500_000.0),
    ("revenue/元", "150", "revenue", 150.0),
    ("用地面积(亩)", "45", "land_ha", 3.0),
    ("land_ha (m²)", "25000", "land_ha", 2.5),
    ("用地面积(公顷)", "2.5", "land_ha", 2.5),
])
def test_units_in_headers(tmp_path, province, header, value, field, expected):
    frame = enterprises_frame(1).drop(columns=[field])
    frame[header] = [value]
    out = validated(frame, tmp_path, province)
    assert out.columns[header] == field
    assert out.frame[field].iloc[0] == pytest.approx(expected)


def test_land_price_per_mu(tmp_path, province):
    parks = park_frame([small_square(120.10, 30.20)]).rename(columns={"land_price": "地价(万元/亩)"})
    parks["地价(万元/亩)"] = [30.0]  # 30 万元/亩 = 300000 yuan / 666.67 m2 = 450 yuan/m2
    parks.to_file(tmp_path / "parks.gpkg", layer="parks")
    out = validate_file(tmp_path / "parks.gpkg", province, "parks")
    assert out.frame["land_price"].iloc[0] == pytest.approx(450.0, rel=1e-6)


def test_repair_only_when_asked(tmp_dataset_path, tmp_path):
    bowtie = Polygon([(120.10, 30.20), (120.12, 30.22), (120.12, 30.20), (120.10, 30.22), (120.10, 30.20)])
    park_frame([bowtie]).to_file(tmp_path / "parks.geojson")
    before = sha(tmp_dataset_path)
    where = r"feature 1: invalid geometry: Self-intersection\[120\.11 30\.21\]"
    with pytest.raises(ImportValidationError, match=where):
        import_layer(tmp_dataset_path, "parks", tmp_path / "parks.geojson")
    assert sha(tmp_dataset_path) == before

    report = import_layer(tmp_dataset_path, "parks", tmp_path / "parks.geojson", repair=True)

    assert report.repaired == 1
    stored = load_dataset(tmp_dataset_path).parks.geometry.iloc[0]
    assert stored.is_valid
    assert stored.area == pytest.approx(shapely.make_valid(bowtie).area)


# --------------------------------------------------------------------------- refusals

def _drop(col):
    return lambda f: f.drop(columns=[col])


def _set(col, row, value):
    def change(f):
        f = f.copy()
        f.loc[row, col] = value
        return f
    return change


BAD_CSV = {
    "missing column": (_drop("sector"), {}, [r"column 'sector' \(accepted: sector or 行业\)", "required column missing"]),
    "not a number": (_set("employees", 1, "many"), {}, [r"row 3: 'many' is not a number"]),
    "not whole": (_set("employees", 0, "12.5"), {}, [r"row 2: '12.5' is not a whole number"]),
    "below minimum": (_set("land_ha", 2, "-3"), {}, [r"row 4: '-3' is below the minimum 0"]),
    "empty required": (_set("name", 0, ""), {}, [r"column 'name'", r"row 2: empty \(required\)"]),
    "duplicate id": (_set("enterprise_id", 2, "T0000"), {}, [r"duplicate id 'T0000' \(row 2, row 4\)"]),
    "unknown sector": (_set("sector", 0, "txtile"), {},
                       [r"row 2: 'txtile' is not accepted \(did you mean 'textiles'\?\)", "纺织服装"]),
    "chinese sector typo": (_set("sector", 1, "纺织"), {}, [r"'纺织' is not accepted \(did you mean 'textiles'\?\)"]),
    "gbt outside plan": (_set("sector", 1, "A0111"), {}, [r"GB/T 4754 division 01 is outside"]),
    "unknown class": (_set("pollution_class", 1, "toxic"), {}, [r"'toxic' is not accepted", "light, medium, heavy"]),
    "bad boolean": (lambda f: f.assign(key_enterprise=["是", "maybe", "否"]), {}, [r"row 3: 'maybe' is not yes/no"]),
    "bad coordinates": (_set("lon", 1, "东经120度"), {},
                        [r"row 3: coordinates \('东经120度', '29.8746'\).* are not numbers"]),
    "empty coordinates": (_set("lat", 2, ""), {}, [r"row 4: no coordinates"]),
    "outside province": (lambda f: _set("lat", 0, "39.9042")(_set("lon", 0, "116.4074")(f)), {},
                         [r"row 2: \(116\.407, 39\.9042\) lies outside 浙江省, \d+ km away"]),
    "swapped": (lambda f: _set("lat", 1, "121.5503")(_set("lon", 1, "29.8746")(f)), {},
                [r"row 3: .* are the longitude and latitude swapped\?"]),
    "no crs": (lambda f: f, {"crs": None}, [r"states no coordinate reference system", "gcj02 \\(AMap"]),
    "unknown crs": (lambda f: f, {"crs": "mars"}, [r"unknown CRS 'mars'"]),
    "unknown unit": (lambda f: f.rename(columns={"revenue": "营业收入(千美元)"}), {},
                     [r"header '营业收入\(千美元\)': unit '千美元' is not recognised", "万元"]),
    "two columns one field": (lambda f: f.assign(企业名称=f["name"]), {}, [r"'name' and '企业名称'; keep one"]),
    "no rows": (lambda f: f.iloc[:0], {}, [r"the file has no rows"]),
    "already in layer": (_set("enterprise_id", 0, "E0000001"), {"mode": "append"},
                         [r"row 2: id 'E0000001' is already in the layer"]),
}


@pytest.mark.parametrize("case", list(BAD_CSV))
def test_bad_csv_refused_and_dataset_unchanged(tmp_dataset_path, tmp_path, case):
    change, kwargs, patterns = BAD_CSV[case]
    src = write_csv(change(enterprises_frame()), tmp_path / "bad.csv", "utf-8-sig")
    kwargs = {"crs": 4326, **kwargs}
    before = sha(tmp_dataset_path)
    with pytest.raises(ImportValidationError) as info:
        import_layer(tmp_dataset_path, "enterprises", src, **kwargs)
    message = str(info.value)
    assert message.startswith(f"{len(info.value.problems)} problem")
    assert "nothing was imported" in message
    for pattern in patterns:
        assert re.search(pattern, message), (pattern, message)
    assert sha(tmp_dataset_path) == before


def test_all_rows_swapped_says_so_once(tmp_path, province):
    frame = enterprises_frame(30).rename(columns={"lon": "lat", "lat": "lon"})
    with pytest.raises(ImportValidationError, match=r"look exchanged in 30 of 30 rows: swap the columns"):
        validated(frame, tmp_path, province)


def test_concurrent_appends_are_serialised(tmp_dataset_path, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    n0 = len(load_dataset(tmp_dataset_path).enterprises)
    frames = [enterprises_frame(8).iloc[k * 4:(k + 1) * 4] for k in range(2)]
    files = [write_csv(f, tmp_path / f"part{k}.csv") for k, f in enumerate(frames)]
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda f: import_layer(tmp_dataset_path, "enterprises", f, crs=4326,
                                                       mode="append"), files))
    ds = load_dataset(tmp_dataset_path)
    assert len(ds.enterprises) == n0 + 8  # neither import overwrote the other
    assert sorted(r.total_rows for r in reports) == [n0 + 4, n0 + 8]
    assert ds.import_log["source"].str.contains("part").sum() == 2


def test_all_problems_reported_at_once(tmp_dataset_path, tmp_path):
    frame = enterprises_frame()
    frame.loc[0, "sector"] = "txtile"
    frame.loc[1, "employees"] = "n/a"
    frame.loc[2, ["lon", "lat"]] = ["29.9943", "120.6994"]
    src = write_csv(frame.drop(columns=["pollution_class"]), tmp_path / "bad.csv")
    with pytest.raises(ImportValidationError) as info:
        import_layer(tmp_dataset_path, "enterprises", src, crs=4326)
    fields = sorted(str(p.field) for p in info.value.problems)
    assert fields == ["employees", "geometry", "pollution_class", "sector"]


def test_many_problems_are_capped(tmp_dataset_path, tmp_path):
    frame = enterprises_frame(60)
    frame["sector"] = "unknown"
    with pytest.raises(ImportValidationError) as info:
        import_layer(tmp_dataset_path, "enterprises", write_csv(frame, tmp_path / "bad.csv"), crs=4326)
    assert len(info.value.problems) == 60
    message = str(info.value)
    assert "... and 50 more" in message and "row 61" not in message


def test_projects_must_reference_enterprises(tmp_dataset_path, tmp_path):
    frame = pd.DataFrame({"项目编号": ["J1", "J2"], "企业编号": ["E0000001", "E9999999"], "项目名称": ["技改", "扩建"],
                          "行业": ["机械", "机械"], "总投资(万元)": [500, 800], "资金来源": ["国债", "自筹"],
                          "开工年份": ["2004年", "2005"], "状态": ["在建", "竣工"]})
    src = write_csv(frame, tmp_path / "projects.csv", "gbk")
    before = sha(tmp_dataset_path)
    with pytest.raises(ImportValidationError, match=r"row 3: 'E9999999' is not in the enterprises layer"):
        import_layer(tmp_dataset_path, "projects", src)
    assert sha(tmp_dataset_path) == before
    proj = validated(frame.iloc[:1], tmp_path, None, "projects", "gbk").frame
    assert proj[["funding", "start_year", "status", "investment"]].iloc[0].tolist() == [
        "national_debt", 2004, "in_progress", 5_000_000.0]


def _geo_case(geoms, layer="parks"):
    def make(tmp_path):
        gdf = park_frame(geoms) if layer == "parks" else gpd.GeoDataFrame(
            enterprises_frame(len(geoms)).drop(columns=["lon", "lat"]), geometry=geoms, crs=4326)
        path = tmp_path / f"{layer}.gpkg"
        gdf.to_file(path, layer=layer)
        return path
    return make


BAD_GIS = {
    "invalid": (_geo_case([Polygon([(120.1, 30.2), (120.12, 30.22), (120.12, 30.2), (120.1, 30.22)])]),
                "parks", r"feature 1: invalid geometry: Self-intersection\[.*\]; fix it or import with --repair"),
    "empty": (_geo_case([small_square(120.1, 30.2), Polygon()]), "parks", r"feature 2: empty geometry"),
    "line in parks": (_geo_case([LineString([(120.1, 30.2), (120.2, 30.3)])]), "parks",
                      r"feature 1: a LineString; this layer holds Polygons"),
    "point in parks": (_geo_case([Point(120.1, 30.2)]), "parks", r"feature 1: a Point; this layer holds Polygons"),
    "polygon in enterprises": (_geo_case([small_square(120.1, 30.2)] * 3, "enterprises"), "enterprises",
                               r"a Polygon; this layer holds Points"),
    "park outside": (_geo_case([small_square(116.4, 39.9)]), "parks", r"lies outside 浙江省"),
}


@pytest.mark.parametrize("case", list(BAD_GIS))
def test_bad_geometry_refused_and_dataset_unchanged(tmp_dataset_path, tmp_path, case):
    make, layer, pattern = BAD_GIS[case]
    before = sha(tmp_dataset_path)
    with pytest.raises(ImportValidationError, match=pattern):
        import_layer(tmp_dataset_path, layer, make(tmp_path))
    assert sha(tmp_dataset_path) == before


def test_shapefile_without_prj_refused(tmp_dataset_path, tmp_path):
    gdf = gpd.GeoDataFrame(enterprises_frame().drop(columns=["lon", "lat"]),
                           geometry=[Point(p) for p in POINTS], crs=4326)
    gdf.to_file(tmp_path / "ent.shp")
    (tmp_path / "ent.prj").unlink()
    before = sha(tmp_dataset_path)
    with pytest.raises(ImportValidationError, match="states no coordinate reference system"):
        import_layer(tmp_dataset_path, "enterprises", tmp_path / "ent.shp")
    assert sha(tmp_dataset_path) == before
    assert len(validate_file(tmp_path / "ent.shp", None, crs="EPSG:4326").frame) == 3


def test_projected_coordinates_without_crs_get_a_hint(tmp_dataset_path, tmp_path):
    xy = gpd.GeoSeries([Point(p) for p in POINTS], crs=4326).to_crs(4549)
    frame = enterprises_frame().drop(columns=["lon", "lat"]).assign(x=xy.x.to_numpy(), y=xy.y.to_numpy())
    with pytest.raises(ImportValidationError, match=r"look projected \(metres\)"):
        import_layer(tmp_dataset_path, "enterprises", write_csv(frame, tmp_path / "xy.csv"))
    assert validated(frame, tmp_path, None, crs=4549).crs == "EPSG:4549"


@pytest.mark.parametrize("name, content, pattern", [
    ("broken.gpkg", b"not a geopackage", r"cannot read broken.gpkg as GeoPackage"),
    ("old.xls", b"\xd0\xcf\x11\xe0", r"old Excel .xls files are not read; save it as .xlsx"),
    ("data.kml", b"<kml/>", r"unknown file type '.kml'; accepted: .csv"),
    ("missing.csv", None, r"does not exist"),
])
def test_unreadable_files_refused(tmp_dataset_path, tmp_path, name, content, pattern):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    before = sha(tmp_dataset_path)
    with pytest.raises(ImportReadError, match=pattern):
        import_layer(tmp_dataset_path, "enterprises", tmp_path / name, crs=4326)
    assert sha(tmp_dataset_path) == before


@pytest.mark.parametrize("kwargs, pattern", [
    ({"layer": "province"}, r"layer 'province' cannot be imported; accepted: parks, enterprises"),
    ({"mode": "merge"}, r"mode 'merge' is unknown; accepted: replace, append"),
])
def test_bad_arguments(tmp_dataset_path, tmp_path, kwargs, pattern):
    src = write_csv(enterprises_frame(), tmp_path / "e.csv")
    with pytest.raises(ValueError, match=pattern):
        import_layer(tmp_dataset_path, **{"layer": "enterprises", "file": src, "crs": 4326, **kwargs})


def test_failed_write_leaves_dataset_unchanged(tmp_dataset_path, tmp_path, monkeypatch):
    import geodata.dataset as dataset_module

    real = dataset_module._write_layer

    def failing(path, name, *args, **kwargs):
        if name == "import_log":
            raise OSError("disk full")
        return real(path, name, *args, **kwargs)

    monkeypatch.setattr(dataset_module, "_write_layer", failing)
    before = sha(tmp_dataset_path)
    with pytest.raises(OSError, match="disk full"):
        import_layer(tmp_dataset_path, "enterprises", write_csv(enterprises_frame(), tmp_path / "e.csv"), crs=4326)
    assert sha(tmp_dataset_path) == before
    assert sorted(p.name for p in tmp_dataset_path.parent.iterdir() if p.suffix == ".gpkg") == ["dataset.gpkg"]


# --------------------------------------------------------------------------- readers

@pytest.mark.parametrize("columns, expected", [
    (["名称", "经度", "纬度"], ("经度", "纬度")),
    (["Longitude", "Latitude"], ("Longitude", "Latitude")),
    (["LNG", "LAT"], ("LNG", "LAT")),
    (["x", "y", "经度（GCJ-02）", "纬度（GCJ-02）"], ("经度（GCJ-02）", "纬度（GCJ-02）")),
    ([" lon ", "lat"], (" lon ", "lat")),
    (["POINT_X", "POINT_Y"], ("POINT_X", "POINT_Y")),
    (["名称", "地址"], None),
])
def test_coordinate_columns_found_by_name(columns, expected):
    assert find_coordinate_columns(columns)[0] == expected


def test_coordinate_header_hints_at_datum(tmp_dataset_path, tmp_path):
    frame = enterprises_frame().rename(columns={"lon": "经度(高德)", "lat": "纬度(高德)"})
    with pytest.raises(ImportValidationError, match=r"its header suggests --crs gcj02"):
        import_layer(tmp_dataset_path, "enterprises", write_csv(frame, tmp_path / "e.csv"))


@pytest.mark.parametrize("header, expected", [
    ("营业收入（万元）", ("营业收入", "万元")), ("Revenue (10k yuan)", ("revenue", "10k yuan")),
    ("地价/万元/亩", ("地价/万元", "亩")), ("企业 名称", ("企业名称", "")), ("ＬＯＮ", ("lon", "")),
])
def test_split_header(header, expected):
    assert split_header(header) == expected


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_title_lines_and_blank_rows_keep_row_numbers(tmp_path, province, fmt):
    # as statistical offices lay sheets out: a title, a blank line, the header, records with a gap
    frame = enterprises_frame(3)
    frame.loc[2, "sector"] = "txtile"
    rows = [["2024年某县规模以上工业企业名录"], [], list(frame.columns), list(frame.iloc[0]), list(frame.iloc[1]), [],
            list(frame.iloc[2])]
    path = tmp_path / f"titled.{fmt}"
    if fmt == "csv":
        path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    else:
        from openpyxl import Workbook

        wb = Workbook()
        for r in rows:
            wb.active.append(r)
        wb.save(path)
    raw = read_table(path)
    assert raw.row_numbers == [4, 5, 7]
    assert any("header found in row 3" in n for n in raw.notes)
    with pytest.raises(ImportValidationError, match=r"row 7: 'txtile' is not accepted"):
        validate_layer(raw, "enterprises", province=province, crs=4326)


# --------------------------------------------------------------------------- command line

def test_cli_import(tmp_dataset_path, tmp_path):
    from typer.testing import CliRunner

    from api.cli import app

    runner = CliRunner()
    bad = enterprises_frame()
    bad.loc[0, "sector"] = "txtile"
    before = sha(tmp_dataset_path)
    result = runner.invoke(app, ["import", "enterprises", str(write_csv(bad, tmp_path / "bad.csv")), "--lang", "en",
                                 "--crs", "4326", "--data", str(tmp_dataset_path)])
    assert result.exit_code == 2
    assert "did you mean 'textiles'?" in result.output and "nothing was imported" in result.output
    assert sha(tmp_dataset_path) == before

    good = write_csv(enterprises_frame(), tmp_path / "good.csv")
    result = runner.invoke(app, ["import", "enterprises", str(good), "--crs", "gcj02", "--mode", "append",
                                 "--data", str(tmp_dataset_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == 3 and report["crs"] == "gcj02" and report["mode"] == "append"

    result = runner.invoke(app, ["import", "enterprises", str(good), "--mode", "sideways", "--lang", "en",
                                 "--data", str(tmp_dataset_path)])
    assert result.exit_code == 2 and "accepted: replace, append" in result.output
