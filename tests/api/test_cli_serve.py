"""`parkplan token create|list|revoke`, `parkplan transfers propose|list` and `parkplan serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


def _run(*args):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_token_create_prints_it_once_and_it_works(tmp_dataset_path, dataset, tmp_path):
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    office = str(dataset.counties["code"].iloc[0])
    out = _run("token", "create", "--role", "reviewer", "--office", office, "--label", "县局", "--data",
               str(tmp_dataset_path), "--db", db)
    token = out.stdout.strip().splitlines()[-1]
    assert token.startswith("ppt_")
    listing = json.loads(_run("token", "list", "--json", "--data", str(tmp_dataset_path), "--db", db).stdout)
    assert listing[0]["role"] == "reviewer" and listing[0]["offices"] == [office] and token not in json.dumps(listing)

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    # auth_ttl_s=0: every request looks the token up (by default a revocation is seen within 5 s: test_auth.py)
    client = TestClient(create_app(tmp_dataset_path, db, settings=Settings.from_env(auth_ttl_s=0)))
    assert client.get("/transfer-candidates", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    _run("token", "revoke", str(listing[0]["id"]), "--data", str(tmp_dataset_path), "--db", db)
    assert client.get("/transfer-candidates", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize("args,message,zh", [(["--role", "root"], "accepted: viewer", "'root'"),
                                             (["--role", "reviewer"], "needs at least one office", "reviewer"),
                                             (["--role", "reviewer", "--office", "123456"], "not a county code",
                                              "123456")])
def test_token_create_refuses_bad_roles_and_offices(tmp_dataset_path, tmp_path, args, message, zh):
    """Refused in the command's language: English asked for in English, Chinese by default (naming the value)."""
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    result = runner.invoke(app, ["token", "create", *args, "--data", str(tmp_dataset_path), "--db", db, "--lang", "en"])
    assert result.exit_code == 2 and message in result.output.replace("\n", " ")
    result = runner.invoke(app, ["token", "create", *args, "--data", str(tmp_dataset_path), "--db", db, "--lang", "zh"])
    text = result.output.replace("\n", " ")
    assert result.exit_code == 2 and zh in text and message not in text and "错误" in text, text


def test_transfers_propose_is_idempotent_and_lists(tmp_dataset_path, tmp_path, candidate_rows):
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    first = json.loads(_run("transfers", "propose", "--json", "--data", str(tmp_dataset_path), "--db", db).stdout)
    assert first == {"added": len(candidate_rows)}
    again = json.loads(_run("transfers", "propose", "--json", "--data", str(tmp_dataset_path), "--db", db).stdout)
    assert again == {"added": 0}
    listed = json.loads(_run("transfers", "list", "--json", "--status", "pending", "--data", str(tmp_dataset_path),
                             "--db", db).stdout)
    assert listed["numberMatched"] == len(candidate_rows)
    assert {c["enterprise_id"] for c in listed["items"]} <= {c["enterprise_id"] for c in candidate_rows}
    check = json.loads(_run("transfers", "check", "--json", "--data", str(tmp_dataset_path), "--db", db).stdout)
    assert check == {"ok": True, "backend": "sqlite", "detail": []}


@pytest.mark.slow
def test_serve_proposes_candidates_on_first_start(tmp_dataset_path, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    parkplan = Path(sys.executable).with_name("parkplan")
    cmd = [str(parkplan)] if parkplan.exists() else [sys.executable, "-m", "api.cli"]
    log = tmp_path / "serve.log"  # a file, not a pipe nobody reads (a full pipe blocks the server)
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd + ["serve", "--data", str(tmp_dataset_path), "--db", db, "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "NO_COLOR": "1"})
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("parkplan serve did not answer /health")
        from sqlalchemy import func, select

        from api.db import TransferCandidate, make_engine

        engine = make_engine(db)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(TransferCandidate)).scalar_one() > 0
        engine.dispose()
        assert httpx.get(f"http://127.0.0.1:{port}/collections", timeout=5).status_code == 401
    finally:
        proc.terminate()
        proc.wait(15)
