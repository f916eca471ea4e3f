"""Column-wise point data for the page, compact and fast to write: what the enterprises map sends.

At 100,000 enterprises the map's data is a few megabytes of JSON; this module writes it in one pass
per column (orjson over whole arrays, no Python value per cell) and smaller than plain JSON:

* coordinates as integers of ``10**-decimals`` degrees from an offset (:func:`fixed`): ``30.30124``
  is sent as ``330124`` beside ``{"offset": 2700000}``. ``PARKPLAN.columns`` (``maps/assets/parkplan.js``)
  and :func:`decode_columns` read back ``(offset + v) / 10**decimals``, the same double as
  ``numpy.round(x, decimals)`` (numpy rounds by ``rint(x * 10**d) / 10**d``; one correctly rounded
  division of the same two integers);
* identifiers that share a prefix and a fixed number of trailing digits (``E0000001``) as the prefix,
  the width and the differences of the numbers (:func:`coded_ids`); anything else as plain strings.

Security is that of :func:`maps.base.js_json`: every string (names, identifier prefixes) is escaped
for a ``<script type="application/json">`` block and a template engine (``<``, ``>``, ``&``, ``{``,
``}``, U+2028/U+2029); numbers are written by orjson from integer arrays. The result is a
:class:`maps.base._SafeJson`, put into the page as a JSON block, never as script.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson

from .base import _SafeJson, js_json

__all__ = ["fixed", "coded_ids", "columns_json", "decode_columns", "strings_json"]

# escapes of js_json, for text in which every brace is inside a string literal (str.replace per
# character: one fast scan each, where str.translate maps every character of CJK text through a dict)
_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("{", "\\u007b"), ("}", "\\u007d"),
            ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
_MAX_DIGITS = 15  # integers below 10**15 are exact in a JavaScript double
_TRAILING_DIGITS = re.compile(r"(.*?)([0-9]+)", re.S)


def strings_json(values: Sequence[str]) -> str:
    """A JSON array of strings escaped as :func:`maps.base.js_json` escapes them (``JSON.parse`` reads
    back the same strings), written by orjson in one call."""
    try:
        text = orjson.dumps(list(values)).decode("utf-8")
    except TypeError:  # not all str (or a lone surrogate): the general path
        return js_json(list(values))
    for char, escape in _ESCAPES:  # a flat array of strings: every brace is inside a string
        text = text.replace(char, escape)
    return text


def _ints_json(values: np.ndarray) -> str:
    return orjson.dumps(np.ascontiguousarray(values, dtype=np.int64), option=orjson.OPT_SERIALIZE_NUMPY).decode()


def fixed(values, decimals: int = 5) -> dict[str, Any] | None:
    """``values`` rounded to ``decimals`` places as integers from an offset:
    ``{"decimals": d, "offset": o, "values": int64 array}``, or None if a value is not finite or the
    integers would not be exact in JavaScript."""
    x = np.asarray(values, dtype=float)
    if not np.isfinite(x).all():
        return None
    q = np.rint(x * 10.0 ** decimals)
    if len(q) and np.abs(q).max() >= 10 ** _MAX_DIGITS:
        return None
    q = q.astype(np.int64)
    offset = int(q.min()) if len(q) else 0
    return {"decimals": int(decimals), "offset": offset, "values": q - offset}


def coded_ids(ids: Sequence[str]) -> dict[str, Any] | None:
    """Identifiers ``prefix + digits`` with one prefix and one number of digits (``E0000001``) as
    ``{"prefix": p, "width": w, "delta": int64 array}`` (the first number, then the differences), or
    None when they do not all have that form."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(ids) or not isinstance(ids[0], str):
        return None
    m = _TRAILING_DIGITS.fullmatch(ids[0])
    if m is None or len(m.group(2)) > _MAX_DIGITS:
        return None
    prefix, width = m.group(1), len(m.group(2))
    try:
        arr = pa.array(ids, type=pa.string())
    except (pa.ArrowException, TypeError):
        return None
    if arr.null_count or not pc.all(pc.equal(pc.utf8_length(arr), len(prefix) + width)).as_py():
        return None
    if not pc.all(pc.starts_with(arr, prefix)).as_py():
        return None
    digits = pc.utf8_slice_codeunits(arr, len(prefix))
    if not pc.all(pc.match_substring_regex(digits, "^[0-9]+$")).as_py():
        return None
    value = pc.cast(digits, pa.int64()).to_numpy()
    return {"prefix": prefix, "width": width, "delta": np.diff(value, prepend=0)}


def _column_json(col: Any) -> str:
    if isinstance(col, dict) and "decimals" in col:
        return '{"decimals":%d,"offset":%d,"values":%s}' % (col["decimals"], col["offset"], _ints_json(col["values"]))
    if isinstance(col, dict) and "prefix" in col:
        return '{"prefix":%s,"width":%d,"delta":%s}' % (js_json(str(col["prefix"])), col["width"],
                                                       _ints_json(col["delta"]))
    if isinstance(col, np.ndarray) and col.dtype.kind in "iub":
        return _ints_json(col)
    if isinstance(col, list) and all(isinstance(v, str) for v in col):
        return strings_json(col)
    return js_json(col)


def columns_json(columns: Mapping[str, Any]) -> _SafeJson:
    """The columns as one JSON object for a map's data block. Each value: a :func:`fixed` or
    :func:`coded_ids` dict, an integer array, a list of strings or anything :func:`js_json` takes."""
    parts = [f"{js_json(str(name))}:{_column_json(col)}" for name, col in columns.items()]
    return _SafeJson("{" + ",".join(parts) + "}")


def decode_columns(data: Mapping[str, Any]) -> dict[str, list]:
    """The plain columns of parsed :func:`columns_json` output: what ``PARKPLAN.columns`` gives the
    page (the reference the browser test compares it with)."""
    out: dict[str, list] = {}
    for name, col in data.items():
        if isinstance(col, dict) and "decimals" in col:
            scale = 10.0 ** col["decimals"]
            out[name] = [(col["offset"] + v) / scale for v in col["values"]]
        elif isinstance(col, dict) and "prefix" in col:
            numbers = np.cumsum(np.asarray(col["delta"], dtype=np.int64))
            out[name] = [col["prefix"] + str(int(v)).zfill(col["width"]) for v in numbers.tolist()]
        else:
            out[name] = list(col)
    return out
