"""Cell conversion for the importer (:mod:`geodata.validate`): numbers, years, dates, booleans and
vocabulary values to the stored types, each failure as a message."""

from __future__ import annotations

import datetime as _dt
import math
import re
from numbers import Number

import numpy as np
import pandas as pd

from ._vocabulary import _YEAR_FIELDS, _Column, _match_choice
from .messages import IMPORT, CodedError, Message
from .schema import SECTOR_IDS, Field


# --------------------------------------------------------------------------- values

def _missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if isinstance(v, str) and not v.strip():
        return True
    return False


def _as_number(v) -> float:
    if isinstance(v, bool):
        raise ValueError
    if isinstance(v, Number):  # int, float, numpy scalars, Decimal; complex raises TypeError, as callers expect
        return float(v)  # type: ignore[arg-type]
    text = str(v).strip().replace(",", "").replace("，", "").replace(" ", "")
    return float(text)


_DATE_RE = re.compile(r"^(\d{4})(?:[-/.]|\s*年\s*)?(\d{1,2})(?:[-/.]|\s*月\s*)?(\d{1,2})(?:\s*日)?"
                      r"(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_TRUE = {"true", "t", "yes", "y", "1", "1.0", "是", "√", "✓", "对", "有", "真"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "否", "×", "x", "无", "假", "不是"}
_YEAR_RE = re.compile(r"^\s*(\d{4})(?:\s*年.*|[-/.]\d{1,2}(?:[-/.]\d{1,2})?.*)?\s*$")


def _convert(values: list, col: _Column) -> tuple[list, list[tuple[int, Message]]]:
    """Convert one column's values to the field's stored type. Returns (values, [(row, message)]).

    Plain numbers take a vectorised path; everything else is converted once per distinct value
    (registers repeat the same sector, class and flag spellings), so a million rows stay quick.
    """
    f = col.field
    if f.dtype in ("int", "float") and f.name not in _YEAR_FIELDS:
        return _convert_numbers(values, col)
    out: list = []
    errors: list[tuple[int, Message]] = []
    cache: dict = {}
    for i, v in enumerate(values):
        try:
            key = (type(v), v)
            hit = cache.get(key)
        except TypeError:  # unhashable
            key, hit = None, None
        if hit is None:
            hit = _convert_cell(v, f, col.factor)
            if key is not None:
                cache[key] = hit
        value, message = hit
        if message is not None:
            errors.append((i, message))
        out.append(value)
    return out, errors


def _convert_cell(v, f: Field, factor: float) -> tuple[object, Message | None]:
    """(converted value or None, the problem or None)."""
    if _missing(v):
        return None, IMPORT("value.empty_required") if f.required else None
    try:
        return _convert_one(v, f, factor), None
    except CodedError as exc:
        return None, exc.text
    except ValueError:  # pragma: no cover - every refusal above is coded
        return None, IMPORT("value.not_accepted", value=v)


def _convert_numbers(values: list, col: _Column) -> tuple[list, list[tuple[int, Message]]]:
    f = col.field
    with np.errstate(all="ignore"):
        x = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float) * col.factor
    slow = ~np.isfinite(x)
    fails = np.zeros(len(x), dtype=bool)
    if f.dtype == "int":
        fails |= ~slow & (np.abs(x - np.round(x)) > 1e-6)
    if f.minimum is not None:
        fails |= ~slow & (x < f.minimum)
    if f.maximum is not None:
        fails |= ~slow & (x > f.maximum)
    if f.dtype == "float":
        out: list = x.tolist()
    else:
        ints = np.where(slow | fails, 0, np.round(np.nan_to_num(x))).astype(np.int64)
        out = ints.tolist()
    errors: list[tuple[int, Message]] = []
    for i in np.flatnonzero(slow | fails):  # the per-cell path says what is wrong
        value, message = _convert_cell(values[i], f, col.factor)
        out[i] = value
        if message is not None:
            errors.append((int(i), message))
    return out, errors


def _as_date(v) -> str:
    """An ISO date ``YYYY-MM-DD`` from a date, a datetime or text (2003-06-30, 2003/6/30, 2003.6.30,
    2003年6月30日, 20030630); refuses anything else and impossible days."""
    if isinstance(v, (_dt.datetime, pd.Timestamp)):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = str(v).strip()
    m = _DATE_RE.match(text)
    if m is None:
        raise CodedError(IMPORT("value.not_a_date", value=v))
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        raise CodedError(IMPORT("value.no_such_day", value=v)) from None


def _convert_one(v, f: Field, factor: float):
    if f.dtype == "date":
        return _as_date(v)
    if f.dtype in ("str", "date"):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        text = v.isoformat() if isinstance(v, (_dt.date, _dt.datetime)) else str(v).strip()
        if f.choices:
            cid, msg = _match_choice(text, f.choices)
            if cid is None:
                raise CodedError(msg or IMPORT("value.not_accepted", value=text))
            return cid
        return text
    if f.dtype == "list":
        items = [s for s in re.split(r"[,，、;；/|\s]+", str(v).strip()) if s]
        ids = []
        for item in items:
            cid, msg = _match_choice(item, SECTOR_IDS)
            if cid is None:
                raise CodedError(msg or IMPORT("value.not_accepted", value=item))
            if cid not in ids:
                ids.append(cid)
        return ",".join(ids)
    if f.dtype == "bool":
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        key = str(v).strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        raise CodedError(IMPORT("value.not_yes_no", value=v))
    # numbers
    if f.dtype == "int" and f.name in _YEAR_FIELDS:
        if isinstance(v, (_dt.date, _dt.datetime, pd.Timestamp)):
            return int(v.year)
        if isinstance(v, str):
            m = _YEAR_RE.match(v)
            if m:
                return int(m.group(1))
    try:
        x = _as_number(v)
    except (ValueError, TypeError):
        raise CodedError(IMPORT("value.not_a_number", value=v)) from None
    if not math.isfinite(x):
        raise CodedError(IMPORT("value.not_finite", value=v))
    x *= factor
    if f.dtype == "int":
        if abs(x - round(x)) > 1e-6:
            raise CodedError(IMPORT("value.not_whole", value=v))
        x = int(round(x))
    if f.minimum is not None and x < f.minimum:
        raise CodedError(IMPORT("value.below_minimum", value=v, minimum=f.minimum))
    if f.maximum is not None and x > f.maximum:
        raise CodedError(IMPORT("value.above_maximum", value=v, maximum=f.maximum))
    return x


def _typed(values: list, f: Field) -> pd.Series:
    has_na = values.count(None) > 0
    if f.dtype == "int":
        return pd.Series(values, dtype="Int64" if has_na else "int64")
    if f.dtype == "float":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    if f.dtype == "bool":
        return pd.Series(values, dtype="boolean" if has_na else "bool")
    return pd.Series(values, dtype="str")
