"""FastAPI dependencies as ``Annotated`` aliases: the dataset, a database session, the caller and roles.

``CurrentUser`` accepts ``Authorization: Bearer TOKEN`` or the browser session cookie. With the
cookie, an unsafe method (POST, PUT, PATCH, DELETE) also needs the session's CSRF secret in the
``X-CSRF-Token`` header (pages of the web workspace send it).

Use::

    @router.get("/x")
    def x(user: AnalystUser, db: DbDep, ds: DatasetDep): ...

Access checks live here, not in handlers; office scope is ``user.in_scope(...)`` / :func:`scope_filter`.

The app's state (:class:`api.state.AppState`) is ``StateDep``; its parts are ``SettingsDep``, ``DatasetDep``,
``SuitabilityContextDep`` and ``MetricsContextDep``.

A bearer token is looked up once per :attr:`api.settings.Settings.auth_ttl_s` seconds (default 5,
``PARKPLAN_AUTH_TTL_S``; 0 looks it up on every request), in a per-process cache keyed by the SHA-256 of the
token: a token revoked (``parkplan token revoke`` or the database) stops working within that interval. A browser
session is cached the same way, keyed by the SHA-256 of its cookie, with its expiry: an expired session is refused
at once, a logout at once by the process that logged it out (its other worker processes, and a token revoked,
within the interval).

The caller dependencies are ``async`` and never block the event loop: a token or session already in the cache
costs no thread and no database session; the database lookups (a first sight in an interval) run in the thread
pool.
"""

from __future__ import annotations

import hashlib
import time
from typing import Annotated, Iterator

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import or_
from sqlalchemy.orm import Session

from parks.joins import PreparedDataset
from parks.metrics.report import MetricsContext
from parks.suitability.context import SuitabilityContext

from .auth import (CSRF_HEADER, SESSION_COOKIE, Principal, authenticate_token, clear_session_cookie, login,
                   logout, role_rank, session_lookup, set_session_cookie, verify_csrf)
from .db import utcnow, write_transaction
from .problems import Forbidden, Unauthorized, auth_members
from .settings import Settings
from .state import AppState

__all__ = [
    "StateDep",
    "app_state",
    "SuitabilityContextDep",
    "MetricsContextDep",
    "DatasetDep",
    "DbDep",
    "SettingsDep",
    "CurrentUser",
    "OptionalUser",
    "ViewerUser",
    "AnalystUser",
    "ReviewerUser",
    "AdminUser",
    "require_role",
    "scope_filter",
    "start_browser_session",
    "end_browser_session",
    "is_https",
    "cached_principal",
]

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def app_state(request: Request) -> AppState:
    """The app's state, for code that is not a dependency (a plain call)."""
    return request.app.state.parkplan


# The three below only read attributes, so they are ``async``: FastAPI runs a plain-``def`` dependency in the
# thread pool, a thread hop (about 0.1 ms of CPU) per request for an attribute read; an ``async`` one is awaited
# on the event loop. The context dependencies further down may build a context (seconds): they stay plain ``def``.
async def get_state(request: Request) -> AppState:
    return request.app.state.parkplan


async def get_dataset(request: Request) -> PreparedDataset:
    return request.app.state.parkplan.dataset


async def get_settings(request: Request) -> Settings:
    return request.app.state.parkplan.settings


def get_suitability_context(request: Request) -> SuitabilityContext:
    return request.app.state.parkplan.suitability_context()


def get_metrics_context(request: Request) -> MetricsContext:
    return request.app.state.parkplan.metrics_context()


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.parkplan.sessions() as db:
        yield db


