"""``parkplan plan report``: the plan's targets against the data, the projects, chains and key enterprises.

Prints tables, or one JSON document (``--json``: the same as ``GET /plan/indicators`` under
``indicators`` and ``GET /plan/projects`` under ``projects``), or writes an Excel workbook (``-o``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from geodata.messages import listing

from ._common import DataOption, JsonOption, console, err_console, fail, load, print_json
from ._lang import LangOption, Words, num, pct, table
from ._messages import CLI
from ._steps import steps

plan_app = typer.Typer(help="Monitor the plan: targets by year and area, projects, subsidies, supply chains.",
                       no_args_is_help=True)


def _fmt(v, factor: float = 1.0, digits: int = 2) -> str:
    return num(None if v is None else v / factor, digits)


_MONEY_UNITS = {"yuan": "yuan", "元": "yuan", "10k_yuan": "10k_yuan", "万元": "10k_yuan", "100m_yuan": "100m_yuan",
                "亿元": "100m_yuan", "billion_yuan": "billion_yuan"}


def _unit(unit: str, w: Words) -> str:
    """A target's unit as written in the targets file, shown in ``w``'s language."""
    if unit in ("percent", "%"):
        return "%"
    if unit in ("share", "count"):
        return ""
    if unit in ("个", "家"):
        return unit if w.lang == "zh" else ""
    key = _MONEY_UNITS.get(unit)
    return w.t(f"cli_unit_{key}") if key else unit


def _print(doc: dict, targets, w: Words) -> None:
    t = w.t
    ind = doc["indicators"]
    tb = table(t("cli_targets_title", year=ind["year"], source=t(f"cli_source_{ind['source']}"),
                 file=ind["targets_file"]),
               [(t("cli_indicator"), "left"), (t("cli_unit"), "left"), (t("cli_value"), "right"),
                (t("cli_expected_path"), "right"), (t("cli_target"), "right"), (t("cli_progress"), "right"),
                (t("cli_on_track"), "left")])
    for tg, d in zip(targets, ind["targets"], strict=True):
        tb.add_row(tg.label(w.lang), _unit(tg.unit, w), _fmt(d.get("value"), tg.factor),
                   _fmt(d.get("expected"), tg.factor), _fmt(tg.target_value, tg.factor), pct(d.get("progress")),
                   w.yes_no(d.get("on_track")))
    console.print(tb)
    p = doc["projects"]
    tb = table(t("cli_funding_title"), [(t("cli_funding"), "left"), (t("n_projects"), "right"),
                                        (t("cli_investment_yuan"), "right"), (t("cli_subsidy_yuan"), "right")])
    for r in p["sums"]["funding"]:
        tb.add_row(w.funding(r["funding"]), num(r["projects"]), _fmt(r["investment"], 1, 0), _fmt(r["subsidy"], 1, 0))
    console.print(tb)
    total = p["less_developed_share"][-1]
    tb = table(t("cli_plan_facts_title"), [(t("cli_item"), "left"), (t("cli_value"), "right")])
    tb.add_row(t("cli_ld_investment_share"), pct(total["share_investment"], 1))
    tb.add_row(t("cli_ld_subsidy_share"), pct(total["share_subsidy"], 1))
    tb.add_row(t("cli_overdue", as_of=p["as_of"]), num(p["overdue_total"]))
    tb.add_row(t("cli_chain_leaders"), num(len(p["chains"]["leaders"])))
    tb.add_row(t("key_enterprise_layer"), num(p["key_enterprises"]["counts"]["key_enterprise"]))
    tb.add_row(t("small_giant_layer"), num(p["key_enterprises"]["counts"]["small_giant"]))
    console.print(tb)


@plan_app.command("report")
def report(
    year: Annotated[int | None, typer.Option("--year", min=1900, max=2100, help="Report year (default: the last year with data).")] = None,
    targets_file: Annotated[Path | None, typer.Option("--targets", help="Targets file (.toml or .csv; default: the plan's own, built in).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write an Excel workbook (.xlsx).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date overdue projects are counted at, YYYY-MM-DD (default: 31 December of the report year).")] = None,
    source: Annotated[str, typer.Option(help="Technical-transformation investment from: auto, fai (the FAI layer) or projects.")] = "auto",
    lang: LangOption = None,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """The plan's targets by year, province, city, county and less-developed vs other; projects, subsidies,
    overdue projects, supply chains and key enterprises."""
    from geodata.targets import TargetsError, load_targets
    from parks.joins import prepare
    from parks.monitoring.indicators import SOURCES
    from parks.monitoring.report import plan_report

    w = Words(lang)
    if source not in SOURCES:
        fail(CLI("cli.plan_source", value=source, accepted=listing(SOURCES)), lang=w.lang)
    if output is not None and output.suffix.lower() != ".xlsx":
        fail(CLI("cli.plan_xlsx", path=str(output)), lang=w.lang)
    day = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            fail(CLI("cli.plan_as_of", value=as_of), lang=w.lang)
    try:
        targets = load_targets(targets_file)
    except TargetsError as exc:
        fail(exc, lang=w.lang)  # in the command's language; fail escapes it: a path's "[" is shown as it is
    with steps(3 + (output is not None), err_console) as s:
        s.step(w.t("step_load_data"))
        raw = load(data, w.lang)
        s.step(w.t("cli_step_join"))
        ds = prepare(raw)
        s.step(w.t("cli_step_plan_report"))
        doc, ind = plan_report(ds, targets, year=year, as_of=day, source=source)
        if output is not None:
            from ..plan_workbook import write_plan_workbook

            s.step(w.t("cli_step_write", path=output))
            write_plan_workbook(doc, ind, targets, ds.counties, output, lang=w.lang)
    if output is not None and not as_json:
        console.print(w.t("cli_wrote", path=output), highlight=False, markup=False)
    if as_json:
        print_json(doc)
    elif output is None:
        _print(doc, targets, Words(w.lang, ds))


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
