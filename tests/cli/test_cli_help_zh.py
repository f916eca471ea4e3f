"""The ``--help`` pages in the command line's language (api/cli/_help.py, applied by ParkplanGroup): the top-level
page and every command's and group's page (the most used first: serve, import, suitability, plan report, map,
metrics) wholly in Chinese under a Chinese (or C) locale or with ``--lang zh`` -- no English sentence outside option
names and metavars; every option has a Chinese text (a new option without one fails here); every command and group
has its Chinese one-line help; English pages are unchanged, also after a Chinese one in the same process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli import app
from api.cli._help import COMMANDS, FRAME, PAGES, zh_help_of
from tests.test_messages_zh import HAN, english_sentences

runner = CliRunner()
ZH = {"LC_ALL": "zh_CN.UTF-8", "COLUMNS": "300"}
EN = {"LC_ALL": "en_US.UTF-8", "COLUMNS": "300"}


def _tree():
    def walk(cmd, path):
        yield path, cmd
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            yield from walk(sub, f"{path} {name}".strip())

    return dict(walk(typer.main.get_command(app), ""))


#: every page is wholly in Chinese (command path -> the arguments that show it); the most used ones first
MOST_USED = ["", "serve", "import", "suitability", "plan", "plan report", "map", "metrics"]
FULL = {path: [*path.split(), "--help"] for path in MOST_USED + sorted(set(_tree()) - set(MOST_USED))}


def _prose(page: str, arguments: tuple[str, ...] = ()) -> list[str]:
    """English sentences on a help page, outside option names (single tokens), the usage line (the command's
    path and metavars), the arguments' names and metavars (``<int range>``, ``FILE``, ``{name}``)."""
    page = "\n".join(line for line in page.splitlines() if not line.strip().startswith(FRAME["usage"]))
    page = re.sub(r"<[^>\n]*>|\b[A-Z]{2,}\b", " ", page)
    for name in arguments:
        page = re.sub(rf"(│\s*\*?\s*){name}\b", r"\1 ", page)
    return english_sentences(page)


def test_every_option_of_the_full_pages_has_a_chinese_text():
    tree = _tree()
    assert set(FULL) <= set(tree)
    for path in FULL:
        cmd = tree[path]
        assert PAGES[path].get(""), path
        for param in cmd.params:
            text = zh_help_of(path, param)
            assert text and HAN.search(text), f"{path or 'parkplan'} {param.opts or param.name}: no Chinese help text"
            assert _prose(text) == [], (path, param.name, text)
    # and every key of a page is a parameter of its command (a renamed option leaves no stale text behind)
    for path, page in PAGES.items():
        names = {p.name for p in tree[path].params}
        assert set(page) - {""} <= names, (path, sorted(set(page) - {""} - names))


def test_every_command_and_group_has_a_chinese_one_line_help():
    tree = _tree()
    assert set(tree) == set(COMMANDS), sorted(set(tree) ^ set(COMMANDS))
    for path, text in COMMANDS.items():
        assert HAN.search(text) and _prose(text) == [], (path, text)


@pytest.mark.parametrize("path", sorted(FULL))
def test_the_chinese_page_has_no_english_sentence(path):
    res = runner.invoke(app, FULL[path], env=ZH)
    assert res.exit_code == 0, res.output
    page = res.output
    assert page.lstrip().startswith(FRAME["usage"]) and "Usage" not in page
    assert FRAME["OPTIONS_PANEL_TITLE"] in page and FRAME["help_option"] in page
    arguments = tuple(p.name for p in _tree()[path].params if isinstance(p, typer.core.TyperArgument))
    assert _prose(page, arguments) == [], (path, _prose(page, arguments))
    for param in _tree()[path].params:
        first = zh_help_of(path, param).split("\n\n")[0]  # type: ignore[union-attr]
        assert first[:12] in re.sub(r"\s*│\s*", "", page), (path, param.name)  # its text is shown (folded)


def test_lang_zh_on_the_command_line_wins_over_an_english_locale_and_lang_en_over_a_chinese_one():
    res = runner.invoke(app, ["metrics", "--lang", "zh", "--help"], env=EN)
    assert res.exit_code == 0 and FRAME["usage"] in res.output and PAGES["metrics"]["eps"] in res.output
    res = runner.invoke(app, ["metrics", "--help", "--lang", "en"], env=ZH)
    assert res.exit_code == 0 and "Usage: parkplan metrics" in res.output and "DBSCAN radius in metres." in res.output


def test_english_pages_are_unchanged_and_a_chinese_page_leaves_nothing_behind():
    before = {path: runner.invoke(app, args, env=EN).output for path, args in FULL.items()}
    for args in FULL.values():
        runner.invoke(app, args, env=ZH)
    after = {path: runner.invoke(app, args, env=EN).output for path, args in FULL.items()}
    assert after == before
    tree = _tree()
    for path, page in before.items():
        assert "Usage: parkplan" in page and "Options" in page and FRAME["usage"] not in page, path
        assert not any(text in page for text in PAGES[path].values()), path
        for param in tree[path].params:
            if param.help:
                assert param.help.split()[0] in page, (path, param.name)


def test_the_group_page_without_its_command_is_in_chinese():
    res = runner.invoke(app, ["plan"], env=ZH)
    assert res.exit_code in (0, 2) and COMMANDS["plan report"] in res.output and "Usage" not in res.output


def test_a_refusal_after_a_chinese_help_context_keeps_one_usage_word():
    """The usage line of a refusal (ParkplanGroup) is read from the same command: one 用法： only."""
    res = runner.invoke(app, ["metrics", "--simulations", "-1"], env=ZH)
    assert res.exit_code == 2 and res.output.count(FRAME["usage"]) == 1, res.output


def test_the_installed_entry_point_shows_chinese_help_under_the_c_locale():
    exe = Path(sys.executable).parent / "parkplan"
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANG")}
    env |= {"LANG": "C.UTF-8", "COLUMNS": "300"}
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.lstrip().startswith(FRAME["usage"])
    assert COMMANDS["suitability"] in proc.stdout and _prose(proc.stdout) == []
