"""One ``POST /suitability`` by enterprise id, before and after the context kept lon/lat (docs/performance.md):
``score_enterprise`` on fresh threads, with and without the context's ``lon``/``lat`` columns."""

import cProfile, pstats, io, threading, time, dataclasses
from parks.suitability import score_enterprise
from parks.suitability import context_from_dataset
from parks.joins import prepare
from benchmarks._data import dataset
ds = prepare(dataset(20000))
ctx = context_from_dataset(ds)
ids = list(ctx.enterprises.index[:50])
old = dataclasses.replace(ctx, enterprises=ctx.enterprises.drop(columns=["lon", "lat"]))
def one(c, eid, out):
    t = time.perf_counter(); score_enterprise(c, eid, top=5); out.append(time.perf_counter() - t)
for name, c in (("before (no lon/lat in the context; transformer per new thread)", old), ("after (lon/lat in the context)", ctx)):
    times = []
    pr = cProfile.Profile(); pr.enable()
    for eid in ids:  # each request on a fresh thread, as the thread pool's threads come and go
        th = threading.Thread(target=one, args=(c, eid, times)); th.start(); th.join()
    pr.disable()
    s = io.StringIO(); pstats.Stats(pr, stream=s).sort_stats("cumulative").print_stats(8)
    import numpy as np
    print(f"## {name}: median {np.median(times)*1e3:.2f} ms per request, p90 {np.percentile(times,90)*1e3:.2f} ms (50 requests)")
    print("\n".join(l for l in s.getvalue().splitlines()[6:22] if l.strip()))
