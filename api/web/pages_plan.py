"""``/ui/plan``: the plan's targets with progress bars and a line chart per indicator against its target path,
the county table with a map of project investment per county, the share going to less-developed
counties, overdue projects, supply chains and key enterprises (filter: 五个一批 / 小型巨人).

The figures are :mod:`api.routes.plan`'s (the functions behind ``GET /plan/...``), so the page shows what
the API answers; an edited targets file (``$PARKPLAN_TARGETS``) changes the page on the next load.
Charts and the map are SVG drawn on the server from matplotlib ``Figure`` objects (no pyplot state),
text drawn as paths, shown through ``<img>``: nothing in them can run.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
from fastapi import APIRouter, Request

from ..routes.plan import TargetsUnavailable, app_targets, indicator_report, plan_cached, projects_document
from . import backend
from .charts import FONT_SIZE, new_figure, svg_uri
from .pages_metrics import _map_counties
from .core import lang_of, page_error
from . import i18n
from .i18n import translator

router = APIRouter()

ROWS_SHOWN = 200
MESSAGES: dict[str, tuple[str, str]] = {
    "nav_plan": ("计划监测", "Plan monitoring"),
    "plan_title": ("技术改造计划目标监测", "Monitoring the technical-transformation plan"),
    "plan_targets": ("计划目标", "The plan's targets"),
    "report_year": ("报告年份", "Report year"),
    "key_filter": ("重点企业", "Key enterprises"),
    "key_all": ("全部（五个一批和小型巨人）", "All (five batches and small giants)"),
    "key_enterprise": ("五个一批", "Five batches (key enterprises)"),
    "small_giant": ("小型巨人", "Small giants"),
    "plan_value": ("实际值", "Value"),
    "target_path": ("目标路径值", "Target path"),
    "target_value": ("目标值", "Target"),
    "progress": ("完成进度", "Progress"),
    "on_track": ("达标", "on track"),
    "off_track": ("未达标", "off track"),
    "no_data": ("无数据", "no data"),
    "source_fai": ("技改投资取自固定资产投资表", "Technical-transformation investment from the fixed-asset investment layer"),
    "source_projects": ("技改投资为技改项目按开工年份汇总", "Technical-transformation investment summed from the projects by start year"),
    "counties_table": ("分县情况", "By county"),
    "county_map": ("各县技改项目投资（亿元）", "Project investment by county (100 M yuan)"),
    "less_developed": ("欠发达", "Less-developed"),
    "yes": ("是", "yes"),
    "tech_share_fai": ("技改投资占固定资产投资比重", "Tech. share of FAI"),
    "high_tech_share": ("高新技术产业增加值比重", "High-tech share of value added"),
    "plan_projects": ("项目数", "Projects"),
    "investment_e8": ("投资（亿元）", "Investment (100 M yuan)"),
    "subsidy_e4": ("贴息（万元）", "Subsidy (10k yuan)"),
    "ld_share": ("欠发达地区所占比重（四.八）", "Share going to less-developed counties (plan 4.8)"),
    "year": ("年份", "Year"),
    "all_years": ("合计", "All years"),
    "share_investment": ("投资占比", "Share of investment"),
    "share_subsidy": ("贴息占比", "Share of subsidies"),
    "overdue": ("逾期项目", "Overdue projects"),
    "overdue_note": ("截至 {as_of}：共 {n} 个（未竣工已超计划竣工日期，或竣工晚于计划）",
                     "At {as_of}: {n} (open past the planned completion, or completed late)"),
    "project": ("项目", "Project"),
    "planned_completion": ("计划竣工", "Planned completion"),
    "actual_completion": ("实际竣工", "Actual completion"),
    "overdue_kind": ("类型", "Kind"),
    "overdue_open": ("未竣工", "open"),
    "overdue_late": ("延期竣工", "late"),
    "days_late": ("逾期天数", "Days late"),
    "chains": ("产业链配套（四.四.1）", "Supply chains (plan 4.4.1)"),
    "leader": ("链主企业", "Chain leader"),
    "suppliers": ("配套企业数", "Suppliers"),
    "same_county": ("同县", "Same county"),
    "same_city": ("同市", "Same city"),
    "median_km": ("距离中位数（公里）", "Median distance (km)"),
    "supplier_projects": ("配套企业项目", "Suppliers' projects"),
    "key_list": ("重点企业名单", "Key enterprises"),
    "park": ("园区", "Park"),
    "revenue_e8": ("营业收入（亿元）", "Revenue (100 M yuan)"),
    "shown_first": ("显示前 {n} 条，共 {total} 条", "First {n} of {total}"),
}


UNIT_SHOWN = {"percent": "%", "share": "", "count": "", "yuan": "元", "10k_yuan": "万元", "100m_yuan": "亿元",
              "billion_yuan": "十亿元"}
UNIT_SHOWN_EN = {"percent": "%", "share": "", "count": "", "个": "", "家": "", "yuan": "yuan", "元": "yuan",
                 "10k_yuan": "10k yuan", "万元": "10k yuan", "100m_yuan": "100 M yuan", "亿元": "100 M yuan",
                 "billion_yuan": "billion yuan"}


def unit_shown(unit: str, lang: str) -> str:
    """How a targets-file unit is written on the page."""
    return (UNIT_SHOWN_EN if lang == "en" else UNIT_SHOWN).get(unit, unit)


# this page's labels join the workspace's one table (so every template's labels are checked there); a key
# already there keeps its text
_CLASH = sorted(k for k in MESSAGES if k in i18n.MESSAGES and i18n.MESSAGES[k] != MESSAGES[k])
assert not _CLASH, f"plan page labels clash with the workspace's: {_CLASH}"
for _k, _v in MESSAGES.items():
    i18n.MESSAGES.setdefault(_k, _v)


def plan_translator(lang: str):
    """The workspace's ``t`` (which holds this page's messages)."""
    return translator(lang)


def target_chart(years: list[int], values: list[float | None], path: list[float | None], *, title: str, unit: str,
                 value_label: str, path_label: str, lang: str = "zh") -> str:
    """The indicator's values (solid) against its target path (dashed), in the targets file's unit (after the title,
    in full-width brackets in Chinese)."""
    fig = new_figure((4.6, 2.6))
    ax = fig.subplots()
    v = np.array([np.nan if x is None else x for x in values], dtype=float)
    p = np.array([np.nan if x is None else x for x in path], dtype=float)
    ax.plot(years, v, color="#3b6ea5", lw=2, marker="o", ms=3, label=value_label)
    if np.isfinite(p).any():
        ax.plot(years, p, color="#c0392b", lw=1.5, ls="--", label=path_label)
    bracket = ("（", "）") if lang == "zh" else (" (", ")")
    ax.set_title(f"{title}{bracket[0]}{unit}{bracket[1]}" if unit else title, fontsize=FONT_SIZE)
    ax.tick_params(axis="y", labelsize=FONT_SIZE)
    ax.set_xticks(years, [str(y) for y in years], fontsize=7)
    ax.legend(frameon=False, fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return svg_uri(fig)


def investment_map(counties, values: dict[str, float], *, title: str) -> str:
    """Counties shaded by project investment (100 M yuan); counties without projects in light grey."""
    fig = new_figure((4.8, 4.6))
    ax = fig.subplots()
    c = counties.assign(v=counties["code"].astype(str).map(values))
    if c["v"].isna().any():
        c[c["v"].isna()].plot(ax=ax, color="#eeeeee", edgecolor="#888888", linewidth=0.3)
    if c["v"].notna().any():
        c[c["v"].notna()].plot(ax=ax, column="v", cmap="YlOrRd", edgecolor="#666666", linewidth=0.3, legend=True,
                               legend_kwds={"shrink": 0.6})
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=FONT_SIZE)
    for axes in fig.axes:  # the colour bar's ticks
        axes.tick_params(labelsize=FONT_SIZE)
    return svg_uri(fig)


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def _view(request: Request, year: int | None, key: str | None, lang: str) -> dict:
    rep, targets = indicator_report(request.app, year=year)
    t = plan_translator(lang)
    prov = rep.table[rep.table["level"] == "province"]
    cards = []
    for tg, d in zip(targets, rep.to_dict(level="province")["targets"], strict=True):
        rows = prov[prov["target_id"] == tg.id].sort_values("year")
        f = tg.factor
        vals = [None if not _finite(v) else v / f for v in rows["value"]]
        path = [None if not _finite(v) else v / f for v in rows["target"]]
        unit = unit_shown(tg.unit, lang)
        chart = target_chart([int(y) for y in rows["year"]], vals, path, title=tg.label(lang), unit=unit,
                             value_label=t("plan_value"), path_label=t("target_path"), lang=lang) if len(rows) else None
        prog = d.get("progress")
        cards.append({"id": tg.id, "label": tg.label(lang), "quote": tg.quote, "section": tg.section, "unit": unit,
                      "value": None if d.get("value") is None else d["value"] / f,
                      "expected": None if d.get("expected") is None else d["expected"] / f,
                      "target_value": tg.target_value / f, "target_year": tg.target_year, "on_track": d.get("on_track"),
                      "progress": None if prog is None else max(0.0, min(1.0, prog)), "progress_raw": prog,
                      "chart": chart})
    doc = projects_document(request.app, as_of=None, key=key, report_year=rep.year)
    ds = backend.dataset(request)
    county_vals = rep.table[(rep.table["level"] == "county") & (rep.table["year"] == rep.year)]
    by = {(r.target_id, r.group): r.value for r in county_vals.itertuples()}
    ids = {tg.indicator: tg.id for tg in targets}
    sums = {r["county_code"]: r for r in doc["sums"]["county_code"]}
    counties = []
    for c in ds.counties.sort_values("code").itertuples():
        code = str(c.code)
        s = sums.get(code, {})
        counties.append({"code": code, "name": c.name, "city": c.city, "less_developed": bool(c.less_developed),
                         "share_fai": by.get((ids.get("tech_share_of_fai"), code)),
                         "high_tech": by.get((ids.get("high_tech_share_of_value_added"), code)),
                         "projects": s.get("projects", 0), "investment": (s.get("investment") or 0) / 1e8,
                         "subsidy": (s.get("subsidy") or 0) / 1e4})
    inv = {c["code"]: c["investment"] for c in counties if c["projects"]}
    return {
        "plan": rep.targets.plan, "year": rep.year, "years": rep.years, "source": rep.source, "cards": cards,
        "counties": counties,
        "county_map": investment_map(_map_counties(request), inv, title=t("county_map")),
        "ld_share": doc["less_developed_share"],
        "overdue": doc["overdue"][:ROWS_SHOWN], "overdue_total": doc["overdue_total"], "as_of": doc["as_of"],
        "leaders": doc["chains"]["leaders"][:ROWS_SHOWN],
        "key_rows": doc["key_enterprises"]["rows"][:ROWS_SHOWN], "key_total": doc["key_enterprises"]["total"],
        "key_counts": doc["key_enterprises"]["counts"], "rows_shown": ROWS_SHOWN,
    }


def warm(state, lang: str = "zh") -> None:
    """The page's default view (latest year, every key enterprise) computed ahead, for the start-up warm-up, under
    the key the page reads. The page's functions take a request for its app: here a stand-in holding the state."""
    from types import SimpleNamespace

    app = SimpleNamespace(state=SimpleNamespace(parkplan=state, dataset=state.dataset))
    where = SimpleNamespace(app=app)
    _, tkey = app_targets(app)
    # the stand-in has what _view reads of a request (its app)
    plan_cached(app, tkey + ("page", None, None, lang), lambda: _view(cast(Request, where), None, None, lang))


