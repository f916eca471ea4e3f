"""The parser's own refusals (Typer/Click: a value below an option's ``min=``, a value of the wrong type, an unknown
option, a missing argument, an option without its value, an unknown command, extra arguments) in the command line's
language: Chinese for ``--lang zh`` or a Chinese (or unset) locale, English for ``--lang en`` or an English locale;
``export``'s ``--lang`` is the file's language, so its refusals follow the locale. Exit code 2 throughout. Run through
the real command line (typer's CliRunner, and the installed entry point in a subprocess)."""

from __future__ import annotations

import enum
import os
import re
import subprocess
import sys
from typing import Annotated, Literal

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from api.cli import app
from api.cli._usage import ParkplanGroup
from tests.test_messages_zh import HAN, english_sentences

runner = CliRunner()
ZH = {"LC_ALL": "zh_CN.UTF-8", "COLUMNS": "300"}
EN = {"LC_ALL": "en_US.UTF-8", "COLUMNS": "300"}

#: (arguments, what the Chinese refusal says, what the English one says)
CASES = [
    (["metrics", "--simulations", "-1"], "错误： '--simulations' 的值 '-1' 无效；可接受：整数，不小于 0",
     "error: Invalid value for '--simulations': '-1'; accepted: a whole number >= 0"),
    (["metrics", "--permutations", "100000"], "'--permutations' 的值 '100000' 无效；可接受：整数，不小于 19，不大于 9999",
     "Invalid value for '--permutations': '100000'; accepted: a whole number >= 19 <= 9999"),
    (["metrics", "--eps", "abc"], "'--eps' 的值 'abc' 无效；可接受：数字，不小于 1",
     "Invalid value for '--eps': 'abc'; accepted: a number >= 1"),
    (["init", "--enterprises", "0"], "'--enterprises' 的值 '0' 无效；可接受：整数，不小于 1",
     "Invalid value for '--enterprises': '0'; accepted: a whole number >= 1"),
    (["init", "--enterprises", "1.5"], "'--enterprises' 的值 '1.5' 无效；可接受：整数，不小于 1",
     "Invalid value for '--enterprises': '1.5'; accepted: a whole number >= 1"),
    (["suitability", "--city-band-km", "-1"], "'--city-band-km' 的值 '-1' 无效；可接受：数字，不小于 0",
     "Invalid value for '--city-band-km': '-1'; accepted: a number >= 0"),
    (["metrics", "--simuls", "3"], "没有选项 --simuls（是否指 --simulations？）",
     "No such option: --simuls (Possible options: --simulations)"),
    (["info", "--bogus"], "没有选项 --bogus", "No such option: --bogus"),
    (["metrics", "--lang", "fr"], "'--lang' 的值 'fr' 无效；可接受：zh, en", "Invalid value for '--lang': 'fr'; accepted: zh, en"),
    (["metrics", "--sector"], "选项 '--sector' 后面需要给出一个值", "Option '--sector' requires an argument."),
    (["plan", "report", "--as-of"], "选项 '--as-of' 后面需要给出一个值", "Option '--as-of' requires an argument."),
    (["metrics", "--json=3"], "选项 '--json' 是开关，不接受值", "Option '--json' does not take a value."),
    (["info", "extra"], "多余的参数（extra）：本命令不接受这些参数", "Got unexpected extra argument(s) (extra)"),
    (["token", "create"], "缺少必需的选项 '--role'", "Missing option '--role'."),
    (["plan", "nope"], "没有命令 'nope'；可用的命令：report", "No such command 'nope'; accepted: report"),
    (["nosuch"], "没有命令 'nosuch'；可用的命令：init、info、import、export",
     "No such command 'nosuch'; accepted: init, info, import, export"),
]


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text)


