"""Map labels in Chinese (default) and English, looked up with :func:`t` in the project's one glossary
(:mod:`geodata.glossary`, ``geodata/data/glossary.csv``); a few map keys are aliases of glossary keys."""

from __future__ import annotations

from typing import Any

from geodata import glossary
from geodata.messages import CodedError, listing
from geodata.schema import SECTOR_IDS, SECTOR_LABELS_EN, SECTOR_LABELS_ZH

from .messages import MAPS

__all__ = ["LANGS", "MapLangError", "t", "sector_label", "check_lang"]

LANGS = ("zh", "en")


class MapLangError(CodedError):
    """A language code other than zh / en (a ``ValueError``; coded: :data:`maps.messages.MAPS` ``map.lang``)."""

    def __init__(self, code: str, /, **params: Any):
        super().__init__(MAPS(code, **params))


#: map keys whose glossary entry has another name (the glossary's names are the project's)
_ALIASES = {'less_developed': 'less_developed_counties', 'candidates': 'candidate_parks', 'projects': 'n_projects',
            'contribution': 'contribution_short', 'reasons': 'exclusion_reasons', 'origin': 'origin_county',
            'destination': 'destination_county', 'spot': 'hot_cold_spot', 'HH': 'quadrant_HH', 'LH': 'quadrant_LH',
            'LL': 'quadrant_LL', 'HL': 'quadrant_HL', 'ns': 'quadrant_ns', 'hot': 'spot_hot', 'cold': 'spot_cold',
            'proposed': 'status_proposed', 'approved': 'status_approved', 'rejected': 'status_rejected',
            'returned': 'status_returned', 'search': 'search_by_name', 'profile': 'entered_profile'}


#: the labels of Leaflet's own controls, which Leaflet writes in English (the zoom buttons' and the layer
#: control's titles, the attribution's link); not in the glossary: no other part of the project shows them
_LEAFLET = {"zoom_in": ("放大", "Zoom in"), "zoom_out": ("缩小", "Zoom out"), "layers": ("图层", "Layers"),
            "leaflet_title": ("Leaflet 交互式地图库", "A JavaScript library for interactive maps"),
            # the scale bar's units (Leaflet's L.control.scale writes "m" / "km")
            "unit_m": ("米", "m"),  # unit_km (公里 / km) is the glossary's
            # map-only labels the glossary lacks
            "z_value": ("z 值", "z-score")}


#: the flow map's legend and layer names (maps.flows_map; templates filled with str.format, values as text)
_FLOWS = {"flows_main": ("{group}：主要流向（{n} 条）", "{group}: main flows ({n})"),
          "flows_rest": ("{group}：其余流向（{n} 条）", "{group}: other flows ({n})"),
          "flows_main_note": ("主要流向 {n} 条，共 {firms} 家企业（占县际迁移企业的 {share}）",
                              "{n} main flows, {firms} firms ({share} of the firms moving between counties)"),
          "flows_main_min_note": ("主要流向（每条至少 {min}）{n} 条，共 {firms} 家企业（占县际迁移企业的 {share}）",
                                  "{n} main flows (at least {min} each), {firms} firms ({share} of the firms moving "
                                  "between counties)"),
          "flows_rest_note": ("其余 {n} 条流向，共 {firms} 家企业", "{n} other flows, {firms} firms"),
          "flows_rest_where": ("（图层“其余流向”，默认关闭；全部流向见报告“县际流向”表）",
                               "(layer “other flows”, off by default; every flow in the report's “Flows between "
                               "counties” table)"),
          "flows_arrow": ("箭头指向迁入县", "arrowheads point to the destination county"),
          "flows_receives": ("{name} 接收 {n} 家企业", "{name} receives {n} firms"),
          "flows_receiving": ("迁入县：圆面积表示接收企业数（最多 {max} 家）",
                              "destination counties: circle area by firms received (most: {max})"),
          "flows_receiving_groups": ("迁入县：圆面积表示接收企业数（最多 {max} 家），圆圈颜色同其流向",
                                     "destination counties: circle area by firms received (most: {max}), "
                                     "ringed in the colour of their flows")}


def _pair(key: str) -> tuple[str, str] | None:
    return _LEAFLET.get(key) or _FLOWS.get(key) or glossary.pairs().get(_ALIASES.get(key, key))


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise MapLangError("map.lang", lang=lang, accepted=listing(LANGS))
    return lang


def t(key: str, lang: str = "zh") -> str:
    """The label for ``key`` in ``lang``; an unknown key is returned as it is."""
    pair = _pair(key)
    if pair is None:
        return key
    return pair[0] if check_lang(lang) == "zh" else pair[1]


def sector_label(sector: str | None, lang: str = "zh") -> str:
    if sector is None:
        return ""
    table = SECTOR_LABELS_ZH if check_lang(lang) == "zh" else SECTOR_LABELS_EN
    return table.get(str(sector), str(sector))


assert set(SECTOR_LABELS_ZH) == set(SECTOR_IDS)
