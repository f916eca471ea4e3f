"""The command-line parser's own refusals in the command's language.

Typer (and the Click inside it) refuses a bad command line before a command runs: an unknown option, a value
outside an option's range (``--simulations -1``), a value of the wrong type, a missing argument, an option
without its value, an unknown command, extra arguments. Its texts are English. :class:`ParkplanGroup`, the
class of the ``parkplan`` application, catches these refusals (:class:`typer._click.exceptions.UsageError`)
and shows each as a coded message (:data:`USAGE`) with the parameter's name, the value given and what the
parameter accepts, in the command's language: ``--lang zh|en`` on the command line, else the locale
(:func:`api.cli._lang.default_lang`); ``export``'s ``--lang`` is the language of the file it writes, so its
refusals follow the locale, as its other messages do. The exit code stays 2.

What is known about a refusal is read from the exception, not from its English text where that can be avoided:
the parameter (its ``--name``, ``min``/``max``), typer's pydantic validation error (its ``type``, ``input`` and
limits: ``greater_than_equal``, ``int_parsing``...), the option a :class:`NoSuchOption` names and its
possibilities, the group's commands. A refusal of a kind not mapped here is shown with Click's own English
words quoted after a Chinese sentence (``usage.other``), as a library's words are elsewhere
(:func:`geodata.messages.library_reason`).

The ``--help`` pages (and a group's ``no_args_is_help`` page) follow the same language: :mod:`api.cli._help`.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from typing import Any

import typer
from typer._click import exceptions as click_errors
from typer.core import TyperGroup

from geodata.messages import Catalogue, library_reason, listing

__all__ = ["ParkplanGroup", "USAGE", "usage_message", "lang_of", "BadValue"]

_ARGV = "parkplan.argv"


#: The parser's refusals, English and Chinese (geodata.messages imports no pandas: `parkplan --help` stays light).
USAGE = Catalogue("usage", {
    "usage.usage": ("Usage: {usage}", "用法：{usage}"),
    "usage.help_hint": ("Try '{command} --help' for help.", "运行 '{command} --help' 查看帮助。"),
    "usage.bad_value": ("Invalid value for {name}: {value!r}; accepted: {accepted}",
                        "{name} 的值 {value!r} 无效；可接受：{accepted}"),
    "usage.bad_value_reason": ("Invalid value for {name}: {reason}", "{name} 的值无效{reason}"),
    "usage.a_whole_number": ("a whole number", "整数"),
    "usage.a_number": ("a number", "数字"),
    "usage.a_value": ("a value", "值"),
    "usage.a_date": ("a date YYYY-MM-DD", "日期 YYYY-MM-DD"),
    "usage.yes_no": ("true/false, yes/no or 1/0", "true/false、yes/no 或 1/0"),
    "usage.range": ("{kind}{lower}{upper}", "{kind}{lower}{upper}"),
    "usage.at_least": (" >= {limit}", "，不小于 {limit}"),
    "usage.above": (" > {limit}", "，大于 {limit}"),
    "usage.at_most": (" <= {limit}", "，不大于 {limit}"),
    "usage.below": (" < {limit}", "，小于 {limit}"),
    "usage.one_of": ("one of {values}", "{values} 之一"),
    "usage.missing_argument": ("Missing argument {name}.", "缺少参数 {name}（命令的必需参数）"),
    "usage.missing_option": ("Missing option {name}{accepted}.", "缺少必需的选项 {name}{accepted}"),
    "usage.missing_accepted": (" (accepted: {accepted})", "（可接受：{accepted}）"),
    "usage.no_such_option": ("No such option: {option}{suggest}", "没有选项 {option}{suggest}"),
    "usage.possible_options": (" (Possible options: {options})", "（是否指 {options}？）"),
    "usage.option_needs_value": ("Option {name!r} requires an argument.", "选项 {name!r} 后面需要给出一个值"),
    "usage.option_takes_no_value": ("Option {name!r} does not take a value.",
                                    "选项 {name!r} 是开关，不接受值（只写 {name} 即可）"),
    "usage.no_such_command": ("No such command {name!r}; accepted: {accepted}",
                              "没有命令 {name!r}；可用的命令：{accepted}"),
    "usage.missing_command": ("Missing command; accepted: {accepted}", "缺少子命令；可用的命令：{accepted}"),
    "usage.extra_arguments": ("Got unexpected extra argument(s) ({args})",
                              "多余的参数（{args}）：本命令不接受这些参数"),
    "usage.other": ("{detail}", "命令行有误（原始信息：{detail!r}）"),
})


class BadValue(typer.BadParameter):
    """A callback's refusal of an option's value, with what the option accepts (``accepted``: text or a
    message): shown as ``usage.bad_value`` in the command's language."""

    def __init__(self, value: Any, accepted: Any):
        super().__init__(f"{value!r} not accepted; accepted: {accepted}")
        self.value = value
        self.accepted = accepted


