"""A review decision traced as the browser waits for it: the browser's timestamps and the server's, part by part
(issue 15).

``python -m benchmarks.trace_web [--placement pinned|shared] [--rounds 5] [--users 8]`` runs the web benchmark's
flow (:mod:`benchmarks.bench_web`: 8 users in one headless chromium, the built-in 20,000-enterprise dataset, a
fresh review database, ``parkplan serve --workers 1`` with its warm-up) against the same server started through
this module (``python -m benchmarks.trace_web serve ...``), which installs trace hooks before it runs
``parkplan serve``. Nothing is traced in a plain ``parkplan serve``: the hooks exist only in this module's server
process (no cost, no switch, in the product).

The server writes one JSON line per request to the file named by ``PARKPLAN_TRACE_FILE``, with
``time.perf_counter`` stamps (converted to the machine's clock, ms since the epoch, by an offset taken at start):

* ``bytes``: uvicorn's protocol got the first bytes of the request (``data_received`` of the chunk where the
  request began); ``headers``: its headers parsed and the ASGI task created; ``body``: the whole body read;
* ``app``: the ASGI app called (the task started on the event loop);
* ``pool``: each call handed to the thread pool (``run_in_threadpool``: the page's access check, the handler):
  when it was handed over, started in its thread, ended, and when the event loop took the result back, with
  the thread's CPU time;
* ``response``: the response's start sent to the transport; ``done``: the app returned.

The browser's timestamps of each decision (``performance.timeOrigin`` plus the navigation entry's offsets, the
submit event's time kept in the tab's ``sessionStorage``) are matched with the server's records of the POST
``/ui/review/{id}`` and of the follow-up ``GET /ui/review/{id}?saved=1``. Both sides read the same clock (the
machine's), so the parts are differences of stamps of one clock; the check printed beside the table (the
server's arrival after the browser's request start, the browser's first byte after the server's response) shows
whether the clocks agree.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TRACE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("parkplan_web_trace", default=None)
TRACE_ENV = "PARKPLAN_TRACE_FILE"


# ---------------------------------------------------------------- the server's side
def install(path: str) -> None:
    """Install the hooks in this process (before ``parkplan serve`` builds and runs the app)."""
    import starlette.concurrency
    import uvicorn
    import uvicorn.protocols.http.httptools_impl as hi

    import fastapi.dependencies.utils as fdu
    import fastapi.routing as fr

    out = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the process's life
    perf = time.perf_counter
    offsets = []
    for _ in range(5):
        a = perf()
        w = time.time()
        b = perf()
        offsets.append((b - a, w - (a + b) / 2))
    offset = min(offsets)[1]  # wall = perf + offset (the pair read closest together)
    out.write(json.dumps({"clock_offset_s": offset, "switch_interval_s": sys.getswitchinterval(),
                          "pid": os.getpid()}) + "\n")

    proto = hi.HttpToolsProtocol
    orig_data, orig_begin, orig_made = proto.data_received, proto.on_message_begin, proto.connection_made
    orig_headers, orig_complete = proto.on_headers_complete, proto.on_message_complete

    def connection_made(self, transport) -> None:  # noqa: ANN001
        self._pp_conn, self._pp_n = perf(), 0
        orig_made(self, transport)

    def data_received(self, data: bytes) -> None:  # noqa: ANN001
        self._pp_bytes = perf()
        orig_data(self, data)

    def on_message_begin(self) -> None:  # noqa: ANN001
        orig_begin(self)
        self._pp_n = getattr(self, "_pp_n", 0) + 1
        self.scope["pp_trace"] = {"bytes": getattr(self, "_pp_bytes", None) or perf(),
                                  "conn": getattr(self, "_pp_conn", None), "nth_on_conn": self._pp_n}

    def on_headers_complete(self) -> None:  # noqa: ANN001
        orig_headers(self)
        tr = self.scope.get("pp_trace")
        if tr is not None:
            tr["headers"] = perf()

    def on_message_complete(self) -> None:  # noqa: ANN001
        orig_complete(self)
        tr = self.scope.get("pp_trace")
        if tr is not None:
            tr["body"] = perf()

    proto.connection_made = connection_made  # type: ignore[method-assign]
    proto.data_received = data_received  # type: ignore[method-assign]
    proto.on_message_begin = on_message_begin  # type: ignore[method-assign]
    proto.on_headers_complete = on_headers_complete  # type: ignore[method-assign]
    proto.on_message_complete = on_message_complete  # type: ignore[method-assign]

    orig_pool = starlette.concurrency.run_in_threadpool

    async def traced_pool(func, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        tr = TRACE.get()
        if tr is None:
            return await orig_pool(func, *args, **kwargs)
        name = getattr(kwargs.get("function") or func, "__name__", "?")
        rec: dict[str, Any] = {"fn": name, "submit": perf()}

        def run(*a, **kw):  # noqa: ANN002, ANN003, ANN202
            rec["start"] = perf()
            c0 = time.thread_time()
            try:
                return func(*a, **kw)
            finally:
                rec["end"] = perf()
                rec["cpu"] = time.thread_time() - c0

        try:
            return await orig_pool(run, *args, **kwargs)
        finally:
            rec["back"] = perf()
            tr.setdefault("pool", []).append(rec)

    fr.run_in_threadpool = traced_pool
    fdu.run_in_threadpool = traced_pool

    lag_period = float(os.environ.get("PARKPLAN_TRACE_LAG_S", "0.01"))

    async def lag_probe() -> None:
        """The event loop's lateness: a task sleeping ``lag_period`` records each wake later than 2 ms."""
        while True:
            t = perf()
            await asyncio.sleep(lag_period)
            late = perf() - t - lag_period
            if late > 0.002:
                out.write(json.dumps({"lag": [t + lag_period, late]}) + "\n")

    probe: list[Any] = []

    def wrap(app: Any) -> Any:
        async def traced_app(scope, receive, send):  # noqa: ANN001, ANN202
            if scope["type"] != "http":
                return await app(scope, receive, send)
            if not probe and lag_period > 0:
                probe.append(asyncio.get_running_loop().create_task(lag_probe()))
            tr = scope.get("pp_trace")
            if tr is None:
                tr = scope["pp_trace"] = {}
            tr.update(app=perf(), method=scope["method"], path=scope["path"],
                      query=scope.get("query_string", b"").decode("latin-1"))
            token = TRACE.set(tr)

            async def traced_send(message):  # noqa: ANN001, ANN202
                if message["type"] == "http.response.start":
                    tr["status"] = message["status"]
                    tr["response"] = perf()
                await send(message)

            try:
                await app(scope, receive, traced_send)
            finally:
                tr["done"] = perf()
                TRACE.reset(token)
                out.write(json.dumps(tr) + "\n")

        return traced_app

    orig_run = uvicorn.run

    def run(app: Any, *a: Any, **kw: Any) -> None:
        if kw.get("workers", 1) not in (None, 1) or isinstance(app, str):
            raise SystemExit("benchmarks.trace_web traces one worker (parkplan serve --workers 1)")
        return orig_run(wrap(app), *a, **kw)

    uvicorn.run = run


