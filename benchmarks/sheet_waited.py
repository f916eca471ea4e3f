"""How long a user waits for a review sheet on a busy machine: made in the background child (``nice`` 10, where a
decided sheet was made before, and where a download that joined it waited) or in the normal-priority child that now
makes the sheets a user waits for (:class:`api.sheet_process.SheetClient`).

``python -m benchmarks.sheet_waited [--burners N] [--sheets N]`` loads the web benchmark's dataset (20,000
enterprises), starts both children, then with ``N`` busy processes (pure-Python loops at normal priority, standing in
for the server's workers and the browsers on the same cores; default: 2 per core) makes the same sheets alternately
in each child and prints, per child, the wall time a caller waits per sheet (p50, p95, max) and the child's CPU
seconds per sheet, beside the machine's load average. Without burners the two children should be alike.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time


def _burn(stop) -> None:  # a process that wants a whole core at normal priority
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--burners", type=int, default=2 * (os.cpu_count() or 1))
    ap.add_argument("--sheets", type=int, default=20)
    args = ap.parse_args(argv)

    import psutil

    from api import exports
    from api.sheet_process import CHILD_NICE, SheetProcess
    from benchmarks._data import gpkg
    from geodata.dataset import load_dataset
    from parks.joins import prepare

    ds = prepare(load_dataset(gpkg(20_000)))
    ents = ds.enterprises.iloc[::397].head(args.sheets)
    parks = ds.parks["park_id"].tolist()
    codes = ds.counties["code"].astype(str).tolist()
    cands = [{"candidate_id": f"TC-{i}", "enterprise_id": e, "park_id": parks[i % len(parks)],
              "origin_county_code": codes[i % len(codes)], "destination_county_code": codes[(i * 7) % len(codes)],
              "version": 1, "status": "pending", "score": 0.5, "scenario": "all", "snapshot": {}, "reviews": []}
             for i, e in enumerate(ents["enterprise_id"])]
    static = exports.sheet_static(ds)
    lanes = {f"background (nice {CHILD_NICE})": SheetProcess(nice=CHILD_NICE), "waited (nice 0)": SheetProcess(nice=0)}
    pids = {name: lane.warm("v", static) for name, lane in lanes.items()}
    for lane in lanes.values():  # one unmeasured sheet each
        lane.render("v", cands[0], exports.sheet_places(cands[0], ds), lambda: static)
    cpu0 = {name: sum(psutil.Process(pid).cpu_times()[:2]) for name, pid in pids.items()}
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_burn, args=(stop,), daemon=True) for _ in range(args.burners)]
    for b in burners:
        b.start()
    time.sleep(1.0)
    waits: dict[str, list[float]] = {name: [] for name in lanes}
    started = time.strftime("%H:%M:%S", time.gmtime())
    try:
        for c in cands:
            places = exports.sheet_places(c, ds)
            for name, lane in lanes.items():
                t = time.perf_counter()
                lane.render("v", c, places, lambda: static)
                waits[name].append(time.perf_counter() - t)
    finally:
        stop.set()
        for b in burners:
            b.join(5)
    load = os.getloadavg()
    print(f"{len(cands)} sheets per child, {args.burners} busy processes on {os.cpu_count()} cores, "
          f"{started}-{time.strftime('%H:%M:%S', time.gmtime())} UTC, load average {load[0]:.2f} {load[1]:.2f}")
    print("| child | wait p50 ms | wait p95 ms | wait max ms | child CPU per sheet ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, xs in waits.items():
        cpu = (sum(psutil.Process(pids[name]).cpu_times()[:2]) - cpu0[name]) / len(xs)
        print(f"| {name} | {statistics.median(xs) * 1e3:.0f} | {_pct(xs, 0.95) * 1e3:.0f} | {max(xs) * 1e3:.0f} "
              f"| {cpu * 1e3:.0f} |")
    for lane in lanes.values():
        lane.close()


if __name__ == "__main__":
    main()
