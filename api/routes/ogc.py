"""OGC API - Features, Part 1 core, over the dataset's layers (GeoJSON, WGS 84 lon/lat).

Collections: ``parks`` and ``counties`` (viewer and above), ``enterprises`` and ``projects``
(analyst and above: enterprise figures are confidential; a project's geometry is its enterprise's
site). Items take ``bbox`` (``minlon,minlat,maxlon,maxlat``, CRS84), ``limit`` (default
``Settings.default_limit``; above ``Settings.max_limit`` it is clamped, as the standard requires),
``offset`` and property filters (``?sector=textiles&size=above``: equality on any property;
an unknown parameter is a 400 that lists the accepted ones). ``datetime`` is validated as an RFC 3339
instant (``2005-01-01T00:00:00Z``, or a date ``2005-01-01``) or interval (``start/end``, ``../end``,
``start/..``; start not after end), 400 naming what is wrong otherwise; a valid value filters nothing,
since no collection has a temporal extent (the collections' metadata give none). Items and features
are ``application/geo+json``, described in the schema by :class:`FeatureCollectionOut` and :class:`FeatureOut`.

The landing page ``/`` needs no login. It answers JSON, unless the app has a ``landing_html``
hook (set by the web workspace) and the client prefers ``text/html``.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import re
import shapely

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from geodata.jsonable import jsonable

from ..deps import CurrentUser, ViewerUser, app_state
from ..problems import BadRequest, Forbidden, NotFound
from geodata.dataset import Dataset

router = APIRouter(tags=["OGC API - Features"])

GEOJSON = "application/geo+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_RESERVED = {"bbox", "limit", "offset", "f", "datetime", "bbox-crs"}


@dataclass(frozen=True)
class CollectionSpec:
    id: str
    title: str
    title_zh: str
    description: str
    id_field: str
    min_role: str


COLLECTIONS: dict[str, CollectionSpec] = {c.id: c for c in (
    CollectionSpec("parks", "Industrial parks", "工业园区",
                   "Township industrial zones and specialty industrial parks (polygons).", "park_id", "viewer"),
    CollectionSpec("counties", "Counties", "县（市、区）",
                   "Counties with their less-developed and coastal flags (polygons).", "code", "viewer"),
    CollectionSpec("enterprises", "Enterprises", "企业",
                   "Enterprises (points) with their figures and derived county, park and urban-core fields. "
                   "Analyst role or higher.", "enterprise_id", "analyst"),
    CollectionSpec("projects", "Projects", "技改项目",
                   "Technical-transformation projects, located at their enterprise's site. Analyst role or higher.",
                   "project_id", "analyst"),
)}


# --- data preparation (once per app, cached) -------------------------------------------------------


def _layer(ds: Dataset, cid: str) -> gpd.GeoDataFrame:
    if cid == "projects":
        ent = ds.enterprises[["enterprise_id", "geometry"]]
        frame = ds.projects.merge(ent, on="enterprise_id", how="left")
        return gpd.GeoDataFrame(frame, geometry="geometry", crs=ds.enterprises.crs)
    return getattr(ds, cid)


_CHUNK = 256  # features serialised together, on first use


@dataclass(eq=False)
class _Collection:
    """A collection's frame (WGS 84, reset index) and its features as GeoJSON bytes, each serialised once.

    The bytes are built lazily in chunks of ``_CHUNK`` rows (the first page that needs a row builds its chunk,
    under the collection's lock) and kept for the life of this object, which the app state's ``features``
    cache holds under the dataset version: a page is then a join of ready slices.
    """

    spec: CollectionSpec
    frame: gpd.GeoDataFrame  # WGS 84, reset index
    ids: pd.Series  # str
    properties: list[str]
    bounds: tuple[float, float, float, float]
    _chunks: dict[int, list[bytes]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def feature_bytes(self, idx) -> list[bytes]:
        """The GeoJSON bytes of the features at positions ``idx``, in that order."""
        chunks = self._chunks
        missing = {int(i) // _CHUNK for i in idx} - chunks.keys()
        if missing:
            with self._lock:
                for c in sorted(missing - chunks.keys()):
                    rows = range(c * _CHUNK, min((c + 1) * _CHUNK, len(self.frame)))
                    chunks[c] = [orjson.dumps(f) for f in _features(self, rows)]
        return [chunks[i // _CHUNK][i % _CHUNK] for i in (int(i) for i in idx)]


def _build_collection(ds: Dataset, cid: str) -> _Collection:
    spec = COLLECTIONS[cid]
    frame = _layer(ds, cid)
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    frame = frame.reset_index(drop=True)
    props = [c for c in frame.columns if c != frame.geometry.name]
    valid = frame.geometry[frame.geometry.notna()]
    b = tuple(float(x) for x in valid.total_bounds) if len(valid) else (-180.0, -90.0, 180.0, 90.0)
    return _Collection(spec, frame, frame[spec.id_field].astype(str), props, b)  # type: ignore[arg-type]


def _collection(request: Request, cid: str) -> _Collection:
    """The collection, prepared once per dataset version (the app state's ``features`` cache)."""
    state = app_state(request)
    return state.features.get_or_compute(state.key("ogc", cid), lambda: _build_collection(state.dataset, cid))


def _spec_for(user, cid: str) -> CollectionSpec:
    spec = COLLECTIONS.get(cid)
    if spec is None:
        raise NotFound(f"collection {cid!r} not found; accepted: {', '.join(COLLECTIONS)}")
    if not user.has_role(spec.min_role):
        raise Forbidden(f"collection {cid!r} needs the {spec.min_role} role or higher; your token has {user.role}")
    return spec


# --- JSON helpers ----------------------------------------------------------------------------------


def _features(col: _Collection, idx) -> list[dict]:
    """GeoJSON features for the rows ``idx`` (positions), in that order."""
    sub = col.frame.iloc[list(idx)]
    props = sub[col.properties]
    records = props.astype(object).where(props.notna(), None).to_dict("records")
    geoms = sub.geometry.to_numpy()
    ids = col.ids.iloc[list(idx)].tolist()
    return [{"type": "Feature", "id": fid,
             "geometry": None if g is None or g.is_empty else shapely.geometry.mapping(g),
             "properties": {k: jsonable(v) for k, v in r.items()}}
            for fid, g, r in zip(ids, geoms, records)]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _collection_doc(request: Request, col: _Collection) -> dict:
    base, s = _base(request), col.spec
    return {
        "id": s.id,
        "title": s.title,
        "description": f"{s.title_zh}. {s.description}",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [list(col.bounds)], "crs": CRS84}},
        "links": [
            _link(f"{base}/collections/{s.id}", "self", "application/json", s.title),
            _link(f"{base}/collections/{s.id}/items", "items", GEOJSON, f"{s.title} (GeoJSON)"),
        ],
    }


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


class LinkOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class FeatureOut(BaseModel):
    """A GeoJSON Feature (RFC 7946), WGS 84 lon/lat."""

    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"]
    id: str | int
    geometry: dict[str, Any] | None = Field(description="a GeoJSON geometry, or null")
    properties: dict[str, Any] | None
    links: list[LinkOut] | None = None


class LandingOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    title: str
    description: str
    links: list[LinkOut]


class ConformanceOut(BaseModel):
    conformsTo: list[str]


class ExtentOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    spatial: dict[str, Any]


class CollectionOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    title: str
    description: str
    itemType: Literal["feature"]
    crs: list[str]
    extent: ExtentOut
    links: list[LinkOut]


class CollectionsOut(BaseModel):
    links: list[LinkOut]
    collections: list[CollectionOut]


class FeatureCollectionOut(BaseModel):
    """A page of features (OGC API - Features: numberMatched, numberReturned, timeStamp, next/prev links)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["FeatureCollection"]
    features: list[FeatureOut]
    numberMatched: int = Field(ge=0)
    numberReturned: int = Field(ge=0)
    timeStamp: str
    links: list[LinkOut]


def _wants_html(request: Request) -> bool:
    """``f=html``, or an Accept header that names text/html before application/json."""
    f = request.query_params.get("f")
    if f:
        return f == "html"
    accept = request.headers.get("accept", "").lower()
    if "text/html" not in accept:
        return False
    j = accept.find("application/json")
    return j < 0 or accept.find("text/html") < j


# --- routes ----------------------------------------------------------------------------------------


@router.get("/", summary="Landing page (no authentication)", response_model=None,
            responses={200: {"model": LandingOut, "content": {"text/html": {"schema": {"type": "string"}}},
                             "description": "JSON, or the web workspace's home page to browsers (Accept: text/html)"}})
def landing(request: Request):
    hook = getattr(request.app.state, "landing_html", None)
    if hook is not None and _wants_html(request):
        return hook(request)
    base = _base(request)
    ds = request.app.state.dataset
    province = str(ds.province["name"].iloc[0]) if len(ds.province) else ""
    return {
        "title": "parkplan",
        "description": f"{province}工业园区规划: OGC API - Features for parks, enterprises, projects and counties; "
                       "suitability, clustering metrics, maps and transfer review.",
        "links": [
            _link(f"{base}/", "self", "application/json", "this document"),
            _link(f"{base}/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.0",
                  "the API definition"),
            _link(f"{base}/docs", "service-doc", "text/html", "the API documentation"),
            _link(f"{base}/conformance", "conformance", "application/json", "conformance classes"),
            _link(f"{base}/collections", "data", "application/json", "the collections"),
        ],
    }


@router.get("/conformance", summary="OGC API conformance classes", response_model=None,
            responses={200: {"model": ConformanceOut}})
def conformance(_user: ViewerUser):
    return {"conformsTo": CONFORMANCE}


@router.get("/collections", summary="The collections this token may read", response_model=None,
            responses={200: {"model": CollectionsOut}})
def collections(request: Request, user: ViewerUser):
    base = _base(request)
    cols = [_collection_doc(request, _collection(request, cid)) for cid, s in COLLECTIONS.items()
            if user.has_role(s.min_role)]
    return {"links": [_link(f"{base}/collections", "self", "application/json")], "collections": cols}


_FORBIDDEN: dict[int | str, dict[str, Any]] = {403: {"description": "the collection needs a higher role (enterprises, projects: analyst)"}}


CollectionId = Annotated[str, Path(description="parks, counties, enterprises or projects",
                                    json_schema_extra={"enum": list(COLLECTIONS)})]


@router.get("/collections/{collection_id}", summary="One collection's metadata", response_model=None,
            responses={200: {"model": CollectionOut}, **_FORBIDDEN})
def collection(request: Request, collection_id: CollectionId, user: CurrentUser):
    _spec_for(user, collection_id)
    return _collection_doc(request, _collection(request, collection_id))


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``minx,miny,maxx,maxy`` (or 6 numbers with heights) in CRS84; 400 with the reason otherwise."""
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise BadRequest(f"bbox {value!r} must be 4 (or 6) comma-separated numbers: minlon,minlat,maxlon,maxlat") from None
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4 or not all(math.isfinite(n) for n in nums):
        raise BadRequest(f"bbox {value!r} must be 4 (or 6) finite numbers: minlon,minlat,maxlon,maxlat")
    minx, miny, maxx, maxy = nums
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadRequest(f"bbox {value!r} is outside lon -180..180, lat -90..90 or has minlat > maxlat")
    if minx > maxx:
        raise BadRequest(f"bbox {value!r} has minlon > maxlon (boxes across the antimeridian are not supported)")
    return minx, miny, maxx, maxy