def serve(argv: list[str]) -> None:
    """``python -m benchmarks.trace_web serve [parkplan serve's options]``."""
    path = os.environ.get(TRACE_ENV)
    if not path:
        raise SystemExit(f"{TRACE_ENV} names the trace file")
    interval = os.environ.get("PARKPLAN_TRACE_SWITCH_INTERVAL")
    if interval:  # an experiment: the interpreter's switch interval (the GIL hand-over) of the traced server
        sys.setswitchinterval(float(interval))
    install(path)
    from api.cli import app

    app(["serve", *argv], prog_name="parkplan")


# ---------------------------------------------------------------- matching and the table
#: the parts of a decision, in order: (label, start stamp, end stamp); stamps: ``b.*`` the browser's, ``post.*`` /
#: ``get.*`` the server's records of the POST and of the follow-up GET (``pool_*``: the handler's thread-pool call)
PARTS = (
    ("browser: submit event to navigation start", "b.submit", "b.origin"),
    ("browser: navigation start to the POST's first bytes read by uvicorn", "b.origin", "post.bytes"),
    ("POST: bytes read to ASGI app called (event loop)", "post.bytes", "post.app"),
    ("POST: app called to the access check's thread done (pool)", "post.app", "post.access_back"),
    ("POST: form read and CSRF checked, to the handler handed to the pool", "post.access_back", "post.handler_submit"),
    ("POST: handler handed over to its thread starting (pool hand-over)", "post.handler_submit", "post.handler_start"),
    ("POST: handler runs (decide, commit; in its thread)", "post.handler_start", "post.handler_end"),
    ("POST: handler done to the 303 sent (back on the loop)", "post.handler_end", "post.response"),
    ("browser: 303 sent to the browser's redirect end", "post.response", "b.redirect_end"),
    ("browser: redirect end to the GET's first bytes read by uvicorn", "b.redirect_end", "get.bytes"),
    ("GET: bytes read to ASGI app called (event loop)", "get.bytes", "get.app"),
    ("GET: app called to the handler handed to the pool (access check)", "get.app", "get.handler_submit"),
    ("GET: handler handed over to its thread starting (pool hand-over)", "get.handler_submit", "get.handler_start"),
    ("GET: handler runs (candidate page rendered)", "get.handler_start", "get.handler_end"),
    ("GET: handler done to the response start sent (back on the loop)", "get.handler_end", "get.response"),
    ("browser: the page's response start sent to the browser's first byte", "get.response", "b.response_start"),
    ("browser: first byte to DOMContentLoaded", "b.response_start", "b.dcl"),
)
_POST_PARTS = (
    ("POST: bytes read to ASGI app called (event loop)", "post.bytes", "post.app"),
    ("POST: app called to the access check's thread done (pool)", "post.app", "post.access_back"),
    ("POST: form read and CSRF checked, to the handler handed to the pool", "post.access_back", "post.handler_submit"),
    ("POST: handler handed over to its thread starting (pool hand-over)", "post.handler_submit", "post.handler_start"),
)
#: the parts of a decision submitted in place (``static/review.js``: fetch, the decision card swapped in)
PARTS_IN_PLACE = (
    ("browser: submit event to the fetch's start", "b.submit", "b.fetch_start"),
    ("browser: fetch start to the POST's first bytes read by uvicorn", "b.fetch_start", "post.bytes"),
    *_POST_PARTS,
    ("POST: handler runs (decide, commit, the card rendered; in its thread)", "post.handler_start", "post.handler_end"),
    ("POST: handler done to the response start sent (back on the loop)", "post.handler_end", "post.response"),
    ("browser: the card's response start sent to the browser's first byte", "post.response", "b.response_start"),
    ("browser: first byte to the whole card read", "b.response_start", "b.response_end"),
    ("browser: card read to the page's script taking it (the page's main thread)", "b.response_end", "b.answer"),
    ("browser: the card parsed and swapped in", "b.answer", "b.shown"),
)
TOTALS_IN_PLACE: tuple[tuple[str, str | None, str | None], ...] = (
    ("submit to the card's first byte", "b.submit", "b.response_start"),
    ("submit to the saved state shown", "b.submit", "b.shown"),
    ("server: POST (bytes read to response start)", "post.bytes", "post.response"),
)
TOTALS: tuple[tuple[str, str | None, str | None], ...] = (
    ("submit to the next page's first byte", "b.submit", "b.response_start"),
    ("submit to DOMContentLoaded", "b.submit", "b.dcl"),
    ("server: POST (bytes read to 303 sent)", "post.bytes", "post.response"),
    ("server: GET (bytes read to response start)", "get.bytes", "get.response"),
    ("browser's measure: POST round trip (redirectEnd - redirectStart) + GET answer", None, None),
)


