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

import inspect
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
    "answer",
    "BUSY_RETRY_AFTER_S",
    "install",
    "document_problems",
    "add_openapi_rewriter",
    "BodySizeLimit",
    "scrub",
    "coded_members",
    "fallback_members",
    "problem_text",
    "auth_members",
    "role_zh",
    "field_zh",
    "validation_message_zh",
    "STATUS_ZH",
    "VALIDATION_ZH",
]

log = logging.getLogger("parkplan.api")
PROBLEM_JSON = "application/problem+json"
_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           406: "Not Acceptable", 409: "Conflict", 412: "Precondition Failed", 413: "Content Too Large",
           415: "Unsupported Media Type", 422: "Unprocessable Content", 428: "Precondition Required",
           500: "Internal Server Error", 503: "Service Unavailable"}
_PATH_RE = re.compile(r"(?:[A-Za-z]:\\|/)(?:[\w.\-]+[/\\])+[\w.\-]*")


class Problem(BaseModel):
    """RFC 9457 problem details; extra members (``errors``, ``current``...) may follow.

    A coded refusal of ``geodata``/``parks`` (the suitability model's ``SuitabilityError``, a
    ``MetricsError``, a ``DatasetError``, an ``ExportError``, ``TargetsError`` or ``BoundaryError``:
    :class:`geodata.messages.CodedError`) also carries its stable
    ``code`` (``weights.negative``, ``sector.unknown``) and ``detail_zh``, the same text in Chinese
    (:func:`geodata.messages.message`); ``detail`` stays English. The API's own refusals carry them too:
    ``http.not_found``, ``http.method_not_allowed``, ``body.too_large``, ``request.invalid`` (each of its
    ``errors`` with ``message_zh``), ``auth.*`` (see ``docs/error-messages.md``)."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str | None = Field(default=None, description="stable code of the refusal, e.g. weights.negative, "
                             "request.invalid, http.not_found, auth.token_invalid")
    detail_zh: str | None = Field(default=None, description="the detail in Chinese")


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
        message = scrub(str(e.get("msg", "invalid")))
        where = e.get("loc", ())
        if e.get("type") == "json_invalid":  # its location is the body and a character's position in it
            where = tuple(where)[:1]
        errors.append({"field": loc, "message": message, "message_zh": scrub(field_zh(where) + "："
                                                                               + validation_message_zh(e))})
    if not errors:
        return "the request is invalid", errors
    head = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return f"invalid request: {head}{more}", errors


#: ``status -> (code, Chinese sentence)`` of a refusal that carries no code of its own (a route's
#: ``NotFound("collection 'x' not found")``, a Starlette ``HTTPException``): the Chinese says what kind of refusal
#: it is, and quotes the English detail after it, as a library's words are quoted (``docs/error-messages.md``).
#: 406 and 415 are answered by no route today (no content negotiation; a body that is not JSON is a 422).
STATUS_ZH: dict[int, tuple[str, str]] = {
    400: ("http.bad_request", "请求有误"),
    401: ("auth.required", "需要登录或令牌"),
    403: ("auth.forbidden", "无权执行此操作"),
    404: ("http.not_found", "未找到所请求的资源"),
    405: ("http.method_not_allowed", "此处不接受该请求方法"),
    406: ("http.not_acceptable", "无法以所要求的格式（Accept）答复"),
    409: ("http.conflict", "与当前状态冲突"),
    412: ("http.precondition_failed", "版本已变化（If-Match 与当前 ETag 不符）"),
    413: ("body.too_large", "请求体过大"),
    415: ("http.unsupported_media_type", "不支持该请求体格式（Content-Type）"),
    422: ("request.invalid", "请求无效"),
    428: ("http.precondition_required", "须在 If-Match 请求头中给出当前版本（ETag）"),
    500: ("http.internal", "服务器内部错误"),
    503: ("http.unavailable", "服务暂时不可用，请稍后重试"),
}


def fallback_members(status: int, detail: str) -> dict[str, Any]:
    """``code`` and ``detail_zh`` of a refusal without its own (:data:`STATUS_ZH`): the kind in Chinese, then the
    English detail quoted (研究区外（原始信息：'...'）); a :class:`ProblemError` given ``code=``/``detail_zh=`` keeps
    its own."""
    code, zh = STATUS_ZH.get(status, (f"http.{status}", f"请求未能完成（HTTP {status}）"))
    return {"code": code, "detail_zh": f"{zh}（原始信息：{scrub(detail)!r}）"}


#: the authentication's refusals (``api.deps``): code -> Chinese template (``{role}``/``{minimum}``: role names)
AUTH_ZH: dict[str, str] = {
    "auth.header_malformed": "Authorization 请求头应为 'Bearer 令牌'",
    "auth.token_invalid": "令牌无效（不存在、格式有误或已吊销）",
    "auth.csrf_missing": "使用会话 Cookie 的请求须带该会话的 {header} 请求头",
    "auth.required": "需要身份验证：请发送 'Authorization: Bearer 令牌'（用 `parkplan token create` 创建）或在浏览器中登录",
    "auth.role": "此操作需要{minimum}或更高的角色；您的令牌是{role}",
}


def role_zh(role: str) -> str:
    """A role's name in Chinese (the glossary's ``role_<name>``: 分析员, 审核员...), the id itself if unknown."""
    from geodata import glossary

    pair = glossary.pairs().get(f"role_{role}")
    return pair[0] if pair else str(role)


def auth_members(code: str, **values: str) -> dict[str, Any]:
    """``code`` and ``detail_zh`` of an authentication refusal (:data:`AUTH_ZH`), for ``Unauthorized(...,
    **auth_members("auth.token_invalid"))``; ``minimum`` and ``role`` are given as role ids."""
    values = {k: role_zh(v) if k in ("minimum", "role") else v for k, v in values.items()}
    template = AUTH_ZH[code]
    return {"code": code, "detail_zh": re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)}


def problem_text(exc: ProblemError, lang: str) -> str:
    """A :class:`ProblemError`'s text for a page in ``lang``: ``detail`` in English; in Chinese its own
    ``detail_zh``, else the status's kind in Chinese with the English quoted (:func:`fallback_members`)."""
    if lang == "en":
        return exc.detail
    return str(exc.extra.get("detail_zh") or fallback_members(exc.status, exc.detail)["detail_zh"])