@router.get("/ui/plan", include_in_schema=False)
def plan_page(request: Request, user: backend.AnalystPage, year: str | None = None, key: str | None = None):
    lang = lang_of(request)
    y = None
    if year:
        try:
            y = int(year)
        except ValueError:
            return page_error(request, 400, "bad_request", user=user,
                              detail=i18n.translator(lang)("plan_bad_year", year=year))
        if not 1900 <= y <= 2100:
            return page_error(request, 400, "bad_request", user=user,
                              detail=i18n.translator(lang)("plan_year_range", year=y))
    if key in ("", None):
        key = None
    elif key not in ("key_enterprise", "small_giant"):
        return page_error(request, 400, "bad_request", user=user,
                          detail=i18n.translator(lang)("plan_bad_key", value=key))
    try:
        _, tkey = app_targets(request.app)
        view = plan_cached(request.app, tkey + ("page", y, key, lang), lambda: _view(request, y, key, lang))
    except TargetsUnavailable as exc:  # a coded refusal carries its Chinese text (api.problems.coded_members)
        detail = exc.extra.get("detail_zh", exc.detail) if lang == "zh" else exc.detail
        return page_error(request, 500, "bad_request", user=user, detail=detail)
    view = dict(view, key=key, t=plan_translator(lang))
    # the page's tables and charts (200 rows each, the SVG charts) follow from the view: rendered once per view
    return backend.render_content_cached(request, "plan.html", view, tkey + ("page", y, key), user)
