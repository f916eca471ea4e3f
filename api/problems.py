"""Every error the API returns, as RFC 9457 problem details (``application/problem+json``), in one place.

Handlers raise :class:`ProblemError` subclasses (``NotFound("candidate 'X' not found")``) or let a
domain error of ``geodata``/``parks`` propagate: :func:`install` maps those (``LookupError`` kinds to
404, the ``ValueError`` kinds to 400), request validation errors to 422, unknown routes to 404, an
oversized body to 413 (:class:`BodySizeLimit`) and anything unexpected to a 500 whose body carries
only a reference number (the traceback goes to the server log, never to the client). Details are
scrubbed of file-system paths.

:func:`document_problems` rewrites the OpenAPI schema so that every error response is documented
as ``application/problem+json`` with the :class:`Problem` schema.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict
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
    "BodySizeLimit",
    "scrub",
]

log = logging.getLogger("parkplan.api")
PROBLEM_JSON = "application/problem+json"
_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           406: "Not Acceptable", 409: "Conflict", 412: "Precondition Failed", 413: "Content Too Large",
           415: "Unsupported Media Type", 422: "Unprocessable Content", 428: "Precondition Required",
           500: "Internal Server Error"}
_PATH_RE = re.compile(r"(?:[A-Za-z]:\\|/)(?:[\w.\-]+[/\\])+[\w.\-]*")


class Problem(BaseModel):
    """RFC 9457 problem details; extra members (``errors``, ``current``...) may follow."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str


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


def _domain_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(not-found kinds, bad-input kinds) raised by geodata and parks."""
    not_found: list[type[BaseException]] = []
    bad: list[type[BaseException]] = []
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
    async def _http(_request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, ensure_ascii=False)
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such resource; see /openapi.json for the paths this API serves"
        return problem_response(exc.status_code, detail, headers=getattr(exc, "headers", None))

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

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _domain_handler(status: int):
    async def handler(_request: Request, exc: Exception):
        return problem_response(status, str(exc))

    return handler


_ERROR_STATUSES = ("400", "401", "403", "404", "412", "413", "422", "428")


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Document every error status an operation may answer as problem+json; drop FastAPI's 422 schemas."""
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    comps["Problem"] = Problem.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError"):
        comps.pop(name, None)
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in schema.get("paths", {}).values():
        for op in path_item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses = op["responses"]
            for code in _ERROR_STATUSES:
                responses[code] = {"description": _TITLES[int(code)], "content": {PROBLEM_JSON: {"schema": ref}}}
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
