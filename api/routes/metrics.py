"""``GET /metrics`` and ``GET /metrics/{name}``: clustering metrics by sector and county.

The JSON is :func:`parks.metrics.report.compute_metrics` (all parts) or one of its parts, the same
shapes as ``parkplan metrics --json`` (documented in the OpenAPI schema by :class:`MetricsDocument`
and :class:`MetricsPart`). Analyst role or higher (the per-mu part lists enterprises).
Every computation is given the app's one :class:`parks.metrics.report.MetricsContext`
(:meth:`api.state.AppState.metrics_context`), so the joins, projections and county weights are computed once
per server, not per request. Results are cached per (dataset version, part, sector, county, permutations,
simulations) in the app's metrics cache (:class:`api.cache.LockedCache`: bounded, each key computed once
while concurrent requests for it wait), and at most two computations run at once. The full report with the
default parameters is computed in the background at start-up (:func:`warm`).

Every parameter is checked before anything is computed: the ranges are in the schema (FastAPI
answers 422), and a county code the dataset does not have is 404. ``permutations`` is at least 19
(with fewer, no pseudo p-value can reach 0.05) and at most 9,999; ``simulations`` (Ripley's CSR
envelope, the expensive part: about 0.1 s per simulation on 3,000 enterprises) at most 99, which gives the
usual 2 % two-sided envelope; larger runs are for the command line (``parkplan metrics``).
"""

from __future__ import annotations

import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from geodata.schema import SECTOR_IDS
from parks.metrics import report as r

from ..deps import AnalystUser, StateDep
from ..problems import NotFound
from ..shared_compute import json_codec
from ..state import AppState

router = APIRouter(tags=["metrics"])

PART_NAMES = ("location_quotients", "sectors", "lisa", "hotspots", "clusters", "park_capture", "ripley", "per_mu",
              "land_intensity")  # parks.metrics.report.METRIC_KEYS (a test keeps them equal)
MIN_PERMUTATIONS, MAX_PERMUTATIONS = 19, 9999
MAX_SIMULATIONS = 99

Sector = Annotated[Literal[SECTOR_IDS] | None, Query(description="a sector id")]  # type: ignore[valid-type]
County = Annotated[str | None, Query(pattern=r"^[0-9]{6}$", description="a 6-digit county code of the dataset")]
Permutations = Annotated[int, Query(ge=MIN_PERMUTATIONS, le=MAX_PERMUTATIONS,
                                    description="permutations for Moran / LISA / Gi* pseudo p-values (at least 19: "
                                                "with fewer, no p-value can reach 0.05)")]
Simulations = Annotated[int, Query(ge=0, le=MAX_SIMULATIONS,
                                   description="CSR simulations for Ripley's envelope (0 skips it; at most 99 here, "
                                               "more with `parkplan metrics`)")]
PartName = Annotated[str, Path(description="one part of the metrics document",
                               json_schema_extra={"enum": list(PART_NAMES)})]

# --- the documented shapes (parks.metrics.report's rows; numbers may be null where undefined) -------------

Num = float | None
Int = int | None


class _Row(BaseModel):
    model_config = ConfigDict(extra="allow")


class LocationQuotientRow(_Row):
    county_code: str
    sector: str
    location_quotient: Num
    basis: str
    value: Num


class SectorRow(_Row):
    sector: str
    enterprises: Int
    employees: Num
    hhi: Num
    ellison_glaeser_gamma: Num
    maurel_sedillot_gamma: Num
    plant_herfindahl: Num
    clark_evans_r: Num
    clark_evans_z: Num
    clark_evans_p: Num
    clark_evans_n: Int
    morans_i: Num
    morans_p_sim: Num


class LisaRow(_Row):
    county_code: str
    sector: str
    Is: Num
    quadrant: str | None
    p_sim: Num
    density_per_km2: Num


class HotspotRow(_Row):
    county_code: str
    sector: str
    Gs: Num
    z: Num
    p_sim: Num
    spot: str | None
    density_per_km2: Num


class ClusterRow(_Row):
    cluster_id: int
    method: str
    n_enterprises: Int
    employees: Num
    area_km2: Num
    dominant_sector: str | None
    dominant_share: Num
    composition: dict[str, int]
    park_ids: list[str]
    share_in_parks: Num
    lon: Num
    lat: Num
    hull: dict[str, Any] | None = Field(description="the cluster's convex hull (GeoJSON geometry, WGS 84)")


class ParkCaptureRow(_Row):
    group: str
    by: str
    enterprises: Int
    share_enterprises: Num
    share_employees: Num
    share_revenue: Num
    share_investment: Num
    in_parks_enterprises: Int
    in_parks_employees: Num
    in_parks_revenue: Num
    in_parks_investment: Num


class RipleySection(_Row):
    distances: list[Num]
    K: list[Num]
    L: list[Num]
    K_low: list[Num] | None
    K_high: list[Num] | None
    L_low: list[Num] | None
    L_high: list[Num] | None
    n: Int
    area_m2: Num
    edge_correction: str
    simulations: int
    envelope_low: list[Num] | None
    envelope_high: list[Num] | None
    sector: str | None
    county_code: str | None
    units: dict[str, str]


class PerMuRow(_Row):
    enterprise_id: str
    score: Num
    class_: str | None = Field(alias="class")
    sector: str | None
    county_code: str | None
    park_id: str | None
    mu: Num
    tax_per_mu: Num
    va_per_mu: Num
    va_per_tce: Num
    rd_intensity: Num
    labour_productivity: Num