def _too_large_members(limit: int) -> dict[str, Any]:
    return {"code": "body.too_large",
            "detail_zh": f"请求体超过 {limit} 字节的上限（服务器设置 PARKPLAN_MAX_BODY_BYTES）"}


async def answer(request: Request, status: int, detail: str, headers: dict[str, str] | None, extra: dict[str, Any]):
    """The problem+json answer, or the web workspace's page for it (``app.state.problem_page``: an HTML page in
    the page's language for a browser's request under ``/ui``: :mod:`api.web.error_pages`); the hook may be async.
    Every exception handler answers through here (never :func:`problem_response` directly), so that no refusal
    of a ``/ui`` page reaches a browser as JSON. The hook gets the problem's body and its headers (``Retry-After``);
    the headers are set on the page as on the JSON."""
    page = getattr(request.app.state, "problem_page", None)
    if page is not None:
        body = problem_body(status, detail, **extra)
        resp = page(request, status, body, dict(headers or {}))
        if inspect.isawaitable(resp):
            resp = await resp
        if resp is not None:
            for k, v in (headers or {}).items():
                resp.headers.setdefault(k, v)
            return resp
    return problem_response(status, detail, headers=headers, **extra)


#: seconds a client is told to wait (``Retry-After``) after the review database stayed busy (:class:`DatabaseBusy`)
BUSY_RETRY_AFTER_S = 2


async def _database_busy(request: Request, exc: Exception):  # registered for api.db.DatabaseBusy only
    """503 with Retry-After, code ``db.busy``: the review database stayed locked by other writers past the write's
    patience, and nothing was changed (a page under ``/ui`` says so, :mod:`api.web.error_pages`)."""
    return await answer(request, 503, f"{exc}: send the same request again", {"Retry-After": str(BUSY_RETRY_AFTER_S)},
                        {"title": "Service Unavailable", "code": "db.busy",
                         "detail_zh": f"审核数据库正忙（其他写入尚未完成），本次请求未做任何更改；请 "
                                      f"{BUSY_RETRY_AFTER_S} 秒后重新提交同一请求"})


_LOC_ZH = {"query": "查询参数", "path": "路径参数", "header": "请求头", "cookie": "Cookie", "body": "请求体"}


def field_zh(loc) -> str:
    """Where a validation error is, in Chinese: 查询参数 limit, 请求体字段 weights.slope, 请求体 (the body itself)."""
    loc = tuple(str(x) for x in loc)
    if not loc:
        return "请求"
    where, rest = (loc[0], loc[1:]) if loc[0] in _LOC_ZH else ("body", loc)
    if not rest:
        return _LOC_ZH[where]
    name = ".".join(rest)
    return f"请求体字段 {name}" if where == "body" else f"{_LOC_ZH[where]} {name}"


def _choices(expected: str) -> str:
    """Pydantic's ``"'zh' or 'en'"`` / ``"'a', 'b' or 'c'"`` as 'zh'、'en'."""
    parts = re.split(r", | or ", expected)
    return "、".join(p.strip() for p in parts if p.strip())


#: pydantic's error ``type`` -> what is accepted, in Chinese (``{...}``: the error's ``ctx``). A type not here, or
#: one whose ``ctx`` lacks a value its sentence needs, is said as 取值无效 with pydantic's English ``msg`` quoted.
VALIDATION_ZH: dict[str, str] = {
    "missing": "缺少此项（必填）",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数（不能带小数）",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "greater_than_equal": "应不小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "应不大于 {le}",
    "less_than": "应小于 {lt}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "literal_error": "应为 {expected} 之一",
    "enum": "应为 {expected} 之一",
    "string_too_long": "最多 {max_length} 个字符",
    "string_too_short": "至少 {min_length} 个字符",
    "string_pattern_mismatch": "格式不符（应匹配 {pattern}）",
    "too_long": "最多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "json_invalid": "不是有效的 JSON（{error}）",
    "json_type": "应为 JSON",
    "model_attributes_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "extra_forbidden": "不接受此项",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为日期时间（ISO 8601，如 2026-11-30T08:00:00Z）",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601，如 2026-11-30T08:00:00Z）",
    "uuid_parsing": "应为 UUID",
}


