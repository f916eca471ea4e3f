"""Import problems: one :class:`Problem` per row and field, raised together as one
:class:`ImportValidationError` (the error :mod:`geodata.validate` raises)."""

from __future__ import annotations

from dataclasses import dataclass


ROWS_SHOWN_PER_PROBLEM = 10  # rows listed for each kind of problem before "... and N more"
LOCATION_TOLERANCE_M = 1000.0  # how far outside the province boundary a feature may lie (coastlines, islands)


@dataclass(frozen=True)
class Problem:
    """One problem: where (``row 5``, ``feature 3`` or ``file``), which field, what, and what is accepted."""

    where: str
    field: str | None
    message: str
    accepted: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: " if self.where != "file" else ""
        text += f"{self.field}: " if self.field else ""
        text += self.message
        return text + (f" (accepted: {self.accepted})" if self.accepted else "")


class ImportValidationError(ValueError):
    """A file does not fit a layer. ``problems`` lists every problem; the message shows them grouped."""

    def __init__(self, problems: list[Problem], *, source: str = "", layer: str = "",
                 rows_shown: int = ROWS_SHOWN_PER_PROBLEM):
        self.problems = list(problems)
        self.source = source
        self.layer = layer
        self.rows_shown = rows_shown
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''}"
        if self.source:
            head += f" in {self.source}"
        if self.layer:
            head += f" (layer {self.layer})"
        lines = [head + "; nothing was imported:"]
        groups: dict[tuple, list[Problem]] = {}
        for p in self.problems:
            groups.setdefault((p.field, p.accepted, p.where == "file"), []).append(p)
        for (fld, accepted, _), items in groups.items():
            title = f"column {fld!r}" if fld and fld not in ("geometry", "crs") else (fld or "file")
            if accepted:
                title += f" (accepted: {accepted})"
            lines.append(f"- {title}:")
            for p in items[: self.rows_shown]:
                lines.append(f"    {p.where + ': ' if p.where != 'file' else ''}{p.message}")
            if len(items) > self.rows_shown:
                lines.append(f"    ... and {len(items) - self.rows_shown} more")
        return "\n".join(lines)
