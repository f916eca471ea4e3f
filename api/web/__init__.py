"""The web workspace: server-rendered pages (Jinja2, autoescaped, Chinese by default, ``lang=en``) for
planners, analysts and county offices, served by the API app itself.

``router`` carries every page; :func:`install_web` includes it and sets the app's ``landing_html``
hook so that ``/`` answers the HTML home page to browsers (and the OGC landing JSON to API clients).
"""

from __future__ import annotations

from fastapi import APIRouter

from . import backend, error_pages, pages_home, pages_metrics, pages_parks, pages_review, pages_suitability, static

__all__ = ["router", "install_web"]

router = APIRouter(include_in_schema=False)
for _module in (pages_home, pages_parks, pages_suitability, pages_review, pages_metrics, static):
    router.include_router(_module.router)
from . import pages_plan; router.include_router(pages_plan.router)  # noqa: E402, E702  /ui/plan
from . import pages_scenarios; router.include_router(pages_scenarios.router)  # noqa: E402, E702  /ui/scenarios


def install_web(app) -> None:
    """Include the pages and answer HTML at ``/`` for browsers (the OGC route's ``landing_html`` hook)."""
    app.include_router(router)
    backend.install_access(app)  # the pages' access dependencies (backend.AnalystPage, ...) answer redirects/403s
    error_pages.install(app)  # the API's own refusals (404, 405, 413, 422, 500) under /ui: a page, not JSON
    app.state.landing_html = pages_home.landing_html
    static.warm_font(app)  # parkplan serve: the web font's chunks of a Chinese page cut in the background
