"""The limit of the browser benchmark (``python -m benchmarks web``): what a server that does no work answers in,
placed as parkplan's server is, while the browsers walk.

:class:`Limit` starts the bare ASGI app (:mod:`benchmarks._bare_asgi`: uvicorn, one process, the same pre-built
bytes for every request, no routing, no session, no template) on the cores the placement gives parkplan's server,
and a probe (``python -m benchmarks._probe HOST PORT PATHS INTERVAL_S``, this module) on the browsers' cores. The
probe sends one ``GET`` on one keep-alive connection every ``INTERVAL_S`` seconds, the comma-separated ``PATHS`` in
turn (the next one at once if an answer came late), and writes one line per answer: the milliseconds from the
request's send to its status line and headers (the browser's ``responseStart - requestStart``), the status and the
path. It runs until it is terminated. The paths are ``/`` (answered at once) and ``/cpu/N`` (answered after ``N`` ms
of the server thread's CPU time: :data:`CPU_MS`).

What it shows: what the placement alone makes of a page's server answer, whatever the server does: an answer that
costs no CPU waits for its process to get a core; one that costs ``N`` ms of CPU takes ``N`` ms only with a core of
its own, and longer with a share of one (on cores shared with 8 chromium pages). A page of parkplan's answered near
the limit of its CPU cost does nothing the placement does not force.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["Limit", "probe", "CPU_MS", "INTERVAL_S"]

#: the answers the probe asks for, by the milliseconds of CPU the server spends first: none, a light page, a heavy one
CPU_MS = (0, 10, 30)
#: seconds between two requests of the probe (each kind in turn): with :data:`CPU_MS`, 7% of a core of extra load
INTERVAL_S = 0.2


def probe(host: str, port: int, paths: list[str], interval_s: float, out=sys.stdout) -> None:
    """Ask ``GET`` each of ``paths`` in turn, one every ``interval_s`` seconds, until terminated; one line per
    answer (ms, status, path)."""
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=60)
    nxt = time.perf_counter()
    for i in itertools.count():
        path = paths[i % len(paths)]
        nxt += interval_s
        t0 = time.perf_counter()
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            t1 = time.perf_counter()
            resp.read()
            status: int | str = resp.status
        except (OSError, http.client.HTTPException) as exc:
            t1, status = time.perf_counter(), type(exc).__name__
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60)
        out.write(f"{1000 * (t1 - t0):.3f} {status} {path}\n")
        out.flush()
        time.sleep(max(0.0, nxt - time.perf_counter()))


class Limit:
    """The bare server on ``server_cores`` answering ``body``; :meth:`start_probe` / :meth:`stop_probe` around the
    measured rounds (the probe inherits the calling process's cores: call it where the browsers run)."""

    def __init__(self, body: bytes, port: int, host: str, server_cores: set[int] | None,
                 interval_s: float = INTERVAL_S, cpu_ms: tuple[int, ...] = CPU_MS) -> None:
        self.host, self.port, self.interval_s, self.cpu_ms = host, port, interval_s, cpu_ms
        self.paths = [f"/cpu/{ms}" if ms else "/" for ms in cpu_ms]
        self._dir = tempfile.TemporaryDirectory(prefix="parkplan-bench-limit-")
        body_path = Path(self._dir.name) / "body"
        body_path.write_bytes(body)
        from .bench_api import Server  # uvicorn with the bare app, as the API benchmark's limit rows run it

        self.server = Server(None, None, port, app="benchmarks._bare_asgi:app",
                             env={"PARKPLAN_BARE_BODY": str(body_path)}, cores=server_cores)
        self._probe: subprocess.Popen | None = None
        self._probe_out: Any = None

    def wait(self, timeout: float = 60.0) -> None:
        self.server.wait(timeout)

    def start_probe(self) -> None:
        self._probe_out = open(Path(self._dir.name) / "probe.txt", "w+b")
        self._probe = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._probe", self.host, str(self.port), ",".join(self.paths),
             str(self.interval_s)],
            stdout=self._probe_out, stderr=subprocess.DEVNULL, cwd=str(Path(__file__).resolve().parent.parent))

    def stop_probe(self) -> dict:
        """Stop the probe; its answers: ``{"ms": {cpu_ms: [ms, ...]}, "errors": n}`` (an error: a status other than
        200), per milliseconds of CPU the answer cost the server."""
        ms: dict[int, list[float]] = {c: [] for c in self.cpu_ms}
        if self._probe is None or self._probe_out is None:
            return {"ms": ms, "errors": 0}
        self._probe.terminate()
        self._probe.wait(30)
        self._probe_out.seek(0)
        cpu_of = dict(zip(self.paths, self.cpu_ms))
        errors = 0
        for line in self._probe_out.read().decode().splitlines():
            value, status, path = (line.split(" ") + ["", ""])[:3]
            if status == "200" and path in cpu_of:
                ms[cpu_of[path]].append(float(value))
            else:
                errors += 1
        self._probe_out.close()
        self._probe = self._probe_out = None
        return {"ms": ms, "errors": errors}

    def close(self) -> None:
        if self._probe is not None:
            self.stop_probe()
        self.server.stop()
        self._dir.cleanup()


def _main() -> None:
    host, port, paths, interval = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), float(sys.argv[4])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    probe(host, port, paths, interval)


if __name__ == "__main__":
    _main()
