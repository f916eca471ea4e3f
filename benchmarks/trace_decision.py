"""Where a review decision's POST waits, traced on a real server under a few concurrent users (issue 15).

``python -m benchmarks.trace_decision [--users 8] [--seconds 30] [--pin]`` starts a server process (uvicorn, one
worker, the web benchmark's 20,000-enterprise dataset, a fresh review database with its candidates proposed,
the review sheets' process warmed) with tracing hooks, then drives it from this process with ``--users`` httpx
clients in threads: half of them county-office reviewers who open a candidate, decide it (the form's POST,
its 303 not followed), open the candidate page again and the review list, now and then the decisions Excel
and the review sheet; the others analysts walking the home, parks and metrics pages.

The server records, per request (a context variable set on arrival, so the hooks know whose request they
see): arrival; the handler's dependencies done (session looked up, form parsed and its CSRF token checked);
the decision's ``write_transaction`` (waiting for ``BEGIN IMMEDIATE``, the work, the ``COMMIT``); the
sheet's start after the decision (``_sheet_after``); the response's start. Every write transaction of the
process (a decision, the sheet cache's store of its PDF, a login) is logged with when it held SQLite's write
lock, so a decision's wait for ``BEGIN IMMEDIATE`` can be matched with whoever held the lock. Printed: the
parts' medians and p95 for the decision's POST, the client's round trip beside them, and the other pages'
client round trips.

``--pin``: the server's processes on core 0, this driver on core 1 (as the browser benchmark's pinned half).
"""

from __future__ import annotations

import argparse
import contextvars
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TRACE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("parkplan_trace", default=None)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


# ---------------------------------------------------------------- the server's side
def _install_hooks(app: Any, log: list[dict[str, Any]], writes: list[dict[str, Any]]) -> Any:
    """Wrap the app and the functions a decision runs through; return the ASGI app to serve."""
    from sqlalchemy import event

    import api.db as db
    import api.reviews as reviews
    import api.shared_cache as shared_cache
    import api.web.backend as backend
    import api.web.pages_review as pages_review

    state = app.state.parkplan
    engine = state.engine
    local = threading.local()

    def mark(name: str) -> None:
        tr = TRACE.get()
        if tr is not None:
            tr.setdefault(name, time.perf_counter())

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        local.t0 = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        t1 = time.perf_counter()
        if statement.startswith("BEGIN IMMEDIATE"):
            w = getattr(local, "write", None)
            if w is not None:
                w["begin_asked"], w["locked"] = local.t0, t1
        tr = TRACE.get()
        if tr is not None:
            tr["sql_ms"] = tr.get("sql_ms", 0.0) + (t1 - local.t0) * 1e3
            tr["sql_n"] = tr.get("sql_n", 0) + 1

    @event.listens_for(engine, "commit")
    def _commit(conn):  # noqa: ANN001
        w = getattr(local, "write", None)
        if w is not None:
            w["commit_start"] = time.perf_counter()

    original_wt = db.write_transaction

    def traced_write_transaction(engine_, work, **kw):  # noqa: ANN001, ANN003
        tr = TRACE.get()
        w: dict[str, Any] = {"who": (tr or {}).get("path") or threading.current_thread().name,
                             "start": time.perf_counter()}
        local.write = w
        try:
            return original_wt(engine_, work, **kw)
        finally:
            w["end"] = time.perf_counter()
            local.write = None
            writes.append(w)
            if tr is not None:
                tr["write"] = w

    for mod in (reviews, shared_cache):
        mod.write_transaction = traced_write_transaction  # type: ignore[attr-defined]

    original_csrf = backend.check_csrf

    def traced_csrf(request, token):  # noqa: ANN001
        mark("form_parsed")
        try:
            return original_csrf(request, token)
        finally:
            mark("csrf_checked")

    backend.check_csrf = traced_csrf

    original_page_user = backend.page_user

    def traced_page_user(request, minimum):  # noqa: ANN001
        mark("user_asked")
        try:
            return original_page_user(request, minimum)
        finally:
            mark("user_known")

    backend.page_user = traced_page_user

    original_decide = pages_review.reviews.decide

    def traced_decide(*a, **kw):  # noqa: ANN002, ANN003
        mark("handler")
        try:
            return original_decide(*a, **kw)
        finally:
            mark("decided")

    pages_review.reviews = type("R", (), {})()  # a namespace forwarding to api.reviews, decide traced
    for name in dir(reviews):
        if not name.startswith("__"):
            setattr(pages_review.reviews, name, getattr(reviews, name))
    pages_review.reviews.decide = traced_decide

    original_after = pages_review._sheet_after

    def traced_after(*a, **kw):  # noqa: ANN002, ANN003
        mark("sheet_after_start")
        try:
            return original_after(*a, **kw)
        finally:
            mark("sheet_after_end")

    pages_review._sheet_after = traced_after

    original_make = shared_cache.SharedBytesCache._load_or_make

    def traced_load_or_make(self, key, compute):  # noqa: ANN001
        t = {"key": str(key), "start": time.perf_counter()}

        def timed():  # noqa: ANN202
            t["compute_start"] = time.perf_counter()
            try:
                return compute()
            finally:
                t["compute_end"] = time.perf_counter()

        try:
            return original_make(self, key, timed)
        finally:
            t["end"] = time.perf_counter()
            writes.append({"sheet": t})

    shared_cache.SharedBytesCache._load_or_make = traced_load_or_make  # type: ignore[method-assign]

    async def traced_app(scope, receive, send):  # noqa: ANN001
        if scope["type"] != "http":
            return await app(scope, receive, send)
        if scope["path"] == "/__trace":
            body = json.dumps({"requests": log, "writes": writes}).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        tr: dict[str, Any] = {"arrival": time.perf_counter(), "method": scope["method"], "path": scope["path"]}
        token = TRACE.set(tr)

        async def traced_send(message):  # noqa: ANN001
            if message["type"] == "http.response.start":
                tr["response"] = time.perf_counter()
                tr["status"] = message["status"]
            await send(message)

        try:
            await app(scope, receive, traced_send)
        finally:
            tr["done"] = time.perf_counter()
            TRACE.reset(token)
            log.append(tr)

    return traced_app