def _stamps(rec: dict[str, Any], offset_ms: float, prefix: str) -> dict[str, float]:
    """A server record's stamps as ms since the epoch, named ``prefix.name``."""
    out = {f"{prefix}.{k}": rec[k] * 1e3 + offset_ms for k in ("bytes", "headers", "body", "app", "response", "done")
           if k in rec}
    pool = rec.get("pool") or []
    access = [p for p in pool if p["fn"].startswith("page_")]
    handler = [p for p in pool if not p["fn"].startswith("page_")]
    if access:
        out[f"{prefix}.access_back"] = access[0]["back"] * 1e3 + offset_ms
    if handler:
        h = handler[-1]
        for k in ("submit", "start", "end", "back"):
            out[f"{prefix}.handler_{k}"] = h[k] * 1e3 + offset_ms
        out[f"{prefix}.handler_cpu_ms"] = h["cpu"] * 1e3
    return out


def match(samples: list[dict[str, Any]], records: list[dict[str, Any]], offset_s: float) -> list[dict[str, Any]]:
    """Per decision: the browser's stamps (``b.*``) and the server's of its POST and follow-up GET."""
    offset_ms = offset_s * 1e3
    posts = {r["path"]: r for r in records if r.get("method") == "POST" and r.get("path", "").startswith("/ui/review/")}
    gets = {r["path"]: r for r in records if r.get("method") == "GET" and r.get("path", "").startswith("/ui/review/")
            and "saved=1" in r.get("query", "")}
    rows = []
    for s in samples:
        d = s.get("detail") or {}
        cid = d.get("candidate")
        path = f"/ui/review/{cid}"
        in_place = d.get("mode") == "in place"
        if not cid or path not in posts or (path not in gets and not in_place) or s.get("error"):
            continue
        row: dict[str, Any] = {f"b.{k}": float(v) for k, v in d.items()
                               if k not in ("candidate", "mode", "saved", "version") and v is not None}
        row["mode"] = "in place" if in_place else "form"
        row.update(_stamps(posts[path], offset_ms, "post"))
        row["browser_measure"] = s.get("server_ms") or float("nan")
        row["post_new_conn"] = float(posts[path].get("nth_on_conn", 0) == 1)
        if not in_place:
            row.update(_stamps(gets[path], offset_ms, "get"))
            row["get_new_conn"] = float(gets[path].get("nth_on_conn", 0) == 1)
        rows.append(row)
    return rows


