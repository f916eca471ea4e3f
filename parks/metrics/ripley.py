"""Ripley's K and L functions, cross-K, and Monte-Carlo CSR envelopes inside the study-area polygon.

Definitions (Ripley 1977; Diggle 2013, *Statistical Analysis of Spatial and Spatio-Temporal Point
Patterns*, ch. 4; Baddeley, Rubak and Turner 2015, *Spatial Point Patterns*, ch. 7):

.. math::

    \\hat K(r) = \\frac{|W|}{n} \\cdot \\frac{1}{|C_r|} \\sum_{i \\in C_r} \\#\\{j \\ne i : d_{ij} < r\\},
    \\qquad \\hat L(r) = \\sqrt{\\hat K(r) / \\pi}

with :math:`|W|` the study-area size and :math:`C_r` the centres used at distance :math:`r`: all
points without edge correction (then :math:`\\hat K(r) = 2|W| P(r) / n^2` with :math:`P(r)` the number
of pairs closer than :math:`r`: the definition of ``pointpats.distance_statistics.k``), or, with the
*border* (reduced-sample) correction, only the points at least :math:`r` from the boundary of
:math:`W`. Under complete spatial randomness (CSR) :math:`K(r) = \\pi r^2` and :math:`L(r) = r`.
Cross-K of types A and B counts B points around A points:
:math:`\\hat K_{AB}(r) = |W| / (n_A n_B) \\sum_{i \\in A} \\#\\{j \\in B : d_{ij} < r\\}` (border
correction on the A centres, rescaled by :math:`n_A / |C_r|`).

Pair counts of a pattern with itself use a sorted grid and a compiled loop (:mod:`._paircount`): each
unordered pair closer than the largest distance is met once and binned by distance and by its
centres' border eligibility, so a pattern of 100,000 points is counted in a fraction of a second
instead of forming 5e9 distances, about 5x less CPU than a KD-tree dual count (which meets every pair
twice). Distances are computed as ``scipy.spatial.distance`` computes them and ``d < r`` is tested on
them, as pointpats does. Cross-K (two patterns) counts with a KD-tree
(:meth:`scipy.spatial.cKDTree.count_neighbors`, non-cumulative, one pass over all distances), the centres
grouped by how many distances they are eligible for. Eligibility comes from a boundary index built once
per polygon (interior shortcut, then a KD-tree of the densified outline, an exact segment search only
where that cannot decide). Envelopes simulate CSR inside the study-area polygon itself (coastline,
islands and holes followed exactly), the patterns drawn in vectorised chunks, then counted one per
thread (the compiled loop releases the GIL). ``benchmarks/bench_ripley.py`` sets this against the
plain ``count_neighbors`` of each simulated pattern.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from ._common import MetricsError, make_rng, xy
from ._csr import BoundaryIndex, PolygonSampler
from ._paircount import neighbour_sums, pair_histogram

__all__ = [
    "EDGE_CORRECTIONS",
    "RipleyResult",
    "ripley_k",
    "ripley_l",
    "cross_k",
    "csr_envelope",
    "cross_k_envelope",
    "ripley",
    "default_distances",
]

EDGE_CORRECTIONS = ("none", "border")


@dataclass(frozen=True)
class RipleyResult:
    """K and L at each distance (metres) with the pointwise CSR envelope (min/max of the simulations)."""

    distances: np.ndarray
    K: np.ndarray
    L: np.ndarray
    K_low: np.ndarray | None
    K_high: np.ndarray | None
    L_low: np.ndarray | None
    L_high: np.ndarray | None
    n: int
    area_m2: float
    edge_correction: str
    simulations: int

    def to_dict(self) -> dict:
        """JSON-ready: arrays as lists, NaN as None. ``envelope_low``/``envelope_high`` are for L."""
        d = {k: (_list(v) if isinstance(v, np.ndarray) else v) for k, v in asdict(self).items()}
        d["envelope_low"] = d["L_low"]
        d["envelope_high"] = d["L_high"]
        return d


def _list(a: np.ndarray) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=float)]


def _check_distances(distances) -> np.ndarray:
    r = np.atleast_1d(np.asarray(distances, dtype=float))
    if r.ndim != 1 or len(r) == 0 or not np.all(np.isfinite(r)) or (r < 0).any():
        raise MetricsError("ripley.distances", value=distances)
    if np.any(np.diff(r) <= 0):
        raise MetricsError("ripley.increasing")
    return r


def _check_edge(edge_correction: str, polygon) -> str:
    if edge_correction not in EDGE_CORRECTIONS:
        raise MetricsError("ripley.edge_correction", value=edge_correction, accepted=", ".join(EDGE_CORRECTIONS))
    if edge_correction == "border" and polygon is None:
        raise MetricsError("ripley.border_polygon")
    return edge_correction


def _area(points: np.ndarray, area: float | None, polygon) -> float:
    if area is not None:
        if not area > 0:
            raise MetricsError("ripley.area", value=area)
        return float(area)
    if polygon is not None:
        return float(polygon.area)
    # pointpats' default window: the bounding box of the points
    span = points.max(axis=0) - points.min(axis=0)
    return float(span[0] * span[1])


def _strict(r: np.ndarray) -> np.ndarray:
    """count_neighbors counts d <= r; the K definition counts d < r."""
    return np.nextafter(r, -np.inf)


def _run(tasks: list, workers: int) -> list:
    """Call each task (a no-argument function), on ``workers`` threads when there is more than one
    (the KD-tree counts release the GIL)."""
    if workers > 1 and len(tasks) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda f: f(), tasks))
    return [f() for f in tasks]


def _tree(points: np.ndarray) -> cKDTree:
    """A KD-tree for pair counts: sliding-midpoint splits (``balanced_tree=False``) build in half the
    time of median splits and count as fast; the counts do not depend on the tree's shape."""
    return cKDTree(points, balanced_tree=False, compact_nodes=False)


