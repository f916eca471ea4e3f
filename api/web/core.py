"""What every page shares: the Jinja2 environment (autoescape on), the language, CSRF tokens, the
security headers and the plain error pages.

CSRF: every POST form carries ``csrf_token``: the session's CSRF secret (``api.auth``) once logged
in, or before login an HMAC of a random pre-login cookie; :func:`check_csrf` compares in constant
time. GET forms (filters) carry none, so the secret never lands in a URL. The cookies themselves are
HttpOnly and SameSite=Strict, so a cross-site form would not carry them anyway: the token is the
second lock.

Pages run no inline script: the Content-Security-Policy allows scripts from this origin only, so a
name from a hostile data file that slipped through escaping still could not run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..auth import verify_csrf
from . import i18n

__all__ = ["TEMPLATES", "PRELOGIN_COOKIE", "render", "page_context", "lang_of", "csrf_token", "check_csrf", "page_error",
           "set_cookie", "CSP"]

HERE = Path(__file__).parent
#: ``auto_reload=False``: the templates ship with the package and do not change under a running server; Jinja's
#: default looked at each template's file on disk at every page (three ``stat`` calls, about 0.3 ms of a page's CPU)
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(enabled_extensions=("html", "svg"), default=True),
                        trim_blocks=True, lstrip_blocks=True, auto_reload=False)
PRELOGIN_COOKIE = "parkplan_prelogin"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")


def _fmt(value, digits: int = 1) -> str:
    """Numbers for tables: thousands separators, ``digits`` decimals, '–' for missing."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–" if value is None else str(value)
    if x != x:  # NaN
        return "–"
    x = round(x, digits) + 0.0  # a small negative number rounds to 0, not "-0.0000"
    if digits == 0 or (x.is_integer() and abs(x) >= 1000):
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def _pct(value) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if x != x else f"{100 * x:.1f}%"


TEMPLATES.filters["num"] = _fmt
TEMPLATES.filters["pct"] = _pct

#: the time the province reads (China Standard Time, UTC+8, no daylight saving); the database keeps UTC
CST = dt.timezone(dt.timedelta(hours=8), "CST")
_ACTOR = re.compile(r"token (\d+)(?: \((.*)\))?", re.S)


def when(value) -> str:
    """A stored UTC time (ISO 8601, ``...Z``) as a planner in the province reads it: ``2026-11-30 22:59`` in
    China Standard Time (UTC+8); a value that is not such a time is shown as it is."""
    try:
        t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return "" if value is None else str(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def who(value, lang: str) -> str:
    """A review's actor as stored (``token 3 (label)``, :attr:`api.auth.Principal.actor`) in the page's words:
    令牌 3（label） in Chinese; the label is the user's own text (escaped by the template); another actor as it is."""
    m = _ACTOR.fullmatch(str(value or ""))
    if m is None:
        return str(value or "")
    name = i18n.translator(lang)("token_n", id=m.group(1))
    if m.group(2) is None:
        return name
    return f"{name}（{m.group(2)}）" if lang == "zh" else f"{name} ({m.group(2)})"


def lang_of(request: Request) -> str:
    return i18n.pick_lang(request.query_params.get("lang"))


def _prelogin_key(request: Request) -> bytes:
    key = getattr(request.app.state, "session_key", None)
    if key is None:
        key = getattr(request.app.state, "web_secret", None)
        if key is None:
            key = request.app.state.web_secret = secrets.token_bytes(32)
    return key


def _prelogin_value(request: Request) -> str:
    return request.cookies.get(PRELOGIN_COOKIE) or getattr(request.state, "prelogin", "") or ""


def csrf_token(request: Request) -> str:
    """The session's CSRF secret when logged in; before login, an HMAC of the pre-login cookie."""
    principal = getattr(request.state, "principal", None)
    if principal is not None and principal.csrf:
        return principal.csrf
    return hmac.new(_prelogin_key(request), b"login-form:" + _prelogin_value(request).encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, token: str | None) -> bool:
    """The form's token matches (constant time): the session's secret, or the pre-login HMAC."""
    if not token:
        return False
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return verify_csrf(principal, str(token))
    if not _prelogin_value(request):
        return False
    return hmac.compare_digest(csrf_token(request), str(token))


def is_tls(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def set_cookie(response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", secure=is_tls(request),
                        path="/")


def url_with(request: Request, path: str, **params) -> str:
    """``path`` with the current language kept (``lang=en`` only when not Chinese) and ``params``."""
    q = {k: v for k, v in params.items() if v is not None and v != ""}
    if lang_of(request) != i18n.DEFAULT_LANG:
        q["lang"] = lang_of(request)
    return path + ("?" + urlencode(q, doseq=True) if q else "")


def page_context(request: Request, context: dict[str, Any] | None = None, user=None) -> dict[str, Any]:
    """What every template sees (the request, language, ``t``, ``label``, ``url``, CSRF token, user...), then
    ``context``: the context :func:`render` renders with."""
    lang = lang_of(request)
    t = i18n.translator(lang)
    ctx = {
        "request": request,
        "lang": lang,
        "t": t,
        "label": lambda family, key: i18n.label(lang, family, key),
        "reason_detail": lambda reason: i18n.reason_detail(lang, reason),
        "when": when,
        "who": lambda actor: who(actor, lang),
        "url": lambda path, **kw: url_with(request, path, **kw),
        "csrf_token": csrf_token(request),
        "user": user,
        "other_lang": "en" if lang == "zh" else "zh",
        "lang_switch": _lang_switch(request, "en" if lang == "zh" else "zh"),
    }
    ctx.update(context or {})
    return ctx


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200,
           user=None) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(page_context(request, context, user))
    resp = HTMLResponse(html, status_code=status_code)
    secure_headers(resp)
    if getattr(request.state, "prelogin", None) and not request.cookies.get(PRELOGIN_COOKIE):
        set_cookie(resp, request, PRELOGIN_COOKIE, request.state.prelogin, None)
    return resp


def _lang_switch(request: Request, target: str) -> str:
    """This page's URL (path and query, minus any CSRF token) in the other language."""
    q = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "csrf_token")]
    if target != i18n.DEFAULT_LANG:
        q.append(("lang", target))
    return request.url.path + ("?" + urlencode(q) if q else "")


def secure_headers(resp) -> None:
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers["Cache-Control"] = "no-store"


def page_error(request: Request, status_code: int, message_key: str, user=None, detail: str | None = None) -> HTMLResponse:
    """A plain page with one message (403 role, 404 not found or another office's, 400 CSRF...)."""
    return render(request, "error.html", {"status": status_code, "message_key": message_key, "detail": detail},
                  status_code=status_code, user=user)


def ensure_prelogin(request: Request) -> None:
    """Give a not-logged-in browser a random pre-login cookie, so the login form's CSRF token binds to it."""
    if not request.cookies.get(PRELOGIN_COOKIE):
        request.state.prelogin = secrets.token_urlsafe(24)
