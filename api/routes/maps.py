"""``GET /maps/{name}``: the interactive maps as HTML pages; ``GET /maps/assets/{path}``: every script,
stylesheet and image they load, from installed packages (no CDN, no login for assets).

Viewer role or higher for the parks, clusters and transfers maps; analyst or higher for the maps that
show single enterprises (enterprises, suitability). The transfers map shows the stored candidates
(else, on a fresh install, the model's proposal), an admin all of them, anyone else those of its
offices, as ``/transfer-candidates`` does; ``?candidate_id=`` maps one stored candidate (its site, the
proposed and the second-best park), 404 outside the user's offices as ``/transfer-candidates/{id}``.
The suitability map takes ``enterprise_id`` or a typed-in profile (``sector``, ``land_ha``,
``employees``, ``pollution_class``, ``lon``, ``lat``, optional ``profile_name``), validated by the
model of ``POST /suitability`` with 422 problems naming each parameter, and optionally the weights
(``weights=distance:60,sector_fit:5``) and constraints (``less_developed_only``, ``max_distance_km``)
the page ranked with, so the map ranks as the page does. Pages are cached per dataset and parameters (the transfers
map, whose candidates change with every review, is built on each request; a suitability map is its query's data
written into a template rendered once per dataset and language, :func:`suitability_page`).

Scripts: the Content-Security-Policy allows scripts from this server and the inline scripts that carry
this response's nonce (a fresh random value per response, put on every ``<script>`` the renderer wrote;
the data are JSON blocks, never script source, so no data can carry the nonce); no ``'unsafe-inline'``
for scripts, no ``eval``. Cached pages are kept split at their script tags (``maps.base.MapPage``), and
gzipped per part, so a response adds its nonce without rendering or compressing the page again.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import folium
import orjson

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from geodata.jsonable import json_default
from geodata.schema import POLLUTION_CLASSES, SECTOR_IDS
from maps import MapError, MapOptions, build_map, proposed_candidates
from maps.assets import AssetError, media_type, read_asset
from maps.base import MapPage, MapTemplate, Slot, render_page
from maps.suitability_map import (SuitabilityBase, parse_weights, suitability_template, suitability_values,
                                  template_slots)
from maps.transfers_map import candidate_map_inputs, normalise_candidates
from parks.joins import park_profiles
from parks.suitability.criteria import CRITERIA

from .. import reviews
from ..auth import Principal
from ..cache import LockedCache
from ..deps import AnalystUser, DbDep, StateDep, ViewerUser
from ..problems import BadRequest, Forbidden, NotFound, coded_members
from ..state import AppState
from .suitability import Profile

router = APIRouter(tags=["maps"])

MapName = Literal["parks", "enterprises", "clusters", "transfers"]
_ANALYST_MAPS = {"enterprises", "suitability"}
# The page may run the inline scripts that carry this response's nonce and load only from this server
# (and, when a tile provider is configured, images from that provider).
_CSP = ("default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:{tiles}; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'self'")
_TILE_HOSTS = {"osm": "https://tile.openstreetmap.org", "tianditu": "https://*.tianditu.gov.cn",
               "amap": "https://*.is.autonavi.com"}


def _map_options(lang: str) -> MapOptions:
    """Language, and the basemap tiles from the environment: ``PARKPLAN_MAP_TILES`` = osm | tianditu |
    amap (unset: no tiles, counties as the base), ``PARKPLAN_TIANDITU_KEY`` for Tianditu."""
    tiles = os.environ.get("PARKPLAN_MAP_TILES") or None
    return MapOptions(lang=lang, tiles=None if tiles in (None, "none") else tiles,
                      tianditu_key=os.environ.get("PARKPLAN_TIANDITU_KEY") or None)


@router.get("/maps/assets/{path:path}", include_in_schema=False)
def map_asset(path: str) -> Response:
    try:
        body = read_asset(path)
    except AssetError as exc:
        raise NotFound(str(exc)) from None
    return Response(body, media_type=media_type(path), headers={"Cache-Control": "public, max-age=86400",
                                                                 "X-Content-Type-Options": "nosniff"})


def _sees_flows_only(user: Principal) -> bool:
    """Viewers and analysts review no office's candidates: they see the flows between counties (counts by
    county pair and status), never a candidate's id or firm name."""
    return not user.is_admin and not user.offices


