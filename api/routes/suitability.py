"""``POST /suitability`` (and ``/suitability/sensitivity``, ``/suitability/batch``): where should an
enterprise go. The JSON is :meth:`parks.suitability.SuitabilityResult.to_dict`, the same document
``parkplan suitability --json`` prints. Analyst role or higher (enterprise figures).
"""

from __future__ import annotations

import json
import os
import weakref
from functools import partial
from typing import Annotated, Any, Literal

import anyio
import orjson
import pandas as pd
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from geodata.jsonable import json_default, jsonable
from geodata.schema import POLLUTION_CLASSES, PROTECTED_KINDS, SECTOR_IDS
from parks.suitability import score_enterprise
from parks.suitability.model import MODEL_VERSION, SuitabilityResult
from parks.suitability.batch import score_batch
from parks.suitability.criteria import CRITERIA
from parks.suitability.sensitivity import weight_sensitivity
from parks.suitability.weights import normalise_weights

from ..deps import AnalystUser, StateDep, cached_principal
from ..problems import NotFound

router = APIRouter(tags=["suitability"])

Finite = Annotated[float, Field(allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]
EnterpriseIdStr = Annotated[str, Field(min_length=1, max_length=64)]


class Profile(BaseModel):
    """An enterprise that is not (yet) in the dataset."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    sector: Literal[SECTOR_IDS]  # type: ignore[valid-type]
    land_ha: float = Field(ge=0, le=1e6)
    employees: int = Field(ge=0, le=10_000_000)
    pollution_class: Literal[POLLUTION_CLASSES]  # type: ignore[valid-type]
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    name: str | None = Field(None, max_length=200)
    product: str | None = Field(None, max_length=200)
    size: Literal["above", "below"] | None = None
    catalogue_level: Literal["encouraged", "restricted", "eliminate"] | None = None


def _weights_schema(schema: dict[str, Any]) -> None:
    # "at least one criterion with a positive weight", said in JSON Schema so that clients and fuzzers know it
    schema["anyOf"] = [{"required": [c], "properties": {c: {"exclusiveMinimum": 0}}} for c in CRITERIA]


class Weights(BaseModel):
    """Criterion weights (>= 0, at least one > 0); missing criteria weigh 0; scaled to sum 1."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra=_weights_schema)
    sector_fit: Weight = None  # type: ignore[assignment]
    supply_chain: Weight = None  # type: ignore[assignment]
    distance: Weight = None  # type: ignore[assignment]
    transport: Weight = None  # type: ignore[assignment]
    land_price: Weight = None  # type: ignore[assignment]
    land_margin: Weight = None  # type: ignore[assignment]
    labour: Weight = None  # type: ignore[assignment]
    policy: Weight = None  # type: ignore[assignment]
    ecology: Weight = None  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _known_criteria(cls, data):
        if isinstance(data, dict):
            unknown = [k for k in data if k not in CRITERIA]
            if unknown:
                raise ValueError(f"unknown criterion {unknown[0]!r}; accepted: {', '.join(CRITERIA)}")
        return data

    @model_validator(mode="after")
    def _one_positive(self):
        if not any(v > 0 for v in self.mapping().values()):
            raise ValueError(f"give at least one criterion a positive weight; criteria: {', '.join(CRITERIA)}")
        return self

    def mapping(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.model_dump(exclude_unset=True).items()}


def _weights(w: Weights | None) -> dict[str, float] | None:
    return w.mapping() if w is not None else None


class ConstraintsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    land_margin: float | None = Field(None, ge=0, le=10)
    protected_buffer_m: float | None = Field(None, ge=0, le=100_000)
    protected_kinds: list[Literal[PROTECTED_KINDS]] | None = None  # type: ignore[valid-type]
    max_distance_km: float | None = Field(None, gt=0, le=10_000)
    less_developed_only: bool | None = None
    exclude_current_park: bool | None = None
    exclude_urban_core_parks: bool | None = Field(
        None, description="exclude parks that lie in an urban core (the urban-core relocation scenario)")
    own_city_or_km: float | None = Field(
        None, ge=0, le=10_000, description="keep only parks in the enterprise's own prefecture-level city or "
                                           "within this distance (km) of its site (urban-core scenario: 30)")
    own_county_or_km: float | None = Field(
        None, ge=0, le=10_000, description="keep only parks in the enterprise's own county or within this "
                                           "distance (km) of its site (scattered-enterprises scenario: 20)")

    def mapping(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


_ONE_TARGET: dict[str, Any] = {"oneOf": [{"required": ["enterprise_id"]}, {"required": ["profile"]}]}


class _Target(BaseModel):
    """Exactly one of ``enterprise_id`` and ``profile`` (the schema's ``oneOf``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra=_ONE_TARGET)
    enterprise_id: EnterpriseIdStr = Field(None, description="an enterprise in the dataset")  # type: ignore[assignment]
    profile: Profile = Field(None, description="an enterprise not in the dataset")  # type: ignore[assignment]
    weights: Weights | None = Field(None, description="criterion id -> weight (null: the model's defaults)")
    constraints: ConstraintsIn | None = None

    @model_validator(mode="after")
    def _one_target(self):
        if ("enterprise_id" in self.model_fields_set) == ("profile" in self.model_fields_set):
            raise ValueError("give exactly one of enterprise_id (an enterprise in the dataset) or profile")
        return self

    def target(self):
        return self.enterprise_id if self.enterprise_id is not None else self.profile.model_dump(exclude_none=True)

    def constraint_mapping(self) -> dict[str, Any] | None:
        return self.constraints.mapping() if self.constraints else None


class SuitabilityIn(_Target):
    top: int | None = Field(None, ge=1, le=10_000, description="keep the best `top` parks (excluded stay complete)")


class SensitivityIn(_Target):
    n: int = Field(1000, ge=1, description="weight draws (at most the server's limit, PARKPLAN_MAX_DRAWS)")
    concentration: float = Field(50.0, gt=0, le=1e6)
    seed: int = Field(0, ge=0, le=2**32 - 1)


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    enterprise_ids: list[EnterpriseIdStr] = Field(min_length=1, description="at most the server's batch limit "
                                                                            "(PARKPLAN_MAX_BATCH)")
    weights: Weights | None = None
    constraints: ConstraintsIn | None = None
    top: int = Field(3, ge=1, le=50)

    def constraint_mapping(self) -> dict[str, Any] | None:
        return self.constraints.mapping() if self.constraints else None


# --- the documented answers ---------------------------------------------------------------------------


class CriterionOut(BaseModel):
    value: float | None
    score: float | None
    weight: float | None
    contribution: float | None


class RankedPark(BaseModel):
    model_config = ConfigDict(extra="allow")
    park_id: str
    rank: int
    score: float | None
    name: str | None
    county_code: str | None
    criteria: dict[str, CriterionOut]


class ExclusionReason(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    message: str
    message_zh: str | None = None


class ExcludedPark(BaseModel):
    model_config = ConfigDict(extra="allow")
    park_id: str
    name: str | None
    county_code: str | None
    reasons: list[ExclusionReason]


class SuitabilityOut(BaseModel):
    """:meth:`parks.suitability.SuitabilityResult.to_dict` (what ``parkplan suitability --json`` prints)."""

    model_config = ConfigDict(extra="allow")
    model_version: str
    enterprise: dict[str, Any]
    weights: dict[str, float]
    constraints: dict[str, Any]
    flag: str | None
    ranked_total: int
    ranked: list[RankedPark]
    excluded: list[ExcludedPark]
    params: dict[str, Any]


class SensitivityRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    park_id: str
    score: float | None
    p_rank1: float | None
    p_top3: float | None
    mean_rank: float | None


class SensitivityOut(BaseModel):
    enterprise: str | dict[str, Any]
    weights: dict[str, float]
    n: int
    concentration: float
    seed: int
    parks: list[SensitivityRow]


class BatchTopRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    enterprise_id: str
    rank: int
    park_id: str
    score: float | None


class BatchSummaryRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    enterprise_id: str
    n_feasible: int | None
    best_park_id: str | None
    best_score: float | None


class BatchOut(BaseModel):
    weights: dict[str, float]
    constraints: dict[str, Any]
    top: list[BatchTopRow]
    summary: list[BatchSummaryRow]


def openapi_limits(schema: dict[str, Any], app) -> None:
    """The server's own limits in the schema: ``n`` (draws) and ``enterprise_ids`` (batch size)."""
    s = app.state.settings
    comps = schema.get("components", {}).get("schemas", {})
    if "SensitivityIn" in comps:
        comps["SensitivityIn"]["properties"]["n"]["maximum"] = s.max_draws
        comps["SensitivityIn"]["properties"]["n"]["default"] = min(1000, s.max_draws)
    if "BatchIn" in comps:
        comps["BatchIn"]["properties"]["enterprise_ids"]["maxItems"] = s.max_batch


def _over_limit(field: str, value: int, limit: int, setting: str, kind: str) -> RequestValidationError:
    msg = f"{value} {kind} is above the server's limit of {limit} (setting {setting})"
    msg_zh = f"共 {value} 个，超过服务器的上限 {limit}（设置 {setting}）"  # api.problems: the error's Chinese
    return RequestValidationError([{"loc": ("body", field), "msg": msg, "type": "less_than_equal", "msg_zh": msg_zh}])


def _records(frame: pd.DataFrame) -> list[dict]:
    return [jsonable(r) for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]


_UNKNOWN: dict[int | str, dict[str, Any]] = {404: {"description": "an enterprise id the dataset does not have"}}


def result_bytes(res: SuitabilityResult) -> bytes:
    """``orjson.dumps(res.to_dict())``, byte for byte, without building the document value by value.

    ``SuitabilityResult.to_dict`` passes each of the ranked parks' 36 criterion numbers through
    :func:`geodata.jsonable.jsonable` (finite float or ``None``); orjson writes floats the same way (a NaN or an
    infinity as ``null``) and a :class:`~parks.suitability.model.CriterionScore` dataclass natively, with its fields
    in the order ``to_dict`` gives them. So only the park records are written here (keys in ``to_dict``'s order,
    their criteria as the dataclasses); the small parts (enterprise, constraints, params) still go through
    ``jsonable``. ``tests/api/test_suitability_lean.py`` compares the bytes with ``to_dict``'s over ids, profiles,
    constraints and ``top``, so this cannot drift from the library's document unnoticed.
    """
    doc = {
        "model_version": MODEL_VERSION,
        "enterprise": {k: jsonable(v) for k, v in res.enterprise.items()},
        "weights": {k: float(v) for k, v in res.weights.items()},
        "constraints": {k: jsonable(v) for k, v in res.constraints.items()},
        "flag": res.flag,
        "ranked_total": res.ranked_total,
        "ranked": [{"park_id": r.park_id, "rank": r.rank, "score": float(r.score), "name": r.name,
                    "county_code": r.county_code, "criteria": r.criteria} for r in res.ranked],
        "excluded": [{"park_id": e.park_id, "name": e.name, "county_code": e.county_code, "reasons": e.reasons}
                     for e in res.excluded],
        "params": {k: jsonable(v) for k, v in res.params.items()},
    }
    return orjson.dumps(doc, default=json_default, option=orjson.OPT_SERIALIZE_NUMPY)


class _SuitabilityRoute(APIRoute):
    """``POST /suitability`` with a fast path in front of FastAPI's general request handling.

    The common request (a bearer token already in this interval's cache with the analyst role or higher,
    ``Content-Type: application/json``, a body that parses and validates, an answer scored without error) is
    answered at the route's ASGI level, without FastAPI's request objects and dependency solving: the same token
    cache entry, the same ``json.loads`` Starlette uses, the same pydantic model (``SuitabilityIn.model_validate``,
    Python mode, as FastAPI validates a body), the same scoring, bytes and headers (those of
    ``Response(bytes, media_type="application/json")``). Anything else (no or unknown token, a cookie, another
    content type, a body that does not parse or validate, an error while reading the body, an unknown enterprise)
    goes to the general handler with the body messages replayed (an error raised while reading is raised again at
    the same point), which answers exactly as before (the same error documents): the fast path only answers where
    the general one would answer 200. Middleware (security headers, the body limit, error handling) and routing are
    the same for both. ``tests/api/test_suitability_fast.py`` compares the two paths' bytes.
    ``PARKPLAN_SUITABILITY_FAST=0`` (read when the module is imported) turns the fast path off, to measure the
    general path (``python -m benchmarks.profile_suitability_request --server --general``).
    """

    fast = os.environ.get("PARKPLAN_SUITABILITY_FAST", "1") != "0"

    async def handle(self, scope, receive, send) -> None:
        if self.fast and scope["method"] == "POST":  # another method: the general 405
            answer, receive = await _fast_suitability(scope, receive)
            if answer is not None:
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-length", str(len(answer)).encode("latin-1")),
                                        (b"content-type", _JSON)]})
                await send({"type": "http.response.body", "body": answer})
                return
        await super().handle(scope, receive, send)


