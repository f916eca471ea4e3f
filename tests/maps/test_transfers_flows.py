"""The transfers map: flows aggregated between counties (at most one arc per county pair), width by
firms or jobs, colour by review status with undecided pairs dashed, an office's view fitted to its
origins and destinations."""

from __future__ import annotations

import pytest

from maps.base import json_blocks, render_html
from maps.flows_map import arc


def _flows(m) -> list:
    (found,) = [b for b in json_blocks(render_html(m)).values() if isinstance(b, list) and b and "from" in b[0]] or [[]]
    return found


def _bounds(m) -> list:
    return next(b for b in json_blocks(render_html(m)).values()
                if isinstance(b, list) and len(b) == 2 and all(isinstance(x, list) and len(x) == 2 for x in b))


@pytest.fixture(scope="module")
def cands(hostile_prepared):
    ds = hostile_prepared
    ld = ds.counties[ds.counties["less_developed"]]["code"].tolist()
    parks = ds.parks[ds.parks["county_code"].isin(ld)]
    dests = parks.drop_duplicates("county_code").head(2)
    origins = ds.counties[~ds.counties["less_developed"]]["code"].tolist()[:3]
    ids = ds.enterprises["enterprise_id"].astype(str).tolist()
    out, i = [], 0
    # many firms per pair, several parks of a destination, every status
    for o in origins:
        for _, p in dests.iterrows():
            for s in ("pending", "approved", "approved", "rejected", "needs_info"):
                out.append({"candidate_id": f"C{i}", "enterprise_id": ids[i], "origin_county_code": o,
                            "destination_county_code": p["county_code"], "park_id": p["park_id"], "status": s})
                i += 1
    return out


def test_one_arc_per_county_pair_with_all_its_firms(hostile_prepared, cands):
    from maps.transfers_map import STATUS_COLORS, transfers_map

    flows = _flows(transfers_map(hostile_prepared, cands))
    pairs = {(c["origin_county_code"], c["destination_county_code"]) for c in cands}
    assert len(flows) == len(pairs)  # at most (and here exactly) one arc per county pair
    assert sum(f["n"] for f in flows) == len(cands)
    for f in flows:
        assert f["path"] == arc(f["from"], f["to"]) and len(f["path"]) > 2  # bent arcs, from county to county
        assert f["color"] == STATUS_COLORS["approved"] and f["dash"] is None  # most frequent: approved, decided


def test_width_by_jobs_and_undecided_dashed(hostile_prepared, cands):
    from maps.transfers_map import transfers_map

    pending = [dict(c, status="pending") for c in cands]
    flows = _flows(transfers_map(hostile_prepared, pending, width_by="jobs"))
    assert all(f["dash"] == "6 4" for f in flows)
    emp = dict(zip(hostile_prepared.enterprises["enterprise_id"].astype(str), hostile_prepared.enterprises["employees"]))
    jobs = {}
    for c in cands:
        k = (c["origin_county_code"], c["destination_county_code"])
        jobs[k] = jobs.get(k, 0) + float(emp[c["enterprise_id"]])
    by_width = sorted(flows, key=lambda f: f["width"])
    names = dict(zip(hostile_prepared.counties["code"].astype(str), hostile_prepared.counties["name"].astype(str)))
    order = sorted(jobs, key=jobs.get)
    assert [f["title"] for f in by_width] == [f"{names[o]} → {names[d]}" for o, d in order]
    with pytest.raises(Exception, match="accepted: firms, jobs"):
        transfers_map(hostile_prepared, cands, width_by="area")


def test_office_view_fits_its_origins_and_destinations(hostile_prepared, cands):
    from maps.transfers_map import transfers_map

    office = cands[0]["origin_county_code"]
    mine = [c for c in cands if office in (c["origin_county_code"], c["destination_county_code"])]
    involved = {c["origin_county_code"] for c in mine} | {c["destination_county_code"] for c in mine}
    frame = hostile_prepared.counties[hostile_prepared.counties["code"].astype(str).isin(involved)].to_crs(4326)
    minx, miny, maxx, maxy = frame.total_bounds
    (s, w), (n, e) = _bounds(transfers_map(hostile_prepared, cands, county=office))
    assert s <= miny + 1e-6 and w <= minx + 1e-6 and n >= maxy - 1e-6 and e >= maxx - 1e-6
    province = hostile_prepared.counties.to_crs(4326).total_bounds
    assert (n - s) < (province[3] - province[1])  # not the whole province


