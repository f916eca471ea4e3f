"""``parkplan serve``."""

from __future__ import annotations

from typing import Annotated

import typer

from ..cli_common import DataOption, err_console, resolve_data_path
from ..jobs.admin import propose_into, review_db_url, token_count
from ._db_option import DbOption


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


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

    from ..app import create_app  # the app is assembled only by entry points
    from ..reviews import count_candidates

    path = resolve_data_path(data)
    app = create_app(path, review_db_url(path, db))
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
        if not token_count(s):
            err_console.print("No API tokens yet: create one with "
                              f"`parkplan token create --role admin --data {path}`.")
    err_console.print(f"Serving {path} on http://{host}:{port}/ (docs at /docs)")
    uvicorn.run(app, host=host, port=port, log_level="info")
