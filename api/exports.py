"""Exports of the transfer review: an office's decisions (CSV, Excel) and one candidate's review sheet (PDF).

The PDF is in Chinese, set in Noto Sans CJK SC from Debian's ``fonts-noto-cjk``
(``/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc``, face "Noto Sans CJK SC"), or the font
file named by ``PARKPLAN_CJK_FONT``. It holds the enterprise, the proposed park on a small map
(matplotlib, no tiles), the frozen score breakdown, the second-best alternative, the excluded parks
with their reasons, and the decision history.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from geodata.spreadsheet import safe_cell

from .problems import ProblemError

__all__ = ["XLSX", "DECISION_COLUMNS", "decisions_csv", "decisions_xlsx", "review_sheet_pdf", "cjk_font"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DECISION_COLUMNS = {
    "candidate_id": "候选编号", "enterprise_id": "企业编号", "enterprise_name": "企业名称",
    "origin_county_code": "迁出县代码", "destination_county_code": "迁入县代码", "park_id": "园区编号",
    "park_name": "园区名称", "score": "适宜性得分", "decision": "审核结论", "comment": "意见",
    "reviewer": "审核人", "decided_at": "审核时间(UTC)", "version_after": "版本", "current_status": "当前状态",
}
DECISION_ZH = {"approved": "同意", "rejected": "不同意", "needs_info": "需补充材料", "pending": "待审核"}
_SCENARIO_ZH = {"coastal-transfer": "沿海向欠发达地区转移", "urban-core": "城区企业退城入园", "scattered": "分散企业入园"}
_FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", None),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", None),
)


class FontMissing(ProblemError):
    status = 503


def decisions_csv(rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with BOM (so that Excel opens the Chinese headers correctly)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(list(DECISION_COLUMNS))
    w.writerow(list(DECISION_COLUMNS.values()))
    for r in rows:
        w.writerow([safe_cell(r.get(k)) for k in DECISION_COLUMNS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def decisions_xlsx(rows: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "审核结论"
    ws.append(list(DECISION_COLUMNS.values()))
    for r in rows:
        values = [safe_cell(r.get(k)) for k in DECISION_COLUMNS]
        ws.append(values)
        cell = ws.cell(row=ws.max_row, column=list(DECISION_COLUMNS).index("decision") + 1)
        cell.value = DECISION_ZH.get(r.get("decision"), r.get("decision"))
    meta = wb.create_sheet("fields")
    meta.append(["column", "列名"])
    for k, v in DECISION_COLUMNS.items():
        meta.append([k, v])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def cjk_font() -> tuple[str, int]:
    """(font file, face index in a collection) of an installed font that sets simplified Chinese."""
    env = os.environ.get("PARKPLAN_CJK_FONT")
    candidates = [(env, None)] if env else []
    candidates += list(_FONT_CANDIDATES)
    for path, face in candidates:
        if path and Path(path).is_file():
            return path, _face_index(path, face)
    raise FontMissing("no CJK font is installed for the PDF review sheet: install Debian's fonts-noto-cjk "
                      "or set PARKPLAN_CJK_FONT to a TTF/OTF/TTC file")


def _face_index(path: str, face: str | None) -> int:
    if not path.lower().endswith(".ttc") or face is None:
        return 0
    from fontTools.ttLib import TTCollection

    coll = TTCollection(path, lazy=True)
    for i, f in enumerate(coll.fonts):
        if f["name"].getDebugName(1) == face:
            return i
    return 0


def _num(v: Any, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, (int, float)):
        return f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}"
    return str(v)


def _map_png(candidate: dict[str, Any], ds) -> bytes | None:
    """A small map: origin and destination counties, the proposed park, the enterprise's site."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from shapely.geometry import Point

    counties = ds.counties
    codes = [candidate.get("origin_county_code"), candidate.get("destination_county_code")]
    sel = counties[counties["code"].isin(codes)]
    park = ds.parks[ds.parks["park_id"] == candidate.get("park_id")]
    ent = ds.enterprises[ds.enterprises["enterprise_id"] == candidate.get("enterprise_id")]
    if sel.empty and park.empty:
        return None
    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=110)
    counties.plot(ax=ax, color="#f4f4f4", edgecolor="#cccccc", linewidth=0.3)
    sel.plot(ax=ax, color="#dde6f0", edgecolor="#555555", linewidth=0.8)
    if not park.empty:
        park.plot(ax=ax, color="#1f77b4", edgecolor="#0b3d66", linewidth=1.0)
        pc = park.geometry.iloc[0].centroid
        ax.plot([pc.x], [pc.y], "s", color="#1f77b4", markersize=7, markeredgecolor="#0b3d66")
    else:
        pc = None
    if not ent.empty:
        ep = ent.geometry.iloc[0]
        ax.plot([ep.x], [ep.y], "o", color="#d62728", markersize=6)
        if pc is not None:
            ax.annotate("", xy=(pc.x, pc.y), xytext=(ep.x, ep.y),
                        arrowprops={"arrowstyle": "->", "color": "#d62728", "lw": 1.2})
    focus = sel.total_bounds if not sel.empty else park.total_bounds
    pad = 0.15 * max(focus[2] - focus[0], focus[3] - focus[1], 0.05)
    pts = [Point(focus[0], focus[1]), Point(focus[2], focus[3])]
    ax.set_xlim(min(p.x for p in pts) - pad, max(p.x for p in pts) + pad)
    ax.set_ylim(min(p.y for p in pts) - pad, max(p.y for p in pts) + pad)
    ax.set_aspect(1 / max(0.2, __import__("math").cos(__import__("math").radians((focus[1] + focus[3]) / 2))))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def review_sheet_pdf(candidate: dict[str, Any], ds) -> bytes:
    """The review sheet of one candidate (``candidate`` as returned by ``GET /transfer-candidates/{id}``)."""
    from fpdf import FPDF
    from fpdf.enums import WrapMode

    from geodata.schema import POLLUTION_LABELS_ZH, SECTOR_LABELS_ZH

    try:
        from parks.suitability.constraints import REASON_LABELS_ZH
        from parks.suitability.criteria import CRITERIA_LABELS_ZH
    except ImportError:  # pragma: no cover
        REASON_LABELS_ZH, CRITERIA_LABELS_ZH = {}, {}

    font, face = cjk_font()
    snap = candidate.get("snapshot") or {}
    ent = snap.get("enterprise") or {}
    park = snap.get("park") or {}
    county_names = dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))

    def county(code):
        return f"{county_names.get(str(code), '')} ({code})" if code else "-"

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("cjk", "", font, collection_font_number=face)
    bold = font.replace("-Regular.", "-Bold.")
    pdf.add_font("cjk", "B", bold if bold != font and Path(bold).is_file() else font, collection_font_number=face)
    pdf.set_title(f"转移候选企业审核表 {candidate['candidate_id']}")
    pdf.set_creator("parkplan")
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, "企业转移候选审核表", new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("cjk", size=9)
    pdf.cell(0, 6, f"候选编号 {candidate['candidate_id']}　版本 {candidate.get('version')}　"
                   f"当前状态 {DECISION_ZH.get(candidate.get('status'), candidate.get('status'))}",
             new_x="LMARGIN", new_y="NEXT", align="C")

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)

    def table(rows: list[list[str]], widths: tuple[int, ...], header: bool = True) -> None:
        with pdf.table(col_widths=widths, text_align="LEFT", wrapmode=WrapMode.CHAR, first_row_as_headings=header,
                       line_height=5.5, markdown=False) as t:
            for r in rows:
                row = t.row()
                for v in r:
                    row.cell(str(v))

    heading("一、企业")
    sector = ent.get("sector")
    table([
        ["企业编号", str(candidate.get("enterprise_id")), "企业名称", str(ent.get("name") or "-")],
        ["行业", f"{SECTOR_LABELS_ZH.get(sector, sector or '-')}", "用地(公顷)", _num(ent.get("land_ha"))],
        ["从业人员", _num(ent.get("employees")), "污染等级", POLLUTION_LABELS_ZH.get(ent.get("pollution_class"), ent.get("pollution_class") or "-")],
        ["迁出县", county(candidate.get("origin_county_code")), "迁入县", county(candidate.get("destination_county_code"))],
    ], (22, 38, 22, 38), header=False)

    heading("二、拟入驻园区")
    table([
        ["园区编号", str(candidate.get("park_id")), "园区名称", str(park.get("name") or "-")],
        ["适宜性得分", _num(candidate.get("score"), 3), "情景", _SCENARIO_ZH.get(candidate.get("scenario"), candidate.get("scenario") or "-")],
    ], (22, 38, 22, 38), header=False)
    png = _map_png(candidate, ds)
    if png:
        pdf.image(io.BytesIO(png), w=120, x=(pdf.w - 120) / 2)
        pdf.cell(0, 5, "图：红点为企业现址，蓝色方块为拟入驻园区，深色边界为迁出县与迁入县，箭头为转移方向。",
                 new_x="LMARGIN", new_y="NEXT", align="C")

    if snap.get("explanation_zh"):
        pdf.multi_cell(0, 5, str(snap["explanation_zh"]), new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR,
                       markdown=False)

    criteria = snap.get("criteria") or {}
    if criteria:
        heading("三、评分明细（审核时冻结）")
        rows = [["指标", "原始值", "标准化得分", "权重", "贡献"]]
        for c, v in criteria.items():
            rows.append([CRITERIA_LABELS_ZH.get(c, c), _num(v.get("value")), _num(v.get("score"), 3),
                         _num(v.get("weight"), 3), _num(v.get("contribution"), 3)])
        table(rows, (40, 20, 20, 20, 20))

    alternatives = snap.get("alternatives") or ([snap["alternative"]] if snap.get("alternative") else [])
    if alternatives:
        heading("四、备选园区（次优方案）")
        rows = [["名次", "园区编号", "园区名称", "所在县", "得分"]]
        for a in alternatives[:5]:
            rows.append([_num(a.get("rank")), str(a.get("park_id")), str(a.get("name") or "-"),
                         county(a.get("county_code")), _num(a.get("score"), 3)])
        table(rows, (12, 22, 40, 34, 16))

    excluded = snap.get("excluded") or []
    if excluded:
        heading("五、排除的园区及原因")
        rows = [["园区编号", "园区名称", "原因"]]
        for e in excluded[:20]:
            reasons = "；".join(r.get("message_zh") or REASON_LABELS_ZH.get(r.get("code"), r.get("code", ""))
                               for r in e.get("reasons") or [])
            rows.append([str(e.get("park_id")), str(e.get("name") or "-"), reasons or "-"])
        table(rows, (22, 40, 70))
        total = int(snap.get("excluded_total") or len(excluded))
        if total > 20:
            pdf.cell(0, 6, f"另有 {total - 20} 个园区被排除（完整清单见系统）。", new_x="LMARGIN", new_y="NEXT")

    heading("六、审核记录")
    history = candidate.get("reviews") or []
    if history:
        rows = [["时间(UTC)", "审核人", "结论", "意见", "版本"]]
        for r in history:
            rows.append([str(r.get("created_at") or "")[:19].replace("T", " "), str(r.get("reviewer")),
                         DECISION_ZH.get(r.get("decision"), r.get("decision")), str(r.get("comment") or ""),
                         f"{r.get('version_before')}→{r.get('version_after')}"])
        table(rows, (30, 30, 18, 60, 14))
    else:
        pdf.cell(0, 6, "尚无审核记录。", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(6)
    pdf.cell(0, 8, "审核单位（盖章）：____________________　　负责人签字：______________　　日期：__________",
             new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
