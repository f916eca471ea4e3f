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


def side_by_side(fns: dict, repeat: int, warmup: int = 1) -> dict[str, dict]:
    """Run the callables in turn, ``repeat`` rounds (after ``warmup`` rounds), so that each sees the same load.

    Returns, per name, the median ``cpu`` seconds (this process, user + system), the median ``wall``
    seconds, all CPU times and the last result. On a machine shared with other work, the CPU seconds are
    the comparable figure; the wall time also holds the waits for a core."""
    import gc
    import statistics
    import time

    runs: dict[str, dict] = {name: {"cpu_all": [], "wall_all": [], "result": None} for name in fns}
    for r in range(warmup + repeat):
        for name, fn in fns.items():
            gc.collect()
            c, t = time.process_time(), time.perf_counter()
            res = fn()
            c, t = time.process_time() - c, time.perf_counter() - t
            if r >= warmup:
                runs[name]["cpu_all"].append(c)
                runs[name]["wall_all"].append(t)
            runs[name]["result"] = res
    for run in runs.values():
        run["cpu"] = statistics.median(run["cpu_all"])
        run["wall"] = statistics.median(run["wall_all"])
    return runs


def run(size: str = "full") -> Report:
    from parks.suitability import context_from_dataset
    from parks.suitability.batch import score_batch, score_batch_loop

    check_size(size)
    n, n_loop, repeat = N[size], LOOP_N[size], REPEAT[size]
    ds = prepared(n)
    ent = ds.enterprises
    t_ctx, _, ctx = median_time(lambda: context_from_dataset(ds), 1)
    m = ctx.n_parks
    # the batch and the limit side by side (alternating), CPU seconds: the ratio does not depend on the load
    runs = side_by_side({"batch": lambda: score_batch(ctx, ent, top=3), "limit": lambda: weighted_sum_limit(n, m)},
                        max(repeat, 3))
    b, lim = runs["batch"], runs["limit"]
    t_batch, c_batch, c_limit = b["wall"], b["cpu"], lim["cpu"]
    m_batch = peak_rss_mb(lambda: score_batch(ctx, ent, top=3))

    rng = np.random.default_rng(0)
    sub = ent.iloc[np.sort(rng.choice(len(ent), size=min(n_loop, len(ent)), replace=False))]
    t_loop_sub, _, loop_res = median_time(lambda: score_batch_loop(ctx, sub, top=3), 1)
    t_batch_sub, _, batch_sub = median_time(lambda: score_batch(ctx, sub, top=3), repeat)
    per_ent = t_loop_sub / len(sub)
    t_loop_full = per_ent * n
    same_parks = bool((loop_res.top["park_id"].to_numpy() == batch_sub.top["park_id"].to_numpy()).all())
    max_diff = float(np.max(np.abs(loop_res.top["score"].to_numpy() - batch_sub.top["score"].to_numpy()))) \
        if len(batch_sub.top) else 0.0

    rows = [
        [f"parkplan `score_batch` ({n:,} x {m})", fmt_s(t_batch), fmt_s(c_batch), f"{n / c_batch:,.0f}", fmt_mb(m_batch),
         f"**{fmt_ratio(t_loop_full, t_batch)} faster** (wall, vs extrapolated loop)"],
        [f"pandas loop `score_batch_loop`, measured on {len(sub):,}", fmt_s(t_loop_sub), "", "", "",
         f"batch on the same {len(sub):,}: {fmt_s(t_batch_sub)} ({fmt_ratio(t_loop_sub, t_batch_sub)})"],
        [f"pandas loop, **extrapolated** to {n:,}", fmt_s(t_loop_full), "", "", "", "linear in n"],
        ["context (park-level inputs, once)", fmt_s(t_ctx), "", "", "", ""],
        [f"**limit**: numpy weighted sum of {CRITERIA} ready criterion matrices + top 3 ({n:,} x {m})",
         fmt_s(lim["wall"]), fmt_s(c_limit), f"{n / c_limit:,.0f}", "",
         f"parkplan at **{c_batch / c_limit:.2f}x** the limit (CPU seconds, side by side)"],
    ]
    body = (
        f"{n:,} enterprises x {m} parks, top 3 parks each, default weights and constraints. The batch and the "
        f"limit ran side by side (alternating, after one warm-up round each), medians of {len(b['cpu_all'])}; CPU = "
        "user + system seconds of this process, the comparable figure on a shared machine (wall time also holds "
        f"the waits for a core). The loop ran once on a random subsample of {len(sub):,} enterprises and its time "
        f"is **extrapolated** (x {n / len(sub):,.0f}). Peak memory = RSS added by one call (forked child).\n\n"
        + table(["path", "wall", "CPU", "enterprises per CPU-s", "peak memory", "ratio"], rows)
        + f"\n\nSame answers on the subsample: top-3 park ids identical: {same_parks}; largest score difference "
        f"{max_diff:.1e}. Batch CPU runs (s): {', '.join(f'{t:.2f}' for t in b['cpu_all'])}; limit CPU runs (s): "
        f"{', '.join(f'{t:.2f}' for t in lim['cpu_all'])}. The limit row "
        f"(`benchmarks/bench_suitability.py::weighted_sum_limit`) is only the arithmetic every scoring must do, "
        f"on criterion matrices already in memory, in chunks of {CHUNK:,}: no criterion computed, no constraint, "
        f"no result frame."
    )
    return Report("suitability", f"Batch suitability: {n:,} enterprises x {m} parks vs a pandas loop", body, {
        "n": n, "parks": m, "batch_s": t_batch, "batch_cpu_s": c_batch, "batch_peak_mib": m_batch,
        "loop_subsample": len(sub), "loop_subsample_s": t_loop_sub, "loop_extrapolated_s": t_loop_full,
        "context_s": t_ctx, "same_parks": same_parks, "max_score_diff": max_diff, "limit_s": lim["wall"],
        "limit_cpu_s": c_limit, "limit_ratio_cpu": c_batch / c_limit,
    })
