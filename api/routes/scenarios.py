"""``/scenarios``: the plan's relocation scenarios, the planner's report on each plan, its Excel file
and the map of its flows between counties.

``GET /scenarios``
    the scenarios (urban-core, scattered, coastal-transfer, and ``all``: the joint plan), their
    selection rules, constraints and parameters, and the report's thresholds.
``GET /scenarios/{scenario}/plan``, ``GET /scenarios/all/plan?priority=``
    the plan (one scenario with :func:`parks.suitability.joint.plan_scenario`, or ``all`` with
    :func:`parks.suitability.joint.joint_plan`: every scenario against one pool of free land, in the
    ``priority`` order) and the planner's report on it (:class:`parks.suitability.plan_report.PlanReport`):
    distance bands, own county/city shares, park load, land by scenario, the parks taking the most and
    why, what stays unplaced and why, sanity flags, county-to-county flows.
``GET /scenarios/{scenario}/plan.xlsx``
    the report as a workbook, a sheet per table (:mod:`api.scenario_exports`).
``GET /scenarios/{scenario}/map``
    the flows between counties as an interactive map (:func:`maps.flows_map.flows_map`).

Analyst role or higher (the report names enterprises). A plan takes seconds to minutes: it is
computed once per dataset version, scenario and priority, in a background thread (one at a time, so
that the server's cores stay free for other requests), and kept in the app's plan cache
(:class:`api.cache.LockedCache`); the default plans (each scenario, and the joint plan in the default
order) are started at server start-up (:func:`warm`), so no user waits for them. A request waits for it up to :data:`PLAN_WAIT_S` seconds in the
thread pool (the handlers are plain functions: the event loop never blocks), then answers 503 with
``Retry-After`` while the computation goes on.
"""

from __future__ import annotations

import math
import secrets
from itertools import permutations
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from maps import MapError
from maps.base import render_page
from maps.flows_map import flows_map
from parks.joins import PreparedDataset
from parks.suitability.context import SuitabilityContext
from parks.suitability.joint import DEFAULT_PRIORITY, JointPlan, ScenarioPlan, joint_plan, parse_priority, plan_scenario
from parks.suitability.plan_report import ReportParams, label, report_for_plan
from parks.suitability.scenarios import SCENARIOS, ScenarioParams, scenario_constraints

from ..deps import AnalystUser, StateDep
from ..plan_codec import decode_plan, encode_plan
from ..problems import BadRequest, ProblemError, coded_members
from ..scenario_exports import XLSX_MEDIA_TYPE, plan_workbook
from ..state import AppState
from .maps import _CSP, _TILE_HOSTS, _map_options

router = APIRouter(tags=["scenarios"])

ScenarioName = Literal["urban-core", "scattered", "coastal-transfer"]
ScenarioPath = Annotated[ScenarioName, Path(description="urban-core, scattered or coastal-transfer (the joint plan: "
                                                        "/scenarios/all/...)")]


def _orders() -> list[str]:
    """Every order the joint plan accepts: each scenario at most once, at least one."""
    return [",".join(p) for n in range(len(SCENARIOS), 0, -1) for p in permutations(SCENARIOS, n)]


PRIORITY_PATTERN = "^(?:" + "|".join(_orders()) + ")$"
Priority = Annotated[str | None, Query(max_length=100, pattern=PRIORITY_PATTERN,
                                       description="the joint plan's order of scenarios, comma-separated, each at "
                                                   "most once (default urban-core,coastal-transfer,scattered)")]
Lang = Annotated[Literal["zh", "en"], Query(description="labels: zh (default) or en")]

PLAN_WAIT_S = 120.0  # a request waits this long for a plan being computed, then gets 503 + Retry-After
RETRY_AFTER_S = 10


class PlanComputing(ProblemError):
    status = 503

    def __init__(self, detail: str):
        super().__init__(detail, headers={"Retry-After": str(RETRY_AFTER_S)}, title="Service Unavailable")


@dataclass(frozen=True)
class ComputedPlan:
    """A plan and its report: ``status``/``mip_gap`` of the allocation, ``order`` of the scenarios
    (the joint plan's priority), ``seconds`` it took."""

    scenario: str
    report: Any  # PlanReport
    status: str
    mip_gap: float | None
    order: tuple[str, ...]
    seconds: float


