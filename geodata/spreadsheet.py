"""The one guard for every spreadsheet cell the product writes (CSV and Excel).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
WPS and LibreOffice as a formula (CSV/DDE injection, OWASP "CSV Injection"). Such text is written
with a leading apostrophe, so it shows as typed and never evaluates. Numbers are left alone
(``-3.5`` stays a number); only ``str`` values are touched.

Every writer of CSV or Excel (``geodata.writers``, the scenario and plan exports, the review
decisions, the reports) passes its cells through :func:`safe_cell` or its frames through
:func:`safe_frame`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "safe_cell", "safe_frame"]

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would evaluate; then ``"'" + value``.

    >>> safe_cell('=HYPERLINK("http://x","y")')
    '\\'=HYPERLINK("http://x","y")'
    >>> safe_cell(-3.5), safe_cell("绍兴柯桥")
    (-3.5, '绍兴柯桥')
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`safe_cell` applied to every text cell and header."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(safe_cell).astype(object)
    out.columns = [safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out
