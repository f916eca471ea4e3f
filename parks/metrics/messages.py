"""The clustering metrics' error messages: a stable code per refusal, English and Chinese templates.

:class:`~parks.metrics.MetricsError` is raised with a code and its values
(``MetricsError("clusters.eps", value=-1)``); ``str(exc)`` is the English text (word for word what it was
before the codes), ``geodata.messages.message(exc, "zh")`` the Chinese. Parameter, column, sector and
county ids stay as they are in both languages (they are what a planner types on the command line).
"""

from __future__ import annotations

from geodata.messages import Catalogue

__all__ = ["METRICS"]

METRICS = Catalogue("metrics", {
    # inputs: layers, columns, ids
    "columns.missing": ("{what} lack column(s) {columns}{hint}; present: {present}",
                        "{what}缺少列 {columns}{hint}；现有的列：{present}"),
    "hint.prepare": (" (derived columns: run parks.joins.prepare(ds) first)",
                     "（派生列：请先运行 parks.joins.prepare(ds)）"),
    "sector.unknown": ("unknown sector {sector!r}{hint}; accepted: {accepted}", "未知行业 {sector!r}{hint}；可接受的行业：{accepted}"),
    "hint.did_you_mean": (" (did you mean {suggestion!r}?)", "（是否指 {suggestion!r}？）"),
    "county.unknown": ("unknown county code {county!r}; accepted: 6-digit codes of the dataset's counties ({shown})",
                       "未知的县级行政区划代码 {county!r}；可接受：数据集中各县（市、区）的 6 位代码（{shown}）"),
    "counties.duplicate_id": ("counties have duplicate {column!r} values", "县级行政区的 {column!r} 有重复值"),
    "report.no_enterprises": ("the dataset has no enterprises", "数据集中没有企业"),
    # coordinates
    "crs.none": ("geometry has no CRS; metrics need a projected CRS in metres (the dataset's metric_crs)",
                 "几何没有坐标参考系；指标计算需要以米为单位的投影坐标系（数据集的 metric_crs）"),
    "crs.geographic": ("CRS {crs} is geographic (degrees); project to the metric CRS first (ds.metric_crs, a CGCS2000 "
                       "Gauss-Kruger zone) -- distances are never computed in degrees",
                       "坐标参考系 {crs} 是地理坐标系（度）；请先投影到米制坐标系（ds.metric_crs，CGCS2000 高斯-克吕格"
                       "分带）——距离从不按度计算"),
    "layer.no_crs": ("layer has no CRS; stored layers are WGS 84 (EPSG:4326)",
                     "图层没有坐标参考系；存储的图层应为 WGS 84（EPSG:4326）"),
    "points.shape": ("points must be an (n, 2) array of x, y in metres; got shape {shape}",
                     "点坐标应为 (n, 2) 的 x、y 数组（米）；实际形状为 {shape}"),
    "area.empty_layer": ("study area layer is empty", "研究区域图层为空"),
    "area.empty_polygon": ("study area polygon is empty or has zero area", "研究区域多边形为空或面积为零"),
    # parameters
    "param.by": ("by {value!r} not accepted; accepted: {accepted}", "分组方式 by {value!r} 不可接受；可接受：{accepted}"),
    "param.basis": ("basis {value!r} not accepted; accepted: {accepted}", "计算基础 basis {value!r} 不可接受；可接受：{accepted}"),
    "param.alpha": ("alpha must be in (0, 1); got {value!r}", "显著性水平 alpha 应在 (0, 1) 之内；实际为 {value!r}"),
    "param.simulations": ("simulations must be >= 1; got {value}", "模拟次数 simulations 应 >= 1；实际为 {value}"),
    "autocorrelation.size": ("y has {n} values but the weights cover {regions} regions",
                             "y 有 {n} 个值，但空间权重覆盖 {regions} 个区域（两者应相同）"),
    "clark_evans.correction": ("correction {value!r} not accepted; accepted: {accepted}",
                               "边缘校正 correction {value!r} 不可接受；可接受：{accepted}"),
    "clark_evans.donnelly_polygon": ("correction='donnelly' needs the study-area polygon (for its perimeter)",
                                     "correction='donnelly' 需要研究区域的多边形（用于计算周长）"),
    "clark_evans.area": ("clark_evans needs the study area: polygon=... or area=... (m2, > 0)",
                         "clark_evans 需要研究区域：polygon=... 或 area=...（平方米，> 0）"),
    "eg.no_employment": ("ellison_glaeser needs positive employment ('employees')",
                         "ellison_glaeser 需要正的从业人员数（'employees'）"),
    "do.plants": ("Duranton-Overman needs at least 3 plants; got {n}", "Duranton-Overman 指数至少需要 3 家企业；实际为 {n}"),
    "do.sites": ("the counterfactual needs at least as many sites ({sites}) as plants ({n})",
                 "反事实抽样的站点数（{sites}）应不少于企业数（{n}）"),
    "do.level": ("level must be in (0.5, 1); got {value!r}", "置信水平 level 应在 (0.5, 1) 之内；实际为 {value!r}"),
    "do.bandwidth": ("bandwidth ({h}) and max_distance_m ({max_distance}) must be > 0 metres",
                     "带宽（{h}）和 max_distance_m（{max_distance}）应 > 0 米"),
    "land.weights": ("land-intensity weights {weights} invalid; keys from: {accepted}, values >= 0, sum > 0",
                     "用地集约度权重 {weights} 无效；键取自：{accepted}，值 >= 0，总和 > 0"),
    "per_mu.rule_kind": ("class rule kind {value!r} not accepted; accepted: share, score",
                         "分类规则类型 {value!r} 不可接受；可接受：share（比例）、score（得分）"),
    "per_mu.rule_cuts": ("class rule needs 3 cuts (A, B, C); got {value!r}", "分类规则需要 3 个分界值（A、B、C）；实际为 {value!r}"),
    "per_mu.shares": ("class shares must be >= 0 and sum to <= 1; got {value!r}", "分类比例应 >= 0，且总和 <= 1；实际为 {value!r}"),
    "per_mu.score_cuts": ("class score cut-offs must be decreasing (A >= B >= C); got {value!r}",
                          "分类得分分界值应递减（A >= B >= C）；实际为 {value!r}"),
    "per_mu.unknown_indicator": ("unknown per-mu indicator(s) {names}; accepted: {accepted}",
                                 "未知的亩均指标 {names}；可接受：{accepted}"),
    "per_mu.weights": ("per-mu weights must be >= 0 with a positive sum; got {weights}",
                       "亩均评价权重应 >= 0 且总和为正；实际为 {weights}"),
    "per_mu.cap": ("cap must be > 0; got {value!r}", "上限 cap 应 > 0；实际为 {value!r}"),
    "ripley.distances": ("distances must be a non-empty 1-D array of finite metres >= 0; got {value!r}",
                         "距离 distances 应为非空的一维数组，值为 >= 0 的有限米数；实际为 {value!r}"),
    "ripley.increasing": ("distances must be strictly increasing", "距离 distances 应严格递增"),
    "ripley.edge_correction": ("edge_correction {value!r} not accepted; accepted: {accepted}",
                               "边缘校正 edge_correction {value!r} 不可接受；可接受：{accepted}"),
    "ripley.border_polygon": ("edge_correction='border' needs the study-area polygon (polygon=...)",
                              "edge_correction='border' 需要研究区域的多边形（polygon=...）"),
    "ripley.area": ("area must be > 0 square metres; got {value!r}", "面积 area 应 > 0 平方米；实际为 {value!r}"),
    "ripley.sites": ("sites ({sites}) must be at least as many as the A points ({n})",
                     "站点数 sites（{sites}）应不少于 A 类点数（{n}）"),
    "clusters.eps": ("eps_m must be > 0 metres; got {value!r}", "eps_m 应 > 0 米；实际为 {value!r}"),
    "clusters.min_samples": ("min_samples must be >= 1; got {value!r}", "min_samples 应 >= 1；实际为 {value!r}"),
    "clusters.min_cluster_size": ("min_cluster_size must be >= 2; got {value!r}", "min_cluster_size 应 >= 2；实际为 {value!r}"),
    "clusters.labels": ("{labels} labels for {n} enterprises", "{labels} 个聚类标签对应 {n} 家企业（两者应相同）"),
    "clusters.method": ("method {value!r} not accepted; accepted: {accepted}", "聚类方法 method {value!r} 不可接受；可接受：{accepted}"),
    "trend.no_years": ("column 'established' has no years; the trend needs establishment years",
                       "列 'established' 没有年份；趋势分析需要成立年份"),
    "trend.geometry": ("clark_evans_r over time needs point geometries and the metric crs (crs=ds.metric_crs)",
                       "按年份计算 clark_evans_r 需要点几何和投影坐标系（crs=ds.metric_crs）"),
    "cross.needs_sector": ("--cross needs --sector (cross-K of the sector around the --cross sector)",
                           "--cross 需要同时给出 --sector（计算 --sector 行业在 --cross 行业周围的交叉 K 函数）"),
})