def compute_plan(ds: PreparedDataset, ctx: SuitabilityContext, scenario: str, priority: str | None = None) -> ComputedPlan:
    """Plan ``scenario`` (or ``all``: the joint plan in ``priority`` order) over the prepared dataset
    ``ds`` with the suitability context ``ctx``, and report on it."""
    t0 = time.perf_counter()
    plan: JointPlan | ScenarioPlan
    if scenario == "all":
        joint = plan = joint_plan(ctx, ds.enterprises, priority=parse_priority(priority))
        status, gap, order = joint.status, joint.mip_gap, tuple(joint.order)
    else:
        single = plan = plan_scenario(ctx, ds.enterprises, scenario)
        status, gap, order = single.allocation.status, single.allocation.mip_gap, (scenario,)
    report = report_for_plan(ds, plan)
    return ComputedPlan(scenario, report, status, gap, order, time.perf_counter() - t0)


def _priority_key(scenario: str, priority: str | None) -> tuple[str, ...] | None:
    if scenario != "all":
        if priority:
            raise BadRequest("priority is for the joint plan (scenario 'all') only")
        return None
    return parse_priority(priority or None)  # refuses an unknown or repeated scenario (400)


def plan_future(app: FastAPI, scenario: str, priority: str | None = None) -> Future:
    """The computation of a plan: started in a background thread on first request, shared by every
    later one (a failed computation is started again by the next request)."""
    state: AppState = app.state.parkplan
    return state_plan_future(state, scenario, priority)


def state_plan_future(state: AppState, scenario: str, priority: str | None = None) -> Future:
    order = _priority_key(scenario, priority)

    def compute() -> ComputedPlan:
        with state.plan_lock:  # one plan computation at a time per process
            return compute_plan(state.dataset, state.suitability_context(), scenario,
                                ",".join(order) if order else None)

    def shared() -> ComputedPlan:
        # once for every worker process: read from the review database if another worker computed it (its
        # tables as Arrow streams, api.plan_codec)
        return state.shared_value(("plan", scenario, ",".join(order) if order else None), compute,
                                  encode_plan, decode_plan)

    return state.plans.future(state.key("plan", scenario, order), shared)


def warm(state: AppState) -> None:
    """Start the default plans (each scenario, then the joint plan in the default order) and wait for them."""
    futures = [state_plan_future(state, s) for s in (*SCENARIOS, "all")]
    for fut in futures:
        fut.exception()  # waits; a failure is the next request's to report (and retry)


def get_plan(app: FastAPI, scenario: str, priority: str | None = None, wait: float | None = None) -> ComputedPlan:
    """The computed plan, waiting up to ``wait`` seconds (default :data:`PLAN_WAIT_S`); :class:`PlanComputing`
    (503) if it is not ready by then."""
    fut = plan_future(app, scenario, priority)
    try:
        return fut.result(timeout=PLAN_WAIT_S if wait is None else wait)
    except FutureTimeout:
        raise PlanComputing(f"the {scenario} plan is being computed; ask again in {RETRY_AFTER_S} s") from None


# ------------------------------------------------------------------------------------------- models

Share = float | None


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SummaryRow(_Row):
    scenario: str
    enterprises: int
    assigned: int
    unassigned: int
    assigned_share: Share
    jobs_moved: float
    land_ha: float
    median_km: float | None
    mean_km: float | None
    p90_km: float | None
    max_km: float | None
    own_county_share: Share
    own_city_share: Share
    median_detour_km: float | None = Field(description="median of the moves beyond each firm's nearest feasible "
                                                       "(candidate) park, km; None without candidates")
    detour_share: Share = Field(description="share of placed firms sent over report_params.detour_km beyond it")


class BandRow(_Row):
    scenario: str
    band: str
    from_km: float
    to_km: float | None = Field(description="None: no upper end")
    firms: int
    share: Share
    jobs: float
    land_ha: float


class ParkLoadRow(_Row):
    scenario: str
    park_id: str
    park_name: str | None
    county: str | None
    city: str | None
    free_land_ha: float | None
    land_ha: float
    land_share: Share
    firms: int
    jobs: float
    firm_share: Share
    over_free_land: bool


class ParkLandRow(BaseModel):
    """One park's land by scenario: ``land_<scenario>_ha`` columns (``-`` written ``_``) besides these."""

    model_config = ConfigDict(extra="allow")
    park_id: str
    park_name: str | None
    county: str | None
    free_land_ha: float | None
    land_used_ha: float
    land_left_ha: float | None
    firms: int


