"""The refusals that were English only, now coded (docs/error-messages.md): import read errors (an unknown
format, a corrupt file, the limits of a zip archive), dataset and ``--mode`` errors, metrics errors, and a
``ScenarioParams`` refusal. ``str(exc)`` keeps the English text word for word; the Chinese command line shows
them without an English sentence; the API answers ``code`` and ``detail_zh``; a hostile file name or value
(``<script>``, ``[red]``) is shown as text."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geodata.messages import message
from tests.test_messages_zh import HAN, english_sentences

HOSTILE = "坏<script>[red]x"


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def _cli(runner, *args):
    from api.cli import app

    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})


def app_():
    from api.cli import app

    return app


def _one_line(text: str) -> str:
    """The output with the console's line breaks removed (a long message folds at the terminal width)."""
    return text.replace("\n", "")


# ------------------------------------------------------------------ the English text is unchanged

def test_read_errors_keep_their_english_text_and_have_chinese():
    from geodata.readers import FORMATS, ImportReadError, format_for_path

    accepted = ".csv, .geojson, .geoparquet, .gpkg, .json, .parquet, .shp, .tsv, .txt, .xlsm, .xlsx, .zip"
    assert ", ".join(sorted(FORMATS)) == accepted
    with pytest.raises(ImportReadError) as info:
        format_for_path("a.dat")
    assert str(info.value) == f"a.dat: unknown file type '.dat'; accepted: {accepted}"
    assert message(info.value, "zh") == f"a.dat：未知的文件类型 '.dat'；可接受：{accepted}"
    assert info.value.code == "read.unknown_type" and isinstance(info.value, ValueError)
    with pytest.raises(ImportReadError) as info:
        format_for_path("noext")
    assert str(info.value) == f"noext: unknown file type '(no suffix)'; accepted: {accepted}"
    assert message(info.value, "zh") == f"noext：未知的文件类型 '（无后缀）'；可接受：{accepted}"
    with pytest.raises(ImportReadError) as info:
        format_for_path("a.csv", format="dbase")
    assert str(info.value) == ("unknown format 'dbase'; accepted: CSV, Excel, GeoJSON, GeoPackage, GeoParquet, "
                               "Shapefile")
    back = pickle.loads(pickle.dumps(info.value))
    assert type(back) is ImportReadError and str(back) == str(info.value) and back.code == "read.unknown_format"


def test_archive_limits_keep_their_english_text():
    from geodata.readers import ArchiveLimits, ImportReadError

    with pytest.raises(ValueError, match=r"^--max-ratio must be a number of at least 1, not 0\.5$") as info:
        ArchiveLimits.from_options(max_ratio=0.5)
    assert isinstance(info.value, ImportReadError) and message(info.value, "zh") == "--max-ratio 应为不小于 1 的数，而不是 0.5"
    with pytest.raises(ImportReadError, match=r"^--max-unpacked-mb must be a positive number of MiB, not -1\.0$"):
        ArchiveLimits.from_options(max_unpacked_mb=-1.0)


def test_dataset_errors_keep_their_english_text(tmp_path):
    from geodata.dataset import DatasetError, load_dataset

    missing = tmp_path / "nope.gpkg"
    with pytest.raises(DatasetError) as info:
        load_dataset(missing)
    assert str(info.value) == f"dataset file {str(missing)!r} does not exist; build one with 'parkplan init --out {missing}'"
    assert message(info.value, "zh") == f"数据集文件 {str(missing)!r} 不存在；请用 'parkplan init --out {missing}' 建立"
    with pytest.raises(DatasetError, match=r"^layers must be a sequence of layer names, got the string 'parks'$"):
        load_dataset(missing, layers="parks")
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)


