"""Start-up warm-up of N worker processes over one review database (issue 15): what ``parkplan serve --workers N``
does before users arrive, measured as CPU seconds.

``python -m benchmarks.warm_workers [--workers 2] [--n 20000]`` starts N processes together; each builds the app
(:func:`api.app.create_app`, as a uvicorn worker does) over the web benchmark's dataset and one temporary SQLite
review database, runs every task of :func:`api.app.warm_tasks` in order, and reports its wall time, its CPU time
(its own and its children's: the review sheet process) and what it read from the database instead of computing
(:attr:`api.shared_compute.SharedResults.counts`). ``PARKPLAN_SHARED_WARM=0`` in the environment: every worker
computes everything itself (as before the shared warm-up).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def worker(data: str, db_url: str) -> None:
    t0, c0 = time.perf_counter(), _cpu()
    from api.app import create_app, warm_tasks
    from api.settings import Settings

    app = create_app(data, db_url, settings=Settings.from_env(warm=False))
    state = app.state.parkplan
    tasks = {}
    for name, task in warm_tasks(state):
        t, c = time.perf_counter(), _cpu()
        task()
        tasks[name] = [round(time.perf_counter() - t, 1), round(_cpu() - c, 1)]
    state.close()
    print(json.dumps({"pid": os.getpid(), "wall_s": round(time.perf_counter() - t0, 1),
                      "cpu_s": round(_cpu() - c0, 1), "tasks": tasks, "counts": dict(state.shared.counts)}),
          flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.warm_workers")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n", type=int, default=20_000, help="enterprises of the benchmark dataset")
    parser.add_argument("--worker", nargs=2, metavar=("DATA", "DB_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return
    from ._data import dataset, gpkg

    data = gpkg(args.n)
    dataset(args.n)
    with tempfile.TemporaryDirectory(prefix="parkplan-warm-workers-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'reviews.sqlite'}"
        from api.db import init_db, make_engine

        init_db(make_engine(db_url))  # as parkplan serve's parent does before the workers start
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, PARKPLAN_SHARED_WARM="
              f"{os.environ.get('PARKPLAN_SHARED_WARM', '1')}", flush=True)
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.warm_workers", "--worker", str(data), db_url],
                                  stdout=subprocess.PIPE, text=True) for _ in range(args.workers)]
        results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        wall = time.perf_counter() - t0
    for r in results:
        print(json.dumps(r, ensure_ascii=False))
    print(f"{args.workers} workers: total CPU {sum(r['cpu_s'] for r in results):.1f} s, all warm after {wall:.1f} s; "
          f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
