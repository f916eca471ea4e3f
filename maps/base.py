"""What every parkplan map shares: the base map, counties as the base layer, optional tiles, controls.

A map has no tile layer by default: county boundaries are the base (less-developed counties marked),
so it works on a network that reaches nothing. ``tiles`` adds OpenStreetMap, Tianditu (with the user's
key) or AMap; AMap tiles are in GCJ-02, so with AMap every coordinate drawn is shifted from WGS 84 to
GCJ-02 (:meth:`MapOptions.shift`) and the data lines up with the tiles.

Data never becomes code. branca renders every ``MacroElement``'s output a second time as a Jinja2
template (``Element(script(self, kwargs))``), so any text placed in a folium element's script is
evaluated: a name ``X{{ 7*191 }}`` would show as ``X1337``. parkplan's own elements therefore
(1) hold only constant JavaScript, (2) deliver their data out of band, as a JSON block
``<script type="application/json" id=...>`` read with ``PARKPLAN.data(id)`` (:class:`Script`,
:class:`JsLayer`, :class:`GeoJsonLayer`), and (3) are put into the page verbatim, never through a
template pass. The JSON is escaped by :func:`js_json` for every place it could land (``<``, ``>``,
``&``, U+2028/U+2029 and, inside strings, ``{`` and ``}``), and ``maps/assets/parkplan.js`` puts data
into the DOM with ``textContent`` only. Of folium's own elements only the map, the layer control, the
fullscreen button and tile layers are used, and they carry no data (layer names are labels).
"""

from __future__ import annotations

import html as _html
import json
import math
import re
import secrets
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

from geodata.dataset import Dataset
from geodata.jsonable import jsonable
from geodata.messages import listing

from .assets import ASSET_PREFIX, localize
from .i18n import check_lang, t
from .messages import MapError  # coded (MAPS): English as before, Chinese beside it

__all__ = [
    "MapError", "MapOptions", "TILE_PROVIDERS", "js_json", "new_map", "add_counties", "geojson_layer",
    "add_legend", "finish_map", "Script", "JsLayer", "GeoJsonLayer", "Links", "Raw", "render_html", "render_page",
    "MapPage", "VerbatimMacro", "SECTOR_COLORS", "search_source", "json_blocks", "Slot", "MapTemplate",
    "geojson_collection", "display_geojson", "layer_name_json", "title_values", "search_data",
]

TILE_PROVIDERS = ("osm", "tianditu", "amap")

# 11 sectors: a qualitative palette of saturated colours (Tableau 10 and a dark indigo)
SECTOR_COLORS = ["#1f77b4", "#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#2ca02c",
                 "#17becf", "#e377c2", "#bcbd22", "#7f7f7f", "#393b79"]
COUNTY_STYLE = {"color": "#6b6b6b", "weight": 1, "fillColor": "#ffffff", "fillOpacity": 0.6}
LESS_DEVELOPED_STYLE = {"color": "#6b6b6b", "weight": 1, "fillColor": "#fee8c8", "fillOpacity": 0.8}