def _cumulative(tree: cKDTree, other: cKDTree, rs: np.ndarray) -> np.ndarray:
    """Pairs (tree point, other point) with d <= rs_k, for every k, in one dual-tree pass.

    The non-cumulative count (each pair binned once by binary search) is cheaper than the cumulative
    one (each pair tested against every larger radius) when there are many radii; the running sum
    gives the same numbers."""
    return np.cumsum(tree.count_neighbors(other, rs, cumulative=False), dtype=float)


def _chunks(idx: np.ndarray, centres: np.ndarray, parts: int) -> list[np.ndarray]:
    """``idx`` in ``parts`` spatially compact pieces (sorted by x), so each piece's tree stays tight."""
    if parts <= 1 or len(idx) < 2 * parts:
        return [idx]
    idx = idx[np.argsort(centres[idx, 0], kind="stable")]
    return [c for c in np.array_split(idx, parts) if len(c)]


def _neighbour_sums(centres: np.ndarray, eligible: np.ndarray | None, other: cKDTree, r: np.ndarray,
                    self_pairs: bool, workers: int = 1, *,
                    centre_tree: cKDTree | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each r_k: the sum over eligible centres of their neighbours in ``other`` closer than r_k,
    and the number of eligible centres.

    ``eligible[i]`` is how many of the distances centre i counts at (r_k with k < eligible[i]: the
    border correction), ``None`` for all of them. ``centre_tree`` is the centres' KD-tree if the caller
    has one (for a pattern against itself, ``other``): with no border correction, or when every centre
    is eligible everywhere, the whole sum is that one tree's count against ``other``.

    Centres are grouped by ``eligible``; each group (split into ``workers`` spatial chunks, counted on
    threads) is one non-cumulative dual-tree count against ``other`` up to its last distance. In a
    province most centres are farther than the largest distance from the boundary, so the first group
    is nearly all of them and the rest are thin bands along the coast.
    """
    m = len(r)
    n = len(centres)
    num = np.zeros(m)
    den = np.zeros(m)
    if n == 0:
        return num, den
    g = np.full(n, m, dtype=np.int64) if eligible is None else np.asarray(eligible, dtype=np.int64)
    den[:] = n - np.cumsum(np.bincount(g, minlength=m + 1))[:m]  # den_k = #{i : g_i > k}
    p0 = int(np.count_nonzero(r <= 0))  # r increasing: the positive distances are a suffix
    if p0 == m:
        return num, den
    rs = _strict(r[p0:])
    workers = max(1, int(workers))
    order = np.argsort(g, kind="stable")
    bounds = np.flatnonzero(np.diff(g[order])) + 1
    tasks = []
    for idx in np.split(order, bounds):
        upto = int(g[idx[0]])
        if upto <= p0:
            continue
        for c in _chunks(idx, centres, workers):
            whole = centre_tree is not None and len(c) == n

            def count(c=c, upto=upto, whole=whole):
                out = np.zeros(m)
                out[p0:upto] = _cumulative(centre_tree if whole else _tree(centres[c]), other, rs[: upto - p0])
                return out

            tasks.append(count)
    if tasks:
        num = sum(_run(tasks, workers))
    if self_pairs:  # every centre is its own neighbour at d = 0 <= r_k
        num[p0:] -= den[p0:]
    return num, den


def _eligible(pts: np.ndarray, r: np.ndarray, polygon) -> np.ndarray:
    """Border correction: how many of the distances each centre counts at (r_k <= its boundary distance)."""
    index = polygon if isinstance(polygon, BoundaryIndex) else BoundaryIndex(polygon)
    return index.eligible(pts, r)


def _self_sums(pts: np.ndarray, eligible: np.ndarray | None, r: np.ndarray,
               workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """For a pattern against itself: for each r_k the sum over eligible centres of their other points
    closer than r_k, and the number of eligible centres (``eligible`` as in :func:`_neighbour_sums`)."""
    m, n = len(r), len(pts)
    g = np.full(n, m, dtype=np.int64) if eligible is None else np.asarray(eligible, dtype=np.int64)
    den = (n - np.cumsum(np.bincount(g, minlength=m + 1))[:m]).astype(float)  # den_k = #{i : g_i > k}
    num = neighbour_sums(pair_histogram(pts, g, r, workers=workers, run=_run))
    return num, den


def ripley_k(points_xy, distances, area: float | None = None, *, polygon: shapely.Geometry | None = None,
             edge_correction: str = "none", workers: int = 1, _boundary: BoundaryIndex | None = None) -> np.ndarray:
    """Ripley's K at ``distances`` (metres) for one pattern.

    Parameters
    ----------
    points_xy : (n, 2) array or projected GeoSeries/GeoDataFrame of points (metres).
    distances : increasing distances in metres.
    area : study-area size in m2; default ``polygon.area``, else the points' bounding box (as pointpats).
    polygon : study area (projected); needed for ``edge_correction='border'``.
    edge_correction : ``'none'`` (pointpats-equivalent) or ``'border'`` (reduced sample).
    workers : threads for the pair count (the centres are split into spatial chunks; same result).

    Returns
    -------
    numpy.ndarray of K values (m2), one per distance.

    Examples
    --------
    >>> pts = np.array([[0, 0], [3, 0], [0, 4], [10, 10]], dtype=float)
    >>> ripley_k(pts, [1, 3.5, 5.5], area=100.0).tolist()   # pairs < r: 0, 1, 3
    [0.0, 12.5, 37.5]
    """
    pts = xy(points_xy)
    r = _check_distances(distances)
    _check_edge(edge_correction, polygon)
    n = len(pts)
    if n < 2:
        return np.full(len(r), np.nan)
    size = _area(pts, area, polygon)
    eligible = _eligible(pts, r, _boundary or polygon) if edge_correction == "border" else None
    num, den = _self_sums(pts, eligible, r, workers)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = size / n * num / den
    return np.where(den > 0, k, np.nan)


def ripley_l(points_xy, distances, area: float | None = None, **kwargs) -> np.ndarray:
    """Besag's L = sqrt(K / pi) (metres); L(r) = r under CSR. Arguments as :func:`ripley_k`."""
    return np.sqrt(ripley_k(points_xy, distances, area, **kwargs) / np.pi)


def cross_k(a_xy, b_xy, distances, area: float | None = None, *, polygon: shapely.Geometry | None = None,
            edge_correction: str = "none", workers: int = 1, _boundary: BoundaryIndex | None = None) -> np.ndarray:
    """Cross-K: B points around A points; above pi r^2 means A locates near B (metres, m2).

    >>> a = np.array([[0, 0], [10, 0]], dtype=float); b = np.array([[1, 0], [10, 2], [50, 50]], dtype=float)
    >>> cross_k(a, b, [1.5, 3.0], area=600.0).tolist()   # A-B pairs < r: 1, 2
    [100.0, 200.0]
    """
    a = xy(a_xy)
    b = xy(b_xy)
    r = _check_distances(distances)
    _check_edge(edge_correction, polygon)
    if len(a) == 0 or len(b) == 0:
        return np.full(len(r), np.nan)
    size = _area(np.vstack([a, b]), area, polygon)
    eligible = _eligible(a, r, _boundary or polygon) if edge_correction == "border" else None
    num, den = _neighbour_sums(a, eligible, _tree(b), r, self_pairs=False, workers=workers)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = size / len(b) * num / den
    return np.where(den > 0, k, np.nan)


def csr_envelope(n: int, polygon: shapely.Geometry, distances, *, simulations: int = 99, seed=None,
                 edge_correction: str = "border", workers: int = 1,
                 progress: Callable[[int], None] | None = None) -> np.ndarray:
    """K of ``simulations`` CSR patterns of ``n`` points inside ``polygon``: array (simulations, m).

    The patterns are drawn in one vectorised call (:class:`PolygonSampler`); each is then counted
    with its own KD-tree, on ``workers`` threads. ``progress(k)`` is called after each pattern.
    """
    r = _check_distances(distances)
    _check_edge(edge_correction, polygon)
    if simulations < 1:
        raise MetricsError("param.simulations", value=simulations)
    rng = make_rng(seed)
    sampler = PolygonSampler(polygon)
    boundary = BoundaryIndex(polygon, interior_shortcut=True) if edge_correction == "border" else None
    area = float(polygon.area)
    # draw in chunks so 99 x 100,000 points do not sit in memory at once
    chunk = max(1, int(2_000_000 // max(n, 1)))
    out = np.empty((simulations, len(r)))

    def one(pts: np.ndarray) -> np.ndarray:
        # what ripley_k computes, without re-validating each simulated pattern: the eligibility from
        # the shared boundary index, one grid count
        if n < 2:
            return np.full(len(r), np.nan)
        eligible = boundary.eligible(pts, r) if boundary is not None else None
        num, den = _self_sums(pts, eligible, r)
        with np.errstate(invalid="ignore", divide="ignore"):
            k = area / n * num / den
        return np.where(den > 0, k, np.nan)

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        while done < simulations:
            size = min(chunk, simulations - done)
            batch = sampler.sample(n, rng, size=size)
            for k, res in enumerate(pool.map(one, batch)):
                out[done + k] = res
                if progress is not None:
                    progress(1)
            done += size
    return out


def default_distances(polygon: shapely.Geometry, steps: int = 20) -> np.ndarray:
    """``steps`` distances from 1/steps of r_max to r_max, r_max a quarter of the polygon's shorter side,
    capped at 10 km: the scale of parks and town clusters; larger scales mix regional density
    gradients into K and leave few border-eligible centres (Duranton-Overman covers the regional scale)."""
    x0, y0, x1, y1 = polygon.bounds
    r_max = min(0.25 * min(x1 - x0, y1 - y0), 10_000.0)
    return np.linspace(r_max / steps, r_max, steps)


def ripley(points_xy, polygon: shapely.Geometry, distances=None, *, simulations: int = 99, seed=None,
           edge_correction: str = "border", workers: int = 1,
           progress: Callable[[int], None] | None = None) -> RipleyResult:
    """K, L and their CSR envelopes for a pattern inside ``polygon`` (all metres).

    Points outside the polygon are dropped (they cannot be part of the window's pattern).
    ``simulations=0`` skips the envelope.
    """
    pts = xy(points_xy)
    r = default_distances(polygon) if distances is None else _check_distances(distances)
    if len(pts):
        pts = pts[shapely.contains_xy(polygon, pts[:, 0], pts[:, 1])]
    k = ripley_k(pts, r, area=polygon.area, polygon=polygon, edge_correction=edge_correction)
    low = high = None
    if simulations and len(pts) >= 2:
        sims = csr_envelope(len(pts), polygon, r, simulations=simulations, seed=seed,
                            edge_correction=edge_correction, workers=workers, progress=progress)
        with warnings.catch_warnings():  # distances with no border-eligible centre stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanmin(sims, axis=0), np.nanmax(sims, axis=0)
    def sq(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.sqrt(a / np.pi)

    return RipleyResult(distances=r, K=k, L=np.sqrt(k / np.pi), K_low=low, K_high=high, L_low=sq(low), L_high=sq(high),
                        n=int(len(pts)), area_m2=float(polygon.area), edge_correction=edge_correction,
                        simulations=int(simulations if low is not None else 0))


def cross_k_envelope(a_xy, b_xy, polygon: shapely.Geometry, distances, *, sites=None, simulations: int = 99,
                     seed=None, edge_correction: str = "none", workers: int = 1,
                     progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Cross-K of ``simulations`` patterns in which B stays where it is and A is redrawn: array (simulations, m).

    With ``sites`` (for example every enterprise location) A's n_A points are drawn from those sites
    without replacement, so the null hypothesis keeps the overall geography of industry and asks
    whether A sits nearer B than a random set of enterprises would; without ``sites`` A is CSR
    inside ``polygon``. Compare :func:`cross_k` of the real A with the min/max over the rows.
    """
    a, b = xy(a_xy), xy(b_xy)
    r = _check_distances(distances)
    _check_edge(edge_correction, polygon)
    if simulations < 1:
        raise MetricsError("param.simulations", value=simulations)
    rng = make_rng(seed)
    pool = None if sites is None else xy(sites)
    if pool is not None and len(pool) < len(a):
        raise MetricsError("ripley.sites", sites=len(pool), n=len(a))
    sampler = None if pool is not None else PolygonSampler(polygon)
    boundary = BoundaryIndex(polygon, interior_shortcut=True) if edge_correction == "border" else None
    out = np.empty((simulations, len(r)))
    for s in range(simulations):
        if pool is not None:
            draw = pool[rng.choice(len(pool), len(a), replace=False)]
        else:
            assert sampler is not None
            draw = sampler.sample(len(a), rng)
        out[s] = cross_k(draw, b, r, area=polygon.area, polygon=polygon, edge_correction=edge_correction, workers=workers,
                         _boundary=boundary)
        if progress is not None:
            progress(1)
    return out