def add_lag(rows: list[dict[str, float]], lags: list[list[float]], offset_s: float) -> None:
    """Per decision, how long the server's event loop was late (the lag probe's records overlapping) while the
    browser's POST and GET were on their way (navigation start to the POST's bytes; redirect end to the GET's)."""
    spans = [((t + offset_s) * 1e3, (t + late + offset_s) * 1e3) for t, late in lags]

    def overlap(a: float, b: float) -> float:
        return sum(max(0.0, min(b, y) - max(a, x)) for x, y in spans)

    for r in rows:
        if "b.fetch_start" in r and "post.bytes" in r:
            r["lag_before_post"] = overlap(r["b.fetch_start"], r["post.bytes"])
        if "b.origin" in r and "post.bytes" in r:
            r["lag_before_post"] = overlap(r["b.origin"], r["post.bytes"])
        if "b.redirect_end" in r and "get.bytes" in r:
            r["lag_before_get"] = overlap(r["b.redirect_end"], r["get.bytes"])


def _pct(values: list[float], q: float) -> float:
    import numpy as np

    v = [x for x in values if x == x]
    return float(np.percentile(v, q)) if v else float("nan")


def table(rows: list[dict[str, Any]], parts: tuple = PARTS, totals: tuple = TOTALS) -> str:
    def diffs(a: str | None, b: str | None, key: str | None = None) -> list[float]:
        if key:
            return [r[key] for r in rows if key in r]
        return [r[b] - r[a] for r in rows if a in r and b in r]

    lines = ["| part | p50 ms | p95 ms | max ms |", "| --- | --- | --- | --- |"]
    for label, a0, b0 in parts:
        v = diffs(a0, b0)
        lines.append(f"| {label} | {_pct(v, 50):.1f} | {_pct(v, 95):.1f} | {max(v, default=float('nan')):.1f} |")
    for label, key in (("POST handler: its thread's CPU", "post.handler_cpu_ms"),
                       ("GET handler: its thread's CPU", "get.handler_cpu_ms"),
                       ("event loop late (lag probe) while the POST was on its way", "lag_before_post"),
                       ("event loop late (lag probe) while the GET was on its way", "lag_before_get")):
        v = diffs(None, None, key)
        if not v:
            continue
        lines.append(f"| {label} | {_pct(v, 50):.1f} | {_pct(v, 95):.1f} | {max(v, default=float('nan')):.1f} |")
    for label, a, b in totals:
        v = diffs(a, b, None if a else "browser_measure")
        lines.append(f"| **{label}** | {_pct(v, 50):.1f} | {_pct(v, 95):.1f} | {max(v, default=float('nan')):.1f} |")
    return "\n".join(lines)


