"""Tokens, roles, office scope and browser sessions.

Roles, ordered: ``viewer`` < ``analyst`` < ``reviewer`` < ``admin``. Each role can do what the roles
before it can:

* ``viewer``: parks, counties, maps, the dataset summary (no enterprise-level data);
* ``analyst``: also enterprises and projects (confidential figures), suitability and metrics;
* ``reviewer``: also the transfer candidates *of its offices* (county codes) and their reviews,
  audit entries and exports. A reviewer has an analyst's reads across the province (its review
  sheets show enterprise figures); its office scope limits candidates, reviews, audit and exports;
* ``admin``: everything, every office.

Offices are 6-digit county codes. A candidate belongs to the offices of its origin and destination
counties; any other office gets 404 for it, as if it did not exist.

Tokens look like ``ppt_<prefix>_<secret>``: ``prefix`` (public, 12 hex) finds the row; the SHA-256
of ``secret`` is stored and compared with :func:`hmac.compare_digest`. A token is printed once, at
creation, and cannot be recovered from the database.

Browser sessions (for the web workspace): :func:`login` checks a token and opens a server-side
session; the cookie :data:`SESSION_COOKIE` carries ``<session id>.<HMAC-SHA256 signature>``; the
table keeps the id's SHA-256, the token, a CSRF secret and the expiry. :func:`session_principal`
checks signature, expiry and the token's revocation on every request; :func:`logout` deletes it.
Cookie flags (:func:`set_session_cookie`): HttpOnly, SameSite=Strict, Path=/, Secure when the
request came over https. ``api.deps.start_browser_session`` wires these to a request/response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import SESSION_KEY_NAME, BrowserSession, Secret, Token, as_utc, utcnow

__all__ = [
    "ROLES",
    "SESSION_COOKIE",
    "CSRF_HEADER",
    "AuthError",
    "Principal",
    "LoginResult",
    "role_rank",
    "create_token",
    "authenticate_token",
    "revoke_token",
    "signing_key",
    "login",
    "session_principal",
    "session_lookup",
    "logout",
    "set_session_cookie",
    "clear_session_cookie",
    "verify_csrf",
]

ROLES = ("viewer", "analyst", "reviewer", "admin")
SESSION_COOKIE = "parkplan_session"
CSRF_HEADER = "X-CSRF-Token"
DEFAULT_SESSION_TTL = dt.timedelta(hours=8)
_TOKEN_RE = re.compile(r"^ppt_([0-9a-f]{12})_([A-Za-z0-9_\-]{20,128})$")
_OFFICE_RE = re.compile(r"^\d{6}$")
# compared against when the prefix is unknown, so that a miss costs the same as a hit
_DUMMY_SHA256 = hashlib.sha256(b"parkplan-no-such-token").hexdigest()


class AuthError(ValueError):
    """A role or office code is not acceptable."""


def role_rank(role: str) -> int:
    try:
        return ROLES.index(role)
    except ValueError:
        raise AuthError(f"unknown role {role!r}; accepted: {', '.join(ROLES)}") from None


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, label, role and offices, and how they authenticated."""

    token_id: int
    label: str
    role: str
    offices: frozenset[str] = field(default_factory=frozenset)
    via: str = "token"  # "token" or "session"
    csrf: str | None = None  # the session's CSRF secret (sessions only)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        return f"token {self.token_id}" + (f" ({self.label})" if self.label else "")

    def has_role(self, minimum: str) -> bool:
        return role_rank(self.role) >= role_rank(minimum)

    def in_scope(self, *county_codes: str | None) -> bool:
        """True for admins; for others, when any of the codes is one of their offices."""
        return self.is_admin or any(c in self.offices for c in county_codes if c)


def _check_offices(role: str, offices: Iterable[str]) -> list[str]:
    out = sorted({str(o).strip() for o in offices})
    bad = [o for o in out if not _OFFICE_RE.match(o)]
    if bad:
        raise AuthError(f"office codes must be 6-digit county codes, got {', '.join(map(repr, bad))}")
    if role == "reviewer" and not out:
        raise AuthError("a reviewer token needs at least one office (--office COUNTY_CODE)")
    return out


def create_token(db: Session, role: str, offices: Iterable[str] = (), label: str = "") -> tuple[str, Token]:
    """Create and store a token; return ``(the token string, its row)``. The string is not stored."""
    role_rank(role)
    office_list = _check_offices(role, offices)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = Token(prefix=prefix, secret_sha256=_sha256(secret), role=role, offices=office_list, label=label[:200])
    db.add(row)
    db.flush()
    return f"ppt_{prefix}_{secret}", row