def test_candidate_map_fits_site_and_both_parks_with_room_for_labels(hostile_prepared, cands):
    from maps.transfers_map import candidate_map

    ds = hostile_prepared
    c = dict(cands[0])
    second = ds.parks[ds.parks["park_id"] != c["park_id"]].iloc[0]
    ent = ds.enterprises[ds.enterprises["enterprise_id"].astype(str) == c["enterprise_id"]].iloc[0]
    c["snapshot"] = {"alternative": {"park_id": second["park_id"], "score": 0.5, "county_code": second["county_code"],
                                     "rank": 2},
                     "enterprise": {"lon": float(ent.geometry.x), "lat": float(ent.geometry.y)}}
    (s, w), (n, e) = _bounds(candidate_map(ds, c))
    parks = ds.parks[ds.parks["park_id"].isin([c["park_id"], second["park_id"]])].to_crs(4326)
    minx, miny, maxx, maxy = parks.total_bounds
    minx, maxx = min(minx, ent.geometry.x), max(maxx, ent.geometry.x)
    miny, maxy = min(miny, ent.geometry.y), max(maxy, ent.geometry.y)
    # everything inside, with a margin of at least a tenth of the extent on each side
    mx, my = 0.1 * (maxx - minx), 0.1 * (maxy - miny)
    assert w <= minx - mx and e >= maxx + mx and s <= miny - my and n >= maxy + my


def _county_features(m) -> list[dict]:
    return next(b for b in json_blocks(render_html(m)).values()
                if isinstance(b, dict) and b.get("features") and "pp-counties" in
                b["features"][0]["properties"]["_style"]["className"])["features"]


def test_candidate_map_draws_the_counties_around_its_view_as_the_province_map_draws_them(hostile_prepared, cands):
    """A candidate's map draws the counties that touch its view (grown by a quarter of its extent), not the
    province's: every county inside the view is there, none far from it, each outline exactly as the province's
    layer draws it (simplified over the whole coverage, so shared borders stay shared)."""
    import geopandas as gpd
    import shapely
    from folium import Map

    from maps.base import MapOptions, add_counties
    from maps.transfers_map import candidate_map

    ds = hostile_prepared
    c = dict(cands[0])
    drawn = _county_features(candidate_map(ds, c))
    whole = Map()
    add_counties(whole, ds, MapOptions())
    # the province's layer opens coarse; its detail (drawn once zoomed in) is what a place's map draws
    detail = next(b for b in json_blocks(render_html(whole)).values() if isinstance(b, list) and len(b) == len(ds.counties))
    province = {f["properties"]["_title"]: detail[int(f["id"])] for f in _county_features(whole)}
    names = [f["properties"]["_title"] for f in drawn]
    assert 0 < len(names) < len(province) and len(set(names)) == len(names)
    for f in drawn:
        assert f["geometry"] == province[f["properties"]["_title"]]
    (s, w), (n, e) = _bounds(candidate_map(ds, c))
    view = shapely.box(w, s, e, n)
    counties = ds.counties.to_crs(4326)
    inside = set(counties[counties.intersects(view)]["name"])
    assert inside <= set(names)  # every county the view shows
    # none beyond the view grown by its extent on every side (the rule grows it by a quarter)
    metric = gpd.GeoSeries([view], crs=4326).to_crs(ds.metric_crs).iloc[0]
    x0, y0, x1, y1 = metric.bounds
    g = max(x1 - x0, y1 - y0)
    far = gpd.GeoSeries([shapely.box(x0 - g, y0 - g, x1 + g, y1 + g)], crs=ds.metric_crs).to_crs(4326).iloc[0]
    assert set(names) <= set(counties[counties.intersects(far)]["name"])
