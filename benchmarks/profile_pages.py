"""Server CPU and wall of the pages that miss 300 ms at p95 when chromium and the server share the cores, cold and warm.

``python -m benchmarks.profile_pages [--n 7] [--profile PAGE]`` builds the app in process over the web benchmark's
dataset (20,000 enterprises), proposes its candidates and runs the start-up warm-up, as
:func:`benchmarks.profile_web_pages.build` does, then calls the ASGI app directly (no sockets, no browser) for:

* the suitability page by enterprise id (``/ui/suitability?q=..&enterprise_id=..``, what the browser benchmark asks)
  and its map frame (``/maps/suitability?enterprise_id=..``);
* ``/ui/metrics?sector=..``;
* ``/transfer-candidates/decisions.xlsx`` after a decision (the decision is the candidate page's form POST);
* the candidate's review sheet PDF after a decision: right after it (the request joins the sheet being made in the
  background; wall only, the drawing is in the sheet process) and once it is made.

*cold*: the first request of its kind (a new enterprise, a sector not asked yet, the first download after a
decision); *warm*: the same request again. Each figure is the median of ``n`` requests: the process's CPU time
(every thread of this process, after the background work of the previous request ended; a child process's CPU,
the review sheet's, is not in it) and the wall time of the answer. ``--profile PAGE`` prints cProfile's top
functions of ``n`` warm and cold requests of one row (its label's first word: suitability, map, metrics, excel, pdf).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import time
from collections.abc import Callable
from urllib.parse import quote

from .profile_api_request import _call, _inline_threadpool
from .profile_web_pages import _background_idle, build, print_profile

Req = tuple[str, str, str, list, bytes]


async def _one(app, req: Req, ok=(200, 303)) -> tuple[float, float, int]:
    """(CPU s, wall s, bytes) of one request, after the background work of the previous one ended."""
    _background_idle()
    method, path, query, headers, body = req
    c0, w0 = time.process_time(), time.perf_counter()
    status, out = await _call(app, method, path, query, headers, body)
    w1, c1 = time.perf_counter(), time.process_time()
    if status not in ok:
        raise RuntimeError(f"{method} {path}?{query}: {status} {out[:300]!r}")
    return c1 - c0, w1 - w0, len(out)


def cases(pages, n: int) -> dict[str, tuple[Callable[[int], list[Req]], Callable[[int], Req]]]:
    """label -> (before(i): requests run unmeasured before the cold one, cold(i): the i-th cold request); the warm
    requests repeat the last cold one."""
    from .bench_web import DECISIONS, SECTORS

    a, o = pages.analyst, pages.office
    ents = pages.enterprises

    def suit(i):
        eid, q = ents[(7 * i + 3) % len(ents)]
        return "GET", "/ui/suitability", f"q={quote(q)}&enterprise_id={eid}", a, b""

    def suit_map(i):
        eid, _ = ents[(7 * i + 5) % len(ents)]
        return "GET", "/maps/suitability", f"enterprise_id={eid}", a, b""

    def metrics(i):
        return "GET", "/ui/metrics", f"sector={SECTORS[i % len(SECTORS)]}", a, b""

    def decide(i):
        cid = pages.candidates[i % len(pages.candidates)]
        body = (f"csrf_token={pages.csrf}&version={pages.version(cid)}&seen_status=x&confirm_replace=yes"
                f"&decision={DECISIONS[i % 3]}&comment={quote('剖析')}").encode()
        return ("POST", f"/ui/review/{cid}", "", o + [(b"content-type", b"application/x-www-form-urlencoded")], body)

    def pdf(i):
        return "GET", f"/transfer-candidates/{pages.candidates[i % len(pages.candidates)]}/sheet.pdf", "", o, b""

    def xlsx(_i):
        return "GET", "/transfer-candidates/decisions.xlsx", "", o, b""

    none: Callable[[int], list[Req]] = lambda i: []  # noqa: E731
    return {
        "suitability page (by id)": (none, suit),
        "map frame /maps/suitability": (none, suit_map),
        "metrics page (?sector=)": (none, metrics),
        "decisions Excel after a decision": (lambda i: [decide(i)], xlsx),
        "sheet PDF right after a decision (joins the background sheet)": (lambda i: [decide(i)], pdf),
        "sheet PDF after a decision, once made": (lambda i: [decide(i)], pdf),
    }


async def measure(app, pages, n: int, only: str = "") -> dict[str, dict]:
    out = {}
    for label, (before, cold) in cases(pages, n).items():
        if only and not label.lower().startswith(only.lower()):
            continue
        joins = label.startswith("sheet PDF right after")
        colds, last = [], None
        for i in range(n):
            for req in before(i):
                await _one(app, req)
            last = cold(i)
            if joins:  # the decision's background sheet still running: what the browser's download meets
                c0, w0 = time.process_time(), time.perf_counter()
                _status, body_out = await _call(app, *last)
                colds.append((time.process_time() - c0, time.perf_counter() - w0, len(body_out)))
            else:
                colds.append(await _one(app, last))
        warms = [await _one(app, last) for _ in range(n)] if last is not None else []
        out[label] = {"cold": colds, "warm": warms}
    return out


def _med(xs: list[tuple[float, float, int]], k: int) -> float:
    return statistics.median(x[k] for x in xs) * 1e3 if xs else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=7, help="cold requests (distinct) and warm repeats per row")
    parser.add_argument("--only", default="", help="the rows whose label starts with this")
    parser.add_argument("--profile", default="", help="cProfile the rows whose label starts with this")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)

    t0 = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()[0]
    app, pages, tmp = build(False)
    try:
        res = asyncio.run(measure(app, pages, args.n, args.only))
        print(f"started {t0}, load average {load0:.2f}; ended {time.strftime('%H:%M UTC', time.gmtime())}, "
              f"load average {os.getloadavg()[0]:.2f}; medians of {args.n}")
        print("\n| request | cold CPU ms | cold wall ms | warm CPU ms | warm wall ms | bytes |")
        print("| --- | --- | --- | --- | --- | --- |")
        for label, r in res.items():
            size = r["warm"][-1][2] if r["warm"] else r["cold"][-1][2]
            print(f"| {label} | {_med(r['cold'], 0):.1f} | {_med(r['cold'], 1):.1f} | {_med(r['warm'], 0):.1f} | "
                  f"{_med(r['warm'], 1):.1f} | {size:,d} |")
        if args.profile:
            _inline_threadpool()  # the handlers in this thread, for cProfile to see them (after the figures)
            prof = cProfile.Profile()

            async def profiled():
                prof.enable()
                await measure(app, pages, args.n, args.profile)
                prof.disable()

            asyncio.run(profiled())
            print_profile(prof, args.top, f"{args.profile}: cProfile (cold and warm), cumulative",
                          skip=r"(starlette|fastapi|asyncio)/")
    finally:
        app.state.parkplan.engine.dispose()
        tmp.cleanup()


if __name__ == "__main__":
    main()
