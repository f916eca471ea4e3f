"""Duranton-Overman K-density: is a sector localised in continuous space, at which distances, compared
with where industry as a whole could have located?

Duranton and Overman (2005), "Testing for localization using micro-geographic data", *Review of
Economic Studies* 72(4): 1077-1106. For the n plants of a sector with pairwise distances
:math:`d_{ij}` (metres, in the metric CRS), the kernel density of bilateral distances is

.. math::

    \\hat K(d) = \\frac{1}{P\\,h} \\sum_{i<j} \\left[\\phi\\!\\left(\\frac{d - d_{ij}}{h}\\right)
                 + \\phi\\!\\left(\\frac{d + d_{ij}}{h}\\right)\\right], \\qquad P = \\frac{n(n-1)}{2}

(Gaussian kernel, reflected at zero so no mass leaks below 0 m; normalised by the number of pairs,
so it is a density -- DO's printed constant differs by a factor 2, which cancels in every test),
with Silverman's bandwidth :math:`h = 0.9 \\min(\\sigma, IQR/1.34) P^{-1/5}`. The counterfactual
draws n sites at random, without replacement, from *all* enterprise sites (controlling for the
overall pattern of industry), ``simulations`` times. A sector is localised at d if :math:`\\hat K(d)`
exceeds the upper *global* band, chosen so that only 5 % of the random draws exceed it anywhere on
the distance range; the localisation index is
:math:`\\Gamma = \\sum_d \\max(\\hat K(d) - \\bar K(d), 0)\\,\\Delta d` and, where it is not localised,
dispersion :math:`\\Psi = \\sum_d \\max(\\underline K(d) - \\hat K(d), 0)\\,\\Delta d`.

Pair distances are binned (bins of h/10) block by block, so no n x n matrix is held in memory;
the kernel sum over the bins is one matrix product.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist, pdist

from ._common import MetricsError, make_rng, xy

__all__ = ["KDensityResult", "silverman_bandwidth", "kdensity", "duranton_overman"]

_SQRT2PI = np.sqrt(2 * np.pi)


@dataclass(frozen=True)
class KDensityResult:
    distances: np.ndarray  # metres
    kdensity: np.ndarray  # per metre
    local_low: np.ndarray
    local_high: np.ndarray
    global_low: np.ndarray
    global_high: np.ndarray
    localisation: float  # Gamma
    dispersion: float  # Psi
    localised: bool
    dispersed: bool
    bandwidth_m: float
    n: int
    simulations: int

    def to_dict(self) -> dict:
        out = {}
        for k, v in self.__dict__.items():
            out[k] = [float(x) for x in v] if isinstance(v, np.ndarray) else v
        return out


def _sample_pair_distances(pts: np.ndarray, rng: np.random.Generator, max_points: int = 1500) -> np.ndarray:
    if len(pts) > max_points:
        pts = pts[rng.choice(len(pts), max_points, replace=False)]
    return pdist(pts)


def silverman_bandwidth(pair_distances: np.ndarray) -> float:
    """h = 0.9 min(sd, IQR / 1.34) P^(-1/5) (Silverman 1986, eq. 3.31)."""
    d = np.asarray(pair_distances, dtype=float)
    q75, q25 = np.percentile(d, [75, 25])
    spread = min(d.std(ddof=1), (q75 - q25) / 1.34) if len(d) > 1 else 0.0
    if not spread > 0:
        spread = d.std(ddof=1) if len(d) > 1 and d.std(ddof=1) > 0 else 1.0
    return float(0.9 * spread * len(d) ** (-0.2))


def _binned_pairs(pts: np.ndarray, edges: np.ndarray, block: int = 2000) -> np.ndarray:
    """Number of pairs with distance in each [edges[k], edges[k+1]), accumulated block by block
    (a block's own pairs with pdist, its pairs with later points with cdist), so memory stays
    bounded at block x n distances."""
    out = np.zeros(len(edges) - 1)
    n = len(pts)
    for a in range(0, n, block):
        b = min(a + block, n)
        out += np.histogram(pdist(pts[a:b]), bins=edges)[0]
        if b < n:
            out += np.histogram(cdist(pts[a:b], pts[b:]).ravel(), bins=edges)[0]
    return out


def _kernel_matrix(grid: np.ndarray, centres: np.ndarray, h: float) -> np.ndarray:
    a = (grid[None, :] - centres[:, None]) / h
    b = (grid[None, :] + centres[:, None]) / h
    return (np.exp(-0.5 * a * a) + np.exp(-0.5 * b * b)) / (_SQRT2PI * h)


def kdensity(points_xy, grid, bandwidth_m: float) -> np.ndarray:
    """Reflected Gaussian K-density of the pattern's pair distances at ``grid`` (metres), exact
    (all pairs; for small n and tests). :func:`duranton_overman` uses the binned equivalent."""
    d = pdist(xy(points_xy))
    grid = np.asarray(grid, dtype=float)
    return _kernel_matrix(grid, d, bandwidth_m).sum(axis=0) / (len(d) * 1.0)


def _global_bands(sims: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bands such that at most ``1 - level`` of the simulations leave each band
    anywhere on the distance range (DO 2005, section 4: rank each draw by its most extreme rank)."""
    order = np.sort(sims, axis=0)
    ranks = sims.argsort(axis=0).argsort(axis=0)  # 0 = smallest at each distance
    up_k = int(np.quantile(ranks.max(axis=1), level, method="higher"))
    lo_k = int(np.quantile(ranks.min(axis=1), 1 - level, method="lower"))
    return order[lo_k], order[up_k]


def duranton_overman(sector_xy, all_xy, *, max_distance_m: float | None = None, steps: int = 100,
                     bandwidth_m: float | None = None, simulations: int = 99, level: float = 0.95, seed=None,
                     progress: Callable[[int], None] | None = None) -> KDensityResult:
    """K-density of a sector with local and global counterfactual bands (all distances in metres).

    Parameters
    ----------
    sector_xy : the sector's plant locations, (n, 2) metres.
    all_xy : every enterprise site (the counterfactual draws n of them).
    max_distance_m : end of the distance range; default the median pair distance of all sites (DO's choice).
    steps : grid points over (0, max_distance_m].
    bandwidth_m : kernel bandwidth; default Silverman's rule on the sector's pair distances.
    simulations, level, seed : counterfactual draws, band level (0.95 = DO's 5 %), randomness.
    """
    pts, sites = xy(sector_xy), xy(all_xy)
    n = len(pts)
    if n < 3:
        raise MetricsError("do.plants", n=n)
    if len(sites) < n:
        raise MetricsError("do.sites", sites=len(sites), n=n)
    if not 0.5 < level < 1:
        raise MetricsError("do.level", value=level)
    rng = make_rng(seed)
    if max_distance_m is None:
        max_distance_m = float(np.median(_sample_pair_distances(sites, rng)))
    h = silverman_bandwidth(_sample_pair_distances(pts, rng)) if bandwidth_m is None else float(bandwidth_m)
    if not (h > 0 and max_distance_m > 0):
        raise MetricsError("do.bandwidth", h=h, max_distance=max_distance_m)
    grid = np.linspace(max_distance_m / steps, max_distance_m, steps)
    width = h / 10.0
    edges = np.arange(0.0, max_distance_m + 5 * h + width, width)
    centres = 0.5 * (edges[:-1] + edges[1:])
    kern = _kernel_matrix(grid, centres, h)  # (bins, grid)
    pairs = n * (n - 1) / 2.0
    observed = _binned_pairs(pts, edges) @ kern / pairs
    sims = np.empty((max(simulations, 0), steps))
    for s in range(simulations):
        draw = sites[rng.choice(len(sites), n, replace=False)]
        sims[s] = _binned_pairs(draw, edges) @ kern / pairs
        if progress is not None:
            progress(1)
    if simulations >= 2:
        local_low, local_high = np.quantile(sims, [1 - level, level], axis=0)
        global_low, global_high = _global_bands(sims, level)
    else:
        local_low = local_high = global_low = global_high = np.full(steps, np.nan)
    step = grid[1] - grid[0] if steps > 1 else grid[0]
    gamma = float(np.nansum(np.maximum(observed - global_high, 0)) * step)
    psi = float(np.nansum(np.maximum(global_low - observed, 0)) * step) if gamma == 0 else 0.0
    return KDensityResult(distances=grid, kdensity=observed, local_low=local_low, local_high=local_high,
                          global_low=global_low, global_high=global_high, localisation=gamma, dispersion=psi,
                          localised=gamma > 0, dispersed=psi > 0, bandwidth_m=h, n=n, simulations=simulations)
