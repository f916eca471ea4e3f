"""The planner's report as an Excel workbook: one sheet per table of
:class:`parks.suitability.plan_report.PlanReport` (Chinese sheet names and headers by default,
``lang="en"`` for English), every cell through :func:`geodata.spreadsheet.safe_frame` (no text
ever becomes a formula).

Used by ``GET /scenarios/{scenario}/plan.xlsx`` and by ``parkplan suitability --scenario ... -o x.xlsx``
(:func:`write_plan_sheets` adds the sheets to a workbook the CLI is writing).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from geodata.spreadsheet import safe_frame

__all__ = ["write_plan_sheets", "plan_workbook", "write_plan_xlsx", "XLSX_MEDIA_TYPE"]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAX_WIDTH = 60


def write_plan_sheets(writer: pd.ExcelWriter, report, lang: str = "zh") -> list[str]:
    """Write each table of ``report`` as a sheet of ``writer`` (an openpyxl ``pd.ExcelWriter``), header
    row frozen and columns sized to their text; returns the sheet names in order. A sheet name the
    workbook already has gets a numeric suffix."""
    names = []
    for name, frame in report.tables(lang).items():
        sheet = _unique(name, set(writer.sheets))
        _cells(frame).to_excel(writer, sheet_name=sheet, index=False)
        _format(writer.sheets[sheet], frame)
        names.append(sheet)
    return names


def plan_workbook(report, lang: str = "zh") -> bytes:
    """The report as the bytes of an .xlsx file."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        write_plan_sheets(writer, report, lang)
    return buf.getvalue()


def write_plan_xlsx(report, path: str | Path, lang: str = "zh") -> Path:
    """Write the report to ``path`` (.xlsx), atomically (a temporary file renamed into place)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"the plan report is written as .xlsx; got {path.name!r}")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(plan_workbook(report, lang))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Values Excel can hold (pandas' nullable NA as empty), text guarded against formulas."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.api.extensions.ExtensionDtype) and not isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return safe_frame(out)


def _unique(name: str, taken: set[str]) -> str:
    name = name[:31]
    if name not in taken:
        return name
    for i in range(2, 100):
        cand = f"{name[:28]}_{i}"
        if cand not in taken:
            return cand
    raise ValueError(f"too many sheets named {name!r}")


def _format(ws, frame: pd.DataFrame) -> None:
    from openpyxl.utils import get_column_letter

    ws.freeze_panes = "A2"
    for i, col in enumerate(frame.columns, start=1):
        texts = [str(col)] + [str(v) for v in frame[col].head(200).tolist()]
        width = max(_width(t) for t in texts)
        ws.column_dimensions[get_column_letter(i)].width = min(_MAX_WIDTH, max(8, width + 2))


def _width(text: str) -> int:
    """Display width: CJK characters count double."""
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in text)
