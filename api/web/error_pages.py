"""The API's own refusals (:mod:`api.problems`: an unknown page, a method the page does not take, a query parameter
the page's route refuses, a body over the limit, a refusal a page's handler raised (409, 412, 428, a domain error),
a busy review database (503 ``db.busy``), an unexpected error) answered to a browser under ``/ui`` as a page of the
workspace in the page's language (``lang=en``: English; else Chinese), not as problem+json.

:func:`install` sets ``app.state.problem_page``, which :func:`api.problems.answer` calls with the problem's body
(``detail``, ``code``, ``detail_zh``, ``errors``) and headers; the page shows ``detail_zh`` (or ``detail`` in
English) as text, escaped by the template like every value, and keeps the status and headers (``Retry-After``). A
busy database's page says that nothing was saved and to try again in ``Retry-After`` seconds. A client that asks for
JSON (``Accept`` names JSON and not HTML) still gets problem+json."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from . import i18n

__all__ = ["install", "problem_page", "wants_page"]

#: status -> the page's message key (api.web.i18n.MESSAGES); others: the generic one
_KEYS = {404: "page_not_found", 405: "method_not_allowed", 409: "page_conflict", 412: "page_version_changed",
         413: "body_too_large", 422: "request_invalid", 428: "page_version_missing", 500: "server_error",
         503: "service_unavailable"}
#: a problem's ``code`` -> the page's message key, before the status's
_CODE_KEYS = {"db.busy": "db_busy"}

# page-only messages of these pages (api.web.i18n.MESSAGES lets page modules add theirs; the glossary's words win)
for _k, _v in {
    "page_conflict": ("与当前状态冲突，未做任何更改。", "This conflicts with the current state; nothing was changed."),
    "page_version_changed": ("内容已被他人修改，本次提交未保存。", "Someone changed this meanwhile; nothing was saved."),
    "page_version_missing": ("提交中缺少版本信息，未做任何更改。", "The submission did not say which version it changes; "
                             "nothing was changed."),
    "service_unavailable": ("服务暂时不可用，本次请求未做任何更改。", "The service is unavailable for a moment; "
                            "nothing was changed."),
    "db_busy": ("审核数据库正忙，本次提交没有保存任何内容。", "The review database is busy: nothing was saved."),
    "retry_in": ("请 {seconds} 秒后重试（返回上一页，再提交一次）。",
                 "Please try again in {seconds} seconds (go back and submit once more)."),
    "retry_later": ("请稍后重试（返回上一页，再提交一次）。", "Please try again in a moment (go back and submit once more)."),
}.items():
    i18n.MESSAGES.setdefault(_k, _v)


def wants_page(request: Request) -> bool:
    """A browser's request for a workspace page: a path under ``/ui`` whose ``Accept`` does not ask for JSON only."""
    path = request.url.path
    if not (path == "/ui" or path.startswith("/ui/")):
        return False
    accept = request.headers.get("accept", "").lower()
    return "json" not in accept or "text/html" in accept


async def problem_page(request: Request, status: int, body: dict[str, Any],
                       headers: dict[str, str] | None = None) -> Response | None:
    """The page of a refusal for a browser's request under ``/ui`` (None otherwise: the caller answers JSON)."""
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
    key = _CODE_KEYS.get(str(body.get("code") or ""), _KEYS.get(status, "bad_request"))
    detail: str | None
    if status == 503:  # nothing was done: say when to try again (Retry-After), not the server's words
        detail = retry_text(lang, (headers or {}).get("Retry-After"))
    else:
        detail = page_detail(status, body, lang)
    return page_error(request, status, key, user=user, detail=detail)


def retry_text(lang: str, retry_after: str | None) -> str:
    """"Try again in N seconds" in ``lang`` (N from ``Retry-After`` when it is a number of seconds, else "later")."""
    t = i18n.translator(lang)
    value = str(retry_after or "").strip()
    if value.isdigit() and len(value) <= 6:
        return t("retry_in", seconds=int(value))
    return t("retry_later")


def page_detail(status: int, body: dict[str, Any], lang: str) -> str | None:
    """What the page says below its message: each refused parameter and what it accepts (422), the body's limit
    (413), the allowed methods (405), the reference of an unexpected error (500), a domain error's own words (an
unknown enterprise: 404; a refused value: 400); nothing for an unknown page."""
    if status == 404 and body.get("code") in (None, "http.not_found"):  # a domain's 404 says what was not found
        return None
    if lang == "en":
        return str(body.get("detail") or "") or None
    if status == 422 and body.get("errors"):
        return "；".join(str(e.get("message_zh") or "") for e in body["errors"])
    return str(body.get("detail_zh") or body.get("detail") or "") or None


def install(app) -> None:
    app.state.problem_page = problem_page
