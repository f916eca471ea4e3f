"""``GET /plan/indicators`` and ``GET /plan/projects``: monitoring the plan (analyst role or higher).

The JSON is :func:`parks.monitoring.report.plan_report`'s, the same as ``parkplan plan report --json``
under ``indicators`` and ``projects``. Targets come from ``$PARKPLAN_TARGETS`` (a TOML or CSV targets
file), else the plan's own built-in file; the file is read again when it changes (its modification time
and size), so an edited target shows without a restart. A targets file with a problem is a 500 whose
``detail`` lists the problems by line. Results are cached per targets file and parameters (bounded).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict

from geodata.targets import TargetsError, builtin_targets_path, load_targets
from parks.monitoring.indicators import compute_indicators
from parks.monitoring.report import default_as_of, projects_section

from ..deps import AnalystUser
from ..problems import NotFound, ProblemError, coded_members

__all__ = ["router", "plan_cached", "app_targets", "indicator_report", "projects_document", "TARGETS_ENV"]

router = APIRouter(tags=["plan"])
TARGETS_ENV = "PARKPLAN_TARGETS"


class TargetsUnavailable(ProblemError):
    status = 500


# --- models ------------------------------------------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(extra="allow")


class TargetStatus(_Row):
    id: str
    indicator: str
    dimension: Literal["money", "share", "count"]
    unit: str
    label_zh: str
    label_en: str
    section: str
    quote: str
    base_year: int
    base_value: float | None
    target_year: int
    target_value: float
    path: str
    comparison: str
    note: str
    year: int | None = None
    value: float | None = None
    expected: float | None = None
    gap: float | None = None
    on_track: bool | None = None
    progress: float | None = None


class IndicatorRow(_Row):
    target_id: str
    indicator: str
    level: Literal["province", "city", "county", "less_developed"]
    group: str
    group_name: str | None = None
    year: int
    value: float | None
    target: float | None
    gap: float | None
    on_track: bool | None


class IndicatorsDocument(BaseModel):
    source: Literal["fai", "projects"]
    years: list[int]
    year: int | None
    plan: dict[str, Any]
    targets_file: str
    targets: list[TargetStatus]
    rows: list[IndicatorRow]


class LessDevelopedRow(_Row):
    year: int | None
    projects: int
    investment: float
    investment_less_developed: float
    share_investment: float | None
    subsidy: float
    subsidy_less_developed: float
    share_subsidy: float | None


class OverdueRow(_Row):
    project_id: str
    enterprise_id: str
    overdue: Literal["open", "late"]
    days_late: int
    planned_completion: str | None = None
    actual_completion: str | None = None


class ChainLeaderRow(_Row):
    leader_id: str
    suppliers: int
    same_county: int
    same_city: int
    median_distance_km: float | None
    supplier_projects: int
    supplier_investment: float


class Chains(BaseModel):
    leaders: list[ChainLeaderRow]
    links: list[dict[str, Any]]


class KeyEnterprises(BaseModel):
    counts: dict[str, int]
    by_county: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    total: int


class ProjectsDocument(BaseModel):
    filters: dict[str, Any]
    as_of: str
    count: int
    sums: dict[str, list[dict[str, Any]]]
    less_developed_share: list[LessDevelopedRow]
    overdue_total: int
    overdue: list[OverdueRow]
    chains: Chains
    key_enterprises: KeyEnterprises


# --- shared with the web page ---------------------------------------------------------------------------


def plan_cached(app, key, compute):
    """``compute()`` once per key in the app's report cache (:class:`api.cache.LockedCache`: bounded LRU, keyed by
    the dataset version and ``key``; concurrent requests for a key wait for its one computation)."""
    state = app.state.parkplan
    return state.reports.get_or_compute(state.key(*key), compute)


def app_targets(app):
    """The targets the server holds the data against: ``$PARKPLAN_TARGETS`` or the built-in file; read again
    when the file changes. Returns ``(targets, key)``; ``key`` changes whenever the file does."""
    env = os.environ.get(TARGETS_ENV)
    path = Path(env) if env else builtin_targets_path()
    try:
        st = path.stat()
    except OSError:
        raise TargetsUnavailable(f"the targets file named by {TARGETS_ENV} does not exist") from None
    key = ("targets", str(path), st.st_mtime_ns, st.st_size)
    try:
        return plan_cached(app, key, lambda: load_targets(path)), key
    except TargetsError as exc:
        raise TargetsUnavailable(f"the server's targets file is not valid: {exc}",
                                 **coded_members(exc, "服务器的目标文件无效：")) from None


def indicator_report(app, *, year: int | None = None, source: str = "auto"):
    """``(IndicatorReport, targets)`` for the app's dataset and targets, cached."""
    targets, key = app_targets(app)
    rep = plan_cached(app, key + ("indicators", year, source),
                  lambda: compute_indicators(app.state.dataset, targets, year=year, source=source))
    return rep, targets


