"""Concentration over regions: location quotients, Herfindahl indices, Ellison-Glaeser and
Maurel-Sedillot agglomeration gammas, and the pairwise co-agglomeration index.

Notation: regions (counties) :math:`i`, sectors :math:`j`, employment :math:`e_{ij}`;
:math:`s_{ij} = e_{ij} / E_j` is region :math:`i`'s share of sector :math:`j`, :math:`x_i = e_i / E`
its share of all employment, and :math:`z_k` plant :math:`k`'s share of its sector's employment.

- Location quotient (Isard 1960): :math:`LQ_{ij} = (e_{ij}/e_i) / (E_j/E)`.
- Herfindahl-Hirschman index: :math:`HHI = \\sum_k a_k^2` of shares :math:`a_k` (in :math:`[1/K, 1]`).
- Ellison and Glaeser (1997), *J. Political Economy* 105(5): 889-927:
  :math:`G = \\sum_i (s_i - x_i)^2`, :math:`H = \\sum_k z_k^2`,
  :math:`\\gamma_{EG} = \\dfrac{G / (1 - \\sum_i x_i^2) - H}{1 - H}`;
  :math:`E[\\gamma_{EG}] = 0` when plants are dropped on the map like darts with probabilities
  :math:`x_i` (no spillovers, no natural advantage).
- Maurel and Sedillot (1999), *Regional Science and Urban Economics* 29(5): 575-604:
  :math:`\\gamma_{MS} = \\dfrac{(\\sum_i s_i^2 - \\sum_i x_i^2)/(1 - \\sum_i x_i^2) - H}{1 - H}`.
- Co-agglomeration of two sectors (Ellison, Glaeser and Kerr 2010, *American Economic Review*
  100(3): 1195-1213, eq. 2, the pairwise case of EG 1997 section 5):
  :math:`\\gamma^c_{AB} = \\sum_i (s_{iA} - x_i)(s_{iB} - x_i) / (1 - \\sum_i x_i^2)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._common import MetricsError, require_columns

__all__ = [
    "BASES",
    "hhi",
    "location_quotients",
    "sector_hhi",
    "park_sector_hhi",
    "ellison_glaeser",
    "coagglomeration",
]

BASES = ("employment", "count")


def _weights(frame: pd.DataFrame, basis: str) -> pd.Series:
    if basis not in BASES:
        raise MetricsError("param.basis", value=basis, accepted=", ".join(BASES))
    if basis == "count":
        return pd.Series(1.0, index=frame.index)
    require_columns(frame, ["employees"])
    return pd.to_numeric(frame["employees"], errors="coerce").fillna(0.0).clip(lower=0).astype(float)


def _table(frame: pd.DataFrame, region: str, basis: str, regions: Sequence | None) -> pd.DataFrame:
    """Region x sector table of employment (or counts); rows for every region in ``regions``."""
    require_columns(frame, [region, "sector"])
    w = _weights(frame, basis)
    sub = pd.DataFrame({"region": frame[region], "sector": frame["sector"], "w": w}).dropna(subset=["region", "sector"])
    tab = sub.pivot_table(index="region", columns="sector", values="w", aggfunc="sum", fill_value=0.0)
    if regions is not None:
        tab = tab.reindex(pd.Index(list(regions), name="region").union(tab.index), fill_value=0.0)
    tab.index.name = region
    tab.columns.name = "sector"
    return tab.astype(float)


def hhi(shares) -> float:
    """Herfindahl-Hirschman index of shares (normalised to sum to 1 first); NaN if all are 0.

    >>> hhi([0.5, 0.5]), hhi([1, 0, 0]), hhi([2, 1, 1])
    (0.5, 1.0, 0.375)
    """
    a = np.asarray(shares, dtype=float)
    total = a.sum()
    if not total > 0:
        return float("nan")
    a = a / total
    return float((a * a).sum())


def location_quotients(enterprises: pd.DataFrame, *, region: str = "county_code", basis: str = "employment",
                       regions: Sequence | None = None) -> pd.DataFrame:
    """LQ of every region x sector: the sector's share in the region over its share in the province.

    Returns a long DataFrame with ``region``, ``sector``, ``location_quotient``, ``basis``, the
    region-sector amount ``value`` and the region's total ``region_total``. Regions with no activity
    at all are left out (their LQ is undefined). With ``basis='employment'`` the region-total-weighted
    mean of a sector's LQs is exactly 1.

    Examples
    --------
    County A: 80 textile + 20 machinery jobs; county B: 20 textile + 80 machinery. Province: 50/50.

    >>> e = pd.DataFrame({"county_code": ["A", "A", "B", "B"], "sector": ["textiles", "machinery"] * 2,
    ...                   "employees": [80, 20, 20, 80]})
    >>> location_quotients(e)["location_quotient"].tolist()
    [0.4, 1.6, 1.6, 0.4]
    """
    tab = _table(enterprises, region, basis, regions)
    region_total = tab.sum(axis=1)
    sector_share = tab.sum(axis=0) / tab.values.sum() if tab.values.sum() > 0 else tab.sum(axis=0) * np.nan
    tab = tab[region_total > 0]
    lq = tab.div(region_total[region_total > 0], axis=0).div(sector_share, axis=1)
    out = lq.stack().rename("location_quotient").reset_index()
    out["value"] = tab.stack().to_numpy()
    out["region_total"] = out[region].map(region_total)
    out["basis"] = basis
    return out[[region, "sector", "location_quotient", "basis", "value", "region_total"]]


def sector_hhi(enterprises: pd.DataFrame, *, region: str = "county_code", basis: str = "employment") -> pd.Series:
    """HHI of each sector's distribution over regions (1 = all in one county; 1/K = even over K)."""
    tab = _table(enterprises, region, basis, None)
    return tab.apply(lambda col: hhi(col.to_numpy()), axis=0).rename("hhi")