def _candidates(state: AppState, db: Session, user: Principal, county: str | None) -> pd.DataFrame:
    """Transfer candidates the user may see, as a DataFrame: the stored ones (the review database,
    office-scoped as ``/transfer-candidates``), else, on a fresh install, the model's proposal for the
    dataset (computed once, cached), scoped by the same rule: admins all, offices theirs; viewers and
    analysts all of them, drawn as aggregated flows only (:func:`_sees_flows_only`)."""
    everyone = user.is_admin or _sees_flows_only(user)
    if reviews.count_candidates(db) > 0:  # stored candidates exist: show those the user may see, only
        if everyone:
            rows = reviews.all_candidates(db, county=county)
        else:
            rows, _ = reviews.list_candidates(db, user, filters={}, county=county, limit=100_000, offset=0)
        return pd.DataFrame([reviews.candidate_public(c) for c in rows]) if rows else normalise_candidates(None)
    proposals = state.maps.get_or_compute(state.key("map-proposals"),
                                          lambda: proposed_candidates(state.dataset, state.suitability_context()))
    if everyone or proposals.empty:
        return proposals
    keep = [user.in_scope(o, d) for o, d in zip(proposals["origin_county_code"], proposals["destination_county_code"])]
    return proposals[keep]


_PROFILE_FIELDS = ("sector", "land_ha", "employees", "pollution_class", "lon", "lat")


def _profile(enterprise_id: str | None, fields: dict) -> dict | None:
    """The suitability map's target when given as a profile (query parameters), validated by the same
    model as ``POST /suitability``'s profile; None when ``enterprise_id`` is the target. Problems are a
    422 naming each query parameter."""
    given = {k: v for k, v in fields.items() if v is not None}
    if enterprise_id and given:
        raise RequestValidationError([{"loc": ("query", "enterprise_id"), "msg": "give either enterprise_id or a "
                                       f"profile ({', '.join(_PROFILE_FIELDS)}), not both", "type": "value_error"}])
    if enterprise_id:
        return None
    if not given:
        raise RequestValidationError([{"loc": ("query", "enterprise_id"), "msg": "the suitability map needs "
                                       f"enterprise_id or a profile ({', '.join(_PROFILE_FIELDS)})",
                                       "type": "missing"}])
    try:
        return Profile(**given).model_dump(exclude_none=True)
    except ValidationError as exc:
        errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
        for e in errors:
            if e["type"] == "missing":
                e["msg"] = "missing: a profile needs " + ", ".join(_PROFILE_FIELDS)
        raise RequestValidationError(errors) from None


def _weights(text: str | None) -> dict[str, float] | None:
    """``criterion:number,...`` as a mapping, checked as ``POST /suitability`` checks its weights (422)."""
    try:
        return parse_weights(text)
    except MapError as exc:
        msg = str(exc).removeprefix("weights: ")
        raise RequestValidationError([{"loc": ("query", "weights"), "msg": msg, "type": "value_error"}]) from None


def _candidate(db: Session, user: Principal, candidate_id: str) -> dict:
    """One stored transfer candidate with its snapshot, if the user's offices may see it (404 otherwise,
    the same answer as ``/transfer-candidates/{id}``)."""
    return reviews.candidate_public(reviews.get_candidate(db, user, candidate_id), snapshot=True)


_POSITIVE = r"(?:[0-9]*[1-9][0-9]*(?:\.[0-9]+)?|[0-9]*\.[0-9]*[1-9][0-9]*)"
_CRITERION = "(?:" + "|".join(CRITERIA) + ")"
WEIGHTS_PATTERN = rf"^{_CRITERION}:{_POSITIVE}(?:,{_CRITERION}:{_POSITIVE})*$"

Lang = Annotated[Literal["zh", "en"], Query(description="labels: zh (default) or en")]
County = Annotated[str | None, Query(pattern=r"^[0-9]{6}$", description="6-digit county code of the dataset "
                                     "(404 for a code it does not have)")]
Weights = Annotated[str | None, Query(max_length=400,
                                      description="criterion weights as criterion:number pairs, e.g. "
                                                  "distance:60,sector_fit:5 (normalised to sum 1; default: the "
                                                  "model's weights)")]
