"""Import problems: one :class:`Problem` per row and field, raised together as one
:class:`ImportValidationError` (the error :mod:`geodata.validate` raises).

A problem's text and what is accepted are coded messages (:data:`geodata.messages.IMPORT`): ``str()``
gives the English text, :meth:`Problem.in_lang` and :meth:`ImportValidationError.render` either
language."""

from __future__ import annotations

from dataclasses import dataclass

from . import glossary
from .messages import IMPORT, Localised, Message, layer_name

ROWS_SHOWN_PER_PROBLEM = 10  # rows listed for each kind of problem before "... and N more"
LOCATION_TOLERANCE_M = 1000.0  # how far outside the province boundary a feature may lie (coastlines, islands)


def where_label(where: str) -> Localised:
    """``row 5`` / 第 5 行, ``feature 3`` / 第 3 个要素, ``file`` / 文件 (a problem's ``where``), in the
    glossary's words (``cli_where_row``, ``cli_where_feature``, ``cli_where_file``)."""
    kind, _, n = str(where).partition(" ")
    if kind in ("row", "feature") and n.isdigit():
        return Localised(str(where), glossary.term(f"cli_where_{kind}", "zh").format(n=n))
    if where == "file":
        return Localised("file", glossary.term("cli_where_file", "zh"))
    return Localised(str(where), str(where))


def row_list(labels: list[str], more: bool) -> Localised:
    """Row labels as a list in either language: ``row 3, row 9, ...`` / ``第 3 行、第 9 行、……``."""
    items = [where_label(w) for w in labels]
    return Localised(", ".join(i.en for i in items) + (", ..." if more else ""),
                     "、".join(i.zh for i in items) + ("、……" if more else ""))


@dataclass(frozen=True)
class Problem:
    """One problem: where (``row 5``, ``feature 3`` or ``file``), which field, what, and what is accepted."""

    where: str
    field: str | None
    text: Message
    accepted_text: Message | None = None

    @property
    def code(self) -> str:
        return self.text.code

    @property
    def message(self) -> str:
        """What is wrong, in English."""
        return self.text.render("en")

    @property
    def accepted(self) -> str:
        """What is accepted, in English ("" when the problem says it itself)."""
        return self.accepted_text.render("en") if self.accepted_text is not None else ""

    def in_lang(self, lang: str) -> str:
        """The whole problem (where, field, what, accepted) in ``lang``."""
        return self._line(lang)

    def message_in(self, lang: str) -> str:
        return self.text.render(lang)

    def accepted_in(self, lang: str) -> str:
        return self.accepted_text.render(lang) if self.accepted_text is not None else ""

    def _line(self, lang: str) -> str:
        text = f"{where_label(self.where).render(lang)}: " if self.where != "file" else ""
        text += f"{self.field}: " if self.field else ""
        text += self.text.render(lang)
        if self.accepted_text is None:
            return text
        return text + (f" (accepted: {self.accepted_in(lang)})" if lang == "en"
                       else f"（可接受的值：{self.accepted_in(lang)}）")

    def __str__(self) -> str:
        return self._line("en")


class ImportValidationError(ValueError):
    """A file does not fit a layer. ``problems`` lists every problem; the message shows them grouped."""

    def __init__(self, problems: list[Problem], *, source: str = "", layer: str = "",
                 rows_shown: int = ROWS_SHOWN_PER_PROBLEM):
        self.problems = list(problems)
        self.source = source
        self.layer = layer
        self.rows_shown = rows_shown
        super().__init__(self.render())

    def __reduce__(self):
        return (_restore, (self.problems, self.source, self.layer, self.rows_shown))

    def in_lang(self, lang: str) -> str:
        return self.render(lang)

    def head(self, lang: str = "en") -> str:
        """The first line: how many problems, in which file and layer; nothing was imported."""
        n = len(self.problems)
        return IMPORT("import.refused",
                      count=IMPORT("import.problems", n=n) if n != 1 else IMPORT("import.one_problem"),
                      source=IMPORT("import.in_source", source=self.source) if self.source else "",
                      layer=IMPORT("import.in_layer", layer=layer_name(self.layer)) if self.layer else "",
                      ).render(lang)

    def render(self, lang: str = "en") -> str:
        """Every problem, grouped by field and what is accepted, a few rows per group, in ``lang``."""
        lines = [self.head(lang)]
        groups: dict[tuple, list[Problem]] = {}
        for p in self.problems:
            groups.setdefault((p.field, p.accepted, p.where == "file"), []).append(p)
        colon = ": " if lang == "en" else "："
        for (fld, _, _), items in groups.items():
            if fld and fld not in ("geometry", "crs"):
                title = IMPORT("import.column", field=fld)
            else:
                title = IMPORT(f"import.group_{fld or 'file'}")
            accepted = items[0].accepted_text
            if accepted is not None:
                title = IMPORT("import.group_accepted", title=title, accepted=accepted)
            lines.append(f"- {title.render(lang)}{colon.strip()}")
            for p in items[: self.rows_shown]:
                where = f"{where_label(p.where).render(lang)}{colon}" if p.where != "file" else ""
                lines.append(f"    {where}{p.text.render(lang)}")
            if len(items) > self.rows_shown:
                lines.append(f"    {IMPORT('import.and_more', n=len(items) - self.rows_shown).render(lang)}")
        return "\n".join(lines)


def _restore(problems, source, layer, rows_shown):
    return ImportValidationError(problems, source=source, layer=layer, rows_shown=rows_shown)
