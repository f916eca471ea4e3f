"""The one guard for every spreadsheet cell the product writes (CSV and Excel).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
WPS and LibreOffice as a formula (CSV/DDE injection, OWASP "CSV Injection"). Such text is written
with a leading apostrophe, so it shows as typed and never evaluates. Numbers are left alone
(``-3.5`` stays a number); only ``str`` values are touched.

Every writer of CSV or Excel (``geodata.writers``, the scenario and plan exports, the review
decisions, the reports) passes its cells through :func:`safe_cell` or its frames through
:func:`safe_frame`. Reading a CSV or Excel file for import undoes the guard (:func:`unguard_cell`,
:func:`unguard_frame`): an apostrophe followed by one of those characters is taken off, so a product
export imports back exactly as stored.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "safe_cell", "safe_frame", "unguard_cell", "unguard_frame"]

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would evaluate; then ``"'" + value``.

    Text that already starts with apostrophes before such a character gets one more, so that
    :func:`unguard_cell` inverts this exactly.

    >>> safe_cell('=HYPERLINK("http://x","y")')
    '\\'=HYPERLINK("http://x","y")'
    >>> safe_cell(-3.5), safe_cell("绍兴柯桥"), safe_cell("'-3")
    (-3.5, '绍兴柯桥', "''-3")
    """
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`safe_cell` applied to every text cell and header."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            # built as object, not through Series.map: pandas would infer a string dtype and turn None into NaN
            out[col] = pd.Series([safe_cell(v) for v in s.to_numpy(dtype=object)], index=s.index, dtype=object)
    out.columns = [safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def unguard_cell(value: Any) -> Any:
    """The inverse of :func:`safe_cell`: ``"'=x"`` -> ``"=x"``; anything else unchanged.

    >>> unguard_cell(safe_cell("=1+1")), unguard_cell(safe_cell("'-3")), unguard_cell("'quoted'"), unguard_cell(7)
    ('=1+1', "'-3", "'quoted'", 7)
    """
    if isinstance(value, str) and value.startswith("'") and value.lstrip("'").startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def unguard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`unguard_cell` applied to every text cell and header (a copy if any changes)."""
    out = frame
    for col in frame.columns:
        s = frame[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        guarded = s.map(lambda v: unguard_cell(v) is not v).to_numpy(dtype=bool)
        if guarded.any():
            out = out.copy() if out is frame else out
            out[col] = s.where(~guarded, s[guarded].str[1:])
    names = [unguard_cell(c) for c in frame.columns]
    if names != list(frame.columns):
        out = out.copy() if out is frame else out
        out.columns = names
    return out
