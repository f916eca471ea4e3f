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
map, whose candidates change with every review, is built on each request).

Scripts: the Content-Security-Policy allows scripts from this server and the inline scripts that carry
this response's nonce (a fresh random value per response, put on every ``<script>`` the renderer wrote;
the data are JSON blocks, never script source, so no data can carry the nonce); no ``'unsafe-inline'``
for scripts, no ``eval``. Cached pages are kept split at their script tags (``maps.base.MapPage``), and
gzipped per part, so a response adds its nonce without rendering or compressing the page again.
"""

from __future__ import annotations

import secrets
import struct
import zlib
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..deps import DbDep, ViewerUser
from ..problems import BadRequest, Forbidden, NotFound

router = APIRouter(tags=["maps"])

MapName = Literal["parks", "enterprises", "clusters", "suitability", "transfers"]
_ANALYST_MAPS = {"enterprises", "suitability"}
_CACHE_MAX = 16
# The page may run the inline scripts that carry this response's nonce and load only from this server
# (and, when a tile provider is configured, images from that provider).
_CSP = ("default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:{tiles}; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'self'")
_TILE_HOSTS = {"osm": "https://tile.openstreetmap.org", "tianditu": "https://*.tianditu.gov.cn",
               "amap": "https://*.is.autonavi.com"}


def _map_options(lang: str):
    """Language, and the basemap tiles from the environment: ``PARKPLAN_MAP_TILES`` = osm | tianditu |
    amap (unset: no tiles, counties as the base), ``PARKPLAN_TIANDITU_KEY`` for Tianditu."""
    import os

    from maps import MapOptions

    tiles = os.environ.get("PARKPLAN_MAP_TILES") or None
    return MapOptions(lang=lang, tiles=None if tiles in (None, "none") else tiles,
                      tianditu_key=os.environ.get("PARKPLAN_TIANDITU_KEY") or None)


@router.get("/maps/assets/{path:path}", include_in_schema=False)
def map_asset(path: str) -> Response:
    from maps.assets import AssetError, media_type, read_asset

    try:
        body = read_asset(path)
    except AssetError as exc:
        raise NotFound(str(exc)) from None
    return Response(body, media_type=media_type(path), headers={"Cache-Control": "public, max-age=86400",
                                                                 "X-Content-Type-Options": "nosniff"})


def _candidates(request: Request, db, user, county: str | None):
    """Transfer candidates the user may see, as a DataFrame: the stored ones (the review database,
    office-scoped as ``/transfer-candidates``), else, on a fresh install, the model's proposal for the
    dataset (computed once, cached), scoped by the same rule: admins all, others their offices."""
    import pandas as pd

    from maps import proposed_candidates
    from maps.transfers_map import normalise_candidates

    from .. import reviews
    from ..app import suitability_context

    if reviews.count_candidates(db) > 0:  # stored candidates exist: show those the user may see, only
        rows, _ = reviews.list_candidates(db, user, filters={}, county=county, limit=100_000, offset=0)
        return pd.DataFrame([reviews.candidate_public(c) for c in rows]) if rows else normalise_candidates(None)
    app = request.app
    key = ("map-proposals", id(app.state.dataset))
    proposals = app.state.cache.get(key)
    if proposals is None:
        proposals = proposed_candidates(app.state.dataset, suitability_context(app))
        with app.state.cache_lock:
            app.state.cache[key] = proposals
    if user.is_admin or proposals.empty:
        return proposals
    keep = [user.in_scope(o, d) for o, d in zip(proposals["origin_county_code"], proposals["destination_county_code"])]
    return proposals[keep]


_PROFILE_FIELDS = ("sector", "land_ha", "employees", "pollution_class", "lon", "lat")


def _profile(enterprise_id: str | None, fields: dict) -> dict | None:
    """The suitability map's target when given as a profile (query parameters), validated by the same
    model as ``POST /suitability``'s profile; None when ``enterprise_id`` is the target. Problems are a
    422 naming each query parameter."""
    from fastapi.exceptions import RequestValidationError
    from pydantic import ValidationError

    from .suitability import Profile

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
        errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False, include_context=False)]
        for e in errors:
            if e["type"] == "missing":
                e["msg"] = "missing: a profile needs " + ", ".join(_PROFILE_FIELDS)
        raise RequestValidationError(errors) from None


def _weights(text: str | None) -> dict[str, float] | None:
    """``criterion:number,...`` as a mapping, checked as ``POST /suitability`` checks its weights (422)."""
    from fastapi.exceptions import RequestValidationError

    from maps import MapError
    from maps.suitability_map import parse_weights

    try:
        return parse_weights(text)
    except MapError as exc:
        msg = str(exc).removeprefix("weights: ")
        raise RequestValidationError([{"loc": ("query", "weights"), "msg": msg, "type": "value_error"}]) from None


def _candidate(db, user, candidate_id: str) -> dict:
    """One stored transfer candidate with its snapshot, if the user's offices may see it (404 otherwise,
    the same answer as ``/transfer-candidates/{id}``)."""
    from .. import reviews

    return reviews.candidate_public(reviews.get_candidate(db, user, candidate_id), snapshot=True)


@router.get("/maps/{name}", response_class=HTMLResponse, summary="An interactive map (HTML)",
            responses={200: {"content": {"text/html": {}}}})
def get_map(
    request: Request,
    user: ViewerUser,
    db: DbDep,
    name: Annotated[MapName, Path(description="parks, enterprises, clusters, suitability or transfers")],
    lang: Annotated[Literal["zh", "en"], Query(description="labels: zh (default) or en")] = "zh",
    sector: Annotated[str | None, Query(max_length=40, description="sector id")] = None,
    enterprise_id: Annotated[str | None, Query(max_length=64, description="for the suitability map")] = None,
    county: Annotated[str | None, Query(max_length=12, description="6-digit county code")] = None,
    metric: Annotated[str | None, Query(max_length=40, description="parks map: colour parks by this "
                                        "park-profile column (e.g. employees, free_land_ha)")] = None,
    land_ha: Annotated[float | None, Query(description="suitability map for a profile: land needed (ha)")] = None,
    employees: Annotated[int | None, Query(description="suitability map for a profile: employees")] = None,
    pollution_class: Annotated[str | None, Query(max_length=20, description="suitability map for a profile: "
                                                 "light, medium or heavy")] = None,
    lon: Annotated[float | None, Query(description="suitability map for a profile: site longitude (WGS 84)")] = None,
    lat: Annotated[float | None, Query(description="suitability map for a profile: site latitude (WGS 84)")] = None,
    profile_name: Annotated[str | None, Query(max_length=200, description="suitability map for a profile: "
                                              "a name to show (optional)")] = None,
    weights: Annotated[str | None, Query(max_length=400, description="suitability map: criterion weights as "
                                         "criterion:number pairs, e.g. distance:60,sector_fit:5 (normalised "
                                         "to sum 1; default: the model's weights)")] = None,
    less_developed_only: Annotated[bool | None, Query(description="suitability map: only parks in "
                                                      "less-developed counties")] = None,
    max_distance_km: Annotated[float | None, Query(gt=0, le=10_000, description="suitability map: only parks "
                                                   "within this distance of the site")] = None,
    candidate_id: Annotated[str | None, Query(max_length=64, description="transfers map of one stored "
                                              "candidate (office-scoped: another office's is 404)")] = None,
    highlight: Annotated[str | None, Query(max_length=64, description="parks map: the park_id to highlight and "
                                           "zoom to (read by the page's script)")] = None,
) -> HTMLResponse:
    from maps import MapError, build_map
    from maps.base import render_page

    try:
        opts = _map_options(lang)
    except ValueError as exc:
        raise BadRequest(f"the server's map settings are wrong: {exc}") from None

    if name in _ANALYST_MAPS and not user.has_role("analyst"):
        raise Forbidden(f"the {name} map needs the analyst role or higher; your token has {user.role}")
    profile = suit_weights = constraints = None
    if name == "suitability":
        suit_weights = _weights(weights)
        constraints = {k: v for k, v in (("less_developed_only", less_developed_only),
                                         ("max_distance_km", max_distance_km)) if v} or None
        profile = _profile(enterprise_id, {"sector": sector, "land_ha": land_ha, "employees": employees,
                                           "pollution_class": pollution_class, "lon": lon, "lat": lat,
                                           "name": profile_name})
    ds = request.app.state.dataset
    candidates = candidate = None
    if name == "transfers":
        if county is not None and not user.in_scope(county):
            raise Forbidden(f"county {county!r} is not one of your offices")
        if candidate_id is not None:
            candidate = _candidate(db, user, candidate_id)
        else:
            candidates = _candidates(request, db, user, county)
    key = ("map", name, id(ds), opts, sector, enterprise_id if name == "suitability" else None, county, metric,
           None if user.is_admin or name != "transfers" else tuple(sorted(user.offices)),
           tuple(sorted(profile.items())) if profile else None, tuple(sorted((suit_weights or {}).items())),
           tuple(sorted((constraints or {}).items())))
    cache = request.app.state.cache
    page = cache.get(key) if name != "transfers" else None
    if page is None:
        kwargs = {}
        if name == "suitability":
            from ..app import suitability_context

            kwargs["suitability_context"] = suitability_context(request.app)
        try:
            m = build_map(name, ds, opts=opts, sector=sector if profile is None else None,
                          enterprise_id=enterprise_id, county=county, candidates=candidates, candidate=candidate,
                          metric=metric if name == "parks" else None, profile=profile, weights=suit_weights,
                          constraints=constraints, **kwargs)
        except MapError as exc:
            raise BadRequest(str(exc)) from None
        except LookupError as exc:
            raise NotFound(str(exc).strip("'\"")) from None
        page = render_page(m)
        if name != "transfers":
            with request.app.state.cache_lock:
                stale = [k for k in cache if isinstance(k, tuple) and k[:1] == ("map",)]
                for k in stale[: max(0, len(stale) - _CACHE_MAX + 1)]:
                    cache.pop(k, None)
                    cache.pop(("map-gzip",) + k[1:], None)
                cache[key] = page
    nonce = secrets.token_urlsafe(18)
    csp = _CSP.format(nonce=nonce, tiles=" " + _TILE_HOSTS[opts.tiles] if opts.tiles else "")
    headers = {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer", "Cache-Control": "private, no-store", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        # the enterprises map at 100,000 points is 8.7 MB of HTML, about 2 MB gzipped
        parts = _deflated_parts(cache, key, page) if name != "transfers" else _deflate_parts(page)
        return Response(_gzip_with_nonce(page, parts, nonce), media_type="text/html; charset=utf-8",
                        headers={**headers, "Content-Encoding": "gzip"})
    return HTMLResponse(page.html(nonce), headers=headers)


def _raw_deflate(data: bytes) -> bytes:
    """``data`` as raw deflate blocks that end on a byte boundary and are not final (a sync flush),
    independent of what comes before: such pieces concatenate into one valid deflate stream."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


def _deflate_parts(page) -> list[bytes]:
    return [_raw_deflate(part.encode("utf-8")) for part in page.parts]


def _deflated_parts(cache: dict, key: tuple, page) -> list[bytes]:
    zkey = ("map-gzip",) + key[1:]
    parts = cache.get(zkey)
    if parts is None:
        parts = cache[zkey] = _deflate_parts(page)
    return parts


def _gzip_with_nonce(page, parts: list[bytes], nonce: str) -> bytes:
    """The gzip file (RFC 1952) of ``page.html(nonce)`` from the page's pre-compressed parts."""
    html = page.html(nonce).encode("utf-8")
    tag = _raw_deflate(f'<script nonce="{nonce}"'.encode("ascii"))
    body = tag.join(parts) + zlib.compressobj(6, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + body + struct.pack("<II", zlib.crc32(html) & 0xFFFFFFFF, len(html) & 0xFFFFFFFF)
