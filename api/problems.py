"""Every error the API returns, as RFC 9457 problem details (``application/problem+json``), in one place.

Handlers raise :class:`ProblemError` subclasses (``NotFound("candidate 'X' not found")``) or let a
domain error of ``geodata``/``parks`` propagate: :func:`install` maps those (``LookupError`` kinds to
404, the ``ValueError`` kinds to 400), request validation errors to 422, unknown routes to 404, an
oversized body to 413 (:class:`BodySizeLimit`) and anything unexpected to a 500 whose body carries
only a reference number (the traceback goes to the server log, never to the client). Details are
scrubbed of file-system paths.

:func:`document_problems` rewrites the OpenAPI schema so that each operation documents the error
statuses it can really answer, as ``application/problem+json`` with the :class:`Problem` schema:
401 where a token is read, 403 where a role above viewer is needed (or a session's CSRF header on a
POST), 404 where a path names a resource, 400 and 422 where the request has parameters or a body,
413 where it has a body, and whatever a route declares itself (``responses={412: ...}``). A 405
lists every method the path allows in ``Allow`` (Starlette names only the first route's).
Routers add their own rewrites (limits that come from the settings) with :func:`add_openapi_rewriter`.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

__all__ = [
    "PROBLEM_JSON",
    "Problem",
    "ProblemError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "PreconditionFailed",
    "PayloadTooLarge",
    "PreconditionRequired",
    "problem_response",
    "install",
    "document_problems",
    "add_openapi_rewriter",
    "BodySizeLimit",
    "scrub",
    "coded_members",
]

log = logging.getLogger("parkplan.api")
PROBLEM_JSON = "application/problem+json"
_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           406: "Not Acceptable", 409: "Conflict", 412: "Precondition Failed", 413: "Content Too Large",
           415: "Unsupported Media Type", 422: "Unprocessable Content", 428: "Precondition Required",
           500: "Internal Server Error"}
_PATH_RE = re.compile(r"(?:[A-Za-z]:\\|/)(?:[\w.\-]+[/\\])+[\w.\-]*")


class Problem(BaseModel):
    """RFC 9457 problem details; extra members (``errors``, ``current``...) may follow.

    A coded refusal of ``geodata``/``parks`` (the suitability model's ``SuitabilityError``, a
    ``MetricsError``, a ``DatasetError``, an ``ExportError``, ``TargetsError`` or ``BoundaryError``:
    :class:`geodata.messages.CodedError`) also carries its stable
    ``code`` (``weights.negative``, ``sector.unknown``) and ``detail_zh``, the same text in Chinese
    (:func:`geodata.messages.message`); ``detail`` stays English."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str | None = Field(default=None, description="stable code of a coded refusal, e.g. weights.negative")
    detail_zh: str | None = Field(default=None, description="the detail in Chinese (coded refusals)")


class ProblemError(Exception):
    status = 400

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class BadRequest(ProblemError):
    status = 400


