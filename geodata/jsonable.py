"""One converter from numpy/pandas values to plain JSON values, for every layer.

The rules (the same for the API, the pages, the maps, the reports and the command line):

- ``None``, ``pandas.NA``, ``pandas.NaT``, NaN and +/-infinity become ``None`` (JSON has no NaN);
- numpy booleans, integers and floats become ``bool``, ``int`` and ``float``;
- ``decimal.Decimal`` becomes ``float`` (or ``None`` when not finite);
- ``pandas.Timestamp``, ``datetime.datetime``, ``datetime.date`` and ``datetime.time`` become ISO 8601
  strings (``Timestamp`` as ``datetime.isoformat``);
- mappings become ``dict`` with ``str`` keys; lists, tuples, sets, numpy arrays, ``pandas.Index`` and
  ``pandas.Series`` become lists (element by element, with these same rules);
- ``str`` (and ``bool``/``int``/``float``) pass through;
- anything else raises ``TypeError`` naming the type: a converter that guesses hides bugs.

Examples
--------
>>> import numpy as np, pandas as pd
>>> jsonable({"n": np.int64(3), "x": np.float32(0.5), "bad": np.nan, "ok": np.bool_(True)})
{'n': 3, 'x': 0.5, 'bad': None, 'ok': True}
>>> jsonable([pd.NA, pd.Timestamp("2024-05-01"), float("inf")])
[None, '2024-05-01T00:00:00', None]
>>> jsonable(object())
Traceback (most recent call last):
...
TypeError: not JSON-serialisable: object (accepted: None, bool, int, float, str, numpy scalars and arrays, pandas NA/NaT/Timestamp/Index/Series, Decimal, date/datetime/time, mappings and sequences of these)
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["jsonable", "json_default", "dumps"]

_ACCEPTED = ("None, bool, int, float, str, numpy scalars and arrays, pandas NA/NaT/Timestamp/Index/Series, "
             "Decimal, date/datetime/time, mappings and sequences of these")


def _float(x: float) -> float | None:
    return x if math.isfinite(x) else None


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values (see the module docstring for the rules).

    Raises
    ------
    TypeError
        For a value of a type outside the rules, naming the type.
    """
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return _float(float(obj))
    if isinstance(obj, Decimal):
        return _float(float(obj)) if obj.is_finite() else None  # float(sNaN) raises
    if isinstance(obj, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return obj.isoformat()
    if isinstance(obj, np.datetime64):
        return None if np.isnat(obj) else pd.Timestamp(obj).isoformat()
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray | pd.Index | pd.Series):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable(v) for v in obj]
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__} (accepted: {_ACCEPTED})")


def json_default(obj: Any) -> Any:
    """``default=`` hook for :func:`json.dumps`: the same rules as :func:`jsonable`.

    Note that :func:`json.dumps` never passes Python ``float`` NaN to a hook; use :func:`dumps` (or
    ``json.dumps(jsonable(obj))``) to get ``null`` for those too.
    """
    return jsonable(obj)


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps(jsonable(obj))``, strict (``allow_nan=False``), Chinese unescaped by default."""
    kwargs.setdefault("ensure_ascii", False)
    return json.dumps(jsonable(obj), allow_nan=False, **kwargs)
