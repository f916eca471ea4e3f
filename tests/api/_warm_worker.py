"""One worker process's start-up warm-up, for :mod:`tests.api.test_shared_warm`: ``python -m
tests.api._warm_worker DATASET DB_URL TASK[,TASK...]`` builds the app over the dataset and the review database (as a
uvicorn worker of ``parkplan serve --workers N`` does), runs the named tasks of :func:`api.app.warm_tasks`, and
prints one JSON line: what the process read and computed (:attr:`api.shared_compute.SharedResults.counts`), the
SHA-256 of what it serves for each warmed item, the code digest its keys carry, that digest computed again at the end,
and the files of the packages it imported (the tests run it over a snapshot of the source)."""

from __future__ import annotations

import hashlib
import json
import sys


def served(state) -> dict[str, str]:
    """The SHA-256 of the bytes each warmed item is served as."""
    import orjson


    out = {}
    doc = state.metrics.get(state.key("metrics", "*", None, None, 999, 99))
    if doc is not None:
        out["metrics"] = hashlib.sha256(orjson.dumps(doc)).hexdigest()
    from api.routes.maps import _map_options, _page_key

    clusters = state.maps.get(_page_key(state, "clusters", _map_options("zh")))
    if clusters is not None:
        page, parts = clusters
        out["clusters"] = hashlib.sha256(page.html("n" * 24).encode() + b"".join(parts)).hexdigest()
    computed = [state.plans.get(k) for k in state.plans.keys()]
    plans = sorted((p for p in computed if p is not None), key=lambda p: (p.scenario, p.order))
    if plans:
        out["plans"] = hashlib.sha256(orjson.dumps([[p.scenario, p.status, p.mip_gap, list(p.order), p.seconds,
                                                     p.report.to_dict()] for p in plans])).hexdigest()
    return out


def main(argv: list[str]) -> None:
    from api.app import create_app, warm_tasks
    from api.settings import Settings

    data, url, names = argv[0], argv[1], argv[2].split(",")
    app = create_app(data, url, settings=Settings.from_env(warm=False))
    state = app.state.parkplan
    tasks = dict(warm_tasks(state))
    for name in names:
        tasks[name]()
    from api import shared_compute

    # which code ran (the files of the packages it imported) and the digest its keys carry, beside the digest of
    # the same files read again now (they differ if the source changed while the process ran)
    modules = {name: str(sys.modules[name].__file__) for name in ("api", "geodata", "parks", "maps",
                                                                   "api.shared_compute")}
    print(json.dumps({"counts": dict(state.shared.counts), "served": served(state), "code": state.shared.code,
                      "code_at_exit": shared_compute.code_version.__wrapped__(), "modules": modules}),
          flush=True)
    state.close()


if __name__ == "__main__":
    main(sys.argv[1:])
