"""Proposing again after the model or the data changed (new candidate ids) never gives an office a second
live candidate for a firm, never replaces a decision, and never sends a firm back to a park that rejected it.
Run on SQLite and the real PostgreSQL (``review_db_url``)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.auth import Principal
from api.db import TransferCandidate, init_db, make_engine, session_factory
from api.reviews import add_candidates, decide


def _row(cid: str, eid: str, park: str, dest: str = "330881") -> dict:
    return {"candidate_id": cid, "enterprise_id": eid, "origin_county_code": "330281",
            "destination_county_code": dest, "park_id": park, "scenario": "coastal-transfer", "score": 0.5,
            "snapshot": {"enterprise": {"enterprise_id": eid}}}


@pytest.fixture
def engine(review_db_url):
    eng = make_engine(review_db_url)
    init_db(eng)
    yield eng
    eng.dispose()


def _candidates(engine) -> dict[str, tuple[str, str, str]]:
    with session_factory(engine)() as db:
        return {c.candidate_id: (c.enterprise_id, c.park_id, c.status)
                for c in db.execute(select(TransferCandidate)).scalars()}


def test_a_new_proposal_never_doubles_or_replaces_a_live_candidate(engine):
    assert add_candidates(engine, [_row("TC-a", "E1", "P1"), _row("TC-b", "E2", "P1"), _row("TC-c", "E3", "P1")]) == 3
    office = Principal(token_id=1, label="office", role="reviewer", offices=frozenset({"330881"}))
    decide(engine, office, "TC-b", decision="approved", comment="ok", if_match=None, version=1)
    decide(engine, office, "TC-c", decision="rejected", comment="no land", if_match=None, version=1)

    # the model changed: every firm gets a new id; E3 is proposed once to the park that rejected it, once elsewhere
    added = add_candidates(engine, [_row("TC-a2", "E1", "P2"), _row("TC-b2", "E2", "P2"),
                                    _row("TC-c2", "E3", "P1"), _row("TC-c3", "E3", "P3"), _row("TC-d", "E4", "P1")])
    after = _candidates(engine)
    assert added == 2, after
    assert set(after) == {"TC-a", "TC-b", "TC-c", "TC-c3", "TC-d"}
    assert after["TC-b"][2] == "approved" and after["TC-c"][2] == "rejected"   # decisions kept as they were
    live = [eid for eid, _park, status in after.values() if status != "rejected"]
    assert len(live) == len(set(live)), "one live candidate per enterprise"


def test_the_same_run_twice_adds_nothing(engine):
    rows = [_row("TC-a", "E1", "P1"), _row("TC-b", "E2", "P2")]
    assert add_candidates(engine, rows) == 2
    assert add_candidates(engine, rows) == 0
    assert len(_candidates(engine)) == 2
