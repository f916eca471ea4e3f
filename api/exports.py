"""Exports of the transfer review: an office's decisions (CSV, Excel) and one candidate's review sheet (PDF).

The PDF is in Chinese, set in the one CJK font of :mod:`geodata.fonts` (Noto Sans CJK SC from the
``mplfonts`` wheel, or ``PARKPLAN_CJK_FONT``), embedded as a TrueType subset of the sheet's characters
so that the text extracts as typed. It holds the enterprise, the proposed park on a small map
(matplotlib, no tiles), the frozen score breakdown, the second-best alternative, the excluded parks
with their reasons, and the decision history.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from geodata import glossary
from geodata.dataset import Dataset
from geodata.spreadsheet import safe_cell

from .problems import ProblemError

__all__ = ["XLSX", "DECISION_COLUMNS", "decisions_csv", "decisions_xlsx", "decisions_filename", "review_sheet_pdf",
           "sheet_basemap", "sheet_chars", "SHEET_LANG", "beijing_time", "decision_rows", "decision_columns"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: column -> glossary key of its header
_DECISION_KEYS = {
    "candidate_id": "candidate_id", "enterprise_id": "enterprise_id", "enterprise_name": "enterprise_name",
    "origin_county_code": "origin_county_code", "origin_county": "origin_county",
    "destination_county_code": "destination_county_code", "destination_county": "destination_county",
    "park_id": "park_id", "park_name": "park_name", "score": "suitability_score", "decision": "decision",
    "comment": "comment", "reviewer": "who", "decided_at": "decided_at_bj", "version_after": "version",
    "current_status": "current_status",
}
DECISION_COLUMNS = {k: glossary.term(v) for k, v in _DECISION_KEYS.items()}
#: scores as the review list shows them
SCORE_DIGITS = 3
_SCENARIO_ZH: dict[Any, str] = {"coastal-transfer": "沿海向欠发达地区转移", "urban-core": "城区企业退城入园", "scattered": "分散企业入园"}
#: unit of each criterion's raw value (docs/suitability.md)
CRITERION_UNITS_ZH = {"distance": "公里", "transport": "公里", "land_price": "元/平方米", "land_margin": "公顷",
                      "labour": "人", "ecology": "公里", "sector_fit": "（比例）", "supply_chain": "（指数）",
                      "policy": "（0–1）"}
_BEIJING = timezone(timedelta(hours=8))
#: the review sheet's one language (its cache key names it)
SHEET_LANG = "zh"


class FontMissing(ProblemError):
    status = 503


def beijing_time(value: Any) -> str:
    """A stored UTC time (ISO text or datetime; naive = UTC) as Beijing time, ``YYYY-MM-DD HH:MM:SS``."""
    if value in (None, ""):
        return ""
    t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(_BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def decisions_filename(office: str | None, day: date, ext: str, lang: str = "zh") -> str:
    """``<office>-审核决定-<YYYY-MM-DD>.<ext>`` (the office's name; 全部 for every office of the user)."""
    who = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", office or ("全部" if lang == "zh" else "all"))
    what = "审核决定" if lang == "zh" else "decisions"
    return f"{who}-{what}-{day.isoformat()}.{ext}"


def decision_columns(county_names: dict[str, str] | None = None) -> dict[str, str]:
    """The columns written: the county name columns only when the names are given."""
    if county_names is not None:
        return DECISION_COLUMNS
    return {k: v for k, v in DECISION_COLUMNS.items() if k not in ("origin_county", "destination_county")}


def decision_rows(rows: list[dict[str, Any]], county_names: dict[str, str] | None = None) -> list[list[Any]]:
    """The decisions as shown to a person: statuses in Chinese, scores rounded as on the page, Beijing time,
    county names beside codes (when given); every cell through the formula guard."""
    status: dict[Any, str] = glossary.domain("status")  # looked up with whatever a row holds (None too)
    names = county_names or {}
    out = []
    for r in rows:
        v = dict(r)
        v["origin_county"] = names.get(str(r.get("origin_county_code")), "")
        v["destination_county"] = names.get(str(r.get("destination_county_code")), "")
        v["score"] = round(float(r["score"]), SCORE_DIGITS) if r.get("score") is not None else None
        v["decision"] = status.get(r.get("decision"), r.get("decision"))
        v["current_status"] = status.get(r.get("current_status"), r.get("current_status"))
        v["decided_at"] = beijing_time(r.get("decided_at"))
        out.append([safe_cell(v.get(k)) for k in decision_columns(county_names)])
    return out


def decisions_csv(rows: list[dict[str, Any]], county_names: dict[str, str] | None = None) -> bytes:
    """UTF-8 with BOM (so that Excel opens the Chinese headers correctly); a row of field ids, then the
    Chinese headers, then the decisions (:func:`decision_rows`)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    columns = decision_columns(county_names)
    w.writerow(list(columns))
    w.writerow(list(columns.values()))
    w.writerows(decision_rows(rows, county_names))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def decisions_xlsx(rows: list[dict[str, Any]], county_names: dict[str, str] | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "审核决定"
    columns = decision_columns(county_names)
    ws.append(list(columns.values()))
    for values in decision_rows(rows, county_names):
        ws.append(values)
    for cell in ws[get_column_letter(list(columns).index("score") + 1)][1:]:
        cell.number_format = "0." + "0" * SCORE_DIGITS
    meta = wb.create_sheet("字段说明")
    meta.append(["字段", "列名"])
    for k, v in columns.items():
        meta.append([k, v])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _pdf_font(dirname: str, text: str) -> str:
    """A TrueType subset of the one CJK font (:mod:`geodata.fonts`) holding the characters of ``text``,
    written into ``dirname``; 503 when no font is found."""
    from geodata.fonts import FontMissing as _Missing, truetype_subset

    try:
        data = truetype_subset(text)
    except _Missing as exc:
        raise FontMissing(str(exc)) from exc
    path = Path(dirname) / "parkplan-cjk.ttf"
    path.write_bytes(data)
    return str(path)


def _keep_font_bounds(pdf: Any) -> None:
    """fpdf2 cuts the embedded font again to the glyphs a sheet uses and saves it with fontTools, which by default
    unpacks every glyph kept to recompute its bounding box: a fifth of a sheet's CPU. The font handed to fpdf2 is
    already a cut of :mod:`geodata.fonts` whose glyphs' boxes fontTools computed, so each glyph is copied as it is;
    only the font-wide maxima (``head``'s box, ``hhea``, ``vhea``, ``maxp``) stay those of the larger cut, which
    bound the smaller one. Outlines and text are the same (``tests/api/test_sheet_font.py``)."""
    for font in pdf.fonts.values():
        tt = getattr(font, "ttfont", None)
        if tt is not None:
            tt.recalcBBoxes = False


def _num(v: Any, digits: int = 2, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, (int, float)):
        text = f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}"
        return f"{text} {unit}" if unit and not unit.startswith("（") else text + unit
    return str(v)


def _alternatives(snap: dict) -> list[dict]:
    return snap.get("alternatives") or ([snap["alternative"]] if snap.get("alternative") else [])


def sheet_basemap(ds: Dataset, tolerance: float = 0.005) -> dict[str, Any]:
    """What a review sheet draws that does not depend on the candidate: every county outline, simplified to about
    half a kilometre (``tolerance`` degrees), as one matplotlib ``Path`` per county (holes kept), by county code,
    and the characters of :func:`sheet_chars`. Built once per dataset (the server caches it) instead of plotting
    the full county polygons and cutting a new font for each sheet."""
    from matplotlib.path import Path as MplPath
    from shapely import get_parts
    from shapely.geometry.polygon import orient

    paths: dict[str, Any] = {}
    simple = ds.counties.geometry.simplify(tolerance, preserve_topology=True)
    for code, geom in zip(ds.counties["code"].astype(str), simple):
        if geom is None or geom.is_empty:
            continue
        verts, codes = [], []
        for poly in get_parts(geom):
            if poly.geom_type != "Polygon":
                continue
            poly = orient(poly, 1.0)  # exterior counter-clockwise, holes clockwise: the nonzero rule keeps holes
            for ring in (poly.exterior, *poly.interiors):
                xy = list(ring.coords)
                verts += xy
                codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY]
        if verts:
            paths[code] = MplPath(verts, codes)
    return {"paths": paths, "bounds": tuple(ds.counties.total_bounds), "chars": sheet_chars(ds)}


def sheet_chars(ds: Dataset) -> str:
    """Every character a review sheet of ``ds`` can show apart from what a reviewer types: this module's words,
    the glossary, the labels, every county, park and enterprise name, ASCII."""
    from geodata.schema import POLLUTION_LABELS_ZH, SECTOR_LABELS_ZH

    try:
        from parks.suitability.constraints import REASON_LABELS_ZH
        from parks.suitability.criteria import CRITERIA_LABELS_ZH
    except ImportError:  # pragma: no cover
        REASON_LABELS_ZH, CRITERIA_LABELS_ZH = {}, {}
    texts = [Path(__file__).read_text(encoding="utf-8"), "".join(z for z, _ in glossary.pairs().values()),
             *SECTOR_LABELS_ZH.values(), *POLLUTION_LABELS_ZH.values(), *REASON_LABELS_ZH.values(),
             *CRITERIA_LABELS_ZH.values(), "".join(map(chr, range(0x20, 0x7F))), "，。：；（）、→　"]
    for frame, column in ((ds.counties, "name"), (ds.parks, "name"), (ds.enterprises, "name")):
        texts += frame[column].astype(str).drop_duplicates().tolist()
    return "".join(sorted(set("".join(texts))))


def sheet_static(ds: Dataset, basemap: dict[str, Any] | None = None) -> dict[str, Any]:
    """What every review sheet of ``ds`` draws, as plain data: the county outlines and characters of
    :func:`sheet_basemap` (``basemap`` if the caller keeps one), the county and park names. Made once per dataset;
    a process that makes sheets (:mod:`api.sheet_process`) receives it once, not with every sheet."""
    basemap = basemap or sheet_basemap(ds)
    return {**basemap,
            "county_names": dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str))),
            "park_names": dict(zip(ds.parks["park_id"].astype(str), ds.parks["name"].astype(str)))}


def sheet_places(candidate: dict[str, Any], ds: Dataset) -> dict[str, Any]:
    """What one candidate's sheet draws from the dataset besides :func:`sheet_static`: the proposed park's
    geometry (a GeoDataFrame of its rows, geometry only) and the enterprise's site (a point, or None). Small."""
    parks = ds.parks
    park = parks.loc[parks["park_id"] == candidate.get("park_id"), [parks.geometry.name]]
    ent = ds.enterprises
    site = ent.geometry[ent["enterprise_id"] == candidate.get("enterprise_id")]
    return {"park": park, "site": None if site.empty else site.iloc[0]}


def _plot_park(ax: Any, park: Any) -> None:
    """The proposed park drawn as ``park.plot(ax=ax, color=..., edgecolor=..., linewidth=1.0)`` draws it (one patch
    per (multi)polygon, normalised, holes kept, the axes autoscaled, geopandas' axis labels named after the CRS's axes), without
    the full draw of the figure geopandas' ``plot`` ends with (``canvas.draw_idle``, which on an Agg canvas renders
    every county outline once more before ``savefig`` renders it again): half of the map's CPU. The PNG is
    geopandas', byte for byte (tests/api/test_sheet_map.py)."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch
    import numpy as np
    from matplotlib.path import Path as MplPath
    from shapely import get_parts, normalize

    patches = []
    for geom in park.geometry:
        if geom is None or geom.is_empty:
            continue
        rings = []
        for poly in get_parts(normalize(geom)):  # normalised (rings' start and order) and one patch, as geopandas
            if poly.geom_type != "Polygon" or poly.is_empty:
                continue
            rings.append(MplPath(np.asarray(poly.exterior.coords)[:, :2], closed=True))
            rings += [MplPath(np.asarray(r.coords)[:, :2], closed=True) for r in poly.interiors]
        if rings:
            patches.append(PathPatch(MplPath.make_compound_path(*rings)))
    ax.add_collection(PatchCollection(patches, facecolor="#1f77b4", edgecolor="#0b3d66", linewidth=1.0), autolim=True)
    ax.autoscale_view()
    crs = park.crs
    if crs:
        xlabel = f"{crs.axis_info[0].name} [{crs.axis_info[0].unit_name}]"
        ylabel = f"{crs.axis_info[1].name} [{crs.axis_info[1].unit_name}]"
        if crs.axis_info[0].direction == "north":
            xlabel, ylabel = ylabel, xlabel
    else:
        xlabel, ylabel = "x", "y"
    ax.set_xlabel(xlabel, fontsize="small")
    ax.set_ylabel(ylabel, fontsize="small")


def _map_png(candidate: dict[str, Any], static: dict[str, Any], places: dict[str, Any]) -> bytes | None:
    """A small map: origin and destination counties, the proposed park, the enterprise's site
    (the county outlines from :func:`sheet_basemap`)."""
    import math

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure

    paths = static["paths"]
    codes = [str(c) for c in (candidate.get("origin_county_code"), candidate.get("destination_county_code")) if c]
    chosen = [paths[c] for c in codes if c in paths]
    park = places["park"]
    if not chosen and park.empty:
        return None
    fig = Figure(figsize=(6, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.add_collection(PathCollection(list(paths.values()), facecolor="#f4f4f4", edgecolor="#cccccc", linewidth=0.3))
    if chosen:
        ax.add_collection(PathCollection(chosen, facecolor="#dde6f0", edgecolor="#555555", linewidth=0.8))
    pc = None
    if not park.empty:
        _plot_park(ax, park)
        pc = park.geometry.iloc[0].centroid
        ax.plot([pc.x], [pc.y], "s", color="#1f77b4", markersize=7, markeredgecolor="#0b3d66")
    ep = places["site"]
    if ep is not None:
        ax.plot([ep.x], [ep.y], "o", color="#d62728", markersize=6)
        if pc is not None:
            ax.annotate("", xy=(pc.x, pc.y), xytext=(ep.x, ep.y),
                        arrowprops={"arrowstyle": "->", "color": "#d62728", "lw": 1.2})
    if chosen:
        ext = [p.get_extents() for p in chosen]
        focus = (min(e.x0 for e in ext), min(e.y0 for e in ext), max(e.x1 for e in ext), max(e.y1 for e in ext))
    else:
        focus = tuple(park.total_bounds)
    pad = 0.15 * max(focus[2] - focus[0], focus[3] - focus[1], 0.05)
    ax.set_xlim(focus[0] - pad, focus[2] + pad)
    ax.set_ylim(focus[1] - pad, focus[3] + pad)
    ax.set_aspect(1 / max(0.2, math.cos(math.radians((focus[1] + focus[3]) / 2))))
    ax.set_xticks([])
    ax.set_yticks([])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def review_sheet_pdf(candidate: dict[str, Any], ds: Dataset, basemap: dict[str, Any] | None = None) -> bytes:
    """The review sheet of one candidate (``candidate`` as returned by ``GET /transfer-candidates/{id}``);
    ``basemap``: :func:`sheet_basemap` of ``ds`` if the caller keeps one (else built here).

    Everything on the sheet follows from the candidate's stored state (its version: a decision makes a new
    one) and the dataset, so a server may keep the bytes by dataset version, candidate id and version.
    The same as :func:`render_review_sheet` over :func:`sheet_static` and :func:`sheet_places` (what a sheet
    process receives instead of the dataset)."""
    return render_review_sheet(candidate, sheet_static(ds, basemap), sheet_places(candidate, ds))


def render_review_sheet(candidate: dict[str, Any], static: dict[str, Any], places: dict[str, Any]) -> bytes:
    """The review sheet PDF from plain data: the candidate (as ``GET /transfer-candidates/{id}`` returns it), the
    dataset's :func:`sheet_static` and the candidate's :func:`sheet_places`."""
    from fpdf import FPDF, FontFace
    from fpdf.enums import WrapMode

    from geodata import schema

    try:
        from parks.suitability.constraints import REASON_LABELS_ZH
        from parks.suitability.criteria import CRITERIA_LABELS_ZH
    except ImportError:  # pragma: no cover
        REASON_LABELS_ZH, CRITERIA_LABELS_ZH = {}, {}
    # looked up with whatever the snapshot holds (None, or a code no longer in the vocabulary)
    sector_zh: dict[Any, str] = dict(schema.SECTOR_LABELS_ZH)
    pollution_zh: dict[Any, str] = dict(schema.POLLUTION_LABELS_ZH)

    snap = candidate.get("snapshot") or {}
    ent = snap.get("enterprise") or {}
    park = snap.get("park") or {}
    county_names, park_names = static["county_names"], static["park_names"]
    status: dict[Any, str] = glossary.domain("status")

    def county(code):
        return f"{county_names.get(str(code), '')}（{code}）" if code else "-"

    def park_name(entry: dict) -> str:
        return str(entry.get("name") or park_names.get(str(entry.get("park_id")), "") or "-")

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=15)
    # every character the sheet can show: the dataset's (the same set for every sheet, so the font cut from it is
    # reused: geodata.fonts keeps the last cuts) and, only if the candidate has others (a typed comment), those too
    base = static["chars"]
    extra = set(json.dumps(candidate, ensure_ascii=False, default=str)) - set(base)
    chars = base + "".join(sorted(extra))
    tmp = tempfile.TemporaryDirectory(prefix="parkplan-pdf-")
    font = _pdf_font(tmp.name, chars)
    pdf.add_font("cjk", "", font)  # one face: table headings are set in it too (no bold face to parse and embed)
    _keep_font_bounds(pdf)
    pdf.set_title(f"转移候选企业审核表 {candidate['candidate_id']}")
    pdf.set_creator("parkplan")
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, "企业转移候选审核表", new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("cjk", size=9)
    pdf.cell(0, 6, f"候选编号 {candidate['candidate_id']}　版本 {candidate.get('version')}　"
                   f"当前状态 {status.get(candidate.get('status'), candidate.get('status'))}",
             new_x="LMARGIN", new_y="NEXT", align="C")

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)

    def table(rows: list[list[str]], widths: tuple[int, ...], header: bool = True) -> None:
        with pdf.table(col_widths=widths, text_align="LEFT", wrapmode=WrapMode.CHAR, first_row_as_headings=header,
                       line_height=5.5, markdown=False, headings_style=FontFace(fill_color=(235, 235, 235))) as t:
            for r in rows:
                row = t.row()
                for v in r:
                    row.cell(str(v))

    heading("一、企业")
    sector = ent.get("sector")
    table([
        ["企业编号", str(candidate.get("enterprise_id")), "企业名称", str(ent.get("name") or "-")],
        [glossary.term("sector"), f"{sector_zh.get(sector, sector or '-')}", "用地",
         _num(ent.get("land_ha"), unit="公顷")],
        ["从业人员", _num(ent.get("employees"), unit="人"), "污染等级", pollution_zh.get(ent.get("pollution_class"), ent.get("pollution_class") or "-")],
        [glossary.term("origin_county"), county(candidate.get("origin_county_code")),
         glossary.term("destination_county"), county(candidate.get("destination_county_code"))],
    ], (22, 38, 22, 38), header=False)

    heading("二、" + glossary.term("proposed_park"))
    table([
        ["园区编号", str(candidate.get("park_id")), "园区名称", str(park.get("name") or "-")],
        ["适宜性得分", _num(candidate.get("score"), 3, unit="（满分 1）"), "情景", _SCENARIO_ZH.get(candidate.get("scenario"), candidate.get("scenario") or "-")],
    ], (22, 38, 22, 38), header=False)
    png = _map_png(candidate, static, places)
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
        rows = [["指标", "原始值", "标准化得分（0–1）", "权重（0–1）", "贡献（分）"]]
        for c, v in criteria.items():
            rows.append([CRITERIA_LABELS_ZH.get(c, c), _num(v.get("value"), unit=CRITERION_UNITS_ZH.get(c, "")),
                         _num(v.get("score"), 3), _num(v.get("weight"), 3), _num(v.get("contribution"), 3)])
        table(rows, (40, 20, 20, 20, 20))

    alternatives = _alternatives(snap)
    if alternatives:
        heading("四、" + glossary.term("second_best"))
        rows = [["名次", "园区编号", "园区名称", "所在县", "得分（满分 1）"]]
        for a in alternatives[:5]:
            rows.append([_num(a.get("rank")), str(a.get("park_id")), park_name(a),
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
        rows = [["时间（北京时间）", "审核人", "结论", "意见", "版本"]]
        for r in history:
            rows.append([beijing_time(r.get("created_at")), str(r.get("reviewer")),
                         status.get(r.get("decision"), r.get("decision")), str(r.get("comment") or ""),
                         f"{r.get('version_before')}→{r.get('version_after')}"])
        table(rows, (30, 30, 18, 60, 14))
    else:
        pdf.cell(0, 6, "尚无审核记录。", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(6)
    pdf.cell(0, 8, "审核单位（盖章）：____________________　　负责人签字：______________　　日期：__________",
             new_x="LMARGIN", new_y="NEXT")
    out = bytes(pdf.output())
    tmp.cleanup()
    return out
