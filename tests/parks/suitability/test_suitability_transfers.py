"""Transfer candidates on the built-in dataset: destinations, snapshot, determinism."""

from __future__ import annotations

import json
import math

import pytest

from geodata.reference import sector_linkages
from parks.suitability import CRITERIA
from parks.suitability.transfers import propose_transfers, propose_transfers_from_dataset


@pytest.fixture(scope="module")
def proposal(dataset):
    return propose_transfers_from_dataset(dataset, sector_linkages(), cap=5)


def test_candidates_go_from_developed_coast_to_less_developed_parks(dataset, proposal):
    assert proposal.candidates
    counties = dataset.counties.set_index("code")
    parks = dataset.parks.set_index("park_id")
    for c in proposal.candidates:
        assert bool(counties.loc[c.destination_county_code, "less_developed"])
        assert parks.loc[c.park_id, "county_code"] == c.destination_county_code
        assert bool(counties.loc[c.origin_county_code, "coastal"]) and not bool(counties.loc[c.origin_county_code, "less_developed"])
        assert c.alternative is None or c.alternative["park_id"] != c.park_id
        assert c.explanation and c.explanation_zh and c.park_id in c.explanation


def test_snapshot_is_frozen_json_and_adds_up(proposal):
    for c in proposal.candidates[:50]:
        d = c.to_dict()
        json.dumps(d, allow_nan=False, ensure_ascii=False)
        snap = d["snapshot"]
        assert set(snap["criteria"]) == set(CRITERIA)
        total = sum(v["contribution"] for v in snap["criteria"].values())
        assert math.isclose(total, c.score, abs_tol=1e-9)
        assert snap["weights"] and snap["constraints"]["less_developed_only"] is True
        assert snap["enterprise"]["enterprise_id"] == c.enterprise_id and snap["park"]["park_id"] == c.park_id


def test_allocation_respects_free_land_and_cap(dataset, proposal):
    a = proposal.allocation
    got = a.assignments[a.assignments["status"] == "assigned"]
    free = dataset.parks.set_index("park_id")["free_land_ha"]
    for p, g in got.groupby("park_id"):
        assert g["land_ha"].sum() <= free[p] + 1e-9 and len(g) <= 5
    assert len(proposal.candidates) == len(got)
    d = proposal.to_dict()
    assert d["selected"] == proposal.selected and d["proposed"] == len(got)


def test_candidates_are_deterministic(dataset, proposal):
    from parks.suitability import context_from_dataset

    again = propose_transfers(context_from_dataset(dataset, sector_linkages()), dataset.enterprises, cap=5)
    assert [c.candidate_id for c in again.candidates] == [c.candidate_id for c in proposal.candidates]


def test_dataset_shortcut_gives_review_rows(dataset, proposal):
    rows = propose_transfers(dataset, cap=5).to_rows()
    assert [r["candidate_id"] for r in rows] == [c.candidate_id for c in proposal.candidates]
    need = {"candidate_id", "enterprise_id", "origin_county_code", "destination_county_code", "park_id", "scenario",
            "score", "snapshot"}
    assert all(need <= set(r) and r["scenario"] == "coastal-transfer" for r in rows)
    json.dumps(rows, allow_nan=False, ensure_ascii=False)
