"""``parkplan serve --workers 2`` (issue 15): real processes on a free port answer with one token created by the CLI
in the same database; both workers answer (``X-Worker-Pid`` on /health), and a token revoked through the CLI is
refused by every worker within the authentication interval (state shared through the database)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from typer.testing import CliRunner

from api.cli import app as cli

from .conftest import free_port

pytestmark = pytest.mark.slow

AUTH_TTL_S = 1.0


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _pids(base: str, n: int = 200) -> set[int]:
    """The worker pids seen over ``n`` /health requests, each on a new connection (the kernel hands a new
    connection to whichever worker accepts first)."""
    seen: set[int] = set()
    for _ in range(n):
        r = httpx.get(f"{base}/health", timeout=10)
        assert r.status_code == 200
        seen.add(int(r.headers["x-worker-pid"]))
        if len(seen) >= 2 and _ >= 20:
            break
    return seen


def test_two_workers_answer_and_share_the_token_database(tmp_dataset_path, tmp_path):
    db = f"sqlite:///{tmp_path / 'reviews.sqlite'}"
    token = _cli("token", "create", "--role", "analyst", "--label", "workers", "--data", str(tmp_dataset_path),
                 "--db", db).strip().splitlines()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    parkplan = Path(sys.executable).with_name("parkplan")
    cmd = [str(parkplan)] if parkplan.exists() else [sys.executable, "-m", "api.cli"]
    log = tmp_path / "serve.log"
    env = {**os.environ, "NO_COLOR": "1", "PARKPLAN_AUTH_TTL_S": str(AUTH_TTL_S)}
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd + ["serve", "--workers", "2", "--no-propose", "--no-warm", "--port", str(port),
                                       "--data", str(tmp_dataset_path), "--db", db],
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        deadline = time.monotonic() + 300  # each worker loads and joins the dataset
        pids: set[int] = set()
        while len(pids) < 2:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, f"saw workers {pids}; log: {log.read_text(errors='replace')[-3000:]}"
            try:
                pids |= _pids(base, 50)
            except httpx.HTTPError:
                time.sleep(0.5)
        children = {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        assert len(pids) == 2 and pids <= children and proc.pid not in pids

        auth = {"Authorization": f"Bearer {token}"}
        for _ in range(20):  # new connections: both workers get some
            r = httpx.get(f"{base}/collections/parks/items?limit=3", headers=auth, timeout=30)
            assert r.status_code == 200 and r.json()["numberReturned"] == 3
        eid = httpx.get(f"{base}/collections/enterprises/items?limit=1", headers=auth,
                        timeout=30).json()["features"][0]["id"]
        r = httpx.post(f"{base}/suitability", headers=auth, json={"enterprise_id": eid, "top": 2}, timeout=60)
        assert r.status_code == 200 and len(r.json()["ranked"]) <= 2

        listing = _cli("token", "list", "--json", "--data", str(tmp_dataset_path), "--db", db)
        import json

        token_id = json.loads(listing)[0]["id"]
        _cli("token", "revoke", str(token_id), "--data", str(tmp_dataset_path), "--db", db)
        time.sleep(AUTH_TTL_S + 0.2)  # the cache interval of every worker has ended
        statuses = {httpx.get(f"{base}/collections", headers=auth, timeout=30).status_code for _ in range(20)}
        assert statuses == {401}
        assert len(_pids(base, 50)) == 2  # both workers still up, and both were asked above
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
