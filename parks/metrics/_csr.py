"""Complete spatial randomness inside a polygon: exact, vectorised uniform sampling.

The polygon (holes and islands allowed) is cut once into constrained Delaunay triangles; a sample
picks triangles with probability proportional to their area and a uniform point in each triangle
(the square-root trick), so no draw is rejected and the sample follows the coastline and islands
exactly rather than a bounding box.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

from ._common import MetricsError

__all__ = ["PolygonSampler", "BoundaryIndex", "boundary_distance"]


class PolygonSampler:
    """Draw uniform random points inside ``polygon`` (projected coordinates).

    >>> from shapely.geometry import box
    >>> s = PolygonSampler(box(0, 0, 10, 5))
    >>> pts = s.sample(1000, np.random.default_rng(0))
    >>> bool((pts[:, 0] >= 0).all() and (pts[:, 1] <= 5).all())
    True
    """

    def __init__(self, polygon: shapely.Geometry):
        if polygon is None or polygon.is_empty or polygon.area <= 0:
            raise MetricsError("area.empty_polygon")
        tris = shapely.get_parts(shapely.constrained_delaunay_triangles(polygon))
        tris = tris[shapely.area(tris) > 0]
        coords = shapely.get_coordinates(shapely.get_exterior_ring(tris)).reshape(len(tris), 4, 2)
        self._a = coords[:, 0]
        self._ab = coords[:, 1] - coords[:, 0]
        self._ac = coords[:, 2] - coords[:, 0]
        area = shapely.area(tris)
        self.area = float(area.sum())
        self._cum = np.cumsum(area) / area.sum()

    def sample(self, n: int, rng: np.random.Generator, size: int | None = None) -> np.ndarray:
        """``n`` points, shape (n, 2); with ``size`` a batch of shape (size, n, 2)."""
        shape = (n,) if size is None else (size, n)
        k = np.searchsorted(self._cum, rng.random(shape), side="right")
        k = np.minimum(k, len(self._cum) - 1)
        u = rng.random(shape)
        v = rng.random(shape)
        flip = u + v > 1
        u = np.where(flip, 1 - u, u)[..., None]
        v = np.where(flip, 1 - v, v)[..., None]
        return self._a[k] + u * self._ab[k] + v * self._ac[k]


class BoundaryIndex:
    """The polygon's boundary split into segments, in an STR-tree: exact point-to-boundary distances,
    built once and reused for every simulated pattern.

    With ``interior_shortcut`` (worth it when many patterns are measured against one polygon), the
    polygon shrunk by a little more than ``max_distance`` is computed once per distance; points
    inside it are certainly farther than ``max_distance`` from the boundary and get ``inf`` without a
    nearest-segment search. The margin (1 %) exceeds the buffer's arc-approximation error
    (1 - cos(pi/32), under 0.5 %), so the shortcut never changes a result.
    """

    def __init__(self, polygon: shapely.Geometry, *, interior_shortcut: bool = False):
        boundary = shapely.boundary(polygon)
        coords, ring = shapely.get_coordinates(shapely.get_parts(boundary), return_index=True)
        same = ring[:-1] == ring[1:]
        segments = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
        self._tree = shapely.STRtree(segments)
        self._polygon = polygon
        self._shortcut = interior_shortcut
        self._inner: dict[float, shapely.Geometry] = {}
        self._vertices: tuple[float, cKDTree] | None = None

    def _vertex_tree(self) -> tuple[float, cKDTree]:
        """The boundary densified so that no two consecutive vertices are more than ``step`` apart,
        in a KD-tree: the nearest vertex is at most ``step / 2`` farther than the boundary itself."""
        if self._vertices is None:
            boundary = shapely.boundary(self._polygon)
            x0, y0, x1, y1 = self._polygon.bounds
            # about 25 vertices per km of outline for a province; never more than 2 million
            step = max(shapely.length(boundary) / 2_000_000, min(x1 - x0, y1 - y0) * 1e-4, 1e-9)
            coords = shapely.get_coordinates(shapely.segmentize(boundary, step))
            self._vertices = (step, cKDTree(coords))
        return self._vertices

    def _interior(self, max_distance: float) -> shapely.Geometry:
        if max_distance not in self._inner:
            inner = shapely.buffer(self._polygon, -1.01 * max_distance, quad_segs=8)
            shapely.prepare(inner)
            self._inner[max_distance] = inner
        return self._inner[max_distance]

    def distance(self, points_xy: np.ndarray, max_distance: float | None = None) -> np.ndarray:
        out = np.full(len(points_xy), np.inf)
        if len(points_xy) == 0:
            return out
        todo = np.arange(len(points_xy))
        if self._shortcut and max_distance is not None and max_distance > 0:
            inner = self._interior(float(max_distance))
            if not inner.is_empty:
                todo = todo[~shapely.contains_xy(inner, points_xy[:, 0], points_xy[:, 1])]
        (i, _), d = self._tree.query_nearest(shapely.points(points_xy[todo]), max_distance=max_distance,
                                             return_distance=True, all_matches=False)
        out[todo[i]] = d
        return out


    def eligible(self, points_xy: np.ndarray, distances: np.ndarray) -> np.ndarray:
        """For each point, how many of the increasing ``distances`` are <= its distance to the boundary
        (the border correction's eligibility: a centre counts at r_k when r_k <= b_i).

        Exact, as ``searchsorted(distances, self.distance(points), side="right")``, but most points are
        settled without a nearest-segment search: points inside the polygon shrunk by the largest
        distance (interior shortcut) are eligible for all; for the rest the nearest vertex of the
        densified boundary (a KD-tree query) brackets the boundary distance b within
        ``[d_vertex - step/2, d_vertex]``; only points whose bracket holds one of the distances get the
        exact segment search.
        """
        pts = np.asarray(points_xy, dtype=float)
        r = np.asarray(distances, dtype=float)
        m = len(r)
        out = np.full(len(pts), m, dtype=np.int64)
        if len(pts) == 0 or m == 0:
            return out
        todo = np.arange(len(pts))
        r_max = float(r[-1])
        if self._shortcut and r_max > 0:
            inner = self._interior(r_max)
            if not inner.is_empty:
                todo = todo[~shapely.contains_xy(inner, pts[:, 0], pts[:, 1])]
        if len(todo) == 0:
            return out
        step, tree = self._vertex_tree()
        dv, _ = tree.query(pts[todo], distance_upper_bound=r_max + step)
        hi = np.searchsorted(r, dv, side="right")
        lo = np.searchsorted(r, dv - 0.5 * step, side="right")
        out[todo] = hi
        unsure = todo[lo != hi]
        if len(unsure):
            out[unsure] = np.searchsorted(r, self.distance(pts[unsure], r_max), side="right")
        return out


def boundary_distance(points_xy: np.ndarray, polygon, max_distance: float | None = None) -> np.ndarray:
    """Distance (metres) from each point to the polygon's boundary; ``inf`` beyond ``max_distance``.

    Exact: the boundary is split into its segments and the nearest one found with an STR-tree
    (``polygon`` may be a :class:`BoundaryIndex` already built).
    """
    index = polygon if isinstance(polygon, BoundaryIndex) else BoundaryIndex(polygon)
    return index.distance(np.asarray(points_xy, dtype=float), max_distance)
