"""Against a real uvicorn server on 127.0.0.1: OWSLib's OGC API Features client, many parallel
reviewers (none lost, stale refused, audit complete), and kill -9 mid-burst (every acknowledged
decision survives, the database passes its integrity check)."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

import httpx
import pytest
from sqlalchemy import select

from api.db import AuditEntry, Review, TransferCandidate, integrity_check, make_engine

pytestmark = pytest.mark.slow


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_owslib_reads_the_collections(read_server, dataset):
    served = read_server
    from owslib.ogcapi.features import Features

    w = Features(served.url, headers=_auth(served.tokens["analyst"]))
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in w.conformance()["conformsTo"]
    ids = {c["id"] for c in w.collections()["collections"]}
    assert ids == {"parks", "counties", "enterprises", "projects"}
    items = w.collection_items("parks", limit=10, offset=0)
    assert items["numberMatched"] == len(dataset.parks) and len(items["features"]) == 10
    textiles = w.collection_items("enterprises", sector="textiles", limit=5)
    assert textiles["numberMatched"] == int((dataset.enterprises["sector"] == "textiles").sum())
    one = w.collection_item("parks", items["features"][0]["id"])
    assert one["id"] == items["features"][0]["id"]
    # the viewer's client sees only the public collections
    v = Features(served.url, headers=_auth(served.tokens["viewer"]))
    assert {c["id"] for c in v.collections()["collections"]} == {"parks", "counties"}


def test_gdal_oapif_driver_reads_every_page(read_server, dataset):
    served = read_server
    """GDAL's OGC API - Features driver (through pyogrio) follows the next links to the last park."""
    import pyogrio

    if "OAPIF" not in pyogrio.list_drivers():
        pytest.skip("this GDAL has no OAPIF driver")
    # GDAL's bearer authentication (GDAL_HTTP_HEADERS is overridden by the driver's own Accept header)
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": served.tokens["viewer"]})
    try:
        layers = {name for name, _ in pyogrio.list_layers(f"OAPIF:{served.url}")}
        assert {"parks", "counties"} <= layers and "enterprises" not in layers
        parks = pyogrio.read_dataframe(f"OAPIF:{served.url}", layer="parks")
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})
    assert len(parks) == len(dataset.parks)
    assert set(parks["park_id"]) == set(dataset.parks["park_id"])
    assert parks.crs.to_epsg() == 4326


def test_parallel_reviewers_lose_nothing(served, candidate_rows):
    """16 reviewers x 3 rounds on the same 4 candidates: each round all read, then all post with If-Match.
    Exactly one wins per candidate and round; the others get 412; the database and audit agree."""
    admin = served.tokens["admin"]
    targets = [c["candidate_id"] for c in candidate_rows[:4]]
    n_workers, rounds = 16, 3
    results: list[tuple[str, int, str]] = []  # (candidate, status, version_before)
    lock = threading.Lock()
    barrier = threading.Barrier(n_workers, timeout=120)

    def worker(k: int) -> None:
        try:
            _rounds(k)
        except BaseException:
            barrier.abort()  # never leave the others waiting
            raise

    def _rounds(k: int) -> None:
        with httpx.Client(base_url=served.url, headers=_auth(admin), timeout=60) as client:
            for rnd in range(rounds):
                cid = targets[(k + rnd) % len(targets)]
                got = client.get(f"/transfer-candidates/{cid}")
                etag, version = got.headers["ETag"], got.json()["version"]
                barrier.wait()
                decision = ("approved", "rejected", "needs_info")[k % 3]
                r = client.post(f"/transfer-candidates/{cid}/reviews", headers={"If-Match": etag},
                                json={"decision": decision, "comment": f"worker {k} round {rnd}"})
                with lock:
                    results.append((cid, r.status_code, version))
                barrier.wait()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == n_workers * rounds
    codes = Counter(code for _, code, _ in results)
    assert set(codes) <= {201, 412}, codes
    accepted = defaultdict(list)
    for cid, code, version in results:
        if code == 201:
            accepted[cid].append(version)
    # per candidate and round exactly one winner: versions decided on are distinct (no lost update)
    for cid, versions in accepted.items():
        assert len(versions) == len(set(versions))
    # four reviewers post on each candidate with the same ETag each round: one wins, three are refused
    assert codes[201] == len(targets) * rounds and codes[412] == n_workers * rounds - codes[201]

    engine = make_engine(served.db_url)
    with engine.connect() as conn:
        reviews = conn.execute(select(Review.candidate_id, Review.version_before, Review.version_after)).all()
        audit = conn.execute(select(AuditEntry.object_id, AuditEntry.before, AuditEntry.after)
                             .where(AuditEntry.action == "review")).all()
        cands = {c.candidate_id: c for c in conn.execute(select(TransferCandidate.candidate_id, TransferCandidate.version))}
    assert len(reviews) == codes[201] == len(audit)
    for cid in targets:
        n = sum(1 for r in reviews if r.candidate_id == cid)
        assert cands[cid].version == 1 + n
        assert sorted(r.version_before for r in reviews if r.candidate_id == cid) == list(range(1, n + 1))
        assert sorted(a.before["version"] for a in audit if a.object_id == cid) == list(range(1, n + 1))
    assert integrity_check(engine)["ok"]
    engine.dispose()


