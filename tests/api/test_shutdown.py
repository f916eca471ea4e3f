"""``parkplan serve`` stops when asked (issue: a server sent SIGTERM during its warm-up had not exited 7 s later).

The real command (``python -m api.cli serve``) runs as a subprocess over a private copy of the test dataset and
a private review database, on a free port. It is stopped by SIGTERM (systemd's stop) or SIGINT (Ctrl-C) during
its warm-up (while it computes the metrics report, or while the web pages are warmed with the review sheet's
child process running) and when idle after its warm-up; with one worker and with ``--workers 2``. Each time:

* it exits within :data:`STOP_BOUND_S` seconds (a liveness bound on a loaded machine, not a speed claim), with
  its normal status: one worker, SIGTERM: ended by SIGTERM again (uvicorn raises it after the app's shutdown;
  systemd counts it as clean); SIGINT: 0 (uvicorn's own); ``--workers 2``: the supervisor's 0;
* no process it started survives it (the sheet child, multiprocessing's resource tracker, the uvicorn workers and
  their children): every descendant seen while it ran is gone soon after;
* no claim of a shared result (``claim|...`` rows of ``shared_cache``) is left in the review database, so the next
  start never waits for a stale one; the database passes SQLite's integrity check;
* a second start over the same database computes the interrupted items without waiting ("took over the stale
  claim" is what a waiting start logs).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from .conftest import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: seconds a stop may take (liveness on a machine shared by several test runs; the stops measured take about 1 s)
STOP_BOUND_S = 20.0
#: seconds a start may take to reach a given warm-up step (loading and joining the dataset on a loaded machine)
START_BOUND_S = 600.0


def _as_from_a_terminal() -> None:
    """SIGINT handled as in a terminal's foreground (a test runner started in the background ignores SIGINT, and
    its children would inherit that: Ctrl-C would do nothing)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Serve:
    """``python -m api.cli serve`` over ``data``/``db``; its output (stdout and stderr) in a log file."""

    def __init__(self, data: Path, db: Path, log: Path, *args: str) -> None:
        self.log = log
        self.db = db
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve", "--data", str(data), "--db", f"sqlite:///{db}",
                 "--port", str(free_port()), "--no-propose", *args],
                cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_as_from_a_terminal)
        self.seen: dict[int, psutil.Process] = {}

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, count: int = 1, timeout: float = START_BOUND_S) -> None:
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, self.text())) < count:
            assert self.proc.poll() is None, f"server exited ({self.proc.returncode}): {self.text()[-3000:]}"
            assert time.monotonic() < deadline, f"no {pattern!r} after {timeout:.0f} s: {self.text()[-3000:]}"
            self.look()
            time.sleep(0.2)
        self.look()

    def look(self) -> list[psutil.Process]:
        """Record the server's descendants now (they are checked after the stop)."""
        try:
            kids = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for k in kids:
            self.seen.setdefault(k.pid, k)
        return kids

    def stop(self, sig: int) -> tuple[int, float]:
        """Send ``sig``; (exit status, seconds to exit). Killed (and failed) past :data:`STOP_BOUND_S`."""
        self.look()
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            status = self.proc.wait(STOP_BOUND_S)
        except subprocess.TimeoutExpired:
            for p in [psutil.Process(self.proc.pid), *self.seen.values()]:
                try:
                    p.kill()
                except psutil.NoSuchProcess:
                    pass
            self.proc.wait(30)
            pytest.fail(f"still running {STOP_BOUND_S:.0f} s after {signal.Signals(sig).name}: {self.text()[-3000:]}")
        return status, time.monotonic() - t0

    def survivors(self, within: float = 10.0) -> list[str]:
        """The descendants seen while it ran that still run ``within`` seconds after it exited."""
        deadline = time.monotonic() + within
        while True:
            alive = [p for p in self.seen.values() if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
            if not alive or time.monotonic() > deadline:
                return [f"{p.pid} {' '.join(p.cmdline())[:120]}" for p in alive]
            time.sleep(0.2)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


def _claims(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT key FROM shared_cache WHERE key LIKE 'claim|%'")]


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.fixture
def server(tmp_dataset_path, tmp_path):
    started: list[Serve] = []

    def start(*args: str, log: str = "serve.log") -> Serve:
        s = Serve(tmp_dataset_path, tmp_path / "reviews.sqlite", tmp_path / log, *args)
        started.append(s)
        return s

    yield start
    for s in started:
        s.kill()


def _stopped_cleanly(s: Serve, sig: int, expected: int) -> float:
    status, took = s.stop(sig)
    assert status == expected, f"exit status {status} after {signal.Signals(sig).name}: {s.text()[-3000:]}"
    assert s.survivors() == [], "processes of the server left running"
    assert _claims(s.db) == [], "a claim left behind: the next start would wait for it"
    assert _integrity(s.db) == "ok"
    return took


def test_sigterm_during_the_warm_up_then_a_second_start_and_stops_when_idle(server):
    first = server()
    first.wait_for(r"parkplan: warming metrics report")
    time.sleep(2)  # inside the metrics report (a minute of Ripley envelopes on this dataset): it holds a claim
    with sqlite3.connect(first.db) as conn:  # the claim exists while it computes (what must not be left behind)
        assert conn.execute("SELECT count(*) FROM shared_cache WHERE key LIKE 'claim|%'").fetchone()[0] >= 1
    assert "warm-up of process" in first.text() and " done in " not in first.text()
    _stopped_cleanly(first, signal.SIGTERM, -signal.SIGTERM)
    assert re.search(r"the server is stopping: warm-up of process \d+ stopped", first.text())

    second = server(log="second.log")  # the same database: computes the metrics report, without waiting
    second.wait_for(r"parkplan: warm-up of process \d+ done in ")
    assert "took over the stale claim" not in second.text()
    assert not re.search(r"warming .* failed", second.text()), second.text()[-3000:]
    assert any("spawn_main" in " ".join(p.cmdline()) for p in second.look())  # the sheet child runs, idle
    _stopped_cleanly(second, signal.SIGTERM, -signal.SIGTERM)

    third = server("--workers", "2", log="third.log")  # idle with two workers (they read the shared results)
    third.wait_for(r"parkplan: warm-up of process \d+ done in ", count=2)
    assert "took over the stale claim" not in third.text()
    _stopped_cleanly(third, signal.SIGINT, 0)


def test_sigint_while_the_sheet_child_warms(server):
    s = server()
    s.wait_for(r"parkplan: warming web pages")  # its first part starts the review sheet's child
    deadline = time.monotonic() + START_BOUND_S
    while not any("spawn_main" in " ".join(p.cmdline()) for p in s.look()):
        assert time.monotonic() < deadline and s.proc.poll() is None, s.text()[-3000:]
        time.sleep(0.1)
    _stopped_cleanly(s, signal.SIGINT, 0)
    assert "died twice" not in s.text() and "making the sheet in the server" not in s.text()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_two_workers_stop_during_the_warm_up(server, sig):
    s = server("--workers", "2")
    s.wait_for(r"parkplan: warm-up of process \d+ started", count=2)
    s.wait_for(r"parkplan: warming metrics report", count=1)
    time.sleep(2)
    workers = [p for p in s.look() if "spawn_main" in " ".join(p.cmdline())]
    assert len(workers) >= 2, s.text()[-3000:]
    _stopped_cleanly(s, sig, 0)
    assert len(re.findall(r"the server is stopping: warm-up of process \d+ stopped", s.text())) == 2, s.text()[-3000:]
