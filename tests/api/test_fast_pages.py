"""Collection pages served from pre-serialised feature bytes (issue 15): the same features as geopandas gives,
the same pages under filters and bbox, each chunk of features serialised once per dataset version."""

from __future__ import annotations

import json
import threading

import pytest
import shapely
from shapely.geometry import shape

from api.routes import ogc


def _reference(api, cid: str, rows) -> list[dict]:
    """The features at ``rows`` as geopandas writes GeoJSON (``to_geo_dict``, nulls for missing values)."""
    frame = ogc._layer(api.app.state.parkplan.dataset, cid).to_crs(4326).reset_index(drop=True)
    return frame.iloc[list(rows)].to_geo_dict(na="null", drop_id=True)["features"]


def _same_feature(served: dict, ref: dict, id_field: str) -> None:
    assert served["type"] == "Feature"
    assert served["id"] == str(ref["properties"][id_field])
    assert shape(served["geometry"]).equals_exact(shape(ref["geometry"]), tolerance=0)
    assert served["properties"].keys() == ref["properties"].keys()
    for k, v in ref["properties"].items():
        got = served["properties"][k]
        if isinstance(v, float):
            assert got == pytest.approx(v), k
        else:
            assert got == v, k


@pytest.mark.parametrize("cid,role,offset,limit", [
    ("parks", "viewer", 0, 50),
    ("parks", "viewer", 190, 50),  # the last page: shorter
    ("counties", "viewer", 3, 17),
    ("enterprises", "analyst", ogc._CHUNK - 7, 20),  # across a chunk boundary
    ("projects", "analyst", 40, 9),
])
def test_pages_have_the_features_geopandas_writes(api, cid, role, offset, limit):
    body = api.get(f"/collections/{cid}/items?offset={offset}&limit={limit}", as_=role).json()
    n = len(ogc._layer(api.app.state.parkplan.dataset, cid))
    rows = range(min(offset, n), min(offset + limit, n))
    assert body["numberMatched"] == n and body["numberReturned"] == len(rows)
    for served, ref in zip(body["features"], _reference(api, cid, rows), strict=True):
        _same_feature(served, ref, ogc.COLLECTIONS[cid].id_field)


def test_offset_past_the_end_is_an_empty_page(api, dataset):
    body = api.get(f"/collections/parks/items?offset={len(dataset.parks) + 5}", as_="viewer").json()
    assert body["features"] == [] and body["numberReturned"] == 0 and body["numberMatched"] == len(dataset.parks)
    assert "next" not in {link["rel"] for link in body["links"]}


def test_filtered_and_bbox_pages_follow_the_frame_order(api):
    ds = api.app.state.parkplan.dataset
    ent = ds.enterprises.to_crs(4326).reset_index(drop=True)
    box = (120.0, 29.0, 121.5, 30.5)
    want = ent[ent.intersects(shapely.box(*box)) & (ent["sector"] == "textiles")]
    assert len(want) > 12
    url = "/collections/enterprises/items?sector=textiles&limit=5&offset=7&bbox=" + ",".join(map(str, box))
    body = api.get(url, as_="analyst").json()
    assert body["numberMatched"] == len(want)
    ref = ent.loc[want.index[7:12]].to_geo_dict(na="null", drop_id=True)["features"]
    for served, r in zip(body["features"], ref, strict=True):
        _same_feature(served, r, "enterprise_id")


def test_single_item_is_the_page_feature_with_links(api, dataset):
    page = api.get("/collections/parks/items?offset=11&limit=1", as_="viewer").json()["features"][0]
    one = api.get(f"/collections/parks/items/{page['id']}", as_="viewer").json()
    links = one.pop("links")
    assert one == page
    assert [link["rel"] for link in links] == ["self", "collection"]
    assert links[0]["href"].endswith(f"/collections/parks/items/{page['id']}")


def test_the_body_is_compact_json_in_the_keys_order_of_before(api):
    r = api.get("/collections/parks/items?limit=2", as_="viewer")
    body = json.loads(r.content)
    assert list(body) == ["type", "features", "numberMatched", "numberReturned", "timeStamp", "links"]
    assert list(body["features"][0]) == ["type", "id", "geometry", "properties"]
    assert r.headers["content-type"] == "application/geo+json"


def test_each_chunk_is_serialised_once_under_32_threads(api, monkeypatch):
    """32 threads ask for the pages of a collection built afresh: every chunk of features is encoded once."""
    state = api.app.state.parkplan
    state.features.discard(state.key("ogc", "enterprises"))
    calls: list[tuple[int, int]] = []
    real = ogc._features

    def counting(col, rows):
        calls.append((rows.start, rows.stop))
        return real(col, rows)

    monkeypatch.setattr(ogc, "_features", counting)
    errors = []
    bodies: dict[int, list] = {}

    def fetch(i):
        try:
            r = api.get(f"/collections/enterprises/items?limit=100&offset={(i % 8) * 100}", as_="analyst")
            assert r.status_code == 200, r.text
            bodies[i] = [f["id"] for f in r.json()["features"]]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(calls) == len(set(calls)) == len({o // ogc._CHUNK for o in range(0, 800)})
    ids = state.dataset.enterprises["enterprise_id"].astype(str).tolist()
    for i, got in bodies.items():
        assert got == ids[(i % 8) * 100: (i % 8) * 100 + 100]
