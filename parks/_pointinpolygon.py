"""The point-in-polygon kernel of the county and park joins: points in x-strips, one slice per polygon.

For a few hundred polygons (counties, parks) and up to millions of points, the fastest path found on
the benchmark machine (``benchmarks/bench_join.py`` times the hand-written path beside it as the limit) is:

1. bucket the points into narrow vertical strips once (a radix sort of the strip numbers);
2. with 400,000 points or more, a grid of cells over the points (:class:`CellGrid`): a cell that the
   lowest-index polygon touching it covers gives all its points to that polygon, a cell that no polygon
   touches gives them to none, without testing a point (most points of county outlines);
3. for each polygon, the points of its bounding box are in a contiguous run of strips, narrowed by
   x and y, and only the points still undecided are tested with shapely's vectorised ``contains_xy`` /
   ``intersects_xy`` on the prepared polygon.

Polygons are taken in index order and a point already given to a polygon is not tested again, so
each point gets the lowest-index polygon that holds it (the rule of the joins on shared boundaries)
and on touching counties most candidates are skipped. The nearest polygon within a distance, for the
points that no polygon holds, uses the same slices with the bounding box grown by that distance.

Every function here is exact: the same pairs as ``STRtree.query(points, predicate=...)`` and the same
nearest polygon as ``STRtree.query_nearest`` (the references in ``tests/parks/test_joins_kernel.py``,
with and without the grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["PREDICATES", "PointStrips", "CellGrid", "strip_points", "polygon_pairs", "first_polygon", "nearest_polygon"]

#: ``within``: the polygon's interior holds the point; ``intersects``: interior or boundary
PREDICATES = ("within", "intersects")


@dataclass(frozen=True)
class PointStrips:
    """Point coordinates bucketed into vertical strips of equal width, strip by strip (``order`` maps a
    position back to the input position; ``starts[k]:starts[k + 1]`` are strip k's positions).

    Bucketing is a radix sort of 16-bit strip numbers: several times cheaper than sorting the x
    coordinates, and a box query reads its strips and tests x and y. Missing or empty points have NaN
    coordinates, sit after the last strip and never match anything."""

    order: np.ndarray
    x: np.ndarray
    y: np.ndarray
    starts: np.ndarray
    x0: float
    scale: float
    grid: CellGrid | None = None

    def __len__(self) -> int:
        return len(self.order)

    def span(self, xmin: float, xmax: float) -> tuple[int, int]:
        """The run ``lo:hi`` of strip positions whose strips cover ``xmin`` to ``xmax``.

        The strip of a coordinate is ``floor((x - x0) * scale)``, monotonic in x in floating point too,
        so a point with ``xmin <= x <= xmax`` is always in the strips of ``xmin`` to ``xmax``."""
        nstrips = len(self.starts) - 2
        k0 = min(max(int(np.floor((xmin - self.x0) * self.scale)), 0), nstrips - 1)
        k1 = min(max(int(np.floor((xmax - self.x0) * self.scale)), 0), nstrips - 1)
        return int(self.starts[k0]), int(self.starts[k1 + 1])

    def box_mask(self, xmin: float, ymin: float, xmax: float, ymax: float) -> tuple[int, np.ndarray]:
        """``(lo, mask)``: the points of the closed box are ``lo + flatnonzero(mask)`` (strip positions);
        a caller ands its own condition on ``[lo:lo + len(mask)]`` into ``mask`` before taking them."""
        lo, hi = self.span(xmin, xmax)
        xs, ys = self.x[lo:hi], self.y[lo:hi]
        mask = xs >= xmin
        mask &= xs <= xmax
        mask &= ys >= ymin
        mask &= ys <= ymax
        return lo, mask

    def box(self, xmin: float, ymin: float, xmax: float, ymax: float) -> np.ndarray:
        """Positions (in strip order) of the points inside the closed box."""
        lo, mask = self.box_mask(xmin, ymin, xmax, ymax)
        return lo + np.flatnonzero(mask)


@dataclass(frozen=True)
class CellGrid:
    """A ``side`` x ``side`` grid of equal cells over the points' bounding box and each point's cell
    (``cell``, by strip position: ``i * side + j`` for column i and row j; ``side * side`` for a missing
    point).

    A polygon test is skipped for every point of a cell that the lowest-index polygon touching the cell
    covers (all its points go to that polygon), or that no polygon touches (they go to none): on county
    outlines most points are decided so, and only the points of cells on an outline are tested one by one.
    Each cell is tested as a box grown by ``eps`` on every side, more than the rounding of a point's cell
    number, so every point assigned to a cell lies in its grown box."""

    side: int
    x0: float
    y0: float
    wx: float
    wy: float
    eps: float
    cell: np.ndarray

    def cells(self, xmin: float, ymin: float, xmax: float, ymax: float) -> np.ndarray:
        """The cell numbers of the cells that may touch the closed box (one cell more on every side)."""
        def index(v: float, v0: float, w: float) -> int:
            return min(max(int(np.floor((v - v0) / w)), 0), self.side - 1)

        i0, i1 = max(index(xmin, self.x0, self.wx) - 1, 0), min(index(xmax, self.x0, self.wx) + 1, self.side - 1)
        j0, j1 = max(index(ymin, self.y0, self.wy) - 1, 0), min(index(ymax, self.y0, self.wy) + 1, self.side - 1)
        return (np.arange(i0, i1 + 1)[:, None] * self.side + np.arange(j0, j1 + 1)[None, :]).ravel()

    def boxes(self, cells: np.ndarray) -> np.ndarray:
        """The cells as shapely boxes, each grown by ``eps``."""
        i, j = np.divmod(cells, self.side)
        bx, by = self.x0 + i * self.wx, self.y0 + j * self.wy
        e = self.eps
        return shapely.box(bx - e, by - e, bx + self.wx + e, by + self.wy + e)


def _cell_grid(x: np.ndarray, y: np.ndarray, bad: np.ndarray, side: int) -> CellGrid:
    good = ~bad
    xs, ys = x[good], y[good]
    x0, x1 = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
    y0, y1 = (float(ys.min()), float(ys.max())) if len(ys) else (0.0, 1.0)
    wx = (x1 - x0) / side if x1 > x0 else 1.0
    wy = (y1 - y0) / side if y1 > y0 else 1.0
    # the rounding of (x - x0) / wx is a few units in the last place of the coordinates
    eps = 1e-6 * max(wx, wy) + 64 * float(np.spacing(max(abs(x0), abs(x1), abs(y0), abs(y1), 1.0)))
    with np.errstate(invalid="ignore"):
        ci = np.clip(np.floor((x - x0) / wx), 0, side - 1)
        cj = np.clip(np.floor((y - y0) / wy), 0, side - 1)
        cell = np.where(bad, side * side, ci * side + cj).astype(np.int64)
    return CellGrid(side, x0, y0, wx, wy, eps, cell)


def _xy(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    try:
        return shapely.get_x(geoms), shapely.get_y(geoms)
    except shapely.errors.GEOSException:  # GEOS refuses get_x of an empty point (None gives NaN)
        geoms = geoms.copy()
        geoms[shapely.is_empty(geoms)] = None
        return shapely.get_x(geoms), shapely.get_y(geoms)


#: below this many points :func:`strip_points` makes no cell grid: classifying the cells costs more than
#: it saves (measured on the real counties and parks: +25 % at 100,000 points, even at 300,000, -20 % at
#: 1,000,000 with 125 x 125 cells)
GRID_MIN_POINTS = 400_000


def strip_points(points, points_per_strip: int = 256, cells: int | None = None) -> PointStrips:
    """``points``: an array of shapely points (or a GeoSeries), or an (n, 2) coordinate array.

    ``cells``: the side of the :class:`CellGrid` (0: none; None: 0 below :data:`GRID_MIN_POINTS` points,
    else ``sqrt(n / 64)`` up to 256)."""
    if isinstance(points, np.ndarray) and points.dtype != object:
        x, y = np.asarray(points[:, 0], dtype=float), np.asarray(points[:, 1], dtype=float)
    else:
        x, y = _xy(np.asarray(getattr(points, "values", points), dtype=object))
    n = len(x)
    nstrips = int(np.clip(n // max(1, points_per_strip), 1, 32_000))
    bad = np.isnan(x) | np.isnan(y) | np.isinf(x) | np.isinf(y)
    any_bad = bool(bad.any())
    xs = x[~bad] if any_bad else x
    x0, x1 = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
    scale = nstrips / (x1 - x0) if x1 > x0 else 0.0
    with np.errstate(invalid="ignore"):
        s = np.subtract(x, x0)
        np.multiply(s, scale, out=s)
        np.floor(s, out=s)
        np.clip(s, 0, nstrips - 1, out=s)
    if any_bad:
        s[bad] = nstrips  # missing points after the last strip
    strip = s.astype(np.int16)
    order = np.argsort(strip, kind="stable")  # a radix sort for 16-bit keys
    starts = np.concatenate([[0], np.cumsum(np.bincount(strip, minlength=nstrips + 1))])
    xo, yo = x[order], y[order]
    if cells is None:
        cells = 0 if n < GRID_MIN_POINTS else int(min(256, np.sqrt(n / 64)))
    grid = _cell_grid(xo, yo, bad[order], int(cells)) if cells > 0 else None
    return PointStrips(order, xo, yo, starts, x0, scale, grid)


def _check(predicate: str) -> None:
    if predicate not in PREDICATES:
        raise ValueError(f"predicate {predicate!r} not accepted; accepted: {', '.join(PREDICATES)}")


def _test(predicate: str):
    return shapely.contains_xy if predicate == "within" else shapely.intersects_xy


def _usable(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    polygons = np.asarray(polygons, dtype=object)
    shapely.prepare(polygons)  # a cache on the geometry objects; their values are unchanged
    bounds = shapely.bounds(polygons)
    return polygons, bounds


def polygon_pairs(points: PointStrips, polygons: np.ndarray, predicate: str = "within") -> tuple[np.ndarray, np.ndarray]:
    """Every (point index, polygon index) pair where ``predicate`` holds (input positions, sorted by
    point then polygon), as ``STRtree(polygons).query(points, predicate=predicate)`` returns them."""
    _check(predicate)
    polygons, bounds = _usable(polygons)
    test = _test(predicate)
    ip, ig = [], []
    for g, (geom, b) in enumerate(zip(polygons, bounds)):
        if geom is None or not np.isfinite(b).all():
            continue
        c = points.box(*b)
        hit = c[test(geom, points.x[c], points.y[c])]
        ip.append(points.order[hit])
        ig.append(np.full(len(hit), g, dtype=np.int64))
    if not ip:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    point_idx, geom_idx = np.concatenate(ip), np.concatenate(ig)
    o = np.lexsort((geom_idx, point_idx))
    return point_idx[o].astype(np.int64), geom_idx[o]


def first_polygon(points: PointStrips, polygons: np.ndarray, predicate: str = "within") -> np.ndarray:
    """For each point (input order) the lowest polygon index for which ``predicate`` holds, else -1."""
    _check(predicate)
    polygons, bounds = _usable(polygons)
    test = _test(predicate)
    # by strip position: -2 undecided, -1 none, else the polygon
    if points.grid is not None:
        hit_by = _cell_owners(points.grid, polygons, bounds, predicate)[points.grid.cell]
    else:
        hit_by = np.full(len(points), UNDECIDED, dtype=np.int64)
    for g, (geom, b) in enumerate(zip(polygons, bounds)):
        if geom is None or not np.isfinite(b).all():
            continue
        lo, mask = points.box_mask(*b)
        mask &= hit_by[lo:lo + len(mask)] == UNDECIDED  # not taken by a lower-index polygon already
        c = lo + np.flatnonzero(mask)
        if len(c):
            hit_by[c[test(geom, points.x[c], points.y[c])]] = g
    hit_by[hit_by == UNDECIDED] = -1
    out = np.empty_like(hit_by)
    out[points.order] = hit_by
    return out


UNDECIDED = -2


def _cell_owners(grid: CellGrid, polygons: np.ndarray, bounds: np.ndarray, predicate: str) -> np.ndarray:
    """Per cell (and one more for the missing points): the polygon that every point of the cell goes to
    (the lowest-index polygon touching the cell, when it covers the grown cell: ``covers`` for
    ``intersects``, ``contains_properly`` for ``within``), -1 where no polygon touches the grown cell,
    else :data:`UNDECIDED`."""
    ncells = grid.side * grid.side
    first = np.full(ncells, -1, dtype=np.int64)  # the lowest polygon touching each cell
    owner = np.full(ncells + 1, UNDECIDED, dtype=np.int64)
    inside = shapely.contains_properly if predicate == "within" else shapely.covers
    for g, (geom, b) in enumerate(zip(polygons, bounds)):
        if geom is None or not np.isfinite(b).all():
            continue
        cand = grid.cells(*b)
        cand = cand[first[cand] < 0]  # a cell a lower-index polygon touches is decided by that one
        if not len(cand):
            continue
        boxes = grid.boxes(cand)
        hit = shapely.intersects(geom, boxes)
        c = cand[hit]
        first[c] = g
        owner[c[inside(geom, boxes[hit])]] = g
    owner[:ncells][first < 0] = -1
    owner[ncells] = -1  # missing points
    return owner


def nearest_polygon(points: PointStrips, polygons: np.ndarray, todo: np.ndarray,
                    max_distance: float) -> tuple[np.ndarray, np.ndarray]:
    """For the points with ``todo`` True (input order): the nearest polygon within ``max_distance``
    (inclusive; ties to the lowest index) and its distance; -1 and NaN where none is that close.

    The same answer as ``STRtree(polygons).query_nearest(points, max_distance=..., all_matches=True)``
    with the lowest index kept among equally near polygons.
    """
    polygons, bounds = _usable(polygons)
    n = len(points)
    best = np.full(n, np.inf)
    best_g = np.full(n, -1, dtype=np.int64)
    want = np.zeros(n, dtype=bool)
    want[np.flatnonzero(np.asarray(todo, dtype=bool)[points.order])] = True  # by strip position
    d = float(max_distance)
    for g, (geom, b) in enumerate(zip(polygons, bounds)):
        if geom is None or not np.isfinite(b).all():
            continue
        lo, mask = points.box_mask(b[0] - d, b[1] - d, b[2] + d, b[3] + d)
        mask &= want[lo:lo + len(mask)]
        c = lo + np.flatnonzero(mask)
        if not len(c):
            continue
        dist = shapely.distance(geom, shapely.points(points.x[c], points.y[c]))
        better = (dist <= d) & (dist < best[c])  # strictly nearer: ties keep the lower index
        best[c[better]] = dist[better]
        best_g[c[better]] = g
    out_g = np.full(n, -1, dtype=np.int64)
    out_d = np.full(n, np.nan)
    out_g[points.order] = best_g
    out_d[points.order] = np.where(best_g >= 0, best, np.nan)
    return out_g, out_d