_JSON = b"application/json"


def _replay(messages: list, receive, error: Exception | None = None):
    """A ``receive`` giving ``messages`` (already read) again, then raising ``error`` (the one met while reading)
    or reading on from ``receive``."""
    pending = list(messages)

    async def replay():
        if pending:
            return pending.pop(0)
        if error is not None:
            raise error
        return await receive()

    return replay


async def _fast_suitability(scope, receive) -> tuple[bytes | None, Any]:
    """``(the answer's bytes, receive)`` from the fast path, or ``(None, a receive for the general path)`` (see
    :class:`_SuitabilityRoute`)."""
    auth = ctype = None
    for k, v in scope["headers"]:  # the first of each, as ``request.headers.get`` gives
        if k == b"authorization":
            if auth is None:
                auth = v
        elif k == b"content-type":
            if ctype is None:
                ctype = v
    if auth is None or ctype != _JSON:
        return None, receive
    app = scope["app"]
    principal = cached_principal(app.state.parkplan, auth.decode("latin-1"))
    if principal is None or not principal.has_role("analyst"):
        return None, receive
    messages = []
    chunks = []
    try:
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":  # a disconnect: the general path sees it
                return None, _replay(messages, receive)
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
    except Exception as exc:  # noqa: BLE001 - e.g. the body limit: raised again where the general path reads
        return None, _replay(messages, receive, exc)
    raw = b"".join(chunks)
    if not raw:
        return None, _replay(messages, receive)
    try:
        body = SuitabilityIn.model_validate(json.loads(raw))
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None, _replay(messages, receive)
    try:
        return await _scored(app, body), receive
    except Exception:  # noqa: BLE001 - e.g. an unknown enterprise: raised again by the general path, answered there
        return None, _replay(messages, receive)