@pytest.mark.parametrize("review_db_url", ["sqlite"], indirect=True)
def test_kill_9_mid_burst_keeps_every_acknowledged_decision(served, candidate_rows):
    admin = served.tokens["admin"]
    ids = [c["candidate_id"] for c in candidate_rows]
    acked: list[tuple[str, int, str]] = []  # (candidate, version_after, decision)
    lock = threading.Lock()
    enough = threading.Event()
    n_workers = 4

    def worker(k: int) -> None:
        mine = ids[k::n_workers]
        versions = {cid: 1 for cid in mine}
        try:
            with httpx.Client(base_url=served.url, headers=_auth(admin), timeout=10) as client:
                for i in range(10_000):
                    cid = mine[i % len(mine)]
                    decision = ("approved", "rejected", "needs_info")[i % 3]
                    r = client.post(f"/transfer-candidates/{cid}/reviews",
                                    json={"decision": decision, "comment": f"burst {k}-{i}", "version": versions[cid]})
                    if r.status_code != 201:
                        raise AssertionError(r.text)
                    versions[cid] = r.json()["candidate"]["version"]
                    with lock:
                        acked.append((cid, versions[cid], decision))
                        if len(acked) >= 40:
                            enough.set()
        except httpx.TransportError:
            return  # the server died under us: expected

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_workers)]
    for t in threads:
        t.start()
    assert enough.wait(120), "the burst did not get going"
    served.kill()  # SIGKILL while the workers are still posting
    for t in threads:
        t.join(30)
    with lock:
        acknowledged = list(acked)
    assert len(acknowledged) >= 40

    served.start()  # restart over the same database
    engine = make_engine(served.db_url)
    assert integrity_check(engine) == {"ok": True, "backend": "sqlite", "detail": []}
    with engine.connect() as conn:
        stored = {(r.candidate_id, r.version_after, r.decision)
                  for r in conn.execute(select(Review.candidate_id, Review.version_after, Review.decision))}
        audited = {(a.object_id, a.after["version"], a.after["status"])
                   for a in conn.execute(select(AuditEntry.object_id, AuditEntry.after)
                                         .where(AuditEntry.action == "review"))}
    engine.dispose()
    missing = [a for a in acknowledged if a not in stored]
    assert not missing, f"{len(missing)} acknowledged decisions lost"
    assert set(acknowledged) <= audited
    # and the restarted server serves them
    with httpx.Client(base_url=served.url, headers=_auth(admin), timeout=30) as client:
        cid, version, decision = acknowledged[-1]
        now = client.get(f"/transfer-candidates/{cid}").json()
        assert now["version"] >= version
