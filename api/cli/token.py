"""``parkplan token create|list|revoke``."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import DataOption, JsonOption, console, err_console, fail, print_json, resolve_data_path
from ._lang import LangOption, Words, table
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
    lang: LangOption = None,
) -> None:
    """Create a token and print it ONCE (only its hash is stored)."""
    from ..jobs.admin import AdminError, create_checked_token, review_db_url

    path = resolve_data_path(data)
    offices = [o.strip() for o in office or []]
    try:
        token, token_id = create_checked_token(review_db_url(path, db), path, role, offices, label)
    except AdminError as exc:
        fail(exc, lang=lang)
    w = Words(lang)
    who = w.role(role) + (w.sep() + w.t("cli_offices", offices=w.sep().join(offices)) if offices else "")
    err_console.print(w.t("cli_token_created", id=token_id, who=who), highlight=False, markup=False)
    typer.echo(token)


@token_app.command("list")
def token_list(data: DataOption = None, db: DbOption = None, json_: JsonOption = False,
               lang: LangOption = None) -> None:
    """List tokens (ids, roles, offices; never the secrets)."""
    from ..jobs.admin import review_db_url, token_rows

    path = resolve_data_path(data)
    rows = token_rows(review_db_url(path, db))
    if json_:
        print_json(rows)
        return
    from ._names import dataset_words

    w = dataset_words(lang, path)
    t = w.t
    tb = table(t("cli_tokens_title", n=len(rows)), [(t("cli_token_id"), "right"), (t("role"), "left"),
                                                  (t("office"), "left"), (t("status"), "left"),
                                                  (t("cli_label"), "left"), (t("cli_created_at"), "left")])
    for r in rows:
        tb.add_row(str(r["id"]), w.role(r["role"]), w.sep().join(w.county(o) for o in r["offices"]) or "-",
                   t("cli_token_revoked") if r["revoked"] else t("cli_token_active"), r["label"] or "-",
                   str(r.get("created_at") or "-")[:19].replace("T", " "))
    console.print(tb)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id (see `parkplan token list`).")],
                 data: DataOption = None, db: DbOption = None, lang: LangOption = None) -> None:
    """Revoke a token (its browser sessions end too)."""
    from ..jobs.admin import AdminError, review_db_url, revoke

    try:
        revoke(review_db_url(resolve_data_path(data), db), token_id)
    except AdminError as exc:
        fail(exc, lang=lang)
    err_console.print(Words(lang).t("cli_token_revoked_msg", id=token_id), highlight=False, markup=False)
