"""The commands' own refusals in English and Chinese: :data:`CLI`.

A command that refuses what it was given (a file that exists without ``--force``, two options that exclude each
other, a file it cannot read) calls :func:`api.cli._common.fail` with a message of this catalogue
(``fail(CLI("cli.exists_force", path=path), lang=w.lang)``); ``fail`` shows it in the command's language
(``--lang``, else the locale). Option names, paths, ids and values stay as they are in both languages; what a
library said (a JSON parser's reason, an operating system's ``strerror``) is quoted after the Chinese sentence,
as :func:`geodata.messages.library_reason` does.
"""

from __future__ import annotations

from geodata.messages import Catalogue, Localised

__all__ = ["CLI", "WHAT_WEIGHTS", "WHAT_AHP"]

#: the files ``parkplan suitability`` reads as a mapping (``--weights``, ``--ahp``)
WHAT_WEIGHTS = Localised("weights", "权重")
WHAT_AHP = Localised("AHP", "AHP 判断矩阵")

CLI = Catalogue("cli", {
    # several commands
    "cli.exists_force": ("{path} exists; pass --force to overwrite it", "{path} 已存在；如要覆盖，请加上 --force"),
    "cli.library": ("{reason}", "操作失败（原始信息：{reason!r}）"),
    # not a refusal: the built-in dataset is built on first use (api.cli._common.resolve_data_path)
    "cli.first_use": ("{path} (first use)", "{path}（首次使用：正在建立内置数据集）"),
    # parkplan bench
    "cli.bench_quick_tiny": ("--quick and --tiny exclude each other", "--quick 和 --tiny 不能同时使用"),
    "cli.bench_no_package": ("the benchmarks package is not importable: run `parkplan bench` from a source checkout "
                             "of parkplan",
                             "无法导入 benchmarks 包：请在 parkplan 的源代码目录中运行 'parkplan bench'"),
    # parkplan init
    "cli.less_developed_unreadable": ("cannot read less-developed county codes from {path}: {reason}; expected a CSV "
                                      "with a 'code' column",
                                      "无法从 {path} 读取欠发达县代码（原始信息：{reason!r}）；可接受：含 'code' 列"
                                      "（县级代码）的 CSV 文件"),
    # parkplan map
    "cli.map_unknown": ("map {name!r} unknown; accepted: {accepted}", "未知地图 {name!r}；可接受：{accepted}"),
    "cli.map_profile": ("a profile needs {options} as well (or give --enterprise-id instead)",
                        "企业画像还需要 {options}（或改用 --enterprise-id 指定企业）"),
    "cli.not_found": ("{reason}", "未找到：{reason}"),
    "cli.screenshot": ("{reason}", "无法用浏览器生成 PNG 图片（原始信息：{reason!r}）"),
    # parkplan plan report
    "cli.plan_source": ("--source {value!r} is not accepted; accepted: {accepted}",
                        "--source {value!r} 不可接受；可接受：{accepted}"),
    "cli.plan_xlsx": ("-o {path!r}: the report is an Excel workbook; give a path ending in .xlsx",
                      "-o {path!r}：报告是 Excel 工作簿；请给出以 .xlsx 结尾的路径"),
    "cli.plan_as_of": ("--as-of {value!r} is not a date; accepted: YYYY-MM-DD",
                       "--as-of {value!r} 不是日期；可接受：YYYY-MM-DD（如 2026-06-30）"),
    # parkplan join / batch
    "cli.engine": ("--engine {value!r} not accepted; accepted: {accepted}", "--engine {value!r} 不可接受；可接受：{accepted}"),
    "cli.weights_not_json": ("--weights is not JSON: {reason}", "--weights 不是有效的 JSON（原始信息：{reason!r}）"),
    # parkplan suitability
    "cli.file_unreadable": ("cannot read {what} file {path}: {reason}", "无法读取{what}文件 {path}（原始信息：{reason!r}）"),
    "cli.file_not_mapping": ("{what} file {path} must hold a mapping (criterion id -> weight), got {got}",
                             "{what}文件 {path} 应为映射（准则编号 -> 权重），而不是 {got}"),
    "cli.file_not_parsable": ("{what} file {path} is not valid {formats} ({reasons})",
                              "{what}文件 {path} 不是有效的 {formats} 文件（原始信息：{reasons!r}）"),
    "cli.json_or_toml": ("JSON or TOML", "JSON 或 TOML"),
    "cli.weights_and_ahp": ("give either --weights or --ahp, not both", "--weights 和 --ahp 只能给出其中一个"),
    "cli.profile_needs": ("a profile needs {options} (and optionally --pollution-class, default light)",
                          "企业画像还需要 {options}（--pollution-class 可选，默认为 light）"),
    "cli.one_target": ("give exactly one of --enterprise ID, --scenario NAME or a profile (--sector, --land-ha, "
                       "--employees, --lon, --lat)",
                       "请只给出以下三者之一：--enterprise 企业编号、--scenario 情景名，或企业画像（--sector、--land-ha、"
                       "--employees、--lon、--lat）"),
    "cli.priority_for_all": ("--priority and --scenario-weights are for --scenario all",
                             "--priority 和 --scenario-weights 只用于 --scenario all"),
    "cli.scenario_unknown": ("unknown scenario {scenario!r}; accepted: {accepted}, all",
                             "未知情景 {scenario!r}；可接受：{accepted}、all"),
    "cli.gpkg_single": ("GeoPackage output is for --scenario (enterprise points); use .csv or .xlsx for one enterprise",
                        "GeoPackage 输出仅用于 --scenario（企业点位）；单个企业的结果请输出为 .csv 或 .xlsx"),
    "cli.scenario_weights_item": ("--scenario-weights {text!r}: {part!r} is not scenario:weight (e.g. "
                                  "urban-core:2,scattered:1)",
                                  "--scenario-weights {text!r}：{part!r} 不是“情景:权重”的形式（例如 "
                                  "urban-core:2,scattered:1）"),
})
