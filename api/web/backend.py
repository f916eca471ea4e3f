"""The web workspace's one door into the rest of the app: who is logged in, the dataset, the
suitability context, and small per-app caches. Authentication is the API's (``api.auth`` sessions,
``api.deps.start_browser_session``); nothing here is a second auth system.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from starlette.datastructures import FormData

from ..auth import SESSION_COOKIE, Principal
from ..cache import LockedCache
from ..state import AppState
from .core import TEMPLATES, check_csrf, csrf_token, lang_of, page_context, page_error, render, url_with

__all__ = ["principal", "page_user", "state_of", "dataset", "suitability_context", "cached", "page_view",
           "render_content_cached", "ViewerPage", "AnalystPage",
           "ReviewerPage", "AnalystPost", "ReviewerPost", "PagePost", "PageRefused", "install_access"]

def principal(request: Request) -> Principal | None:
    """The principal of the request's session cookie (valid, unexpired, token not revoked), else None; looked up as
    the API looks it up (:mod:`api.deps`: cached per ``auth_ttl_s`` interval, a database read in the caller's
    thread on a first sight)."""
    from ..deps import _lookup_session

    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    return _lookup_session(request.app.state.parkplan, cookie)


def page_user(request: Request, minimum: str) -> Principal | Response:
    """The logged-in principal with at least ``minimum`` role; else a redirect to the login page (not
    logged in or session expired) or a plain 403 page (role too low)."""
    user = principal(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(url_with(request, "/login", next=target), status_code=303)
    request.state.principal = user
    if not user.has_role(minimum):
        return page_error(request, 403, "forbidden", user=user)
    return user


def state_of(where: Request | AppState) -> AppState:
    """The app's state, from a request or the state itself (the start-up warm-up has no request)."""
    return where if isinstance(where, AppState) else where.app.state.parkplan


def dataset(where: Request | AppState):
    """The prepared dataset the API serves (enterprises carry park_id, county_code, ...)."""
    return state_of(where).dataset


def cached(where: Request | AppState, key: str, compute: Callable[[], Any]) -> Any:
    """Derived tables the pages reuse, in the app's web cache (:class:`api.cache.LockedCache`: bounded, keyed by
    the dataset version and ``key``, each computed once while concurrent requests for it wait). ``where``: the
    request, or the app's state (warm-up)."""
    state = state_of(where)
    return state.web.get_or_compute(state.key(key), compute)


def shared_cached(where: Request | AppState, key: str, compute: Callable[[], Any]) -> Any:
    """:func:`cached`, and once for every worker process (:meth:`api.state.AppState.shared_value`): a value made
    of plain JSON values (dicts, lists, str, numbers, None; no tuples, no Markup), stored as JSON in the review
    database by the worker that computed it and read back by the others."""
    from ..shared_compute import json_codec

    state = state_of(where)
    return state.web.get_or_compute(state.key(key), lambda: state.shared_value(("web", key), compute, *json_codec()))


def page_view(where: Request | AppState, key: tuple, compute: Callable[[], Any]) -> Any:
    """A page's view for one set of parameters (a suitability query...), in the app's page-view cache
    (:attr:`api.state.AppState.pages`: bounded LRU, keyed by the dataset version and ``key``, computed once). The
    view is shared by every user who asks the same: nothing per user or per session may be in it."""
    state = state_of(where)
    return state.pages.get_or_compute(state.key(*key), compute)


#: what differs between two users, or two requests, of the same page: a cached content block must not read it
PER_REQUEST = frozenset({"user", "csrf_token", "request", "lang_switch"})


@functools.lru_cache(maxsize=None)
def _content_names(template: str) -> frozenset[str]:
    """The names the ``content`` block of ``template`` reads (from the template's syntax tree)."""
    from jinja2 import nodes

    source = TEMPLATES.loader.get_source(TEMPLATES, template)[0]  # type: ignore[union-attr]
    tree = TEMPLATES.parse(source)
    block = next((b for b in tree.find_all(nodes.Block) if b.name == "content"), None)
    if block is None:
        raise LookupError(f"template {template!r} has no content block")
    return frozenset(n.name for n in block.find_all(nodes.Name))


#: stands for the user's CSRF token in a kept content block whose form carries it: random per process (a user cannot
#: type it), replaced in each request's copy by that request's escaped token
CSRF_MARK = f"csrf-mark-{secrets.token_hex(16)}"