LessDeveloped = Annotated[bool | None, Query(description="only parks in less-developed counties")]
MaxDistance = Annotated[float | None, Query(gt=0, le=10_000, description="only parks within this distance of the "
                                            "site (km)")]
_MAP_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}},
    400: {"description": "a sector or metric the map does not accept, or wrong map settings on the server"},
    404: {"description": "a county, enterprise or candidate the dataset (or your offices) does not have"},
}


def _check_county(state: AppState, county: str | None) -> None:
    if county is not None and not (state.dataset.counties["code"].astype(str) == county).any():
        raise NotFound(f"county {county!r} not found; accepted: the 6-digit codes of the dataset's counties "
                       "(GET /collections/counties/items)")


@router.get("/maps/suitability/profile", response_class=HTMLResponse, responses=_MAP_ERRORS,
            summary="The suitability map for a typed-in enterprise profile (HTML)")
def suitability_profile_map(
    request: Request,
    state: StateDep,
    user: AnalystUser,
    db: DbDep,
    sector: Annotated[Literal[SECTOR_IDS], Query(description="sector id")],  # type: ignore[valid-type]
    land_ha: Annotated[float, Query(ge=0, le=1e6, description="land needed (ha)")],
    employees: Annotated[int, Query(ge=0, le=10_000_000, description="employees")],
    pollution_class: Annotated[Literal[POLLUTION_CLASSES], Query(description="pollution class")],  # type: ignore[valid-type]
    lon: Annotated[float, Query(ge=-180, le=180, description="site longitude (WGS 84)")],
    lat: Annotated[float, Query(ge=-90, le=90, description="site latitude (WGS 84)")],
    lang: Lang = "zh",
    profile_name: Annotated[str | None, Query(max_length=200, description="a name to show (optional)")] = None,
    weights: Weights = None,
    less_developed_only: LessDeveloped = None,
    max_distance_km: MaxDistance = None,
) -> Response:
    """The parks ranked for an enterprise that is not in the dataset, as ``POST /suitability`` ranks them."""
    return _suitability_response(request, state, lang, None, {
        "sector": sector, "land_ha": land_ha, "employees": employees, "pollution_class": pollution_class,
        "lon": lon, "lat": lat, "name": profile_name}, weights, less_developed_only, max_distance_km)


def _hidden(**kw):
    return Query(include_in_schema=False, **kw)


@router.get("/maps/suitability", response_class=HTMLResponse, responses=_MAP_ERRORS,
            summary="The suitability map for an enterprise of the dataset (HTML)")
def suitability_map(
    request: Request,
    state: StateDep,
    user: AnalystUser,
    db: DbDep,
    enterprise_id: Annotated[str | None, Query(min_length=1, max_length=64, description="the enterprise (required; "
                                               "a typed-in profile: GET /maps/suitability/profile)")] = None,
    lang: Lang = "zh",
    weights: Weights = None,
    less_developed_only: LessDeveloped = None,
    max_distance_km: MaxDistance = None,
    # a profile here too (the workspace's links), outside the schema: /maps/suitability/profile documents it
    sector: Annotated[str | None, _hidden(max_length=40)] = None,
    land_ha: Annotated[float | None, _hidden()] = None,
    employees: Annotated[int | None, _hidden()] = None,
    pollution_class: Annotated[str | None, _hidden(max_length=20)] = None,
    lon: Annotated[float | None, _hidden()] = None,
    lat: Annotated[float | None, _hidden()] = None,
    profile_name: Annotated[str | None, _hidden(max_length=200)] = None,
) -> Response:
    """The parks ranked for one enterprise of the dataset, as ``POST /suitability`` ranks them."""
    return _suitability_response(request, state, lang, enterprise_id, {
        "sector": sector, "land_ha": land_ha, "employees": employees, "pollution_class": pollution_class,
        "lon": lon, "lat": lat, "name": profile_name}, weights, less_developed_only, max_distance_km)


