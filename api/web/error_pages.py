"""The API's own refusals (:mod:`api.problems`: an unknown page, a method the page does not take, a query parameter
the page's route refuses, a body over the limit, an unexpected error) answered to a browser under ``/ui`` as a page
of the workspace in the page's language (``lang=en``: English; else Chinese), not as problem+json.

:func:`install` sets ``app.state.problem_page``, which :func:`api.problems._answer` calls with the problem's body
(``detail``, ``code``, ``detail_zh``, ``errors``); the page shows ``detail_zh`` (or ``detail`` in English) as text,
escaped by the template like every value. A client that asks for JSON (``Accept`` names JSON and not HTML) still
gets problem+json."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from . import i18n

__all__ = ["install", "problem_page", "wants_page"]

#: status -> the page's message key (api.web.i18n.MESSAGES); others: the generic one
_KEYS = {404: "page_not_found", 405: "method_not_allowed", 413: "body_too_large", 422: "request_invalid",
         500: "server_error"}


def wants_page(request: Request) -> bool:
    """A browser's request for a workspace page: a path under ``/ui`` whose ``Accept`` does not ask for JSON only."""
    path = request.url.path
    if not (path == "/ui" or path.startswith("/ui/")):
        return False
    accept = request.headers.get("accept", "").lower()
    return "json" not in accept or "text/html" in accept


async def problem_page(request: Request, status: int, body: dict[str, Any]) -> Response | None:
    if not wants_page(request):
        return None
    from .backend import principal
    from .core import page_error

    user = getattr(request.state, "principal", None)
    if user is None:
        try:  # the navigation of the logged-in user (a page's dependency may not have run: an unknown page)
            user = await run_in_threadpool(principal, request)
        except Exception:  # noqa: BLE001 - the error page must not fail for want of the navigation bar
            user = None
    lang = i18n.pick_lang(request.query_params.get("lang"))
    detail = page_detail(status, body, lang)
    return page_error(request, status, _KEYS.get(status, "bad_request"), user=user, detail=detail)


def page_detail(status: int, body: dict[str, Any], lang: str) -> str | None:
    """What the page says below its message: each refused parameter and what it accepts (422), the body's limit
    (413), the allowed methods (405), the reference of an unexpected error (500); nothing for an unknown page."""
    if status == 404:
        return None
    if lang == "en":
        return str(body.get("detail") or "") or None
    if status == 422 and body.get("errors"):
        return "；".join(str(e.get("message_zh") or "") for e in body["errors"])
    return str(body.get("detail_zh") or body.get("detail") or "") or None


def install(app) -> None:
    app.state.problem_page = problem_page
