"""Reference tables shipped with parkplan as package data (``geodata/data/``).

Each loader reads one CSV and returns a validated :class:`pandas.DataFrame`. ``parks/`` never reads
files itself: callers (the command line, the API) load a table here and pass it in.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from .schema import SECTOR_IDS

__all__ = ["ReferenceDataError", "sector_linkages", "validate_sector_linkages"]


class ReferenceDataError(ValueError):
    """A reference table is malformed (unknown id, weight out of range, missing column)."""


LINKAGE_COLUMNS = ("upstream", "downstream", "weight")


def validate_sector_linkages(table: pd.DataFrame) -> pd.DataFrame:
    """Check a sector linkage table and return a clean copy (``upstream``, ``downstream``, ``weight``, ``note``).

    Every row is an input-output link: ``upstream`` supplies ``downstream``. Sector ids must be among
    :data:`geodata.schema.SECTOR_IDS`, ``weight`` in (0, 1], no self-links, no duplicated pairs.
    All problems are collected and raised together.
    """
    missing = [c for c in LINKAGE_COLUMNS if c not in table.columns]
    if missing:
        raise ReferenceDataError(
            f"sector linkage table lacks column(s) {', '.join(missing)}; expected: {', '.join(LINKAGE_COLUMNS)}"
        )
    out = pd.DataFrame({
        "upstream": table["upstream"].astype(str).str.strip(),
        "downstream": table["downstream"].astype(str).str.strip(),
        "weight": pd.to_numeric(table["weight"], errors="coerce"),
        "note": table["note"].astype(str) if "note" in table.columns else "",
    })
    problems: list[str] = []
    accepted = ", ".join(SECTOR_IDS)
    for col in ("upstream", "downstream"):
        for i, v in out[col].items():
            if v not in SECTOR_IDS:
                problems.append(f"row {i}: {col} {v!r} is not a sector id; accepted: {accepted}")
    for i, w in out["weight"].items():
        if not (w > 0 and w <= 1):
            problems.append(f"row {i}: weight {table['weight'][i]!r} must be a number in (0, 1]")
    for i in out.index[out["upstream"] == out["downstream"]]:
        problems.append(f"row {i}: self-link {out['upstream'][i]!r} -> itself is not allowed")
    dup = out.duplicated(["upstream", "downstream"], keep="first")
    for i in out.index[dup]:
        problems.append(f"row {i}: duplicated pair {out['upstream'][i]} -> {out['downstream'][i]}")
    if problems:
        shown = problems[:20]
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ReferenceDataError("invalid sector linkage table:\n" + "\n".join(shown) + more)
    return out.reset_index(drop=True)


def sector_linkages() -> pd.DataFrame:
    """The built-in upstream/downstream linkage table among the eleven sectors.

    Columns: ``upstream``, ``downstream``, ``weight`` (0-1, strength of the input-output link,
    an expert judgement from the plan's industrial-chain descriptions), ``note``.
    """
    with resources.files("geodata").joinpath("data/sector_linkages.csv").open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh)
    return validate_sector_linkages(table)