def openapi_rules(schema: dict, _app) -> None:
    """OpenAPI of the maps: ``sector`` and ``metric`` of ``GET /maps/{name}`` as the values the maps accept;
    ``enterprise_id`` of ``GET /maps/suitability`` is required (a profile has
    its own operation), and ``weights`` follows :data:`WEIGHTS_PATTERN` (criterion:positive number pairs; the
    server also takes zeros beside a positive weight, and names what is wrong in a 422)."""
    paths = schema.get("paths", {})
    # GET /maps/{name}: the sectors and park-profile metrics the maps accept (400 naming them otherwise)
    state: AppState = _app.state.parkplan
    profiles = park_profiles(state.dataset)
    metrics = sorted(c for c in profiles.columns if c != "park_id" and pd.api.types.is_numeric_dtype(profiles[c]))
    for p in (paths.get("/maps/{name}", {}).get("get") or {}).get("parameters", []):
        if p.get("name") == "sector":
            p["schema"] = {"anyOf": [{"type": "string", "enum": list(SECTOR_IDS)}, {"type": "null"}], "title": "Sector"}
        if p.get("name") == "metric":
            p["schema"] = {"anyOf": [{"type": "string", "enum": metrics}, {"type": "null"}], "title": "Metric"}
    for path in ("/maps/suitability", "/maps/suitability/profile"):
        op = paths.get(path, {}).get("get") or {}
        for p in op.get("parameters", []):
            if p.get("name") == "enterprise_id" and path == "/maps/suitability":
                p["required"] = True
                p["schema"] = {"type": "string", "minLength": 1, "maxLength": 64, "title": "Enterprise Id"}
            if p.get("name") == "weights":
                p["schema"] = {"type": "string", "maxLength": 400, "pattern": WEIGHTS_PATTERN, "title": "Weights"}


def _suitability_response(request: Request, state: AppState, lang: str, enterprise_id: str | None, fields: dict,
                          weights: str | None, less_developed_only: bool | None,
                          max_distance_km: float | None) -> Response:
    """Both suitability maps: the query checked as ``POST /suitability`` checks it (422), then the cached page."""
    suit_weights = _weights(weights)
    constraints = {k: v for k, v in (("less_developed_only", less_developed_only),
                                     ("max_distance_km", max_distance_km)) if v} or None
    profile = _profile(enterprise_id, fields)
    opts = _options(lang)
    target = str(enterprise_id) if enterprise_id else dict(profile or {})
    page, parts = suitability_page(state, opts, target, suit_weights, constraints)
    return _page_response(request, page, parts, opts)


SUITABILITY_QUERIES_KEPT = 32  # suitability queries whose map texts are kept (per process; about 1 MB each)


def suitability_page(state: AppState, opts: MapOptions, target: str | dict, weights: dict[str, float] | None,
                     constraints: dict | None) -> tuple[MapPage, list[bytes]]:
    """The suitability map of one query (an enterprise id or a profile), written into the map's template: the
    base (counties, places, controls, the parks' geometries and search) is rendered and compressed once per
    dataset, language and shape of the map (``maps.suitability_map.suitability_template``, kept in
    ``state.maps``); a query adds only its own data (about 1/20 of the CPU of building the folium map). The page
    is the one ``build_map("suitability", ...)`` renders (``tests/maps/test_suitability_template.py``)."""
    from parks.suitability import score_enterprise

    base = state.maps.get_or_compute(state.key("suitability-base", opts),
                                     lambda: SuitabilityBase.build(state.dataset, opts))

    def query_texts() -> tuple[tuple[bool, bool, bool], dict[str, str], dict[str, bytes]]:
        try:
            result = score_enterprise(state.suitability_context(), target, weights, constraints)
        except LookupError as exc:
            raise NotFound(str(exc).strip("'\"")) from None
        shape, values = suitability_values(base, result)
        texts = {s.name: s.format(values[s.name]) for s in template_slots(shape)}
        return shape, texts, {name: _raw_deflate(text.encode("utf-8")) for name, text in texts.items()}

    # the last queries' own texts (about 1 MB each: every park's geometry and popup) kept in a small LRU of their
    # own, so a repeated query (the page's frame after a reload) only joins the page
    key = _page_key(state, "suitability-query", opts, enterprise_id=target if isinstance(target, str) else None,
                    profile=None if isinstance(target, str) else target, weights=weights, constraints=constraints)
    queries = state.maps.get_or_compute(state.key("suitability-queries"),
                                        lambda: LockedCache(SUITABILITY_QUERIES_KEPT, "suitability queries"))
    shape, texts, deflated = queries.get_or_compute(key, query_texts)
    packed = state.maps.get_or_compute(state.key("suitability-template", opts, shape),
                                       lambda: PackedTemplate.pack(suitability_template(base, shape)))
    return packed.fill(texts, deflated)


