"""``parkplan transfers propose|list|check``."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import DataOption, JsonOption, console, err_console, fail, load, print_json, resolve_data_path
from ._lang import LangOption, Words, num, table
from ._names import dataset_words
from ._steps import steps
from ._db_option import DbOption

transfers_app = typer.Typer(help="Transfer candidates: propose them from the dataset, list them.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(transfers_app, name="transfers")


@transfers_app.command("propose")
def transfers_propose(data: DataOption = None, db: DbOption = None, json_: JsonOption = False,
                      lang: LangOption = None) -> None:
    """Propose transfer candidates (coastal transfer scenario + capacity-constrained allocation) and store new ones."""
    from parks.joins import prepare

    from ..jobs.admin import open_engine, propose_into, review_db_url

    w = Words(lang)
    path = resolve_data_path(data)
    engine = open_engine(review_db_url(path, db))
    try:
        with steps(3, err_console) as s:
            s.step(w.t("step_load_data"))
            raw = load(data, w.lang)
            s.step(w.t("cli_step_join"))
            ds = prepare(raw)
            s.step(w.t("cli_step_propose"))
            n = propose_into(engine, ds)
    finally:
        engine.dispose()
    if json_:
        print_json({"added": n})
    else:
        console.print(w.t("cli_proposed", n=num(n)), highlight=False, markup=False)


@transfers_app.command("list")
def transfers_list(
    data: DataOption = None,
    db: DbOption = None,
    status: Annotated[str | None, typer.Option("--status", help="pending, approved, rejected or needs_info.")] = None,
    county: Annotated[str | None, typer.Option("--county", help="Origin or destination county code.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    json_: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """List transfer candidates (all offices)."""
    from ..jobs.admin import AdminError, review_db_url, transfer_rows

    path = resolve_data_path(data)
    try:
        items, total = transfer_rows(review_db_url(path, db), status=status, county=county, limit=limit)
    except AdminError as exc:
        fail(exc, lang=lang)
    if json_:
        print_json({"numberMatched": total, "items": items})
        return
    w = dataset_words(lang, path)
    t = w.t
    title = t("cli_candidates_title", n=num(total)) + (t("cli_first_n", n=len(items)) if total > len(items) else "")
    tb = table(title, [(t("candidate_id"), "left"), (t("enterprise_id"), "left"), (t("origin_county"), "left"),
                       (t("destination_county"), "left"), (t("proposed_park"), "left"), (t("score"), "right"),
                       (t("status"), "left"), (t("version"), "right")])
    for c in items:
        tb.add_row(c["candidate_id"], str(c["enterprise_id"]), w.county(c["origin_county_code"]),
                   w.county(c["destination_county_code"]), w.park(c["park_id"]), num(c.get("score")),
                   w.status(c["status"]), str(c["version"]))
    console.print(tb)


@transfers_app.command("check")
def transfers_check(data: DataOption = None, db: DbOption = None, json_: JsonOption = False,
                    lang: LangOption = None) -> None:
    """Check the review database (SQLite integrity_check and foreign keys; references on PostgreSQL)."""
    from ..jobs.admin import check_database, review_db_url

    result = check_database(review_db_url(resolve_data_path(data), db))
    if json_:
        print_json(result)
    else:
        w = Words(lang)
        console.print(w.t("cli_db_check_title", backend=result["backend"]) + ": "
                      + (w.t("cli_db_ok") if result["ok"] else w.t("cli_db_problems")), highlight=False, markup=False)
        for line in result["detail"]:  # the database's own words
            console.print(f"  {line}", highlight=False, markup=False)
    if not result["ok"]:
        raise typer.Exit(1)
