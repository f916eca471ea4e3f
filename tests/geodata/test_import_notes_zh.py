"""The import report's notes (what the importer did on its own: the encoding it detected, the header row it
found, the sheet it read, the geometries it repaired, the --crs it used, the rows left pointing nowhere) are coded:
English word for word as before, Chinese for the command line in Chinese."""

from __future__ import annotations

import pickle

import pytest
from typer.testing import CliRunner

from api.cli import app
from geodata.importer import import_layer
from geodata.messages import IMPORT, Note, message, placeholders
from geodata.readers import read_table

NOTE_CODES = [c for c in IMPORT if c.startswith("note.")]


def test_every_note_has_both_languages_and_no_english_sentence_in_chinese():
    assert len(NOTE_CODES) >= 10
    for code in NOTE_CODES:
        en, zh = IMPORT[code]
        assert placeholders(en) == placeholders(zh), code
        words = [w for w in zh.replace("{", " {").split() if w.isascii() and w.isalpha() and len(w) > 3]
        assert not [w for w in words if w.lower() in {"encoding", "header", "sheet", "detected", "file", "layer"}], code


def test_a_note_is_english_text_and_renders_in_chinese():
    n = Note(IMPORT("note.encoding_detected", encoding="gb18030"))
    assert n == "text encoding gb18030 (detected)" and isinstance(n, str)
    assert message(n, "zh") == "文本编码 gb18030（自动识别）"
    assert pickle.loads(pickle.dumps(n)).in_lang("zh") == message(n, "zh")
    assert message("plain text", "zh") == "plain text"  # a note without a code stays as it is


def test_gbk_csv_with_a_title_row_says_so_in_both_languages(tmp_path):
    src = tmp_path / "企业名录.csv"
    src.write_bytes(("某县规模以上工业企业名录（2025年）\n企业编号,企业名称,行业\nN001,杭州华丰纺织有限公司,纺织服装\n"
                     "N002,宁波精工机械有限公司,机械装备\n").encode("gbk"))
    raw = read_table(src)
    codes = {n.code for n in raw.notes if isinstance(n, Note)}
    assert {"note.encoding_detected", "note.header_row"} <= codes
    assert "header found in row 2; the lines above it (a title?) are skipped" in raw.notes
    zh = [message(n, "zh") for n in raw.notes]
    assert "表头在第 2 行；其上各行（标题？）已跳过" in zh
    assert any(z.startswith("文本编码 gb18030") for z in zh)


@pytest.mark.parametrize("lang, expected, absent", [
    ("zh", ["文本编码 gb18030（自动识别）", "技改项目的 "], ["text encoding", "refer by"]),
    ("en", ["text encoding gb18030 (detected)", "projects refer by enterprise_id to enterprises"], ["文本编码"]),
])
def test_the_command_line_prints_the_notes_in_its_language(tmp_dataset_path, tmp_path, lang, expected, absent):
    """Replacing the enterprises with a GBK file of two leaves the synthetic projects pointing nowhere: both
    notes are printed in the command's language."""
    src = tmp_path / "企业.csv"
    src.write_bytes(("企业编号,企业名称,行业,从业人员,营业收入（万元）,用地面积(亩),污染等级,经度,纬度\n"
                     "N001,杭州华丰纺织有限公司,纺织服装,120,1500,30,中度,120.1551,30.2741\n"
                     "N002,宁波精工机械有限公司,C3411,80,800.5,15,轻度,121.5503,29.8746\n").encode("gbk"))
    r = CliRunner().invoke(app, ["import", "enterprises", str(src), "--data", str(tmp_dataset_path), "--crs", "4326",
                                 "--mode", "replace", "--lang", lang])
    assert r.exit_code == 0, r.output
    for text in expected:
        assert text in r.output, (text, r.output)
    for text in absent:
        assert text not in r.output, (text, r.output)


def test_dangling_note_names_the_layers_in_chinese(tmp_dataset_path, tmp_path):
    src = tmp_path / "e.csv"
    src.write_text("enterprise_id,name,sector,employees,revenue,land_ha,pollution_class,lon,lat\n"
                   "N1,甲,textiles,10,100,1,light,120.2,30.2\n", encoding="utf-8")
    report = import_layer(tmp_dataset_path, "enterprises", src, crs=4326)
    dangling = {n.text.params["dependent"].en: n for n in report.notes if isinstance(n, Note) and n.code == "note.dangling"}
    assert "projects" in dangling  # the synthetic projects now point at enterprises that are gone
    zh = message(dangling["projects"], "zh")
    assert zh.startswith("技改项目的 ") and "指向企业中已不存在的记录" in zh and zh.endswith("请接着导入技改项目")
    for note in dangling.values():  # every layer named by its Chinese word, never by its id
        assert note.text.params["dependent"].en not in message(note, "zh")
