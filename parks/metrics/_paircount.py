"""Pair counts for Ripley's K by distance bin and border eligibility: a sorted grid and a compiled loop.

The points are sorted into square cells of side ``h`` (at most ``r_max``); each unordered pair closer
than ``r_max`` is met once, from the lower cell of the pair (the cell itself, the cells to its right
in its row and the ``2 * span + 1`` cells of each of the ``span`` rows above, ``span = ceil(r_max / h)``).
For a pair at distance :math:`d = \\sqrt{\\Delta x^2 + \\Delta y^2}` (computed as ``scipy.spatial.distance``
computes it) the bin is :math:`b = \\#\\{k : r_k \\le d\\}`, so the pair counts at every :math:`r_k > d`
(the strict inequality of K); a look-up table over :math:`[0, r_{max}]` gives the bin with one or two
comparisons. ``out[b, g]`` counts pair ends in bin ``b`` whose centre is eligible for the first ``g``
distances (the border correction), so the neighbour sums of every distance follow by two running sums.

Against a KD-tree dual count (``cKDTree.count_neighbors`` of a pattern with itself) this meets each pair
once instead of twice, touches memory in cell order and never descends a tree: about 5x less CPU for
100,000 points in a province at 20 distances up to 10 km. The loop is compiled by numba with the GIL
released, so callers run row sets on threads.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit

__all__ = ["pair_histogram", "neighbour_sums"]

_TABLE = 1024  # look-up slots over [0, r_max]
_MAX_CELLS = 1 << 22  # the grid never has more cells than this (coarser cells then)


@njit(nogil=True, cache=True)
def _count(xs, ys, g, starts, ncx, ncy, span, r, table, rows, out):  # pragma: no cover - compiled
    m = r.shape[0]
    rmax = r[m - 1]
    lim = rmax * rmax * (1.0 + 1e-9)  # a quick reject, loose: the bin decides exactly
    slots = table.shape[0] - 1
    tscale = slots / rmax
    for cy in rows:
        for cx in range(ncx):
            c = cy * ncx + cx
            a0 = starts[c]
            a1 = starts[c + 1]
            if a0 == a1:
                continue
            for oy in range(span + 1):
                ny = cy + oy
                if ny >= ncy:
                    break
                xlo = cx - span if oy > 0 else cx
                for nx in range(max(xlo, 0), min(cx + span + 1, ncx)):
                    o = ny * ncx + nx
                    b0 = starts[o]
                    b1 = starts[o + 1]
                    if b0 == b1:
                        continue
                    same = o == c
                    for i in range(a0, a1):
                        xi = xs[i]
                        yi = ys[i]
                        gi = g[i]
                        j0 = i + 1 if same else b0
                        for j in range(j0, b1):
                            dx = xi - xs[j]
                            dy = yi - ys[j]
                            d2 = dx * dx + dy * dy
                            if not d2 <= lim:
                                continue
                            d = math.sqrt(d2)
                            t = int(d * tscale)
                            if t > slots:
                                t = slots
                            b = table[t]
                            while b < m and r[b] <= d:
                                b += 1
                            if b < m:
                                out[b, gi] += 1
                                out[b, g[j]] += 1


def _grid(pts: np.ndarray, r_max: float) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """Cell order of the points, cell start offsets, grid shape and stencil span."""
    lo = pts.min(axis=0)
    w, h_ = pts.max(axis=0) - lo
    h = r_max / 2  # two cells per r_max: fewer distance tests than cells of r_max (stencil 6.25 r2 vs 9 r2)
    if (w / h + 1) * (h_ / h + 1) > _MAX_CELLS:
        h = max(h, float(np.sqrt((w + h) * (h_ + h) / _MAX_CELLS)) * 1.01)
    span = max(1, math.ceil(r_max / h))
    cx = ((pts[:, 0] - lo[0]) // h).astype(np.int64)
    cy = ((pts[:, 1] - lo[1]) // h).astype(np.int64)
    ncx, ncy = int(cx.max()) + 1, int(cy.max()) + 1
    cell = cy * ncx + cx
    order = np.argsort(cell, kind="stable")
    starts = np.zeros(ncx * ncy + 1, dtype=np.int64)
    np.cumsum(np.bincount(cell, minlength=ncx * ncy), out=starts[1:])
    return order, starts, ncx, ncy, span


def pair_histogram(pts: np.ndarray, eligible: np.ndarray | None, r: np.ndarray, *, workers: int = 1,
                   run: Callable[[list, int], list] | None = None) -> np.ndarray:
    """``out[b, g]``: ends of pairs with ``r[b-1] <= d < r[b]`` (``b = #{k : r_k <= d}``, pairs at
    ``d >= r[-1]`` left out) whose point has ``eligible == g`` (all ``len(r)`` when ``eligible`` is
    None). Shape ``(m + 1, m + 1)``, int64; each unordered pair adds one at each end.

    ``run(tasks, workers)`` runs the row sets (one per worker) on threads; by default in turn."""
    m = len(r)
    out = np.zeros((m + 1, m + 1), dtype=np.int64)
    r_max = float(r[-1]) if m else 0.0
    if len(pts) < 2 or not r_max > 0:
        return out
    pts = np.asarray(pts, dtype=float)
    g = np.full(len(pts), m, dtype=np.int64) if eligible is None else np.asarray(eligible, dtype=np.int64)
    order, starts, ncx, ncy, span = _grid(pts, r_max)
    xs, ys, gs = np.ascontiguousarray(pts[order, 0]), np.ascontiguousarray(pts[order, 1]), g[order]
    slots = np.arange(_TABLE + 1) * (r_max / _TABLE)
    # table[t] <= the bin of any d in slot t (one slot of slack for the rounding of d * T / r_max)
    table = np.concatenate([[0], np.searchsorted(r, slots[:-1], side="right")]).astype(np.int64)
    rr = np.ascontiguousarray(r, dtype=float)
    workers = max(1, min(int(workers), ncy))
    row_sets = [np.arange(k, ncy, workers, dtype=np.int64) for k in range(workers)]  # interleaved: balanced

    def task(rows: np.ndarray) -> Callable[[], np.ndarray]:
        def count() -> np.ndarray:
            part = np.zeros_like(out)
            _count(xs, ys, gs, starts, ncx, ncy, span, rr, table, rows, part)
            return part
        return count

    tasks = [task(rows) for rows in row_sets]
    parts = run(tasks, workers) if run is not None and len(tasks) > 1 else [f() for f in tasks]
    return np.sum(parts, axis=0)


def neighbour_sums(hist: np.ndarray) -> np.ndarray:
    """From :func:`pair_histogram`: for each r_k, the sum over centres eligible at r_k (``g > k``) of
    their neighbours closer than r_k (float)."""
    m = hist.shape[0] - 1
    upto = np.cumsum(hist, axis=0)[:m]  # upto[k, g]: pair ends with d < r_k and eligibility g
    return np.triu(upto, k=1).sum(axis=1).astype(float)[:m]