class TopParkRow(_Row):
    scenario: str
    rank: int
    park_id: str
    park_name: str | None
    county: str | None
    city: str | None
    firms: int
    firm_share: Share
    jobs: float
    land_ha: float
    land_share: Share
    first_choice_share: Share
    nearest_candidate_share: Share
    nearest_share: Share
    sector_match_share: Share
    land_price: float | None
    land_price_rank: int | None
    parks_in_city: int | None
    top_criteria: str = Field(description="criterion ids, comma-separated")
    why_zh: str
    why_en: str


class UnplacedRow(_Row):
    scenario: str
    reason: str
    firms: int
    share: Share
    jobs: float
    land_ha: float
    examples: str


class FlagRow(_Row):
    scenario: str
    flag: Literal["over_free_land", "median_move", "park_share", "detour", "own_city_share", "own_county_share",
                  "unplaced_share"]
    park_id: str | None
    value: float
    threshold: float
    message_zh: str
    message_en: str


class FlowRow(_Row):
    scenario: str
    origin_county_code: str | None
    origin_county: str | None
    origin_city: str | None
    destination_county_code: str | None
    destination_county: str | None
    destination_city: str | None
    firms: int
    jobs: int | None
    land_ha: float | None
    same_county: bool


class PlanOut(BaseModel):
    """The planner's report on one plan (codes, not labels; shares as fractions 0..1; NaN as null)."""

    model_config = ConfigDict(extra="forbid")
    scenario: Literal["urban-core", "scattered", "coastal-transfer", "all"]
    allocation_status: str = Field(description="optimal, time_limit (best found, mip_gap says how far) or "
                                               "time_limit_greedy")
    mip_gap: float | None
    order: list[str] = Field(description="the scenarios planned, in priority order")
    seconds: float = Field(description="time the plan took to compute")
    scenarios: list[str] = Field(description="the values of the tables' scenario column ('all': the joint plan)")
    params: dict[str, Any] = Field(description="the report's thresholds (ReportParams)")
    summary: list[SummaryRow]
    distance_bands: list[BandRow]
    park_load: list[ParkLoadRow]
    park_land: list[ParkLandRow]
    top_parks: list[TopParkRow]
    unplaced: list[UnplacedRow]
    flags: list[FlagRow]
    flows: list[FlowRow]


class ScenarioInfo(BaseModel):
    id: str
    label_zh: str
    label_en: str
    selection: str
    constraints: dict[str, Any] | None


class ScenariosOut(BaseModel):
    scenarios: list[ScenarioInfo]
    default_priority: list[str]
    scenario_params: dict[str, Any]
    report_params: dict[str, Any]


_SELECTION = {
    "urban-core": "enterprises in an urban core that are old, land-intensive, polluting or of a low per-mu class "
                  "(plan 四.五.1, 二.二.5)",
    "scattered": "township enterprises outside parks and urban cores (plan 四.五.2, 二.二.5)",
    "coastal-transfer": "labour-intensive enterprises of developed coastal counties, to less-developed counties "
                        "(plan 四.八)",
    "all": "the three scenarios allocated together against one pool of free land, in priority order",
}

_COMPUTING_RESPONSE: dict[int | str, dict[str, Any]] = {503: {"description": "the plan is being computed: ask again after Retry-After seconds"}}


# ------------------------------------------------------------------------------------------- routes


@router.get("/scenarios", summary="The relocation scenarios and their parameters", response_model=ScenariosOut)
def scenarios(_user: AnalystUser) -> dict[str, Any]:
    rows = [{"id": s, "label_zh": label(f"scenario_{s}", "zh"), "label_en": label(f"scenario_{s}", "en"),
             "selection": _SELECTION[s], "constraints": scenario_constraints(s).to_dict() if s != "all" else None}
            for s in (*SCENARIOS, "all")]
    params = asdict(ScenarioParams())
    return {"scenarios": rows, "default_priority": list(DEFAULT_PRIORITY),
            "scenario_params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
            "report_params": ReportParams().to_dict()}


