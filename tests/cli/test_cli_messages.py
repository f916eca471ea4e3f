"""The commands' own refusals (api/cli/_messages.py: CLI) and the coded errors they show (a map's, a GeoParquet
store's, the administration's) in the command line's language: Chinese for ``--lang zh`` or a Chinese/C locale,
English for ``--lang en`` or an English locale, exit code 2. Run through the real command line (typer's CliRunner,
and once the installed entry point ``.venv/bin/parkplan`` with ``LANG=C.UTF-8``). No command gives ``fail`` a
sentence of its own (AST scan of api/cli)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.test_messages_zh import HAN, english_sentences

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
ZH = {"LC_ALL": "zh_CN.UTF-8", "COLUMNS": "300"}
EN = {"LC_ALL": "en_US.UTF-8", "COLUMNS": "300"}


def _flat(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip()


def _is_sentence(node: ast.expr) -> bool:
    """Text written in the command: a string, an f-string, ``str(...)``, or strings joined with ``+``/``%``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
        return True
    if isinstance(node, ast.BinOp):
        return _is_sentence(node.left) or _is_sentence(node.right)
    return False


def test_no_command_fails_with_a_sentence_of_its_own():
    calls = 0
    for path in sorted((ROOT / "api" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "fail" and node.args:
                calls += 1
                assert not _is_sentence(node.args[0]), (f"{path.name}:{node.lineno}: fail({ast.unparse(node.args[0])}) "
                                                        "- give a CLI message (api/cli/_messages.py) or a coded error")
    assert calls >= 30  # the scan sees the commands' refusals
    assert _is_sentence(ast.parse('f"{p} exists"').body[0].value)  # type: ignore[attr-defined]
    assert _is_sentence(ast.parse('"a" + str(b)').body[0].value)  # type: ignore[attr-defined]
    assert not _is_sentence(ast.parse('CLI("cli.exists_force", path=p)').body[0].value)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli-messages")
    (d / "exists.gpkg").write_bytes(b"")
    (d / "codes.csv").write_text("county\n330102\n", encoding="utf-8")
    (d / "list.json").write_text("[1, 2]", encoding="utf-8")
    (d / "bad.toml").write_text("distance = = 3", encoding="utf-8")
    (d / "w.json").write_text('{"distance": 1}', encoding="utf-8")
    return d


def _cases(d: Path, data: Path) -> list[tuple[list[str], str, list[str], dict | None]]:
    """(arguments, the English refusal word for word, what the Chinese one names, extra environment)."""
    db = ["--data", str(data), "--db", f"sqlite:///{d / 'review.sqlite'}"]
    return [
        (["bench", "join", "--quick", "--tiny"], "--quick and --tiny exclude each other", ["--quick", "--tiny"], None),
        (["init", "--out", str(d / "exists.gpkg")], f"{d / 'exists.gpkg'} exists; pass --force to overwrite it",
         [str(d / "exists.gpkg"), "--force"], None),
        (["init", "--out", str(d / "new.gpkg"), "--less-developed", str(d / "codes.csv")],
         f"cannot read less-developed county codes from {d / 'codes.csv'}: 'code'; expected a CSV with a 'code' column",
         [str(d / "codes.csv"), "'code'"], None),
        (["map", "nope", "-o", str(d / "m.html")],
         "map 'nope' unknown; accepted: parks, enterprises, clusters, suitability, transfers", ["'nope'"], None),
        (["map", "parks", "-o", str(d / "m.html"), "--tiles", "bing"],
         "tiles 'bing' not accepted; accepted: none, osm, tianditu, amap", ["'bing'"], None),
        (["map", "suitability", "-o", str(d / "m.html"), "--sector", "textiles"],
         "a profile needs --land-ha, --employees, --pollution-class, --lon, --lat as well (or give --enterprise-id "
         "instead)", ["--land-ha", "--enterprise-id"], None),
        (["plan", "report", "--source", "gdp"], "--source 'gdp' is not accepted; accepted: auto, fai, projects",
         ["'gdp'"], None),
        (["plan", "report", "-o", str(d / "r.txt")],
         f"-o {str(d / 'r.txt')!r}: the report is an Excel workbook; give a path ending in .xlsx", [".xlsx"], None),
        (["plan", "report", "--as-of", "30/6/2026"], "--as-of '30/6/2026' is not a date; accepted: YYYY-MM-DD",
         ["'30/6/2026'"], None),
        (["join", "--enterprises-parquet", str(d), "-o", str(d / "o"), "--engine", "spark"],
         "--engine 'spark' not accepted; accepted: memory, dask", ["'spark'"], None),
        (["batch", "--enterprises-parquet", str(d), "-o", str(d / "o"), "--weights", "{distance"],
         "--weights is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
         ["--weights", "JSON"], None),
        (["join", "--data", str(data), "--enterprises-parquet", str(d / "nostore"), "-o", str(d / "o")],
         f"GeoParquet store {d / 'nostore'} does not exist (write one with `parkplan export-parquet` or "
         "geodata.parquet.write_enterprises_parquet)", [str(d / "nostore")], None),
        (["suitability", "--sector", "textiles"],
         "a profile needs --land-ha, --employees, --lon, --lat (and optionally --pollution-class, default light)",
         ["--land-ha", "light"], None),
        (["suitability"], "give exactly one of --enterprise ID, --scenario NAME or a profile (--sector, --land-ha, "
                          "--employees, --lon, --lat)", ["--enterprise", "--scenario"], None),
        (["suitability", "--enterprise", "E1", "--weights", str(d / "w.json"), "--ahp", str(d / "w.json")],
         "give either --weights or --ahp, not both", ["--weights", "--ahp"], None),
        (["suitability", "--enterprise", "E1", "--weights", str(d / "nope.json")],
         f"cannot read weights file {d / 'nope.json'}: No such file or directory", [str(d / "nope.json"), "权重"], None),
        (["suitability", "--enterprise", "E1", "--weights", str(d / "list.json")],
         f"weights file {d / 'list.json'} must hold a mapping (criterion id -> weight), got list",
         [str(d / "list.json"), "list"], None),
        (["suitability", "--enterprise", "E1", "--ahp", str(d / "bad.toml")],
         f"AHP file {d / 'bad.toml'} is not valid TOML (TOML: Invalid value (at line 1, column 12))",
         [str(d / "bad.toml"), "AHP"], None),
        (["suitability", "--scenario", "inland"],
         "unknown scenario 'inland'; accepted: urban-core, scattered, coastal-transfer, all", ["'inland'"], None),
        (["suitability", "--scenario", "scattered", "--priority", "scattered"],
         "--priority and --scenario-weights are for --scenario all", ["--priority"], None),
        (["suitability", "--scenario", "all", "--scenario-weights", "urban-core=2"],
         "--scenario-weights 'urban-core=2': 'urban-core=2' is not scenario:weight (e.g. urban-core:2,scattered:1)",
         ["'urban-core=2'"], None),
        (["token", "create", "--role", "boss", *db], "unknown role 'boss'; accepted: viewer, analyst, reviewer, admin",
         ["'boss'"], None),
        (["token", "revoke", "4242", *db], "no token with id 4242", ["4242"], None),
        (["transfers", "list", "--status", "done", *db],
         "status 'done' is unknown; accepted: pending, approved, rejected, needs_info", ["'done'"], None),
    ]


def _run(args: list[str], lang: str):
    """The command with ``--lang`` where it has one (the locale otherwise: bench, and the locale too)."""
    env = ZH if lang == "zh" else EN
    has_lang = args[0] not in ("bench",)
    return runner.invoke(app, [*args, "--lang", lang] if has_lang else args, env=env)


def test_each_refusal_in_english_word_for_word_and_in_chinese(files, dataset_path):
    for args, english, names, _ in _cases(files, dataset_path):
        r = _run(args, "en")
        assert r.exit_code == 2, (args, r.output)
        assert _flat(r.output) == f"error: {english}", args
        r = _run(args, "zh")
        assert r.exit_code == 2, (args, r.output)
        text = _flat(r.output)
        assert text.startswith("错误： ") and HAN.search(text[4:]), (args, text)
        assert english_sentences(text) == [] or _library_words(text), (args, text, english_sentences(text))
        for name in names:
            assert name in text, (args, name, text)


def _library_words(text: str) -> bool:
    """A library's own words, quoted after the Chinese sentence (the reason a file could not be read)."""
    return "原始信息：" in text and english_sentences(text.split("原始信息：")[0]) == []


def test_the_language_follows_the_locale_without_lang(files):
    args = ["init", "--out", str(files / "exists.gpkg")]
    assert _flat(runner.invoke(app, args, env=ZH).output).startswith("错误： ")
    assert _flat(runner.invoke(app, args, env=EN).output).startswith("error: ")
    assert "已存在" in runner.invoke(app, args, env={"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}).output


def test_a_value_is_shown_as_text_never_as_markup_or_a_template(files):
    """A path with rich markup and braces is printed as it is in both languages."""
    hostile = files / "[red]x{path}"
    hostile.write_bytes(b"")
    for lang, word in (("zh", "已存在"), ("en", "exists")):
        r = _run(["init", "--out", str(hostile)], lang)
        assert r.exit_code == 2 and str(hostile) in _flat(r.output) and word in r.output


def test_the_installed_entry_point_answers_in_chinese_under_the_c_locale(files):
    exe = Path(sys.executable).parent / "parkplan"
    assert exe.exists(), exe
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANG")}
    env |= {"LANG": "C.UTF-8", "COLUMNS": "300"}
    proc = subprocess.run([str(exe), "init", "--out", str(files / "exists.gpkg")], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 2
    assert _flat(proc.stderr) == f"错误： {files / 'exists.gpkg'} 已存在；如要覆盖，请加上 --force"
    proc = subprocess.run([str(exe), "bench", "--quick", "--tiny"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 2 and _flat(proc.stderr) == "错误： --quick 和 --tiny 不能同时使用"