@dataclass(frozen=True)
class MapOptions:
    """Language and basemap of a map. ``tiles`` None: no tiles (counties as the base)."""

    lang: str = "zh"
    tiles: str | None = None
    tianditu_key: str | None = None

    def __post_init__(self):
        check_lang(self.lang)
        if self.tiles is not None and self.tiles not in TILE_PROVIDERS:
            raise MapError("map.tiles", tiles=self.tiles, accepted=listing(TILE_PROVIDERS))
        if self.tiles == "tianditu" and not self.tianditu_key:
            raise MapError("map.tianditu_no_key")
        if self.tianditu_key is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", str(self.tianditu_key)):
            raise MapError("map.tianditu_key")

    @property
    def gcj02(self) -> bool:
        return self.tiles == "amap"

    def shift_xy(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Display coordinates: WGS 84 as stored, or GCJ-02 under AMap tiles."""
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        if not self.gcj02:
            return lon, lat
        from geodata.crs import wgs84_to_gcj02

        return wgs84_to_gcj02(lon, lat)

    def shift(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``frame`` in WGS 84 (and shifted to GCJ-02 under AMap tiles), ready to draw."""
        frame = frame.to_crs(4326) if frame.crs is not None and frame.crs.to_epsg() != 4326 else frame
        if not self.gcj02 or frame.empty:
            return frame

        def _f(xy: np.ndarray) -> np.ndarray:
            x, y = self.shift_xy(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return frame.set_geometry(shapely.transform(frame.geometry.to_numpy(), _f))


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACES = str.maketrans({"{": "\\u007b", "}": "\\u007d"})


def js_json(obj: Any) -> str:
    """JSON that is inert wherever a map puts it: inside ``<script>`` (``<``, ``>``, ``&`` escaped, so
    no ``</script>`` or ``<!--``), in JavaScript source (U+2028/U+2029 escaped) and to a template engine
    (``{`` and ``}`` inside strings escaped, so no ``{{``, ``{%`` or ``{#``). ``JSON.parse`` and a
    JavaScript literal both read it back to the same values.

    >>> js_json({"name": "X{{ 7*191 }}</script>"})
    '{"name":"X\\\\u007b\\\\u007b 7*191 \\\\u007d\\\\u007d\\\\u003c/script\\\\u003e"}'
    """
    s = json.dumps(jsonable(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # braces inside string literals only (structural ones stay)
    s = _JSON_STRING.sub(lambda m: m.group(0).translate(_BRACES), s)
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def clean(value) -> Any:
    """A value for a popup row: None for missing, plain Python otherwise."""
    if value is None:
        return None
    if isinstance(value, float) and not np.isfinite(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return jsonable(value) if isinstance(value, (np.generic, np.ndarray)) else value


class _Verbatim(Element):
    """Text put into the page as it is: never compiled or rendered as a template."""

    def __init__(self, text: str):
        super().__init__()
        self._name = "PPVerbatim"
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


@dataclass(frozen=True)
class _SafeJson:
    """JSON text already safe for a JSON block: assembled only from :func:`js_json` output and
    shapely's GeoJSON of geometries (numbers and fixed keys)."""

    text: str


_NO_DATA = object()
_SLOT_NONCE = secrets.token_hex(8)  # per process: no dataset value can spell a slot's token


@dataclass(frozen=True)
class Slot:
    """A place in a map template (:class:`MapTemplate`) that a request fills with its own data, written as it
    would have been written had the map been built with that data. ``kind``: ``"json"`` (an element's data
    block: :func:`js_json`, or the text of a GeoJSON collection), ``"html"`` (text in HTML: escaped, as the
    page title), ``"name"`` (a layer's name, as folium's layer control writes it: ``tojson``). A slot is a
    token (random per process, so no data can spell it) put where the value goes."""

    name: str
    kind: str = "json"

    def __post_init__(self):
        if self.kind not in ("json", "html", "name") or not re.fullmatch(r"[a-z0-9_]+", self.name):
            raise ValueError(f"slot {self.name!r} of kind {self.kind!r}")

    @property
    def token(self) -> str:
        return f"@@ppslot_{_SLOT_NONCE}_{self.name}@@"

    def format(self, value: Any) -> str:
        """``value`` as the page would hold it here."""
        if self.kind == "html":
            return _html.escape(str(value), quote=True)
        if self.kind == "name":
            return layer_name_json(value)
        return value.text if isinstance(value, _SafeJson) else js_json(value)


_TOJSON = Template("{{ x|tojson }}")


def layer_name_json(name: Any) -> str:
    """A layer's name as folium's layer control writes it (``{{ key|tojson }}``)."""
    return _TOJSON.render(x=str(name))


def _emit(element, code: str, data: Any, suffix: str = "") -> None:
    """Put ``element``'s constant ``code`` into the page's script section and its ``data`` into a JSON
    block of the page body, both verbatim (no template pass). In ``code``, ``__NAME__`` is the element's
    JavaScript variable, ``__MAP__`` its parent's (the map) and ``__DATA__`` reads its data. ``data`` may be
    a :class:`Slot` (a map template's place for a request's data, :class:`MapTemplate`)."""
    figure = element.get_root()
    name = element.get_name()
    if data is not _NO_DATA:
        block_id = f"{name}_data"
        text = data.token if isinstance(data, Slot) else data.text if isinstance(data, _SafeJson) else js_json(data)
        figure.html.add_child(_Verbatim(f'<script type="application/json" id="{block_id}">{text}</script>'),
                              name=block_id)
        code = code.replace("__DATA__", f'PARKPLAN.data("{block_id}")')
    code = code.replace("__NAME__", name).replace("__MAP__", element._parent.get_name())
    figure.script.add_child(_Verbatim(code + suffix), name=name)


class Script(MacroElement):
    """JavaScript written by parkplan. ``code`` is constant text, never formatted with data: it reads
    ``data`` (any JSON-able value, delivered as a JSON block) as ``__DATA__``, the map as ``__MAP__``."""

    def __init__(self, code: str, data: Any = _NO_DATA):
        super().__init__()
        self._name = "PPScript"
        self.code = code
        self.data = data

    def render(self, **kwargs):
        _emit(self, self.code, self.data)
        for child in self._children.values():
            child.render(**kwargs)


Raw = Script


class VerbatimMacro(MacroElement):
    """Renders as branca's ``MacroElement`` does, but puts the macros' output into the page verbatim
    instead of compiling it as a second template (branca's ``Element(script(self, kwargs))``). Mixed
    into every folium element a parkplan map uses (:class:`_Map`, the layer control, the fullscreen
    button, tile layers), so no text of a map is rendered twice."""

    def render(self, **kwargs):
        figure = self.get_root()
        module = self._template.module.__dict__
        for part, section in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
            macro = module.get(part)
            if macro is not None:
                section.add_child(_Verbatim(str(macro(self, kwargs))), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class _Map(folium.Map, VerbatimMacro):
    pass


class _LayerControl(folium.LayerControl, VerbatimMacro):
    pass


class _Fullscreen(folium.plugins.Fullscreen, VerbatimMacro):
    pass


class _TileLayer(folium.TileLayer, VerbatimMacro):
    def render(self, **kwargs):  # folium.map.Layer.render adds a re-rendered addTo element: done here instead
        if self.show:
            self.add_child(Script(f"{self.get_name()}.addTo({self._parent.get_name()});"), name=self.get_name() + "_add")
        VerbatimMacro.render(self, **kwargs)


class JsLayer(folium.map.Layer):
    """A layer whose JavaScript is written by parkplan: ``code`` (constant text, see :class:`Script`)
    must assign ``var __NAME__ = ...``; it reads ``data`` as ``__DATA__``. The layer is added to the map
    when ``show`` and registered in ``PARKPLAN.layers[key]``."""

    def __init__(self, code: str, name: str, *, key: str | None = None, show: bool = True, overlay: bool = True,
                 data: Any = _NO_DATA):
        super().__init__(name=name, overlay=overlay, control=True, show=show)
        self._name = "PPLayer"
        self.code = code
        self.key = key
        self.data = data

    def render(self, **kwargs):
        suffix = ""
        if self.show:
            suffix += f"\n__NAME__.addTo(__MAP__);"
        if self.key:
            suffix += f"\nPARKPLAN.register({js_json(str(self.key))}, __NAME__);"
        _emit(self, self.code + suffix, self.data)
        for child in self._children.values():
            child.render(**kwargs)


class GeoJsonLayer(JsLayer):
    """A GeoJSON layer (Leaflet's ``L.geoJSON``) whose FeatureCollection is delivered as a JSON block;
    each feature's ``properties`` carry ``_style`` and the texts of :func:`geojson_layer`;
    :attr:`features` parses them back (for tests and tools)."""

    def __init__(self, collection: _SafeJson, name: str, *, key: str, show: bool = True, control: bool = True):
        super().__init__("var __NAME__ = L.geoJSON(__DATA__, {style: PARKPLAN.featureStyle, "
                         "onEachFeature: PARKPLAN.onEachFeature, smoothFactor: 0.5});",
                         name, key=key, show=show, data=collection)
        self.control = control

    @property
    def features(self) -> list[dict]:
        return json.loads(self.data.text)["features"]


class Links(JSCSSMixin, VerbatimMacro):
    """Links scripts and stylesheets (CDN URLs known to :mod:`maps.assets`, or asset paths) in the header."""

    _template = Template("")

    def __init__(self, js=(), css=()):
        super().__init__()
        self._name = "PPLinks"
        self.default_js = list(js)
        self.default_css = list(css)


def _bounds(ds: Dataset, opts: MapOptions, frame: gpd.GeoDataFrame | None = None) -> list[list[float]]:
    src = frame if frame is not None and len(frame) else ds.counties
    minx, miny, maxx, maxy = opts.shift(src[["geometry"]]).total_bounds
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


def new_map(ds: Dataset, opts: MapOptions, title: "str | Slot", *, note: str | None = None,
            bounds_frame: gpd.GeoDataFrame | None = None) -> folium.Map:
    """A folium map with no tiles (unless ``opts.tiles``), a scale bar, fitted to the counties (or
    to ``bounds_frame``), titled ``title``; a :class:`Slot` title (kind html) leaves the title and the note to
    a template's request (:func:`title_values`)."""
    m = _Map(tiles=None, control_scale=False, prefer_canvas=False, zoom_control=True, zoom_snap=0.25)
    root = m.get_root()
    assert isinstance(root, Figure)  # a folium Map's root is its Figure (the page), which has a header
    root.header.add_child(Element('<meta name="referrer" content="no-referrer">'), name="pp_referrer")
    title_html = title.token if isinstance(title, Slot) else _html.escape(str(title), quote=True)
    root.header.add_child(_Verbatim(f"<title>{title_html}</title>"), name="pp_title")
    m.add_child(Links(js=[("parkplan_js", ASSET_PREFIX + "parkplan/parkplan.js")],
                      css=[("parkplan_css", ASSET_PREFIX + "parkplan/parkplan.css")]))
    _add_tiles(m, opts)
    m.add_child(Script("__MAP__.fitBounds(__DATA__);", data=_bounds(ds, opts, bounds_frame)))
    m.add_child(Script("new L.Control.PPTitle(__DATA__.title, __DATA__.note).addTo(__MAP__); PARKPLAN.maps.push(__MAP__);",
                       data=Slot("title_note") if isinstance(title, Slot) else title_values(title, note)["title_note"]))
    # the scale bar: Leaflet writes its metric label as "500 m" / "50 km"; the same label (Leaflet 1.9's
    # _updateMetric, its rounding kept) with the units in the map's language (米 / 公里 in Chinese)
    m.add_child(Script("(function (u) { var pp_s = L.control.scale({imperial: false, position: 'bottomleft'});"
                       " pp_s._updateMetric = function (maxMeters) { var meters = this._getRoundNum(maxMeters);"
                       " this._updateScale(this._mScale, meters < 1000 ? meters + ' ' + u.m : (meters / 1000) + ' ' + u.km,"
                       " meters / maxMeters); }; pp_s.addTo(__MAP__); })(__DATA__);",
                       data={"m": t("unit_m", opts.lang), "km": t("unit_km", opts.lang)}))
    return m


def title_values(title: Any, note: Any = None) -> dict[str, Any]:
    """The values of :func:`new_map`'s slots when its ``title`` is a :class:`Slot` ``title`` (kind html):
    ``title`` and ``title_note`` (the title control's data)."""
    return {"title": str(title), "title_note": {"title": str(title), "note": str(note or "")}}


def _add_tiles(m: folium.Map, opts: MapOptions) -> None:
    if opts.tiles is None:
        return
    if opts.tiles == "osm":
        _TileLayer("OpenStreetMap", name=t("basemap_osm", opts.lang), overlay=False).add_to(m)
    elif opts.tiles == "tianditu":
        key = str(opts.tianditu_key)
        _TileLayer(
            tiles="https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=" + key,
            attr="&copy; 天地图 Tianditu", name=t("basemap_tianditu", opts.lang), subdomains="01234567",
            overlay=False, max_zoom=18,
        ).add_to(m)
        anno = "cva_w" if opts.lang == "zh" else "eva_w"
        _TileLayer(
            tiles=f"https://t{{s}}.tianditu.gov.cn/DataServer?T={anno}&x={{x}}&y={{y}}&l={{z}}&tk=" + key,
            attr="&copy; 天地图 Tianditu", name=t("basemap_tianditu", opts.lang) + " (注记)", subdomains="01234567",
            overlay=True, max_zoom=18,
        ).add_to(m)
    elif opts.tiles == "amap":
        lang = "zh_cn" if opts.lang == "zh" else "en"
        _TileLayer(
            tiles=f"https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={lang}&size=1&scale=1&style=8&x={{x}}&y={{y}}&z={{z}}",
            attr="&copy; 高德地图 AMap (GCJ-02; data shifted to match)", name=t("basemap_amap", opts.lang),
            subdomains="1234", overlay=False, max_zoom=18,
        ).add_to(m)


_SIMPLIFIED: dict[tuple[bytes, float], np.ndarray] = {}


def _display_geometry(geom: np.ndarray, simplify_deg: float) -> np.ndarray:
    """Geometries simplified (shared borders kept shared) and rounded to 1e-5 degrees; memoised by
    content, as the same counties are drawn by every map."""
    import hashlib

    if not len(geom):
        return geom
    key = (hashlib.sha1(b"".join(shapely.to_wkb(geom))).digest(), float(simplify_deg))
    hit = _SIMPLIFIED.get(key)
    if hit is not None:
        return hit
    out = geom
    if simplify_deg > 0:
        out = shapely.coverage_simplify(out, simplify_deg) if hasattr(shapely, "coverage_simplify") \
            else shapely.simplify(out, simplify_deg, preserve_topology=True)
    out = shapely.set_precision(out, 1e-5, mode="pointwise")
    if len(_SIMPLIFIED) >= 16:
        _SIMPLIFIED.pop(next(iter(_SIMPLIFIED)))
    _SIMPLIFIED[key] = out
    return out


def geojson_layer(
    frame: gpd.GeoDataFrame,
    opts: MapOptions,
    *,
    name: str,
    key: str,
    style: Mapping[str, Any] | Callable[[pd.Series], Mapping[str, Any]],
    tip: Iterable[Any] | None = None,
    title: Iterable[Any] | None = None,
    rows: Iterable[Sequence[tuple[str, Any]]] | None = None,
    label: Iterable[Any] | None = None,
    ids: Iterable[Any] | None = None,
    show: bool = True,
    class_name: str | None = None,
    control: bool = True,
    simplify_deg: float = 0.0,
    geometries: Sequence[str | None] | None = None,
) -> GeoJsonLayer:
    """A GeoJSON layer whose tooltips and popups are built from data as text (never HTML).

    ``style`` is a style dict or a function of a row; ``tip`` / ``title`` / ``rows`` / ``label`` give,
    per row, the tooltip text, popup title, popup rows ``[(label, value), ...]`` and a permanent label
    (the tooltip text replaces the label while the pointer is over the feature). ``ids`` (e.g. park ids)
    let ``PARKPLAN.highlight(key, id)`` find a feature.
    The layer is registered in ``PARKPLAN.layers[key]``; each path gets the CSS class ``pp-<key>``.
    Geometries are simplified by ``simplify_deg`` (degrees; shared borders kept shared) and rounded to
    1e-5 degrees (about 1 m) for drawing; ``geometries``: each row's geometry as :func:`display_geojson` wrote it,
    if the caller has them.
    """
    collection = geojson_collection(frame, opts, key=key, style=style, tip=tip, title=title, rows=rows, label=label,
                                    ids=ids, class_name=class_name, simplify_deg=simplify_deg, geometries=geometries)
    return GeoJsonLayer(collection, name, key=key, show=show, control=control)


def display_geojson(frame: gpd.GeoDataFrame, opts: MapOptions, simplify_deg: float = 0.0) -> list[str | None]:
    """Each geometry of ``frame`` as :func:`geojson_layer` draws it (shifted, simplified, rounded), GeoJSON text."""
    frame = opts.shift(frame)
    return list(shapely.to_geojson(_display_geometry(frame.geometry.to_numpy(), simplify_deg)))


def geojson_collection(
    frame: gpd.GeoDataFrame,
    opts: MapOptions,
    *,
    key: str,
    style: Mapping[str, Any] | Callable[[pd.Series], Mapping[str, Any]],
    tip: Iterable[Any] | None = None,
    title: Iterable[Any] | None = None,
    rows: Iterable[Sequence[tuple[str, Any]]] | None = None,
    label: Iterable[Any] | None = None,
    ids: Iterable[Any] | None = None,
    class_name: str | None = None,
    simplify_deg: float = 0.0,
    geometries: Sequence[str | None] | None = None,
    styles: Sequence[Mapping[str, Any]] | None = None,
) -> _SafeJson:
    """The FeatureCollection of :func:`geojson_layer` (its arguments), as the JSON text of its data block.
    ``geometries``: each row's geometry as :func:`display_geojson` writes it, if the caller keeps them (else
    made here from ``frame``'s geometry); ``styles``: each row's style (instead of ``style`` called per row)."""
    n = len(frame)
    geoms = list(geometries) if geometries is not None else display_geojson(frame, opts, simplify_deg)
    if len(geoms) != n:
        raise ValueError(f"geometries: {len(geoms)} for {n} rows")
    cls = class_name or f"pp-{key}"
    tips = list(tip) if tip is not None else [None] * n
    titles = list(title) if title is not None else [None] * n
    rowss: list[Sequence[tuple[str, Any]] | None] = list(rows) if rows is not None else [None] * n
    labels = list(label) if label is not None else [None] * n
    idss = list(ids) if ids is not None else [None] * n
    features = []
    if styles is not None and len(styles) != n:
        raise ValueError(f"styles: {len(styles)} for {n} rows")
    each = styles if styles is not None else [style(r) for _, r in frame.iterrows()] if callable(style) \
        else [style] * n
    for i in range(n):
        st = dict(each[i])
        st["className"] = cls + " " + st.get("className", "")
        props: dict[str, Any] = {"_style": st}
        if tips[i] is not None:
            props["_tip"] = clean(tips[i])
        if labels[i] is not None:
            props["_label"] = clean(labels[i])
        if idss[i] is not None:
            props["_id"] = str(clean(idss[i]))
        row_cells = rowss[i]
        if row_cells is not None:
            props["_title"] = clean(titles[i])
            props["_rows"] = [[str(a), clean(b)] for a, b in row_cells if clean(b) is not None]
        # geometry as shapely writes it (numbers and fixed keys), properties through js_json
        features.append('{"type":"Feature","id":"%d","geometry":%s,"properties":%s}'
                        % (i, geoms[i] if geoms[i] is not None else "null", js_json(props)))
    return _SafeJson('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}")


#: tolerance of the county outlines as the maps draw them close up (degrees, about 100 m: within 2 px up to zoom
#: 9.9): maps of one place (``near``) and a province map zoomed in past :func:`detail_zoom` of the overview
COUNTY_SIMPLIFY_DEG = 0.001
#: tolerance of the county outlines a map of the whole province opens with (degrees): 15,500 vertices instead of
#: 43,550, the parks map's frame 0.82 -> 0.67 CPU-seconds in chromium (interleaved A/B) (docs/performance.md, fifteenth session)
COUNTY_OVERVIEW_DEG = 0.004
#: how far coverage simplification moves a border at most, in tolerances (the province's real county outlines:
#: 2.1x at 0.001 degrees, 2.5x at 0.002, 3.0x at 0.004; tests/maps/test_county_detail.py holds it)
SIMPLIFY_REACH = 3.0
#: the most pixels a coarse outline may be off before its detail is drawn
DETAIL_PX = 2.0


def detail_zoom(tolerance_deg: float, px: float = DETAIL_PX) -> float:
    """The zoom from which an outline simplified by ``tolerance_deg`` may be off by more than ``px`` pixels (its
    border moved by up to :data:`SIMPLIFY_REACH` tolerances; 256 px tiles: a pixel spans 360 / (256 * 2**zoom)
    degrees of longitude, and less of latitude). For the overview: zoom 7.9, so a province map opens coarse in a
    frame up to about 1,000 px wide (fitted at zoom 7.5-7.75) and is drawn in detail at the first zoom in."""
    return math.log2(360.0 * px / (256.0 * SIMPLIFY_REACH * tolerance_deg))


def add_counties(m: folium.Map, ds: Dataset, opts: MapOptions, *, style: Callable[[pd.Series], Mapping] | None = None,
                 extra_rows: Callable[[pd.Series], list[tuple[str, Any]]] | None = None,
                 name: str | None = None, counties: gpd.GeoDataFrame | None = None,
                 near: Any = None) -> GeoJsonLayer:
    """County boundaries as the base layer: less-developed counties filled, the others white.

    ``near`` (a shapely geometry in the counties' CRS): only the counties that touch it are drawn, each exactly as
    the whole province's layer draws it (simplified over the whole coverage, so their shared borders stay shared):
    a map of one place need not make the browser parse and draw the province's 90 outlines (about 940 kB)."""
    lang = opts.lang
    c = (counties if counties is not None else ds.counties).reset_index(drop=True)
    detail = display_geojson(c, opts, COUNTY_SIMPLIFY_DEG)
    if near is not None:
        keep = np.asarray(c.geometry.intersects(near), dtype=bool)
        geometries = [g for g, k in zip(detail, keep) if k]
        c = c[keep].reset_index(drop=True)
    else:
        geometries = display_geojson(c, opts, COUNTY_OVERVIEW_DEG)

    def default_style(row):
        return LESS_DEVELOPED_STYLE if bool(row.get("less_developed")) else COUNTY_STYLE

    def rows(row):
        out = [(t("city", lang), row.get("city")), (t("code", lang), row.get("code")),
               (t("less_developed", lang), t("yes", lang) if bool(row.get("less_developed")) else t("no", lang))]
        return out + (extra_rows(row) if extra_rows else [])

    layer = geojson_layer(
        c, opts, name=name or t("counties", lang), key="counties", style=style or default_style,
        tip=c["name"], title=c["name"], rows=[rows(r) for _, r in c.iterrows()], geometries=geometries,
    )
    if near is None:
        # the province's outlines open coarse and are drawn again in detail the first time the map is zoomed in
        # far enough for the coarse ones to be off by DETAIL_PX pixels; the detail is parsed only then
        layer.add_child(Script("PARKPLAN.detailOnZoom(__MAP__, function () { return __DATA__; }, "
                               f"{detail_zoom(COUNTY_OVERVIEW_DEG):.3f});",
                               data=_SafeJson("[" + ",".join(g if g is not None else "null" for g in detail) + "]")))
    layer.add_to(m)
    return layer


def search_source(labels, lon, lat, opts: MapOptions, kind: str = "") -> dict:
    """A column-wise search index entry for :func:`finish_map` (coordinates shifted for display)."""
    x, y = opts.shift_xy(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return {"label": [None if clean(v) is None else str(v) for v in labels],
            "lon": np.round(x, 5).tolist(), "lat": np.round(y, 5).tolist(), "kind": kind}


def add_legend(m: folium.Map, sections: "list[dict] | Slot") -> None:
    """``sections``: ``[{"title": str, "items": [{"color", "label", "shape": box|dot|line}]}]``."""
    m.add_child(Script("PARKPLAN.legend(__MAP__, __DATA__);", data=sections))


def county_legend(lang: str) -> dict:
    return {"title": t("counties", lang), "items": [
        {"color": LESS_DEVELOPED_STYLE["fillColor"], "label": t("less_developed", lang)},
        {"color": COUNTY_STYLE["fillColor"], "label": t("other_counties", lang)},
    ]}


def search_data(search: Sequence[dict | str], lang: str) -> dict:
    """The search control's data for ``search`` (its JavaScript variables left out: they are code)."""
    return {"sources": [s for s in search if not isinstance(s, str)], "placeholder": t("search", lang),
            "noMatch": t("no_match", lang)}


def finish_map(m: folium.Map, opts: MapOptions, *, legend: "list[dict] | Slot",
               search: "Sequence[dict | str] | Slot") -> folium.Map:
    """Add the shared controls (fullscreen, measure, search, legend, layer control) and localise assets.

    ``search`` items are dicts from :func:`search_source` or names of JS variables holding such columns;
    ``legend`` and ``search`` may be :class:`Slot` s of a template (``search``: :func:`search_data`'s value).
    """
    lang = opts.lang
    _Fullscreen(position="topleft", title=t("fullscreen", lang), title_cancel=t("exit_fullscreen", lang)).add_to(m)
    labels = {k: t(f"measure_{k}", lang) for k in ("title", "finish", "clear", "distance", "area", "hint")}
    m.add_child(Script("new L.Control.PPMeasure(__DATA__).addTo(__MAP__);", data=labels))
    variables = [] if isinstance(search, Slot) else [s for s in search if isinstance(s, str)]
    if not all(_IDENT.fullmatch(v) for v in variables):
        raise ValueError(f"search sources: JavaScript variable names only, not {variables!r}")
    m.add_child(Script(
        "new L.Control.PPSearch(__DATA__.sources.concat([" + ", ".join(variables) + "]), "
        "{placeholder: __DATA__.placeholder, noMatch: __DATA__.noMatch, position: 'topleft'}).addTo(__MAP__);",
        data=search if isinstance(search, Slot) else search_data(search, lang)))
    add_legend(m, legend)
    _LayerControl(collapsed=False, position="topright").add_to(m)
    # Leaflet writes its own controls' titles in English: the zoom buttons, the layer control's toggle, the
    # attribution's link (labels from maps.i18n; written as text, the prefix is our own fixed markup)
    m.add_child(Script(
        "(function () { var pp_c = __MAP__.getContainer(), pp_l = __DATA__;"
        " [['.leaflet-control-zoom-in', pp_l.zoom_in], ['.leaflet-control-zoom-out', pp_l.zoom_out],"
        "  ['.leaflet-control-layers-toggle', pp_l.layers]].forEach(function (p) {"
        "   pp_c.querySelectorAll(p[0]).forEach(function (el) { el.title = p[1]; el.setAttribute('aria-label', p[1]); }); });"
        " if (__MAP__.attributionControl) { var pp_a = document.createElement('a'); pp_a.href = 'https://leafletjs.com';"
        "   pp_a.title = pp_l.leaflet_title; pp_a.textContent = 'Leaflet'; __MAP__.attributionControl.setPrefix(pp_a.outerHTML); } })();",
        data={k: t(k, lang) for k in ("zoom_in", "zoom_out", "layers", "leaflet_title")}))
    m.add_child(Script("PARKPLAN.ready = true;"))
    return localize(m)


def render_html(m: folium.Map) -> str:
    """The map page as HTML (assets linked under ``/maps/assets/``)."""
    return m.get_root().render()


_SCRIPT_TAG = re.compile(r"<script(?=[\s>])")


@dataclass(frozen=True)
class MapPage:
    """A rendered map split at its ``<script`` tags, so that each response can carry its own CSP
    nonce without rendering again: :meth:`html` joins the parts with ``nonce="..."``. Every ``<script``
    in the page was written by the renderer: data cannot make one (``<`` is escaped in its JSON and
    in the title)."""

    parts: tuple[str, ...]

    @property
    def n_scripts(self) -> int:
        return len(self.parts) - 1

    def html(self, nonce: str | None = None) -> str:
        if nonce is None:
            return "<script".join(self.parts)
        if not re.fullmatch(r"[A-Za-z0-9+/=_-]{16,}", nonce):
            raise ValueError("nonce: at least 16 base64 characters")
        return f'<script nonce="{nonce}"'.join(self.parts)


_JSON_BLOCK = re.compile(r'<script(?: nonce="[^"]*")? type="application/json" id="([A-Za-z0-9_]+)">(.*?)</script>', re.S)


def json_blocks(html: str) -> dict[str, Any]:
    """The data of a rendered map page: JSON block id -> parsed value (what ``PARKPLAN.data`` reads)."""
    return {m.group(1): json.loads(m.group(2)) for m in _JSON_BLOCK.finditer(html)}


def render_page(m: folium.Map) -> MapPage:
    """The map rendered once, ready for per-response nonces (:class:`MapPage`)."""
    return MapPage(tuple(_SCRIPT_TAG.split(render_html(m))))


@dataclass(frozen=True)
class MapTemplate:
    """A map rendered once with :class:`Slot` s where a request's data go: what does not depend on the request
    (counties, places, controls, scripts, the parks' search) is written once; :meth:`page` writes each slot's
    value as the map built with that value would hold it (:meth:`Slot.format`). ``parts``: the page split at its
    ``<script`` tags (as :class:`MapPage`), each part a sequence of text and slots."""

    parts: tuple[tuple[str | Slot, ...], ...]
    slots: tuple[Slot, ...]

    @classmethod
    def from_map(cls, m: folium.Map, slots: Iterable[Slot]) -> "MapTemplate":
        """The template of ``m``, a map built with ``slots`` in place of a request's values: each slot must be in
        the page exactly once."""
        slots = tuple(slots)
        html = render_html(m)
        by_token: dict[str, Slot] = {}
        for slot in slots:
            token = f'"{slot.token}"' if slot.kind == "name" else slot.token  # tojson quotes a layer's name
            if html.count(slot.token) != 1 or html.count(token) != 1:
                raise ValueError(f"slot {slot.name!r}: {html.count(slot.token)} times in the page, not once")
            by_token[token] = slot
        pattern = re.compile("|".join(re.escape(t) for t in sorted(by_token, key=len, reverse=True))) if slots \
            else None
        parts: list[tuple[str | Slot, ...]] = []
        for part in _SCRIPT_TAG.split(html):
            if pattern is None:
                parts.append((part,))
                continue
            segments: list[str | Slot] = []
            pos = 0
            for hit in pattern.finditer(part):
                segments += [part[pos:hit.start()], by_token[hit.group(0)]]
                pos = hit.end()
            segments.append(part[pos:])
            parts.append(tuple(segments))
        return cls(tuple(parts), slots)

    def texts(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Each slot's text for ``values`` (slot name -> value; every slot needs one)."""
        missing = [s.name for s in self.slots if s.name not in values]
        if missing:
            raise ValueError(f"map template: no value for slot(s) {missing}")
        return {s.name: s.format(values[s.name]) for s in self.slots}

    def page(self, values: Mapping[str, Any]) -> MapPage:
        """The page with ``values`` in its slots: the :class:`MapPage` the map built with them renders."""
        texts = self.texts(values)
        return MapPage(tuple("".join(texts[x.name] if isinstance(x, Slot) else x for x in part)
                             for part in self.parts))
