"""OGC API - Features core over the dataset: landing, conformance, collections, items, paging, bbox, filters."""

from __future__ import annotations

import shapely
import pytest

PROBLEM = "application/problem+json"


def test_landing_needs_no_login_and_links_the_api(api):
    r = api.get("/", as_=None)
    assert r.status_code == 200
    rels = {link["rel"] for link in r.json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels


def test_landing_html_hook_only_when_html_is_preferred(api):
    """Without a hook, or when JSON is asked for, the landing page is JSON."""
    from fastapi.responses import HTMLResponse

    app = api.app
    before = app.state.landing_html
    try:
        app.state.landing_html = lambda request: HTMLResponse("<p>home</p>")
        assert api.get("/", as_=None, headers={"Accept": "text/html,application/xhtml+xml"}).text == "<p>home</p>"
        assert api.get("/", as_=None, headers={"Accept": "application/json"}).json()["title"] == "parkplan"
        assert api.get("/?f=json", as_=None, headers={"Accept": "text/html"}).json()["title"] == "parkplan"
    finally:
        app.state.landing_html = before


def test_conformance_and_collections_need_a_token(api):
    assert api.get("/conformance", as_=None).status_code == 401
    r = api.get("/conformance", as_="viewer")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in r.json()["conformsTo"]


@pytest.mark.parametrize("role,visible", [("viewer", {"parks", "counties"}),
                                          ("analyst", {"parks", "counties", "enterprises", "projects"})])
def test_collections_listed_by_role(api, role, visible):
    r = api.get("/collections", as_=role)
    assert {c["id"] for c in r.json()["collections"]} == visible


@pytest.mark.parametrize("cid", ["enterprises", "projects"])
def test_enterprise_level_collections_are_403_for_viewers(api, cid):
    for path in (f"/collections/{cid}", f"/collections/{cid}/items", f"/collections/{cid}/items/x"):
        r = api.get(path, as_="viewer")
        assert r.status_code == 403 and r.headers["content-type"] == PROBLEM


def test_items_are_geojson_with_counts_and_links(api, dataset):
    r = api.get("/collections/parks/items?limit=7&offset=14", as_="viewer")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == len(dataset.parks) and body["numberReturned"] == 7
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert "offset=21" in rels["next"] and "offset=7" in rels["prev"]
    f = body["features"][0]
    assert f["id"] == f["properties"]["park_id"] and f["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_paging_walks_every_feature_once(api, dataset):
    ids, url = [], "/collections/counties/items?limit=25"
    while url:
        body = api.get(url, as_="viewer").json()
        ids += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
    assert sorted(ids) == sorted(dataset.counties["code"].astype(str))


def test_limit_above_the_maximum_is_clamped(api):
    body = api.get("/collections/enterprises/items?limit=1000000", as_="analyst").json()
    assert body["numberReturned"] == api.app.state.settings.max_limit


def test_bbox_matches_geopandas(api, dataset):
    box = (120.0, 29.5, 121.0, 30.5)
    body = api.get("/collections/enterprises/items?bbox=" + ",".join(map(str, box)) + "&limit=1000", as_="analyst").json()
    ent = dataset.enterprises.to_crs(4326)
    expected = set(ent.loc[ent.intersects(shapely.box(*box)), "enterprise_id"])
    assert body["numberMatched"] == len(expected) > 0
    assert {f["id"] for f in body["features"]} == expected


def test_property_filters_combine(api, dataset):
    ent = dataset.enterprises
    expected = ent[(ent["sector"] == "textiles") & (ent["size"] == "above") & ent["coastal"]]
    body = api.get("/collections/enterprises/items?sector=textiles&size=above&coastal=true&limit=1000",
                   as_="analyst").json()
    assert body["numberMatched"] == len(expected)
    assert {f["id"] for f in body["features"]} == set(expected["enterprise_id"])


def test_projects_are_located_at_their_enterprise(api, dataset):
    body = api.get("/collections/projects/items?limit=1", as_="analyst").json()
    f = body["features"][0]
    site = dataset.enterprises.to_crs(4326).set_index("enterprise_id").geometry[f["properties"]["enterprise_id"]]
    assert f["geometry"]["coordinates"] == pytest.approx([site.x, site.y])


def test_single_item_and_unknown_item(api, dataset):
    pid = str(dataset.parks["park_id"].iloc[3])
    r = api.get(f"/collections/parks/items/{pid}", as_="viewer")
    assert r.status_code == 200 and r.json()["id"] == pid
    r = api.get("/collections/parks/items/NO-SUCH-PARK", as_="viewer")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM and "NO-SUCH-PARK" in r.json()["detail"]
    r = api.get("/collections/nonsense/items", as_="viewer")
    assert r.status_code == 404 and "accepted: parks" in r.json()["detail"]


@pytest.mark.parametrize("bbox, status", [
    ("1,2,3", 422), ("a,b,c,d", 422), ("nan,1,2,3", 422), ("1,2,3,4,5", 422),  # not the schema's pattern
    ("121,30,120,31", 400), ("0,95,1,96", 400),  # the pattern's, but not a valid box (what JSON Schema cannot say)
])
def test_invalid_bbox_is_refused(api, bbox, status):
    r = api.get(f"/collections/parks/items?bbox={bbox}", as_="viewer")
    assert r.status_code == status and r.headers["content-type"] == PROBLEM
    assert "bbox" in r.json()["detail"]


def test_unknown_parameter_is_400_listing_the_accepted(api):
    r = api.get("/collections/parks/items?colour=red", as_="viewer")
    assert r.status_code == 400 and "'colour'" in r.json()["detail"] and "park_id" in r.json()["detail"]
    r = api.get("/collections/parks/items?area_ha=abc", as_="viewer")
    assert r.status_code == 400 and "number" in r.json()["detail"]
