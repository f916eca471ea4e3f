"""``parkplan token create|list|revoke``."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import DataOption, JsonOption, console, err_console, fail, print_json, resolve_data_path
from ..jobs.admin import AdminError, create_checked_token, review_db_url, revoke, token_rows
from ._db_option import DbOption

token_app = typer.Typer(help="API tokens: create (printed once), list, revoke.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option("--role", help="viewer, analyst, reviewer or admin.")],
    office: Annotated[list[str] | None, typer.Option("--office", help="A county code (repeat for several); "
                                                                       "required for reviewers.")] = None,
    label: Annotated[str, typer.Option("--label", help="Who holds the token (shown in the audit log).")] = "",
    data: DataOption = None,
    db: DbOption = None,
) -> None:
    """Create a token and print it ONCE (only its hash is stored)."""
    path = resolve_data_path(data)
    offices = [o.strip() for o in office or []]
    try:
        token, token_id = create_checked_token(review_db_url(path, db), path, role, offices, label)
    except AdminError as exc:
        fail(str(exc))
    err_console.print(f"token {token_id} ({role}{', offices ' + ', '.join(offices) if offices else ''}); "
                      "store it now, it is not shown again:")
    typer.echo(token)


@token_app.command("list")
def token_list(data: DataOption = None, db: DbOption = None, json_: JsonOption = False) -> None:
    """List tokens (ids, roles, offices; never the secrets)."""
    rows = token_rows(review_db_url(resolve_data_path(data), db))
    if json_:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{r['id']:>4}  {r['role']:<8}  {','.join(r['offices']) or '-':<20}  "
                      f"{'revoked' if r['revoked'] else 'active':<8}  {r['label']}")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id (see `parkplan token list`).")],
                 data: DataOption = None, db: DbOption = None) -> None:
    """Revoke a token (its browser sessions end too)."""
    try:
        revoke(review_db_url(resolve_data_path(data), db), token_id)
    except AdminError as exc:
        fail(str(exc))
    err_console.print(f"token {token_id} revoked")
