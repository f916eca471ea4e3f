"""``parkplan plan report``: the plan's targets against the data, the projects, chains and key enterprises.

Prints tables, or one JSON document (``--json``: the same as ``GET /plan/indicators`` under
``indicators`` and ``GET /plan/projects`` under ``projects``), or writes an Excel workbook (``-o``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._common import DataOption, JsonOption, console, fail, load, print_json

plan_app = typer.Typer(help="Monitor the plan: targets by year and area, projects, subsidies, supply chains.",
                       no_args_is_help=True)


def _fmt(v, factor: float = 1.0, digits: int = 2) -> str:
    return "-" if v is None else f"{v / factor:,.{digits}f}"


def _print(doc: dict, targets, lang: str) -> None:
    ind = doc["indicators"]
    t = Table(title=f"计划目标 / targets ({ind['year']}, source: {ind['source']}; {ind['targets_file']})",
              title_justify="left", header_style="bold")
    for c in ("indicator", "unit", "value", "path", "target", "progress", "ok"):
        t.add_column(c, justify="left" if c in ("indicator", "unit") else "right", overflow="fold",
                     min_width=12 if c == "indicator" else None)
    for tg, d in zip(targets, ind["targets"], strict=True):
        t.add_row(tg.label(lang), {"percent": "%", "share": ""}.get(tg.unit, tg.unit), _fmt(d.get("value"), tg.factor), _fmt(d.get("expected"), tg.factor),
                  _fmt(tg.target_value, tg.factor), "-" if d.get("progress") is None else f"{d['progress']:.0%}",
                  {True: "yes", False: "NO", None: "-"}[d.get("on_track")])
    console.print(t)
    p = doc["projects"]
    t = Table(title="技改项目按资金来源 / projects by funding (yuan)", title_justify="left", header_style="bold")
    for c in ("funding", "projects", "investment", "subsidy"):
        t.add_column(c, justify="left" if c == "funding" else "right")
    for r in p["sums"]["funding"]:
        t.add_row(str(r["funding"]), str(r["projects"]), _fmt(r["investment"], 1, 0), _fmt(r["subsidy"], 1, 0))
    console.print(t)
    total = p["less_developed_share"][-1]
    console.print(f"欠发达县 / less-developed counties: {_fmt(total['share_investment'], 0.01, 1)}% of investment, "
                  f"{_fmt(total['share_subsidy'], 0.01, 1)}% of subsidies; overdue projects at {p['as_of']}: "
                  f"{p['overdue_total']}; chain leaders with suppliers: {len(p['chains']['leaders'])}; "
                  f"五个一批 {p['key_enterprises']['counts']['key_enterprise']}, 小型巨人 {p['key_enterprises']['counts']['small_giant']}")


@plan_app.command("report")
def report(
    year: Annotated[int | None, typer.Option("--year", min=1900, max=2100, help="Report year (default: the last year with data).")] = None,
    targets_file: Annotated[Path | None, typer.Option("--targets", help="Targets file (.toml or .csv; default: the plan's own, built in).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write an Excel workbook (.xlsx).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date overdue projects are counted at, YYYY-MM-DD (default: 31 December of the report year).")] = None,
    source: Annotated[str, typer.Option(help="Technical-transformation investment from: auto, fai (the FAI layer) or projects.")] = "auto",
    lang: Annotated[str, typer.Option(help="Workbook and table language: zh or en.")] = "zh",
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """The plan's targets by year, province, city, county and less-developed vs other; projects, subsidies,
    overdue projects, supply chains and key enterprises."""
    from geodata.targets import TargetsError, load_targets
    from parks.joins import prepare
    from parks.monitoring.indicators import SOURCES
    from parks.monitoring.report import plan_report

    if source not in SOURCES:
        fail(f"--source {source!r} is not accepted; accepted: {', '.join(SOURCES)}")
    if lang not in ("zh", "en"):
        fail(f"--lang {lang!r} is not accepted; accepted: zh, en")
    if output is not None and output.suffix.lower() != ".xlsx":
        fail(f"-o {str(output)!r}: the report is an Excel workbook; give a path ending in .xlsx")
    day = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of {as_of!r} is not a date; accepted: YYYY-MM-DD")
    try:
        targets = load_targets(targets_file)
    except TargetsError as exc:
        fail(str(exc).replace("[", r"\["))
    ds = prepare(load(data))
    doc, ind = plan_report(ds, targets, year=year, as_of=day, source=source)
    if output is not None:
        from ..plan_workbook import write_plan_workbook

        write_plan_workbook(doc, ind, targets, ds.counties, output, lang=lang)
        if not as_json:
            console.print(f"wrote {output}")
    if as_json:
        print_json(doc)
    elif output is None:
        _print(doc, targets, lang)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
