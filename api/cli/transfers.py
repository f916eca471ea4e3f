"""``parkplan transfers propose|list|check``."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import DataOption, JsonOption, console, fail, print_json, resolve_data_path
from ..jobs.admin import AdminError, check_database, open_engine, propose_into, review_db_url, transfer_rows
from ._db_option import DbOption

transfers_app = typer.Typer(help="Transfer candidates: propose them from the dataset, list them.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(transfers_app, name="transfers")


@transfers_app.command("propose")
def transfers_propose(data: DataOption = None, db: DbOption = None, json_: JsonOption = False) -> None:
    """Propose transfer candidates (coastal transfer scenario + capacity-constrained allocation) and store new ones."""
    from geodata.dataset import load_dataset
    from parks.joins import prepare

    path = resolve_data_path(data)
    engine = open_engine(review_db_url(path, db))
    try:
        n = propose_into(engine, prepare(load_dataset(path)), progress=not json_)
    finally:
        engine.dispose()
    if json_:
        print_json({"added": n})
    else:
        console.print(f"{n} new transfer candidates stored")


@transfers_app.command("list")
def transfers_list(
    data: DataOption = None,
    db: DbOption = None,
    status: Annotated[str | None, typer.Option("--status", help="pending, approved, rejected or needs_info.")] = None,
    county: Annotated[str | None, typer.Option("--county", help="Origin or destination county code.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    json_: JsonOption = False,
) -> None:
    """List transfer candidates (all offices)."""
    try:
        items, total = transfer_rows(review_db_url(resolve_data_path(data), db), status=status, county=county,
                                     limit=limit)
    except AdminError as exc:
        fail(str(exc))
    if json_:
        print_json({"numberMatched": total, "items": items})
        return
    console.print(f"{total} candidates" + (f" (first {len(items)})" if total > len(items) else ""))
    for c in items:
        console.print(f"{c['candidate_id']:<24} {c['enterprise_id']:<12} {c['origin_county_code']} -> "
                      f"{c['destination_county_code']} {c['park_id']:<8} {c['status']:<10} v{c['version']}")


@transfers_app.command("check")
def transfers_check(data: DataOption = None, db: DbOption = None, json_: JsonOption = False) -> None:
    """Check the review database (SQLite integrity_check and foreign keys; references on PostgreSQL)."""
    result = check_database(review_db_url(resolve_data_path(data), db))
    if json_:
        print_json(result)
    else:
        console.print(f"{result['backend']}: {'ok' if result['ok'] else 'PROBLEMS'}")
        for line in result["detail"]:
            console.print(f"  {line}")
    if not result["ok"]:
        raise typer.Exit(1)
