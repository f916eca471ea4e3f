"""Language and number formatting of the command line's tables: ``--lang zh|en`` (default from the
locale: English when ``LC_ALL``/``LC_MESSAGES``/``LANG`` start with ``en``, else Chinese, the
product's language), words from the one glossary (:mod:`geodata.glossary`), county and park names
beside their codes, numbers in plain decimals (never ``6.43e-05``)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from geodata import glossary

__all__ = ["default_lang", "LangOption", "translator", "num", "pct", "with_code", "table", "check_lang"]


def default_lang() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


def check_lang(value: str | None) -> str:
    value = value or default_lang()
    if value not in glossary.LANGS:
        raise typer.BadParameter(f"{value!r} not accepted; accepted: {', '.join(glossary.LANGS)}")
    return value


LangOption = Annotated[str | None, typer.Option("--lang", callback=check_lang,
                                                help="language of the tables: zh or en (default: from the locale)")]


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **kw)``: the glossary's words in ``lang``; a key it lacks is an error naming it."""

    def t(key: str, **kw: Any) -> str:
        text = glossary.term(key, lang)
        return text.format(**kw) if kw else text

    return t


def num(value: Any, digits: int = 3, unit: str = "") -> str:
    """A number as a person reads it: thousands separated, ``digits`` decimals, small values in plain
    decimals with 3 significant digits (0.0000643, not 6.43e-05); ``-`` for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        text = f"{int(value):,}"
    else:
        v = float(value)
        if v != 0 and abs(v) < 10 ** -digits:
            text = np.format_float_positional(v, precision=3, unique=False, fractional=False, trim="-")
        else:
            text = f"{v:,.{digits}f}"
    return f"{text} {unit}" if unit else text


def pct(value: Any, digits: int = 0) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{float(value):.{digits}%}"


def with_code(code: Any, names: dict[str, str]) -> str:
    """``海宁市 (330481)``: a name beside its code (the code alone when the name is unknown)."""
    if code is None:
        return "-"
    name = names.get(str(code))
    return f"{name} ({code})" if name else str(code)


def table(title: str, columns: list[tuple[str, str]]) -> Table:
    """A table whose text columns (justify ``left``) never wrap or cut names on a wide terminal."""
    t = Table(title=title, title_justify="left", header_style="bold")
    for header, justify in columns:
        t.add_column(header, justify=justify, no_wrap=justify == "left", overflow="fold")
    return t
