"""The command line prints names and messages exactly as they are: a name that looks like Rich markup keeps
its brackets in a table and in an error, and an error starts with the locale's word for error."""

from __future__ import annotations

import subprocess
import sys

import pytest
from rich.table import Table

from api.cli import _common
from api.cli._common import console, err_console


@pytest.mark.parametrize("con", [console, err_console], ids=["stdout", "stderr"])
def test_table_cells_are_not_markup(con):
    name = "[red]园区[/red] [bold]x"
    t = Table()
    t.add_column("h")
    t.add_row(name)
    with con.capture() as cap:
        con.print(t)
    assert name in cap.get()


@pytest.mark.parametrize("lang, prefix", [("zh_CN.UTF-8", "错误："), ("en_US.UTF-8", "error:")])
def test_fail_prints_the_message_exactly_after_the_locales_word(lang, prefix, monkeypatch):
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", lang)
    with err_console.capture() as cap, pytest.raises(Exception) as info:
        _common.fail("file [b]厂区[/b].csv: no such file")
    assert getattr(info.value, "exit_code", None) == 2
    out = cap.get()
    assert out.startswith(prefix) and "file [b]厂区[/b].csv: no such file" in out


def test_missing_data_file_names_it_exactly(tmp_path):
    missing = tmp_path / "[red]数据[/red].gpkg"
    env = {"LANG": "zh_CN.UTF-8", "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    r = subprocess.run([sys.executable, "-m", "api.cli", "info", "--data", str(missing)], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "错误：" in r.stderr and "[red]数据[/red].gpkg" in r.stderr.replace("\n", "")
