"""``/ui/scenarios``: the planner's report on a relocation plan, for analysts and up.

A scenario picker (urban-core, scattered, coastal-transfer, or the joint plan of all three), the sanity
checks, the report's tables (:class:`parks.suitability.plan_report.PlanReport`: summary, moves by
distance band with a chart, the parks taking the most and why, park land by scenario, park load, what
stays unplaced and why, flows between counties), the flow map in an iframe and the Excel file. The plan
is the one ``GET /scenarios/{scenario}/plan`` serves (:func:`api.routes.scenarios.plan_future`: computed
once, in the background); while it is being computed the page says so and reloads itself.

Every column and code is labelled by the report module's own table (the words of the Excel file), the
page's own words by :mod:`api.web.i18n`.
"""

from __future__ import annotations

from concurrent.futures import TimeoutError as FutureTimeout

import pandas as pd
from fastapi import APIRouter, Request

from . import backend, charts
from .core import lang_of, page_error, render
from .i18n import band_label

router = APIRouter()

SCENARIO_CHOICES = ("all", "urban-core", "scattered", "coastal-transfer")
PAGE_WAIT_S = 60.0  # the page waits this long for a plan, then shows "computing" and reloads itself
REFRESH_S = 10
ROWS_SHOWN = 30  # longer tables: the first rows here, all of them in the Excel file

_INT = {"enterprises", "assigned", "unassigned", "firms", "rank", "land_price_rank", "parks_in_city", "jobs",
        "jobs_moved"}
_TEXT = {"scenario", "band", "park_id", "park_name", "county", "city", "top_criteria", "why_zh", "why_en", "reason",
         "examples", "flag", "message_zh", "message_en", "origin_county", "origin_city", "destination_county",
         "destination_city", "over_free_land", "same_county"}
_HIDDEN = {"origin_county_code", "destination_county_code", "from_km", "to_km", "value", "threshold", "park_id_flag"}


def _kind(col: str) -> str:
    if col in _TEXT:
        return "text"
    if col in _INT:
        return "int"
    if col == "share" or col.endswith("_share"):
        return "pct"
    return "num"


def _view(report, name: str, lang: str, rows: pd.DataFrame | None = None, *, hide=(), limit: int | None = None) -> dict:
    """A table for the template: ``columns`` [(label, kind)], ``rows`` [[(value, kind)]], ``more`` (rows not shown)."""
    frame = getattr(report, name) if rows is None else rows
    other = "_en" if lang == "zh" else "_zh"
    keep = [c for c in frame.columns if not c.endswith(other) and c not in _HIDDEN and c not in hide]
    frame = frame[keep]
    total = len(frame)
    if limit is not None:
        frame = frame.head(limit)
    shown = report.table(name, lang, frame)
    kinds = [_kind(c) for c in keep]
    body = [[(None if _missing(v) else v, k) for v, k in zip(r, kinds)] for r in shown.itertuples(index=False)]
    return {"id": name.replace("_", "-"), "columns": list(zip(shown.columns, kinds)), "rows": body,
            "more": max(0, total - len(frame))}


def _bands_view(report, lang: str) -> dict:
    """Moves by distance band, one row per scenario: the placed firms and the share in each band."""
    from parks.suitability.plan_report import label

    bands = report.distance_bands
    order = list(dict.fromkeys(bands["band"]))
    rows = []
    for scen in report.scenarios:
        sub = bands[bands["scenario"] == scen].set_index("band")
        rows.append([(label(f"scenario_{scen}", lang), "text"), (int(sub["firms"].sum()), "int")]
                    + [(None if _missing(sub["share"].get(b)) else float(sub["share"].get(b)), "pct") for b in order])
    columns = [(label("scenario", lang), "text"), (label("assigned", lang), "int")]
    bounds = dict(zip(bands["band"], zip(bands["from_km"], bands["to_km"])))
    columns += [(band_label(lang, *bounds[b]), "pct") for b in order]
    return {"id": "distance-bands", "columns": columns, "rows": rows, "more": 0}