_DATE = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = r"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
_INSTANT = f"{_DATE}(?:{_TIME})?"
DATETIME_PATTERN = f"^(?:{_INSTANT}|{_INSTANT}/(?:{_INSTANT}|\\.\\.)|\\.\\./{_INSTANT})$"
_NUMBER = r" *[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)? *"
BBOX_PATTERN = f"^{_NUMBER}(?:,{_NUMBER}){{3}}(?:,{_NUMBER},{_NUMBER})?$"
_DATETIME_HELP = ("an RFC 3339 date-time or date (2005-01-01T00:00:00Z, 2005-01-01) or interval (start/end, "
                  "../end, start/..)")


def _instant(text: str, value: str) -> dt.datetime:
    if not re.fullmatch(_INSTANT, text):
        raise BadRequest(f"datetime {value!r}: {text!r} is not {_DATETIME_HELP}")
    norm = text.upper()
    if "T" not in norm:
        try:
            return dt.datetime.combine(dt.date.fromisoformat(norm), dt.time(), dt.timezone.utc)
        except ValueError as e:
            raise BadRequest(f"datetime {value!r}: {text!r} is not a calendar date ({e})") from None
    norm = re.sub(r":60(?=[.Z+-]|$)", ":59", norm)  # a leap second, valid in RFC 3339, unknown to Python
    try:
        return dt.datetime.fromisoformat(norm.replace("Z", "+00:00"))
    except ValueError as e:
        raise BadRequest(f"datetime {value!r}: {text!r} is not a valid date-time ({e})") from None