StateDep = Annotated[AppState, Depends(get_state)]
DatasetDep = Annotated[PreparedDataset, Depends(get_dataset)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SuitabilityContextDep = Annotated[SuitabilityContext, Depends(get_suitability_context)]
MetricsContextDep = Annotated[MetricsContext, Depends(get_metrics_context)]
DbDep = Annotated[Session, Depends(get_db)]


def _auth_key(state: AppState, kind: str, secret: str) -> tuple | None:
    """The cache key of a token or session for the current ``auth_ttl_s`` interval (``None``: no caching)."""
    ttl = state.settings.auth_ttl_s
    if ttl <= 0:
        return None
    return (kind, hashlib.sha256(secret.encode()).hexdigest(), int(time.monotonic() // ttl))


def cached_lookup(state: AppState, kind: str, secret: str, find, live=lambda found: found) -> Principal | None:
    """``live(find())`` (``find``: a database lookup of a token or session; ``live``: its principal if still valid
    now, e.g. a session not expired since), ``find()`` reused for ``auth_ttl_s`` seconds per secret."""
    key = _auth_key(state, kind, secret)
    if key is None:
        return live(find())
    principal = live(state.auth.get_or_compute(key, find))
    if principal is None:  # unknown, revoked or expired: not remembered, so a new token or session works at once
        state.auth.discard(key)
    return principal


def _lookup_token(state: AppState, raw: str) -> Principal | None:
    """The token's principal: from the cache of this interval, else from the database (in a thread)."""
    def find() -> Principal | None:
        with state.sessions() as db:
            return authenticate_token(db, raw)

    return cached_lookup(state, "token", raw, find)


def _find_session(state: AppState, cookie: str):
    with state.sessions() as db:
        return session_lookup(db, cookie, key=state.session_key)


def _live(found) -> Principal | None:
    """The principal of a session lookup's result if the session has not expired since."""
    if found is None:
        return None
    principal, expires = found
    return principal if expires > utcnow() else None


def _lookup_session(state: AppState, cookie: str) -> Principal | None:
    """The session's principal: from this interval's cache (its expiry checked at each use), else from the database
    (the caller is in a thread). A session refused (unknown, expired, logged out, its token revoked) is not
    remembered."""
    return cached_lookup(state, "session", cookie, lambda: _find_session(state, cookie), _live)


def cached_session(state: AppState, cookie: str | None) -> Principal | None:
    """The principal of a session cookie looked up in this interval and not expired since, else ``None``. Never
    waits, no I/O: for the async fast paths (this module's callers, the web pages' access check)."""
    key = _auth_key(state, "session", cookie) if cookie else None
    return _live(state.auth.get(key)) if key is not None else None


def forget_session(state: AppState, cookie: str) -> None:
    """A logged-out session is refused at once by this process (other worker processes: within ``auth_ttl_s``)."""
    key = _auth_key(state, "session", cookie)
    if key is not None:
        state.auth.discard(key)


def _bearer(header: str) -> str:
    """The token of an ``Authorization`` header value (401 unless it is ``Bearer TOKEN``)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("the Authorization header must be 'Bearer TOKEN'", **auth_members("auth.header_malformed"))
    return value.strip()


def cached_principal(state: AppState, header: str) -> Principal | None:
    """The caller of an ``Authorization`` header value if its token is in this interval's cache, else ``None``
    (a malformed header, a token not looked up yet in this interval, or no caching). Never waits, no I/O: for a
    route's fast path (``api.routes.suitability``), which leaves every other case to :func:`current_user`."""
    try:
        raw = _bearer(header)
    except Unauthorized:
        return None
    key = _auth_key(state, "token", raw)
    return state.auth.get(key) if key is not None else None


async def _authenticate(request: Request) -> Principal | None:
    """The caller, without blocking the event loop: a bearer token seen in this interval is answered from the
    cache (no thread, no database); a first sight of it, and every session cookie, is looked up in a thread."""
    state: AppState = request.app.state.parkplan
    header = request.headers.get("authorization")
    if header is not None:
        raw = _bearer(header)
        key = _auth_key(state, "token", raw)
        principal = state.auth.get(key) if key is not None else None
        if principal is None:
            principal = await run_in_threadpool(_lookup_token, state, raw)
        if principal is None:
            raise Unauthorized("the token is not valid (unknown, malformed or revoked)", **auth_members("auth.token_invalid"))
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = cached_session(state, cookie) or await run_in_threadpool(_lookup_session, state, cookie)
        if principal is None:
            return None
        if request.method not in _SAFE_METHODS:
            if not verify_csrf(principal, request.headers.get(CSRF_HEADER)):
                raise Forbidden(f"a request with the session cookie must carry the session's {CSRF_HEADER} header",
                                **auth_members("auth.csrf_missing", header=CSRF_HEADER))
        return principal
    return None


async def optional_user(request: Request) -> Principal | None:
    """The caller if authenticated, else ``None`` (an invalid bearer token is still 401)."""
    return await _authenticate(request)


async def current_user(request: Request) -> Principal:
    principal = await _authenticate(request)
    if principal is None:
        raise Unauthorized("authentication required: send 'Authorization: Bearer TOKEN' "
                           "(create one with `parkplan token create`) or log in with a browser",
                           **auth_members("auth.required"))
    return principal


OptionalUser = Annotated[Principal | None, Depends(optional_user)]
CurrentUser = Annotated[Principal, Depends(current_user)]


def require_role(minimum: str):
    """A dependency that lets ``minimum`` and higher roles through and answers 403 to the others."""
    role_rank(minimum)

    async def dependency(user: CurrentUser) -> Principal:  # no I/O: answered on the event loop
        if not user.has_role(minimum):
            raise Forbidden(f"this needs the {minimum} role or higher; your token has {user.role}",
                            **auth_members("auth.role", minimum=minimum, role=user.role))
        return user

    dependency.__name__ = f"require_{minimum}"
    setattr(dependency, "minimum_role", minimum)  # read by api.problems.error_statuses (403 documented above viewer)
    return dependency


ViewerUser = Annotated[Principal, Depends(require_role("viewer"))]
AnalystUser = Annotated[Principal, Depends(require_role("analyst"))]
ReviewerUser = Annotated[Principal, Depends(require_role("reviewer"))]
AdminUser = Annotated[Principal, Depends(require_role("admin"))]


def scope_filter(user: Principal, origin_col, destination_col):
    """A SQL condition limiting rows to the user's offices (``True`` for admins)."""
    if user.is_admin:
        return True
    offices = sorted(user.offices)
    return or_(origin_col.in_(offices), destination_col.in_(offices))


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def start_browser_session(request: Request, response: Response, raw_token: str) -> Principal | None:
    """Log in with a token: open a session, set the cookie on ``response``; ``None`` if the token is invalid.

    For the web workspace's ``/login`` form handler.
    """
    result = write_transaction(request.app.state.engine, lambda db: login(
        db, raw_token, key=request.app.state.session_key, ttl=request.app.state.settings.session_ttl))
    if result is None:
        return None
    set_session_cookie(response, result, secure=is_https(request))
    return result.principal


def end_browser_session(request: Request, response: Response) -> None:
    """Log out: delete the server-side session and clear the cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        write_transaction(request.app.state.engine, lambda db: logout(db, cookie, key=request.app.state.session_key))
        forget_session(request.app.state.parkplan, cookie)  # after: a lookup meanwhile read the row before it went
    clear_session_cookie(response, secure=is_https(request))
