"""The FastAPI application: :func:`create_app` loads and prepares the dataset once, opens the review
database and mounts one router per resource.

Settings (:class:`Settings`, from the environment by :meth:`Settings.from_env`):

=========================== ====================================================== =================
variable                    meaning                                                default
=========================== ====================================================== =================
``PARKPLAN_DATA``           dataset GeoPackage                                     built-in dataset
``PARKPLAN_DB_URL``         review database (SQLAlchemy URL)                       SQLite next to the dataset
``PARKPLAN_MAX_BODY_BYTES`` largest request body (413 above)                       1,000,000
``PARKPLAN_DEFAULT_LIMIT``  page size when ``limit`` is not given                  100
``PARKPLAN_MAX_LIMIT``      largest page (a larger ``limit`` is clamped, as OGC    1,000
                            API Features requires)
``PARKPLAN_MAX_BATCH``      most enterprises in one ``POST /suitability/batch``    500
``PARKPLAN_MAX_DRAWS``      most weight draws in ``POST /suitability/sensitivity`` 5,000
``PARKPLAN_SESSION_HOURS``  browser session lifetime                               8
=========================== ====================================================== =================

Other helpers add their routers here, one ``include_router`` line each (maps, web workspace). The
landing page ``/`` answers JSON; to answer HTML to browsers, set ``app.state.landing_html`` to a
callable ``(request) -> Response`` (see :mod:`api.routes.ogc`).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

from . import problems
from .db import DatabaseBusy, default_db_url, init_db, make_engine, session_factory

__all__ = ["Settings", "create_app", "suitability_context", "metrics_context"]

API_VERSION = "1.0"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {value!r}") from None


@dataclass(frozen=True)
class Settings:
    data_path: Path | None = None
    db_url: str | None = None
    max_body_bytes: int = 1_000_000
    default_limit: int = 100
    max_limit: int = 1000
    max_batch: int = 500
    max_draws: int = 5000
    session_ttl: dt.timedelta = field(default_factory=lambda: dt.timedelta(hours=8))

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        data = os.environ.get("PARKPLAN_DATA")
        s = cls(
            data_path=Path(data) if data else None,
            db_url=os.environ.get("PARKPLAN_DB_URL") or None,
            max_body_bytes=_env_int("PARKPLAN_MAX_BODY_BYTES", cls.max_body_bytes),
            default_limit=_env_int("PARKPLAN_DEFAULT_LIMIT", cls.default_limit),
            max_limit=_env_int("PARKPLAN_MAX_LIMIT", cls.max_limit),
            max_batch=_env_int("PARKPLAN_MAX_BATCH", cls.max_batch),
            max_draws=_env_int("PARKPLAN_MAX_DRAWS", cls.max_draws),
            session_ttl=dt.timedelta(hours=_env_int("PARKPLAN_SESSION_HOURS", 8)),
        )
        return replace(s, **{k: v for k, v in overrides.items() if v is not None})


def create_app(data_path: str | Path | None = None, db_url: str | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the application over one dataset and one review database."""
    from geodata.dataset import load_dataset
    from parks.joins import prepare

    from .auth import signing_key
    from .cli_common import resolve_data_path

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
    app.state.settings = settings
    app.state.dataset = prepare(load_dataset(path))
    app.state.engine = make_engine(url)
    init_db(app.state.engine)
    app.state.sessions = session_factory(app.state.engine)
    with app.state.sessions() as db:
        app.state.session_key = signing_key(db)
    app.state.landing_html = None  # the web workspace sets a callable (request) -> Response
    app.state.cache = {}
    app.state.cache_lock = threading.Lock()
    app.state.metrics_context = None  # built on first use by metrics_context(app)
    app.state.metrics_context_lock = threading.Lock()

    problems.install(app)
    app.add_exception_handler(DatabaseBusy, _database_busy)
    app.add_middleware(problems.BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    _mount_docs(app)

    from .routes import health, metrics, ogc, suitability, transfers

    app.include_router(health.router)
    app.include_router(ogc.router)
    app.include_router(suitability.router)
    problems.add_openapi_rewriter(app, suitability.openapi_limits)
    app.include_router(metrics.router)
    app.include_router(transfers.router)
    from .routes import maps as maps_routes; app.include_router(maps_routes.router)  # noqa: E702
    from .routes import scenarios as scenario_routes; app.include_router(scenario_routes.router)  # noqa: E702
    from .routes import plan as plan_routes; app.include_router(plan_routes.router)  # noqa: E702
    from .web import install_web; install_web(app)  # noqa: E702  web workspace: pages, /login, HTML at /
    return app


BUSY_RETRY_AFTER_S = 2


async def _database_busy(_request, exc: DatabaseBusy):
    """503 with Retry-After: the review database stayed locked by other writers and nothing was changed."""
    return problems.problem_response(503, f"{exc}: send the same request again",
                                     headers={"Retry-After": str(BUSY_RETRY_AFTER_S)}, title="Service Unavailable")


class SecurityHeaders:
    """ASGI middleware: ``nosniff`` and ``Referrer-Policy: same-origin`` on every response, ``no-store`` on JSON (data
    behind a token must not sit in shared caches); headers a route set itself are kept."""

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
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` from the installed ``swagger-ui-bundle-v2`` package: no CDN."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="swagger-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="parkplan API",
                                   swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/assets/swagger-ui.css",
                                   swagger_favicon_url="/docs/assets/favicon-32x32.png")


def suitability_context(app: FastAPI):
    """The suitability model's park context for the app's dataset, built once on first use."""
    with app.state.cache_lock:
        ctx = app.state.cache.get("suitability_context")
        if ctx is None:
            from parks.suitability import context_from_dataset

            ctx = app.state.cache["suitability_context"] = context_from_dataset(app.state.dataset)
    return ctx


# the parts of a MetricsContext every metric uses: computed once when the context is built
_METRICS_SHARED = ("enterprises", "enterprises_m", "parks_m", "province_m", "county_codes", "weights",
                   "county_area_km2")
METRICS_CONTEXT_CACHE = 128  # results the context keeps for its own expensive parts (Ripley envelopes)


class _BoundedCache(OrderedDict):
    """A dict that forgets its oldest entries beyond ``maxsize`` (the metrics context's own result cache, so
    that a stream of distinct queries cannot grow it without bound). The entry just set is never dropped."""

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize
        self._lock = threading.Lock()

    def __setitem__(self, key, value) -> None:
        with self._lock:
            super().__setitem__(key, value)
            while len(self) > self.maxsize:
                self.popitem(last=False)


def metrics_context(app: FastAPI):
    """The app's one :class:`parks.metrics.report.MetricsContext` over its dataset, built on first use.

    Built under a lock, so concurrent first requests wait for one build, with its shared parts (joins,
    metric projections, county weights and areas) computed then: later requests, in any thread, only read
    them. Pass it to ``parks.metrics.report`` functions instead of the dataset.
    """
    ctx = app.state.metrics_context
    if ctx is not None:
        return ctx
    with app.state.metrics_context_lock:
        if app.state.metrics_context is None:
            from parks.metrics.report import MetricsContext

            ctx = MetricsContext(app.state.dataset, cache=_BoundedCache(METRICS_CONTEXT_CACHE))
            for name in _METRICS_SHARED:
                getattr(ctx, name)
            app.state.metrics_context = ctx
        return app.state.metrics_context