@pytest.mark.parametrize("args,zh,en", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_the_parsers_refusals_in_both_languages(args, zh, en):
    res_zh = runner.invoke(app, args, env=ZH)
    res_en = runner.invoke(app, args, env=EN)
    for res in (res_zh, res_en):
        assert res.exit_code == 2, res.output
    assert zh in _one_line(res_zh.output), res_zh.output
    assert en in _one_line(res_en.output), res_en.output
    # the usage line names the command as typed (parkplan plan report): a command, not prose
    assert english_sentences(re.sub(r"parkplan(?: [a-z][\w-]*)*", "", res_zh.output)) == [], res_zh.output
    assert "Usage:" not in res_zh.output and "Try '" not in res_zh.output and "Error" not in res_zh.output
    assert not HAN.search(res_en.output), res_en.output
    # --lang on the command line wins over the locale, either way (where a --lang can follow the arguments)
    if "--lang" not in args and args not in (["nosuch"], ["plan", "nope"], ["info", "extra"], ["metrics", "--sector"],
                                             ["plan", "report", "--as-of"]):
        by_flag_zh = runner.invoke(app, args + ["--lang", "zh"], env=EN)
        assert by_flag_zh.exit_code == 2 and zh in _one_line(by_flag_zh.output), by_flag_zh.output
        by_flag_en = runner.invoke(app, args + ["--lang", "en"], env=ZH)
        assert by_flag_en.exit_code == 2 and en in _one_line(by_flag_en.output), by_flag_en.output


def test_the_usage_line_and_help_hint_are_in_the_language_too():
    zh = runner.invoke(app, ["metrics", "--simulations", "-1"], env=ZH).output
    assert zh.splitlines()[0] == "用法：parkplan metrics [OPTIONS]" and "运行 'parkplan metrics --help' 查看帮助。" in zh
    en = runner.invoke(app, ["metrics", "--simulations", "-1"], env=EN).output
    assert en.splitlines()[0] == "Usage: parkplan metrics [OPTIONS]" and "Try 'parkplan metrics --help' for help." in en
    nested = runner.invoke(app, ["plan", "report", "--year", "x"], env=ZH).output
    assert "用法：parkplan plan report [OPTIONS]" in nested and "'--year' 的值 'x' 无效；可接受：整数" in nested


def test_export_refusals_follow_the_locale_not_the_files_language():
    res = runner.invoke(app, ["export", "parks", "--lang", "en"], env=ZH)
    assert res.exit_code == 2 and "缺少参数 'file'" in res.output, res.output
    res = runner.invoke(app, ["export", "parks", "--lang", "zh"], env=EN)
    assert res.exit_code == 2 and "Missing argument 'file'." in res.output and not HAN.search(res.output), res.output


def test_every_range_of_every_command_is_shown_with_its_limit():
    """Each option with a ``min=`` (or ``max=``), given a value just past it, is refused naming the option and the
    limit, in both languages."""
    group = get_command(app)

    def walk(cmd, path):
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, path + [name])
        for p in getattr(cmd, "params", []):
            if getattr(p, "opts", None) and p.param_type_name == "option" and (p.min is not None or p.max is not None):
                yield path, p

    checked = 0
    for path, p in walk(group, []):
        opt = max(p.opts, key=len)
        value = p.min - 1 if p.min is not None else p.max + 1
        limit = p.min if p.min is not None else p.max
        shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
        for env, words in ((ZH, ("不小于" if p.min is not None else "不大于")), (EN, (">=" if p.min is not None else "<="))):
            res = runner.invoke(app, path + [opt, str(value)], env=env)
            text = _one_line(res.output)
            assert res.exit_code == 2, (path, opt, res.output)
            assert f"'{opt}'" in text and f"{words} {shown}" in text, (path, opt, text)
        checked += 1
    assert checked >= 10, checked


def test_the_installed_command_exits_2_with_the_chinese_refusal():
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")} | {"LANG": "zh_CN.UTF-8",
                                                                               "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "api.cli", "metrics", "--simulations", "-1"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "错误： '--simulations' 的值 '-1' 无效；可接受：整数，不小于 0" in proc.stderr, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "api.cli", "metrics", "--simulations", "-1", "--lang", "en"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert "error: Invalid value for '--simulations': '-1'; accepted: a whole number >= 0" in proc.stderr, proc.stderr


def test_help_and_no_args_help_still_work():
    res = runner.invoke(app, ["plan"], env=ZH)
    assert "report" in res.output and "错误" not in res.output
    res = runner.invoke(app, ["metrics", "--help"], env=ZH)
    assert res.exit_code == 0 and "--simulations" in res.output


class How(str, enum.Enum):  # at module level: typer reads the annotations (strings here) in this module's names
    replace = "replace"
    append = "append"


def test_a_choice_option_lists_its_values_and_a_missing_one_says_what_it_accepts():
    """No parkplan command has a Literal or Enum option today; a small app of the same class shows how one is
    refused (through typer and its CliRunner, as parkplan is)."""
    demo = typer.Typer(cls=ParkplanGroup, name="demo")

    @demo.command()
    def run(mode: Annotated[Literal["replace", "append"], typer.Option()] = "append",
            how: Annotated[How, typer.Option()] = How.append,
            level: Annotated[int, typer.Option(min=2, max=5)] = 3,
            lang: Annotated[str | None, typer.Option()] = None) -> None:
        print("ran")

    @demo.command()
    def need(mode: Annotated[Literal["a", "b"], typer.Option()], lang: Annotated[str | None, typer.Option()] = None):
        print("ran")

    for args, zh, en in (
        (["run", "--mode", "x"], "'--mode' 的值 'x' 无效；可接受：'replace'、'append' 之一",
         "Invalid value for '--mode': 'x'; accepted: one of 'replace', 'append'"),
        (["run", "--how", "x"], "'--how' 的值 'x' 无效；可接受：'replace'、'append' 之一",
         "Invalid value for '--how': 'x'; accepted: one of 'replace', 'append'"),
        (["run", "--level", "9"], "'--level' 的值 '9' 无效；可接受：整数，不小于 2，不大于 5",
         "Invalid value for '--level': '9'; accepted: a whole number >= 2 <= 5"),
        (["need"], "缺少必需的选项 '--mode'（可接受：'a'、'b' 之一）", "Missing option '--mode' (accepted: one of 'a', 'b')."),
    ):
        res_zh = runner.invoke(demo, args, env=EN | {"LC_ALL": "zh_CN.UTF-8"})
        res_en = runner.invoke(demo, args + ["--lang", "en"], env=ZH)
        assert res_zh.exit_code == res_en.exit_code == 2 and "ran" not in res_zh.output + res_en.output
        assert zh in res_zh.output, res_zh.output
        assert en in res_en.output and not HAN.search(res_en.output), res_en.output
    assert runner.invoke(demo, ["run", "--mode", "replace", "--how", "append"]).output == "ran\n"
