"""The review sheet in the server's thread and in the sheet process (:mod:`api.sheet_process`), side by side.

``python -m benchmarks.profile_review_sheet`` loads the web benchmark's dataset (20,000 enterprises), makes 11
sheets of made-up candidates in this process (:func:`api.exports.render_review_sheet`, after one unmeasured) and
the same 11 in a child (:class:`api.sheet_process.SheetProcess`), and prints this process's CPU and wall time per
sheet (medians), the child's start-up (spawn, imports, the static part, the font), its CPU per sheet (mean) and its
resident memory.
"""
import statistics
import time

def main():
    import psutil

    from benchmarks._data import gpkg
    from geodata.dataset import load_dataset
    from parks.joins import prepare
    from api import exports
    from api.sheet_process import SheetProcess
    ds = prepare(load_dataset(gpkg(20_000)))
    ents = ds.enterprises.iloc[::997].head(12)
    parks = ds.parks["park_id"].tolist()
    codes = ds.counties["code"].astype(str).tolist()
    cands = [{"candidate_id": f"TC-{i}", "enterprise_id": e, "park_id": parks[i % len(parks)],
              "origin_county_code": codes[i % len(codes)], "destination_county_code": codes[(i * 7) % len(codes)],
              "version": 1, "status": "pending", "score": 0.5, "scenario": "all", "snapshot": {}, "reviews": []}
             for i, e in enumerate(ents["enterprise_id"])]
    t = time.perf_counter()
    static = exports.sheet_static(ds)
    print(f"static built {time.perf_counter()-t:.2f} s")
    import pickle
    print(f"static pickled: {len(pickle.dumps(static))/1e3:.0f} kB; places of one: {len(pickle.dumps(exports.sheet_places(cands[0], ds)))/1e3:.1f} kB")
    me = psutil.Process()
    exports.render_review_sheet(cands[0], static, exports.sheet_places(cands[0], ds))  # warm font in thread
    th = []
    for c in cands[1:]:
        c0, w0 = time.process_time(), time.perf_counter()
        exports.render_review_sheet(c, static, exports.sheet_places(c, ds))
        th.append((time.process_time() - c0, time.perf_counter() - w0))
    p = SheetProcess()
    c0, w0 = time.process_time(), time.perf_counter()
    pid = p.warm("v", static)
    print(f"child start + static + font: wall {time.perf_counter()-w0:.2f} s, parent CPU {time.process_time()-c0:.3f} s, child CPU {sum(psutil.Process(pid).cpu_times()[:2]):.2f} s, child RSS {psutil.Process(pid).memory_info().rss/2**20:.0f} MiB")
    pr = []
    cpu0 = sum(psutil.Process(pid).cpu_times()[:2])
    for c in cands[1:]:
        c0, w0 = time.process_time(), time.perf_counter()
        p.render("v", c, exports.sheet_places(c, ds), lambda: static)
        pr.append((time.process_time() - c0, time.perf_counter() - w0))
    child = psutil.Process(pid)
    print(f"child after {len(pr)} sheets: RSS {child.memory_info().rss/2**20:.0f} MiB, CPU per sheet {(sum(child.cpu_times()[:2]) - cpu0) / len(pr) * 1e3:.0f} ms; server RSS {me.memory_info().rss/2**20:.0f} MiB")
    p.close()
    for name, xs in (("in-thread", th), ("process", pr)):
        print(f"{name:10s} parent CPU median {statistics.median(x[0] for x in xs)*1e3:.1f} ms, wall median {statistics.median(x[1] for x in xs)*1e3:.1f} ms (n={len(xs)})")

if __name__ == "__main__":
    main()
