"""The server's own CPU per page of the web workspace, one request at a time, in process (no browser, no sockets).

``python -m benchmarks.profile_web_pages [--n 20] [--profile] [--pages plan,review list] [--no-warm]`` builds
the app (``api.app.create_app``) over the web benchmark's dataset (20,000 enterprises: the one ``python -m
benchmarks web`` serves) and a temporary review database, proposes its transfer candidates (as ``parkplan
serve`` does on a fresh database), runs the start-up warm-up in this thread (as the server's background thread
would have before the benchmark's users arrive; ``--no-warm`` skips it), opens one browser session per role
(analyst; a county office with candidates) through :func:`api.auth.login`, then calls the ASGI app directly for
each page the browser benchmark walks (:data:`benchmarks.bench_web.PAGES`), with the session cookie.

Printed per page: the process CPU time and wall time per request (medians of 3 rounds of ``n`` requests, after
2 unmeasured calls), the wall time of the background work left after the round's answers (per request: a
decision's new review sheet, made in the sheet process), and the response size. The decision is the form's POST (the 303: what the browser then
loads is the candidate page, its own row); its CPU includes the background thread that makes the new version's
review sheet, waited for before the round ends (the server's CPU after a decision).

``--profile`` also prints cProfile's top functions (cumulative) of ``n`` requests per page; as in
:mod:`benchmarks.profile_api_request` the thread-pool hop is replaced by a direct call for the profile only.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

from ._data import dataset, gpkg
from .profile_api_request import _call, _inline_threadpool

N_ENT = 20_000


class Pages:
    """The requests of each page, over the app's dataset and review database."""

    def __init__(self, app, analyst_cookie: str, office_cookie: str, csrf: str, candidates: list[str]):
        self.app = app
        common = [(b"host", b"127.0.0.1:8000"), (b"accept", b"text/html,application/xhtml+xml,*/*;q=0.8")]
        self.analyst = [(b"cookie", f"parkplan_session={analyst_cookie}".encode()), *common]
        self.office = [(b"cookie", f"parkplan_session={office_cookie}".encode()), *common]
        self.csrf = csrf
        self.candidates = candidates
        ds = app.state.parkplan.dataset
        self.parks = ds.parks["park_id"].astype(str).tolist()[:50]
        ent = ds.enterprises.iloc[::max(1, len(ds.enterprises) // 64)]
        self.enterprises = list(zip(ent["enterprise_id"].astype(str), ent["name"].astype(str).str[:2], strict=True))

    def version(self, cid: str) -> int:
        from api.db import TransferCandidate

        with self.app.state.parkplan.sessions() as db:
            return int(db.get(TransferCandidate, cid).version)

    def _dropping(self, name: str, make):
        """``make``, after forgetting the page-view cache's entries named ``name`` (what a decision's new mark
        makes every worker compute again)."""
        pages = self.app.state.parkplan.pages

        def dropped(i):
            pages.discard_where(lambda k: isinstance(k, tuple) and len(k) > 1 and k[1] == name)
            return make(i)

        return dropped

    def requests(self) -> dict:
        """page -> make(i) -> (method, path, query, headers, body)."""
        from urllib.parse import quote

        from .bench_web import DECISIONS, SCENARIOS, SECTORS

        a, o = self.analyst, self.office

        def get(path, query="", who=a):
            return lambda i: ("GET", path, query, who, b"")

        def decide(i):
            cid = self.candidates[i % len(self.candidates)]
            body = (f"csrf_token={self.csrf}&version={self.version(cid)}&seen_status=x&confirm_replace=yes"
                    f"&decision={DECISIONS[i % 3]}&comment={quote('基准测试')}").encode()
            return ("POST", f"/ui/review/{cid}", "", o + [(b"content-type", b"application/x-www-form-urlencoded")],
                    body)

        def suit(i):
            eid, q = self.enterprises[i % len(self.enterprises)]
            return "GET", "/ui/suitability", f"q={quote(q)}&enterprise_id={eid}", a, b""

        return {
            "home": get("/"),
            "parks": get("/ui/parks"),
            "park page": lambda i: ("GET", f"/ui/parks/{self.parks[i % len(self.parks)]}", "", a, b""),
            "metrics": lambda i: ("GET", "/ui/metrics", f"sector={SECTORS[i % len(SECTORS)]}", a, b""),
            "suitability (query)": suit,
            "scenarios": lambda i: ("GET", "/ui/scenarios", f"scenario={SCENARIOS[i % len(SCENARIOS)]}", a, b""),
            "plan": get("/ui/plan"),
            "review list": get("/ui/review", "status=pending", o),
            "candidate": lambda i: ("GET", f"/ui/review/{self.candidates[i % len(self.candidates)]}", "", o, b""),
            "decision (POST 303)": decide,
            "review sheet PDF": lambda i: ("GET", f"/transfer-candidates/{self.candidates[i % len(self.candidates)]}"
                                                  "/sheet.pdf", "", o, b""),
            "decisions Excel": get("/transfer-candidates/decisions.xlsx", "", o),
            # as after a decision in the office's scope: the kept list and workbook dropped (each worker keeps them
            # until the scope's mark changes), the rows of the unchanged candidates still kept
            "review list (after a decision)": self._dropping("review_list", get("/ui/review", "status=pending", o)),
            "decisions Excel (after a decision)": self._dropping("decisions_xlsx",
                                                                 get("/transfer-candidates/decisions.xlsx", "", o)),
            # what the pages load besides their HTML (frames, style sheets, scripts): server CPU no page row shows
            "+ parks map (frame of parks)": get("/maps/parks"),
            "+ suitability map (frame)": lambda i: ("GET", "/maps/suitability",
                                                    f"enterprise_id={self.enterprises[i % len(self.enterprises)][0]}",
                                                    a, b""),
            "+ scenario map (frame)": lambda i: ("GET", f"/scenarios/{SCENARIOS[i % len(SCENARIOS)]}/map", "", a, b""),
            "+ transfers map (frame of candidate)": lambda i: (
                "GET", "/maps/transfers", f"candidate_id={self.candidates[i % len(self.candidates)]}", o, b""),
            "+ fonts css": get("/ui/fonts/cjk.css"),
            "+ style.css": get("/ui/static/style.css"),
            "+ app.js": get("/ui/static/app.js"),
        }


def print_profile(prof: cProfile.Profile, top: int, title: str, skip: str | None = None) -> None:
    """``prof``'s top ``top`` functions by cumulative time under a heading ``title``: empty lines, lines matching
    the regular expression ``skip`` and the site-packages prefix of paths left out (at most 20,000 characters)."""
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    text = "\n".join(line for line in buf.getvalue().splitlines()
                     if line.strip() and not (skip and re.search(skip, line)))
    print(f"\n## {title}\n")
    print(re.sub(r"/\S*/site-packages/", "", text)[:20000])


def _background_idle(timeout: float = 60.0) -> None:
    """Wait for the caches' background computations (a decision's new review sheet) to end."""
    from api.routes.transfers import SHEETS_AFTER_DECISIONS

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if SHEETS_AFTER_DECISIONS.idle() and not any(
                t.name.endswith("-compute") or (t.name.startswith("parkplan-sheet") and t.name != SHEETS_AFTER_DECISIONS.name)
                for t in threading.enumerate()):
            return
        time.sleep(0.005)


async def _round(app, make, n: int, start: int = 0) -> tuple[float, float, int, float]:
    """(CPU, wall of the answers, size, wall of the background work after them), per request; CPU includes
    the background work (a decision's new review sheet: its thread in this process), the first wall does not."""
    c0, w0 = time.process_time(), time.perf_counter()
    size = 0
    answers = 0.0
    for i in range(start, start + n):
        method, path, query, headers, body = make(i)
        t = time.perf_counter()
        status, out = await _call(app, method, path, query, headers, body)
        answers += time.perf_counter() - t
        if status not in (200, 303):
            raise RuntimeError(f"{method} {path}?{query}: {status} {out[:300]!r}")
        size = len(out)
    w1 = time.perf_counter()
    _background_idle()
    return (time.process_time() - c0) / n, answers / n, size, (time.perf_counter() - w1) / n


def build(no_warm: bool = False):
    """The app over the benchmark's dataset, its candidates proposed, warmed; (app, Pages, tmpdir)."""
    from api.app import create_app, warm_tasks
    from api.auth import create_token, login
    from api.db import TransferCandidate, write_transaction
    from api.jobs.admin import propose_into
    from api.settings import Settings
    from sqlalchemy import func, select

    data = gpkg(N_ENT)
    dataset(N_ENT)
    tmp = tempfile.TemporaryDirectory(prefix="parkplan-profile-web-")
    db_url = f"sqlite:///{Path(tmp.name) / 'reviews.sqlite'}"
    app = create_app(data, db_url, settings=Settings.from_env(warm=False))
    state = app.state.parkplan
    t = time.perf_counter()
    propose_into(state.engine, state.dataset)
    print(f"candidates proposed in {time.perf_counter() - t:.1f} s")
    if not no_warm:
        for name, task in warm_tasks(state):
            t = time.perf_counter()
            task()
            print(f"warm-up {name}: {time.perf_counter() - t:.1f} s")
    with state.sessions() as db:
        office, = db.execute(select(TransferCandidate.origin_county_code).group_by(TransferCandidate.origin_county_code)
                             .order_by(func.count().desc()).limit(1)).one()
        cands = [str(c) for c in db.execute(select(TransferCandidate.candidate_id)
                                            .where(TransferCandidate.origin_county_code == office)
                                            .order_by(TransferCandidate.candidate_id)).scalars()]
    def session(role, offices):
        def make(db):
            raw, _ = create_token(db, role, offices, label=f"profile {role}")
            db.flush()
            return login(db, raw, key=state.session_key)
        return write_transaction(state.engine, make)

    an, of = session("analyst", ()), session("reviewer", (office,))
    return app, Pages(app, an.cookie_value, of.cookie_value, of.csrf, cands[:8]), tmp


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="requests per round and page")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions per page")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    parser.add_argument("--no-warm", action="store_true", help="skip the start-up warm-up")
    args = parser.parse_args(argv)

    app, pages, tmp = build(args.no_warm)
    reqs = pages.requests()
    chosen = [p.strip() for p in args.pages.split(",") if p.strip()] or list(reqs)
    unknown = [p for p in chosen if p not in reqs]
    if unknown:
        raise SystemExit(f"unknown page(s) {unknown}; accepted: {', '.join(reqs)}")

    async def measure():
        out = {}
        for label in chosen:
            await _round(app, reqs[label], 2)  # first calls: whatever the warm-up did not compute
            rounds = [await _round(app, reqs[label], args.n, start=2 + k * args.n) for k in range(3)]
            out[label] = (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds),
                          rounds[-1][2], statistics.median(r[3] for r in rounds))
        return out

    try:
        results = asyncio.run(measure())
        print(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), f"load average {os.getloadavg()[0]:.2f}")
        print(f"\n{'page':32s} {'CPU ms/request':>15s} {'wall ms/request':>16s} {'+ background wall':>18s} "
              f"{'bytes':>10s}")
        for label, (cpu, wall, size, bg) in results.items():
            print(f"{label:32s} {cpu * 1e3:15.1f} {wall * 1e3:16.1f} {bg * 1e3:18.1f} {size:10,d}")
        if args.profile:
            _inline_threadpool()
            for label in chosen:
                prof = cProfile.Profile()

                async def profiled(make=reqs[label]):
                    prof.enable()
                    await _round(app, make, args.n, start=1000)
                    prof.disable()

                asyncio.run(profiled())
                print_profile(prof, args.top, f"{label}: cProfile, {args.n} requests, cumulative")
    finally:
        app.state.parkplan.engine.dispose()
        tmp.cleanup()


if __name__ == "__main__":
    main()
