"""LQ, HHI, EG/MS gamma and co-agglomeration: hand-computed examples and the properties of issue 3."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parks.metrics import MetricsError, coagglomeration, ellison_glaeser, hhi, location_quotients, park_sector_hhi, sector_hhi


def frame(rows):
    return pd.DataFrame(rows, columns=["county_code", "sector", "employees"])


def test_location_quotient_worked_example_both_bases():
    e = frame([("A", "textiles", 60), ("A", "textiles", 20), ("A", "machinery", 20),
               ("B", "textiles", 20), ("B", "machinery", 80)])
    emp = location_quotients(e).set_index(["county_code", "sector"])["location_quotient"]
    # A: textiles 80/100 over province 100/200 = 1.6
    assert emp[("A", "textiles")] == pytest.approx(1.6)
    assert emp[("B", "textiles")] == pytest.approx(0.4)
    cnt = location_quotients(e, basis="count").set_index(["county_code", "sector"])["location_quotient"]
    # A: 2 of 3 firms textiles; province 3 of 5
    assert cnt[("A", "textiles")] == pytest.approx((2 / 3) / (3 / 5))
    assert set(location_quotients(e)["basis"]) == {"employment"}


def test_location_quotient_rows_for_empty_counties_and_bad_basis():
    e = frame([("A", "textiles", 10), ("B", "machinery", 10)])
    lq = location_quotients(e, regions=["A", "B", "C"])
    assert "C" not in set(lq["county_code"])  # no activity: LQ undefined, row left out
    with pytest.raises(MetricsError, match="accepted: employment, count"):
        location_quotients(e, basis="revenue")
    with pytest.raises(MetricsError, match="parks.joins.prepare"):
        location_quotients(e.drop(columns="county_code"))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ABCDE"), st.sampled_from(["textiles", "machinery", "logistics"]),
                          st.integers(1, 500)), min_size=1, max_size=40))
def test_employment_weighted_mean_lq_is_one(rows):
    e = frame(rows)
    lq = location_quotients(e)
    for _, g in lq.groupby("sector"):
        assert (g["location_quotient"] * g["region_total"]).sum() / g["region_total"].sum() == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=30).filter(lambda a: sum(a) > 0))
def test_hhi_between_one_over_n_and_one(shares):
    h = hhi(shares)
    assert 1 / len(shares) - 1e-12 <= h <= 1 + 1e-12


def test_hhi_examples_and_sector_and_park_hhi():
    assert hhi([1, 1, 1, 1]) == pytest.approx(0.25)
    assert np.isnan(hhi([0, 0]))
    e = frame([("A", "textiles", 10), ("B", "textiles", 10), ("A", "machinery", 5)])
    h = sector_hhi(e)
    assert h["textiles"] == pytest.approx(0.5) and h["machinery"] == pytest.approx(1.0) and h.name == "hhi"
    e = pd.DataFrame({"sector": ["textiles", "textiles", "machinery", "machinery", "textiles"],
                      "employees": [10, 10, 5, 30, 30], "park_id": ["P1", "P1", None, "P2", "P2"]})
    p = park_sector_hhi(e).set_index("park_id")
    assert p.loc["P1", "hhi"] == 1.0 and p.loc["P1", "dominant_sector"] == "textiles"
    assert p.loc["P2", "n_sectors"] == 2 and p.loc["P2", "hhi"] == pytest.approx(0.5)


def test_ellison_glaeser_hand_computed():
    # counties A, B, C with total employment 50, 30, 20 -> x = (.5, .3, .2), sum x^2 = .38
    # sector S: plants 10 (A), 10 (A), 20 (B) -> s = (.5, .5, 0), H = (.25^2 + .25^2 + .5^2) = .375
    # G = 0 + .04 + .04 = .08 ; gamma = (.08 / .62 - .375) / .625
    e = frame([("A", "S", 10), ("A", "S", 10), ("B", "S", 20), ("A", "T", 30), ("B", "T", 10), ("C", "T", 20)])
    e["sector"] = e["sector"].map({"S": "textiles", "T": "machinery"})
    r = ellison_glaeser(e).loc["textiles"]
    assert r["G"] == pytest.approx(0.08) and r["H"] == pytest.approx(0.375) and r["sum_x2"] == pytest.approx(0.38)
    assert r["ellison_glaeser_gamma"] == pytest.approx((0.08 / 0.62 - 0.375) / 0.625)
    ms = ((0.25 + 0.25) - 0.38) / 0.62
    assert r["maurel_sedillot_gamma"] == pytest.approx((ms - 0.375) / 0.625)


def _dartboard(rng, x, plants, sector="textiles"):
    counties = rng.choice(len(x), size=len(plants), p=x)
    return pd.DataFrame({"county_code": [f"C{c:02d}" for c in counties], "sector": sector, "employees": plants})


def test_eg_gamma_near_zero_for_dartboard_and_positive_for_planted_cluster():
    rng = np.random.default_rng(0)
    n_counties = 30
    base_emp = rng.integers(5_000, 50_000, n_counties).astype(float)
    x = base_emp / base_emp.sum()
    background = pd.DataFrame({"county_code": [f"C{i:02d}" for i in range(n_counties)], "sector": "logistics",
                               "employees": base_emp * 50})  # dominates totals, so x is fixed by design
    gammas = []
    for _ in range(100):
        plants = rng.integers(5, 200, 60)
        e = pd.concat([background, _dartboard(rng, x, plants)], ignore_index=True)
        gammas.append(ellison_glaeser(e).loc["textiles", "ellison_glaeser_gamma"])
    assert abs(np.mean(gammas)) < 0.01
    plants = rng.integers(5, 200, 60)
    planted = pd.DataFrame({"county_code": rng.choice(["C01", "C02"], 60), "sector": "textiles", "employees": plants})
    g = ellison_glaeser(pd.concat([background, planted], ignore_index=True)).loc["textiles"]
    assert g["ellison_glaeser_gamma"] > 0.2 and g["maurel_sedillot_gamma"] > 0.2


def test_coagglomeration_hand_computed_and_sign():
    # x = (.5, .5); A all in county 1, B all in county 1, C all in county 2 (background keeps x even)
    e = frame([("1", "textiles", 10), ("1", "machinery", 10), ("2", "logistics", 20)])
    c = {frozenset((a, b)): v for a, b, v in coagglomeration(e).itertuples(index=False)}
    # (s - x) for textiles/machinery = (.5, -.5), logistics = (-.5, .5); 1 - sum x^2 = .5
    assert c[frozenset(("textiles", "machinery"))] == pytest.approx(1.0)
    assert c[frozenset(("textiles", "logistics"))] == pytest.approx(-1.0)
    assert len(c) == 3


def test_single_plant_sector_has_no_gamma():
    e = frame([("A", "textiles", 10), ("A", "machinery", 10), ("B", "machinery", 30)])
    g = ellison_glaeser(e)
    assert np.isnan(g.loc["textiles", "ellison_glaeser_gamma"]) and np.isnan(g.loc["textiles", "maurel_sedillot_gamma"])
    assert np.isfinite(g.loc["machinery", "ellison_glaeser_gamma"])
