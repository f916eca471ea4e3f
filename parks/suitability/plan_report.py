"""The planner's report on a relocation plan: the tables a planner judges a plan by.

:func:`plan_report` takes an allocation's ``assignments`` (one scenario's, or the joint plan's with a
``scenario`` column), the enterprises, the parks and the counties, and returns a :class:`PlanReport`
of named DataFrames, each per scenario and, for a plan of several scenarios, for the plan as a whole
(``scenario == "all"``):

``summary``
    enterprises, placed and unplaced, jobs and land moved, the median / mean / 90th percentile / longest
    move, and the shares of placed firms that stay in their own county and in their own city
    (prefecture-level city: the ``city`` of the county).
``distance_bands``
    placed firms by the straight-line distance :math:`d = \\lVert x_e - r_p \\rVert` in the projected
    ``metric_crs`` from the enterprise's point :math:`x_e` to the park's representative point
    :math:`r_p` (a point inside the polygon, ``shapely.representative_point``), in the bands
    ``[0, 10), [10, 30), [30, 50), [50, 100), [100, inf)`` km (:attr:`ReportParams.bands_km`).
``park_load``
    per park that receives anyone: land promised against its free land (share), firms, jobs and the
    park's share of the scenario's placed firms; ``over_free_land`` where the land promised exceeds it.
``park_land``
    per park, the land each scenario takes (``land_<scenario>_ha``, :func:`land_column`), the land used
    and the land left.
``top_parks``
    the parks that take the most firms and why: the share of their firms for which they are the first
    choice (rank 1 among the firm's candidate parks, from the allocation's ``candidates``), the nearest
    of the firm's candidate parks (feasible ones: the nearest feasible park among the allocation's top
    K), the nearest park of all, a park of the firm's sector (``leading_sectors``); the park's land-price rank in
    its city (1 = cheapest); and the criteria in which the park beats the firms' other candidates the
    most (mean over its firms of :math:`w_c (s_c(e, p) - \\bar s_c(e))`, :math:`\\bar s_c(e)` the mean of
    criterion :math:`c` over the firm's candidates, :math:`w_c` the weights if given). ``why_zh`` /
    ``why_en`` say it in words.
``unplaced``
    firms left unplaced by reason (the allocation's ``reason`` codes), with examples.
``flags``
    sanity checks a planner makes (:class:`ReportParams` holds the thresholds): a park promised more than
    its free land (``over_free_land``), a median move above ``median_move_km`` (``median_move``), a park
    taking more than ``park_share_max`` of a scenario's placed firms (``park_share``; scenarios with at
    least ``park_share_min_firms`` placed firms), fewer than the expected share staying in their own city
    (urban-core) or own county (scattered) (``own_city_share`` / ``own_county_share``), and more than
    ``unplaced_share_max`` of a scenario unplaced for a reason other than closure or upgrading
    (``unplaced_share``).
``flows``
    moves aggregated between origin and destination counties (:func:`parks.flows.county_flows`).

Labels: every table, column and code has a Chinese and an English label here (:data:`LABELS`, with
the scenario, criterion and reason labels of their own modules); :meth:`PlanReport.tables` names the
sheets and columns with them, the web page and the flow map use the same words.

The function is pure (no I/O); distances are only computed in a projected CRS.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from geodata.dataset import Dataset
from geodata.jsonable import jsonable

from ..flows import county_flows, enterprise_counties, park_counties
from .context import SuitabilityError
from .criteria import CRITERIA, CRITERIA_LABELS_EN, CRITERIA_LABELS_ZH
from .messages import SUITABILITY

__all__ = ["PlanReport", "ReportParams", "plan_report", "report_for_dataset", "report_for_plan", "LABELS", "label", "TABLES",
           "ALL", "band_labels", "band_text", "land_column"]

ALL = "all"  # the plan as a whole (several scenarios together)
TABLES: tuple[str, ...] = ("summary", "distance_bands", "park_load", "park_land", "top_parks", "unplaced",
                           "flags", "flows")

# (zh, en): tables, columns, codes. The one place for the report's words.
LABELS: dict[str, tuple[str, str]] = {
    # tables (Excel sheet names: at most 31 characters, none of []:*?/\)
    "table_summary": ("方案汇总", "Summary"),
    "table_distance_bands": ("搬迁距离分段", "Moves by distance"),
    "table_park_load": ("园区用地负荷", "Park load"),
    "table_park_land": ("各情景园区用地", "Park land by scenario"),
    "table_top_parks": ("承接最多的园区及原因", "Parks taking the most"),
    "table_unplaced": ("未安置企业及原因", "Unplaced firms"),
    "table_flags": ("合理性检查", "Sanity checks"),
    "table_flows": ("县际流向", "Flows between counties"),
    # scenarios (zh of the three from parks.suitability.scenarios.SCENARIO_LABELS_ZH)
    "scenario_all": ("联合方案（全部情景）", "Joint plan (all scenarios)"),
    "scenario_urban-core": ("", "Urban-core relocation"),
    "scenario_scattered": ("", "Scattered firms into parks"),
    "scenario_coastal-transfer": ("", "Coastal to less-developed transfer"),
    "scenario_plan": ("方案", "Plan"),
    # columns
    "scenario": ("情景", "Scenario"),
    "enterprises": ("涉及企业数", "Enterprises"),
    "assigned": ("已安置", "Placed"),
    "unassigned": ("未安置", "Unplaced"),
    "assigned_share": ("安置比例", "Share placed"),
    "jobs_moved": ("搬迁从业人员", "Jobs moved"),
    "land_ha": ("用地（公顷）", "Land (ha)"),
    "median_km": ("搬迁距离中位数（公里）", "Median move (km)"),
    "mean_km": ("平均搬迁距离（公里）", "Mean move (km)"),
    "p90_km": ("90%分位搬迁距离（公里）", "90th percentile move (km)"),
    "max_km": ("最远搬迁距离（公里）", "Longest move (km)"),
    "own_county_share": ("留在本县比例", "Share staying in own county"),
    "own_city_share": ("留在本市比例", "Share staying in own city"),
    "median_detour_km": ("比最近可行园区多走距离中位数（公里）", "Median extra distance over the nearest feasible park (km)"),
    "detour_share": ("多走距离超过阈值的比例", "Share with an extra distance over the threshold"),
    "band": ("距离段", "Distance band"),
    "from_km": ("起（公里）", "From (km)"),
    "to_km": ("止（公里）", "To (km)"),
    "firms": ("企业数", "Firms"),
    "share": ("比例", "Share"),
    "jobs": ("从业人员", "Jobs"),
    "park_id": ("园区编号", "Park id"),
    "park_name": ("园区名称", "Park"),
    "county": ("县（市、区）", "County"),
    "city": ("设区市", "City"),
    "free_land_ha": ("可用土地（公顷）", "Free land (ha)"),
    "land_share": ("占可用土地比例", "Share of free land"),
    "firm_share": ("占本情景安置企业比例", "Share of the scenario's placed firms"),
    "over_free_land": ("超出可用土地", "Over free land"),
    "land_used_ha": ("已安排用地（公顷）", "Land used (ha)"),
    "land_left_ha": ("剩余可用土地（公顷）", "Land left (ha)"),
    "rank": ("名次", "Rank"),
    "first_choice_share": ("列为首选的企业比例", "Share for which it is the first choice"),
    "nearest_candidate_share": ("以其为最近可行园区的企业比例", "Share for which it is the nearest feasible park"),
    "nearest_share": ("距其最近的企业比例", "Share for which it is the nearest park"),
    "sector_match_share": ("属其主导产业的企业比例", "Share in its leading sectors"),
    "land_price": ("地价（元/平方米）", "Land price (yuan/m²)"),
    "land_price_rank": ("市内地价排名（低到高）", "Land-price rank in the city (cheapest = 1)"),
    "parks_in_city": ("市内园区数", "Parks in the city"),
    "top_criteria": ("得分优势准则", "Criteria where it leads"),
    "why": ("原因", "Why"),
    "reason": ("原因", "Reason"),
    "examples": ("示例企业", "Examples"),
    "flag": ("检查项", "Check"),
    "value": ("数值", "Value"),
    "threshold": ("阈值", "Threshold"),
    "message": ("说明", "Message"),
    "origin_county_code": ("迁出县代码", "Origin county code"),
    "origin_county": ("迁出县", "Origin county"),
    "origin_city": ("迁出市", "Origin city"),
    "destination_county_code": ("迁入县代码", "Destination county code"),
    "destination_county": ("迁入县", "Destination county"),
    "destination_city": ("迁入市", "Destination city"),
    "same_county": ("县内流动", "Within the county"),
    "county_names": ("县名（进出企业最多的县）", "County names (largest flows)"),
    "width_note": ("线宽：{by}（最宽 = {max}）", "line width: {by} (widest = {max})"),
    "land_scenario_ha": ("用地：{scenario}（公顷）", "Land: {scenario} (ha)"),
    "status_count": ("状态：{status}", "Status: {status}"),
    # unplaced reasons (allocation codes)
    "reason_closure_or_upgrade": ("属淘汰类：关停或改造提升，不搬迁", "To be eliminated: closure or upgrading, not moved"),
    "reason_no_feasible_park": ("没有满足约束的园区", "No park passes the constraints"),
    "reason_capacity": ("候选园区的土地已安排给总体更优的方案", "Its candidate parks' land went to a better total"),
    # flags
    "flag_over_free_land": ("园区安排用地超过可用土地", "Park promised more than its free land"),
    "flag_median_move": ("搬迁距离中位数过大", "Median move too long"),
    "flag_park_share": ("单个园区承接比例过高", "One park takes too large a share"),
    "flag_detour": ("绕过最近可行园区的企业偏多", "Many firms sent past their nearest feasible park"),
    "flag_own_city_share": ("留在本市的比例偏低", "Too few stay in their own city"),
    "flag_own_county_share": ("留在本县的比例偏低", "Too few stay in their own county"),
    "flag_unplaced_share": ("未安置比例偏高", "Too many unplaced"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
}

_FLAG_MESSAGES = {
    "over_free_land": ("{park}：安排用地 {value:.1f} 公顷，可用土地 {threshold:.1f} 公顷",
                       "{park}: {value:.1f} ha promised, {threshold:.1f} ha free"),
    "median_move": ("搬迁距离中位数 {value:.1f} 公里，超过 {threshold:.0f} 公里",
                    "median move {value:.1f} km, above {threshold:.0f} km"),
    "detour": ("{value:.0%} 的安置企业去往比其最近可行园区远 {km:.0f} 公里以上的园区（上限 {threshold:.0%}；"
               "多走距离中位数 {median:.1f} 公里）",
               "{value:.0%} of the placed firms go to a park more than {km:.0f} km farther than their nearest feasible "
               "park (limit {threshold:.0%}; median extra distance {median:.1f} km)"),
    "park_share": ("{park} 承接本情景 {value:.0%} 的安置企业（上限 {threshold:.0%}）",
                   "{park} takes {value:.0%} of the scenario's placed firms (limit {threshold:.0%})"),
    "own_city_share": ("仅 {value:.0%} 留在本市（期望至少 {threshold:.0%}）",
                       "only {value:.0%} stay in their own city (expected at least {threshold:.0%})"),
    "own_county_share": ("仅 {value:.0%} 留在本县（期望至少 {threshold:.0%}）",
                         "only {value:.0%} stay in their own county (expected at least {threshold:.0%})"),
    "unplaced_share": ("{value:.0%} 的企业因淘汰以外的原因未安置（上限 {threshold:.0%}）",
                       "{value:.0%} of the firms unplaced for reasons other than closure (limit {threshold:.0%})"),
}

_WHY = {
    "first_choice": ("{v:.0%} 的企业将其列为首选", "first choice of {v:.0%} of its firms"),
    "nearest_candidate": ("{v:.0%} 的企业以其为最近的可行园区", "nearest feasible park for {v:.0%} of its firms"),
    "nearest": ("{v:.0%} 的企业距其最近", "nearest park for {v:.0%} of its firms"),
    "sector": ("{v:.0%} 的企业属其主导产业", "leading-sector match for {v:.0%} of its firms"),
    "cheapest": ("市内地价最低", "lowest land price in the city"),
    "cheap": ("市内地价第 {r} 低（共 {n} 个园区）", "land price ranks {r} of {n} parks in the city (1 = cheapest)"),
    "criteria": ("得分优势：{c}", "leads on {c}"),
    "score": ("综合得分最高", "best total score"),
}


def label(key: str, lang: str = "zh", **kw) -> str:
    """The label of ``key`` in ``lang`` (``zh`` or ``en``); the key itself when unknown.

    Scenario codes are ``scenario_<code>``, reasons ``reason_<code>``, flags ``flag_<code>``, criteria
    ``criterion_<id>``.
    """
    zh = lang != "en"
    if key.startswith("criterion_"):
        c = key.removeprefix("criterion_")
        return (CRITERIA_LABELS_ZH if zh else CRITERIA_LABELS_EN).get(c, c)
    if key.startswith("scenario_") and zh:
        from .scenarios import SCENARIO_LABELS_ZH

        code = key.removeprefix("scenario_")
        if code in SCENARIO_LABELS_ZH:
            return SCENARIO_LABELS_ZH[code]
    pair = LABELS.get(key)
    if pair is None or not pair[0 if zh else 1]:
        text = key.split("_", 1)[1] if key.startswith(("scenario_", "reason_", "flag_")) else key
    else:
        text = pair[0 if zh else 1]
    return text.format(**kw) if kw else text


def land_column(scenario: str) -> str:
    """The ``park_land`` column of a scenario's land, as the joint plan's parks table names it:
    ``land_urban_core_ha``."""
    return f"land_{scenario.replace('-', '_')}_ha"


def band_labels(bands_km) -> list[tuple[str, float, float]]:
    """``[(label, from_km, to_km), ...]`` for band edges ``(10, 30, 50, 100)``: ``0-10 km`` ... ``100+ km``."""
    edges = [0.0, *[float(b) for b in bands_km], float("inf")]
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        out.append((band_text(lo, hi), lo, hi))
    return out


def band_text(lo: float, hi: float | None, lang: str = "en") -> str:
    """One band's label in ``lang``: ``0-10 km`` / ``100+ km`` in English (as :func:`band_labels`), ``0–10 公里`` /
    ``100 公里以上`` in Chinese. ``hi`` None or infinite: the open last band."""
    open_end = hi is None or hi == float("inf") or (isinstance(hi, float) and np.isnan(hi))
    if lang == "zh":
        return f"{_num(lo)} 公里以上" if open_end else f"{_num(lo)}–{_num(hi)} 公里"  # type: ignore[arg-type]
    return f"{_num(lo)}+ km" if open_end else f"{_num(lo)}-{_num(hi)} km"  # type: ignore[arg-type]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class ReportParams:
    """Thresholds of the report (defaults documented in the module docstring and ``docs/plan-report.md``)."""

    bands_km: tuple[float, ...] = (10.0, 30.0, 50.0, 100.0)
    median_move_km: float = 50.0
    median_move_km_by_scenario: tuple[tuple[str, float], ...] = (("coastal-transfer", 150.0),)
    detour_km: float = 30.0
    detour_share_max: float = 0.2
    park_share_max: float = 0.10
    park_share_min_firms: int = 20
    expected_shares: tuple[tuple[str, str, float], ...] = (("urban-core", "own_city", 0.5),
                                                           ("scattered", "own_county", 0.5))
    unplaced_share_max: float = 0.2
    top_parks: int = 10
    examples: int = 5
    why_share: float = 0.5

    def __post_init__(self) -> None:
        bands = tuple(float(b) for b in self.bands_km)
        if not bands or any(b <= 0 for b in bands) or any(b2 <= b1 for b1, b2 in zip(bands, bands[1:])):
            raise SuitabilityError("report.bands", value=self.bands_km)
        object.__setattr__(self, "bands_km", bands)
        for name in ("park_share_max", "unplaced_share_max", "why_share", "detour_share_max"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0 < v <= 1):
                raise SuitabilityError("report.share", name=name, value=v)
        if not (isinstance(self.median_move_km, (int, float)) and self.median_move_km > 0):
            raise SuitabilityError("report.median_move", value=self.median_move_km)
        by = []
        for pair in self.median_move_km_by_scenario:
            if len(pair) != 2 or not isinstance(pair[1], (int, float)) or not pair[1] > 0:
                raise SuitabilityError("report.median_move", value=pair)
            by.append((str(pair[0]), float(pair[1])))
        object.__setattr__(self, "median_move_km_by_scenario", tuple(by))
        if not (isinstance(self.detour_km, (int, float)) and self.detour_km > 0):
            raise SuitabilityError("report.detour_km", value=self.detour_km)
        for name in ("park_share_min_firms", "top_parks", "examples"):
            v = getattr(self, name)
            if not (isinstance(v, (int, np.integer)) and v >= 1):
                raise SuitabilityError("report.integer", name=name, value=v)
        for item in self.expected_shares:
            if len(item) != 3 or item[1] not in ("own_city", "own_county") or not 0 < float(item[2]) <= 1:
                raise SuitabilityError("report.expected_shares", value=item)
        # tuples again after a JSON round trip (the API and the shared cache carry params as JSON)
        object.__setattr__(self, "expected_shares", tuple((str(a), str(b), float(c)) for a, b, c in self.expected_shares))

    def median_move_limit(self, scenario: str) -> float:
        """The median move (km) above which ``scenario`` is flagged: its own entry in
        ``median_move_km_by_scenario``, else ``median_move_km``."""
        return dict(self.median_move_km_by_scenario).get(scenario, self.median_move_km)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["bands_km"] = list(self.bands_km)
        d["median_move_km_by_scenario"] = [list(x) for x in self.median_move_km_by_scenario]
        d["expected_shares"] = [list(x) for x in self.expected_shares]
        return d


@dataclass(frozen=True)
class PlanReport:
    """The report's tables (see the module docstring); ``scenarios`` lists the scenario codes in the
    tables' ``scenario`` column, in order (``"all"`` last for a plan of several scenarios)."""

    scenarios: tuple[str, ...]
    summary: pd.DataFrame
    distance_bands: pd.DataFrame
    park_load: pd.DataFrame
    park_land: pd.DataFrame
    top_parks: pd.DataFrame
    unplaced: pd.DataFrame
    flags: pd.DataFrame
    flows: pd.DataFrame
    params: ReportParams = field(default_factory=ReportParams)

    def to_dict(self) -> dict:
        """JSON-ready: ``scenarios``, ``params`` and each table as a list of records (codes, not labels;
        NaN as None)."""
        out: dict = {"scenarios": list(self.scenarios), "params": self.params.to_dict()}
        for name in TABLES:
            out[name] = _records(getattr(self, name))
        return out

    def table(self, name: str, lang: str = "zh", rows: pd.DataFrame | None = None) -> pd.DataFrame:
        """Table ``name`` (or ``rows``, a subset of it) for people, as :meth:`tables` shows it."""
        if name not in TABLES:
            raise SuitabilityError("report.table_unknown", name=name, accepted=", ".join(TABLES))
        return _labelled(getattr(self, name) if rows is None else rows, lang, self.scenarios)

    def tables(self, lang: str = "zh") -> dict[str, pd.DataFrame]:
        """The tables in order, keyed by their label in ``lang`` (Chinese by default: the Excel sheet
        names), with labelled columns and codes turned into words."""
        return {label(f"table_{name}", lang): _labelled(getattr(self, name), lang, self.scenarios) for name in TABLES}


