"""The plan-monitoring report as an Excel workbook: a sheet per table, native openpyxl line charts of
each target's provincial value against its target path, a bar chart of project investment by year.

Numbers are shown in the unit the targets file uses (亿元, %, 个 ...) on the target sheets, in yuan on
the project sheets. Every sheet goes through :func:`geodata.spreadsheet.safe_frame` (the one formula
guard): no text from the data becomes a formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.utils import get_column_letter

from geodata.spreadsheet import safe_cell, safe_frame
from geodata.targets import Targets

__all__ = ["write_plan_workbook", "SHEETS"]

# sheet id -> (zh name, en name)
SHEETS = {
    "targets": ("目标", "targets"),
    "trends": ("全省趋势", "province trends"),
    "indicators": ("指标明细", "indicators"),
    "counties": ("分县", "counties"),
    "by_year": ("项目按年度", "projects by year"),
    "by_county": ("项目按区县", "projects by county"),
    "by_park": ("项目按园区", "projects by park"),
    "by_sector": ("项目按行业", "projects by sector"),
    "by_funding": ("项目按资金来源", "projects by funding"),
    "less_developed": ("欠发达地区占比", "less-developed share"),
    "overdue": ("逾期项目", "overdue projects"),
    "chains": ("产业链", "chain leaders"),
    "chain_links": ("配套企业", "chain suppliers"),
    "key_enterprises": ("重点企业", "key enterprises"),
}

HEADERS_ZH = {
    "id": "编号", "target_id": "目标", "label": "指标", "section": "计划条款", "quote": "计划原文", "unit": "单位",
    "base_year": "基期年份", "base_value": "基期值", "target_year": "目标年份", "target_value": "目标值",
    "path": "路径", "year": "年份", "value": "实际值", "target": "目标路径值", "expected": "目标路径值", "gap": "差距",
    "on_track": "是否达标", "progress": "完成进度", "level": "层级", "group": "地区", "group_name": "地区名称",
    "indicator": "指标代码", "county_code": "区县代码", "county_name": "区县", "city": "城市", "park_id": "园区编号",
    "park_name": "园区", "sector": "行业", "funding": "资金来源", "projects": "项目数", "investment": "投资（元）",
    "subsidy": "贴息（元）", "imported_equipment_usd": "引进设备用汇（美元）", "share_of_investment": "投资占比",
    "less_developed": "欠发达", "investment_less_developed": "欠发达县投资（元）", "share_investment": "欠发达县投资占比",
    "subsidy_less_developed": "欠发达县贴息（元）", "share_subsidy": "欠发达县贴息占比", "project_id": "项目编号",
    "enterprise_id": "企业编号", "title": "项目名称", "status": "状态", "start_date": "开工日期",
    "planned_completion": "计划竣工日期", "actual_completion": "实际竣工日期", "overdue": "逾期类型", "days_late": "逾期天数",
    "name": "企业名称", "employees": "从业人员", "revenue": "营业收入（元）", "key_enterprise": "五个一批",
    "small_giant": "小型巨人", "high_tech": "高新技术企业", "note": "说明",
}


def _display(value, factor: float):
    return None if value is None else value / factor


def _target_rows(doc: dict, targets: Targets, lang: str) -> pd.DataFrame:
    rows = []
    for t, d in zip(targets, doc["indicators"]["targets"], strict=True):
        rows.append({"id": t.id, "label": t.label(lang), "section": t.section, "quote": t.quote, "unit": t.unit,
                     "base_year": t.base_year, "base_value": _display(t.base_value, t.factor), "target_year": t.target_year,
                     "target_value": _display(t.target_value, t.factor), "path": t.path, "year": d.get("year"),
                     "value": _display(d.get("value"), t.factor), "expected": _display(d.get("expected"), t.factor),
                     "gap": _display(d.get("gap"), t.factor), "on_track": d.get("on_track"), "progress": d.get("progress"),
                     "note": t.note})
    return pd.DataFrame(rows)


def _indicator_rows(ind, targets: Targets) -> pd.DataFrame:
    t = ind.table.copy()
    factor = {tg.id: tg.factor for tg in targets}
    unit = {tg.id: tg.unit for tg in targets}
    f = t["target_id"].map(factor).astype(float)
    for c in ("value", "target", "gap"):
        t[c] = pd.to_numeric(t[c], errors="coerce") / f
    t.insert(2, "unit", t["target_id"].map(unit))
    t.insert(5, "group_name", t["group"].map(ind.group_names).fillna(t["group"]))
    return t


def _county_rows(ind, targets: Targets, doc: dict, counties: pd.DataFrame) -> pd.DataFrame:
    """One row per county in the report year: every target's value (display units) and the projects."""
    year = ind.year
    t = ind.table[(ind.table["level"] == "county") & (ind.table["year"] == year)]
    wide = t.pivot_table(index="group", columns="target_id", values="value", aggfunc="first")
    for tg in targets:
        if tg.id in wide:
            wide[tg.id] = wide[tg.id] / tg.factor
    wide = wide.rename(columns={tg.id: f"{tg.id} ({tg.unit})" for tg in targets})
    c = counties.assign(code=counties["code"].astype(str)).set_index("code")[["name", "city", "less_developed"]]
    out = c.join(wide, how="left")
    sums = pd.DataFrame(doc["projects"]["sums"]["county_code"])
    if len(sums):
        sums = sums.set_index("county_code")[["projects", "investment", "subsidy"]]
        out = out.join(sums, how="left")
    out.index.name = "county_code"
    return out.reset_index().rename(columns={"name": "county_name"})