def test_metrics_errors_keep_their_english_text():
    import pandas as pd

    from parks.metrics import MetricsError
    from parks.metrics._common import check_sector, require_columns

    with pytest.raises(MetricsError) as info:
        require_columns(pd.DataFrame({"a": [1]}), ["park_id", "sector"])
    assert str(info.value) == ("enterprises lack column(s) 'park_id', 'sector' (derived columns: run "
                               "parks.joins.prepare(ds) first); present: a")
    assert message(info.value, "zh") == "企业缺少列 'park_id', 'sector'（派生列：请先运行 parks.joins.prepare(ds)）；现有的列：a"
    with pytest.raises(MetricsError) as info:
        check_sector("txtile")
    assert str(info.value).startswith("unknown sector 'txtile' (did you mean 'textiles'?); accepted: information, ")
    assert message(info.value, "zh").startswith("未知行业 'txtile'（是否指 'textiles'？）；可接受的行业：information, ")
    assert english_sentences(message(info.value, "zh")) == []
    back = pickle.loads(pickle.dumps(info.value))
    assert type(back) is MetricsError and back.code == "sector.unknown" and str(back) == str(info.value)


# ------------------------------------------------------------------ the Chinese command line

def _write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_a_corrupt_zip_with_a_hostile_name_in_chinese(runner, tmp_dataset_path, tmp_path):
    bad = tmp_path / f"{HOSTILE}.zip"
    bad.write_bytes(b"PK\x03\x04 this is not an archive")
    before = tmp_dataset_path.read_bytes()
    res = _cli(runner, "import", "enterprises", bad, "--data", tmp_dataset_path, "--lang", "zh")
    assert res.exit_code == 2, res.output
    out = _one_line(res.output)
    assert f"错误： 无法按 Shapefile 格式读取 {HOSTILE}.zip：文件已损坏或不是该格式（原始信息：'File is not a zip file'）" in out, out
    assert "\\[" not in out  # the name's brackets are shown as they are, without an escaping backslash
    assert english_sentences(res.output) == [], res.output
    assert tmp_dataset_path.read_bytes() == before
    en = _cli(runner, "import", "enterprises", bad, "--data", tmp_dataset_path, "--lang", "en")
    assert f"error: cannot read {HOSTILE}.zip as Shapefile: File is not a zip file" in _one_line(en.output), en.output


def test_an_unknown_format_and_a_bad_mode_in_chinese(runner, tmp_dataset_path, tmp_path):
    odd = tmp_path / "企业名录.dbf"
    odd.write_bytes(b"\x03")
    res = _cli(runner, "import", "enterprises", odd, "--data", tmp_dataset_path, "--lang", "zh")
    assert res.exit_code == 2
    assert "企业名录.dbf：未知的文件类型 '.dbf'；可接受：.csv, " in _one_line(res.output), res.output
    assert english_sentences(res.output) == [], res.output
    csv = tmp_path / "e.csv"
    csv.write_text("enterprise_id\nE1\n", encoding="utf-8")
    res = _cli(runner, "import", "enterprises", csv, "--mode", "merge[red]", "--data", tmp_dataset_path, "--lang", "zh")
    assert res.exit_code == 2
    assert "导入方式 --mode 'merge[red]' 未知；可接受：replace, append" in _one_line(res.output), res.output
    assert english_sentences(res.output) == [], res.output
    en = _cli(runner, "import", "enterprises", csv, "--mode", "merge", "--data", tmp_dataset_path, "--lang", "en")
    assert "mode 'merge' is unknown; accepted: replace, append" in en.output


def test_the_limits_of_a_zip_archive_in_chinese(runner, tmp_dataset_path, tmp_path):
    bomb = _write_zip(tmp_path / "bomb.zip", {"a.shp": bytes(4 << 20), "a.shx": b"x", "a.dbf": b"x"})
    res = _cli(runner, "import", "enterprises", bomb, "--data", tmp_dataset_path, "--lang", "zh")
    assert res.exit_code == 2
    out = _one_line(res.output)
    assert "bomb.zip：成员 'a.shp' 由 " in out and "解压为 4.0 MiB，压缩比为 " in out and "--max-ratio 提高上限" in out, out
    assert english_sentences(res.output) == [], res.output
    en = _cli(runner, "import", "enterprises", bomb, "--data", tmp_dataset_path, "--lang", "en")
    assert "bomb.zip: member 'a.shp' unpacks to 4.0 MiB from " in _one_line(en.output), en.output

    members = {"../evil.shp": b"x", f"{HOSTILE}.zip": b"x"} | {f"d{i}/a.shp": b"x" for i in range(10)}
    members |= {f"D{i}/A.SHP": b"x" for i in range(10)}  # the same names in capitals: ten duplicates
    evil = _write_zip(tmp_path / "evil.zip", members)
    res = _cli(runner, "import", "enterprises", evil, "--data", tmp_dataset_path, "--lang", "zh")
    assert res.exit_code == 2
    out = _one_line(res.output)
    assert ("evil.zip 被拒绝：条目 '../evil.shp' 指向压缩包目录之外（'..'）；"
            f"条目 '{HOSTILE}.zip' 是压缩包中的压缩包；请先解压，再导入其中的 Shapefile；") in out, out
    assert "；……另有 2 处" in out, out
    assert english_sentences(res.output) == [], res.output
    res = _cli(runner, "import", "enterprises", bomb, "--max-ratio", "0.5", "--data", tmp_dataset_path, "--lang", "zh")
    assert res.exit_code == 2 and "--max-ratio 应为不小于 1 的数，而不是 0.5" in res.output, res.output


