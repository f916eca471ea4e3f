"""Ripley's K: :func:`parks.metrics.ripley.ripley_k` (KD-tree pair counts) vs ``pointpats.distance_statistics.k``.

Same points (enterprise locations, CGCS2000 GK metres), same 20 distances (500 m to 10 km), same
window (the points' bounding box, pointpats' default), no edge correction (pointpats has none). The
two K curves are compared (largest relative difference) so the ratio compares equal answers.

pointpats forms every pairwise distance (``scipy.spatial.distance.pdist``: n(n-1)/2 doubles) and then a
(distances x pairs) boolean matrix, so at 100,000 points it would need 40 GB for the distances
alone: it is measured at the sizes where it finishes on this machine, and parkplan alone at 100,000.
"""

from __future__ import annotations

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


def run(size: str = "full") -> Report:
    from pointpats.distance_statistics import k as pp_k

    from parks.metrics.ripley import ripley_k

    check_size(size)
    repeat = REPEAT[size]
    xy_all = _points(ALONE[size])
    rows, data = [], {"sizes": []}
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
    return Report("ripley", f"Ripley's K: {n:,} points vs pointpats", body, data)