async def suitability(request: Request, state: StateDep, body: SuitabilityIn, _user: AnalystUser) -> Response:
    # the general path (FastAPI's dependencies and body validation); the common request never gets here, see
    # _SuitabilityRoute
    return Response(await _scored(request.app, body), media_type="application/json")


router.add_api_route("/suitability", suitability, methods=["POST"],
                     summary="Rank the parks for one enterprise (by id or profile)", response_model=None,
                     response_class=Response, responses={200: {"model": SuitabilityOut,
                                                               "content": {"application/json": {}}}, **_UNKNOWN},
                     route_class_override=_SuitabilityRoute)


#: threads per worker process that score ``POST /suitability`` at once (the rest wait on the event loop)
SCORING_THREADS = 2


def _scoring_limiter(app) -> anyio.CapacityLimiter:
    """The worker's limiter for scoring threads, made on first use (it belongs to the running event loop)."""
    limiter = getattr(app.state, "scoring_limiter", None)
    if limiter is None:
        limiter = app.state.scoring_limiter = anyio.CapacityLimiter(SCORING_THREADS)
    return limiter


#: score an enterprise given by id on the event loop (no thread hop) once the context is built; see :func:`_scored`
INLINE_SCORING = os.environ.get("PARKPLAN_SUITABILITY_INLINE", "1") != "0"


