"""The FastAPI application: :func:`create_app` loads and prepares the dataset once, opens the review
database, builds the app's state (:class:`api.state.AppState`, at ``app.state.parkplan``) and mounts one
router per resource. Settings: :class:`api.settings.Settings` (environment variables listed there).

Only entry points (``parkplan serve``, uvicorn's ``--factory api.app:create_app``) and tests import this
module; handlers reach the state through :mod:`api.deps`.

Other helpers add their routers here, one ``include_router`` line each (maps, web workspace). The
landing page ``/`` answers JSON; to answer HTML to browsers, set ``app.state.landing_html`` to a
callable ``(request) -> Response`` (see :mod:`api.routes.ogc`).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from geodata.dataset import load_dataset
from parks.joins import prepare

from . import problems
from .auth import signing_key
from .db import default_db_url, init_db, make_engine, session_factory
from .routes import health, maps, metrics, ogc, plan, scenarios, suitability, transfers
from .settings import Settings, resolve_data_path
from .state import AppState, dataset_version
from .web import install_web
from .web.warm import warm as warm_web

__all__ = ["Settings", "create_app", "suitability_context", "metrics_context"]

API_VERSION = "1.0"


def create_app(data_path: str | Path | None = None, db_url: str | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the application over one dataset and one review database."""
    settings = settings or Settings.from_env()
    path = resolve_data_path(Path(data_path) if data_path else settings.data_path)
    url = db_url or settings.db_url or default_db_url(path)
    settings = replace(settings, data_path=path, db_url=url)

    app = FastAPI(
        title="parkplan",
        version=API_VERSION,
        summary="Industrial parks: OGC API - Features, suitability, clustering metrics, maps, transfer review",
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(url, sqlite_busy_timeout_ms=settings.db_busy_timeout_ms,
                         write_patience_s=settings.db_patience_s)
    init_db(engine)
    sessions = session_factory(engine)
    with sessions() as db:
        key = signing_key(db)
    state = AppState(settings=settings, dataset=prepare(load_dataset(path)), dataset_version=dataset_version(path),
                     engine=engine, sessions=sessions, session_key=key)
    app.state.parkplan = state
    app.router.lifespan_context = state.lifespan  # stops the review sheet process at shutdown
    # plain aliases of the state's parts (tests and older helpers read them)
    app.state.settings = settings
    app.state.dataset = state.dataset
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.session_key = key
    app.state.landing_html = None  # the web workspace sets a callable (request) -> Response

    problems.install(app)  # every refusal, DatabaseBusy's 503 db.busy too (a page under /ui)
    app.add_middleware(problems.BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    _mount_docs(app)

    app.include_router(health.router)
    app.include_router(ogc.router)
    app.include_router(suitability.router)
    problems.add_openapi_rewriter(app, suitability.openapi_limits)
    app.include_router(metrics.router)
    app.include_router(transfers.router)
    app.include_router(maps.router)
    problems.add_openapi_rewriter(app, maps.openapi_rules)
    app.include_router(scenarios.router)
    app.include_router(plan.router)
    install_web(app)  # web workspace: pages, /login, HTML at /
    if settings.warm:
        state.warm(warm_tasks(state))
    return app


class SecurityHeaders:
    """ASGI middleware: ``nosniff`` and ``Referrer-Policy: same-origin`` on every response, ``no-store`` on JSON (data
    behind a token must not sit in shared caches); headers a route set itself are kept. ``GET /health`` also says
    which worker process answered (``X-Worker-Pid``: with ``parkplan serve --workers N`` the workers differ)."""

    DEFAULTS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [(k, v) for k, v in self.DEFAULTS if k not in present]
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if b"json" in ctype and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                if scope["path"] == "/health":
                    extra.append((b"x-worker-pid", str(os.getpid()).encode()))
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` from the installed ``swagger-ui-bundle-v2`` package: no CDN."""
    app.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="swagger-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="parkplan API",
                                   swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/assets/swagger-ui.css",
                                   swagger_favicon_url="/docs/assets/favicon-32x32.png")


def warm_tasks(state: AppState) -> list:
    """What the server computes in the background at start-up (``PARKPLAN_WARM=0``: nothing), cheapest first:
    the suitability and metrics contexts, the cluster map, the metrics report, the default scenario plans. With
    ``--workers N`` the metrics report, the cluster map, the plans and the heavy web views are computed by one
    worker and read by the others from the review database (:mod:`api.shared_compute`)."""
    return [
        ("suitability context", state.suitability_context),
        ("metrics context", state.metrics_context),
        ("metrics report", lambda: metrics.warm(state)),
        ("cluster map", lambda: maps.warm(state)),
        ("scenario plans", lambda: scenarios.warm(state)),
        ("web pages", lambda: warm_web(state)),
        ("garbage collector", freeze_long_lived),
    ]


def freeze_long_lived() -> None:
    """Move what the server holds for its lifetime (the dataset, the contexts, the warmed caches: about 340,000
    objects) out of the cyclic garbage collector's sight (``gc.freeze``). A full collection walked them all,
    about 170 ms with the interpreter's lock held, every few thousand requests: the tail of every request
    under load (p99 about 200 ms at 32 clients, with a p50 of 11 ms). Objects freed by reference counting
    are still freed; only a reference cycle among these objects would stay (the dataset is fixed for the
    process's life)."""
    import gc

    gc.collect()
    gc.freeze()


def suitability_context(app: FastAPI):
    """The app's suitability context (:meth:`api.state.AppState.suitability_context`), for tests and scripts."""
    return app.state.parkplan.suitability_context()


def metrics_context(app: FastAPI):
    """The app's metrics context (:meth:`api.state.AppState.metrics_context`), for tests and scripts."""
    return app.state.parkplan.metrics_context()