def plan_report(
    assignments: pd.DataFrame,
    enterprises: pd.DataFrame,
    parks: pd.DataFrame,
    counties: pd.DataFrame,
    *,
    metric_crs,
    candidates: pd.DataFrame | None = None,
    weights: Mapping[str, float] | None = None,
    free_land_ha: Mapping[str, float] | pd.Series | None = None,
    scenario: str = "plan",
    params: ReportParams | None = None,
) -> PlanReport:
    """The planner's report on an allocation (see the module docstring for every table).

    Parameters
    ----------
    assignments : DataFrame
        ``enterprise_id``, ``park_id`` (None: unplaced), ``status`` (``assigned``/``unassigned``),
        ``reason``, optionally ``land_ha`` (else the enterprise's) and ``scenario`` (the joint plan).
    enterprises : GeoDataFrame
        ``enterprise_id`` and point geometry; ``employees``, ``land_ha``, ``sector``, ``name`` and
        ``county_code`` when present (the county is derived from the point otherwise).
    parks : GeoDataFrame
        ``park_id`` and polygon geometry; ``free_land_ha``, ``name``, ``county_code``,
        ``leading_sectors`` (comma-separated) and ``land_price`` when present.
    counties : GeoDataFrame
        ``code``, ``name``, ``city`` (and geometry, to derive a missing county).
    metric_crs : a projected CRS (e.g. ``Dataset.metric_crs``): distances are computed in it.
    candidates : the allocation's candidate pairs (``enterprise_id``, ``park_id``, ``score``, optionally
        ``rank``, ``scenario`` and the criterion columns), for the "why" of the top parks.
    weights : criterion weights, to weigh the criteria advantages (default: unweighted).
    free_land_ha : park_id -> the free land the plan allocated against (default: the parks' ``free_land_ha``).
    scenario : the scenario code when ``assignments`` has no ``scenario`` column.
    params : thresholds (:class:`ReportParams`).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> crs = "EPSG:4549"
    >>> ents = gpd.GeoDataFrame({"enterprise_id": ["E1", "E2"], "employees": [10, 30], "land_ha": [1.0, 2.0],
    ...                          "county_code": ["A", "A"]}, geometry=[Point(0, 0), Point(20000, 0)], crs=crs)
    >>> parks = gpd.GeoDataFrame({"park_id": ["P1"], "free_land_ha": [10.0], "county_code": ["A"]},
    ...                          geometry=[box(4000, -1000, 6000, 1000)], crs=crs)
    >>> counties = pd.DataFrame({"code": ["A"], "name": ["甲县"], "city": ["乙市"]})
    >>> a = pd.DataFrame({"enterprise_id": ["E1", "E2"], "park_id": ["P1", "P1"], "status": "assigned",
    ...                   "reason": None})
    >>> r = plan_report(a, ents, parks, counties, metric_crs=crs, scenario="urban-core")
    >>> r.summary[["assigned", "median_km", "own_county_share"]].to_dict("records")
    [{'assigned': 2, 'median_km': 10.0, 'own_county_share': 1.0}]
    >>> r.distance_bands[["band", "firms"]].head(2).to_dict("records")
    [{'band': '0-10 km', 'firms': 1}, {'band': '10-30 km', 'firms': 1}]
    """
    params = params or ReportParams()
    moves, park_info = _moves(assignments, enterprises, parks, counties, metric_crs, candidates, weights,
                              free_land_ha, scenario)
    from .scenarios import SCENARIOS

    present = list(dict.fromkeys(moves["scenario"]))
    scen = [s for s in SCENARIOS if s in present] + [s for s in present if s not in SCENARIOS] or [scenario]
    groups = scen + ([ALL] if len(scen) > 1 else [])

    def sub(g):
        return moves if g == ALL else moves[moves["scenario"] == g]

    summary = pd.DataFrame([_summary_row(g, sub(g), params) for g in groups], columns=_SUMMARY_COLS)
    bands = pd.concat([_bands(g, sub(g), params) for g in groups], ignore_index=True)
    load = pd.concat([_load(g, sub(g), park_info) for g in groups], ignore_index=True)
    land = _park_land(moves, scen, park_info)
    top = pd.concat([_top(g, sub(g), load, park_info, params) for g in groups], ignore_index=True)
    unplaced = pd.concat([_unplaced(g, sub(g), params) for g in groups], ignore_index=True)
    flags = _flags(groups, summary, load, unplaced, moves, params, multi=len(scen) > 1)
    placed = moves[moves["placed"]]
    flows = county_flows(placed[["scenario", "enterprise_id", "park_id", "land_ha", "origin_county_code",
                                 "destination_county_code"]], enterprises, parks, counties, by="scenario")
    flows["same_county"] = flows["origin_county_code"] == flows["destination_county_code"]
    return PlanReport(scenarios=tuple(groups), summary=summary, distance_bands=bands, park_load=load, park_land=land,
                      top_parks=top, unplaced=unplaced, flags=flags, flows=flows, params=params)


