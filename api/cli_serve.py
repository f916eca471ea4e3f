"""``parkplan serve``, ``parkplan token create|list|revoke`` and ``parkplan transfers propose|list``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli_common import DataOption, JsonOption, console, err_console, fail, print_json, resolve_data_path

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Review database URL (default: $PARKPLAN_DB_URL, else a SQLite file next to the dataset; "
                              "postgresql+psycopg://... for a server database).", show_default=False),
]

token_app = typer.Typer(help="API tokens: create (printed once), list, revoke.", no_args_is_help=True)
transfers_app = typer.Typer(help="Transfer candidates: propose them from the dataset, list them.", no_args_is_help=True)


def _db_url(data: Path | None, db: str | None) -> tuple[Path, str]:
    import os

    from .db import default_db_url

    path = resolve_data_path(data)
    return path, db or os.environ.get("PARKPLAN_DB_URL") or default_db_url(path)


def _engine(url: str):
    from .db import init_db, make_engine

    engine = make_engine(url)
    init_db(engine)
    return engine


def propose_into(engine, ds, *, progress: bool = False) -> int:
    """Propose transfer candidates for the (prepared) dataset and store the new ones; returns how many."""
    from .reviews import add_candidates
    from .proposals import propose

    return add_candidates(engine, propose(ds, progress=progress))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(token_app, name="token")
    app.add_typer(transfers_app, name="transfers")


def serve(
    data: DataOption = None,
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    propose: Annotated[bool, typer.Option("--propose/--no-propose",
                                          help="Propose transfer candidates on first start if there are none.")] = True,
) -> None:
    """Serve the API (OGC API - Features, suitability, metrics, maps, transfer review) over HTTP."""
    import uvicorn

    from .app import create_app
    from .reviews import count_candidates

    path, url = _db_url(data, db)
    app = create_app(path, url)
    if propose:
        with app.state.sessions() as s:
            empty = count_candidates(s) == 0
        if empty:
            err_console.print("No transfer candidates yet: proposing them (coastal transfer scenario)...")
            try:
                n = propose_into(app.state.engine, app.state.dataset, progress=True)
                err_console.print(f"{n} transfer candidates proposed.")
            except ImportError as exc:  # the proposal model is not installed
                err_console.print(f"[yellow]warning:[/yellow] could not propose transfer candidates: {exc}")
    with app.state.sessions() as s:
        from sqlalchemy import func, select

        from .db import Token

        if not s.execute(select(func.count()).select_from(Token)).scalar_one():
            err_console.print("No API tokens yet: create one with "
                              f"`parkplan token create --role admin --data {path}`.")
    err_console.print(f"Serving {path} on http://{host}:{port}/ (docs at /docs)")
    uvicorn.run(app, host=host, port=port, log_level="info")


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
    from .auth import AuthError, create_token

    path, url = _db_url(data, db)
    offices = [o.strip() for o in office or []]
    if offices:
        from geodata.dataset import load_dataset

        known = set(load_dataset(path).counties["code"].astype(str))
        unknown = [o for o in offices if o not in known]
        if unknown:
            fail(f"office {unknown[0]!r} is not a county code of the dataset {path.name} "
                 f"(e.g. {', '.join(sorted(known)[:3])})")
    engine = _engine(url)
    from .db import session_factory

    with session_factory(engine)() as s:
        try:
            token, row = create_token(s, role, offices, label)
        except AuthError as exc:
            fail(str(exc))
        s.commit()
    err_console.print(f"token {row.id} ({role}{', offices ' + ', '.join(offices) if offices else ''}); "
                      "store it now, it is not shown again:")
    typer.echo(token)


@token_app.command("list")
def token_list(data: DataOption = None, db: DbOption = None, json_: JsonOption = False) -> None:
    """List tokens (ids, roles, offices; never the secrets)."""
    from sqlalchemy import select

    from .db import Token, session_factory

    _, url = _db_url(data, db)
    with session_factory(_engine(url))() as s:
        rows = [{"id": t.id, "role": t.role, "offices": t.offices, "label": t.label, "revoked": t.revoked,
                 "created_at": t.created_at.isoformat()} for t in s.execute(select(Token).order_by(Token.id)).scalars()]
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
    from .auth import revoke_token
    from .db import session_factory

    _, url = _db_url(data, db)
    with session_factory(_engine(url))() as s:
        if not revoke_token(s, token_id):
            fail(f"no token with id {token_id}")
        s.commit()
    err_console.print(f"token {token_id} revoked")


@transfers_app.command("propose")
def transfers_propose(data: DataOption = None, db: DbOption = None, json_: JsonOption = False) -> None:
    """Propose transfer candidates (coastal transfer scenario + capacity-constrained allocation) and store new ones."""
    from geodata.dataset import load_dataset
    from parks.joins import prepare

    path, url = _db_url(data, db)
    engine = _engine(url)
    n = propose_into(engine, prepare(load_dataset(path)), progress=not json_)
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
    from .auth import Principal
    from .db import session_factory
    from .problems import ProblemError
    from .reviews import candidate_public, list_candidates

    _, url = _db_url(data, db)
    admin = Principal(0, "command line", "admin")
    with session_factory(_engine(url))() as s:
        try:
            rows, total = list_candidates(s, admin, filters={"status": status}, county=county, limit=limit, offset=0)
        except ProblemError as exc:
            fail(exc.detail)
        items = [candidate_public(c) for c in rows]
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
    from .db import integrity_check

    _, url = _db_url(data, db)
    engine = _engine(url)
    result = integrity_check(engine)
    engine.dispose()
    if json_:
        print_json(result)
    else:
        console.print(f"{result['backend']}: {'ok' if result['ok'] else 'PROBLEMS'}")
        for line in result["detail"]:
            console.print(f"  {line}")
    if not result["ok"]:
        raise typer.Exit(1)