def _missing(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _report_view(request, scenario: str, done, lang: str) -> dict:
    """The report's tables and chart for the page, once per plan and language (``request``: the request, or the
    app's state when warming up)."""
    from parks.suitability.plan_report import ALL, label

    def compute():
        r = done.report
        group = ALL if ALL in r.scenarios else scenario
        one = lambda frame: frame[frame["scenario"] == group]  # noqa: E731
        bands = one(r.distance_bands)
        view = {
            "flags": [{"scenario": label(f"scenario_{f.scenario}", lang), "flag": label(f"flag_{f.flag}", lang),
                       "message": f.message_zh if lang == "zh" else f.message_en} for f in r.flags.itertuples()],
            "summary": _view(r, "summary", lang),
            "bands": _bands_view(r, lang),
            "bands_chart": charts.bar_chart([band_label(lang, lo, hi) for lo, hi in zip(bands["from_km"], bands["to_km"])], bands["firms"].tolist(),
                                            xlabel=label("firms", lang)) if len(bands) else None,
            "top_parks": _view(r, "top_parks", lang, one(r.top_parks), hide=("scenario", "top_criteria", "city")),
            "park_land": _view(r, "park_land", lang, limit=ROWS_SHOWN),
            "park_load": _view(r, "park_load", lang, one(r.park_load), hide=("scenario",), limit=ROWS_SHOWN),
            "unplaced": _view(r, "unplaced", lang),
            "flows": _view(r, "flows", lang, limit=ROWS_SHOWN),
            "group_label": label(f"scenario_{group}", lang),
            "titles": {k: label(f"table_{k}", lang) for k in ("summary", "distance_bands", "park_load", "park_land",
                                                             "top_parks", "unplaced", "flags", "flows")},
        }
        return view

    return backend.cached(request, f"scenario_view:{scenario}:{id(done)}:{lang}", compute)


def warm(state, lang: str = "zh") -> None:
    """Every scenario's report view (tables and the distance chart) and its flow map (the page's frame), made
    ahead in this process for the start-up warm-up (each worker warms its own), once its plan is computed (the
    warm-up computed the default plans before); a plan that failed is left to the page to report."""
    from ..routes import scenarios as routes

    for scenario in SCENARIO_CHOICES:
        fut = routes.state_plan_future(state, scenario)
        if fut.exception() is not None:  # waits for the plan
            continue
        done = fut.result()
        _report_view(state, scenario, done, lang)
        routes._flows(state, done, scenario, lang, "firms")  # the frame's map, kept under the key the page's reads


@router.get("/ui/scenarios", include_in_schema=False)
def scenarios_page(request: Request, user: backend.AnalystPage, scenario: str | None = None):
    from parks.suitability.plan_report import label

    from ..routes.scenarios import plan_future

    lang = lang_of(request)
    if scenario not in SCENARIO_CHOICES:
        scenario = SCENARIO_CHOICES[0]
    fut = plan_future(request.app, scenario)
    ctx = {"scenario": scenario, "choices": [(s, label(f"scenario_{s}", lang)) for s in SCENARIO_CHOICES],
           "scenario_label": label(f"scenario_{scenario}", lang), "refresh_s": REFRESH_S, "rows_shown": ROWS_SHOWN}
    try:
        done = fut.result(timeout=PAGE_WAIT_S)
    except FutureTimeout:
        page = render(request, "scenarios.html", {**ctx, "computing": True}, user=user)
        page.headers["Refresh"] = str(REFRESH_S)  # reload (the <meta> in the page says the same)
        return page
    except ValueError as exc:  # the model refused the data (a missing column, ...): say what, as the API does
        return page_error(request, 400, "plan_failed", user=user, detail=str(exc))
    ctx.update(computing=False, status=done.status, mip_gap=done.mip_gap, seconds=done.seconds,
               order=[label(f"scenario_{s}", lang) for s in done.order], **_report_view(request, scenario, done, lang))
    return render(request, "scenarios.html", ctx, user=user)