def serve(info_path: Path, port: int) -> None:
    import uvicorn

    from api.app import warm_tasks
    from api.auth import create_token, login
    from api.db import TransferCandidate, write_transaction
    from api.routes.transfers import warm_sheets
    from sqlalchemy import func, select

    from .profile_web_pages import build

    app, pages, tmp = build(no_warm=True)
    state = app.state.parkplan
    for name, task in warm_tasks(state):  # as the server's start-up warm-up, before the users come
        t = time.perf_counter()
        task()
        print(f"warm-up {name}: {time.perf_counter() - t:.1f} s", flush=True)
    warm_sheets(state)
    with state.sessions() as s:
        offices = [str(o) for o, in s.execute(
            select(TransferCandidate.origin_county_code).group_by(TransferCandidate.origin_county_code)
            .order_by(func.count().desc()).limit(4)).all()]
        cands = {o: [str(c) for c in s.execute(select(TransferCandidate.candidate_id)
                                                .where(TransferCandidate.origin_county_code == o)
                                                .order_by(TransferCandidate.candidate_id)).scalars()]
                 for o in offices}

    def session(role: str, offs: tuple[str, ...]) -> dict[str, str]:
        def make(db):  # noqa: ANN001, ANN202
            raw, _ = create_token(db, role, offs, label=f"trace {role}")
            db.flush()
            return login(db, raw, key=state.session_key)

        got = write_transaction(state.engine, make)
        return {"cookie": got.cookie_value, "csrf": got.csrf}

    info = {"port": port, "pid": os.getpid(),
            "reviewers": [dict(session("reviewer", (o,)), office=o, candidates=cands[o][:40]) for o in offices],
            "analyst": session("analyst", ())}
    log: list[dict[str, Any]] = []
    writes: list[dict[str, Any]] = []
    traced = _install_hooks(app, log, writes)
    tmp_info = info_path.with_suffix(".tmp")
    tmp_info.write_text(json.dumps(info))
    tmp_info.rename(info_path)
    try:
        uvicorn.run(traced, host="127.0.0.1", port=port, log_level="warning")
    finally:
        tmp.cleanup()