def report_for_dataset(ds: Dataset, assignments: pd.DataFrame, **kwargs) -> PlanReport:
    """:func:`plan_report` over a :class:`geodata.dataset.Dataset`'s enterprises, parks and counties in
    its metric CRS (the CLI, the API and the web page call this)."""
    return plan_report(assignments, ds.enterprises, ds.parks, ds.counties, metric_crs=ds.metric_crs, **kwargs)


def report_for_plan(ds: Dataset, plan, **kwargs) -> PlanReport:
    """The report on a :class:`parks.suitability.joint.ScenarioPlan` (one scenario) or
    :class:`parks.suitability.joint.JointPlan` (``plan.plans``: every scenario against one pool of land)
    over the dataset ``ds``: the plan's assignments, its candidate parks and weights for the "why", and
    the joint plan's pool of free land."""
    if hasattr(plan, "plans"):
        plans = dict(plan.plans)
        tops = [p.batch.top.assign(scenario=s) for s, p in plans.items()]
        kwargs.setdefault("candidates", pd.concat(tops, ignore_index=True) if tops else None)
        if plans:
            kwargs.setdefault("weights", next(iter(plans.values())).batch.weights)
        parks = getattr(plan, "parks", None)
        if parks is not None and {"park_id", "free_land_ha"} <= set(parks.columns):
            kwargs.setdefault("free_land_ha", pd.Series(parks["free_land_ha"].to_numpy(float),
                                                        index=parks["park_id"].astype(str)))
    else:
        kwargs.setdefault("candidates", plan.batch.top)
        kwargs.setdefault("weights", plan.batch.weights)
        kwargs.setdefault("scenario", getattr(plan, "scenario", "plan"))
    return report_for_dataset(ds, plan.assignments, **kwargs)