def parse_datetime(value: str | None) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    """The OGC API ``datetime`` parameter as (start, end), UTC-aware, ``None`` for an open end; an instant is
    (t, t). 400 naming what is wrong for anything else (malformed, not a calendar date, start after end)."""
    if value is None:
        return None
    if "/" not in value:
        t = _instant(value, value)
        return t, t
    parts = value.split("/")
    if len(parts) != 2:
        raise BadRequest(f"datetime {value!r} is not {_DATETIME_HELP}")
    a, b = parts
    if a == ".." and b == "..":
        raise BadRequest(f"datetime {value!r}: an interval needs at least one bound; {_DATETIME_HELP}")
    start = None if a == ".." else _instant(a, value)
    end = None if b == ".." else _instant(b, value)
    if start is not None and end is not None and start > end:
        raise BadRequest(f"datetime {value!r}: the interval starts after it ends")
    return start, end


def _filter_mask(col: _Collection, name: str, value: str) -> np.ndarray:
    s = col.frame[name]
    if pd.api.types.is_bool_dtype(s):
        v = value.strip().lower()
        if v not in ("true", "false", "1", "0"):
            raise BadRequest(f"filter {name}={value!r}: {name} is true or false")
        return (s == (v in ("true", "1"))).to_numpy()
    if pd.api.types.is_numeric_dtype(s):
        try:
            x = float(value)
        except ValueError:
            raise BadRequest(f"filter {name}={value!r}: {name} is a number") from None
        return np.isclose(s.to_numpy(dtype=float), x, rtol=0, atol=1e-9)
    return (s.astype(str) == value).to_numpy()


@router.get("/collections/{collection_id}/items", summary="Features of a collection (GeoJSON)",
            response_class=GeoJSONResponse,
            responses={200: {"model": FeatureCollectionOut, "description": "a page of features"},
                       400: {"description": "a bbox or datetime the pattern allows but that is not valid (lat out "
                                            "of range, minlat > maxlat, 2005-02-30, an interval ending before it "
                                            "starts), or an unknown query parameter"}, **_FORBIDDEN})
