"""FastAPI dependencies as ``Annotated`` aliases: the dataset, a database session, the caller and roles.

``CurrentUser`` accepts ``Authorization: Bearer TOKEN`` or the browser session cookie. With the
cookie, an unsafe method (POST, PUT, PATCH, DELETE) also needs the session's CSRF secret in the
``X-CSRF-Token`` header (pages of the web workspace send it).

Use::

    @router.get("/x")
    def x(user: AnalystUser, db: DbDep, ds: DatasetDep): ...

Access checks live here, not in handlers; office scope is ``user.in_scope(...)`` / :func:`scope_filter`.
"""

from __future__ import annotations

from typing import Annotated, Iterator

from fastapi import Depends, Request, Response
from sqlalchemy import or_
from sqlalchemy.orm import Session

from .auth import (CSRF_HEADER, SESSION_COOKIE, Principal, authenticate_token, clear_session_cookie, login,
                   logout, role_rank, session_principal, set_session_cookie)
from .problems import Forbidden, Unauthorized

__all__ = [
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
]

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_dataset(request: Request):
    return request.app.state.dataset


def get_settings(request: Request):
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as db:
        yield db


DatasetDep = Annotated[object, Depends(get_dataset)]
SettingsDep = Annotated[object, Depends(get_settings)]
DbDep = Annotated[Session, Depends(get_db)]


def _authenticate(request: Request, db: Session) -> Principal | None:
    try:
        return _authenticate_in(request, db)
    finally:
        db.rollback()  # end the read transaction: the connection goes back to the pool for the handler


def _authenticate_in(request: Request, db: Session) -> Principal | None:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("the Authorization header must be 'Bearer TOKEN'")
        principal = authenticate_token(db, value.strip())
        if principal is None:
            raise Unauthorized("the token is not valid (unknown, malformed or revoked)")
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = session_principal(db, cookie, key=request.app.state.session_key)
        if principal is None:
            return None
        if request.method not in _SAFE_METHODS:
            from .auth import verify_csrf

            if not verify_csrf(principal, request.headers.get(CSRF_HEADER)):
                raise Forbidden(f"a request with the session cookie must carry the session's {CSRF_HEADER} header")
        return principal
    return None


def optional_user(request: Request, db: DbDep) -> Principal | None:
    """The caller if authenticated, else ``None`` (an invalid bearer token is still 401)."""
    return _authenticate(request, db)


def current_user(request: Request, db: DbDep) -> Principal:
    principal = _authenticate(request, db)
    if principal is None:
        raise Unauthorized("authentication required: send 'Authorization: Bearer TOKEN' "
                           "(create one with `parkplan token create`) or log in with a browser")
    return principal


OptionalUser = Annotated[Principal | None, Depends(optional_user)]
CurrentUser = Annotated[Principal, Depends(current_user)]


def require_role(minimum: str):
    """A dependency that lets ``minimum`` and higher roles through and answers 403 to the others."""
    role_rank(minimum)

    def dependency(user: CurrentUser) -> Principal:
        if not user.has_role(minimum):
            raise Forbidden(f"this needs the {minimum} role or higher; your token has {user.role}")
        return user

    dependency.__name__ = f"require_{minimum}"
    dependency.minimum_role = minimum  # read by api.problems.error_statuses (403 documented above viewer)
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
    from .db import write_transaction

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
        from .db import write_transaction

        write_transaction(request.app.state.engine, lambda db: logout(db, cookie, key=request.app.state.session_key))
    clear_session_cookie(response, secure=is_https(request))