# --------------------------------------------------------------------------------------------- helpers

_SUMMARY_COLS = ["scenario", "enterprises", "assigned", "unassigned", "assigned_share", "jobs_moved", "land_ha",
                 "median_km", "mean_km", "p90_km", "max_km", "own_county_share", "own_city_share", "median_detour_km",
                 "detour_share"]


def _more(unknown: list) -> Any:
    """`` and N more`` beyond the five ids an error lists ("" for five or fewer)."""
    return SUITABILITY("report.and_more", n=len(unknown) - 5) if len(unknown) > 5 else ""


def _need(frame, cols, what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise SuitabilityError("report.columns_missing", what=what, columns=", ".join(missing), needed=", ".join(cols))


def _moves(assignments, enterprises, parks, counties, metric_crs, candidates, weights, free_land_ha, scenario):
    """One row per assignment with everything the tables need: origin and destination county and city,
    distance (km), jobs, land, sector match, nearest park, first choice and the criteria advantages."""
    import geopandas as gpd
    import pyproj

    _need(assignments, ["enterprise_id", "park_id", "status"], "assignments")
    _need(enterprises, ["enterprise_id", "geometry"], "enterprises")
    _need(parks, ["park_id", "geometry"], "parks")
    _need(counties, ["code", "name", "city"], "counties")
    if metric_crs is None or not pyproj.CRS.from_user_input(metric_crs).is_projected:
        raise SuitabilityError("report.metric_crs", value=metric_crs)
    for what, frame in (("enterprises", enterprises), ("parks", parks)):
        if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
            raise SuitabilityError("report.not_geo", what=what)

    a = assignments.copy()
    if "scenario" not in a.columns:
        a["scenario"] = scenario
    a["enterprise_id"] = a["enterprise_id"].astype(str)
    a["park_id"] = a["park_id"].map(lambda v: None if _missing(v) else str(v)).astype(object)
    a["placed"] = a["park_id"].notna() & (a["status"].astype(str) == "assigned")
    if "reason" not in a.columns:
        a["reason"] = None

    ent = enterprises.drop_duplicates("enterprise_id").copy()
    ent.index = ent["enterprise_id"].astype(str).to_numpy()
    unknown = sorted(set(a["enterprise_id"]) - set(ent.index))
    if unknown:
        raise SuitabilityError("report.unknown_enterprises", ids=", ".join(unknown[:5]), more=_more(unknown))
    pk = parks.drop_duplicates("park_id").copy()
    pk.index = pk["park_id"].astype(str).to_numpy()
    unknown = sorted(set(a.loc[a["placed"], "park_id"]) - set(pk.index))
    if unknown:
        raise SuitabilityError("report.unknown_parks", ids=", ".join(unknown[:5]), more=_more(unknown))

    city_of = counties.assign(code=counties["code"].astype(str)).drop_duplicates("code").set_index("code")["city"]
    e_county = enterprise_counties(ent, counties, metric_crs)
    p_county = park_counties(pk, counties, metric_crs)
    ent_xy = ent.geometry.to_crs(metric_crs)
    if not (ent_xy.geom_type == "Point").all():
        ent_xy = ent_xy.representative_point()
    rep = pk.geometry.to_crs(metric_crs).representative_point()

    e = a["enterprise_id"]
    a["origin_county_code"] = e.map(e_county).astype(object)
    a["origin_city"] = a["origin_county_code"].map(city_of).astype(object)
    a["destination_county_code"] = a["park_id"].map(p_county).astype(object)
    a["destination_city"] = a["destination_county_code"].map(city_of).astype(object)
    ex, ey = ent_xy.x.reindex(e).to_numpy(), ent_xy.y.reindex(e).to_numpy()
    px, py = rep.x.reindex(a["park_id"]).to_numpy(float), rep.y.reindex(a["park_id"]).to_numpy(float)
    a["distance_km"] = np.where(a["placed"], np.hypot(px - ex, py - ey) / 1000.0, np.nan)
    a["own_county"] = a["placed"] & (a["origin_county_code"] == a["destination_county_code"]) & a["origin_county_code"].notna()
    a["own_city"] = a["placed"] & (a["origin_city"] == a["destination_city"]) & a["origin_city"].notna()
    a["jobs"] = pd.to_numeric(ent["employees"], errors="coerce").reindex(e).fillna(0).to_numpy() \
        if "employees" in ent.columns else 0.0
    if "land_ha" not in a.columns:
        a["land_ha"] = pd.to_numeric(ent["land_ha"], errors="coerce").reindex(e).to_numpy() \
            if "land_ha" in ent.columns else np.nan
    a["land_ha"] = pd.to_numeric(a["land_ha"], errors="coerce").fillna(0.0)
    a["name"] = ent["name"].reindex(e).to_numpy() if "name" in ent.columns else None
    # why: sector match, nearest park, first choice, criteria advantage
    if "sector" in ent.columns and "leading_sectors" in pk.columns:
        lead = pk["leading_sectors"].map(lambda s: set() if _missing(s) else {x.strip() for x in str(s).split(",")})
        sectors = ent["sector"].reindex(e).to_numpy()
        a["sector_match"] = [bool(p is not None and s in lead.get(p, set())) for s, p in zip(sectors, a["park_id"])]
    else:
        a["sector_match"] = np.nan
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([rep.x.to_numpy(), rep.y.to_numpy()]))
    _, nearest = tree.query(np.column_stack([ex, ey]))
    a["nearest"] = a["placed"] & (pk.index.to_numpy()[nearest] == a["park_id"].to_numpy())
    a["first_choice"] = np.nan
    a["nearest_candidate"] = np.nan
    a["detour_km"] = np.nan
    if candidates is not None and len(candidates):
        a = _candidate_facts(a, candidates, weights, (ent_xy.x, ent_xy.y), (rep.x, rep.y))

    free = pd.to_numeric(pk["free_land_ha"], errors="coerce") if "free_land_ha" in pk.columns \
        else pd.Series(np.nan, index=pk.index)
    if free_land_ha is not None:
        given = pd.Series(free_land_ha, dtype=float)
        given.index = given.index.astype(str)
        free = given.reindex(pk.index).fillna(free)
    names = dict(zip(counties["code"].astype(str), counties["name"]))
    info = pd.DataFrame({
        "park_name": pk["name"] if "name" in pk.columns else pk.index.to_series(),
        "county_code": p_county.reindex(pk.index),
        "county": p_county.reindex(pk.index).map(names),
        "city": p_county.reindex(pk.index).map(city_of),
        "free_land_ha": free,
        "land_price": pd.to_numeric(pk["land_price"], errors="coerce") if "land_price" in pk.columns else np.nan,
    }, index=pk.index)
    info["land_price_rank"] = info.groupby("city", dropna=False)["land_price"].rank(method="min")
    info["parks_in_city"] = info.groupby("city", dropna=False)["land_price"].transform("count")
    return a, info


