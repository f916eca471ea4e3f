"""The progress display of long commands: the step each is in, on standard error, while standard output
keeps exactly the command's result (``--json`` parses, a CSV export reads back).

The commands run as a user runs them (``python -m api.cli`` in a child process), with rich told that
both streams are terminals (``TTY_COMPATIBLE=1``, ``TTY_INTERACTIVE=1``), so the live display really
draws: the test would fail if rich redirected standard output into the display (its default) or if a
command printed its result while the display was live.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from api.cli._lang import Words
from api.cli._steps import steps
from api.cli.suitability import _step_words

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, lang: str = "zh") -> subprocess.CompletedProcess:
    env = dict(os.environ, TTY_COMPATIBLE="1", TTY_INTERACTIVE="1", COLUMNS="120", LANG="C.UTF-8")
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    proc = subprocess.run([sys.executable, "-m", "api.cli", *args, "--lang", lang], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_scenario_allocation_shows_its_steps_and_json_parses(dataset_path):
    proc = run("suitability", "--scenario", "urban-core", "--allocate", "--json", "--data", str(dataset_path))
    doc = json.loads(proc.stdout)  # nothing but the document on stdout
    assert doc["scenario"] == "urban-core" and doc["allocation"]["assigned"] > 0
    err = proc.stderr
    for step in ("[1/7] 读取数据", "空间连接", "准备园区情况", "选出企业：城区企业退城入园", "评分：城区企业退城入园",
                 "安置（用地约束优化）：城区企业退城入园", "[7/7] 生成方案评估报告"):
        assert step in err, step
    assert "\x1b[" in err  # the live display was drawn (a terminal's escape codes), not skipped
    assert "{" not in err  # and none of the document went there


def test_metrics_and_info_json_parse_with_the_display_live(dataset_path):
    proc = run("metrics", "--sector", "textiles", "--simulations", "5", "--permutations", "99", "--json",
               "--data", str(dataset_path), lang="en")
    doc = json.loads(proc.stdout)
    assert {"sectors", "ripley", "lisa"} <= set(doc)
    assert "Computing the metrics (5 CSR simulations)" in proc.stderr and "5/5" in proc.stderr
    proc = run("info", "--json", "--data", str(dataset_path))
    assert json.loads(proc.stdout)["layers"]["enterprises"] == 3000
    assert "读取数据" in proc.stderr


def test_csv_export_reads_back_with_the_display_live(dataset_path, tmp_path):
    out = tmp_path / "e.csv"
    proc = run("export", "enterprises", str(out), "--data", str(dataset_path), lang="en")
    assert "Exporting enterprises to e.csv" in proc.stderr
    assert proc.stdout.strip() == f"exported 3,000 row(s) of enterprises to {out}"
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert len(frame) == 3000 and "enterprise_id" in frame.columns


def test_steps_count_and_translate_the_library_steps():
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, force_interactive=True, width=120)
    w = Words("zh")
    with steps(4, console) as s:
        s.step("读取数据")
        report = s.callback(_step_words(w))
        report("selecting urban-core", 0, 1)
        report("scoring urban-core", 5, 10)
        assert s.n == 3 and s.description == "评分：城区企业退城入园"
        report("scoring urban-core", 10, 10)  # the same step goes on
        assert s.n == 3
        report("allocating the joint plan", 0, 1)
        assert s.n == 4 and s.description == "安置（用地约束优化）：联合方案"
    out = buf.getvalue()
    assert "[2/4] 选出企业：城区企业退城入园" in out and "[3/4] 评分：城区企业退城入园" in out


@pytest.mark.parametrize("lang, text", [("en", "Scoring: Urban-core relocation"), ("zh", "评分：城区企业退城入园")])
def test_library_step_words(lang, text):
    assert _step_words(Words(lang))("scoring urban-core") == text
    assert _step_words(Words(lang))("something else") == "something else"  # unknown: as the library says it