async def _scored(app, body: "SuitabilityIn") -> bytes:
    """The answer's bytes.

    An enterprise given by id, once the park context is built and a first scoring by id on it has completed (on a
    thread), is scored on the event loop: no I/O, no lock to wait for, a few tenths of a millisecond of CPU. The hop to a scoring thread and back cost 0.08-0.2 ms of server CPU per request at 32
    clients (live servers side by side, ``PARKPLAN_SUITABILITY_INLINE=0``), and with 32 requests queued the threads
    only took turns with the event loop for the interpreter's lock. Everything that may wait or take longer runs on the
    worker's scoring threads (``SCORING_THREADS``, an anyio limiter; the 40-thread pool made 32 concurrent requests
    each pay about twice their CPU in lock contention): the context's first build (seconds), and a typed-in profile
    (its point is projected with a per-thread pyproj transformer, whose first use reads the PROJ database).
    """
    state = app.state.parkplan
    if INLINE_SCORING and body.enterprise_id is not None:
        ctx = state.contexts.get(state.key("suitability"))
        ready = getattr(app.state, "suitability_inline_ready", None)
        if ctx is not None and ready is not None and ready() is ctx:
            return _score_in(ctx, body)
    ctx, answer = await anyio.to_thread.run_sync(partial(_score, state, body), limiter=_scoring_limiter(app))
    if body.enterprise_id is not None:
        # a scoring by id has completed on this context: its lookups built on first use (the enterprise rows'
        # positions and values, the parks' parts: parks.suitability.context.ContextIndex, under a lock, seconds
        # for a large population) are ready, so later requests by id neither build nor wait for them inline
        app.state.suitability_inline_ready = weakref.ref(ctx)
    return answer


