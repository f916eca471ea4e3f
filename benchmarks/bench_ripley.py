"""Ripley's K: :func:`parks.metrics.ripley.ripley_k` (KD-tree pair counts) vs ``pointpats.distance_statistics.k``.

Same points (enterprise locations, CGCS2000 GK metres), same 20 distances (500 m to 10 km), same
window (the points' bounding box, pointpats' default), no edge correction (pointpats has none). The
two K curves are compared (largest relative difference) so the ratio compares equal answers.

pointpats forms every pairwise distance (``scipy.spatial.distance.pdist``: n(n-1)/2 doubles) and then a
(distances x pairs) boolean matrix, so at 100,000 points it would need 40 GB for the distances
alone: it is measured at the sizes where it finishes on this machine, and parkplan alone at 100,000.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Report, check_size, fmt_mb, fmt_ratio, fmt_s, median_time, peak_rss_mb, table
from ._data import dataset

BOTH = {"full": (2_000, 5_000, 10_000, 20_000), "quick": (2_000, 5_000), "tiny": (300,)}
ALONE = {"full": 100_000, "quick": 100_000, "tiny": 3_000}
REPEAT = {"full": 3, "quick": 3, "tiny": 1}
DISTANCES = np.linspace(500.0, 10_000.0, 20)


def _points(n_max: int) -> np.ndarray:
    import shapely

    ds = dataset(n_max)
    pts = ds.enterprises.geometry.to_crs(ds.metric_crs)
    return shapely.get_coordinates(pts.values)


def _subset(xy: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return xy[np.sort(rng.choice(len(xy), size=n, replace=False))] if n < len(xy) else xy


ENVELOPE = {"full": (100_000, 99), "quick": (100_000, 19), "tiny": (2_000, 3)}
LIMIT_PATTERNS = {"full": 9, "quick": 5, "tiny": 2}


def _province(ds):
    import shapely

    return shapely.union_all(ds.province.to_crs(ds.metric_crs).geometry.values)


def envelope(size: str, xy_all: np.ndarray, polygon) -> tuple[list, str, dict]:
    """Ripley's L with CSR envelopes of the real province (border correction, 2 threads) against its
    limit: the count alone of each simulated pattern (CPU seconds per pattern), by parkplan's grid
    count and by the plain ``cKDTree.count_neighbors`` (the limit before the grid count)."""
    import time

    import shapely
    from scipy.spatial import cKDTree

    from parks.metrics._csr import PolygonSampler
    from parks.metrics._paircount import pair_histogram
    from parks.metrics.ripley import default_distances, ripley

    n, sims = ENVELOPE[size]
    pts = xy_all[shapely.contains_xy(polygon, xy_all[:, 0], xy_all[:, 1])]
    pts = _subset(pts, min(n, len(pts)))
    r = default_distances(polygon)
    pair_histogram(pts[:100], None, r)  # the compiled loop loaded (from numba's cache) before the clocks
    cpu, wall = time.process_time(), time.perf_counter()
    res = ripley(pts, polygon, r, simulations=sims, seed=0, edge_correction="border", workers=2)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    patterns = PolygonSampler(polygon).sample(len(pts), np.random.default_rng(1), size=LIMIT_PATTERNS[size])
    plain, fastest, grid = [], [], []
    for p in patterns:
        t = time.process_time()
        pair_histogram(p, None, r)
        grid.append(time.process_time() - t)
        t = time.process_time()
        tree = cKDTree(p)
        tree.count_neighbors(tree, r)
        plain.append(time.process_time() - t)
        t = time.process_time()
        tree = cKDTree(p, balanced_tree=False, compact_nodes=False)
        tree.count_neighbors(tree, r, cumulative=False)
        fastest.append(time.process_time() - t)
    per_sim = cpu / (sims + 1)  # the observed pattern is counted too
    plain_s, fastest_s, grid_s = float(np.median(plain)), float(np.median(fastest)), float(np.median(grid))
    rows = [
        [f"parkplan `ripley` ({len(pts):,} points, {sims} CSR envelopes, border correction, 2 threads)",
         fmt_s(wall), f"{cpu:.1f} s", fmt_s(per_sim), ""],
        ["**limit**: the count alone, parkplan's grid count (`_paircount.pair_histogram`, one thread) per pattern",
         "", "", fmt_s(grid_s), f"parkplan at **{per_sim / grid_s:.2f}x**"],
        ["plain `cKDTree(p).count_neighbors(tree, r)` per pattern (the limit before the grid count)", "", "",
         fmt_s(plain_s), f"parkplan at {per_sim / plain_s:.2f}x"],
        ["same, sliding-midpoint tree, `cumulative=False`", "", "", fmt_s(fastest_s),
         f"parkplan at {per_sim / fastest_s:.2f}x"],
    ]
    assert res.L_high is not None  # envelopes were asked for
    inside = int(np.sum(np.isfinite(res.L_high)))
    text = (
        f"\n\n### Ripley's L with CSR envelopes in the real province\n\n"
        f"{len(pts):,} enterprise locations inside the province polygon ({polygon.area / 1e6:,.0f} km2, "
        f"{len(shapely.get_coordinates(polygon)):,} outline vertices, islands included), {len(r)} distances up to "
        f"{r[-1] / 1000:.0f} km, {sims} CSR patterns drawn inside the polygon, border correction "
        f"(`parks.metrics.ripley.ripley`, `workers=2`). CPU = process CPU seconds (both threads); wall time "
        f"depends on what else runs on the 2 cores, CPU far less. The limit rows count {LIMIT_PATTERNS[size]} "
        f"CSR patterns of the same size with nothing else (no edge correction, no sampling): median CPU per "
        f"pattern; parkplan's per-pattern figure adds the sampling and the border eligibility.\n\n"
        + table(["path", "wall", "CPU", "CPU per pattern", "vs limit"], rows)
        + f"\n\nEnvelope defined at {inside} of {len(r)} distances; L above the envelope at "
        f"{int(np.sum(res.L > res.L_high))} distances (clustered, as enterprises are)."
    )
    return rows, text, {"envelope_n": len(pts), "envelope_sims": sims, "envelope_wall_s": wall,
                        "envelope_cpu_s": cpu, "envelope_cpu_per_pattern_s": per_sim,
                        "grid_count_cpu_per_pattern_s": grid_s,
                        "plain_count_cpu_per_pattern_s": plain_s, "fastest_count_cpu_per_pattern_s": fastest_s}


def run(size: str = "full") -> Report:
    from pointpats.distance_statistics import k as pp_k

    from parks.metrics.ripley import ripley_k

    check_size(size)
    repeat = REPEAT[size]
    xy_all = _points(ALONE[size])
    rows: list[list[str]] = []
    data: dict[str, Any] = {"sizes": []}
    for n in BOTH[size]:
        pts = _subset(xy_all, n)
        t_ours, _, k_ours = median_time(lambda: ripley_k(pts, DISTANCES), repeat)
        t_peer, _, (_, k_peer) = median_time(lambda: pp_k(pts, support=DISTANCES), repeat)
        m_ours = peak_rss_mb(lambda: ripley_k(pts, DISTANCES))
        m_peer = peak_rss_mb(lambda: pp_k(pts, support=DISTANCES))
        ok = k_peer > 0
        rel = float(np.max(np.abs(k_ours[ok] - k_peer[ok]) / k_peer[ok])) if ok.any() else 0.0
        rows.append([f"{n:,}", fmt_s(t_ours), fmt_s(t_peer), f"**{fmt_ratio(t_peer, t_ours)}**", fmt_mb(m_ours),
                     fmt_mb(m_peer), f"{rel:.1e}"])
        data["sizes"].append({"n": n, "parkplan_s": t_ours, "pointpats_s": t_peer, "parkplan_peak_mib": m_ours,
                              "pointpats_peak_mib": m_peer, "max_rel_diff": rel})
    n = ALONE[size]
    pts = _subset(xy_all, n)
    t_big, times_big, _ = median_time(lambda: ripley_k(pts, DISTANCES), repeat)
    m_big = peak_rss_mb(lambda: ripley_k(pts, DISTANCES))
    pairs_gb = n * (n - 1) / 2 * 8 / 1e9
    rows.append([f"{n:,}", fmt_s(t_big), f"not run (pdist alone: {pairs_gb:,.1f} GB)", "n/a", fmt_mb(m_big), "n/a", ""])
    rows.append(["limit", "the grid pair count (`parks.metrics._paircount.pair_histogram`; parkplan's `ripley_k` is "
                 "that count plus the K arithmetic)", "", "", "", "", ""])
    data.update({"n_alone": n, "parkplan_alone_s": t_big, "parkplan_alone_peak_mib": m_big})
    body = (
        f"K at 20 distances (500 m to 10 km) of enterprise locations (bounding-box window, no edge "
        f"correction). Median of {repeat} runs; peak memory = RSS added by one call (forked child).\n\n"
        + table(["points", "parkplan `ripley_k`", "pointpats `k`", "ratio", "parkplan peak", "pointpats peak",
                 "max rel. diff of K"], rows)
        + f"\n\npointpats is measured only up to {BOTH[size][-1]:,} points: its all-pairs distance vector "
        f"grows as n²/2 (at {n:,} points {pairs_gb:,.1f} GB before the (distances x pairs) comparison "
        f"matrix), so it does not finish here; parkplan alone at {n:,} points "
        f"(runs: {', '.join(f'{t:.2f}' for t in times_big)} s)."
    )
    _, env_text, env_data = envelope(size, xy_all, _province(dataset(ALONE[size])))
    data.update(env_data)
    body += env_text
    return Report("ripley", f"Ripley's K: {n:,} points vs pointpats; L with 99 envelopes", body, data)


if __name__ == "__main__":  # the province part alone: python -m benchmarks.bench_ripley [full|quick|tiny]
    import os
    import sys

    _size = sys.argv[1] if len(sys.argv) > 1 else "full"
    check_size(_size)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(envelope(_size, _points(ALONE[_size]), _province(dataset(ALONE[_size])))[1])
    print(f"load average after: {os.getloadavg()[0]:.2f}")