def items(
    request: Request,
    collection_id: CollectionId,
    user: CurrentUser,
    bbox: Annotated[str | None, Query(pattern=BBOX_PATTERN, max_length=200,
                                      description="minlon,minlat,maxlon,maxlat (CRS84), or 6 numbers with heights")
                    ] = None,
    limit: Annotated[int | None, Query(ge=1, description="page size; values above the maximum are clamped")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    datetime: Annotated[str | None, Query(pattern=DATETIME_PATTERN, max_length=100,
                                          description=f"{_DATETIME_HELP}; validated, then filters nothing: no "
                                                      "collection has a temporal extent")] = None,
    f: Annotated[Literal["json", "geojson"] | None, Query(description="json or geojson (the same GeoJSON)")] = None,
):
    _spec_for(user, collection_id)
    col = _collection(request, collection_id)
    settings = request.app.state.settings
    parse_datetime(datetime)
    crs = request.query_params.get("bbox-crs")
    if crs is not None and crs != CRS84:
        raise BadRequest(f"bbox-crs {crs!r} is not supported; accepted: {CRS84}")
    unknown = [k for k in request.query_params if k not in _RESERVED and k not in col.properties]
    if unknown:
        raise BadRequest(f"unknown query parameter(s) {', '.join(map(repr, sorted(unknown)))}; accepted: "
                         f"{', '.join(sorted(_RESERVED))} and the properties {', '.join(col.properties)}")
    page = min(limit or settings.default_limit, settings.max_limit)
    box = parse_bbox(bbox)
    filters = [(name, value) for name, value in request.query_params.multi_items() if name in col.properties]
    n = len(col.frame)
    if box is None and not filters:  # every feature matches: the page is a slice
        matched = n
        chosen: Any = range(min(offset, n), min(offset + page, n))
    else:
        mask = np.ones(n, dtype=bool)
        if box is not None:
            hit = col.frame.sindex.query(shapely.box(*box), predicate="intersects")
            m = np.zeros(n, dtype=bool)
            m[hit] = True
            mask &= m
        for name, value in filters:
            mask &= _filter_mask(col, name, value)
        idx = np.flatnonzero(mask)
        matched = int(len(idx))
        chosen = idx[offset: offset + page]
    features = col.feature_bytes(chosen)
    links = [_link(str(request.url), "self", GEOJSON, "this page"),
             _link(f"{_base(request)}/collections/{collection_id}", "collection", "application/json")]
    if offset + page < matched:
        links.append(_link(str(request.url.include_query_params(offset=offset + page, limit=page)), "next", GEOJSON,
                           "next page"))
    if offset > 0:
        links.append(_link(str(request.url.include_query_params(offset=max(0, offset - page), limit=page)), "prev",
                           GEOJSON, "previous page"))
    tail = orjson.dumps({
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    })
    # {"type":"FeatureCollection","features":[<ready bytes>],"numberMatched":...}: the keys in the order of before
    return Response(b'{"type":"FeatureCollection","features":[' + b",".join(features) + b"]," + tail[1:],
                    media_type=GEOJSON)


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature (GeoJSON)",
            response_class=GeoJSONResponse,
            responses={200: {"model": FeatureOut, "description": "the feature"}, **_FORBIDDEN})
def item(request: Request, collection_id: CollectionId, feature_id: Annotated[str, Path(max_length=200)],
         user: CurrentUser):
    _spec_for(user, collection_id)
    col = _collection(request, collection_id)
    hits = np.flatnonzero((col.ids == feature_id).to_numpy())
    if not len(hits):
        raise NotFound(f"feature {feature_id!r} not found in collection {collection_id!r}")
    base = _base(request)
    links = orjson.dumps([
        _link(f"{base}/collections/{collection_id}/items/{quote(feature_id, safe='')}", "self", GEOJSON),
        _link(f"{base}/collections/{collection_id}", "collection", "application/json")])
    feat = col.feature_bytes(hits[:1])[0]  # {"type":"Feature",...,"properties":{...}}: the links added last
    return Response(feat[:-1] + b',"links":' + links + b"}", media_type=GEOJSON)
