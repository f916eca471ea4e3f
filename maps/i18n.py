"""Map labels in Chinese (default) and English: one table, looked up with :func:`t`."""

from __future__ import annotations

from geodata.schema import SECTOR_IDS, SECTOR_LABELS_EN, SECTOR_LABELS_ZH

__all__ = ["LANGS", "MapLangError", "t", "sector_label", "check_lang"]

LANGS = ("zh", "en")


class MapLangError(ValueError):
    """A language code other than zh / en."""


_LABELS: dict[str, tuple[str, str]] = {
    # layers
    "counties": ("县（市、区）", "Counties"),
    "less_developed": ("欠发达县", "Less-developed counties"),
    "other_counties": ("其他县", "Other counties"),
    "parks": ("园区", "Parks"),
    "township_zone": ("乡镇工业功能区", "Township industrial zones"),
    "specialty_park": ("特色工业园区", "Specialty industrial parks"),
    "enterprises": ("企业", "Enterprises"),
    "heatmap": ("企业密度热力图", "Enterprise density (heat map)"),
    "clusters": ("企业集群（凸包）", "Enterprise clusters (hulls)"),
    "lisa": ("LISA 局部空间自相关", "LISA quadrants"),
    "gistar": ("Gi* 热点/冷点", "Gi* hot/cold spots"),
    "site": ("企业现址", "Enterprise site"),
    "candidates": ("候选园区（按得分）", "Candidate parks (by score)"),
    "excluded": ("排除的园区", "Excluded parks"),
    "lines_top": ("至前几名园区的连线", "Lines to the top parks"),
    "flows": ("转移流向", "Transfer flows"),
    "transfer_parks": ("承接园区", "Receiving parks"),
    "basemap_none": ("无底图（县界）", "No basemap (county boundaries)"),
    "basemap_osm": ("OpenStreetMap", "OpenStreetMap"),
    "basemap_tianditu": ("天地图", "Tianditu"),
    "basemap_amap": ("高德地图", "AMap"),
    # fields
    "name": ("名称", "Name"),
    "park_id": ("园区编号", "Park id"),
    "kind": ("类型", "Kind"),
    "county": ("县（市、区）", "County"),
    "city": ("设区市", "City"),
    "sector": ("行业", "Sector"),
    "leading_sectors": ("主导产业", "Leading sectors"),
    "area_ha": ("面积（公顷）", "Area (ha)"),
    "free_land_ha": ("可用土地（公顷）", "Free land (ha)"),
    "n_enterprises": ("企业数", "Enterprises"),
    "employees": ("从业人员", "Employees"),
    "revenue": ("营业收入（万元）", "Revenue (10k yuan)"),
    "projects": ("项目数", "Projects"),
    "investment": ("项目投资（万元）", "Project investment (10k yuan)"),
    "enterprise_id": ("企业编号", "Enterprise id"),
    "size": ("规模", "Size"),
    "above": ("规模以上", "Above designated size"),
    "below": ("规模以下", "Below designated size"),
    "score": ("得分", "Score"),
    "contribution": ("得分贡献", "contribution"),
    "code": ("区划代码", "Code"),
    "rank": ("名次", "Rank"),
    "reasons": ("排除原因", "Reasons"),
    "status": ("状态", "Status"),
    "origin": ("迁出县", "Origin county"),
    "destination": ("承接县", "Destination county"),
    "cluster": ("集群", "Cluster"),
    "dominant_sector": ("主要行业", "Dominant sector"),
    "area_km2": ("面积（平方公里）", "Area (km²)"),
    "share_in_parks": ("入园比例", "Share in parks"),
    "quadrant": ("象限", "Quadrant"),
    "spot": ("热点/冷点", "Hot/cold spot"),
    "density": ("密度（人/平方公里）", "Density (employees/km²)"),
    "less_developed_yes": ("是（欠发达县）", "yes (less-developed)"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # LISA / Gi*
    "HH": ("高-高", "High-High"),
    "LH": ("低-高", "Low-High"),
    "LL": ("低-低", "Low-Low"),
    "HL": ("高-低", "High-Low"),
    "ns": ("不显著", "not significant"),
    "hot": ("热点", "Hot spot"),
    "cold": ("冷点", "Cold spot"),
    # transfer statuses
    "proposed": ("已提议", "proposed"),
    "approved": ("已批准", "approved"),
    "rejected": ("已驳回", "rejected"),
    "returned": ("已退回", "returned"),
    # titles and controls
    "title_parks": ("园区分布图", "Industrial parks"),
    "title_enterprises": ("企业分布图", "Enterprises"),
    "title_clusters": ("产业集聚图", "Industrial clustering"),
    "title_suitability": ("搬迁适宜性", "Relocation suitability"),
    "title_transfers": ("产业转移", "Industry transfers"),
    "search": ("按名称搜索…", "Search by name…"),
    "no_match": ("无匹配", "no match"),
    "fullscreen": ("全屏", "Full screen"),
    "exit_fullscreen": ("退出全屏", "Exit full screen"),
    "measure_title": ("测量距离和面积", "Measure distances and areas"),
    "measure_finish": ("完成", "Finish"),
    "measure_clear": ("清除", "Clear"),
    "measure_distance": ("距离", "Distance"),
    "measure_area": ("面积", "Area"),
    "measure_hint": ("在地图上依次点击", "Click points on the map"),
    "legend": ("图例", "Legend"),
    "all_sectors": ("全部行业", "all sectors"),
    "n_candidates": ("转移候选企业", "Transfer candidates"),
    "no_transfers": ("暂无转移候选", "No transfer candidates"),
    "synthetic": ("园区与企业为合成数据", "parks and enterprises are synthetic"),
    "profile": ("输入的企业画像", "Entered profile"),
    "title_candidate": ("转移候选", "Transfer candidate"),
    "proposed_park": ("提议承接园区", "Proposed park"),
    "second_best": ("次优园区", "Second-best park"),
    "line_proposed": ("至提议园区", "To the proposed park"),
    "line_second": ("至次优园区", "To the second-best park"),
    "lines_site": ("企业现址至园区的连线", "Lines from the site to the parks"),
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise MapLangError(f"lang {lang!r} not accepted; accepted: {', '.join(LANGS)}")
    return lang


def t(key: str, lang: str = "zh") -> str:
    """The label for ``key`` in ``lang``; an unknown key is returned as it is."""
    pair = _LABELS.get(key)
    if pair is None:
        return key
    return pair[0] if check_lang(lang) == "zh" else pair[1]


def sector_label(sector: str | None, lang: str = "zh") -> str:
    if sector is None:
        return ""
    table = SECTOR_LABELS_ZH if check_lang(lang) == "zh" else SECTOR_LABELS_EN
    return table.get(str(sector), str(sector))


assert set(SECTOR_LABELS_ZH) == set(SECTOR_IDS)
