"""Join 1,000,000 enterprises to the 200 parks and 90 counties: parkplan vs ``geopandas.sjoin``.

Both paths answer the same question on the same projected points (CGCS2000 GK, metres): each
enterprise's county (containing county, lowest index on a shared boundary, else the nearest within
2 km) and its park (containing park, else the nearest within 300 m, ties to the lowest index).

* parkplan: :func:`parks.joins.assign_counties` + :func:`parks.joins.assign_parks` (the points bucketed
  once, :func:`parks.joins.point_strips`);
* peer: ``geopandas.sjoin`` (``intersects`` / ``within``) + ``geopandas.sjoin_nearest`` for the
  unmatched, de-duplicated with pandas, which is how one writes it with geopandas alone.

The results are compared (share of identical county codes and park ids) so the ratio compares equal work.
The full ``parks.joins.prepare`` (projection, both joins, county attributes, urban core) is timed too.

The limit row (:func:`hand_join`), parkplan's kernel alone (:func:`kernel_join`) and parkplan run side by
side, alternating, and are compared in CPU seconds (``time.process_time``), so the ratio holds on a machine
whose other work takes cores away.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from . import Report, check_size, fmt_mb, fmt_ratio, fmt_s, peak_rss_mb, table
from ._data import dataset

N = {"full": 1_000_000, "quick": 100_000, "tiny": 3_000}
#: rounds of parkplan and the limit side by side (after one warm-up round)
REPEAT = {"full": 5, "quick": 5, "tiny": 1}
#: rounds of the geopandas peer and ``prepare`` (the peer takes about a minute a run at 1,000,000)
REPEAT_PEER = {"full": 3, "quick": 3, "tiny": 1}


def parkplan_join(points: gpd.GeoSeries, counties: gpd.GeoDataFrame, parks: gpd.GeoDataFrame) -> pd.DataFrame:
    from parks.joins import assign_counties, assign_parks, point_strips

    strips = point_strips(points)  # bucketed once for both joins, as prepare does
    out = assign_parks(points, parks, strips=strips)
    out.insert(0, "county_code", assign_counties(points, counties, strips=strips))
    return out


def kernel_join(points: gpd.GeoSeries, counties: gpd.GeoDataFrame, parks: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """parkplan's kernel alone (:mod:`parks._pointinpolygon`, with its cell grid): the county and park
    index of each point, as :func:`hand_join` returns them; no labels, no frame."""
    from parks._pointinpolygon import first_polygon, nearest_polygon
    from parks.joins import point_strips

    strips = point_strips(points)
    out = []
    for polys, predicate, d in ((counties.geometry.to_numpy(), "intersects", 2000.0),
                                (parks.geometry.to_numpy(), "within", 300.0)):
        idx = first_polygon(strips, polys, predicate)
        missing = idx < 0
        if missing.any():
            near, _ = nearest_polygon(strips, polys, missing, d)
            idx[missing] = near[missing]
        out.append(idx)
    return out[0], out[1]


def _first_by_point(joined: pd.DataFrame, right_col: str) -> pd.Series:
    """One match per point: the lowest right index (sjoin returns every match)."""
    j = joined.reset_index(names="_pt").sort_values(["_pt", "index_right"], kind="stable")
    j = j.drop_duplicates("_pt")
    return j.set_index("_pt")[right_col]


def geopandas_join(points: gpd.GeoSeries, counties: gpd.GeoDataFrame, parks: gpd.GeoDataFrame) -> pd.DataFrame:
    left = gpd.GeoDataFrame(geometry=points)
    c = gpd.sjoin(left, counties[["code", "geometry"]], how="inner", predicate="intersects")
    county = _first_by_point(c, "code").reindex(left.index)
    miss = left[county.isna().to_numpy()]
    if len(miss):
        near = gpd.sjoin_nearest(miss, counties[["code", "geometry"]], how="inner", max_distance=2000.0)
        county.update(_first_by_point(near, "code"))
    p = gpd.sjoin(left, parks[["park_id", "geometry"]], how="inner", predicate="within")
    park = _first_by_point(p, "park_id").reindex(left.index)
    dist = pd.Series(np.where(park.notna(), 0.0, np.nan), index=left.index)
    miss = left[park.isna().to_numpy()]
    if len(miss):
        near = gpd.sjoin_nearest(miss, parks[["park_id", "geometry"]], how="inner", max_distance=300.0,
                                 distance_col="park_distance_m")
        first = near.reset_index(names="_pt").sort_values(["_pt", "index_right"]).drop_duplicates("_pt").set_index("_pt")
        park.update(first["park_id"])
        dist.update(first["park_distance_m"])
    return pd.DataFrame({"county_code": county.astype(object), "park_id": park.astype(object),
                         "park_distance_m": dist}, index=left.index)


def hand_join(points: gpd.GeoSeries, counties: gpd.GeoDataFrame, parks: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The fastest hand-written path known on this machine (the limit row): the points' x sorted once
    (``argsort``), for each polygon its bounding box's x-range cut out with two ``searchsorted``, narrowed
    by y, tested with shapely's ``intersects_xy`` / ``contains_xy`` on the prepared polygon, lowest
    index first; the unmatched points then against each polygon's box grown by the snap distance with
    ``shapely.distance``. Returns the county and park index of each point (-1: none); no labels."""
    import shapely

    geoms = points.to_numpy()
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    order = np.argsort(x)
    xs, ys = x[order], y[order]

    def first(polys, test):
        shapely.prepare(polys)
        hit = np.full(len(xs), -1)
        for g, (poly, b) in enumerate(zip(polys, shapely.bounds(polys))):
            lo, hi = np.searchsorted(xs, b[0]), np.searchsorted(xs, b[2], side="right")
            c = lo + np.flatnonzero((ys[lo:hi] >= b[1]) & (ys[lo:hi] <= b[3]) & (hit[lo:hi] < 0))
            hit[c[test(poly, xs[c], ys[c])]] = g
        return hit

    def nearest(polys, hit, d):
        best = np.full(len(xs), np.inf)
        for g, (poly, b) in enumerate(zip(polys, shapely.bounds(polys))):
            lo, hi = np.searchsorted(xs, b[0] - d), np.searchsorted(xs, b[2] + d, side="right")
            c = lo + np.flatnonzero((ys[lo:hi] >= b[1] - d) & (ys[lo:hi] <= b[3] + d) & (hit[lo:hi] < 0))
            dist = shapely.distance(poly, shapely.points(xs[c], ys[c]))
            ok = (dist <= d) & (dist < best[c])
            best[c[ok]] = dist[ok]
            near_g[c[ok]] = g

    out = []
    for polys, test, d in ((counties.geometry.to_numpy(), shapely.intersects_xy, 2000.0),
                           (parks.geometry.to_numpy(), shapely.contains_xy, 300.0)):
        hit = first(polys, test)
        near_g = np.full(len(xs), -1)
        nearest(polys, hit, d)
        hit = np.where(hit >= 0, hit, near_g)
        res = np.empty_like(hit)
        res[order] = hit
        out.append(res)
    return out[0], out[1]