@dataclass(frozen=True)
class PackedTemplate:
    """A map template (:class:`maps.base.MapTemplate`) with its text compressed once (raw deflate pieces that
    concatenate, as :func:`_deflate_parts` makes per part): :meth:`fill` compresses only a request's values."""

    template: MapTemplate
    packed: tuple[tuple[bytes | Slot, ...], ...]

    @classmethod
    def pack(cls, template: MapTemplate) -> "PackedTemplate":
        return cls(template, tuple(tuple(x if isinstance(x, Slot) else _raw_deflate(x.encode("utf-8")) for x in part)
                                   for part in template.parts))

    def fill(self, texts: dict[str, str], deflated: dict[str, bytes]) -> tuple[MapPage, list[bytes]]:
        """The page with each slot's text (:meth:`maps.base.Slot.format` of its value) and its compressed parts
        (for :func:`_page_response`); ``deflated``: each text as :func:`_raw_deflate` compresses it."""
        missing = [s.name for s in self.template.slots if s.name not in texts or s.name not in deflated]
        if missing:
            raise ValueError(f"map template: no text for slot(s) {missing}")
        page = MapPage(tuple("".join(texts[x.name] if isinstance(x, Slot) else x for x in part)
                             for part in self.template.parts))
        parts = [b"".join(deflated[x.name] if isinstance(x, Slot) else x for x in part) for part in self.packed]
        return page, parts


# --- GET /maps/{name}: its query (a dependency), the role check (a dependency), one builder per map ---------


@dataclass(frozen=True)
class MapParams:
    """The request of ``GET /maps/{name}``: which map, in which language, and its filters."""

    name: str
    lang: str = "zh"
    sector: str | None = None
    county: str | None = None
    metric: str | None = None
    candidate_id: str | None = None


def map_params(
    name: Annotated[MapName, Path(description="parks, enterprises, clusters or transfers (suitability: "
                                              "GET /maps/suitability)")],
    lang: Lang = "zh",
    sector: Annotated[str | None, Query(max_length=40, description="sector id")] = None,
    county: County = None,
    metric: Annotated[str | None, Query(max_length=40, description="parks map: colour parks by this "
                                        "park-profile column (e.g. employees, free_land_ha)")] = None,
    candidate_id: Annotated[str | None, Query(max_length=64, description="transfers map of one stored "
                                              "candidate (office-scoped: another office's is 404)")] = None,
    highlight: Annotated[str | None, Query(max_length=64, description="parks map: the park_id to highlight and "
                                           "zoom to (read by the page's script)")] = None,
) -> MapParams:
    """The query parameters of ``GET /maps/{name}`` (``highlight`` is read by the page's script, not here)."""
    return MapParams(name, lang, sector, county, metric, candidate_id)


MapParamsDep = Annotated[MapParams, Depends(map_params)]


def map_user(params: MapParamsDep, user: ViewerUser) -> Principal:
    """The caller, if its role may see the map: viewer or higher for the parks, clusters and transfers maps,
    analyst or higher for the maps that show single enterprises (403 otherwise). Runs after the query is
    valid (a bad query is a 422 first)."""
    if params.name in _ANALYST_MAPS and not user.has_role("analyst"):
        raise Forbidden(f"the {params.name} map needs the analyst role or higher; your token has {user.role}")
    return user


MapUser = Annotated[Principal, Depends(map_user)]
_GET_MAP_ERRORS: dict[int | str, dict[str, Any]] = {
    **_MAP_ERRORS,
    403: {"description": "the enterprises map below the analyst role; the transfers map of a county outside "
                         "a reviewer's offices"},
}


@router.get("/maps/{name}", response_class=HTMLResponse, summary="An interactive map (HTML)",
            responses=_GET_MAP_ERRORS)
def get_map(request: Request, state: StateDep, user: MapUser, db: DbDep, params: MapParamsDep) -> Response:
    _check_county(state, params.county)
    opts = _options(params.lang)
    if params.name == "transfers":  # its candidates change with every review (one candidate's: kept per content)
        page, parts = _transfers_page(state, db, user, opts, params)
    else:
        page, parts = _SHARED_PAGES[params.name](state, opts, params)
    return _page_response(request, page, parts, opts)