def lang_of(argv: list[str], command: str | None = None) -> str:
    """The language of a command line: its ``--lang zh|en`` (not ``export``'s, which is the file's language),
    else the locale's."""
    from ._lang import default_lang

    if command != "export" and not (argv and argv[0] == "export"):
        for i, arg in enumerate(argv):
            if arg == "--":
                break
            value = argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else (
                arg.split("=", 1)[1] if arg.startswith("--lang=") else None)
            if value in ("zh", "en"):
                return value
    return default_lang()


def _name(e: click_errors.BadParameter) -> str:
    if e.param_hint is not None:
        hint = e.param_hint
        return hint if isinstance(hint, str) else " / ".join(repr(h) for h in hint)
    if e.param is not None:
        opts = list(getattr(e.param, "opts", None) or [])
        if e.param.param_type_name == "option" and opts:
            return repr(max(opts, key=len))
        return repr(e.param.name or (opts[0] if opts else "?"))
    return "?"


def _fmt(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _range(kind, lower: Any = None, upper: Any = None, lower_open: bool = False, upper_open: bool = False):
    lo = "" if lower is None else USAGE("usage.above" if lower_open else "usage.at_least", limit=_fmt(lower))
    hi = "" if upper is None else USAGE("usage.below" if upper_open else "usage.at_most", limit=_fmt(upper))
    return USAGE("usage.range", kind=kind, lower=lo, upper=hi)


def _kind(param: Any, error_type: str = "") -> Any:
    """What kind of value ``param`` takes: a whole number, a number, or (a type not named here) a value."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    kinds = [a for a in (typing.get_args(annotation) if union else (annotation,)) if a is not type(None)]
    if kinds == [int] or error_type.startswith("int"):
        return USAGE("usage.a_whole_number")
    if kinds == [float] or error_type.startswith("float"):
        return USAGE("usage.a_number")
    return USAGE("usage.a_value")


def _choices(param: Any) -> list[Any]:
    """The values a ``Literal[...]`` or ``Enum`` option accepts ([] for any other)."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = kinds[0] if len(kinds) == 1 else None
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [m.value for m in annotation]
    return []


def _says_nothing(accepted: Any) -> bool:
    """``accepted`` is only "a value" (no type, range or choices known)."""
    params = getattr(accepted, "params", {})
    kind = params.get("kind")
    return getattr(kind, "code", None) == "usage.a_value" and not (params.get("lower") or params.get("upper"))


def _accepted(param: Any, error: dict | None = None) -> Any:
    """What ``param`` accepts: its choices, or its type and range (``min``/``max``), a date..."""
    error = error or {}
    etype, ctx = str(error.get("type", "")), error.get("ctx") or {}
    choices = _choices(param)
    if choices:
        return USAGE("usage.one_of", values=listing(repr(c) for c in choices))
    if etype in ("literal_error", "enum") and "expected" in ctx:
        return USAGE("usage.one_of", values=str(ctx["expected"]))
    if etype.startswith("bool"):
        return USAGE("usage.yes_no")
    if etype.startswith(("date", "datetime")):
        return USAGE("usage.a_date")
    kind = _kind(param, etype)
    lower = getattr(param, "min", None)
    upper = getattr(param, "max", None)
    lower_open = bool(getattr(param, "min_open", False))
    upper_open = bool(getattr(param, "max_open", False))
    # the limit the validator reports is the one that refused the value (an Annotated Field(ge=...) has no min=)
    for key, is_lower, is_open in (("ge", True, False), ("gt", True, True), ("le", False, False), ("lt", False, True)):
        if key in ctx:
            if is_lower:
                lower, lower_open = ctx[key], is_open
            else:
                upper, upper_open = ctx[key], is_open
    return _range(kind, lower, upper, lower_open, upper_open)


def _bad_parameter(e: click_errors.BadParameter):
    name = _name(e)
    if isinstance(e, BadValue):
        return USAGE("usage.bad_value", name=name, value=e.value, accepted=e.accepted)
    # typer validates a value with pydantic and raises BadParameter from its ValidationError: its first error
    # says what failed (type, input, limits)
    read_errors = getattr(e.__cause__, "errors", None)
    errors = None
    if callable(read_errors):
        try:
            errors = read_errors()
        except Exception:  # noqa: BLE001 - not a pydantic error after all
            errors = None
    if errors:
        first = errors[0]
        accepted = _accepted(e.param, first)
        if "input" in first and not _says_nothing(accepted):
            return USAGE("usage.bad_value", name=name, value=first["input"], accepted=accepted)
    return USAGE("usage.bad_value_reason", name=name, reason=library_reason(Exception(e.message)))


def _commands(ctx: Any) -> Any:
    group = ctx.command if ctx is not None else None
    names = group.list_commands(ctx) if group is not None and hasattr(group, "list_commands") else []
    return listing(names)


_NO_COMMAND = re.compile(r"^No such command '(.*)'\.$", re.S)
_EXTRA = re.compile(r"^Got unexpected extra argument(?:s|\(s\))? \((.*)\)$", re.S)


def usage_message(e: click_errors.UsageError):
    """A :class:`geodata.messages.Message` for the parser's refusal ``e`` (``usage.*``)."""
    if isinstance(e, click_errors.MissingParameter):
        name = _name(e)
        if e.param is not None and e.param.param_type_name == "argument":
            return USAGE("usage.missing_argument", name=name)
        accepted = _accepted(e.param)
        if _says_nothing(accepted):
            return USAGE("usage.missing_option", name=name, accepted="")  # nothing more to say than --help does
        return USAGE("usage.missing_option", name=name, accepted=USAGE("usage.missing_accepted", accepted=accepted))
    if isinstance(e, click_errors.BadParameter):
        return _bad_parameter(e)
    if isinstance(e, click_errors.NoSuchOption):
        suggest = (USAGE("usage.possible_options", options=listing(sorted(e.possibilities)))
                   if e.possibilities else "")
        return USAGE("usage.no_such_option", option=e.option_name, suggest=suggest)
    if isinstance(e, click_errors.BadOptionUsage):
        if "requires" in e.message and "argument" in e.message:
            return USAGE("usage.option_needs_value", name=e.option_name)
        if "does not take a value" in e.message:
            return USAGE("usage.option_takes_no_value", name=e.option_name)
    m = _NO_COMMAND.match(e.message)
    if m:
        return USAGE("usage.no_such_command", name=m.group(1), accepted=_commands(e.ctx))
    if e.message == "Missing command.":
        return USAGE("usage.missing_command", accepted=_commands(e.ctx))
    m = _EXTRA.match(e.message)
    if m:
        return USAGE("usage.extra_arguments", args=m.group(1))
    return USAGE("usage.other", detail=e.format_message())


def _command_of(group: Any, argv: list[str], ctx: Any) -> tuple[Any, str]:
    """The deepest command ``argv`` names below ``group`` and its path (for a refusal without a context)."""
    cmd, path = group, [ctx.info_name or "parkplan"] if ctx is not None else ["parkplan"]
    for arg in argv:
        if arg.startswith("-"):
            continue
        commands = getattr(cmd, "commands", None)
        if isinstance(commands, dict) and arg in commands:
            cmd = commands[arg]
            path.append(arg)
        else:
            break
    return cmd, " ".join(path)


def show_usage_error(e: click_errors.UsageError, argv: list[str], group: Any, top_ctx: Any = None) -> None:
    """Print ``e`` in the command line's language (usage line, the refusal after the word for error, where to
    find help) on standard error."""
    from rich.markup import escape

    from geodata import glossary

    from ._common import err_console

    ctx = e.ctx
    if ctx is not None:
        command, path = ctx.command, ctx.command_path
    else:
        command, path = _command_of(group, argv, top_ctx)
    lang = lang_of(argv, getattr(command, "name", None))
    if ctx is not None:
        usage = re.sub(r"^\s*(?:Usage:|用法：)\s*", "", ctx.get_usage().strip())
        err_console.print(escape(USAGE("usage.usage", usage=usage).render(lang)), markup=True, highlight=False)
    text = usage_message(e).render(lang)
    prefix = glossary.term("cli_error", lang)
    err_console.print(f"[red]{escape(prefix)}[/red] {escape(text)}", markup=True, highlight=False)
    err_console.print(escape(USAGE("usage.help_hint", command=path).render(lang)), markup=True, highlight=False)


class ParkplanGroup(TyperGroup):
    """The ``parkplan`` application's group: the parser's refusals (of the group and of every command and
    sub-group below it) in the command line's language, exit code 2 (see the module's doc); the help pages in
    that language too (:mod:`api.cli._help`)."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        import sys

        from ._help import help_in

        argv = list(args) if args is not None else sys.argv[1:]
        with help_in(self, lang_of(argv)):
            return super().main(args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra)

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any):
        argv = list(args)
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except click_errors.UsageError as e:
            if isinstance(e, click_errors.NoArgsIsHelpError):
                raise
            show_usage_error(e, argv, self)
            raise typer.Exit(e.exit_code) from None
        if parent is None:
            ctx.meta[_ARGV] = argv
        return ctx

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except click_errors.UsageError as e:
            if isinstance(e, click_errors.NoArgsIsHelpError):
                raise
            show_usage_error(e, list(ctx.meta.get(_ARGV, [])), self, ctx)
            raise typer.Exit(e.exit_code) from None