class Unauthorized(ProblemError):
    status = 401

    def __init__(self, detail: str, **kw: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="parkplan"'}, **kw)


class Forbidden(ProblemError):
    status = 403


class NotFound(ProblemError):
    status = 404


class PreconditionFailed(ProblemError):
    status = 412


class PayloadTooLarge(ProblemError):
    status = 413


class PreconditionRequired(ProblemError):
    status = 428


def scrub(text: str) -> str:
    """Remove file-system paths from a message (they tell an attacker where things live)."""
    return _PATH_RE.sub("<path>", str(text))


def problem_body(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status, "detail": scrub(detail)}
    body.update(extra)
    return body


def problem_response(status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(problem_body(status, detail, **extra), status_code=status, headers=headers,
                        media_type=PROBLEM_JSON)


def _domain_errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """(not-found kinds, bad-input kinds) raised by geodata and parks."""
    not_found: list[type[Exception]] = []
    bad: list[type[Exception]] = []
    from geodata.dataset import DatasetError

    bad.append(DatasetError)
    try:
        from parks.suitability import SuitabilityError, UnknownEnterpriseError

        not_found.append(UnknownEnterpriseError)
        bad.append(SuitabilityError)
    except ImportError:  # pragma: no cover - the suitability package is part of the product
        pass
    try:
        from parks.metrics._common import MetricsError

        bad.append(MetricsError)
    except ImportError:  # pragma: no cover
        pass
    # the export, targets and boundary refusals (coded like the rest; no route lets them escape today, but one
    # that does answers 400 with code and detail_zh, never a 500)
    from geodata.boundaries import BoundaryError
    from geodata.targets import TargetsError
    from geodata.writers import ExportError

    bad.extend((ExportError, TargetsError, BoundaryError))
    return tuple(not_found), tuple(bad)


def _validation_detail(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    errors = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "body"
        errors.append({"field": loc, "message": scrub(str(e.get("msg", "invalid")))})
    if not errors:
        return "the request is invalid", errors
    head = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return f"invalid request: {head}{more}", errors


def install(app: FastAPI) -> None:
    """Register the exception handlers and the OpenAPI rewrite on ``app``."""
    not_found, bad = _domain_errors()

    @app.exception_handler(ProblemError)
    async def _problem(_request: Request, exc: ProblemError):
        return problem_response(exc.status, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        detail, errors = _validation_detail(exc)
        return problem_response(422, detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, ensure_ascii=False)
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such resource; see /openapi.json for the paths this API serves"
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"method {request.method} is not allowed here; allowed: {', '.join(allowed)}"
        return problem_response(exc.status_code, detail, headers=headers or None)

    for cls in not_found:
        app.add_exception_handler(cls, _domain_handler(404))
    for cls in bad:
        app.add_exception_handler(cls, _domain_handler(400))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        ref = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", ref, request.method, request.url.path)
        return problem_response(500, f"internal error (reference {ref}); the server log has the details")

    _openapi = app.openapi
    app.state.openapi_rewriters = []

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = document_problems(_openapi(), app.routes)
            for rewrite in app.state.openapi_rewriters:
                rewrite(schema, app)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _domain_handler(status: int):
    async def handler(_request: Request, exc: Exception):
        return problem_response(status, str(exc), **_coded(exc))

    return handler


def _coded(exc: Exception) -> dict[str, Any]:
    """``code`` and ``detail_zh`` of a coded error (:class:`geodata.messages.CodedError`); {} for others."""
    return coded_members(exc)


def coded_members(exc: BaseException, zh_prefix: str = "") -> dict[str, Any]:
    """``code`` and ``detail_zh`` (scrubbed of paths) of a coded error, for a :class:`ProblemError` that a route
    raises in its place (``TargetsUnavailable(f"...: {exc}", **coded_members(exc, "服务器的目标文件无效："))``);
    ``zh_prefix`` is the Chinese of the route's own words before it. {} for an error without a code."""
    from geodata.messages import CodedError

    if not isinstance(exc, CodedError):
        return {}
    return {"code": exc.code, "detail_zh": scrub(zh_prefix + exc.in_lang("zh"))}


def add_openapi_rewriter(app: FastAPI, rewrite) -> None:
    """Run ``rewrite(schema, app)`` on the OpenAPI document after :func:`document_problems` (once, when it is
    first built): for what only the running app knows, such as limits taken from its settings."""
    app.state.openapi_rewriters.append(rewrite)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this request's path (for ``Allow``)."""
    from fastapi.routing import iter_route_contexts
    from starlette.routing import Match

    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        if route.methods and hasattr(route, "matches"):
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= set(route.methods)
    order = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    return sorted(methods, key=lambda m: (order.index(m) if m in order else len(order), m))


_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _calls(dependant) -> list:
    out = []
    for sub in dependant.dependencies:
        out.append(sub.call)
        out.extend(_calls(sub))
    return out


def _inputs(dependant) -> tuple[bool, bool, bool]:
    """(has query/header/cookie parameters, has path parameters, has a body), over the whole dependency tree."""
    query = bool(dependant.query_params or dependant.header_params or dependant.cookie_params)
    path = bool(dependant.path_params)
    body = bool(dependant.body_params)
    for sub in dependant.dependencies:
        q, p, b = _inputs(sub)
        query, path, body = query or q, path or p, body or b
    return query, path, body


def authentication(route) -> str | None:
    """``"required"`` (the route reads the caller and refuses anonymous ones), ``"optional"`` or ``None``."""
    from .deps import current_user, optional_user

    calls = _calls(route.dependant)
    if current_user in calls:
        return "required"
    return "optional" if optional_user in calls else None


SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "a token from `parkplan token create`"},
    "session": {"type": "apiKey", "in": "cookie", "name": "parkplan_session",
                "description": "a browser session opened at /login (unsafe methods also need X-CSRF-Token)"},
}


def error_statuses(route) -> set[int]:
    """The error statuses an API route can answer, from its dependencies and inputs (see the module doc)."""
    calls = _calls(route.dependant)
    authenticated = authentication(route) is not None
    out: set[int] = set()
    if authenticated:
        out.add(401)
        above_viewer = any(getattr(c, "minimum_role", "viewer") != "viewer" for c in calls)
        if above_viewer or (route.methods or set()) & _UNSAFE:
            out.add(403)
    query, path, body = _inputs(route.dependant)
    if query or path or body:
        out.add(422)
    if query or body:
        out.add(400)
    if path:
        out.add(404)
    if body:
        out.add(413)
    return out


def document_problems(schema: dict[str, Any], routes=()) -> dict[str, Any]:
    """Document, per operation, the error statuses it can answer (:func:`error_statuses` and the route's own
    ``responses``) as problem+json; drop FastAPI's generic 422 schemas."""
    from fastapi.routing import APIRoute, iter_route_contexts

    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    comps["Problem"] = Problem.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError"):
        comps.pop(name, None)
    ref = {"$ref": "#/components/schemas/Problem"}
    content = {PROBLEM_JSON: {"schema": ref}}
    derived: dict[tuple[str, str], set[int]] = {}
    auth: dict[tuple[str, str], str | None] = {}
    for route in iter_route_contexts(list(routes)):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            path = route.path_format or ""
            for method in route.methods or ():
                derived[(path, method.lower())] = error_statuses(route)
                auth[(path, method.lower())] = authentication(route)
    if any(auth.values()):
        schema["components"].setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    for path, path_item in schema.get("paths", {}).items():
        for method, op in path_item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses = op["responses"]
            kind = auth.get((path, method))
            if kind is not None:
                op["security"] = [{"bearer": []}, {"session": []}] + ([{}] if kind == "optional" else [])
            responses.pop("422", None)  # FastAPI's, re-added below as a problem when the route has inputs
            for code in derived.get((path, method), set()):
                responses.setdefault(str(code), {"description": _TITLES[code]})
            for code, resp in responses.items():
                if code[:1] in ("4", "5"):
                    resp["content"] = content
                    if not resp.get("description") or resp["description"] == "Additional Response":
                        resp["description"] = _TITLES.get(int(code), "Error")
            if "401" in responses:
                responses["401"]["headers"] = {"WWW-Authenticate": {
                    "description": "the authentication scheme (Bearer)", "schema": {"type": "string"}}}
            if "503" in responses and "headers" not in responses["503"]:
                responses["503"]["headers"] = {"Retry-After": {
                    "description": "seconds to wait before sending the request again", "schema": {"type": "string"}}}
    return schema


class _TooLarge(StarletteHTTPException):
    """Raised from the body stream; FastAPI re-raises HTTPExceptions met while reading a body, so the
    problem handler answers 413 (and the middleware does if nothing else did)."""


class BodySizeLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413, by header or while streaming."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = int(max_bytes)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = None
        for k, v in scope.get("headers", ()):
            if k == b"content-length":
                length = v
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                return await _send_problem(send, 400, "Content-Length is not an integer")
            if n > self.max_bytes:
                return await _send_problem(send, 413, self._message())
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(413, self._message())
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_problem(send, 413, self._message())

    def _message(self) -> str:
        return f"request body larger than the limit of {self.max_bytes} bytes (setting PARKPLAN_MAX_BODY_BYTES)"


async def _send_problem(send, status: int, detail: str) -> None:
    body = json.dumps(problem_body(status, detail), ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
