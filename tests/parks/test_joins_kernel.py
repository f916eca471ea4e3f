"""The point-in-polygon kernel (parks._pointinpolygon) against shapely's STRtree predicate and nearest
queries: the real county outlines and parks, and made-up hard cases (shared edges, vertices, holes,
multipolygons, missing points, equidistant polygons)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_array_equal
from shapely.geometry import MultiPolygon, Polygon, box

from parks._pointinpolygon import GRID_MIN_POINTS, first_polygon, nearest_polygon, polygon_pairs, strip_points


def _ref_pairs(polys, pts, predicate):
    ip, ig = shapely.STRtree(polys).query(pts, predicate=predicate)
    o = np.lexsort((ig, ip))
    return ip[o], ig[o]


def _ref_first(polys, pts, predicate):
    ip, ig = _ref_pairs(polys, pts, predicate)
    out = np.full(len(pts), -1)
    for p, g in zip(ip[::-1], ig[::-1]):  # sorted by (point, polygon): the first one per point wins
        out[p] = g
    return out


def _ref_nearest(polys, pts, todo, max_distance):
    """STRtree.query_nearest, every equally near polygon, the lowest index kept."""
    out_g, out_d = np.full(len(pts), -1), np.full(len(pts), np.nan)
    idx = np.flatnonzero(todo)
    (ip, ig), d = shapely.STRtree(polys).query_nearest(pts[idx], max_distance=max_distance, return_distance=True,
                                                      all_matches=True)
    for p, g, dd in sorted(zip(ip, ig, d), key=lambda t: (t[0], -t[1])):  # the lowest index written last
        out_g[idx[p]], out_d[idx[p]] = g, dd
    return out_g, out_d


@pytest.fixture(scope="module")
def metric(dataset):
    crs = dataset.metric_crs
    return (dataset.enterprises.geometry.to_crs(crs).to_numpy(), dataset.parks.to_crs(crs).geometry.to_numpy(),
            dataset.counties.to_crs(crs).geometry.to_numpy())


@pytest.mark.parametrize("cells", [0, 16, 64])
@pytest.mark.parametrize("predicate,layer", [("within", "parks"), ("intersects", "counties"),
                                             ("within", "counties"), ("intersects", "parks")])
def test_pairs_and_first_hit_equal_strtree_on_the_real_layers(metric, predicate, layer, cells):
    pts, parks, counties = metric
    polys = (parks if layer == "parks" else counties).copy()
    # the enterprises, and points on the county outlines' vertices (shared boundaries)
    ring_xy = shapely.get_coordinates(shapely.boundary(counties[:10]))[::50]
    pts = np.concatenate([pts, shapely.points(ring_xy)])
    sp = strip_points(pts, cells=cells)
    assert (sp.grid is None) == (cells == 0)
    got = polygon_pairs(sp, polys, predicate)
    ref = _ref_pairs(polys, pts, predicate)
    assert_array_equal(got[0], ref[0])
    assert_array_equal(got[1], ref[1])
    assert len(ref[0]) > 0
    assert_array_equal(first_polygon(sp, polys, predicate), _ref_first(polys, pts, predicate))


@pytest.mark.parametrize("cells", [0, 32])
def test_nearest_equals_strtree_on_the_real_parks(metric, cells):
    pts, parks, _ = metric
    sp = strip_points(pts, cells=cells)
    todo = first_polygon(sp, parks, "within") < 0
    got_g, got_d = nearest_polygon(sp, parks, todo, 3000.0)
    ref_g, ref_d = _ref_nearest(parks, pts, todo, 3000.0)
    assert_array_equal(got_g, ref_g)
    np.testing.assert_allclose(got_d, ref_d, rtol=1e-12)
    assert (got_g[todo] >= 0).sum() > 0 and (got_g[~todo] == -1).all()  # not vacuous; only the todo points


HARD = np.array([
    box(0, 0, 10, 10),                                             # 0
    box(10, 0, 20, 10),                                            # 1 shares the edge x=10 with 0
    Polygon([(30, 0), (40, 0), (40, 10), (30, 10)], [[(33, 3), (37, 3), (37, 7), (33, 7)]]),  # 2 with a hole
    MultiPolygon([box(50, 0, 55, 5), box(56, 6, 60, 10)]),         # 3 two parts
    box(34, 4, 36, 6),                                             # 4 inside the hole of 2
    None,                                                          # 5 missing geometry
    box(0, 20, 4, 24),                                             # 6 and 7: equidistant from (5, 26)
    box(6, 20, 10, 24),                                            # 7
], dtype=object)


@pytest.mark.parametrize("cells", [0, 1, 3, 4, 16])
def test_hard_cases_equal_strtree(cells):
    xy = np.array([[10, 5], [0, 0], [5, 5], [10, 10], [35, 5], [33, 5], [55.5, 5], [57, 7], [52, 2], [-1, -1],
                   [45, 5], [5, 26], [5, 22], [np.nan, np.nan], [20, 10.5], [34, 4]], dtype=float)
    pts = shapely.points(xy)
    pts[13] = None
    pts = np.append(pts, shapely.Point())  # an empty point
    polys = HARD.copy()
    present = np.array([g is not None for g in polys])
    sp = strip_points(pts, cells=cells)
    for predicate in ("within", "intersects"):
        # STRtree does not take None polygons: build the reference on the others, map indices back
        ref_ip, ref_ig = _ref_pairs(polys[present], pts, predicate)
        ref_ig = np.flatnonzero(present)[ref_ig]
        got = polygon_pairs(sp, polys, predicate)
        assert_array_equal(got[0], ref_ip)
        assert_array_equal(got[1], ref_ig)
        first = first_polygon(sp, polys, predicate)
        assert first[0] == (-1 if predicate == "within" else 0)  # on the shared edge: the lower index
        assert first[4] == 4 and first[5] == (-1 if predicate == "within" else 2)  # the hole
    todo = first_polygon(sp, polys, "within") < 0
    got_g, got_d = nearest_polygon(sp, polys, todo, 3.0)
    ref_g, ref_d = _ref_nearest(polys[present], pts, todo, 3.0)
    ref_g = np.where(ref_g >= 0, np.flatnonzero(present)[np.maximum(ref_g, 0)], -1)
    assert_array_equal(got_g, ref_g)
    np.testing.assert_allclose(got_d, ref_d)
    assert got_g[11] == 6 and got_d[11] == pytest.approx(np.hypot(1, 2))  # equidistant from 6 and 7: lower index
    assert got_g[13] == -1 and got_g[16] == -1  # missing and empty points match nothing


def test_coordinate_arrays_and_bad_predicate():
    xy = np.array([[5.0, 5.0], [15.0, 5.0], [100.0, 100.0]])
    assert first_polygon(strip_points(xy), HARD[:2].copy(), "within").tolist() == [0, 1, -1]
    with pytest.raises(ValueError, match="predicate 'contains' not accepted; accepted: within, intersects"):
        first_polygon(strip_points(xy), HARD[:2].copy(), "contains")


def test_strips_made_once_give_the_same_joins(dataset):
    from parks.joins import assign_counties, assign_parks, point_strips

    crs = dataset.metric_crs
    pts = dataset.enterprises.geometry.to_crs(crs)
    counties, parks = dataset.counties.to_crs(crs), dataset.parks.to_crs(crs)
    strips = point_strips(pts)
    pd.testing.assert_series_equal(assign_counties(pts, counties, strips=strips), assign_counties(pts, counties))
    pd.testing.assert_frame_equal(assign_parks(pts, parks, strips=strips), assign_parks(pts, parks))
    with pytest.raises(ValueError, match="strips were made for 3,000 points, not these 10"):
        assign_parks(pts.iloc[:10], parks, strips=strips)


def test_the_grid_is_made_for_large_inputs_only():
    rng = np.random.default_rng(3)
    assert strip_points(rng.uniform(0, 1, (1000, 2))).grid is None
    assert strip_points(rng.uniform(0, 1, (GRID_MIN_POINTS - 1, 2))).grid is None
    big = strip_points(rng.uniform(0, 1, (GRID_MIN_POINTS, 2)))
    assert big.grid is not None and big.grid.side == int(np.sqrt(GRID_MIN_POINTS / 64))


def _lattice_polygon(draw, st):
    """A box on the integer lattice, sometimes with a box hole, sometimes two boxes as a multipolygon."""
    x0, y0 = draw(st.integers(0, 8)), draw(st.integers(0, 8))
    w, h = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    kind = draw(st.sampled_from(["box", "hole", "multi"]))
    if kind == "hole" and w >= 3 and h >= 3:
        return Polygon(box(x0, y0, x0 + w, y0 + h).exterior.coords, [box(x0 + 1, y0 + 1, x0 + w - 1, y0 + h - 1).exterior.coords])
    if kind == "multi":
        return MultiPolygon([box(x0, y0, x0 + w, y0 + h), box(x0 + w + 1, y0, x0 + w + 2, y0 + 1)])
    return box(x0, y0, x0 + w, y0 + h)


def test_first_polygon_with_any_grid_equals_strtree_on_lattice_cases():
    """Random overlapping polygons on the integer lattice (shared edges, holes, multipolygons) and points
    on the lattice and half-lattice (on edges, vertices and cell boundaries): the first polygon with and
    without the cell grid, against STRtree."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @st.composite
    def case(draw):
        polys = np.array([_lattice_polygon(draw, st) for _ in range(draw(st.integers(1, 6)))], dtype=object)
        coords = draw(st.lists(st.tuples(st.integers(-2, 36), st.integers(-2, 36)), min_size=1, max_size=60))
        pts = shapely.points(np.array(coords, dtype=float) / 2.0)
        return polys, pts, draw(st.integers(1, 12))

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(case())
    def check(c):
        polys, pts, cells = c
        for predicate in ("within", "intersects"):
            ref = _ref_first(polys, pts, predicate)
            assert_array_equal(first_polygon(strip_points(pts, cells=0), polys, predicate), ref)
            assert_array_equal(first_polygon(strip_points(pts, cells=cells), polys, predicate), ref)

    check()