def _principal(row: Token, via: str = "token", csrf: str | None = None) -> Principal:
    return Principal(row.id, row.label or "", row.role, frozenset(row.offices or ()), via, csrf)


def authenticate_token(db: Session, raw: str) -> Principal | None:
    """The principal of a valid, unrevoked token; ``None`` otherwise. Constant-time secret comparison."""
    m = _TOKEN_RE.match(raw or "")
    if not m:
        return None
    prefix, secret = m.groups()
    row = db.execute(select(Token).where(Token.prefix == prefix)).scalar_one_or_none()
    expected = row.secret_sha256 if row is not None else _DUMMY_SHA256
    ok = hmac.compare_digest(_sha256(secret), expected)
    if not ok or row is None or row.revoked:
        return None
    return _principal(row)


def revoke_token(db: Session, token_id: int) -> bool:
    row = db.get(Token, token_id)
    if row is None:
        return False
    row.revoked = True
    db.execute(delete(BrowserSession).where(BrowserSession.token_id == token_id))
    return True


def signing_key(db: Session) -> bytes:
    """The session-cookie signing key, stored by :func:`api.db.init_db` (or here on first use, for a database it did
    not set up); the same across restarts."""
    row = db.get(Secret, SESSION_KEY_NAME)
    if row is None:
        try:
            with db.begin_nested():
                db.add(Secret(name=SESSION_KEY_NAME, value=secrets.token_hex(32)))
            db.commit()
        except IntegrityError:  # another process created it first
            db.rollback()
        row = db.get(Secret, SESSION_KEY_NAME)
        if row is None:  # pragma: no cover - rolled back above only because another process stored it
            raise RuntimeError("the session signing key could be neither stored nor read (table secrets)")
    return bytes.fromhex(row.value)


def _sign(key: bytes, sid: str) -> str:
    return hmac.new(key, sid.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LoginResult:
    cookie_value: str
    principal: Principal
    expires_at: dt.datetime
    csrf: str


def login(db: Session, raw_token: str, *, key: bytes, ttl: dt.timedelta = DEFAULT_SESSION_TTL) -> LoginResult | None:
    """Open a browser session for a valid token (the caller commits); ``None`` if the token is not valid."""
    principal = authenticate_token(db, raw_token)
    if principal is None:
        return None
    sid = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = utcnow() + ttl
    db.add(BrowserSession(sid_sha256=_sha256(sid), token_id=principal.token_id, csrf=csrf, expires_at=expires))
    db.flush()
    return LoginResult(f"{sid}.{_sign(key, sid)}", Principal(principal.token_id, principal.label, principal.role,
                                                            principal.offices, "session", csrf), expires, csrf)


def _session_row(db: Session, cookie_value: str, key: bytes) -> BrowserSession | None:
    sid, dot, sig = (cookie_value or "").rpartition(".")
    if not dot or not sid or not hmac.compare_digest(_sign(key, sid), sig):
        return None
    return db.execute(select(BrowserSession).where(BrowserSession.sid_sha256 == _sha256(sid))).scalar_one_or_none()


def session_lookup(db: Session, cookie_value: str, *, key: bytes) -> tuple[Principal, dt.datetime] | None:
    """The principal of a valid, unexpired session cookie whose token is not revoked, and when the session
    expires (UTC); else ``None``."""
    row = _session_row(db, cookie_value, key)
    expires = as_utc(row.expires_at) if row is not None else None
    if row is None or expires is None or expires <= utcnow():
        return None
    token = db.get(Token, row.token_id)
    if token is None or token.revoked:
        return None
    return _principal(token, "session", row.csrf), expires


def session_principal(db: Session, cookie_value: str, *, key: bytes) -> Principal | None:
    """The principal of a valid, unexpired session cookie whose token is not revoked; else ``None``."""
    found = session_lookup(db, cookie_value, key=key)
    return found[0] if found is not None else None


def logout(db: Session, cookie_value: str, *, key: bytes) -> bool:
    """End a session (the caller commits). True if there was one."""
    row = _session_row(db, cookie_value, key)
    if row is None:
        return False
    db.delete(row)
    return True


def set_session_cookie(response, result: LoginResult, *, secure: bool) -> None:
    max_age = max(0, int((result.expires_at - utcnow()).total_seconds()))
    response.set_cookie(SESSION_COOKIE, result.cookie_value, max_age=max_age, path="/", httponly=True,
                        samesite="strict", secure=secure)


def clear_session_cookie(response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure)


def verify_csrf(principal: Principal, supplied: str | None) -> bool:
    """A form or header CSRF value matches the session's secret (constant time)."""
    if not principal.csrf or not supplied:
        return False
    return hmac.compare_digest(principal.csrf, supplied)
