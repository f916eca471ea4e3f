"""The map builders without a browser: features drawn, escaping of hostile names, zh/en labels,
assets only from /maps/assets, options checked."""

from __future__ import annotations

import json
import re

import folium
import pytest

from maps import MAP_NAMES, MapError, MapOptions, build_map, inline_assets, render_html
from maps.assets import ASSET_PREFIX, AssetError, localize, read_asset, resolve_asset
from maps.base import GeoJsonLayer, js_json, json_blocks

from .conftest import HOSTILE, HOSTILE_SCRIPT


def _geojson_layers(m: folium.Map) -> dict[str, list[GeoJsonLayer]]:
    """GeoJSON layers of a map by their PARKPLAN registry key."""
    out: dict[str, list] = {}
    for child in m._children.values():
        if isinstance(child, GeoJsonLayer):
            out.setdefault(child.key, []).append(child)
    return out


def _ent_data(html: str) -> dict:
    """The enterprise columns of an enterprises map page (its JSON block, decoded as the page does)."""
    from maps.columns import decode_columns

    (found,) = [b["data"] for b in json_blocks(html).values() if isinstance(b, dict) and "meta" in b]
    return decode_columns(found)


def _flows(html: str) -> list:
    """The flows of a transfers map page (its JSON block)."""
    (found,) = [b for b in json_blocks(html).values() if isinstance(b, list) and b and "from" in b[0]] or [[]]
    return found


def _candidates(ds, statuses=("pending", "approved", "rejected")) -> list[dict]:
    """Transfer candidates from two developed counties into the first park of a less-developed one
    (the hostile-named enterprises among them)."""
    counties = ds.counties
    ld = counties[counties["less_developed"]]["code"].tolist()
    origin = counties[~counties["less_developed"]]["code"].tolist()
    park = ds.parks[ds.parks["county_code"].isin(ld)].iloc[0]
    ids = ds.enterprises["enterprise_id"].astype(str).tolist()
    return [{"candidate_id": f"C{i}", "enterprise_id": ids[i], "origin_county_code": origin[i % 2],
             "destination_county_code": park["county_code"], "park_id": park["park_id"], "status": s}
            for i, s in enumerate(statuses)]


def _n_features(layers) -> int:
    return sum(len(layer.features) for layer in layers)


@pytest.fixture(scope="module")
def built(hostile_prepared):
    """Every map built once over the hostile dataset (zh), with its HTML."""
    from parks.suitability import context_from_dataset

    ctx = context_from_dataset(hostile_prepared)
    eid = str(hostile_prepared.enterprises["enterprise_id"].iloc[0])
    out = {}
    for name in MAP_NAMES:
        m = build_map(name, hostile_prepared, enterprise_id=eid, suitability_context=ctx,
                      candidates=_candidates(hostile_prepared))
        out[name] = (m, render_html(m))
    return out


@pytest.mark.parametrize("name", MAP_NAMES)
def test_counties_drawn_and_assets_local(built, hostile_prepared, name):
    m, html = built[name]
    layers = _geojson_layers(m)
    assert _n_features(layers["counties"]) == len(hostile_prepared.counties)
    links = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert links and all(u.startswith(ASSET_PREFIX) for u in links), links
    assert "cdn" not in " ".join(links)
    for url in links:  # every link resolves to an installed file
        assert read_asset(url.removeprefix(ASSET_PREFIX))


@pytest.mark.parametrize("name", MAP_NAMES)
def test_hostile_names_never_reach_html(built, name):
    _, html = built[name]
    assert HOSTILE not in html
    assert "<img" not in html
    assert HOSTILE_SCRIPT not in html
    assert html.count("</script>") == html.count("<script")  # no script closed early by data