def _score(state, body: "SuitabilityIn") -> tuple[Any, bytes]:
    ctx = state.suitability_context()  # may build the context on first use (seconds)
    return ctx, _score_in(ctx, body)


def _score_in(ctx, body: "SuitabilityIn") -> bytes:
    res = score_enterprise(ctx, body.target(), _weights(body.weights), body.constraint_mapping(), top=body.top)
    return result_bytes(res)


@router.post("/suitability/sensitivity", summary="How stable is the ranking under weight perturbation",
             response_model=None, responses={200: {"model": SensitivityOut}, **_UNKNOWN})
def sensitivity(state: StateDep, body: SensitivityIn, _user: AnalystUser) -> dict[str, Any]:
    limit = state.settings.max_draws
    if body.n > limit:
        raise _over_limit("n", body.n, limit, "PARKPLAN_MAX_DRAWS", "draws")
    ctx = state.suitability_context()
    weights = _weights(body.weights)
    table = weight_sensitivity(ctx, body.target(), weights, body.constraint_mapping(), n=body.n,
                               concentration=body.concentration, seed=body.seed)
    return {"enterprise": body.enterprise_id if body.enterprise_id is not None else body.profile.model_dump(),
            "weights": normalise_weights(weights), "n": body.n, "concentration": body.concentration,
            "seed": body.seed, "parks": _records(table)}


@router.post("/suitability/batch", summary="Score many enterprises at once (best `top` parks each)",
             response_model=None, responses={200: {"model": BatchOut}, **_UNKNOWN})
def batch(state: StateDep, body: BatchIn, _user: AnalystUser) -> dict[str, Any]:
    limit = state.settings.max_batch
    if len(body.enterprise_ids) > limit:
        raise _over_limit("enterprise_ids", len(body.enterprise_ids), limit, "PARKPLAN_MAX_BATCH", "enterprise ids")
    ids = list(dict.fromkeys(body.enterprise_ids))
    ents = state.dataset.enterprises
    frame = ents[ents["enterprise_id"].astype(str).isin(ids)]
    missing = sorted(set(ids) - set(frame["enterprise_id"].astype(str)))
    if missing:
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise NotFound(f"enterprise(s) not found: {', '.join(missing[:10])}{more}")
    ctx = state.suitability_context()
    res = score_batch(ctx, frame, _weights(body.weights), body.constraint_mapping(), top=body.top)
    return {"weights": jsonable(res.weights), "constraints": jsonable(res.constraints), "top": _records(res.top),
            "summary": _records(res.summary)}