def clock_check(rows: list[dict[str, float]]) -> str:
    """Whether the two sides' clocks agree: the server reads a request's bytes after the browser started it, and
    the browser's first byte comes after the server sent it (a negative minimum: the clocks disagree by that)."""
    a = [r["post.bytes"] - r["b.redirect_start"] for r in rows if "post.bytes" in r and "b.redirect_start" in r]
    b = [r["get.bytes"] - r["b.request_start"] for r in rows if "get.bytes" in r and "b.request_start" in r]
    c = [r["b.response_start"] - r["get.response"] for r in rows if "get.response" in r and "b.response_start" in r]
    return (f"clock check (min, ms; negative means the clocks disagree): POST bytes - redirectStart "
            f"{min(a, default=float('nan')):.2f}, GET bytes - requestStart {min(b, default=float('nan')):.2f}, "
            f"first byte - response sent {min(c, default=float('nan')):.2f}")


def server_pages(records: list[dict[str, Any]]) -> str:
    """Every request's server parts by page kind (bytes read to app called; the pool hand-overs; response)."""
    kinds: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if "path" not in r or "response" not in r:
            continue
        p = r["path"]
        kind = ("POST /ui/review/<id>" if r["method"] == "POST" else "GET /ui/review/<id>") \
            if p.startswith("/ui/review/") else "GET /ui/parks/<id>" if p.startswith("/ui/parks/") and p != "/ui/parks/" \
            else "GET /transfer-candidates/<id>/sheet.pdf" if p.endswith("sheet.pdf") else f"{r['method']} {p}"
        kinds.setdefault(kind, []).append(r)
    lines = ["| request | n | bytes to app p50 / p95 | pool hand-overs (sum) p50 / p95 | handler wall p50 / p95 | "
             "handler CPU p50 | bytes to response p50 / p95 |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for kind, rs in sorted(kinds.items()):
        loop = [(r["app"] - r["bytes"]) * 1e3 for r in rs if "bytes" in r]
        hand = [sum((p["start"] - p["submit"]) + (p["back"] - p["end"]) for p in r.get("pool", [])) * 1e3 for r in rs]
        hw = [(p["end"] - p["start"]) * 1e3 for r in rs for p in r.get("pool", []) if not p["fn"].startswith("page_")]
        hc = [p["cpu"] * 1e3 for r in rs for p in r.get("pool", []) if not p["fn"].startswith("page_")]
        tot = [(r["response"] - r["bytes"]) * 1e3 for r in rs if "bytes" in r]
        lines.append(f"| {kind} | {len(rs)} | {_pct(loop, 50):.1f} / {_pct(loop, 95):.1f} | {_pct(hand, 50):.1f} / "
                     f"{_pct(hand, 95):.1f} | {_pct(hw, 50):.1f} / {_pct(hw, 95):.1f} | {_pct(hc, 50):.1f} | "
                     f"{_pct(tot, 50):.1f} / {_pct(tot, 95):.1f} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- the driver
def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        serve(argv[1:])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--placement", choices=("pinned", "shared"), default="pinned")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="the traced server's sys.setswitchinterval (seconds); default: the interpreter's")
    parser.add_argument("--modes", default="in place,form",
                        help="how reviewers decide, comma-separated: in place (fetch), form (plain POST, 303)")
    parser.add_argument("--out", default="", help="also write the matched rows and the server records (JSON)")
    args = parser.parse_args(argv)

    from . import bench_web as bw
    from ._data import dataset, gpkg

    chromium = bw.chromium_path()
    n = bw.N_ENT["quick"]
    data = gpkg(n)
    info = bw._dataset_info(dataset(n))
    with tempfile.TemporaryDirectory(prefix="parkplan-trace-web-") as tmpdir:
        tmp = Path(tmpdir)
        trace_file = tmp / "trace.jsonl"
        env = {TRACE_ENV: str(trace_file)}
        if args.switch_interval:
            env["PARKPLAN_TRACE_SWITCH_INTERVAL"] = str(args.switch_interval)
        t0 = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        res = bw._measure(data, tmp / "reviews.sqlite", 1, args.users, args.rounds, chromium, info,
                          tmp / "template.sqlite", True, bw.PAGE_TIMEOUT_MS["quick"], args.placement,
                          server_module="benchmarks.trace_web", server_env=env,
                          modes=tuple(m.strip() for m in args.modes.split(",") if m.strip()))
        lines = [json.loads(x) for x in trace_file.read_text(encoding="utf-8").splitlines() if x.strip()]
    head = lines[0]
    records = [x for x in lines[1:] if "lag" not in x]
    rows = match(res["samples"], records, head["clock_offset_s"])
    add_lag(rows, [x["lag"] for x in lines[1:] if "lag" in x], head["clock_offset_s"])
    decs = [p for p in res["pages"] if p["page"].startswith("decision (")]
    print(f"\n{t0}: {args.placement}, 1 worker, {args.users} users, {args.rounds} rounds; server switch interval "
          f"{head['switch_interval_s'] * 1e3:g} ms; load average {res['load_before']} before / {res['load_after']} "
          f"after; {res['visits']} page visits in {res['wall_s']:.0f} s wall, server CPU {res['server_cpu_s']:.1f} s; "
          f"{len(rows)} decisions matched of {sum(d['visits'] for d in decs)}; the benchmark's "
          + "; ".join(f"{d['page']} p50 / p95 {d['server_p50'] or float('nan'):.0f} / "
                      f"{d['server_p95'] or float('nan'):.0f} ms" for d in decs))
    form = [r for r in rows if r["mode"] == "form"]
    here = [r for r in rows if r["mode"] == "in place"]
    if here:
        print(f"\nIn place ({len(here)} decisions: fetch, the decision card swapped in)\n")
        print(table(here, PARTS_IN_PLACE, TOTALS_IN_PLACE))
        print(f"\nPOSTs on a new connection: {sum(r['post_new_conn'] for r in here):.0f} of {len(here)}")
    if form:
        print(f"\nThe plain form ({len(form)} decisions: POST, 303, the candidate page)\n")
        print(table(form))
        print()
        print(clock_check(form) + f"; POSTs on a new connection: {sum(r['post_new_conn'] for r in form):.0f} of "
              f"{len(form)}, GETs: {sum(r.get('get_new_conn', 0) for r in form):.0f}")
    print()
    print(server_pages(records))
    if args.out:
        Path(args.out).write_text(json.dumps({"head": head, "rows": rows, "records": records,
                                              "pages": res["pages"]}, default=str))


if __name__ == "__main__":
    main()