def test_empty_inputs():
    none = np.zeros((0, 2))
    for cells in (0, 4):
        sp = strip_points(none, cells=cells)
        assert first_polygon(sp, HARD[:2].copy(), "within").tolist() == []
        g, d = nearest_polygon(sp, HARD[:2].copy(), np.zeros(0, dtype=bool), 5.0)
        assert len(g) == 0 and len(d) == 0
        xy = np.array([[5.0, 5.0], [15.0, 5.0]])
        assert first_polygon(strip_points(xy, cells=cells), np.array([], dtype=object), "within").tolist() == [-1, -1]


def test_a_cell_on_a_polygon_outline_is_left_to_the_point_tests():
    """A cell whose (grown) box is the polygon itself: every point of it intersects the polygon, but the
    points on its edge are not within it, so for ``within`` the cell stays undecided."""
    from parks._pointinpolygon import UNDECIDED, CellGrid, _cell_owners

    grid = CellGrid(side=2, x0=0.0, y0=0.0, wx=1.0, wy=1.0, eps=0.0, cell=np.zeros(0, dtype=np.int64))
    polys = np.array([box(0, 0, 1, 1), box(1, 0, 3, 2)], dtype=object)
    bounds = shapely.bounds(polys)
    owners = {p: _cell_owners(grid, polys, bounds, p) for p in ("within", "intersects")}
    # cell 0 = (0..1, 0..1): the box of polygon 0; cell 2 = (1..2, 0..1) inside polygon 1 but touching 0
    assert owners["intersects"][0] == 0 and owners["within"][0] == UNDECIDED
    assert owners["intersects"][2] == UNDECIDED and owners["within"][2] == UNDECIDED  # 0 touches it first
    assert owners["intersects"][3] == UNDECIDED  # (1..2, 1..2): polygon 0 touches its corner (1, 1)
    assert owners["within"][4] == -1  # the missing points' entry


def test_a_point_on_the_rounded_edge_of_its_cell():
    """x0 = 0.1, three cells of width 1/3: the last cell's box ends at 1.0999999999999999 in floating
    point, short of the point at x = 1.1 that the cell holds. The polygon's edge is at x = 1.1: without
    the cell's margin the cell would be taken as touching no polygon and the point as in none."""
    pts = shapely.points(np.array([[0.1, 0.0], [1.1, 0.5], [1.1, 1.0], [0.6, 0.2]]))
    polys = np.array([box(1.1, 0.0, 2.0, 1.0)], dtype=object)
    for cells in (0, 3, 7):
        for predicate in ("within", "intersects"):
            assert_array_equal(first_polygon(strip_points(pts, cells=cells), polys, predicate),
                               _ref_first(polys, pts, predicate))
    assert first_polygon(strip_points(pts, cells=3), polys, "intersects").tolist() == [-1, 0, 0, -1]
