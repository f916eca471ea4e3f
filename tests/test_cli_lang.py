"""The command line's tables in Chinese and English: words from the glossary, names beside codes,
numbers in plain decimals, no English left in Chinese tables' headers and no Chinese in English ones
except names."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from api.cli._lang import default_lang, num, with_code

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_num_never_uses_exponents():
    assert num(6.43e-05) == "0.0000643"
    assert num(1234567.891, 1) == "1,234,567.9" and num(12) == "12" and num(None) == "-"
    assert num(0.5, 3, "公里") == "0.500 公里"
    assert "e" not in num(1e-12).lower()


def test_default_lang_from_the_locale(monkeypatch):
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert default_lang() == "zh"
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert default_lang() == "en"
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    assert default_lang() == "zh"
    assert with_code("330481", {"330481": "海宁市"}) == "海宁市 (330481)" and with_code("1", {}) == "1"


@pytest.fixture(scope="module")
def outputs(dataset_path):
    from api.cli import app

    runner = CliRunner()
    out = {}
    for lang in ("zh", "en"):
        res = runner.invoke(app, ["metrics", "--data", str(dataset_path), "--sector", "textiles", "--simulations", "3",
                                  "--permutations", "99", "--top", "5", "--lang", lang], env={"COLUMNS": "250"})
        assert res.exit_code == 0, res.output
        out[lang] = res.stdout
    return out


def test_metrics_tables_in_both_languages(outputs, dataset):
    counties = dict(zip(dataset.counties["code"].astype(str), dataset.counties["name"].astype(str)))
    names = set(counties.values()) | set(dataset.parks["name"].astype(str))
    for lang, text in outputs.items():
        assert not re.search(r"\d[eE][-+]\d", text), lang  # no 6.43e-05
        assert "{'" not in text  # no raw dict
        shown = re.findall(r"(\S+) \((\d{6})\)", text)
        assert shown and all(counties.get(code) == name for name, code in shown)  # names beside codes, not cut
    zh, en = outputs["zh"], outputs["en"]
    assert "区位熵" in zh and "纺织服装" in zh and "Highest location quotients" in en and "Textiles" in en
    # English tables: no Chinese except the names of places and parks
    rest = en
    for n in sorted(names, key=len, reverse=True):
        rest = rest.replace(n, "")
    assert not HAN.search(rest), HAN.findall(rest)[:10]
    # Chinese tables: no English words of the old tables (statistic names in parentheses excepted)
    for word in ("firms", "employees", "share", "clustered", "regular", "Sectors:", "top "):
        assert word not in zh, word


def test_lang_refused_with_what_is_accepted(dataset_path):
    from api.cli import app

    args = ["metrics", "--data", str(dataset_path), "--lang", "fr"]
    res = CliRunner().invoke(app, args, env={"LC_ALL": "en_US.UTF-8"})
    assert res.exit_code == 2 and "Invalid value for '--lang': 'fr'; accepted: zh, en" in res.output, res.output
    res = CliRunner().invoke(app, args, env={"LC_ALL": "zh_CN.UTF-8"})  # a bad --lang: the locale's language
    assert res.exit_code == 2 and "'--lang' 的值 'fr' 无效；可接受：zh, en" in res.output, res.output


def test_steps_show_the_step_they_are_in():
    import io

    from rich.console import Console

    from api.cli._steps import steps

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100)
    with steps(2, console) as s:
        s.step("读取数据")
        console.file.flush()
        s.step("构建地图")
    out = buf.getvalue()
    assert "读取数据" in out and "构建地图" in out
