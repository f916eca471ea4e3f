"""Labels of the web workspace in Chinese (default) and English (``?lang=en``).

One table, keyed by message id; :func:`translator` returns the ``t(key, **kw)`` function that the
templates call. Sector, park-kind, criterion and reason labels come from the domain modules so that
the pages and the maps use the same words.
"""

from __future__ import annotations

from collections.abc import Callable

from geodata import schema

__all__ = ["LANGS", "DEFAULT_LANG", "MESSAGES", "pick_lang", "translator", "label"]

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

MESSAGES: dict[str, tuple[str, str]] = {
    # (zh, en)
    "app_title": ("园区规划工作台", "Park planning workspace"),
    "nav_home": ("首页", "Home"),
    "nav_parks": ("园区", "Parks"),
    "nav_suitability": ("选址适宜性", "Suitability"),
    "nav_review": ("转移审核", "Transfer review"),
    "nav_metrics": ("集聚指标", "Metrics"),
    "nav_maps": ("地图", "Maps"),
    "login": ("登录", "Log in"),
    "logout": ("退出登录", "Log out"),
    "login_intro": ("请粘贴管理员为您生成的访问令牌（只需一次）。", "Paste the access token your administrator gave you (once)."),
    "token": ("访问令牌", "Access token"),
    "login_failed": ("令牌无效或已失效。", "The token is not valid."),
    "logged_in_as": ("当前用户", "Signed in as"),
    "role": ("角色", "Role"),
    "office": ("科室/县", "Office"),
    "forbidden": ("您的角色无权查看此页面。", "Your role may not see this page."),
    "not_found": ("未找到该对象。", "Not found."),
    "csrf_failed": ("表单已过期或来源无效，请刷新页面后重试。", "The form expired or did not come from this site; reload the page and try again."),
    "session_expired": ("会话已过期，请重新登录。", "Your session has expired; please log in again."),
    "bad_request": ("请求无效", "Bad request"),
    # home
    "dataset_summary": ("数据集概况", "Dataset summary"),
    "parks": ("园区", "Parks"),
    "parks_by_kind": ("按类型统计的园区", "Parks by kind"),
    "enterprises": ("企业", "Enterprises"),
    "projects": ("项目", "Projects"),
    "counties": ("县（市、区）", "Counties"),
    "less_developed_counties": ("欠发达县", "Less-developed counties"),
    "maps": ("地图", "Maps"),
    "pages": ("页面", "Pages"),
    "map_parks": ("园区分布图", "Parks map"),
    "map_enterprises": ("企业分布图", "Enterprises map"),
    "map_clusters": ("集聚区图", "Clusters map"),
    "map_transfers": ("转移流向图", "Transfers map"),
    "map_suitability": ("适宜性地图", "Suitability map"),
    "count": ("数量", "Count"),
    "total": ("合计", "Total"),
    # parks
    "park_id": ("园区编号", "Park id"),
    "name": ("名称", "Name"),
    "kind": ("类型", "Kind"),
    "county": ("县（市、区）", "County"),
    "city": ("市", "City"),
    "leading_sectors": ("主导产业", "Leading sectors"),
    "area_ha": ("面积（公顷）", "Area (ha)"),
    "free_land_ha": ("可用地（公顷）", "Free land (ha)"),
    "land_price": ("地价（元/平方米）", "Land price (yuan/m²)"),
    "employees": ("从业人员", "Employees"),
    "revenue": ("营业收入（万元）", "Revenue (10k yuan)"),
    "investment": ("项目投资（万元）", "Project investment (10k yuan)"),
    "all": ("全部", "All"),
    "filter": ("筛选", "Filter"),
    "sector": ("产业", "Sector"),
    "shown": ("显示", "shown"),
    "profile": ("园区概况", "Profile"),
    "enterprises_by_sector": ("按产业统计的企业", "Enterprises by sector"),
    "land_use": ("土地利用", "Land use"),
    "land_intensity": ("土地集约利用指标", "Land-intensity indicators"),
    "per_mu_classes": ("亩均效益分类", "Per-mu classes"),
    "per_mu_class": ("亩均效益等级", "Per-mu class"),
    "supplied_ha": ("已供地（公顷）", "Supplied (ha)"),
    "built_ha": ("已建成（公顷）", "Built (ha)"),
    "floor_area_ratio": ("容积率", "Floor-area ratio"),
    "building_density": ("建筑密度", "Building density"),
    "supply_rate": ("土地供应率", "Supply rate"),
    "built_rate": ("土地建成率", "Built rate"),
    "investment_per_ha": ("固定资产投入强度（万元/公顷）", "Investment per ha (10k yuan)"),
    "tax_per_ha": ("地均税收（万元/公顷）", "Tax per ha (10k yuan)"),
    "output_per_ha": ("地均产出（万元/公顷）", "Output per ha (10k yuan)"),
    "li_score": ("集约利用得分", "Intensity score"),
    "li_rank": ("全省排名", "Provincial rank"),
    "evaluated": ("参评企业", "Evaluated"),
    "established": ("设立年份", "Established"),
    "max_pollution_class": ("允许最高污染等级", "Highest pollution class allowed"),
    "rail_km": ("距铁路（公里）", "Rail (km)"),
    "port_km": ("距港口（公里）", "Port (km)"),
    "expressway_km": ("距高速（公里）", "Expressway (km)"),
    "back_to_list": ("返回列表", "Back to the list"),
    "none": ("无", "none"),
    # suitability
    "search_enterprise": ("按名称或编号查找企业", "Find an enterprise by name or id"),
    "search": ("查找", "Search"),
    "or_profile": ("或输入企业概况", "or enter a profile"),
    "enterprise": ("企业", "Enterprise"),
    "enterprise_id": ("企业编号", "Enterprise id"),
    "land_ha": ("用地（公顷）", "Land (ha)"),
    "pollution_class": ("污染等级", "Pollution class"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "weights": ("权重", "Weights"),
    "weights_sliders": ("滑块设置权重", "Weights by sliders"),
    "weights_ahp": ("层次分析法（两两比较）", "AHP pairwise comparison"),
    "ahp_intro": ("对每一对准则，选择左侧相对右侧的重要程度（1 = 同等重要，9 = 极端重要；1/9 表示右侧极端重要）。",
                  "For each pair, how much more important is the left criterion than the right (1 = equal, 9 = extreme; 1/9 = the right one extremely)."),
    "consistency_ratio": ("一致性比率 CR", "Consistency ratio CR"),
    "live": ("随输入更新，提交后由服务器核验", "as you type; the server checks it on submit"),
    "ahp_refused": ("判断不一致（CR ≥ 0.1），未采用这些权重，请修改比较。", "The judgements are inconsistent (CR ≥ 0.1); these weights were refused, revise the comparisons."),
    "ahp_accepted": ("判断一致（CR < 0.1），已采用推导出的权重。", "The judgements are consistent (CR < 0.1); the derived weights are used."),
    "compute": ("计算", "Compute"),
    "results_for": ("选址结果", "Results for"),
    "ranked_parks": ("推荐园区排序", "Ranked parks"),
    "rank": ("名次", "Rank"),
    "score": ("得分", "Score"),
    "contribution": ("各准则贡献", "Contribution of each criterion"),
    "excluded_parks": ("被排除的园区", "Excluded parks"),
    "reasons": ("原因", "Reasons"),
    "sensitivity": ("敏感性（权重随机扰动）", "Sensitivity (random weight perturbation)"),
    "p_rank1": ("排第一的概率", "P(rank 1)"),
    "p_top3": ("进入前三的概率", "P(top 3)"),
    "mean_rank": ("平均名次", "Mean rank"),
    "no_results": ("没有符合条件的园区。", "No park passes the constraints."),
    "flag_closure": ("该企业属淘汰类：建议关停或改造提升，不予搬迁。", "This enterprise's product is to be eliminated: closure or upgrading, not relocation."),
    "matches": ("匹配的企业", "Matching enterprises"),
    "choose": ("选择", "Choose"),
    "ranked_total": ("可选园区总数", "Feasible parks"),
    "criterion": ("准则", "Criterion"),
    "weight": ("权重", "Weight"),
    "value": ("原始值", "Value"),
    "less_developed_only": ("仅限欠发达县园区", "Only parks in less-developed counties"),
    "max_distance_km": ("最大搬迁距离（公里）", "Maximum distance (km)"),
    "constraints": ("约束条件", "Constraints"),
    # review
    "candidates": ("转移候选", "Transfer candidates"),
    "candidate": ("候选", "Candidate"),
    "status": ("状态", "Status"),
    "status_pending": ("待审核", "pending"),
    "status_approved": ("已批准", "approved"),
    "status_rejected": ("已驳回", "rejected"),
    "status_needs_info": ("需补充材料", "needs information"),
    "origin_county": ("迁出县", "Origin county"),
    "destination_county": ("迁入县", "Destination county"),
    "proposed_park": ("拟迁入园区", "Proposed park"),
    "version": ("版本", "Version"),
    "counts_by_status": ("按状态统计", "Counts by status"),
    "decision": ("审核决定", "Decision"),
    "decision_approved": ("批准", "Approve"),
    "decision_rejected": ("驳回", "Reject"),
    "decision_needs_info": ("要求补充材料", "Ask for information"),
    "comment": ("意见", "Comment"),
    "submit": ("提交", "Submit"),
    "history": ("审核历史", "History"),
    "when": ("时间", "When"),
    "who": ("审核人", "Who"),
    "score_breakdown": ("评分明细（提出时冻结）", "Score breakdown (frozen when proposed)"),
    "second_best": ("次优备选园区", "Second-best alternative"),
    "conflict": ("其他人已先行作出决定，您的决定未保存。以下是当前的决定：",
                 "Someone else decided first; your decision was not stored. This is the current decision:"),
    "decision_saved": ("决定已保存。", "Decision saved."),
    "export_excel": ("导出本单位审核决定（Excel）", "Export the office's decisions (Excel)"),
    "export_pdf": ("下载审核单（PDF）", "Download the review sheet (PDF)"),
    "no_candidates": ("没有候选。", "No candidates."),
    "open": ("打开", "Open"),
    # metrics
    "metrics_title": ("产业集聚指标", "Agglomeration metrics"),
    "agglomeration_indices": ("集聚指数", "Agglomeration indices"),
    "hhi": ("赫芬达尔指数 HHI", "HHI"),
    "eg_gamma": ("EG 指数", "Ellison-Glaeser γ"),
    "ms_gamma": ("MS 指数", "Maurel-Sédillot γ"),
    "clark_evans_r": ("Clark-Evans R", "Clark-Evans R"),
    "morans_i": ("全局 Moran's I", "Moran's I"),
    "ripley_l": ("Ripley L 函数及 CSR 包络", "Ripley's L with CSR envelope"),
    "lisa_map": ("LISA 聚类图", "LISA cluster map"),
    "hotspot_map": ("Gi* 热点图", "Gi* hot-spot map"),
    "park_capture": ("园区集中度（按县）", "Park capture by county"),
    "capture_share": ("入园企业比例", "Share of enterprises in parks"),
    "capture_employees": ("入园从业人员比例", "Share of employees in parks"),
    "capture_revenue": ("入园营业收入比例", "Share of revenue in parks"),
    "distance_km": ("距离（公里）", "Distance (km)"),
    "envelope": ("CSR 包络", "CSR envelope"),
    "observed": ("观测值", "observed"),
    "choose_sector": ("选择产业", "Choose a sector"),
    "show": ("显示", "Show"),
    "quadrant_ns": ("不显著", "not significant"),
    "spot_hot": ("热点", "hot spot"),
    "spot_cold": ("冷点", "cold spot"),
    "p_value": ("p 值", "p-value"),
    # scenarios (the report's own words: parks.suitability.plan_report.LABELS)
    "nav_scenarios": ("规划方案", "Plans"),
    "scenarios_title": ("搬迁安置方案评估", "Relocation plans: the planner's report"),
    "choose_scenario": ("选择情景", "Scenario"),
    "export_plan_excel": ("下载报告（Excel）", "Download the report (Excel)"),
    "plan_computing": ("方案正在计算（首次约需一两分钟），本页将自动刷新。", "The plan is being computed (a minute or two the first time); this page reloads by itself."),
    "plan_failed": ("方案计算失败。", "The plan could not be computed."),
    "reload": ("刷新", "Reload"),
    "priority": ("优先顺序", "Priority"),
    "allocation_status": ("求解状态", "Solver status"),
    "mip_gap": ("最优性间隙", "MIP gap"),
    "computed_in": ("计算用时", "computed in"),
    "no_flags": ("未发现需要注意的问题。", "No problems found."),
    "flow_map": ("县际流向图", "Flows between counties (map)"),
    "rows_more": ("另有 {n} 行未显示，完整表格见 Excel 文件。", "{n} more rows are in the Excel file."),
}


def pick_lang(value: str | None) -> str:
    """``'en'`` when asked for, else Chinese."""
    return value if value in LANGS else DEFAULT_LANG


def translator(lang: str) -> Callable[..., str]:
    i = LANGS.index(pick_lang(lang))

    def t(key: str, **kw) -> str:
        pair = MESSAGES.get(key)
        text = pair[i] if pair else key
        return text.format(**kw) if kw else text

    return t


def _domain_labels(lang: str) -> dict[str, dict[str, str]]:
    from parks.suitability.constraints import REASON_LABELS_ZH
    from parks.suitability.criteria import CRITERIA_LABELS_EN, CRITERIA_LABELS_ZH

    en = lang == "en"
    return {
        "sector": schema.SECTOR_LABELS_EN if en else schema.SECTOR_LABELS_ZH,
        "kind": ({"township_zone": "township industrial zone", "specialty_park": "specialty industrial park"}
                 if en else schema.PARK_KIND_LABELS_ZH),
        "pollution": ({"light": "light", "medium": "medium", "heavy": "heavy"} if en else schema.POLLUTION_LABELS_ZH),
        "criterion": CRITERIA_LABELS_EN if en else CRITERIA_LABELS_ZH,
        "reason": {} if en else REASON_LABELS_ZH,
    }


def label(lang: str, family: str, key) -> str:
    """Label of a domain value (``family``: sector, kind, pollution, criterion, reason); the id itself if unknown."""
    if key is None:
        return ""
    return _domain_labels(pick_lang(lang)).get(family, {}).get(str(key), str(key))
