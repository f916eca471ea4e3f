"""The maps' refusals in English and Chinese: :data:`MAPS` and :class:`MapError` (re-exported by
:mod:`maps.base` and :mod:`maps`, where callers import it from).

A map asked for with an option it does not accept (an unknown map, sector, county, tile provider, renderer,
metric, weights) is refused with a code of :data:`MAPS` and its values; ``str(exc)`` is the English text as
it always was, ``geodata.messages.message(exc, "zh")`` the Chinese (the command line shows it in the
command's language). Option names, ids and values stay as they are in both languages.
"""

from __future__ import annotations

from typing import Any

from geodata.messages import Catalogue, CodedError

__all__ = ["MAPS", "MapError"]

MAPS = Catalogue("maps", {
    "map.unknown": ("map {name!r} unknown; accepted: {accepted}", "未知地图 {name!r}；可接受：{accepted}"),
    "map.lang": ("lang {lang!r} not accepted; accepted: {accepted}", "语言 lang {lang!r} 不可接受；可接受：{accepted}"),
    "map.tiles": ("tiles {tiles!r} not accepted; accepted: none, {accepted}",
                  "底图 tiles {tiles!r} 不可接受；可接受：none、{accepted}"),
    "map.tianditu_no_key": ("tiles 'tianditu' needs a Tianditu key (tianditu_key / --tianditu-key)",
                            "底图 'tianditu' 需要天地图密钥（tianditu_key / --tianditu-key）"),
    "map.tianditu_key": ("tianditu_key: letters, digits, '_' and '-' only (a Tianditu key is 32 hex digits)",
                         "tianditu_key（天地图密钥）只能包含字母、数字、'_' 和 '-'（天地图密钥为 32 位十六进制数字）"),
    "map.sector": ("sector {sector!r} not accepted; accepted: {accepted}", "行业 sector {sector!r} 不可接受；可接受：{accepted}"),
    "map.enterprise_sector": ("enterprise sector {sector!r} unknown; accepted: {accepted}",
                              "企业的行业 sector {sector!r} 未知；可接受：{accepted}"),
    "map.county": ("county {county!r} not found; give a 6-digit county code of the dataset",
                   "未找到县级行政区 {county!r}；请给出数据集中的 6 位县级代码"),
    "map.renderer": ("renderer {renderer!r} not accepted; accepted: {accepted}",
                     "绘制方式 renderer {renderer!r} 不可接受；可接受：{accepted}"),
    "map.metric": ("metric {metric!r} not accepted; accepted: {accepted}", "指标 metric {metric!r} 不可接受；可接受：{accepted}"),
    "map.width_by": ("width_by {width_by!r} not accepted; accepted: firms, jobs",
                     "线宽依据 width_by {width_by!r} 不可接受；可接受：firms（企业数）、jobs（就业人数）"),
    "map.color_by": ("color_by {color_by!r} not accepted; accepted: scenario, status",
                     "着色依据 color_by {color_by!r} 不可接受；可接受：scenario（情景）、status（审核状态）"),
    "map.flows_columns": ("flows lack column(s) {missing}; give a table of parks.flows.county_flows",
                          "流向表缺少列 {missing}；请给出 parks.flows.county_flows 的结果表"),
    "map.flows_no_jobs": ("flows have no jobs column; draw the width by firms",
                          "流向表没有 jobs（就业人数）列；请按 firms（企业数）绘制线宽"),
    "map.flows_no_scenario": ("flows have no scenario column to colour by", "流向表没有可用于着色的 scenario（情景）列"),
    "map.flows_no_status": ("flows have no status_<status> counts to colour by",
                            "流向表没有可用于着色的 status_<状态> 计数列"),
    "map.flows_main": ("main_share {share!r} / main_min {min!r} not accepted; accepted: main_share a number in (0, 1] "
                       "(e.g. 0.8: the largest flows carrying 80% of the firms), main_min a positive number or none",
                       "主要流向参数 main_share {share!r} / main_min {min!r} 不可接受；可接受：main_share 为 (0, 1] 内的数"
                       "（例如 0.8：合计占 80% 企业的最大流向），main_min 为正数或不给"),
    "map.candidates_columns": ("transfer candidates lack column(s) {missing}; required: {required}",
                               "转移候选表缺少列 {missing}；必需的列：{required}"),
    "map.suitability_target": ("the suitability map needs an enterprise_id or a profile (sector, land_ha, employees, "
                               "pollution_class, lon, lat)",
                               "适宜性地图需要一个企业编号 enterprise_id 或一个企业画像（sector、land_ha、employees、"
                               "pollution_class、lon、lat）"),
    "map.suitability_both": ("the suitability map needs an enterprise_id or a profile (sector, land_ha, employees, "
                             "pollution_class, lon, lat), not both",
                             "适宜性地图需要一个企业编号 enterprise_id 或一个企业画像（sector、land_ha、employees、"
                             "pollution_class、lon、lat），不能两者都给"),
    "map.weights_item": ("weights: {item!r} is not criterion:number (e.g. distance:60,sector_fit:5)",
                         "权重 weights：{item!r} 不是“准则:数字”的形式（例如 distance:60,sector_fit:5）"),
    "map.weights_too_large": ("weights: too large to add up; give weights of ordinary size (e.g. percentages)",
                              "权重 weights：数值太大，无法相加；请给出一般大小的权重（例如百分数）"),
    "map.weights": ("weights: {reason}", "权重 weights：{reason}"),
})


class MapError(CodedError):
    """A map asked for with a bad option (unknown sector, tile provider, enterprise ...): a ``ValueError``.

    Raised with a code of :data:`MAPS` and its values (``MapError("map.sector", sector="x", accepted=...)``);
    ``str(exc)`` is the English text, ``geodata.messages.message(exc, "zh")`` the Chinese."""

    def __init__(self, code: str, /, **params: Any):
        super().__init__(MAPS(code, **params))
