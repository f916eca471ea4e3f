"""Reference tables shipped with parkplan as package data (``geodata/data/``).

Each loader reads one CSV and returns a validated :class:`pandas.DataFrame`. ``parks/`` never reads
files itself: callers (the command line, the API) load a table here and pass it in.
"""

from __future__ import annotations

from importlib import resources

from typing import Any

import pandas as pd

from .messages import NOTHING, REFERENCE, CodedError, Joined, listing
from .schema import SECTOR_IDS

__all__ = ["ReferenceDataError", "sector_linkages", "validate_sector_linkages"]


class ReferenceDataError(CodedError):
    """A reference table is malformed (unknown id, weight out of range, missing column): a ``ValueError``.

    Raised with a code of :data:`geodata.messages.REFERENCE` and its values; ``str(exc)`` is the English text,
    ``geodata.messages.message(exc, "zh")`` the Chinese."""

    def __init__(self, code: str, /, **params: Any):
        super().__init__(REFERENCE(code, **params))


LINKAGE_COLUMNS = ("upstream", "downstream", "weight")


def validate_sector_linkages(table: pd.DataFrame) -> pd.DataFrame:
    """Check a sector linkage table and return a clean copy (``upstream``, ``downstream``, ``weight``, ``note``).

    Every row is an input-output link: ``upstream`` supplies ``downstream``. Sector ids must be among
    :data:`geodata.schema.SECTOR_IDS`, ``weight`` in (0, 1], no self-links, no duplicated pairs.
    All problems are collected and raised together.
    """
    missing = [c for c in LINKAGE_COLUMNS if c not in table.columns]
    if missing:
        raise ReferenceDataError("reference.lacks_columns", missing=listing(missing), expected=listing(LINKAGE_COLUMNS))
    out = pd.DataFrame({
        "upstream": table["upstream"].astype(str).str.strip(),
        "downstream": table["downstream"].astype(str).str.strip(),
        "weight": pd.to_numeric(table["weight"], errors="coerce"),
        "note": table["note"].astype(str) if "note" in table.columns else "",
    })
    problems = []
    accepted = listing(SECTOR_IDS)
    for col in ("upstream", "downstream"):
        for i, v in out[col].items():
            if v not in SECTOR_IDS:
                problems.append(REFERENCE("reference.not_a_sector", row=i, column=col, value=v, accepted=accepted))
    for i, w in out["weight"].items():
        if not (w > 0 and w <= 1):
            problems.append(REFERENCE("reference.weight", row=i, value=table['weight'][i]))
    for i in out.index[out["upstream"] == out["downstream"]]:
        problems.append(REFERENCE("reference.self_link", row=i, sector=out['upstream'][i]))
    dup = out.duplicated(["upstream", "downstream"], keep="first")
    for i in out.index[dup]:
        problems.append(REFERENCE("reference.duplicate", row=i, upstream=out['upstream'][i],
                                  downstream=out['downstream'][i]))
    if problems:
        more = REFERENCE("reference.and_more", n=len(problems) - 20) if len(problems) > 20 else NOTHING
        raise ReferenceDataError("reference.invalid", problems=Joined(tuple(problems[:20]), "\n"), more=more)
    return out.reset_index(drop=True)


def sector_linkages() -> pd.DataFrame:
    """The built-in upstream/downstream linkage table among the eleven sectors.

    Columns: ``upstream``, ``downstream``, ``weight`` (0-1, strength of the input-output link,
    an expert judgement from the plan's industrial-chain descriptions), ``note``.
    """
    with resources.files("geodata").joinpath("data/sector_linkages.csv").open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh)
    return validate_sector_linkages(table)
