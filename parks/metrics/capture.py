"""Park capture: the share of enterprises, employees, revenue and project investment located inside
parks -- the plan's own measure of concentration ("scattered township enterprises into parks").

.. math::

    \\text{capture}_v(g) = \\frac{\\sum_{k \\in g,\\ k \\text{ in a park}} v_k}{\\sum_{k \\in g} v_k}

for each value :math:`v` (1 per enterprise, employees, revenue, and the investment of the
enterprise's projects) and each group :math:`g` (a sector, a county, or everything). An enterprise
is "in a park" when :func:`parks.joins.prepare` gave it a ``park_id``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import MetricsError, require_columns

__all__ = ["park_capture", "capture_sums", "capture_table", "GROUPINGS", "CAPTURE_VALUES"]

GROUPINGS = ("sector", "county_code", "all")


def park_capture(enterprises: pd.DataFrame, projects: pd.DataFrame | None = None, *, by: str = "sector") -> pd.DataFrame:
    """Capture shares per group (``by`` = ``'sector'``, ``'county_code'`` or ``'all'``).

    Columns: ``group`` (the sector id, county code or ``'all'``), ``by``, ``enterprises``,
    ``share_enterprises``, ``share_employees``, ``share_revenue``, ``share_investment`` (NaN where
    the group has no projects), and the in-park totals.

    Examples
    --------
    >>> e = pd.DataFrame({"enterprise_id": [1, 2, 3, 4], "sector": ["textiles"] * 4, "park_id": ["P1", None, "P1", None],
    ...                   "employees": [10, 10, 30, 50], "revenue": [1.0, 1.0, 1.0, 1.0]})
    >>> r = park_capture(e, by="all").iloc[0]
    >>> float(r["share_enterprises"]), float(r["share_employees"])
    (0.5, 0.4)
    """
    if by not in GROUPINGS:
        raise MetricsError("param.by", value=by, accepted=", ".join(GROUPINGS))
    require_columns(enterprises, ["park_id", "employees", "revenue"] + ([by] if by != "all" else []))
    investment = None
    if projects is not None and len(projects):
        require_columns(projects, ["enterprise_id", "investment"], what="projects")
        require_columns(enterprises, ["enterprise_id"])
        investment = pd.to_numeric(projects["investment"], errors="coerce").fillna(0.0).groupby(projects["enterprise_id"]).sum()
    total, inside = capture_sums(enterprises, investment, by)
    return capture_table(total, inside, by)


CAPTURE_VALUES = ("one", "employees", "revenue", "investment")


def capture_sums(enterprises: pd.DataFrame, investment: pd.Series | None, by: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-group sums of :data:`CAPTURE_VALUES`: over all enterprises and over those in a park.

    ``investment`` maps ``enterprise_id`` to its projects' total investment (None: no projects).
    Sums add up over partitions, which is how ``parks.scale`` computes capture on Dask.
    """
    e = pd.DataFrame({
        "group": "all" if by == "all" else enterprises[by].astype(object),
        "inside": enterprises["park_id"].notna().to_numpy(),
        "one": 1.0,
        "employees": pd.to_numeric(enterprises["employees"], errors="coerce").fillna(0.0),
        "revenue": pd.to_numeric(enterprises["revenue"], errors="coerce").fillna(0.0),
    }, index=enterprises.index)
    e["investment"] = (enterprises["enterprise_id"].map(investment).fillna(0.0).to_numpy()
                       if investment is not None else 0.0)
    e = e.dropna(subset=["group"])
    values = list(CAPTURE_VALUES)
    total = e.groupby("group")[values].sum()
    inside = e[e["inside"]].groupby("group")[values].sum().reindex(total.index, fill_value=0.0)
    return total, inside


def capture_table(total: pd.DataFrame, inside: pd.DataFrame, by: str) -> pd.DataFrame:
    """Assemble capture rows from per-group sums of :data:`CAPTURE_VALUES`, all and in parks.

    Shared by :func:`park_capture` and the partitioned path (``parks.scale``), which adds the sums
    of its partitions before calling this.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        share = inside / total.where(total > 0)
    out = pd.DataFrame({
        "group": total.index.astype(str),
        "by": by,
        "enterprises": total["one"].astype(int).to_numpy(),
        "share_enterprises": share["one"].to_numpy(),
        "share_employees": share["employees"].to_numpy(),
        "share_revenue": share["revenue"].to_numpy(),
        "share_investment": share["investment"].to_numpy(),
        "in_parks_enterprises": inside["one"].astype(int).to_numpy(),
        "in_parks_employees": inside["employees"].to_numpy(),
        "in_parks_revenue": inside["revenue"].to_numpy(),
        "in_parks_investment": inside["investment"].to_numpy(),
    })
    return out.reset_index(drop=True)