def _plain(value: Any) -> Any:
    """A limit as pydantic's English writes it: 0 and 90 for a float field's 0.0 and 90.0, 2.5 as it is."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def validation_message_zh(error: dict[str, Any]) -> str:
    """One pydantic error (``type``, ``msg``, ``ctx``) as what is accepted, in Chinese; the value given is never
    repeated (the field and what it accepts are enough, and nothing typed is echoed). An error that brings its
    own ``msg_zh`` (a route's own check) keeps it."""
    if error.get("msg_zh"):
        return str(error["msg_zh"])
    template = VALIDATION_ZH.get(str(error.get("type", "")))
    ctx = {k: _plain(v) for k, v in dict(error.get("ctx") or {}).items()}
    if "expected" in ctx:
        ctx["expected"] = _choices(str(ctx["expected"]))
    if template is not None:
        names = re.findall(r"\{(\w+)\}", template)
        if all(n in ctx for n in names):
            # one pass over the constant template: a value never becomes a placeholder
            return re.sub(r"\{(\w+)\}", lambda m: str(ctx[m.group(1)]), template)
    return f"取值无效（原始信息：{str(error.get('msg', 'invalid'))!r}）"


def _validation_zh(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return "请求无效"
    head = "；".join(e["message_zh"] for e in errors[:5])
    more = f"（另有 {len(errors) - 5} 处）" if len(errors) > 5 else ""
    return f"请求无效：{head}{more}"


def install(app: FastAPI) -> None:
    """Register the exception handlers and the OpenAPI rewrite on ``app``."""
    not_found, bad = _domain_errors()

    app.state.problem_page = None  # the web workspace sets a callable (request, status, body, headers) -> Response|None
    from .db import DatabaseBusy

    app.add_exception_handler(DatabaseBusy, _database_busy)

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError):
        extra = {**fallback_members(exc.status, exc.detail), **exc.extra}
        return await answer(request, exc.status, exc.detail, exc.headers, extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        detail, errors = _validation_detail(exc)
        return await answer(request, 422, detail, None, {"code": "request.invalid", "detail_zh": _validation_zh(errors),
                                                    "errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, ensure_ascii=False)
        headers = dict(getattr(exc, "headers", None) or {})
        extra = fallback_members(exc.status_code, detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such resource; see /openapi.json for the paths this API serves"
            extra = {"code": "http.not_found", "detail_zh": "没有这个资源；本 API 提供的路径见 /openapi.json"}
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"method {request.method} is not allowed here; allowed: {', '.join(allowed)}"
            extra = {"code": "http.method_not_allowed",
                     "detail_zh": f"此处不接受 {request.method} 方法；可用的方法：{'、'.join(allowed)}"}
        if isinstance(exc, _TooLarge):
            extra = _too_large_members(exc.limit)
        return await answer(request, exc.status_code, detail, headers or None, extra)

    for cls in not_found:
        app.add_exception_handler(cls, _domain_handler(404))
    for cls in bad:
        app.add_exception_handler(cls, _domain_handler(400))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        ref = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", ref, request.method, request.url.path)
        return await answer(request, 500, f"internal error (reference {ref}); the server log has the details", None,
                       {"code": "http.internal", "detail_zh": f"服务器内部错误（编号 {ref}）；详情见服务器日志"})

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
    async def handler(request: Request, exc: Exception):
        return await answer(request, status, str(exc), None, _coded(exc))

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

    def __init__(self, limit: int, detail: str) -> None:
        super().__init__(413, detail)
        self.limit = limit


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
                return await _refuse(scope, receive, send, 400, "Content-Length is not an integer",
                                     code="body.bad_length", detail_zh="请求头 Content-Length 不是整数")
            if n > self.max_bytes:
                return await _refuse(scope, receive, send, 413, self._message(), **_too_large_members(self.max_bytes))
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes, self._message())
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
                await _refuse(scope, receive, send, 413, self._message(), **_too_large_members(self.max_bytes))

    def _message(self) -> str:
        return f"request body larger than the limit of {self.max_bytes} bytes (setting PARKPLAN_MAX_BODY_BYTES)"


async def _refuse(scope, receive, send, status: int, detail: str, **extra: Any) -> None:
    """The middleware's refusal: the web workspace's page for it when the app has one for this request
    (``app.state.problem_page``), else problem+json."""
    app = scope.get("app")
    page = getattr(getattr(app, "state", None), "problem_page", None)
    if page is not None:
        resp = page(Request(scope, receive), status, problem_body(status, detail, **extra), {})
        if inspect.isawaitable(resp):
            resp = await resp
        if resp is not None:
            return await resp(scope, receive, send)
    await _send_problem(send, status, detail, **extra)


async def _send_problem(send, status: int, detail: str, **extra: Any) -> None:
    body = json.dumps(problem_body(status, detail, **extra), ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