_PRIORITY_400: dict[int | str, dict[str, Any]] = {400: {"description": "a priority on a single scenario's plan (it is for /scenarios/all only)"}}
_XLSX: dict[int | str, dict[str, Any]] = {200: {"content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}
Width = Annotated[Literal["firms", "jobs"], Query(description="arc width by firms or jobs")]


def _no_priority(request: Request) -> None:
    if request.query_params.get("priority"):
        raise BadRequest("priority is for the joint plan (/scenarios/all/...) only")


def _plan_doc(done: ComputedPlan, scenario: str) -> dict[str, Any]:
    return {"scenario": scenario, "allocation_status": str(done.status), "mip_gap": _finite(done.mip_gap),
            "order": list(done.order), "seconds": round(done.seconds, 3), **done.report.to_dict()}


@router.get("/scenarios/all/plan", summary="The joint plan (every scenario against one pool of free land) and the "
            "planner's report on it", response_model=PlanOut, responses=_COMPUTING_RESPONSE)
def joint_plan_route(request: Request, _user: AnalystUser, priority: Priority = None) -> dict[str, Any]:
    return _plan_doc(get_plan(request.app, "all", priority), "all")


@router.get("/scenarios/{scenario}/plan", summary="A scenario's plan and the planner's report on it",
            response_model=PlanOut, responses={**_COMPUTING_RESPONSE, **_PRIORITY_400})
def plan(request: Request, _user: AnalystUser, scenario: ScenarioPath) -> dict[str, Any]:
    _no_priority(request)
    return _plan_doc(get_plan(request.app, scenario), scenario)


def _xlsx(done: ComputedPlan, scenario: str, lang: str) -> Response:
    body = plan_workbook(done.report, lang)
    name = f"plan-{scenario}{'-en' if lang == 'en' else ''}.xlsx"
    return Response(body, media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


@router.get("/scenarios/all/plan.xlsx", summary="The joint plan's report as an Excel workbook (a sheet per table)",
            response_class=Response, responses={**_XLSX, **_COMPUTING_RESPONSE})
def joint_plan_xlsx(request: Request, _user: AnalystUser, priority: Priority = None, lang: Lang = "zh") -> Response:
    return _xlsx(get_plan(request.app, "all", priority), "all", lang)


@router.get("/scenarios/{scenario}/plan.xlsx", summary="A scenario's report as an Excel workbook (a sheet per table)",
            response_class=Response, responses={**_XLSX, **_COMPUTING_RESPONSE, **_PRIORITY_400})
def plan_xlsx(request: Request, _user: AnalystUser, scenario: ScenarioPath, lang: Lang = "zh") -> Response:
    _no_priority(request)
    return _xlsx(get_plan(request.app, scenario), scenario, lang)


_HTML: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {}}}}


@router.get("/scenarios/all/map", summary="The joint plan's flows between counties (interactive map, HTML)",
            response_class=HTMLResponse, responses={**_HTML, **_COMPUTING_RESPONSE})
def joint_plan_map(request: Request, state: StateDep, _user: AnalystUser, priority: Priority = None,
                   lang: Lang = "zh", width: Width = "firms") -> Response:
    return _flows(state, get_plan(request.app, "all", priority), "all", lang, width)


@router.get("/scenarios/{scenario}/map", summary="A scenario's flows between counties (interactive map, HTML)",
            response_class=HTMLResponse, responses={**_HTML, **_COMPUTING_RESPONSE, **_PRIORITY_400})
def plan_map(request: Request, state: StateDep, _user: AnalystUser, scenario: ScenarioPath, lang: Lang = "zh",
             width: Width = "firms") -> Response:
    _no_priority(request)
    return _flows(state, get_plan(request.app, scenario), scenario, lang, width)


def _flows(state: AppState, done: ComputedPlan, scenario: str, lang: str, width: str) -> Response:
    try:
        opts = _map_options(lang)
    except ValueError as exc:
        raise BadRequest(f"the server's map settings are wrong: {exc}") from None

    def build():
        try:
            m = flows_map(state.dataset, done.report.flows, opts=opts, width_by=width,
                          title_suffix=_scenario_label(scenario, lang))
        except MapError as exc:  # coded: code and detail_zh beside the English
            raise BadRequest(str(exc), **coded_members(exc)) from None
        return render_page(m)

    page = state.maps.get_or_compute(state.key("plan-map", scenario, done.order, id(done), opts, width), build)
    return _map_response(page, opts)


def _map_response(page, opts) -> HTMLResponse:
    """The page with a fresh script nonce and the maps' Content-Security-Policy (``api.routes.maps``)."""
    nonce = secrets.token_urlsafe(18)
    csp = _CSP.format(nonce=nonce, tiles=" " + _TILE_HOSTS[opts.tiles] if opts.tiles else "")
    return HTMLResponse(page.html(nonce), headers={
        "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store"})


def _scenario_label(scenario: str, lang: str) -> str:
    return label(f"scenario_{scenario}", lang)


def _finite(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)