def run(size: str = "full") -> Report:
    from parks.joins import prepare

    from .bench_suitability import side_by_side

    check_size(size)
    n, repeat, repeat_peer = N[size], REPEAT[size], REPEAT_PEER[size]
    ds = dataset(n)
    crs = ds.metric_crs
    points = ds.enterprises.geometry.to_crs(crs)
    counties = ds.counties.to_crs(crs)
    parks = ds.parks.to_crs(crs)

    # parkplan, the limit and parkplan's kernel side by side (alternating, one warm-up round each), CPU seconds: the ratio
    # does not depend on how many cores the other processes leave free
    runs = side_by_side({"parkplan": lambda: parkplan_join(points, counties, parks),
                         "hand": lambda: hand_join(points, counties, parks),
                         "kernel": lambda: kernel_join(points, counties, parks)}, repeat)
    ours, hand, kernel = runs["parkplan"]["result"], runs["hand"]["result"], runs["kernel"]["result"]
    side = side_by_side({"geopandas": lambda: geopandas_join(points, counties, parks),
                         "prepare": lambda: prepare(ds)}, repeat_peer, warmup=0)
    peer = side["geopandas"]["result"]
    m_ours = peak_rss_mb(lambda: parkplan_join(points, counties, parks))
    m_peer = peak_rss_mb(lambda: geopandas_join(points, counties, parks))

    same_county = float((ours["county_code"].fillna("-") == peer["county_code"].fillna("-")).mean())
    same_park = float((ours["park_id"].fillna("-") == peer["park_id"].fillna("-")).mean())
    in_parks = int(ours["park_id"].notna().sum())
    codes = np.append(counties["code"].to_numpy().astype(object), "-")
    ids = np.append(parks["park_id"].to_numpy().astype(object), "-")
    same_hand = float(np.mean((codes[hand[0]] == ours["county_code"].fillna("-").to_numpy())
                              & (ids[hand[1]] == ours["park_id"].fillna("-").to_numpy())))
    same_kernel = float(np.mean((kernel[0] == hand[0]) & (kernel[1] == hand[1])))

    o, h, k, g, pr = runs["parkplan"], runs["hand"], runs["kernel"], side["geopandas"], side["prepare"]
    ratio_cpu, ratio_wall = o["cpu"] / h["cpu"], o["wall"] / h["wall"]

    def row(name: str, r: dict, memory: float | None, ratio: str) -> list[str]:
        return [name, fmt_s(r["wall"]), fmt_s(r["cpu"]), f"{n / r['cpu']:,.0f}", fmt_mb(memory) if memory else "", ratio]

    rows = [
        row("parkplan `assign_counties` + `assign_parks`", o, m_ours,
            f"**{fmt_ratio(g['cpu'], o['cpu'])} faster** than geopandas (CPU)" if g["cpu"] > o["cpu"]
            else f"{o['cpu'] / g['cpu']:.1f}x slower than geopandas (CPU)"),
        row("geopandas `sjoin` + `sjoin_nearest`", g, m_peer, ""),
        row("parkplan `prepare` (projection + joins + attributes + urban core)", pr, None, ""),
        row("**limit**: hand path (x sorted once, per-polygon slices, `contains_xy`; indices only)", h, None,
            f"parkplan at **{ratio_cpu:.2f}x** the limit in CPU seconds ({ratio_wall:.2f}x in wall time)"),
        row("parkplan's kernel alone (strips, cell grid from 400,000 points, `parks._pointinpolygon`; indices only)", k, None,
            f"parkplan at {o['cpu'] / k['cpu']:.2f}x its kernel in CPU seconds (the labelled frame); "
            f"the kernel at {k['cpu'] / h['cpu']:.2f}x the hand path"),
    ]
    body = (
        f"{n:,} enterprises, {len(parks)} parks, {len(counties)} counties (real boundaries), points already "
        f"projected to {crs.name} (EPSG:{crs.to_epsg()}). parkplan, the limit and parkplan's kernel ran side by side (alternating, "
        f"after one warm-up round each), medians of {len(o['cpu_all'])}; geopandas and `prepare` alternating, "
        f"medians of {len(g['cpu_all'])}. CPU = this process's user + system seconds (`time.process_time`; "
        "every path here runs on one thread), the comparable figure on a machine shared with other work; "
        "wall time also holds the waits for a core. Peak memory = RSS added by one call, measured in a forked "
        "child.\n\n"
        + table(["path", "median wall", "median CPU", "enterprises per CPU-second", "peak memory", "ratio"], rows)
        + "\n\nThe limit row is the fastest hand-written path known on this machine "
        "(`benchmarks/bench_join.py::hand_join`): it returns county and park indices only, no labelled "
        f"frame; it agrees with parkplan on {same_hand:.4%} of enterprises (county and park). "
        + f"Same answers: county code identical for {same_county:.4%} of enterprises, park id for "
        f"{same_park:.4%} ({in_parks:,} enterprises in or within 300 m of a park); parkplan's kernel and the "
        f"hand path give the same county and park indices for {same_kernel:.4%}. The hand path is the one the "
        "issue names as the limit; parkplan's kernel also skips the point tests in grid cells that one polygon "
        "covers or none touches, which the hand path does not, so it can run below the hand path. CPU runs "
        f"(s): parkplan {_runs(o['cpu_all'])}; hand path {_runs(h['cpu_all'])}; kernel {_runs(k['cpu_all'])}; "
        f"geopandas {_runs(g['cpu_all'])}; "
        f"`prepare` {_runs(pr['cpu_all'])}. Wall runs (s): parkplan {_runs(o['wall_all'])}; hand path "
        f"{_runs(h['wall_all'])}; kernel {_runs(k['wall_all'])}; geopandas {_runs(g['wall_all'])}; `prepare` {_runs(pr['wall_all'])}."
    )
    return Report("join", f"Join: {n:,} enterprises to parks and counties vs geopandas.sjoin", body, {
        "n": n, "parkplan_s": o["wall"], "parkplan_cpu_s": o["cpu"], "geopandas_s": g["wall"],
        "geopandas_cpu_s": g["cpu"], "prepare_s": pr["wall"], "prepare_cpu_s": pr["cpu"],
        "parkplan_peak_mib": m_ours, "geopandas_peak_mib": m_peer, "same_county": same_county,
        "same_park": same_park, "hand_s": h["wall"], "hand_cpu_s": h["cpu"], "same_hand": same_hand,
        "limit_ratio": ratio_cpu, "limit_ratio_wall": ratio_wall,
        "kernel_s": k["wall"], "kernel_cpu_s": k["cpu"], "same_kernel": same_kernel,
        "times_parkplan": o["wall_all"], "times_hand": h["wall_all"], "times_geopandas": g["wall_all"],
        "cpu_parkplan": o["cpu_all"], "cpu_hand": h["cpu_all"], "cpu_geopandas": g["cpu_all"],
    })


def _runs(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)