def projects_document(app, *, as_of: dt.date | None, year: int | None = None, county_code: str | None = None,
                      park_id: str | None = None, status: str | None = None, key: str | None = None,
                      limit: int | None = None, report_year: int | None = None) -> dict:
    """The ``projects`` part of the report, cached. ``as_of`` None: 31 December of ``report_year`` (else of
    the indicators' last year)."""
    ds = app.state.dataset
    if county_code is not None and county_code not in set(ds.counties["code"].astype(str)):
        raise NotFound(f"county_code {county_code!r} is not a county of this dataset")
    if park_id is not None and park_id not in set(ds.parks["park_id"].astype(str)):
        raise NotFound(f"park_id {park_id!r} is not a park of this dataset")
    if as_of is None:
        if report_year is None:
            rep, _ = indicator_report(app)
            report_year = rep.year
        as_of = default_as_of(report_year)
    return plan_cached(app, ("projects", as_of, year, county_code, park_id, status, key, limit),
                   lambda: projects_section(ds, as_of=as_of, year=year, county_code=county_code, park_id=park_id,
                                            status=status, key=key, limit=limit))


# --- routes ----------------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value):
    """Only ``YYYY-MM-DD`` (pydantic alone would also take a number of seconds since 1970)."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError(f"{value!r} is not a date; accepted: YYYY-MM-DD")
    return value


Year = Annotated[int | None, Query(ge=1900, le=2100, description="report year (default: the last year with data)")]
Source = Annotated[Literal["auto", "fai", "projects"], Query(description="technical-transformation investment from "
                                                                         "the FAI layer, the projects, or auto")]


_TARGETS_500: dict[int | str, dict[str, Any]] = {500: {"description": "the server's targets file ($PARKPLAN_TARGETS) has problems, listed by line"}}


@router.get("/plan/indicators", response_model=IndicatorsDocument, summary="The plan's targets against the data",
            responses=_TARGETS_500)
def plan_indicators(
    request: Request,
    _user: AnalystUser,
    year: Year = None,
    source: Source = "auto",
    level: Annotated[Literal["province", "city", "county", "less_developed"] | None,
                     Query(description="only the rows of this level")] = None,
    group: Annotated[str | None, Query(max_length=64, description="only the rows of this group (a county code, a "
                                                                  "city name, less_developed/other, province)")] = None,
):
    """Every target's indicator for every year, by province, city, county and less-developed vs other: value,
    target path, gap and whether it is on track; per target the report year's status and progress."""
    rep, _ = indicator_report(request.app, year=year, source=source)
    return rep.to_dict(level=level, group=group)


@router.get("/plan/projects", response_model=ProjectsDocument, summary="Projects, subsidies, chains, key enterprises",
            responses={404: {"description": "the county_code or park_id is not in the dataset"}, **_TARGETS_500})
def plan_projects(
    request: Request,
    _user: AnalystUser,
    year: Annotated[int | None, Query(ge=1900, le=2100, description="only projects starting in this year")] = None,
    county_code: Annotated[str | None, Query(pattern=r"^\d{6}$", description="only this county's projects")] = None,
    park_id: Annotated[str | None, Query(max_length=64, description="only this park's projects")] = None,
    status: Annotated[Literal["planned", "in_progress", "completed", "cancelled"] | None, Query()] = None,
    key: Annotated[Literal["key_enterprise", "small_giant"] | None,
                   Query(description="key enterprises listed: 五个一批 or 小型巨人 (default: both)")] = None,
    as_of: Annotated[dt.date | None, BeforeValidator(_iso_date), Query(description="date overdue projects are counted at (default: 31 December "
                                                       "of the last year with data)")] = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000, description="most overdue projects and key enterprises "
                                                                     "listed (default: all)")] = None,
):
    """Sums of investment and subsidy by year, county, park, sector and funding; the less-developed share
    (plan 四.八); overdue projects; chain leaders and their suppliers (四.四.1); key enterprises."""
    return projects_document(request.app, as_of=as_of, year=year, county_code=county_code, park_id=park_id,
                             status=status, key=key, limit=limit)