def _candidate_facts(a: pd.DataFrame, candidates: pd.DataFrame, weights, ent_xy, park_xy) -> pd.DataFrame:
    """``first_choice`` (the park is the firm's rank-1 candidate), ``nearest_candidate`` (the park is the
    nearest of the firm's candidate parks, which are feasible ones) and ``adv_<criterion>`` (the pair's
    criterion score minus the mean over the firm's candidates, weighted) for each assignment."""
    _need(candidates, ["enterprise_id", "park_id", "score"], "candidates")
    c = candidates.copy()
    c["enterprise_id"] = c["enterprise_id"].astype(str)
    c["park_id"] = c["park_id"].astype(str)
    keys = ["scenario", "enterprise_id"] if "scenario" in c.columns else ["enterprise_id"]
    if "rank" in c.columns:
        best = c.sort_values(keys + ["rank", "park_id"], kind="stable").drop_duplicates(keys)
    else:
        best = c.sort_values(keys + ["score", "park_id"], ascending=[True] * len(keys) + [False, True],
                             kind="stable").drop_duplicates(keys)
    best = best[keys + ["park_id"]].rename(columns={"park_id": "_first"})
    a = a.merge(best, on=keys, how="left")
    has = a["_first"].notna() & a["placed"]
    a["first_choice"] = np.where(has, a["_first"] == a["park_id"], np.nan)
    a = a.drop(columns="_first")
    known = c["enterprise_id"].isin(ent_xy[0].index) & c["park_id"].isin(park_xy[0].index)
    c = c[known]
    c["_d"] = np.hypot(ent_xy[0].reindex(c["enterprise_id"]).to_numpy() - park_xy[0].reindex(c["park_id"]).to_numpy(),
                       ent_xy[1].reindex(c["enterprise_id"]).to_numpy() - park_xy[1].reindex(c["park_id"]).to_numpy())
    near = c.sort_values(keys + ["_d", "park_id"], kind="stable").drop_duplicates(keys)
    near = near[keys + ["park_id", "_d"]].rename(columns={"park_id": "_near"})
    a = a.drop(columns=["detour_km"], errors="ignore").merge(near, on=keys, how="left")
    a["nearest_candidate"] = np.where(a["_near"].notna() & a["placed"], a["_near"] == a["park_id"], np.nan)
    # the move beyond the nearest candidate (>= 0 when the assigned park is a candidate; the same distances)
    a["detour_km"] = np.where(a["_near"].notna() & a["placed"], a["distance_km"] - a["_d"] / 1000.0, np.nan)
    a = a.drop(columns=["_near", "_d"])
    crit = [k for k in CRITERIA if k in c.columns]
    if not crit:
        return a
    w = {k: 1.0 for k in crit}
    if weights:
        w = {k: float(weights.get(k, 0.0)) for k in crit}
    means = c.groupby(keys)[crit].transform("mean")
    adv = pd.DataFrame({f"adv_{k}": (c[k] - means[k]) * w[k] for k in crit})
    adv[keys + ["park_id"]] = c[keys + ["park_id"]]
    adv = adv.drop_duplicates(keys + ["park_id"])
    a = a.merge(adv, on=keys + ["park_id"], how="left")
    return a