def test_a_missing_dataset_in_chinese(runner, tmp_path):
    missing = tmp_path / "[red]数据[/red].gpkg"
    res = _cli(runner, "info", "--data", missing, "--lang", "zh")
    assert res.exit_code == 2
    out = _one_line(res.output)
    assert f"数据集文件 {str(missing)!r} 不存在；请用 'parkplan init --out {missing}' 建立" in out, out
    assert english_sentences(res.output) == [], res.output
    for command in (["info"], ["plan", "report"], ["metrics"]):  # --lang en in a Chinese locale
        res = runner.invoke(app_(), [*command, "--data", str(missing), "--lang", "en"],
                            env={"COLUMNS": "250", "LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""})
        out = _one_line(res.output)
        assert res.exit_code == 2 and f"error: dataset file {str(missing)!r} does not exist" in out, (command, out)


def test_a_bad_metrics_parameter_in_chinese(runner, dataset_path):
    res = _cli(runner, "metrics", "--sector", "<script>txtile", "--simulations", "0", "--data", dataset_path,
               "--lang", "zh")
    assert res.exit_code == 2, res.output
    out = _one_line(res.output)
    assert "错误： 未知行业 '<script>txtile'" in out and "；可接受的行业：information, textiles" in out, out
    assert english_sentences(res.output) == [], res.output
    en = _cli(runner, "metrics", "--sector", "<script>txtile", "--simulations", "0", "--data", dataset_path,
              "--lang", "en")
    assert "error: unknown sector '<script>txtile'" in en.output and not HAN.search(en.output), en.output


def test_a_scenario_parameter_in_chinese(runner, dataset_path):
    """``--key-bonus`` has a minimum of 0 on the command line (Typer refuses a negative or NaN value itself);
    infinity passes that check and is refused by ``ScenarioParams`` (a coded SuitabilityError), shown in the
    command's language."""
    res = _cli(runner, "suitability", "--scenario", "urban-core", "--key-bonus", "inf", "--data", dataset_path,
               "--lang", "zh")
    assert res.exit_code == 2, res.output
    assert "情景参数 key_bonus 应为 >= 0 的有限数值，实际为 inf" in res.output, res.output
    assert english_sentences(res.output) == [], res.output
    en = _cli(runner, "suitability", "--scenario", "urban-core", "--key-bonus", "inf", "--data", dataset_path,
              "--lang", "en")
    assert "scenario parameter key_bonus must be a finite number >= 0, got inf" in en.output, en.output


# ------------------------------------------------------------------ the API

def _app():
    from fastapi import FastAPI

    from api.problems import install

    app = FastAPI()
    install(app)

    @app.get("/sector")
    def sector(value: str):
        from parks.metrics._common import check_sector

        return {"sector": check_sector(value)}

    @app.get("/layer")
    def layer(value: str):
        from geodata.dataset import load_dataset

        load_dataset("no-such-dataset.gpkg", layers=[value])  # the layer names are checked first

    return app


def test_the_api_answers_code_and_detail_zh_for_a_metrics_error():
    from fastapi.testclient import TestClient

    from api.problems import PROBLEM_JSON

    with TestClient(_app()) as client:
        r = client.get("/sector", params={"value": "<script>alert(1)</script>[red]"})
        assert r.status_code == 400 and r.headers["content-type"] == PROBLEM_JSON
        body = r.json()
        assert body["code"] == "sector.unknown"
        assert body["detail"].startswith("unknown sector '<script>alert(1)</script>[red]'; accepted: information, ")
        assert body["detail_zh"].startswith("未知行业 '<script>alert(1)</script>[red]'；可接受的行业：information, ")
        assert english_sentences(body["detail_zh"]) == []
        r = client.get("/layer", params={"value": "factories"})
        assert r.status_code == 400 and r.json()["code"] == "dataset.unknown_layer"
        assert r.json()["detail_zh"].startswith("未知图层 'factories'；可接受的图层：province, ")


# ------------------------------------------------------------------ info's stored provenance

def test_info_shows_the_stored_provenance_with_labels_in_the_language(runner, tmp_dataset_path, tmp_path):
    """The labels are the glossary's; what the dataset stores (a file name, the time) is shown as stored, as
    text (a name with ``[red]`` keeps its brackets)."""
    from geodata.importer import import_layer
    from tests.geodata.test_import import enterprises_frame, write_csv

    name = "[red]企业<script>.csv"
    report = import_layer(tmp_dataset_path, "enterprises", write_csv(enterprises_frame(), tmp_path / name), crs=4326,
                          mode="append")
    zh = _one_line(_cli(runner, "info", "--data", tmp_dataset_path, "--lang", "zh").output)
    for label in ("随机种子", "合成数据图层", "真实数据：产业指导目录", "真实数据：沿海县"):
        assert label in zh, (label, zh)
    assert "已导入：企业" in zh and f"{name}（{report.time}，追加）" in zh, zh
    en = _one_line(_cli(runner, "info", "--data", tmp_dataset_path, "--lang", "en").output)
    assert "imported: enterprises" in en and f"{name} ({report.time}, append)" in en, en
    assert "seed" in en and "real: industry catalogue" in en and "已导入" not in en


def test_hostile_values_in_other_refusals_are_shown_exactly(runner, dataset_path, tmp_path):
    """``fail`` escapes what it prints; a caller that escaped it first showed a stray backslash ('\\[red]')."""
    hostile = "[red]<script>E9"
    res = _cli(runner, "suitability", "--enterprise", hostile, "--data", dataset_path, "--lang", "zh")
    assert res.exit_code == 2 and f"企业编号 '{hostile}' 不在数据集中" in res.output and "\\[" not in res.output, res.output
    targets = tmp_path / "[red]目标.toml"
    res = _cli(runner, "plan", "report", "--targets", targets, "--data", dataset_path, "--lang", "en")
    assert res.exit_code == 2 and str(targets) in _one_line(res.output) and "\\[" not in res.output, res.output


@pytest.mark.parametrize("command", [
    ["map", "clusters", "-o", "{tmp}/m.html"],
    ["suitability", "--enterprise", "E000001"],
    ["export-parquet", "-o", "{tmp}/store"],
    ["transfers", "propose"],
    ["join", "--enterprises-parquet", "{tmp}/store", "-o", "{tmp}/joined", "--engine", "memory"],
    ["batch", "--enterprises-parquet", "{tmp}/store", "-o", "{tmp}/batch", "--engine", "memory"],
], ids=lambda c: " ".join(c[:2]))
def test_a_missing_dataset_follows_lang_in_every_command(runner, tmp_path, command):
    """``--lang`` decides the language of a missing dataset's refusal, whatever the locale says."""
    missing = tmp_path / "nope.gpkg"
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    for lang, locale, expected in (("en", "zh_CN.UTF-8", f"error: dataset file {str(missing)!r} does not exist"),
                                   ("zh", "en_US.UTF-8", f"数据集文件 {str(missing)!r} 不存在")):
        res = runner.invoke(app_(), [*args, "--data", str(missing), "--lang", lang],
                            env={"COLUMNS": "250", "LANG": locale, "LC_ALL": "", "LC_MESSAGES": ""})
        out = _one_line(res.output)
        assert res.exit_code == 2 and expected in out, (command, lang, out)
