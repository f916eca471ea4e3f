"""Tokens (hashed, constant-time), roles, browser sessions (cookie flags, expiry, CSRF, logout)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import Response
from sqlalchemy import select

from api import auth
from api.db import BrowserSession, Token

PROBLEM = "application/problem+json"


def test_tokens_are_stored_hashed_only(api):
    raw = api.tokens["analyst"]
    with api.app.state.sessions() as db:
        rows = db.execute(select(Token)).scalars().all()
        dumped = " ".join(f"{r.prefix} {r.secret_sha256} {r.label}" for r in rows)
    secret = auth._TOKEN_RE.match(raw).group(2)  # ppt_<prefix>_<secret>; the secret itself may hold "_"
    assert len(secret) >= 40
    assert secret not in dumped and raw not in dumped


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer ppt_000000000000_" + "x" * 43, "Basic abc", "Bearer ",
                                    "Bearer ppt_zz_1"])
def test_bad_tokens_are_401_problems(api, header):
    r = api.client.get("/collections", headers={"Authorization": header})
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_a_token_with_a_wrong_secret_is_refused(api):
    raw = api.tokens["admin"]
    forged = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    assert api.client.get("/collections", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_secrets_are_compared_with_compare_digest_hit_or_miss(api, monkeypatch):
    calls = []
    real = auth.hmac.compare_digest

    def spy(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    with api.app.state.sessions() as db:
        assert auth.authenticate_token(db, api.tokens["viewer"]) is not None
        assert auth.authenticate_token(db, "ppt_0123456789ab_" + "y" * 43) is None  # unknown prefix
    assert calls == [(64, 64), (64, 64)]  # the same work whether the prefix exists or not


def test_revoked_token_is_401(fresh_api):
    api = fresh_api
    raw = api.tokens["analyst"]
    with api.app.state.sessions() as db:
        p = auth.authenticate_token(db, raw)
        assert auth.revoke_token(db, p.token_id)
        db.commit()
    assert api.get("/collections", as_="analyst").status_code == 401


def test_role_and_office_validation():
    with pytest.raises(auth.AuthError, match="accepted: viewer, analyst, reviewer, admin"):
        auth.role_rank("superuser")
    with pytest.raises(auth.AuthError, match="needs at least one office"):
        auth._check_offices("reviewer", [])
    with pytest.raises(auth.AuthError, match="6-digit"):
        auth._check_offices("reviewer", ["33010"])


def _login(api, role="reviewer_a"):
    from fastapi.testclient import TestClient

    with api.app.state.sessions() as db:
        result = auth.login(db, api.tokens[role], key=api.app.state.session_key)
        db.commit()
    client = TestClient(api.app, raise_server_exceptions=False)
    client.cookies.set(auth.SESSION_COOKIE, result.cookie_value)
    return client, result


def test_cookie_flags_are_httponly_samesite_strict_and_secure_over_https(api):
    with api.app.state.sessions() as db:
        result = auth.login(db, api.tokens["viewer"], key=api.app.state.session_key)
        db.commit()
    for secure in (False, True):
        resp = Response()
        auth.set_session_cookie(resp, result, secure=secure)
        cookie = resp.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        assert ("secure" in cookie.replace("samesite", "")) is secure
    with api.app.state.sessions() as db:
        assert auth.login(db, "ppt_bad", key=api.app.state.session_key) is None


def test_session_cookie_authenticates_reads_and_needs_csrf_for_writes(fresh_api):
    api = fresh_api
    client, result = _login(api)
    listing = client.get("/transfer-candidates")
    assert listing.status_code == 200
    cid = listing.json()["items"][0]["candidate_id"]
    r = client.post(f"/transfer-candidates/{cid}/reviews", json={"decision": "approved", "version": 1})
    assert r.status_code == 403 and "X-CSRF-Token" in r.json()["detail"]
    r = client.post(f"/transfer-candidates/{cid}/reviews", json={"decision": "approved", "version": 1},
                    headers={"X-CSRF-Token": result.csrf})
    assert r.status_code == 201


def test_tampered_expired_and_logged_out_sessions_are_refused(fresh_api, monkeypatch):
    """A tampered cookie is refused; a session is refused at once when its expiry passes (also while its lookup
    is cached) and when this app logs it out; a session deleted by another process (another worker's logout, a
    revoked token) within ``auth_ttl_s``, as a revoked bearer token (documented in api.deps)."""
    import time
    from dataclasses import replace

    from fastapi.testclient import TestClient

    api = fresh_api
    state = api.app.state.parkplan
    monkeypatch.setattr(state, "settings", replace(state.settings, auth_ttl_s=1.0))
    client, result = _login(api)
    sid, sig = result.cookie_value.rsplit(".", 1)
    client.cookies.set(auth.SESSION_COOKIE, sid + "." + ("0" * len(sig)))
    assert client.get("/collections").status_code == 401
    # expired: a session of 4 s, looked up (cached), refused once its expiry has passed within the same interval.
    # Wait for the interval first: a session made before the wait could expire during it (a failed CI run did so).
    monkeypatch.setattr(state, "settings", replace(state.settings, auth_ttl_s=60.0))
    while time.monotonic() % 60.0 > 40.0:  # not near the end of an interval
        time.sleep(0.5)
    with api.app.state.sessions() as db:
        short = auth.login(db, api.tokens["reviewer_a"], key=api.app.state.session_key, ttl=dt.timedelta(seconds=4))
        db.commit()
    expiring = TestClient(api.app, raise_server_exceptions=False)
    expiring.cookies.set(auth.SESSION_COOKIE, short.cookie_value)
    assert expiring.get("/collections").status_code == 200
    time.sleep(max(0.0, (short.expires_at - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 0.1)
    assert expiring.get("/collections").status_code == 401
    # logged out through this app (the workspace's /logout): refused at once, cached or not
    client.cookies.set(auth.SESSION_COOKIE, result.cookie_value)
    assert client.get("/collections").status_code == 200  # cached now
    r = client.post("/logout", data={"csrf_token": result.csrf}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.set(auth.SESSION_COOKIE, result.cookie_value)  # as a copy of the cookie kept elsewhere
    assert client.get("/collections").status_code == 401
    with api.app.state.sessions() as db:
        assert auth.session_principal(db, result.cookie_value, key=api.app.state.session_key) is None  # row gone
    # deleted by another process: refused from the next interval
    monkeypatch.setattr(state, "settings", replace(state.settings, auth_ttl_s=1.0))
    client2, result2 = _login(api)
    assert client2.get("/collections").status_code == 200
    with api.app.state.sessions() as db:
        assert auth.logout(db, result2.cookie_value, key=api.app.state.session_key)
        db.commit()
    time.sleep(1.05)
    assert client2.get("/collections").status_code == 401


def test_signing_key_survives_a_restart(dataset_path, tmp_path):
    from api.app import create_app

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    a = create_app(dataset_path, url)
    b = create_app(dataset_path, url)
    assert a.state.session_key == b.state.session_key and len(a.state.session_key) == 32


def test_token_lookup_is_reused_for_the_ttl_then_revocation_is_seen(fresh_api, monkeypatch):
    """A bearer token is looked up once per PARKPLAN_AUTH_TTL_S (documented in api.deps): a revoked token keeps
    working until the interval ends, never longer; an unknown token is not remembered."""
    import time
    from dataclasses import replace

    api = fresh_api
    state = api.app.state.parkplan
    monkeypatch.setattr(state, "settings", replace(state.settings, auth_ttl_s=1.0))
    calls = []
    real = auth.authenticate_token
    monkeypatch.setattr("api.deps.authenticate_token", lambda db, raw: calls.append(raw) or real(db, raw))
    while time.monotonic() % 1.0 > 0.5:  # start early in an interval, so the next requests share it
        time.sleep(0.05)
    for _ in range(5):
        assert api.get("/collections", as_="analyst").status_code == 200
    assert len(calls) == 1
    with api.app.state.sessions() as db:
        p = real(db, api.tokens["analyst"])
        assert auth.revoke_token(db, p.token_id)
        db.commit()
    time.sleep(1.05)
    assert api.get("/collections", as_="analyst").status_code == 401
    assert api.get("/collections", as_="analyst").status_code == 401
    assert len(calls) == 3  # refused lookups are not cached


def test_a_cached_token_costs_no_database_session_and_no_thread(fresh_api, monkeypatch):
    """Within an interval a known token is answered from the cache on the event loop: no session is opened for
    the authentication (the parks page itself needs none), and no thread pool call is made for it."""
    import time
    from dataclasses import replace

    import api.deps as deps

    state = fresh_api.app.state.parkplan
    monkeypatch.setattr(state, "settings", replace(state.settings, auth_ttl_s=30.0))
    while time.monotonic() % 30.0 > 25.0:  # not at the end of an interval
        time.sleep(0.5)
    assert fresh_api.get("/collections/parks/items?limit=1", as_="viewer").status_code == 200  # fills the cache
    opened, hops = [], []
    real_sessions, real_pool = state.sessions, deps.run_in_threadpool
    monkeypatch.setattr(state, "sessions", lambda *a, **k: opened.append(1) or real_sessions(*a, **k))

    async def counting_pool(fn, *args, **kwargs):
        hops.append(fn.__name__)
        return await real_pool(fn, *args, **kwargs)

    monkeypatch.setattr(deps, "run_in_threadpool", counting_pool)
    for _ in range(5):
        assert fresh_api.get("/collections/parks/items?limit=1", as_="viewer").status_code == 200
    assert opened == [] and hops == []
    # a session cookie not seen in this interval (or refused) is looked up in the thread pool
    assert fresh_api.get("/collections/parks/items?limit=1", as_=None,
                         cookies={auth.SESSION_COOKIE: "not-a-session"}).status_code == 401
    assert hops == ["_lookup_session"]
    # a session seen in this interval, as a token: no database session, no thread
    client, _ = _login(fresh_api, "viewer")
    assert client.get("/collections/parks/items?limit=1").status_code == 200  # fills the cache (a hop)
    opened.clear()
    hops.clear()
    for _ in range(5):
        assert client.get("/collections/parks/items?limit=1").status_code == 200
    assert opened == [] and hops == []


def test_a_workspace_page_checks_a_cached_session_on_the_event_loop(fresh_api, monkeypatch):
    """A page of the workspace (``/ui/...``) checks its session's access as the API does: a session seen in this
    interval costs no database session and no thread-pool call of its own (one hand-over per page, the
    handler's); a first sight is looked up in a thread; a role too low is still refused with the 403 page."""
    import time
    from dataclasses import replace

    import api.web.backend as backend

    state = fresh_api.app.state.parkplan
    monkeypatch.setattr(state, "settings", replace(state.settings, auth_ttl_s=30.0))
    while time.monotonic() % 30.0 > 25.0:
        time.sleep(0.5)
    hops = []
    real_pool = backend.run_in_threadpool

    async def counting_pool(fn, *args, **kwargs):
        hops.append(fn.__name__)
        return await real_pool(fn, *args, **kwargs)

    monkeypatch.setattr(backend, "run_in_threadpool", counting_pool)
    client, _ = _login(fresh_api, "viewer")
    assert client.get("/ui/parks").status_code == 200
    assert hops == ["page_user"]  # the first sight: looked up in a thread
    opened = []
    real_sessions = state.sessions
    monkeypatch.setattr(state, "sessions", lambda *a, **k: opened.append(1) or real_sessions(*a, **k))
    for _ in range(3):
        r = client.get("/ui/parks")
        assert r.status_code == 200 and "<table" in r.text
    assert hops == ["page_user"] and opened == []
    r = client.get("/ui/review")  # a viewer is no reviewer: the cached session does not skip the role check
    assert r.status_code == 403