# ---------------------------------------------------------------- the driver's side
def drive(info: dict[str, Any], users: int, seconds: float) -> dict[str, list[float]]:
    import re

    import httpx

    base = f"http://127.0.0.1:{info['port']}"
    times: dict[str, list[float]] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    errors: list[str] = []

    def timed(label: str, fn):  # noqa: ANN001, ANN202
        t = time.perf_counter()
        r = fn()
        dt = (time.perf_counter() - t) * 1e3
        with lock:
            times.setdefault(label, []).append(dt)
        if r.status_code not in (200, 303):
            errors.append(f"{label}: {r.status_code}")
        return r

    def reviewer(k: int) -> None:
        who = info["reviewers"][k % len(info["reviewers"])]
        c = httpx.Client(base_url=base, cookies={"parkplan_session": who["cookie"]}, timeout=60)
        cands = who["candidates"][(k // len(info["reviewers"])) * 10:][:10] or who["candidates"]
        i = 0
        while time.monotonic() < stop:
            cid = cands[i % len(cands)]
            page = timed("candidate", lambda: c.get(f"/ui/review/{cid}"))
            m = re.search(r'name="version" value="(\d+)"', page.text)
            status = re.search(r'name="seen_status" value="(\w+)"', page.text)
            form = {"csrf_token": who["csrf"], "version": m.group(1) if m else "1",
                    "seen_status": status.group(1) if status else "pending", "confirm_replace": "yes",
                    "decision": ("approved", "rejected", "needs_info")[i % 3], "comment": "追踪测试"}
            timed("decision POST (303)", lambda: c.post(f"/ui/review/{cid}", data=form))
            timed("candidate after 303", lambda: c.get(f"/ui/review/{cid}", params={"saved": 1}))
            timed("review list", lambda: c.get("/ui/review", params={"status": "pending"}))
            if i % 3 == 2:
                timed("decisions Excel", lambda: c.get("/transfer-candidates/decisions.xlsx"))
                timed("review sheet PDF", lambda: c.get(f"/transfer-candidates/{cid}/sheet.pdf"))
            i += 1
            time.sleep(0.3)  # a reviewer reads before the next click

    def analyst(k: int) -> None:
        c = httpx.Client(base_url=base, cookies={"parkplan_session": info["analyst"]["cookie"]}, timeout=60)
        while time.monotonic() < stop:
            for path in ("/", "/ui/parks", "/ui/metrics"):
                timed(path, lambda: c.get(path))
                time.sleep(0.3)

    threads = [threading.Thread(target=reviewer if k % 2 == 0 else analyst, args=(k // 2,)) for k in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"{len(errors)} unexpected answers, e.g. {errors[:5]}")
    return times


def report(trace: dict[str, Any], times: dict[str, list[float]]) -> None:
    reqs = trace["requests"]
    writes = [w for w in trace["writes"] if "sheet" not in w]
    sheets = [w["sheet"] for w in trace["writes"] if "sheet" in w]
    posts = [r for r in reqs if r["method"] == "POST" and r["path"].startswith("/ui/review/") and "write" in r]

    def parts(r: dict[str, Any]) -> dict[str, float]:
        w = r["write"]
        out = {
            "arrival -> session known": r.get("user_known", r["arrival"]) - r["arrival"],
            "-> form parsed, CSRF checked": r.get("csrf_checked", r["arrival"]) - r.get("user_known", r["arrival"]),
            "-> handler runs (thread pool)": r["handler"] - r.get("csrf_checked", r["arrival"]),
            "write: wait for BEGIN IMMEDIATE": w.get("locked", w["start"]) - w.get("begin_asked", w["start"]),
            "write: work (read, check, update, insert)": w.get("commit_start", w["end"]) - w.get("locked", w["start"]),
            "write: COMMIT (synchronous=FULL)": w["end"] - w.get("commit_start", w["end"]),
            "_sheet_after / sheet_decided": r["sheet_after_end"] - r["sheet_after_start"],
            "-> response starts": r["response"] - r["sheet_after_end"],
            "server total (arrival -> response)": r["response"] - r["arrival"],
        }
        return {k: v * 1e3 for k, v in out.items()}

    rows = [parts(r) for r in posts]
    print(f"\nDecision POSTs traced: {len(rows)}")
    print(f"{'part':45s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
    for k in (rows[0] if rows else {}):
        vals = [r[k] for r in rows]
        print(f"{k:45s} {_pct(vals, .5):8.1f} {_pct(vals, .95):8.1f} {max(vals):8.1f}")
    # who held the write lock while a decision waited for it
    held_by: dict[str, int] = {}
    for r in posts:
        w = r["write"]
        if w.get("locked", 0) - w.get("begin_asked", 0) < 0.002:
            continue
        for o in writes:
            if o is w or "locked" not in o:
                continue
            if o["locked"] < w["locked"] and o["end"] > w["begin_asked"]:
                held_by[str(o["who"])] = held_by.get(str(o["who"]), 0) + 1
    if held_by:
        print("a decision waited (> 2 ms) for BEGIN IMMEDIATE while these held the write lock:", held_by)
    holds: dict[str, list[float]] = {}
    for o in writes:
        if "locked" in o:
            holds.setdefault(str(o["who"]).split("/")[1] if "/" in str(o["who"]) else str(o["who"]), []).append(
                (o["end"] - o["locked"]) * 1e3)
    for who, vals in holds.items():
        print(f"write lock held by {who:30s}: n={len(vals)} p50 {_pct(vals, .5):.1f} ms, max {max(vals):.1f} ms")
    if sheets:
        comp = [(s["compute_end"] - s["compute_start"]) * 1e3 for s in sheets if "compute_end" in s]
        tot = [(s["end"] - s["start"]) * 1e3 for s in sheets]
        print(f"sheets made in the background: {len(comp)}, making p50 {_pct(comp, .5):.0f} ms; load+make+store "
              f"p50 {_pct(tot, .5):.0f} ms")
    print(f"\n{'client round trip':30s} {'n':>5s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for label, vals in sorted(times.items()):
        print(f"{label:30s} {len(vals):5d} {_pct(vals, .5):8.1f} {_pct(vals, .95):8.1f}")
    server: dict[str, list[float]] = {}
    for r in reqs:
        if "response" in r:
            server.setdefault(r["method"] + " " + ("/ui/review/<id>" if r["path"].startswith("/ui/review/") else
                                                   "/transfer-candidates/<id>/sheet.pdf"
                                                   if r["path"].endswith("sheet.pdf") else r["path"]),
                              []).append((r["response"] - r["arrival"]) * 1e3)
    print(f"\n{'server (arrival -> response)':40s} {'n':>5s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for label, vals in sorted(server.items()):
        print(f"{label:40s} {len(vals):5d} {_pct(vals, .5):8.1f} {_pct(vals, .95):8.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--pin", action="store_true", help="server on core 0, this driver on core 1")
    parser.add_argument("--serve-info", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_info:
        serve(Path(args.serve_info), args.port)
        return
    import httpx

    tmp = Path(tempfile.mkdtemp(prefix="parkplan-trace-"))
    info_path = tmp / "info.json"
    env = dict(os.environ, PARKPLAN_WARM="0")
    cmd = [sys.executable, "-m", "benchmarks.trace_decision", "--serve-info", str(info_path), "--port", str(args.port)]
    pre = (lambda: os.sched_setaffinity(0, {0})) if args.pin else None
    if args.pin:
        os.sched_setaffinity(0, {1})
    proc = subprocess.Popen(cmd, env=env, preexec_fn=pre)  # noqa: PLW1509 - only the affinity
    try:
        deadline = time.monotonic() + 600
        while not info_path.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the traced server did not start")
            time.sleep(0.5)
        info = json.loads(info_path.read_text())
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{args.port}/health", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        t0 = time.strftime("%H:%M UTC", time.gmtime())
        load = os.getloadavg()[0]
        c0 = time.process_time()
        times = drive(info, args.users, args.seconds)
        trace = httpx.get(f"http://127.0.0.1:{args.port}/__trace", timeout=60).json()
        print(f"\n{t0}, {args.users} users for {args.seconds:.0f} s, load average before {load:.2f} / after "
              f"{os.getloadavg()[0]:.2f}, {'pinned' if args.pin else 'shared cores'}; driver CPU "
              f"{time.process_time() - c0:.1f} s")
        report(trace, times)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