def render_content_cached(request: Request, template: str, context: dict[str, Any], key: tuple, user,
                          status_code: int = 200, keep: LockedCache | None = None) -> Response:
    """:func:`api.web.core.render` of ``template``, its ``content`` block made once per dataset version, template,
    language and ``key`` (everything the block shows must follow from these) and kept in the page-view cache (or in
    ``keep``, a bounded cache of the page's own, for a page with many keys that would push the other views out);
    the rest of the page (the header with the user, the language switch) is rendered per request. A content block
    with a form reads the CSRF token: it is kept with :data:`CSRF_MARK` in the token's place, and each request's
    token put in. The output is the same as :func:`~api.web.core.render`'s. A template whose content block reads
    anything else per request (:data:`PER_REQUEST`) is refused."""
    names = _content_names(template) & PER_REQUEST
    if names - {"csrf_token"}:
        raise ValueError(f"template {template!r}: its content block reads {sorted(names - {'csrf_token'})}, which "
                         "differ per request; it cannot be cached (only csrf_token is put in per request)")
    with_csrf = "csrf_token" in names
    mark = {"csrf_token": CSRF_MARK} if with_csrf else {}

    def make() -> str:
        tmpl = TEMPLATES.get_template(template)
        ctx = tmpl.new_context(page_context(request, {**context, **mark}, user))
        return "".join(tmpl.blocks["content"](ctx))

    full_key = ("content", template, lang_of(request), *key)
    kept = keep.get_or_compute(full_key, make) if keep is not None else page_view(request, full_key, make)
    content = Markup(kept.replace(CSRF_MARK, str(escape(csrf_token(request)))) if with_csrf else kept)
    return render(request, "_cached_content.html", {**context, "page_template": template, "cached_content": content},
                  status_code=status_code, user=user)


def suitability_context(request: Request):
    """The API's suitability context (:meth:`api.state.AppState.suitability_context`), so the page ranks what
    ``POST /suitability`` ranks."""
    return request.app.state.parkplan.suitability_context()


# --- access as dependencies: a page declares ``user: AnalystPage`` (GET) or ``post: ReviewerPost`` (POST form) ---


class PageRefused(Exception):
    """Raised by the page dependencies with the answer to send instead of the page (a redirect to the login, a
    403 page, a 400 CSRF page); :func:`install_access` registers its handler."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _page_refused(_request: Request, exc: PageRefused) -> Response:
    return exc.response


def install_access(app) -> None:
    """Answer :class:`PageRefused` with its response (called by :func:`api.web.install_web`)."""
    app.add_exception_handler(PageRefused, _page_refused)


def _require(minimum: str):
    # async: a session looked up in this interval is answered on the event loop (no thread, no database: one
    # thread-pool hand-over per page, the handler's); a first sight, a refusal and its page go to a thread
    async def dependency(request: Request) -> Principal:
        from ..deps import cached_session

        seen = cached_session(request.app.state.parkplan, request.cookies.get(SESSION_COOKIE))
        if seen is not None and seen.has_role(minimum):
            request.state.principal = seen
            return seen
        user = await run_in_threadpool(page_user, request, minimum)
        if isinstance(user, Response):
            raise PageRefused(user)
        return user

    dependency.__name__ = f"page_{minimum}"
    return dependency


@dataclass(frozen=True)
class PagePost:
    """A POSTed form whose CSRF token was checked, and who sent it."""

    user: Principal
    form: FormData


def _post(minimum: str):
    # the default (not an annotation: those are strings here, and ``minimum`` is not a global) names the check
    async def dependency(request: Request, user: Principal = Depends(_require(minimum))) -> PagePost:
        form = await request.form()
        token = form.get("csrf_token")  # a file sent in its place is no token
        if not check_csrf(request, token if isinstance(token, str) else None):
            raise PageRefused(page_error(request, 400, "csrf_failed", user=user))
        return PagePost(user, form)

    dependency.__name__ = f"post_{minimum}"
    return dependency


ViewerPage = Annotated[Principal, Depends(_require("viewer"))]
AnalystPage = Annotated[Principal, Depends(_require("analyst"))]
ReviewerPage = Annotated[Principal, Depends(_require("reviewer"))]
AnalystPost = Annotated[PagePost, Depends(_post("analyst"))]
ReviewerPost = Annotated[PagePost, Depends(_post("reviewer"))]
