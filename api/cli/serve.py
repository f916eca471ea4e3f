"""``parkplan serve``."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.markup import escape

from ._common import DataOption, err_console, resolve_data_path
from ._db_option import DbOption


# uvicorn's supervisor kills a worker that does not answer its health ping within this many seconds (its default, 5,
# killed every worker while it loaded and joined the dataset on a loaded machine, again and again)
WORKER_HEALTHCHECK_S = 120


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    data: DataOption = None,
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    propose: Annotated[bool, typer.Option("--propose/--no-propose",
                                          help="Propose transfer candidates on first start if there are none.")] = True,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                         help="Worker processes (uvicorn). Shared state lives in the review database; "
                                              "caches are per worker.")] = 1,
    warm: Annotated[bool, typer.Option("--warm/--no-warm", help="Compute the heavy analyses (metrics report, cluster "
                                       "map, default scenario plans) in the background at start-up.")] = True,
) -> None:
    """Serve the API (OGC API - Features, suitability, metrics, maps, transfer review) over HTTP."""
    import uvicorn

    from ..app import create_app, warm_tasks  # the app is assembled only by entry points
    from ..settings import Settings
    from ..reviews import count_candidates
    from ..jobs.admin import propose_into, review_db_url, token_count

    path = resolve_data_path(data)
    url = review_db_url(path, db)
    # proposals and the token hint run here, once, before any worker starts
    app = create_app(path, url, settings=Settings.from_env(warm=False))
    if propose:
        with app.state.sessions() as s:
            empty = count_candidates(s) == 0
        if empty:
            err_console.print("No transfer candidates yet: proposing them (coastal transfer scenario)...")
            try:
                n = propose_into(app.state.engine, app.state.dataset, progress=True)
                err_console.print(f"{n} transfer candidates proposed.")
            except ImportError as exc:  # the proposal model is not installed
                err_console.print(f"[yellow]warning:[/yellow] could not propose transfer candidates: {escape(str(exc))}",
                                  markup=True)
    with app.state.sessions() as s:
        if not token_count(s):
            err_console.print("No API tokens yet: create one with "
                              f"`parkplan token create --role admin --data {path}`.")
    err_console.print(f"Serving {path} on http://{host}:{port}/ (docs at /docs), {workers} worker(s)")
    if workers == 1:
        if warm:  # started by the app's lifespan, once uvicorn handles SIGTERM and SIGINT (a clean stop)
            app.state.parkplan.warm_at_startup = warm_tasks(app.state.parkplan)
        uvicorn.run(app, host=host, port=port, log_level="info")
        # stopped (Ctrl-C, or SIGTERM; after SIGTERM uvicorn raises it again once the app is shut down, which ends the
        # process by that signal before this line: systemd counts that as a clean stop)
        _stopped(0)
    del app  # each worker builds its own app (api.app:create_app reads these)
    os.environ.update(PARKPLAN_DATA=str(path), PARKPLAN_DB_URL=url, PARKPLAN_WARM="1" if warm else "0")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info",
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_S)


def _stopped(status: int) -> None:
    """End the process now that the app is shut down (its lifespan stopped the sheet process, released the shared
    claims and closed the database's connections). The warm-up's daemon thread may still be inside a step: the
    interpreter's exit would join the thread pools that step started (the Ripley envelopes' simulations: seconds to
    minutes of work whose result nobody will read)."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
