"""All clustering metrics for a dataset, sector and county, as one JSON-ready document.

:func:`compute_metrics` returns a dict with exactly the keys of the public contract (the CLI's
``parkplan metrics --json`` and the API's ``GET /metrics/...`` return the same shapes):
``location_quotients``, ``sectors``, ``lisa``, ``hotspots``, ``clusters``, ``park_capture``,
``ripley``, ``per_mu``, ``land_intensity``. Each key also has its own function
(``location_quotient_rows(ds, sector, county)`` ...) so an endpoint can compute one part only.

Filters. ``sector`` restricts every part to one of the eleven sectors. ``county`` restricts the
enterprise-level parts to that county: clusters, park capture, the per-mu rows, the land-intensity
rows (its parks), and Ripley's K and Clark-Evans use the county polygon as the study area. The
county-level statistics (LQ, HHI, EG and MS gamma, Moran, LISA, Gi*) describe the distribution over
all counties, so they are always computed province-wide and only their rows are filtered; per-mu
classes and land-intensity ranks are likewise provincial, so a filter never changes a value.

Everything is computed in the dataset's metric CRS (``ds.metric_crs``); hulls are returned as
GeoJSON in WGS 84. Randomness is seeded per sector from ``seed``, so a sector's numbers are the
same with or without the sector filter.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.dataset import Dataset
from geodata.jsonable import jsonable
from geodata.schema import SECTOR_IDS

from ._common import MetricsError, area_polygon, check_county, check_sector, require_columns, to_metric
from .autocorrelation import county_weights, getis_ord, local_moran, morans_i, sector_density
from .capture import park_capture
from .clark_evans import clark_evans
from .concentration import ellison_glaeser, location_quotients, park_sector_hhi, sector_hhi
from .land_intensity import land_intensity
from .per_mu import class_distribution, per_mu_evaluation
from .ripley import EDGE_CORRECTIONS, default_distances, ripley
from .spatial_clusters import METHODS, spatial_clusters

__all__ = [
    "METRIC_KEYS",
    "MetricsContext",
    "compute_metrics",
    "location_quotient_rows",
    "sector_rows",
    "lisa_rows",
    "hotspot_rows",
    "cluster_rows",
    "park_capture_rows",
    "ripley_section",
    "per_mu_rows",
    "per_mu_distribution_rows",
    "land_intensity_rows",
    "jsonable",
]

METRIC_KEYS = ("location_quotients", "sectors", "lisa", "hotspots", "clusters", "park_capture", "ripley",
               "per_mu", "land_intensity")


def _records(frame: pd.DataFrame) -> list[dict]:
    return jsonable(frame.to_dict(orient="records"))


def _sector_seed(seed: int, sector: str | None) -> np.random.SeedSequence:
    key = SECTOR_IDS.index(sector) + 1 if sector in SECTOR_IDS else 0
    return np.random.SeedSequence([int(seed), key])


def _seed_int(seed: int, sector: str | None, salt: int = 0) -> int:
    return int(np.random.default_rng(_sector_seed(seed, sector)).integers(2**31 - 1) ^ salt) % (2**31 - 1)


class ResultCache(Protocol):
    """What :class:`MetricsContext` needs of its cache: a ``dict``, or a bounded thread-safe cache."""

    def get(self, key: Hashable, default: Any = None, /) -> Any: ...

    def __setitem__(self, key: Hashable, value: Any, /) -> None: ...


@dataclass
class MetricsContext:
    """One dataset, prepared and projected once, shared by the parts of a report.

    Every ``*_rows`` function and :func:`compute_metrics` accept either a Dataset or a context; an
    API that serves many requests on one dataset can keep one context and pass it in, so the joins,
    projections and county weights are computed once.
    """

    ds: Dataset
    # results of the expensive parts (envelopes): anything with ``get(key)`` and ``[key] = value`` (a dict,
    # or a bounded thread-safe cache such as the API's); read once with ``get``, never ``in`` then ``[]``, so a
    # cache that evicts between two calls cannot raise ``KeyError``
    cache: ResultCache = field(default_factory=lambda: dict[Hashable, Any](), repr=False)

    @cached_property
    def enterprises(self) -> gpd.GeoDataFrame:
        ent = self.ds.enterprises
        if "park_id" not in ent.columns or "county_code" not in ent.columns:
            from parks.joins import prepare

            ent = prepare(self.ds).enterprises
        return ent

    @cached_property
    def crs(self):
        return self.ds.metric_crs

    @cached_property
    def enterprises_m(self) -> gpd.GeoDataFrame:
        return to_metric(self.enterprises, self.crs)

    @cached_property
    def parks_m(self) -> gpd.GeoDataFrame:
        return to_metric(self.ds.parks, self.crs)

    @cached_property
    def province_m(self):
        return area_polygon(self.ds.province, self.crs)

    @cached_property
    def county_codes(self) -> list[str]:
        return self.ds.counties["code"].astype(str).tolist()

    @cached_property
    def weights(self):
        return county_weights(to_metric(self.ds.counties, self.crs))

    @cached_property
    def county_area_km2(self) -> np.ndarray:
        return to_metric(self.ds.counties, self.crs).geometry.area.to_numpy() / 1e6

    def density(self, sector: str) -> pd.Series:
        return sector_density(self.enterprises, self.ds.counties, self.crs, sector=sector, area_km2=self.county_area_km2)

    def study_area(self, county: str | None):
        if county is None:
            return self.province_m
        return area_polygon(self.ds.counties[self.ds.counties["code"].astype(str) == county], self.crs)

    def filtered(self, sector: str | None, county: str | None, metric: bool = False) -> gpd.GeoDataFrame:
        ent = self.enterprises_m if metric else self.enterprises
        mask = np.ones(len(ent), dtype=bool)
        if sector is not None:
            mask &= (ent["sector"] == sector).to_numpy()
        if county is not None:
            mask &= (ent["county_code"].astype(str) == county).to_numpy()
        return ent[mask]

    def sectors(self, sector: str | None) -> list[str]:
        if sector is not None:
            return [sector]
        present = set(self.enterprises["sector"].dropna())
        return [s for s in SECTOR_IDS if s in present]


def _context(ds: Dataset | MetricsContext, sector, county) -> tuple[MetricsContext, str | None, str | None]:
    ctx = ds if isinstance(ds, MetricsContext) else MetricsContext(ds)
    sector = check_sector(sector)
    county = check_county(county, ctx.county_codes)
    return ctx, sector, county


def location_quotient_rows(ds: Dataset | MetricsContext, sector: str | None = None, county: str | None = None, *,
                           bases: tuple[str, ...] = ("employment", "count")) -> list[dict]:
    """LQ rows (``county_code``, ``sector``, ``location_quotient``, ``basis``, ``value``) for both bases."""
    ctx, sector, county = _context(ds, sector, county)
    parts = [location_quotients(ctx.enterprises, basis=b, regions=ctx.county_codes) for b in bases]
    lq = pd.concat(parts, ignore_index=True).drop(columns="region_total")
    lq["county_code"] = lq["county_code"].astype(str)
    if sector is not None:
        lq = lq[lq["sector"] == sector]
    if county is not None:
        lq = lq[lq["county_code"] == county]
    return _records(lq)


def sector_rows(ds: Dataset | MetricsContext, sector: str | None = None, county: str | None = None, *, permutations: int = 999,
                seed: int = 0, clark_evans_correction: str = "none") -> list[dict]:
    """Per sector: ``hhi``, ``ellison_glaeser_gamma``, ``maurel_sedillot_gamma`` (over counties),
    ``clark_evans_r``/``_z``/``_p`` (in the study area), ``morans_i``/``morans_p_sim`` (employment density)."""
    ctx, sector, county = _context(ds, sector, county)
    ent = ctx.enterprises
    h = sector_hhi(ent)
    eg = ellison_glaeser(ent, regions=ctx.county_codes)
    area = ctx.study_area(county)
    rows = []
    for s in ctx.sectors(sector):
        pts = ctx.filtered(s, county, metric=True)
        ce = clark_evans(pts, area, correction=clark_evans_correction)
        y = ctx.density(s)
        mi = morans_i(y.to_numpy(), ctx.weights, permutations=permutations, seed=_sector_seed(seed, s))
        rows.append({
            "sector": s,
            "enterprises": int((ent["sector"] == s).sum()),
            "employees": float(pd.to_numeric(ent.loc[ent["sector"] == s, "employees"], errors="coerce").sum()),
            "hhi": h.get(s, np.nan),
            "ellison_glaeser_gamma": eg["ellison_glaeser_gamma"].get(s, np.nan),
            "maurel_sedillot_gamma": eg["maurel_sedillot_gamma"].get(s, np.nan),
            "plant_herfindahl": eg["H"].get(s, np.nan),
            "clark_evans_r": ce.R,
            "clark_evans_z": ce.z,
            "clark_evans_p": ce.p_value,
            "clark_evans_n": ce.n,
            "morans_i": mi.I,
            "morans_p_sim": mi.p_sim,
        })
    return jsonable(rows)


def _local_rows(ds: Dataset | MetricsContext, sector, county, fn, permutations, seed, alpha, fdr, salt) -> pd.DataFrame:
    ctx, sector, county = _context(ds, sector, county)
    parts = []
    for s in ctx.sectors(sector):
        y = ctx.density(s)
        res = fn(y.to_numpy(), ctx.weights, permutations=permutations, seed=_seed_int(seed, s, salt), alpha=alpha, fdr=fdr)
        res.insert(1, "sector", s)
        res["density_per_km2"] = y.to_numpy()
        parts.append(res)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if county is not None and len(out):
        out = out[out["county_code"] == county]
    return out


def lisa_rows(ds: Dataset | MetricsContext, sector: str | None = None, county: str | None = None, *, permutations: int = 999, seed: int = 0,
              alpha: float = 0.05, fdr: bool = True) -> list[dict]:
    """Local Moran per county and sector: ``county_code``, ``sector``, ``quadrant`` (HH/HL/LH/LL/ns), ``p_sim``, ``Is``."""
    out = _local_rows(ds, sector, county, local_moran, permutations, seed, alpha, fdr, salt=1)
    return _records(out.drop(columns=["significant"], errors="ignore"))


def hotspot_rows(ds: Dataset | MetricsContext, sector: str | None = None, county: str | None = None, *, permutations: int = 999, seed: int = 0,
                 alpha: float = 0.05, fdr: bool = True) -> list[dict]:
    """Getis-Ord Gi* per county and sector: ``county_code``, ``sector``, ``spot`` (hot/cold/ns), ``z``, ``p_sim``."""
    return _records(_local_rows(ds, sector, county, getis_ord, permutations, seed, alpha, fdr, salt=2))


def cluster_rows(ds: Dataset | MetricsContext, sector: str | None = None, county: str | None = None, *, method: str = "dbscan",
                 eps_m: float = 1000.0, min_samples: int = 10, min_cluster_size: int = 25) -> list[dict]:
    """Spatial clusters of the (filtered) enterprises, each with its hull as GeoJSON (WGS 84)."""
    ctx, sector, county = _context(ds, sector, county)
    ent = ctx.filtered(sector, county, metric=True)
    cl = spatial_clusters(ent, ctx.parks_m, ctx.crs, method=method, eps_m=eps_m, min_samples=min_samples,
                          min_cluster_size=min_cluster_size)
    wgs = cl.geometry.to_crs(4326)
    cent = cl.geometry.centroid.to_crs(4326)
    rows = _records(pd.DataFrame(cl.drop(columns="geometry")))
    for row, geom, c in zip(rows, wgs, cent, strict=True):
        row["lon"], row["lat"] = float(c.x), float(c.y)
        row["hull"] = shapely.geometry.mapping(geom)
        row["hull"] = jsonable(row["hull"])
    return rows


def park_capture_rows(ds: Dataset | MetricsContext, sector: str | None = None, county: str | None = None) -> list[dict]:
    """Park capture shares, ``by`` = ``all``, ``sector`` and ``county_code`` (rows of the filtered enterprises)."""
    ctx, sector, county = _context(ds, sector, county)
    ent = ctx.filtered(sector, county)
    parts = [park_capture(ent, ctx.ds.projects, by=b) for b in ("all", "sector", "county_code")]
    return _records(pd.concat(parts, ignore_index=True))


def ripley_section(ds: Dataset | MetricsContext, sector: str | None = None, county: str | None = None, *, distances_m=None,
                   simulations: int = 99, seed: int = 0, edge_correction: str = "border", workers: int = 1,
                   progress: Callable[[int], None] | None = None) -> dict:
    """Ripley's K and L of the (filtered) enterprises in the province (or county) polygon, with the
    min/max envelope of ``simulations`` CSR patterns inside that polygon."""
    ctx, sector, county = _context(ds, sector, county)
    key = ("ripley", sector, county, None if distances_m is None else tuple(np.asarray(distances_m, float)),
           simulations, seed, edge_correction)
    hit = ctx.cache.get(key)
    if hit is not None:  # same dataset, same arguments: the simulations would give the same numbers
        return hit
    area = ctx.study_area(county)
    pts = ctx.filtered(sector, county, metric=True)
    r = default_distances(area) if distances_m is None else distances_m
    res = ripley(pts, area, r, simulations=simulations, seed=_sector_seed(seed, sector),
                 edge_correction=edge_correction, workers=workers, progress=progress)
    out = res.to_dict()
    out.update(sector=sector, county_code=county, units={"distances": "m", "K": "m2", "L": "m"})
    value = jsonable(out)
    ctx.cache[key] = value
    return value


def per_mu_rows(ds: Dataset | MetricsContext, sector: str | None = None, county: str | None = None, **kwargs) -> list[dict]:
    """Per-mu score and class of every evaluated enterprise (provincial evaluation, county benchmarks)."""
    ctx, sector, county = _context(ds, sector, county)
    ent = ctx.enterprises
    ev = per_mu_evaluation(ent, **kwargs)
    ev["sector"] = ent.loc[ev.index, "sector"].to_numpy()
    ev["county_code"] = ent.loc[ev.index, "county_code"].astype(str).to_numpy()
    ev["park_id"] = ent.loc[ev.index, "park_id"].to_numpy()
    if sector is not None:
        ev = ev[ev["sector"] == sector]
    if county is not None:
        ev = ev[ev["county_code"] == county]
    cols = ["enterprise_id", "score", "class", "sector", "county_code", "park_id", "mu", "tax_per_mu", "va_per_mu",
            "va_per_tce", "rd_intensity", "labour_productivity"]
    return _records(ev[[c for c in cols if c in ev.columns]])


def per_mu_distribution_rows(ds: Dataset | MetricsContext, sector: str | None = None, county: str | None = None, *, by: str = "park_id",
                             **kwargs) -> list[dict]:
    """Count and share of A/B/C/D enterprises per park (``by='park_id'``) or county (``'county_code'``).

    Classes are those of the provincial evaluation (see :func:`per_mu_rows`); the filters select
    the enterprises counted. With the default rule classes are ranked within each county, so per
    county the shares are fixed by the rule and the per-park view is the informative one.
    """
    if by not in ("park_id", "county_code"):
        raise MetricsError("param.by", value=by, accepted="park_id, county_code")
    ctx, sector, county = _context(ds, sector, county)
    ent = ctx.enterprises
    ev = per_mu_evaluation(ent, **kwargs)
    keep = np.ones(len(ev), dtype=bool)
    if sector is not None:
        keep &= (ent.loc[ev.index, "sector"] == sector).to_numpy()
    if county is not None:
        keep &= (ent.loc[ev.index, "county_code"].astype(str) == county).to_numpy()
    ev = ev[keep]
    ev = ev[ent.loc[ev.index, by].notna().to_numpy()]
    out = class_distribution(ev, ent, by=by)
    out[by] = out[by].astype(str)
    return _records(out)


def _leads(value, sector: str) -> bool:
    if isinstance(value, str):
        return sector in [v.strip() for v in value.split(",")]
    if isinstance(value, list | tuple | np.ndarray):
        return sector in list(value)
    return False


def land_intensity_rows(ds: Dataset | MetricsContext, sector: str | None = None, county: str | None = None) -> list[dict]:
    """TD/T 1029 indicators, score and provincial rank per park (filtered to the county's parks and to
    parks whose leading sectors include ``sector``), with the park's sector-mix HHI and dominant sector."""
    ctx, sector, county = _context(ds, sector, county)
    parks = ctx.ds.parks
    require_columns(parks, ["park_id", "county_code"], what="parks")
    li = land_intensity(parks, ctx.enterprises, ctx.ds.projects)
    meta = parks.set_index(parks["park_id"].astype(str))
    li.insert(2, "county_code", li["park_id"].map(meta["county_code"].astype(str)))
    mix = park_sector_hhi(ctx.enterprises).set_index("park_id")
    mix.index = mix.index.astype(str)
    li["sector_mix_hhi"] = li["park_id"].map(mix["hhi"])  # 1 = one sector (specialised), 1/11 = even mix
    li["dominant_sector"] = li["park_id"].map(mix["dominant_sector"])
    if county is not None:
        li = li[li["county_code"] == county]
    if sector is not None and "leading_sectors" in parks:
        li = li[li["park_id"].map(meta["leading_sectors"]).map(lambda v: _leads(v, sector)).fillna(False).astype(bool)]
    return _records(li)