def test_parks_map_features(built, hostile_prepared):
    m, _ = built["parks"]
    layers = _geojson_layers(m)
    assert _n_features(layers["parks"]) == len(hostile_prepared.parks)
    by_kind = hostile_prepared.parks["kind"].value_counts()
    assert sorted(len(layer.features) for layer in layers["parks"]) == sorted(by_kind.tolist())
    # the popup carries the park profile; the hostile name is in the data as JSON-escaped text
    feats = [f for layer in layers["parks"] for f in layer.features]
    hostile = [f for f in feats if f["properties"]["_title"] == HOSTILE]
    assert len(hostile) == 1
    rows = dict(hostile[0]["properties"]["_rows"])
    assert {"企业数", "从业人员", "主导产业", "可用土地（公顷）", "项目数"} <= set(rows)


def test_parks_choropleth_classes(hostile_prepared):
    from maps.parks_map import CHOROPLETH_COLORS, parks_map

    m = parks_map(hostile_prepared, metric="employees", k=4)
    feats = [f for layer in _geojson_layers(m)["parks"] for f in layer.features]
    colors = {f["properties"]["_style"]["fillColor"] for f in feats}
    assert len(feats) == len(hostile_prepared.parks)
    assert colors <= set(CHOROPLETH_COLORS) and len(colors) == 4
    with pytest.raises(MapError, match="metric 'nope' not accepted"):
        parks_map(hostile_prepared, metric="nope")


def test_enterprises_map_columns(built, hostile_prepared):
    _, html = built["enterprises"]
    data = _ent_data(html)
    n = len(hostile_prepared.enterprises)
    assert {len(v) for v in data.values()} == {n}
    assert HOSTILE in data["label"] and HOSTILE_SCRIPT in data["label"]  # text, decoded from \u003c
    assert html.count("PARKPLAN.register(\"enterprises\"") == hostile_prepared.enterprises["sector"].nunique()
    assert "L.circleMarker" not in html.split("var pp_ent_data")[1][:2000]  # markers are made in JS, not one per line


def test_enterprises_map_sector_filter(hostile_prepared):
    m = build_map("enterprises", hostile_prepared, sector="textiles", lang="en")
    html = render_html(m)
    data = _ent_data(html)
    assert len(data["id"]) == int((hostile_prepared.enterprises["sector"] == "textiles").sum())
    assert html.count("PARKPLAN.register(\"enterprises\"") == 1
    with pytest.raises(MapError, match="sector 'txtile' not accepted; accepted: information"):
        build_map("enterprises", hostile_prepared, sector="txtile")


def test_suitability_map(built, hostile_prepared):
    m, html = built["suitability"]
    layers = _geojson_layers(m)
    assert _n_features(layers.get("candidates", [])) + _n_features(layers.get("excluded", [])) == len(hostile_prepared.parks)
    assert "pp-site" in html and "pp-line" in html


def test_transfers_map_county_filter(hostile_prepared):
    from maps.transfers_map import transfers_map

    cands = _candidates(hostile_prepared)
    origin = sorted({c["origin_county_code"] for c in cands})
    m = transfers_map(hostile_prepared, cands)
    html = render_html(m)
    flows = _flows(html)
    assert sorted(f["n"] for f in flows) == [1, 2]
    one = [c for c in cands if c["origin_county_code"] == origin[0]]
    m = transfers_map(hostile_prepared, cands, county=origin[0])
    flows = _flows(render_html(m))
    assert [f["n"] for f in flows] == [len(one)]
    with pytest.raises(MapError, match="lack column"):
        transfers_map(hostile_prepared, [{"candidate_id": "x"}])


@pytest.mark.parametrize("lang,expect,absent", [("zh", ["县（市、区）", "欠发达县", "按名称搜索"], ["Counties"]),
                                                ("en", ["Counties", "Less-developed counties", "Search by name"], ["欠发达县"])])
def test_labels_zh_en(hostile_prepared, lang, expect, absent):
    html = render_html(build_map("parks", hostile_prepared, lang=lang))
    for text in expect:
        assert text in html or js_json(text)[1:-1] in html
    for text in absent:
        assert text not in html


def test_options_checked():
    with pytest.raises(ValueError, match="lang 'fr' not accepted; accepted: zh, en"):
        MapOptions(lang="fr")
    with pytest.raises(MapError, match="tiles 'google' not accepted"):
        MapOptions(tiles="google")
    with pytest.raises(MapError, match="Tianditu key"):
        MapOptions(tiles="tianditu")


