"""Candidate ids do not depend on the last bits of the floats they hash (another CPU, another summation
order), but do change when a value really changes; re-proposing over a database whose ids were hashed at
full precision adds no second live candidate for any firm."""

from __future__ import annotations

import copy
import hashlib
import json

import numpy as np
import pytest

from geodata.reference import sector_linkages
from parks.suitability.transfers import candidate_id, propose_transfers_from_dataset


@pytest.fixture(scope="module")
def proposal(dataset):
    return propose_transfers_from_dataset(dataset, sector_linkages(), cap=5)


def _full_precision_id(snapshot) -> str:
    """The id as it was computed before the rounding (what review databases already hold)."""
    return "TC-" + hashlib.sha256(json.dumps(snapshot, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def _nudge(value, direction):
    """Every float of plain JSON moved by one unit in the last place."""
    if isinstance(value, float):
        return float(np.nextafter(value, direction * np.inf)) if value else value
    if isinstance(value, dict):
        return {k: _nudge(v, direction) for k, v in value.items()}
    if isinstance(value, list):
        return [_nudge(v, direction) for v in value]
    return value


def test_the_id_is_the_hash_of_the_stored_snapshot(proposal):
    assert proposal.candidates
    for c in proposal.candidates:
        assert c.candidate_id == candidate_id(c.snapshot)


def test_one_ulp_in_any_float_leaves_the_id_unchanged(proposal):
    changed_old_ids = 0
    for c in proposal.candidates[:60]:
        for direction in (1, -1):
            nudged = _nudge(c.snapshot, direction)
            assert nudged != c.snapshot  # the snapshot does hold floats that moved
            assert candidate_id(nudged) == c.candidate_id
            changed_old_ids += _full_precision_id(nudged) != _full_precision_id(c.snapshot)
    assert changed_old_ids == 2 * min(60, len(proposal.candidates))  # the full-precision hash moved every time


def test_one_ulp_in_a_single_criterion_value(proposal):
    c = proposal.candidates[0]
    snap = copy.deepcopy(c.snapshot)
    crit = next(k for k, v in snap["criteria"].items() if isinstance(v["value"], float) and v["value"])
    snap["criteria"][crit]["value"] = float(np.nextafter(snap["criteria"][crit]["value"], np.inf))
    assert candidate_id(snap) == c.candidate_id
    snap["criteria"][crit]["value"] *= 1.0001  # a real change
    assert candidate_id(snap) != c.candidate_id


def test_a_real_change_changes_the_id(proposal):
    c = proposal.candidates[0]
    snap = copy.deepcopy(c.snapshot)
    snap["enterprise"]["land_ha"] += 0.01
    assert candidate_id(snap) != c.candidate_id
    snap = copy.deepcopy(c.snapshot)
    snap["weights"] = {k: v * (1 + 1e-6) for k, v in snap["weights"].items()}  # the 7th significant digit
    assert candidate_id(snap) != c.candidate_id


def test_reproposing_over_a_database_of_full_precision_ids_adds_no_duplicate(proposal, tmp_path):
    from sqlalchemy import select

    from api.db import TransferCandidate, init_db, make_engine, session_factory
    from api.reviews import add_candidates

    engine = make_engine(f"sqlite:///{tmp_path / 'old.reviews.sqlite'}")
    init_db(engine)
    try:
        new_rows = proposal.to_rows()
        old_rows = [dict(r, candidate_id=_full_precision_id(r["snapshot"])) for r in new_rows]
        assert {r["candidate_id"] for r in old_rows}.isdisjoint({r["candidate_id"] for r in new_rows})
        assert add_candidates(engine, old_rows) == len(old_rows)
        assert add_candidates(engine, new_rows) == 0
        with session_factory(engine)() as db:
            stored = list(db.execute(select(TransferCandidate.candidate_id, TransferCandidate.enterprise_id)))
        assert {cid for cid, _ in stored} == {r["candidate_id"] for r in old_rows}  # old ids kept as they are
        eids = [eid for _, eid in stored]
        assert len(eids) == len(set(eids))
    finally:
        engine.dispose()
