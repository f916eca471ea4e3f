"""Batch suitability, 100,000 enterprises x 200 parks: the vectorised batch vs a per-enterprise pandas loop.

* parkplan: :func:`parks.suitability.batch.score_batch` (numpy matrices, chunks of 2,000 enterprises);
* peer: :func:`parks.suitability.batch.score_batch_loop`, the same model written the way a pandas
  script would, one enterprise at a time over a parks DataFrame.

The loop is far too slow to run 100,000 times here, so it is measured on a random subsample and its
per-enterprise time extrapolated linearly to the full set (each enterprise is independent, so the
loop's time is linear in their number); the batch is also run on that subsample and both results are
compared (same top parks, same scores).
"""

from __future__ import annotations

import numpy as np

from . import Report, check_size, fmt_mb, fmt_ratio, fmt_s, median_time, peak_rss_mb, table
from ._data import prepared

N = {"full": 100_000, "quick": 20_000, "tiny": 3_000}
LOOP_N = {"full": 300, "quick": 100, "tiny": 20}
REPEAT = {"full": 3, "quick": 3, "tiny": 1}


CRITERIA = 9
CHUNK = 2_000


def weighted_sum_limit(n: int, m: int, top: int = 3, chunk: int = CHUNK, seed: int = 0) -> float:
    """The limit row: a plain vectorised numpy weighted sum of nine criterion matrices (chunk x parks,
    already computed, in [0, 1]) and the top parks of each enterprise (``argpartition``, then the few
    sorted), chunk by chunk for ``n`` enterprises. Only the arithmetic every scoring must do; no
    criterion is computed, no constraint checked, nothing assembled. Returns seconds."""
    import time

    rng = np.random.default_rng(seed)
    crit = rng.random((CRITERIA, chunk, m))
    w = rng.random(CRITERIA)
    w /= w.sum()
    score = np.empty((chunk, m))
    tmp = np.empty((chunk, m))
    t = time.perf_counter()
    for start in range(0, n, chunk):
        rows = min(chunk, n - start)
        s, tm = score[:rows], tmp[:rows]
        np.multiply(crit[0, :rows], w[0], out=s)
        for k in range(1, CRITERIA):
            np.multiply(crit[k, :rows], w[k], out=tm)
            s += tm
        part = np.argpartition(-s, top - 1, axis=1)[:, :top]
        vals = np.take_along_axis(s, part, axis=1)
        np.take_along_axis(part, np.argsort(-vals, axis=1, kind="stable"), axis=1)
    return time.perf_counter() - t


def run(size: str = "full") -> Report:
    from parks.suitability import context_from_dataset
    from parks.suitability.batch import score_batch, score_batch_loop

    check_size(size)
    n, n_loop, repeat = N[size], LOOP_N[size], REPEAT[size]
    ds = prepared(n)
    ent = ds.enterprises
    t_ctx, _, ctx = median_time(lambda: context_from_dataset(ds), 1)
    m = ctx.n_parks
    t_batch, times_batch, res = median_time(lambda: score_batch(ctx, ent, top=3), repeat)
    m_batch = peak_rss_mb(lambda: score_batch(ctx, ent, top=3))

    rng = np.random.default_rng(0)
    sub = ent.iloc[np.sort(rng.choice(len(ent), size=min(n_loop, len(ent)), replace=False))]
    t_loop_sub, _, loop_res = median_time(lambda: score_batch_loop(ctx, sub, top=3), 1)
    t_batch_sub, _, batch_sub = median_time(lambda: score_batch(ctx, sub, top=3), repeat)
    t_limit, times_limit, _ = median_time(lambda: weighted_sum_limit(n, m), repeat)
    per_ent = t_loop_sub / len(sub)
    t_loop_full = per_ent * n
    same_parks = bool((loop_res.top["park_id"].to_numpy() == batch_sub.top["park_id"].to_numpy()).all())
    max_diff = float(np.max(np.abs(loop_res.top["score"].to_numpy() - batch_sub.top["score"].to_numpy()))) \
        if len(batch_sub.top) else 0.0

    rows = [
        [f"parkplan `score_batch` ({n:,} x {m})", fmt_s(t_batch), f"{n / t_batch:,.0f}", fmt_mb(m_batch),
         f"**{fmt_ratio(t_loop_full, t_batch)} faster** (vs extrapolated loop)"],
        [f"pandas loop `score_batch_loop`, measured on {len(sub):,}", fmt_s(t_loop_sub), f"{1 / per_ent:,.0f}", "",
         f"batch on the same {len(sub):,}: {fmt_s(t_batch_sub)} ({fmt_ratio(t_loop_sub, t_batch_sub)})"],
        [f"pandas loop, **extrapolated** to {n:,}", fmt_s(t_loop_full), f"{1 / per_ent:,.0f}", "", "linear in n"],
        ["context (park-level inputs, once)", fmt_s(t_ctx), "", "", ""],
        [f"**limit**: numpy weighted sum of {CRITERIA} ready criterion matrices + top 3 ({n:,} x {m})",
         fmt_s(t_limit), f"{n / t_limit:,.0f}", "", f"parkplan at **{t_batch / t_limit:.2f}x** the limit"],
    ]
    body = (
        f"{n:,} enterprises x {m} parks, top 3 parks each, default weights and constraints. Median of {repeat} "
        f"runs for the batch; the loop ran once on a random subsample of {len(sub):,} enterprises and its time "
        f"is **extrapolated** (x {n / len(sub):,.0f}). Peak memory = RSS added by one call (forked child).\n\n"
        + table(["path", "time", "enterprises/s", "peak memory", "ratio"], rows)
        + f"\n\nSame answers on the subsample: top-3 park ids identical: {same_parks}; largest score difference "
        f"{max_diff:.1e}. Batch runs (s): {', '.join(f'{t:.2f}' for t in times_batch)}. The limit row "
        f"(`benchmarks/bench_suitability.py::weighted_sum_limit`) is only the arithmetic every scoring must do, "
        f"on criterion matrices already in memory, in chunks of {CHUNK:,}: no criterion computed, no constraint, "
        f"no result frame (runs: {', '.join(f'{t:.2f}' for t in times_limit)} s)."
    )
    return Report("suitability", f"Batch suitability: {n:,} enterprises x {m} parks vs a pandas loop", body, {
        "n": n, "parks": m, "batch_s": t_batch, "batch_peak_mib": m_batch, "loop_subsample": len(sub),
        "loop_subsample_s": t_loop_sub, "loop_extrapolated_s": t_loop_full, "context_s": t_ctx,
        "same_parks": same_parks, "max_score_diff": max_diff, "limit_s": t_limit,
    })