def _write(writer, frame: pd.DataFrame, sheet: str, lang: str) -> None:
    f = frame.rename(columns=HEADERS_ZH) if lang == "zh" else frame
    safe_frame(f).to_excel(writer, sheet_name=sheet, index=False)
    ws = writer.sheets[sheet]
    for i, col in enumerate(f.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(str(col)) * 2 + 2))
    ws.freeze_panes = "A2"


def _trend_sheet(writer, ind, targets: Targets, sheet: str, lang: str) -> None:
    """Per target, a block (year, value, target path) and a line chart of the two."""
    prov = ind.table[ind.table["level"] == "province"]
    ws = writer.book.create_sheet(sheet)
    writer.sheets[sheet] = ws
    head = ("年份", "实际值", "目标路径") if lang == "zh" else ("year", "value", "target path")
    for i, tg in enumerate(targets):
        col = 1 + 4 * i
        rows = prov[prov["target_id"] == tg.id].sort_values("year")
        ws.cell(row=1, column=col, value=safe_cell(f"{tg.label(lang)} ({tg.unit})"))
        for j, h in enumerate(head):
            ws.cell(row=2, column=col + j, value=h)
        for r, (_, row) in enumerate(rows.iterrows(), start=3):
            ws.cell(row=r, column=col, value=int(row["year"]))
            for j, key in ((1, "value"), (2, "target")):
                v = row[key]
                ws.cell(row=r, column=col + j, value=None if v is None or pd.isna(v) else float(v) / tg.factor)
        last = 2 + len(rows)
        if len(rows) < 2:
            continue
        chart = LineChart()
        chart.title = tg.label(lang)
        chart.y_axis.title = tg.unit
        chart.x_axis.title = head[0]
        chart.height, chart.width = 7, 12
        chart.add_data(Reference(ws, min_col=col + 1, max_col=col + 2, min_row=2, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=col, min_row=3, max_row=last))
        ws.add_chart(chart, f"{get_column_letter(1 + 8 * (i % 2))}{len(prov['year'].unique()) + 6 + 16 * (i // 2)}")


def write_plan_workbook(doc: dict, ind, targets: Targets, counties: pd.DataFrame, path: str | Path,
                        lang: str = "zh") -> Path:
    """Write the report ``doc`` (:func:`parks.monitoring.report.plan_report`) to ``path`` (.xlsx)."""
    path = Path(path)
    k = 0 if lang == "zh" else 1
    name = {sid: names[k] for sid, names in SHEETS.items()}
    p = doc["projects"]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        _write(writer, _target_rows(doc, targets, lang), name["targets"], lang)
        _trend_sheet(writer, ind, targets, name["trends"], lang)
        _write(writer, _indicator_rows(ind, targets), name["indicators"], lang)
        _write(writer, _county_rows(ind, targets, doc, counties), name["counties"], lang)
        for sid, by in (("by_year", "year"), ("by_county", "county_code"), ("by_park", "park_id"),
                        ("by_sector", "sector"), ("by_funding", "funding")):
            frame = pd.DataFrame(p["sums"][by])
            if by == "year" and len(frame):
                frame = frame.sort_values("year", ignore_index=True)
            _write(writer, frame, name[sid], lang)
        _write(writer, pd.DataFrame(p["less_developed_share"]), name["less_developed"], lang)
        _write(writer, pd.DataFrame(p["overdue"]), name["overdue"], lang)
        _write(writer, pd.DataFrame(p["chains"]["leaders"]), name["chains"], lang)
        _write(writer, pd.DataFrame(p["chains"]["links"]), name["chain_links"], lang)
        _write(writer, pd.DataFrame(p["key_enterprises"]["rows"]), name["key_enterprises"], lang)
        by_year = pd.DataFrame(p["sums"]["year"])
        if len(by_year) > 1:
            ws = writer.sheets[name["by_year"]]
            n = len(by_year)
            chart = BarChart()
            chart.title = "技改项目投资（按开工年份）" if lang == "zh" else "Project investment by start year"
            inv_col = list(by_year.columns).index("investment") + 1
            chart.add_data(Reference(ws, min_col=inv_col, min_row=1, max_row=n + 1), titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
            chart.height, chart.width = 8, 16
            ws.add_chart(chart, f"{get_column_letter(len(by_year.columns) + 2)}2")
    return path
