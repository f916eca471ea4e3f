"""Language and number formatting of the command line's tables: ``--lang zh|en`` (default from the
locale: English when ``LC_ALL``/``LC_MESSAGES``/``LANG`` start with ``en``, else Chinese, the
product's language), words from the one glossary (:mod:`geodata.glossary`), county and park names
beside their codes, numbers in plain decimals (never ``6.43e-05``)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.cells import cell_len, chop_cells
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import JustifyMethod

from geodata import glossary

__all__ = ["default_lang", "LangOption", "translator", "num", "pct", "with_code", "table", "FitTable", "check_lang", "Words"]


def default_lang() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


def check_lang(value: str | None) -> str:
    value = value or default_lang()
    if value not in glossary.LANGS:
        from ._usage import BadValue

        raise BadValue(value, ", ".join(glossary.LANGS))  # shown as usage.bad_value in the command line's language
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
    import numpy as np  # here, not at import: `parkplan --help` does not need numpy

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


#: the narrowest a text column is folded to (4 Chinese characters)
_TEXT_MIN_CELLS = 8


def _cell_text(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _fold_header(head: str, width: int) -> str:
    """A header on lines of at most ``width`` cells, a unit in brackets (``（公顷）``) on a line of its own
    where it fits."""
    if cell_len(head) <= width:
        return head
    parts = [head]
    for bracket in ("（", " ("):
        if bracket in head and head.index(bracket) > 0:
            i = head.index(bracket)
            parts = [head[:i], head[i:].strip()]
            break
    return "\n".join(line for part in parts for line in chop_cells(part, width))


class FitTable(Table):
    """A table that never cuts a number. Numbers (columns justified ``right``) keep every digit on one
    line, their headers fold above them; text folds onto the next line (``overflow="fold"``) instead
    of ending in an ellipsis. When even that is wider than the terminal (a summary of ten columns on
    80), each row is printed as its own small table of header and value (the first cell its title),
    so that ``3,151`` is never shown as ``3,1``."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        cols = self.columns
        if not cols or not self.row_count:
            yield from super().__rich_console__(console, options)
            return
        need = natural = 3 * len(cols) + 1  # borders and padding of the default box
        heads: list[str] = []
        for c in cols:
            head = _cell_text(c.header)
            data = max((cell_len(_cell_text(x)) for x in c.cells), default=0)
            natural += max(data, cell_len(head))
            if c.justify == "right":
                w = max(data, min(_TEXT_MIN_CELLS, cell_len(head)))
                heads.append(_fold_header(head, w))
                need += w
            else:
                heads.append(head)
                need += min(_TEXT_MIN_CELLS, max(data, cell_len(head)))
        if natural <= options.max_width:  # every cell on one line
            yield from super().__rich_console__(console, options)
            return
        if need <= options.max_width:
            fitted = Table(title=self.title, title_justify=self.title_justify, header_style=self.header_style)
            for c, head in zip(cols, heads):
                fitted.add_column(head, justify=c.justify, no_wrap=c.justify == "right", overflow="fold")
            for row in zip(*(list(c.cells) for c in cols)):
                fitted.add_row(*row)
            yield from fitted.__rich_console__(console, options)
            return
        if self.title:
            yield Text(_cell_text(self.title), style="bold")
        for row in zip(*(list(c.cells) for c in cols)):
            card = Table(title=_cell_text(row[0]), title_justify="left", show_header=False)
            card.add_column(overflow="fold")
            card.add_column(justify="right", overflow="fold")
            for c, value in zip(cols[1:], row[1:]):
                card.add_row(_cell_text(c.header), value)
            yield card


def table(title: str, columns: list[tuple[str, str]]) -> Table:
    """A :class:`FitTable`: numbers (justify ``right``) are never cut or wrapped, text folds."""
    t = FitTable(title=title, title_justify="left", header_style="bold")
    for header, justify in columns:
        t.add_column(header, justify=cast("JustifyMethod", justify), no_wrap=justify == "right", overflow="fold")
    return t


class Words:
    """What a command's output needs in one language: the glossary's words (``w.t(key, **kw)``), sector,
    park-kind, status and layer labels, and county and park names beside their codes (from ``ds``)."""

    def __init__(self, lang: str | None, ds: Any = None):
        self.lang = check_lang(lang)
        self.t = translator(self.lang)
        self._sectors = glossary.domain("sector", self.lang)
        self._kinds = glossary.domain("kind", self.lang)
        self._status = glossary.domain("status", self.lang)
        self.counties: dict[str, str] = {}
        self.parks: dict[str, str] = {}
        if ds is not None:
            self.counties = dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))
            self.parks = dict(zip(ds.parks["park_id"].astype(str), ds.parks["name"].astype(str)))

    def county(self, code: Any) -> str:
        return with_code(code, self.counties) if code not in (None, "") else "-"

    def park(self, park_id: Any) -> str:
        return with_code(park_id, self.parks) if park_id not in (None, "") else "-"

    def sector(self, sector: Any) -> str:
        if sector == "all":
            return self.t("cli_all_enterprises")
        return self._sectors.get(str(sector), str(sector))

    def kind(self, kind: Any) -> str:
        return self._kinds.get(str(kind), str(kind))

    def status(self, status: Any) -> str:
        return self._status.get(str(status), str(status))

    def layer(self, name: str) -> str:
        """A dataset layer's name (``parks`` -> 园区); the id itself if the glossary has no word for it."""
        return glossary.terms(self.lang).get(f"cli_layer_{name}", name)

    def yes_no(self, value: Any) -> str:
        return "-" if value is None else self.t("yes" if value else "no")

    def scenario(self, name: str) -> str:
        from parks.suitability.plan_report import label

        return label(f"scenario_{name}", self.lang)

    def unplaced(self, code: str) -> str:
        """An allocation's reason for leaving an enterprise unplaced (``capacity``, ...), in words."""
        from parks.suitability.plan_report import label

        return label(f"reason_{code}", self.lang)

    def excluded(self, code: str) -> str:
        """A hard constraint's reason code (``free_land``, ...), in words."""
        from parks.suitability.constraints import REASON_LABELS_ZH

        return REASON_LABELS_ZH.get(code, code) if self.lang == "zh" else str(code).replace("_", " ")

    def criterion(self, criterion: str) -> str:
        from parks.suitability.plan_report import label

        return label(f"criterion_{criterion}", self.lang)

    def where(self, where: str) -> str:
        """Where an import problem is (``row 5``, ``feature 3``, ``file``: :class:`geodata._problems.Problem`)."""
        kind, _, n = str(where).partition(" ")
        if kind in ("row", "feature") and n.isdigit():
            return self.t(f"cli_where_{kind}", n=n)
        return self.t("cli_where_file") if where == "file" else str(where)

    def pollution(self, cls: Any) -> str:
        return glossary.domain("pollution", self.lang).get(str(cls), str(cls)) if cls is not None else "-"

    def catalogue(self, level: Any) -> str:
        return "-" if level in (None, "") else glossary.terms(self.lang).get(f"cli_catalogue_{level}", str(level))

    def alloc_status(self, status: Any) -> str:
        return "-" if status is None else glossary.terms(self.lang).get(f"cli_alloc_{status}", str(status))

    def sep(self) -> str:
        """The list separator of the language (、 in Chinese)."""
        return "、" if self.lang == "zh" else ", "

    def funding(self, funding: Any) -> str:
        return glossary.terms(self.lang).get(f"cli_funding_{funding}", str(funding))

    def role(self, role: Any) -> str:
        return glossary.terms(self.lang).get(f"role_{role}", str(role))