def _parks_page(state: AppState, opts: MapOptions, p: MapParams) -> tuple[MapPage, list[bytes]]:
    key = _page_key(state, "parks", opts, sector=p.sector, county=p.county, metric=p.metric)
    return state.maps.get_or_compute(key, lambda: _render(lambda: build_map(
        "parks", state.dataset, opts=opts, sector=p.sector, county=p.county, metric=p.metric)))


def _enterprises_page(state: AppState, opts: MapOptions, p: MapParams) -> tuple[MapPage, list[bytes]]:
    key = _page_key(state, "enterprises", opts, sector=p.sector, county=p.county)
    return state.maps.get_or_compute(key, lambda: _render(lambda: build_map(
        "enterprises", state.dataset, opts=opts, sector=p.sector, county=p.county)))


def _clusters_page(state: AppState, opts: MapOptions, p: MapParams) -> tuple[MapPage, list[bytes]]:
    """The clusters map is of the whole province (``county`` only checked); :func:`warm` builds the default one."""
    key = _page_key(state, "clusters", opts, sector=p.sector)

    def shared() -> tuple[MapPage, list[bytes]]:
        # once for every worker process (the clusters' analysis is seconds to tens of seconds): the page's parts as
        # JSON in the review database, read by the other workers (the options named by a digest: no key in clear)
        made: list[list[bytes]] = []

        def build() -> MapPage:
            page, parts = _render(lambda: build_map("clusters", state.dataset, opts=opts, sector=p.sector))
            made.append(parts)
            return page

        digest = hashlib.sha256(repr(opts).encode()).hexdigest()[:16]
        page = state.shared_value(("map", "clusters", opts.lang, digest, p.sector), build,
                                  lambda page: orjson.dumps(list(page.parts)),
                                  lambda data: MapPage(tuple(str(x) for x in orjson.loads(data))))
        return page, made[0] if made else _deflate_parts(page)

    return state.maps.get_or_compute(key, shared)


_SHARED_PAGES: dict[str, Callable[[AppState, MapOptions, MapParams], tuple[MapPage, list[bytes]]]] = {
    "parks": _parks_page, "enterprises": _enterprises_page, "clusters": _clusters_page}


def _transfers_page(state: AppState, db: Session, user: Principal, opts: MapOptions,
                    p: MapParams) -> tuple[MapPage, list[bytes]]:
    """One stored candidate's map (``candidate_id``), else the candidates the user may see (office-scoped;
    flows only for the roles that review no office). The list is built on each request; one candidate's map is
    kept per what it draws of the candidate (``AppState.candidate_maps``)."""
    if p.county is not None and not user.in_scope(p.county) and not _sees_flows_only(user):
        raise Forbidden(f"county {p.county!r} is not one of your offices")
    if p.candidate_id is not None:
        candidate = _candidate(db, user, p.candidate_id)  # the office check first: a kept map is no way round it
        # kept per what the map draws of the candidate (its parks, site, scores and status: the map is built from
        # that alone), so a decision makes a new key only by a status this candidate's map was not drawn with; the
        # map depends on nothing else of the user
        content = hashlib.sha256(orjson.dumps(candidate_map_inputs(candidate), default=json_default,
                                              option=orjson.OPT_SORT_KEYS
                                              | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)).hexdigest()
        key = _page_key(state, "transfers", opts, enterprise_id=content)
        return state.candidate_maps.get_or_compute(key, lambda: _render(lambda: build_map(
            "transfers", state.dataset, opts=opts, candidate=candidate), level=FAST_DEFLATE))
    candidates = _candidates(state, db, user, p.county)
    firms = not _sees_flows_only(user)
    return _render(lambda: build_map("transfers", state.dataset, opts=opts, county=p.county, candidates=candidates,
                                     firms=firms), level=FAST_DEFLATE)


# --- shared by every map: options, rendering, the cache key, the response ----------------------------------


def _options(lang: str) -> MapOptions:
    try:
        return _map_options(lang)
    except ValueError as exc:
        raise BadRequest(f"the server's map settings are wrong: {exc}") from None


