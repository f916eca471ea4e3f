"""``Constraints.to_dict`` and the shared defaults against ``dataclasses``' own."""

from dataclasses import asdict

import pytest

from parks.suitability.constraints import Constraints


def _reference(c: Constraints) -> dict:
    d = asdict(c)
    d["protected_kinds"] = list(c.protected_kinds)
    return d


@pytest.mark.parametrize("mapping", [
    None, {}, {"land_margin": 0.25}, {"protected_kinds": ["water_source"], "protected_buffer_m": 0},
    {"max_distance_km": 80, "less_developed_only": True, "exclude_current_park": False},
    {"exclude_urban_core_parks": True, "own_city_or_km": 30.0, "own_county_or_km": 0},
])
def test_to_dict_is_asdict_with_a_list(mapping):
    c = Constraints.from_mapping(mapping)
    got = c.to_dict()
    assert got == _reference(c)
    assert list(got) == list(_reference(c))  # the same keys in the same order (the API document's order)
    assert type(got["protected_kinds"]) is list


def test_a_callers_change_to_the_document_does_not_reach_the_next():
    doc = Constraints.from_mapping(None).to_dict()
    doc["protected_kinds"].append("anything")
    doc["land_margin"] = 9.0
    assert Constraints.from_mapping(None).to_dict() == _reference(Constraints())


def test_the_shared_defaults_are_the_defaults():
    assert Constraints.from_mapping(None) == Constraints()
    assert Constraints.from_mapping({"land_margin": 0.3}).land_margin == 0.3
    assert Constraints.from_mapping(None).land_margin == Constraints().land_margin