def test_amap_tiles_shift_to_gcj02(hostile_prepared):
    from geodata.crs import wgs84_to_gcj02

    opts = MapOptions(tiles="amap")
    m = build_map("parks", hostile_prepared, opts=opts)
    html = render_html(m)
    assert "autonavi.com" in html  # the tile layer is there only when asked for
    feats = _geojson_layers(m)["counties"][0].features
    plain = _geojson_layers(build_map("parks", hostile_prepared))["counties"][0].features
    (x0, y0) = plain[0]["geometry"]["coordinates"][0][0][0] if plain[0]["geometry"]["type"] == "MultiPolygon" \
        else plain[0]["geometry"]["coordinates"][0][0]
    gx, gy = wgs84_to_gcj02([x0], [y0])
    shifted = json.dumps(feats[0]["geometry"])
    assert f"{round(float(gx[0]), 5)}"[:7] in shifted and f"{round(float(gy[0]), 5)}"[:6] in shifted


def test_unknown_cdn_link_refused():
    m = folium.Map(tiles=None)
    from folium.plugins import Draw

    Draw().add_to(m)
    with pytest.raises(AssetError, match="has no local copy"):
        localize(m)


@pytest.mark.parametrize("path", ["../maps/base.py", "leaflet/../../../../etc/passwd", "/etc/passwd",
                                  "leaflet/images/../../x.js", "leaflet\\leaflet.js", "nope/leaflet.js",
                                  "leaflet/leaflet.py", "plugins/evil.js", "leaflet", ""])
def test_asset_whitelist_refuses(path):
    with pytest.raises(AssetError):
        resolve_asset(path)


def test_assets_from_installed_packages():
    import xstatic.pkg.leaflet as xl

    assert resolve_asset("leaflet/leaflet.js").read_bytes() == (__import__("pathlib").Path(xl.BASE_DIR) / "leaflet.js").read_bytes()
    assert "L.Control.FullScreen" in read_asset("plugins/Control.FullScreen.min.js").decode() or \
        "fullscreen" in read_asset("plugins/Control.FullScreen.min.js").decode().lower()
    assert "heatLayer" in read_asset("plugins/leaflet_heat.min.js").decode()


def test_inline_assets_self_contained(built):
    _, html = built["parks"]
    page = inline_assets(html)
    assert ASSET_PREFIX not in page
    assert not re.findall(r'<(?:script|link|img)[^>]*(?:src|href)="https?://', page)
    assert "url(images/" not in page  # Leaflet's CSS images became data: URIs
    # no stylesheet the file would have to fetch: an @import (parkplan.css imports the served web font)
    # is dropped, never turned into a data: stylesheet that the file's CSP refuses
    assert "@import" not in page and "url(data:,)" not in page


def test_county_filters(hostile_prepared):
    ent = hostile_prepared.enterprises
    code = ent["county_code"].value_counts().index[0]
    html = render_html(build_map("enterprises", hostile_prepared, county=code))
    data = _ent_data(html)
    assert len(data["id"]) == int((ent["county_code"] == code).sum())
    m = build_map("parks", hostile_prepared, county=code)
    n_parks = int((hostile_prepared.parks["county_code"] == code).sum())
    assert _n_features(_geojson_layers(m).get("parks", [])) == n_parks
    with pytest.raises(MapError, match="county '12' not found"):
        build_map("enterprises", hostile_prepared, county="12")


@pytest.mark.parametrize("name", MAP_NAMES)
def test_no_element_is_rendered_twice(built, name):
    """branca renders a MacroElement's output again as a Jinja2 template; every element of a parkplan
    map (after rendering, so with what rendering added) writes its output verbatim instead."""
    from branca.element import MacroElement

    from maps.base import JsLayer, Script, VerbatimMacro

    m, _ = built[name]

    def walk(el):
        yield el
        for child in list(getattr(el, "_children", {}).values()):
            yield from walk(child)

    twice = [type(el).__name__ for el in walk(m.get_root())
             if isinstance(el, MacroElement) and not isinstance(el, (VerbatimMacro, Script, JsLayer))]
    assert twice == []