class LandIntensityRow(_Row):
    park_id: str
    name: str | None
    county_code: str | None
    supply_rate: Num
    built_rate: Num
    floor_area_ratio: Num
    building_density: Num
    investment_per_ha: Num
    tax_per_ha: Num
    output_per_ha: Num
    score: Num
    rank: Int
    sector_mix_hhi: Num
    dominant_sector: str | None


class MetricsDocument(BaseModel):
    """Every part (what ``parkplan metrics --json`` prints)."""

    model_config = ConfigDict(extra="forbid")
    location_quotients: list[LocationQuotientRow]
    sectors: list[SectorRow]
    lisa: list[LisaRow]
    hotspots: list[HotspotRow]
    clusters: list[ClusterRow]
    park_capture: list[ParkCaptureRow]
    ripley: RipleySection
    per_mu: list[PerMuRow]
    land_intensity: list[LandIntensityRow]


class MetricsPart(BaseModel):
    """Exactly one part of :class:`MetricsDocument`, under its name."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1, "maxProperties": 1})
    location_quotients: list[LocationQuotientRow] = None  # type: ignore[assignment]
    sectors: list[SectorRow] = None  # type: ignore[assignment]
    lisa: list[LisaRow] = None  # type: ignore[assignment]
    hotspots: list[HotspotRow] = None  # type: ignore[assignment]
    clusters: list[ClusterRow] = None  # type: ignore[assignment]
    park_capture: list[ParkCaptureRow] = None  # type: ignore[assignment]
    ripley: RipleySection = None  # type: ignore[assignment]
    per_mu: list[PerMuRow] = None  # type: ignore[assignment]
    land_intensity: list[LandIntensityRow] = None  # type: ignore[assignment]


def _parts():
    return {
        "location_quotients": lambda ds, s, c, p, n: r.location_quotient_rows(ds, s, c),
        "sectors": lambda ds, s, c, p, n: r.sector_rows(ds, s, c, permutations=p),
        "lisa": lambda ds, s, c, p, n: r.lisa_rows(ds, s, c, permutations=p),
        "hotspots": lambda ds, s, c, p, n: r.hotspot_rows(ds, s, c, permutations=p),
        "clusters": lambda ds, s, c, p, n: r.cluster_rows(ds, s, c),
        "park_capture": lambda ds, s, c, p, n: r.park_capture_rows(ds, s, c),
        "ripley": lambda ds, s, c, p, n: r.ripley_section(ds, s, c, simulations=n),
        "per_mu": lambda ds, s, c, p, n: r.per_mu_rows(ds, s, c),
        "land_intensity": lambda ds, s, c, p, n: r.land_intensity_rows(ds, s, c),
    }


_COMPUTING = threading.BoundedSemaphore(2)  # at most two metric computations at once (the rest wait)


def _cached(state: AppState, key: tuple, compute):
    """``compute()`` once per key in the app's metrics cache (bounded; concurrent requests for a key wait for
    its one computation), at most two computations at once (API4)."""

    return state.metrics.get_or_compute(state.key(*key), _limited(compute))


def _limited(compute):
    def limited():
        with _COMPUTING:
            return compute()

    return limited


def _check_county(state: AppState, county: str | None) -> None:
    """404 for a county code the dataset does not have (before anything is computed)."""
    if county is None:
        return
    codes = state.dataset.counties["code"].astype(str)
    if not (codes == county).any():
        raise NotFound(f"county {county!r} not found; accepted: the 6-digit codes of the dataset's counties "
                       "(GET /collections/counties/items)")


def full_report(state: AppState, sector=None, county=None, permutations: int = 999, simulations: int = 99) -> dict:
    """The whole metrics document, cached."""
    def compute() -> dict:
        ctx = state.metrics_context()
        return r.jsonable(r.compute_metrics(ctx, sector, county, permutations=permutations, simulations=simulations))

    params = ("metrics", "*", sector, county, permutations, simulations)
    encode, decode = json_codec()
    # once for every worker process: the JSON document read from the review database if another worker made it
    # (a worker waiting for another's computation does not hold one of the two computing slots)
    return state.metrics.get_or_compute(state.key(*params),
                                        lambda: state.shared_value(params, _limited(compute), encode, decode))


def warm(state: AppState) -> None:
    """Compute the default report (every sector and county, default parameters) into the cache."""
    full_report(state)


_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "a county code the dataset does not have, or an unknown metric name"}}


@router.get("/metrics", summary="Every clustering metric (optionally for one sector and/or county)",
            response_model=None, responses={200: {"model": MetricsDocument}, **_NOT_FOUND})
def all_metrics(state: StateDep, _user: AnalystUser, sector: Sector = None, county: County = None,
                permutations: Permutations = 999, simulations: Simulations = 99) -> dict[str, Any]:
    _check_county(state, county)
    return full_report(state, sector, county, permutations, simulations)


@router.get("/metrics/{name}", summary="One part of the metrics document", response_model=None,
            responses={200: {"model": MetricsPart}, **_NOT_FOUND})
def one_metric(state: StateDep, _user: AnalystUser, name: PartName, sector: Sector = None, county: County = None,
               permutations: Permutations = 999, simulations: Simulations = 99) -> Any:
    if name not in PART_NAMES:
        raise NotFound(f"metric {name!r} not found; accepted: {', '.join(PART_NAMES)}")
    _check_county(state, county)
    full = state.metrics.get(state.key("metrics", "*", sector, county, permutations, simulations))
    if full is not None and name in full:  # the whole report is there (computed at start-up): its part
        return {name: full[name]}
    parts = _parts()
    ctx = state.metrics_context()
    return _cached(state, ("metrics", name, sector, county, permutations, simulations),
                   lambda: {name: r.jsonable(parts[name](ctx, sector, county, permutations, simulations))})
