"""What is the same for every worker process is computed once and read by the others (:mod:`api.shared_compute`,
issue 15): two worker processes over one review database (separate Python processes, as ``parkplan serve
--workers 2`` runs them); a claim of a crashed worker is taken over; a new dataset version never reads the old
rows; a database that cannot be read or written only costs the computation. SQLite, and PostgreSQL when
``PARKPLAN_TEST_PG_URL`` is set (``review_db_url``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pandas as pd
import pytest
from sqlalchemy import select, text

from api import shared_compute
from api.db import init_db, make_engine, utcnow
from api.shared_cache import SHARED_CACHE
from api.shared_compute import SharedResults, json_codec

ROOT = Path(__file__).resolve().parents[2]
#: the packages whose source the shared results' key digests (api.shared_compute.code_version), and the worker
PACKAGES = ("geodata", "parks", "maps", "api")


@pytest.fixture(scope="module")
def code_snapshot(tmp_path_factory) -> Path:
    """One copy of the program's source for every worker process of this module.

    The stored results are keyed by a digest of the source files (:func:`api.shared_compute.code_version`), which
    each process reads from disk when it starts. Run from the checkout, a file changed between the first worker's
    start and the second's (an edit, a ``git`` operation: the checkout is shared) gave the second another digest:
    it looked for rows under another key and computed everything again, as it must for other code, and the test
    failed. The workers now import and digest this copy, taken once: they run the same code, as the workers of
    one ``parkplan serve`` do, and the digest is computed by the real function in each process."""
    root = tmp_path_factory.mktemp("code")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=ignore)
    (root / "tests" / "api").mkdir(parents=True)
    shutil.copy2(ROOT / "tests" / "api" / "_warm_worker.py", root / "tests" / "api" / "_warm_worker.py")
    return root


def _worker(code: Path, dataset_path, db_url: str, tasks: str) -> subprocess.Popen:
    """A worker process over ``code`` (:func:`code_snapshot`): ``python -m`` puts its directory first on the path,
    ahead of the checkout's editable install."""
    env = {**os.environ, "PARKPLAN_SHEET_PROCESS": "0"}
    env.pop("PYTHONPATH", None)
    return subprocess.Popen([sys.executable, "-m", "tests.api._warm_worker", str(dataset_path), db_url, tasks],
                            cwd=code, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _result(proc: subprocess.Popen, code: Path, timeout: float = 900) -> dict:
    """The worker's JSON line; it must have run the snapshot's code (not the checkout's) and digested it."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    ran = result["modules"]
    assert all(Path(f).resolve().is_relative_to(code.resolve()) for f in ran.values()), (code, ran)
    assert result["code"] == result["code_at_exit"], result
    return result


@pytest.fixture
def engine(review_db_url):
    eng = make_engine(review_db_url)
    init_db(eng)
    yield eng
    eng.dispose()


# ------------------------------------------------------------------------------------- two worker processes
@pytest.mark.slow
def test_the_second_worker_reads_the_metrics_report_the_first_computed(code_snapshot, dataset_path, review_db_url):
    first = _result(_worker(code_snapshot, dataset_path, review_db_url, "metrics report"), code_snapshot)
    assert first["counts"].get("computed:metrics") == 1 and "read" not in first["counts"], first
    second = _result(_worker(code_snapshot, dataset_path, review_db_url, "metrics report"), code_snapshot)
    assert second["code"] == first["code"]  # the same code, so the same keys
    assert second["counts"].get("read:metrics") == 1 and "computed" not in second["counts"], second
    # what the second serves is byte for byte what the first computed afresh
    assert second["served"]["metrics"] == first["served"]["metrics"]


@pytest.mark.slow
def test_two_workers_starting_together_compute_the_report_once(code_snapshot, dataset_path, review_db_url):
    procs = [_worker(code_snapshot, dataset_path, review_db_url, "metrics report") for _ in range(2)]
    a, b = (_result(p, code_snapshot) for p in procs)
    assert a["code"] == b["code"]
    counts = [r["counts"] for r in (a, b)]
    assert sum(c.get("computed:metrics", 0) for c in counts) == 1, counts
    assert sum(c.get("read:metrics", 0) for c in counts) == 1, counts
    assert a["served"]["metrics"] == b["served"]["metrics"]


# ------------------------------------------------------------------------------------- the claim protocol
def _claim_row(engine, key: tuple, owner: str, age_s: float) -> None:
    value = json.dumps({"owner": owner, "t": time.time() - age_s}).encode()
    ck = "claim|" + "|".join(map(str, key))
    with engine.begin() as conn:
        conn.execute(SHARED_CACHE.insert().values(key=ck, scope=ck, value=value, created_at=utcnow()))


def _full(shared: SharedResults, key: tuple) -> tuple:
    """The key as stored: the dataset version joined with the code's digest."""
    return (f"{key[0]}+{shared.code}", *key[1:])


def _rows(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(k for (k,) in conn.execute(select(SHARED_CACHE.c.key)))


def test_a_stale_claim_is_taken_over(engine):
    shared = SharedResults(engine)
    key = ("v1", "shared", "report", 999)
    _claim_row(engine, _full(shared, key), "crashed-host:123:dead", age_s=shared_compute.STALE_S + 1)
    calls = []
    value = shared.get(key, lambda: calls.append(1) or {"x": 1.5}, *json_codec())
    assert value == {"x": 1.5} and calls == [1]
    assert shared.counts["taken_over"] == 1 and shared.counts["computed"] == 1
    assert _rows(engine) == [f"v1+{shared.code}|shared|report|999"]  # the result stored, the claim released


def test_a_live_claim_is_waited_for_not_computed(engine, monkeypatch):
    monkeypatch.setattr(shared_compute, "POLL_S", 0.05)
    shared = SharedResults(engine)
    other = SharedResults(engine)  # another worker: it holds the claim and stores the result a second later
    key = ("v1", "shared", "report", 999)
    assert other._claim(_full(other, key)) is True
    stored = {"rows": [1, 2.25, None, "县"]}

    def finish() -> None:
        time.sleep(1.0)
        other.table.store(_full(other, key), orjson.dumps(stored))
        other._release(_full(other, key))

    threading.Thread(target=finish).start()
    value = shared.get(key, lambda: pytest.fail("computed although another worker's claim was live"), *json_codec())
    assert value == stored
    assert shared.counts["waited"] == 1 and shared.counts["read"] == 1 and shared.counts["computed"] == 0


def test_a_claim_released_without_a_result_lets_the_waiter_compute(engine, monkeypatch):
    monkeypatch.setattr(shared_compute, "POLL_S", 0.05)
    shared, other = SharedResults(engine), SharedResults(engine)
    key = ("v1", "shared", "report", 1)
    assert other._claim(_full(other, key)) is True
    threading.Timer(0.5, lambda: other._release(_full(other, key))).start()  # its computation failed: no row, claim gone
    assert shared.get(key, lambda: [7], *json_codec()) == [7]
    assert shared.counts["waited"] == 1 and shared.counts["computed"] == 1


def test_a_heartbeat_keeps_a_long_computation_claimed(engine, monkeypatch):
    monkeypatch.setattr(shared_compute, "HEARTBEAT_S", 0.1)
    monkeypatch.setattr(shared_compute, "STALE_S", 0.5)
    shared, other = SharedResults(engine), SharedResults(engine)
    key = ("v1", "shared", "slow")
    seen = []

    def slow():
        time.sleep(1.5)  # three times the stale limit: without the refresh the other would take it over
        seen.append(other._claim(_full(other, key)))
        return 1

    assert shared.get(key, slow, *json_codec()) == 1
    assert seen == [False]


def test_a_new_dataset_version_does_not_read_the_old_rows(engine):
    shared = SharedResults(engine)
    assert shared.get(("v1", "shared", "report"), lambda: {"n": 1}, *json_codec()) == {"n": 1}
    assert shared.get(("v2", "shared", "report"), lambda: {"n": 2}, *json_codec()) == {"n": 2}
    assert shared.counts["computed"] == 2 and shared.counts["read"] == 0
    assert _rows(engine) == [f"v2+{shared.code}|shared|report"]  # the old version's row replaced
    again = SharedResults(engine)
    assert again.get(("v2", "shared", "report"), lambda: pytest.fail("computed"), *json_codec()) == {"n": 2}


def test_the_state_keys_follow_the_dataset_file(dataset_path, tmp_path):
    import shutil

    from api.state import dataset_version

    copy = shutil.copy(dataset_path, tmp_path / "copy.gpkg")
    assert dataset_version(Path(copy)) != dataset_version(dataset_path)


def test_a_table_that_cannot_be_read_or_written_costs_only_the_computation(engine, capsys):
    shared = SharedResults(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE shared_cache"))
    assert shared.get(("v1", "shared", "report"), lambda: {"n": 3}, *json_codec()) == {"n": 3}
    assert shared.counts["computed"] == 1
    err = capsys.readouterr().out
    assert "cache read failed" in err and "claiming" in err and "cache write failed" in err


def test_a_stored_value_that_does_not_decode_is_computed_again(engine):
    shared = SharedResults(engine)
    key = ("v1", "shared", "report")
    shared.table.store(_full(shared, key), b"\x80 not json")
    assert shared.get(key, lambda: {"n": 4}, *json_codec()) == {"n": 4}
    assert SharedResults(engine).get(key, lambda: pytest.fail("computed"), *json_codec()) == {"n": 4}


# ------------------------------------------------------------------------------------- the web pages' views
@pytest.mark.slow
def test_web_views_read_back_equal_a_fresh_computation(dataset_path, tmp_path, monkeypatch):
    """A second worker's park pages and metrics pages read their views (charts, maps, tables) from the database
    and get exactly what the first computed afresh: same keys, same values, same types (a tuple that came back as
    a list, or a number as a string, would differ)."""
    from api.app import create_app
    from api.settings import Settings
    from api.web import charts, pages_metrics, pages_parks

    url = f"sqlite:///{tmp_path / 'reviews.sqlite'}"
    a = create_app(dataset_path, url, Settings.from_env(warm=False)).state.parkplan
    pages_parks.warm(a)
    pages_metrics.warm(a)
    assert a.shared.counts["computed:web"] >= 2 and a.shared.counts["read"] == 0

    b = create_app(dataset_path, url, Settings.from_env(warm=False)).state.parkplan
    for name in ("bar_chart", "ripley_chart", "county_map"):  # nothing is drawn again
        monkeypatch.setattr(charts, name, lambda *a, **k: pytest.fail("drawn again"))
    pages_parks.warm(b)
    pages_metrics.warm(b)
    assert b.shared.counts["computed"] == 0 and b.shared.counts["read:web"] == a.shared.counts["computed:web"]

    for lang in ("zh",):
        key = f"park_views:{lang}"
        va, vb = a.web.get(a.key(key)), b.web.get(b.key(key))
        assert va and vb == va
        for pid in a.dataset.parks["park_id"].astype(str):
            assert pages_parks.park_view(b, pid, lang) == pages_parks.park_view(a, pid, lang)
    assert pages_metrics._sector_table(b) == pages_metrics._sector_table(a)
    for sector in pages_metrics.sectors_present(a):
        assert pages_metrics.sector_view(b, sector, "zh") == pages_metrics.sector_view(a, sector, "zh")


# ------------------------------------------------------------------------------------- the scenario plans
@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["scattered", "all"])
def test_a_plan_read_back_equals_the_computed_one(dataset, scenario):
    """The plan's bytes (a JSON manifest and Arrow streams, api.plan_codec) give back the same tables, column by
    column with the same dtypes, the same parameters and the same served JSON document."""
    from api.plan_codec import decode_plan, encode_plan
    from api.routes.scenarios import compute_plan
    from parks.suitability import context_from_dataset
    from parks.suitability.plan_report import TABLES

    plan = compute_plan(dataset, context_from_dataset(dataset), scenario)
    back = decode_plan(encode_plan(plan))
    assert (back.scenario, back.status, back.mip_gap, back.order, back.seconds) == \
        (plan.scenario, plan.status, plan.mip_gap, plan.order, plan.seconds)
    assert back.report.scenarios == plan.report.scenarios and back.report.params == plan.report.params
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(back.report, name), getattr(plan.report, name), check_exact=True)
    assert orjson.dumps(back.report.to_dict()) == orjson.dumps(plan.report.to_dict())
    for lang in ("zh", "en"):
        for (ka, a), (kb, b) in zip(plan.report.tables(lang).items(), back.report.tables(lang).items(), strict=True):
            assert ka == kb
            pd.testing.assert_frame_equal(b, a, check_exact=True)
    with pytest.raises(ValueError):
        decode_plan(b"not a plan")


@pytest.mark.slow
def test_the_second_worker_reads_the_scenario_plans(code_snapshot, dataset_path, review_db_url):
    first = _result(_worker(code_snapshot, dataset_path, review_db_url, "scenario plans"), code_snapshot)
    assert first["counts"].get("computed:plan") == 4 and "read" not in first["counts"], first
    second = _result(_worker(code_snapshot, dataset_path, review_db_url, "scenario plans"), code_snapshot)
    assert second["code"] == first["code"]
    assert second["counts"].get("read:plan") == 4 and "computed" not in second["counts"], second
    assert second["served"]["plans"] == first["served"]["plans"]


@pytest.mark.slow
def test_the_second_worker_reads_the_cluster_map(code_snapshot, dataset_path, review_db_url):
    """The clusters map page (its HTML and its pre-compressed parts) read by the second worker is the first's."""
    first = _result(_worker(code_snapshot, dataset_path, review_db_url, "cluster map"), code_snapshot)
    assert first["counts"].get("computed:map") == 1 and "read" not in first["counts"], first
    second = _result(_worker(code_snapshot, dataset_path, review_db_url, "cluster map"), code_snapshot)
    assert second["code"] == first["code"]
    assert second["counts"].get("read:map") == 1 and "computed" not in second["counts"], second
    assert second["served"]["clusters"] == first["served"]["clusters"]


@pytest.mark.slow
def test_a_second_worker_computes_nothing_shared_of_the_whole_warm_up(code_snapshot, dataset_path, review_db_url):
    """The whole start-up warm-up in two worker processes, one after the other: the second reads every shared
    result (metrics report, clusters map, plans, web views) and computes none of them."""
    tasks = ",".join(["suitability context", "metrics context", "metrics report", "cluster map", "scenario plans",
                      "web pages"])
    first = _result(_worker(code_snapshot, dataset_path, review_db_url, tasks), code_snapshot)
    made = {k: v for k, v in first["counts"].items() if k.startswith("computed:")}
    assert set(made) == {"computed:metrics", "computed:map", "computed:plan", "computed:web"}, first
    second = _result(_worker(code_snapshot, dataset_path, review_db_url, tasks), code_snapshot)
    assert second["code"] == first["code"]
    assert "computed" not in second["counts"], second
    assert {k.replace("read:", "computed:"): v for k, v in second["counts"].items() if k.startswith("read:")} == made
    assert second["served"] == first["served"] and set(first["served"]) == {"metrics", "clusters", "plans"}


def test_a_value_stored_between_the_look_and_the_claim_is_read_not_computed(engine, monkeypatch):
    """The race of two workers: this one looked (nothing yet), then the other stored the value and released its
    claim, then this one claimed: it must read the stored value, not compute it again."""
    shared, other = SharedResults(engine), SharedResults(engine)
    key = ("v1", "shared", "map", "clusters")
    real_claim = shared._claim

    def claim_after_the_other_finished(k):
        if not _rows(engine):  # the other worker finishes between our look and our claim
            assert other.get(key, lambda: ["made by the other"], *json_codec()) == ["made by the other"]
        return real_claim(k)

    monkeypatch.setattr(shared, "_claim", claim_after_the_other_finished)
    assert shared.get(key, lambda: pytest.fail("computed twice"), *json_codec()) == ["made by the other"]
    assert shared.counts["read"] == 1 and shared.counts["computed"] == 0
    assert _rows(engine) == [f"v1+{shared.code}|shared|map|clusters"]  # no claim left behind


def test_other_code_does_not_read_the_rows(engine):
    """A server upgraded over the same review database (another digest of the source) computes again."""
    old = SharedResults(engine)
    old.code = "0ld0ld0ld0ld"
    assert old.get(("v1", "shared", "report"), lambda: {"n": 1}, *json_codec()) == {"n": 1}
    new = SharedResults(engine)
    assert new.code != old.code
    assert new.get(("v1", "shared", "report"), lambda: {"n": 2}, *json_codec()) == {"n": 2}
    assert new.counts["computed"] == 1 and new.counts["read"] == 0


def test_close_releases_the_claims_held_so_the_next_start_does_not_wait(engine, monkeypatch):
    """The server stops (AppState.close -> SharedResults.close) while its warm-up computes: the claim is deleted at
    once (not left to go stale for STALE_S seconds), a new process claims and computes without waiting, and the
    stopped process claims nothing more."""
    monkeypatch.setattr(shared_compute, "POLL_S", 0.05)
    stopping = SharedResults(engine)
    key = ("v1", "shared", "report", 999)
    inside, finish = threading.Event(), threading.Event()

    def slow():
        inside.set()
        finish.wait(60)
        return {"late": True}

    t = threading.Thread(target=lambda: stopping.get(key, slow, *json_codec()), daemon=True)
    t.start()
    assert inside.wait(60)
    assert _rows(engine) == [f"claim|v1+{stopping.code}|shared|report|999"]  # held while it computes
    stopping.close()
    assert _rows(engine) == []  # released
    fresh = SharedResults(engine)  # the next start
    t0 = time.monotonic()
    assert fresh.get(key, lambda: {"x": 1}, *json_codec()) == {"x": 1}
    assert time.monotonic() - t0 < shared_compute.STALE_S / 2 and fresh.counts["waited"] == 0
    assert fresh.counts["computed"] == 1 and fresh.counts["taken_over"] == 0
    finish.set()
    t.join(60)
    other = ("v1", "shared", "other", 1)
    assert stopping.get(other, lambda: {"y": 2}, *json_codec()) == {"y": 2}  # computed, never claimed
    assert not any(r.startswith("claim|") for r in _rows(engine))
