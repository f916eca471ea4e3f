"""``python -m benchmarks.harness_cpu [--every-request] [--rounds N] [--size quick]``: the CPU of each kind of process
during a pinned web run (chromium, Playwright's driver, this benchmark's process, the server), every process sampled
every 0.5 s; the last reading of each is summed by kind. ``--every-request`` listens to every request of every page
as the offsite watch did before (``bench_web.watch_offsite``), to compare the benchmark's own load on the browsers'
core with and without it (``docs/performance.md``, "The browsers' core")."""

from __future__ import annotations

import argparse
import threading
import time

import psutil

from . import bench_web


def _kind(p: psutil.Process, me: int) -> str:
    try:
        name, cmd = p.name(), " ".join(p.cmdline()[:4])
    except psutil.Error:
        return "gone"
    if p.pid == me:
        return "benchmark process"
    if "chrom" in name or "chrom" in cmd:
        return "chromium"
    if name == "node" or cmd.split(" ")[0].endswith("node"):
        return "playwright driver"
    return "server and probe (python)" if "python" in name else name


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.harness_cpu")
    ap.add_argument("--every-request", action="store_true", help="also listen to every request (the old watch)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--size", default="quick")
    args = ap.parse_args(argv)
    if args.every_request:
        from playwright.async_api import BrowserContext

        new_page = BrowserContext.new_page

        async def with_request_events(self, *a, **kw):
            self.on("request", lambda request: None)
            return await new_page(self, *a, **kw)

        setattr(BrowserContext, "new_page", with_request_events)  # a patch for this run only
    me = psutil.Process()
    seen: dict[int, tuple[str, float]] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for p in [me, *me.children(recursive=True)]:
                try:
                    t = p.cpu_times()
                    seen[p.pid] = (_kind(p, me.pid), t.user + t.system)
                except psutil.Error:
                    pass
            stop.wait(0.5)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    rep = bench_web.run(args.size, rounds=args.rounds, users=8, workers=(2,), placements=("pinned",))
    stop.set()
    th.join()
    totals: dict[str, float] = {}
    for kind, cpu in seen.values():
        totals[kind] = totals.get(kind, 0.0) + cpu
    print(f"every request watched: {args.every_request}; wall {time.perf_counter() - t0:.0f} s; CPU-seconds by kind:")
    for kind, cpu in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {kind}: {cpu:.1f}")
    print("\n".join(line for line in rep.body.splitlines() if line.startswith("| decision (submit to saved")))


if __name__ == "__main__":
    main()