def compute_metrics(ds: Dataset | MetricsContext, sector: str | None = None, county: str | None = None, *, permutations: int = 999,
                    simulations: int = 99, seed: int = 0, alpha: float = 0.05, fdr: bool = True,
                    distances_m=None, edge_correction: str = "border", cluster_method: str = "dbscan",
                    eps_m: float = 1000.0, min_samples: int = 10, min_cluster_size: int = 25, workers: int = 1,
                    progress: Callable[[int], None] | None = None) -> dict:
    """Every metric for the dataset (prepared with :func:`parks.joins.prepare`, or prepared here).

    Parameters
    ----------
    ds : :class:`geodata.dataset.Dataset`.
    sector, county : optional filters (a sector id; a 6-digit county code); see the module docstring.
    permutations : for Moran, LISA and Gi* p-values (cheap: counties are few).
    simulations : CSR patterns for Ripley's envelope (the expensive part; 0 skips it).
    seed : randomness; the same seed gives the same document.
    alpha, fdr : significance level of the local statistics; Benjamini-Hochberg FDR on by default.
    distances_m : Ripley distances (metres); default 20 steps up to a quarter of the area's shorter
        side, at most 10 km.
    edge_correction : ``'border'`` (default) or ``'none'``.
    cluster_method, eps_m, min_samples, min_cluster_size : spatial clusters (DBSCAN / HDBSCAN).
    workers : threads for the envelope simulations.
    progress : called with 1 after each envelope simulation (the CLI's progress bar).

    Returns
    -------
    dict with exactly the keys :data:`METRIC_KEYS`, JSON-serialisable.
    """
    # the choices among names are refused before any work (they were refused only when their metric's turn came,
    # after the others had been computed: a minute for a mistyped --method)
    if cluster_method not in METHODS:
        raise MetricsError("clusters.method", value=cluster_method, accepted=", ".join(METHODS))
    if edge_correction not in EDGE_CORRECTIONS:
        raise MetricsError("ripley.edge_correction", value=edge_correction, accepted=", ".join(EDGE_CORRECTIONS))
    ctx, sector, county = _context(ds, sector, county)
    if ctx.enterprises.empty:
        raise MetricsError("report.no_enterprises")
    return {
        "location_quotients": location_quotient_rows(ctx, sector, county),
        "sectors": sector_rows(ctx, sector, county, permutations=permutations, seed=seed),
        "lisa": lisa_rows(ctx, sector, county, permutations=permutations, seed=seed, alpha=alpha, fdr=fdr),
        "hotspots": hotspot_rows(ctx, sector, county, permutations=permutations, seed=seed, alpha=alpha, fdr=fdr),
        "clusters": cluster_rows(ctx, sector, county, method=cluster_method, eps_m=eps_m, min_samples=min_samples,
                                 min_cluster_size=min_cluster_size),
        "park_capture": park_capture_rows(ctx, sector, county),
        "ripley": ripley_section(ctx, sector, county, distances_m=distances_m, simulations=simulations, seed=seed,
                                 edge_correction=edge_correction, workers=workers, progress=progress),
        "per_mu": per_mu_rows(ctx, sector, county),
        "land_intensity": land_intensity_rows(ctx, sector, county),
    }