#: zlib level of the maps built for one request or one candidate (served once or twice, then made again after a
#: decision): level 1 costs 5 ms for a candidate's map where level 6 costs 26 ms, for 20 % more bytes (321 against
#: 266 kB); the maps every user shares are compressed once at the default level
FAST_DEFLATE = 1


def _render(make: Callable[[], folium.Map], level: int = 6) -> tuple[MapPage, list[bytes]]:
    """The map ``make()`` builds, rendered and pre-compressed; its errors as 400 (settings the map does not
    accept) and 404 (an enterprise or park the dataset does not have)."""
    try:
        m = make()
    except MapError as exc:  # coded: code and detail_zh beside the English
        raise BadRequest(str(exc), **coded_members(exc)) from None
    except LookupError as exc:
        raise NotFound(str(exc).strip("'\"")) from None
    page = render_page(m)
    return page, _deflate_parts(page, level)


def _page_key(state: AppState, name: str, opts: MapOptions, *, sector: str | None = None,
              enterprise_id: str | None = None, county: str | None = None, metric: str | None = None,
              profile: dict | None = None, weights: dict[str, float] | None = None,
              constraints: dict | None = None) -> tuple:
    """The cache key of a map page (per dataset, through ``state.key``)."""
    return state.key("map", name, opts, sector, enterprise_id, county, metric,
                     tuple(sorted(profile.items())) if profile else None, tuple(sorted((weights or {}).items())),
                     tuple(sorted((constraints or {}).items())))


def _page_response(request: Request, page: MapPage, parts: list[bytes], opts: MapOptions) -> Response:
    """The page with a fresh script nonce and the maps' CSP; gzipped from its parts if the client takes it."""
    nonce = secrets.token_urlsafe(18)
    csp = _CSP.format(nonce=nonce, tiles=" " + _TILE_HOSTS[opts.tiles] if opts.tiles else "")
    headers = {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer", "Cache-Control": "private, no-store", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        # the enterprises map at 100,000 points is 8.7 MB of HTML, about 2 MB gzipped
        return Response(_gzip_with_nonce(page, parts, nonce), media_type="text/html; charset=utf-8",
                        headers={**headers, "Content-Encoding": "gzip"})
    return HTMLResponse(page.html(nonce), headers=headers)


def warm(state: AppState) -> None:
    """Build the clusters map (the slowest of the shared maps) in Chinese into the cache."""
    _clusters_page(state, _map_options("zh"), MapParams("clusters"))


def warm_frames(state: AppState, lang: str = "zh") -> None:
    """The maps the workspace's pages load in their frames, made ahead in this process (each worker of
    ``parkplan serve --workers N`` warms its own): the parks map (``/ui/parks``) and the suitability map's base
    and templates (``/ui/suitability``: a query then adds only its own data), for both shapes a query of the
    dataset gives (a site with ranked and excluded parks; a site with every park excluded)."""
    opts = _map_options(lang)
    _parks_page(state, opts, MapParams("parks", lang))
    base = state.maps.get_or_compute(state.key("suitability-base", opts),
                                     lambda: SuitabilityBase.build(state.dataset, opts))
    for shape in ((True, True, True), (False, True, True), (True, False, True)):
        def pack(shape: tuple[bool, bool, bool] = shape) -> PackedTemplate:
            return PackedTemplate.pack(suitability_template(base, shape))

        state.maps.get_or_compute(state.key("suitability-template", opts, shape), pack)


def _raw_deflate(data: bytes, level: int = 6) -> bytes:
    """``data`` as raw deflate blocks that end on a byte boundary and are not final (a sync flush),
    independent of what comes before: such pieces concatenate into one valid deflate stream (at any level)."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


def _deflate_parts(page: MapPage, level: int = 6) -> list[bytes]:
    return [_raw_deflate(part.encode("utf-8"), level) for part in page.parts]


def _gzip_with_nonce(page: MapPage, parts: list[bytes], nonce: str) -> bytes:
    """The gzip file (RFC 1952) of ``page.html(nonce)`` from the page's pre-compressed parts."""
    html = page.html(nonce).encode("utf-8")
    tag = _raw_deflate(f'<script nonce="{nonce}"'.encode("ascii"))
    body = tag.join(parts) + zlib.compressobj(6, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + body + struct.pack("<II", zlib.crc32(html) & 0xFFFFFFFF, len(html) & 0xFFFFFFFF)
