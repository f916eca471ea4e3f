"""Weights: defaults, mappings, AHP against Saaty's published house example, group AHP."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from parks.suitability import CRITERIA, DEFAULT_WEIGHTS, SuitabilityError
from parks.suitability.weights import (InconsistentJudgementsError, ahp, ahp_from_mapping, ahp_weights, group_ahp,
                                       normalise_weights, weights_from_mapping)

# Saaty, "How to make a decision: the analytic hierarchy process", EJOR 48 (1990) 9-26, table 2:
# buying a house, eight criteria. Published: priorities below, lambda_max = 9.669, CI = 0.238, CR = 0.169.
HOUSE = np.array([
    [1, 5, 3, 7, 6, 6, 1 / 3, 1 / 4],
    [1 / 5, 1, 1 / 3, 5, 3, 3, 1 / 5, 1 / 7],
    [1 / 3, 3, 1, 6, 3, 4, 6, 1 / 5],
    [1 / 7, 1 / 5, 1 / 6, 1, 1 / 3, 1 / 4, 1 / 7, 1 / 8],
    [1 / 6, 1 / 3, 1 / 3, 3, 1, 1 / 2, 1 / 5, 1 / 6],
    [1 / 6, 1 / 3, 1 / 4, 4, 2, 1, 1 / 5, 1 / 6],
    [3, 5, 1 / 6, 7, 5, 5, 1, 1 / 2],
    [4, 7, 5, 8, 6, 6, 2, 1],
])
HOUSE_CRITERIA = ["size", "transportation", "neighborhood", "age", "yard", "modern", "condition", "financing"]
HOUSE_WEIGHTS = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]


def consistent_matrix(w):
    w = np.asarray(w, float)
    return w[:, None] / w[None, :]


def test_defaults_sum_to_one_and_cover_every_criterion():
    assert set(DEFAULT_WEIGHTS) == set(CRITERIA)
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)
    assert normalise_weights(None) == DEFAULT_WEIGHTS


def test_mapping_missing_are_zero_and_normalised():
    w = normalise_weights({"distance": 2, "labour": 6})
    assert w["distance"] == pytest.approx(0.25) and w["labour"] == pytest.approx(0.75)
    assert all(w[c] == 0 for c in CRITERIA if c not in ("distance", "labour"))
    assert weights_from_mapping({"weights": {"policy": 1}})["policy"] == 1.0


@pytest.mark.parametrize("bad, match", [
    ({"distnace": 1}, "unknown criterion 'distnace'.*accepted: sector_fit"),
    ({"distance": -1}, "must be >= 0"),
    ({"distance": "x"}, "finite number"),
    ({"distance": 0}, "all zero"),
])
def test_bad_weights_are_refused_by_name(bad, match):
    with pytest.raises(SuitabilityError, match=match):
        normalise_weights(bad)


def test_ahp_reproduces_saaty_house_example():
    r = ahp(HOUSE, HOUSE_CRITERIA)
    assert_allclose([r.weights[c] for c in HOUSE_CRITERIA], HOUSE_WEIGHTS, atol=6e-4)
    assert r.lambda_max == pytest.approx(9.669, abs=1e-3)
    assert r.ci == pytest.approx(0.238, abs=1e-3)
    assert r.cr == pytest.approx(0.169, abs=1e-3)
    assert r.ri == 1.41 and not r.consistent


def test_ahp_weights_refuse_inconsistent_judgements_with_clear_message():
    with pytest.raises(InconsistentJudgementsError, match=r"CR = 0\.169 >= 0\.1.*revise"):
        ahp_weights(HOUSE, HOUSE_CRITERIA)


def test_consistent_matrix_gives_its_weights_and_zero_cr():
    w = np.array([DEFAULT_WEIGHTS[c] for c in CRITERIA])
    weights, r = ahp_weights(consistent_matrix(w), CRITERIA)
    assert r.cr == pytest.approx(0.0, abs=1e-9)
    assert_allclose([weights[c] for c in CRITERIA], w, atol=1e-9)


def test_ahp_on_a_subset_of_criteria_gives_zero_to_the_rest():
    weights, _ = ahp_weights([[1, 3], [1 / 3, 1]], ["distance", "land_price"])
    assert weights["distance"] == pytest.approx(0.75) and weights["sector_fit"] == 0


@pytest.mark.parametrize("matrix, match", [
    ([[1, 2], [2, 1]], "not reciprocal"),
    ([[1, 0], [0, 1]], "positive numbers"),
    ([[1, 2, 3], [0.5, 1, 1]], "square"),
])
def test_malformed_matrices(matrix, match):
    with pytest.raises(SuitabilityError, match=match):
        ahp(matrix)


def test_judgements_document():
    doc = {"criteria": ["sector_fit", "distance", "labour"],
           "judgements": {"sector_fit/distance": 2, "sector_fit/labour": 4, "distance/labour": 2}}
    weights, r = ahp_from_mapping(doc)
    assert r.cr == pytest.approx(0.0, abs=1e-9)
    assert_allclose([weights["sector_fit"], weights["distance"], weights["labour"]], [4 / 7, 2 / 7, 1 / 7])


def test_group_ahp_geometric_mean_and_each_office_cr():
    w1, w2 = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    crit = ["sector_fit", "distance", "labour"]
    noisy = consistent_matrix(w1)
    noisy[0, 2], noisy[2, 0] = 4.0, 0.25  # a mild inconsistency in office A
    g = group_ahp({"A": noisy, "B": consistent_matrix(w2)}, crit)
    assert g.offices["A"].cr > 0 and g.offices["B"].cr == pytest.approx(0.0, abs=1e-9)
    assert_allclose(g.combined.matrix, np.sqrt(noisy * consistent_matrix(w2)))
    # two consistent offices: the group weights are the normalised geometric mean of theirs
    g2 = group_ahp({"A": consistent_matrix(w1), "B": consistent_matrix(w2)}, crit)
    expect = np.sqrt(w1 * w2) / np.sqrt(w1 * w2).sum()
    assert_allclose([g2.weights[c] for c in crit], expect, atol=1e-9)
    d = g.to_dict()
    assert set(d["offices"]) == {"A", "B"} and "cr" in d["offices"]["A"]


def test_group_ahp_strict_refuses_an_inconsistent_office():
    with pytest.raises(InconsistentJudgementsError, match="office 'house'"):
        group_ahp({"house": HOUSE, "other": consistent_matrix(np.arange(1, 9))}, HOUSE_CRITERIA, strict=True)


def test_group_document_via_mapping():
    doc = {"offices": {
        "丽水": {"criteria": ["distance", "labour"], "matrix": [[1, 3], [1 / 3, 1]]},
        "衢州": {"criteria": ["distance", "labour"], "matrix": [[1, 1 / 3], [3, 1]]},
    }}
    weights, g = ahp_from_mapping(doc)
    assert weights["distance"] == pytest.approx(0.5) and weights["labour"] == pytest.approx(0.5)
    assert set(g.offices) == {"丽水", "衢州"}


def test_huge_weights_do_not_overflow_to_zero():
    from parks.suitability.weights import normalise_weights

    w = normalise_weights({"distance": 1e308, "sector_fit": 1e308})
    assert w["distance"] == pytest.approx(0.5) and w["sector_fit"] == pytest.approx(0.5)
    assert sum(w.values()) == pytest.approx(1.0)