def _missing(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _share(n, d) -> float:
    return float(n) / float(d) if d else float("nan")


def _summary_row(g: str, m: pd.DataFrame, params: ReportParams) -> list:
    placed = m[m["placed"]]
    d = placed["distance_km"].to_numpy(float)
    n = len(placed)
    stat = (lambda f: float(f(d))) if n else (lambda f: float("nan"))
    return [g, len(m), n, len(m) - n, _share(n, len(m)), float(placed["jobs"].sum()), float(placed["land_ha"].sum()),
            stat(np.median), stat(np.mean), stat(lambda x: np.percentile(x, 90)), stat(np.max),
            _share(placed["own_county"].sum(), n), _share(placed["own_city"].sum(), n), *_detour(placed, params)]


def _detour(placed: pd.DataFrame, params: ReportParams) -> list[float]:
    """The median detour (km: the move minus the distance to the firm's nearest candidate park, which are
    feasible ones) and the share of placed firms with a detour above ``params.detour_km``; NaN without
    candidates."""
    det = placed["detour_km"].to_numpy(float) if "detour_km" in placed.columns else np.array([])
    det = det[~np.isnan(det)]
    if not len(det):
        return [float("nan"), float("nan")]
    return [float(np.median(det)), _share(int((det > params.detour_km).sum()), len(det))]


def _bands(g: str, m: pd.DataFrame, params: ReportParams) -> pd.DataFrame:
    placed = m[m["placed"]]
    d = placed["distance_km"].to_numpy(float)
    rows = []
    for text, lo, hi in band_labels(params.bands_km):
        inside = (d >= lo) & (d < hi)
        sel = placed[inside]
        rows.append([g, text, lo, None if hi == float("inf") else hi, int(inside.sum()), _share(inside.sum(), len(placed)),
                     float(sel["jobs"].sum()), float(sel["land_ha"].sum())])
    return pd.DataFrame(rows, columns=["scenario", "band", "from_km", "to_km", "firms", "share", "jobs", "land_ha"])


_LOAD_COLS = ["scenario", "park_id", "park_name", "county", "city", "free_land_ha", "land_ha", "land_share", "firms",
              "jobs", "firm_share", "over_free_land"]


def _load(g: str, m: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    placed = m[m["placed"]]
    if placed.empty:
        return pd.DataFrame(columns=_LOAD_COLS)
    by = placed.groupby("park_id").agg(land_ha=("land_ha", "sum"), firms=("enterprise_id", "size"), jobs=("jobs", "sum"))
    out = info.reindex(by.index)[["park_name", "county", "city", "free_land_ha"]].join(by)
    out["land_share"] = out["land_ha"] / out["free_land_ha"].where(out["free_land_ha"] > 0)
    out["firm_share"] = out["firms"] / len(placed)
    out["over_free_land"] = out["land_ha"] > out["free_land_ha"] + 1e-6
    out["scenario"] = g
    out = out.rename_axis("park_id").reset_index()
    out = out.sort_values(["firms", "land_ha", "park_id"], ascending=[False, False, True], kind="stable")
    return out[_LOAD_COLS].reset_index(drop=True)


def _park_land(moves: pd.DataFrame, scen: list[str], info: pd.DataFrame) -> pd.DataFrame:
    placed = moves[moves["placed"]]
    cols = [land_column(s) for s in scen]
    base = ["park_id", "park_name", "county", "free_land_ha"]
    if placed.empty:
        return pd.DataFrame(columns=base + cols + ["land_used_ha", "land_left_ha", "firms"])
    wide = placed.pivot_table(index="park_id", columns="scenario", values="land_ha", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(columns=scen, fill_value=0.0)
    wide.columns = cols
    out = info.reindex(wide.index)[["park_name", "county", "free_land_ha"]].join(wide)
    out["land_used_ha"] = wide.sum(axis=1)
    out["land_left_ha"] = out["free_land_ha"] - out["land_used_ha"]
    out["firms"] = placed.groupby("park_id").size().reindex(out.index).astype(int)
    out = out.rename_axis("park_id").reset_index()
    return out.sort_values(["land_used_ha", "park_id"], ascending=[False, True], kind="stable").reset_index(drop=True)


_TOP_COLS = ["scenario", "rank", "park_id", "park_name", "county", "city", "firms", "firm_share", "jobs", "land_ha",
             "land_share", "first_choice_share", "nearest_candidate_share", "nearest_share", "sector_match_share",
             "land_price", "land_price_rank",
             "parks_in_city", "top_criteria", "why_zh", "why_en"]


def _top(g: str, m: pd.DataFrame, load: pd.DataFrame, info: pd.DataFrame, params: ReportParams) -> pd.DataFrame:
    head = load[load["scenario"] == g].head(params.top_parks)
    placed = m[m["placed"]]
    adv_cols = [c for c in m.columns if c.startswith("adv_")]
    rows = []
    for rank, r in enumerate(head.itertuples(index=False), start=1):
        mine = placed[placed["park_id"] == r.park_id]
        fc = pd.to_numeric(mine["first_choice"], errors="coerce")
        nc = pd.to_numeric(mine["nearest_candidate"], errors="coerce")
        sm = pd.to_numeric(mine["sector_match"], errors="coerce")
        facts = {
            "first_choice": float(fc.mean()) if fc.notna().any() else float("nan"),
            "nearest_candidate": float(nc.mean()) if nc.notna().any() else float("nan"),
            "nearest": float(mine["nearest"].mean()) if len(mine) else float("nan"),
            "sector": float(sm.mean()) if sm.notna().any() else float("nan"),
        }
        top_crit = []
        if adv_cols:
            means = mine[adv_cols].mean()
            means = means[means > 1e-3].sort_values(ascending=False)
            top_crit = [c.removeprefix("adv_") for c in means.index[:2]]
        p = info.loc[r.park_id]
        price_rank = p["land_price_rank"]
        n_city = p["parks_in_city"]
        why = {lang: _why(facts, top_crit, price_rank, n_city, params, lang) for lang in ("zh", "en")}
        rows.append([g, rank, r.park_id, r.park_name, r.county, r.city, int(r.firms), r.firm_share, float(r.jobs),
                     float(r.land_ha), r.land_share, facts["first_choice"], facts["nearest_candidate"], facts["nearest"],
                     facts["sector"],
                     p["land_price"], None if _missing(price_rank) else int(price_rank),
                     None if _missing(n_city) else int(n_city), ",".join(top_crit), why["zh"], why["en"]])
    return pd.DataFrame(rows, columns=_TOP_COLS)


def _why(facts: dict, top_crit: list[str], price_rank, n_city, params: ReportParams, lang: str) -> str:
    i = 0 if lang == "zh" else 1
    parts = []
    for key in ("first_choice", "nearest_candidate", "nearest", "sector"):
        v = facts[key]
        if not _missing(v) and v >= params.why_share:
            parts.append(_WHY[key][i].format(v=v))
    if not _missing(price_rank) and not _missing(n_city) and n_city > 1:
        if price_rank == 1:
            parts.append(_WHY["cheapest"][i])
        elif price_rank <= max(1, n_city // 3):
            parts.append(_WHY["cheap"][i].format(r=int(price_rank), n=int(n_city)))
    if top_crit:
        sep = "、" if lang == "zh" else ", "
        parts.append(_WHY["criteria"][i].format(c=sep.join(label(f"criterion_{c}", lang) for c in top_crit)))
    if not parts:
        parts.append(_WHY["score"][i])
    return ("；" if lang == "zh" else "; ").join(parts)


_UNPLACED_COLS = ["scenario", "reason", "firms", "share", "jobs", "land_ha", "examples"]


def _unplaced(g: str, m: pd.DataFrame, params: ReportParams) -> pd.DataFrame:
    un = m[~m["placed"]].copy()
    if un.empty:
        return pd.DataFrame(columns=_UNPLACED_COLS)
    un["reason"] = un["reason"].map(lambda v: "unknown" if _missing(v) else str(v))
    rows = []
    for reason, grp in un.groupby("reason", sort=False):
        ex = grp.sort_values("enterprise_id").head(params.examples)
        examples = "; ".join(f"{eid} {'' if _missing(n) else n}".strip() for eid, n in zip(ex["enterprise_id"], ex["name"]))
        rows.append([g, reason, len(grp), _share(len(grp), len(m)), float(grp["jobs"].sum()), float(grp["land_ha"].sum()),
                     examples])
    out = pd.DataFrame(rows, columns=_UNPLACED_COLS)
    return out.sort_values(["firms", "reason"], ascending=[False, True], kind="stable").reset_index(drop=True)


_FLAG_COLS = ["scenario", "flag", "park_id", "value", "threshold", "message_zh", "message_en"]


def _flags(groups, summary, load, unplaced, moves, params: ReportParams, *, multi: bool) -> pd.DataFrame:
    rows = []

    def add(g, flag, park, value, threshold, park_name=None, **extra):
        who = park_name if park_name is not None and not _missing(park_name) else park
        msgs = [_FLAG_MESSAGES[flag][i].format(park=who, value=value, threshold=threshold, **extra) for i in (0, 1)]
        rows.append([g, flag, park, float(value), float(threshold), *msgs])

    land_groups = [ALL] if multi else list(groups)
    for g in groups:
        s = summary[summary["scenario"] == g].iloc[0]
        gl = load[load["scenario"] == g]
        if g in land_groups:
            for r in gl[gl["over_free_land"]].itertuples(index=False):
                add(g, "over_free_land", r.park_id, r.land_ha, r.free_land_ha, r.park_name)
        limit = params.median_move_limit(g)
        if not _missing(s["median_km"]) and s["median_km"] > limit:
            add(g, "median_move", None, s["median_km"], limit)
        if not _missing(s["detour_share"]) and s["detour_share"] > params.detour_share_max:
            add(g, "detour", None, s["detour_share"], params.detour_share_max, km=params.detour_km,
                median=s["median_detour_km"])
        if s["assigned"] >= params.park_share_min_firms:
            for r in gl[gl["firm_share"] > params.park_share_max].itertuples(index=False):
                add(g, "park_share", r.park_id, r.firm_share, params.park_share_max, r.park_name)
        for scen, kind, expected in params.expected_shares:
            value = s[f"{kind}_share"]
            if scen == g and not _missing(value) and value < expected:
                add(g, f"{kind}_share", None, value, expected)
        un = unplaced[(unplaced["scenario"] == g) & (unplaced["reason"] != "closure_or_upgrade")]
        share = _share(un["firms"].sum(), s["enterprises"])
        if not _missing(share) and share > params.unplaced_share_max:
            add(g, "unplaced_share", None, share, params.unplaced_share_max)
    return pd.DataFrame(rows, columns=_FLAG_COLS)


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for rec in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        out.append({str(k): jsonable(v) for k, v in rec.items()})
    return out


_CODE_COLUMNS = {"scenario": "scenario_", "reason": "reason_", "flag": "flag_"}


def _labelled(frame: pd.DataFrame, lang: str, scenarios=()) -> pd.DataFrame:
    """``frame`` for people: codes as words, booleans as yes/no, the other language's text dropped,
    columns labelled."""
    out = frame.copy()
    other = "en" if lang == "zh" else "zh"
    out = out.drop(columns=[c for c in out.columns if c.endswith(f"_{other}")])
    out = out.rename(columns={c: c.removesuffix(f"_{lang}") for c in out.columns if c.endswith(f"_{lang}")})
    for col, prefix in _CODE_COLUMNS.items():
        if col in out.columns:
            out[col] = out[col].map(lambda v, p=prefix: v if _missing(v) else label(f"{p}{v}", lang)).astype(object)
    if lang == "zh" and {"band", "from_km", "to_km"} <= set(out.columns):  # the distance bands in Chinese
        out["band"] = [band_text(lo, None if _missing(hi) else hi, "zh") for lo, hi in zip(out["from_km"], out["to_km"])]
    if "top_criteria" in out.columns:
        sep = "、" if lang == "zh" else ", "
        out["top_criteria"] = out["top_criteria"].map(
            lambda v: "" if _missing(v) or not v else sep.join(label(f"criterion_{c}", lang) for c in str(v).split(",")))
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].map(lambda v: label("yes" if v else "no", lang)).astype(object)
    if "jobs" in out.columns:
        out["jobs"] = pd.to_numeric(out["jobs"], errors="coerce").round().astype("Int64")
    columns = {}
    land_cols = {land_column(s): s for s in scenarios}
    for c in out.columns:
        if c in land_cols:
            columns[c] = label("land_scenario_ha", lang, scenario=label(f"scenario_{land_cols[c]}", lang))
        elif c.startswith("status_") and c not in LABELS:
            columns[c] = label("status_count", lang, status=c[7:])
        else:
            columns[c] = label(c, lang)
    return out.rename(columns=columns).reset_index(drop=True)