def park_sector_hhi(enterprises: pd.DataFrame, *, basis: str = "employment") -> pd.DataFrame:
    """Sector-mix HHI of each park (1 = single-sector specialty park; 1/11 = even mix of all sectors).

    Columns: ``park_id``, ``hhi``, ``n_sectors`` (present), ``dominant_sector``, ``dominant_share``,
    ``total``. Enterprises outside parks (``park_id`` missing) are ignored.
    """
    require_columns(enterprises, ["park_id", "sector"])
    inside = enterprises[enterprises["park_id"].notna()]
    tab = _table(inside, "park_id", basis, None)
    total = tab.sum(axis=1)
    tab = tab[total > 0]
    shares = tab.div(total[total > 0], axis=0)
    out = pd.DataFrame({
        "hhi": (shares**2).sum(axis=1),
        "n_sectors": (tab > 0).sum(axis=1).astype(int),
        "dominant_sector": shares.idxmax(axis=1) if len(shares) else pd.Series(dtype=object),
        "dominant_share": shares.max(axis=1),
        "total": total[total > 0],
    })
    out.index.name = "park_id"
    return out.reset_index()


def _plant_herfindahl(frame: pd.DataFrame) -> pd.Series:
    w = _weights(frame, "employment")
    g = pd.DataFrame({"sector": frame["sector"], "w": w})
    tot = g.groupby("sector")["w"].transform("sum")
    z2 = (g["w"] / tot) ** 2
    return z2.groupby(g["sector"]).sum().rename("H")


def ellison_glaeser(enterprises: pd.DataFrame, *, region: str = "county_code",
                    regions: Sequence | None = None) -> pd.DataFrame:
    """EG (1997) and Maurel-Sedillot (1999) gammas of every sector over regions, by employment.

    Returns a DataFrame indexed by sector with ``G`` (raw geographic concentration), ``H`` (plant
    Herfindahl), ``sum_x2``, ``ellison_glaeser_gamma``, ``maurel_sedillot_gamma``, ``plants``.
    Roughly: gamma < 0.02 weak, 0.02-0.05 moderate, > 0.05 strong agglomeration (EG 1997, p. 907).

    Examples
    --------
    Two equal counties; one sector with four equal plants all in county A: x = (.5, .5), s = (1, 0),
    G = 0.5, H = 0.25, gamma = (0.5 / 0.5 - 0.25) / 0.75 = 1.

    >>> e = pd.DataFrame({"county_code": ["A"] * 4 + ["A", "B"], "sector": ["textiles"] * 4 + ["machinery"] * 2,
    ...                   "employees": [10, 10, 10, 10, 0, 40]})
    >>> round(float(ellison_glaeser(e).loc["textiles", "ellison_glaeser_gamma"]), 12)
    1.0
    """
    tab = _table(enterprises, region, "employment", regions)
    total = tab.values.sum()
    if not total > 0:
        raise MetricsError("eg.no_employment")
    x = tab.sum(axis=1) / total
    sx2 = float((x**2).sum())
    s = tab.div(tab.sum(axis=0).replace(0, np.nan), axis=1)
    G = s.sub(x, axis=0).pow(2).sum(axis=0)
    H = _plant_herfindahl(enterprises.dropna(subset=[region, "sector"])).reindex(tab.columns)
    plants = enterprises.dropna(subset=[region]).groupby("sector").size().reindex(tab.columns).fillna(0).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        eg = (G / (1 - sx2) - H) / (1 - H)
        ms = (((s**2).sum(axis=0) - sx2) / (1 - sx2) - H) / (1 - H)
    out = pd.DataFrame({"G": G, "H": H, "sum_x2": sx2, "ellison_glaeser_gamma": eg,
                        "maurel_sedillot_gamma": ms, "plants": plants})
    # no employment, or a single plant (H = 1): the index is undefined
    out.loc[(tab.sum(axis=0) <= 0) | (out["H"] >= 1 - 1e-12), ["ellison_glaeser_gamma", "maurel_sedillot_gamma"]] = np.nan
    out.index.name = "sector"
    return out


def coagglomeration(enterprises: pd.DataFrame, *, region: str = "county_code",
                    sectors: Sequence[str] | None = None) -> pd.DataFrame:
    """Pairwise co-agglomeration gamma^c (Ellison, Glaeser and Kerr 2010) for every sector pair.

    Long DataFrame with ``sector_a``, ``sector_b`` (a < b), ``coagglomeration``; positive values
    mean the two sectors are over-represented in the same counties (e.g. suppliers and customers).
    """
    tab = _table(enterprises, region, "employment", None)
    if sectors is not None:
        tab = tab.reindex(columns=list(sectors), fill_value=0.0)
    x = tab.sum(axis=1) / tab.values.sum()
    dev = tab.div(tab.sum(axis=0).replace(0, np.nan), axis=1).sub(x, axis=0)
    m = dev.T.fillna(0).to_numpy() @ dev.fillna(0).to_numpy() / (1 - float((x**2).sum()))
    names = list(tab.columns)
    rows = [(names[a], names[b], float(m[a, b])) for a in range(len(names)) for b in range(a + 1, len(names))]
    return pd.DataFrame(rows, columns=["sector_a", "sector_b", "coagglomeration"])
