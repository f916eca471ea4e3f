"""The limit of the browser benchmark (``python -m benchmarks web``): what a server that does no work answers in,
placed as parkplan's server is, while the browsers walk.

:class:`Limit` starts the bare ASGI app (:mod:`benchmarks._bare_asgi`: uvicorn, one process, the same pre-built
bytes for every request, no routing, no session, no template) on the cores the placement gives parkplan's server,
and a probe (``python -m benchmarks._probe HOST PORT PATH INTERVAL_S``, this module) on the browsers' cores. The
probe sends one ``GET`` on one keep-alive connection every ``INTERVAL_S`` seconds (the next one at once if an answer
came late) and writes one line per answer: the milliseconds from the request's send to its status line and headers
(the browser's ``responseStart - requestStart``), a space, and the status. It runs until it is terminated.

What it shows: the part of a page's server answer that the placement alone costs, whatever the server does. On
cores shared with 8 chromium pages, a sleeping process waits for a core to be woken on; pinned, it has one of its
own. A page of parkplan's answered at the limit does nothing the placement does not force.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["Limit", "probe"]


def probe(host: str, port: int, path: str, interval_s: float, out=sys.stdout) -> None:
    """Ask ``GET path`` every ``interval_s`` seconds until terminated; one line per answer (ms, status)."""
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=60)
    nxt = time.perf_counter()
    while True:
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
        out.write(f"{1000 * (t1 - t0):.3f} {status}\n")
        out.flush()
        time.sleep(max(0.0, nxt - time.perf_counter()))


class Limit:
    """The bare server on ``server_cores`` answering ``body``; :meth:`start_probe` / :meth:`stop_probe` around the
    measured rounds (the probe inherits the calling process's cores: call it where the browsers run)."""

    def __init__(self, body: bytes, port: int, host: str, server_cores: set[int] | None,
                 interval_s: float = 0.1) -> None:
        self.host, self.port, self.interval_s = host, port, interval_s
        self._dir = tempfile.TemporaryDirectory(prefix="parkplan-bench-limit-")
        body_path = Path(self._dir.name) / "body"
        body_path.write_bytes(body)
        pin = (lambda: os.sched_setaffinity(0, server_cores)) if server_cores else None
        self._log = open(Path(self._dir.name) / "server.log", "wb")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "benchmarks._bare_asgi:app", "--host", host, "--port", str(port),
             "--log-level", "warning", "--no-access-log"],
            env=dict(os.environ, PARKPLAN_BARE_BODY=str(body_path)), stdout=self._log, stderr=subprocess.STDOUT,
            preexec_fn=pin, start_new_session=True, cwd=str(Path(__file__).resolve().parent.parent))
        self._probe: subprocess.Popen | None = None
        self._probe_out: Any = None

    def wait(self, timeout: float = 60.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"the bare limit server exited ({self.server.returncode}): "
                                   f"{Path(self._log.name).read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"http://{self.host}:{self.port}/", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the bare limit server did not answer within {timeout:.0f} s")

    def start_probe(self) -> None:
        self._probe_out = open(Path(self._dir.name) / "probe.txt", "w+b")
        self._probe = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._probe", self.host, str(self.port), "/", str(self.interval_s)],
            stdout=self._probe_out, stderr=subprocess.DEVNULL, cwd=str(Path(__file__).resolve().parent.parent))

    def stop_probe(self) -> dict:
        """Stop the probe; its answers: ``{"ms": [...], "errors": n}`` (an error: a status other than 200)."""
        if self._probe is None or self._probe_out is None:
            return {"ms": [], "errors": 0}
        self._probe.terminate()
        self._probe.wait(30)
        self._probe_out.seek(0)
        ms, errors = [], 0
        for line in self._probe_out.read().decode().splitlines():
            value, _, status = line.partition(" ")
            if status == "200":
                ms.append(float(value))
            else:
                errors += 1
        self._probe_out.close()
        self._probe = self._probe_out = None
        return {"ms": ms, "errors": errors}

    def close(self) -> None:
        if self._probe is not None:
            self.stop_probe()
        if self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        self._log.close()
        self._dir.cleanup()


def _main() -> None:
    host, port, path, interval = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    probe(host, port, path, interval)


if __name__ == "__main__":
    _main()
