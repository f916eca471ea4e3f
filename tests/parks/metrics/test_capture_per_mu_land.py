"""Park capture, per-mu evaluation and land intensity: worked examples and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parks.metrics import MetricsError, class_distribution, land_intensity, park_capture, per_mu_evaluation
from parks.metrics.per_mu import DEFAULT_WEIGHTS, ClassRule, per_mu_indicators


def enterprises(n=4):
    return pd.DataFrame({
        "enterprise_id": [f"E{i}" for i in range(n)],
        "sector": ["textiles", "textiles", "machinery", "machinery"][:n],
        "county_code": ["330101", "330102", "330101", "330102"][:n],
        "park_id": ["P1", None, "P2", None][:n],
        "employees": [10, 30, 20, 40][:n],
        "revenue": [100.0, 100.0, 300.0, 100.0][:n],
    })


def test_park_capture_worked_example_by_sector_and_county():
    e = enterprises()
    projects = pd.DataFrame({"enterprise_id": ["E0", "E1", "E2"], "investment": [30.0, 10.0, 60.0]})
    by_sector = park_capture(e, projects).set_index("group")
    assert by_sector.loc["textiles", "share_enterprises"] == 0.5
    assert by_sector.loc["textiles", "share_employees"] == pytest.approx(10 / 40)
    assert by_sector.loc["textiles", "share_investment"] == pytest.approx(30 / 40)
    assert by_sector.loc["machinery", "share_revenue"] == pytest.approx(0.75)
    assert np.isnan(park_capture(e, None).set_index("group").loc["machinery", "share_investment"])
    allrow = park_capture(e, projects, by="all").iloc[0]
    assert allrow["share_investment"] == pytest.approx(0.9) and allrow["in_parks_enterprises"] == 2
    assert set(park_capture(e, by="county_code")["group"]) == {"330101", "330102"}
    with pytest.raises(MetricsError, match="accepted: sector, county_code, all"):
        park_capture(e, by="city")


def per_mu_frame():
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame({
        "enterprise_id": [f"E{i}" for i in range(n)], "county_code": rng.choice(["A", "B"], n),
        "land_ha": rng.uniform(0.2, 5, n), "tax": rng.lognormal(13, 1, n), "value_added": rng.lognormal(15, 1, n),
        "energy_tce": rng.uniform(0, 500, n), "rd_spend": rng.lognormal(11, 2, n), "revenue": rng.lognormal(17, 1, n),
        "employees": rng.integers(5, 300, n),
    })


def test_per_mu_indicators_use_fifteen_mu_per_hectare():
    e = pd.DataFrame({"land_ha": [2.0], "tax": [300_000.0], "value_added": [600_000.0], "energy_tce": [0.0],
                      "rd_spend": [10.0], "revenue": [1000.0], "employees": [6]})
    ind = per_mu_indicators(e).iloc[0]
    assert ind["mu"] == 30 and ind["tax_per_mu"] == 10_000 and ind["va_per_mu"] == 20_000
    assert ind["va_per_tce"] == np.inf and ind["rd_intensity"] == 0.01 and ind["labour_productivity"] == 100_000


def test_per_mu_classes_follow_shares_per_county_and_are_ordered_by_score():
    e = per_mu_frame()
    ev = per_mu_evaluation(e)
    assert set(ev["class"]) == set("ABCD") and len(ev) == len(e)
    for _, g in ev.groupby(e["county_code"]):
        share = g["class"].value_counts(normalize=True)
        assert share["A"] == pytest.approx(0.2, abs=0.02) and share["D"] == pytest.approx(0.1, abs=0.02)
        order = g.groupby("class")["score"].agg(["min", "max"])
        assert order.loc["A", "min"] >= order.loc["B", "max"] >= order.loc["C", "min"] >= order.loc["D", "max"]
    # at the benchmark on every indicator an enterprise scores exactly 100
    flat = per_mu_frame().iloc[:3].assign(land_ha=1.0, tax=1e5, value_added=1e6, energy_tce=10.0, rd_spend=1e4,
                                          revenue=1e7, employees=10)
    assert per_mu_evaluation(flat, group=None)["score"].tolist() == pytest.approx([100.0] * 3)


def test_per_mu_weights_cap_and_absolute_cutoffs():
    e = per_mu_frame()
    only_tax = per_mu_evaluation(e, weights={"tax_per_mu": 1.0}, cap=2.0, group=None)
    assert only_tax["score"].max() <= 200.0 + 1e-9
    cut = per_mu_evaluation(e, classes=ClassRule("score", (150, 100, 60)), group=None)
    assert (cut.loc[cut["score"] >= 150, "class"] == "A").all() and (cut.loc[cut["score"] < 60, "class"] == "D").all()
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)
    with pytest.raises(MetricsError, match="unknown per-mu indicator"):
        per_mu_evaluation(e, weights={"emissions": 1})
    with pytest.raises(MetricsError, match="decreasing"):
        ClassRule("score", (50, 100, 10))


def test_enterprises_without_land_are_not_evaluated_and_distribution_sums():
    e = per_mu_frame()
    e.loc[:9, "land_ha"] = 0
    e["park_id"] = np.where(np.arange(len(e)) % 2, "P1", "P2")
    ev = per_mu_evaluation(e)
    assert len(ev) == len(e) - 10
    dist = class_distribution(ev, e, by="park_id")
    assert dist["evaluated"].sum() == len(ev)
    assert dist[["share_A", "share_B", "share_C", "share_D"]].sum(axis=1).tolist() == pytest.approx([1.0, 1.0])


def test_land_intensity_worked_example_and_ranking():
    parks = pd.DataFrame({"park_id": ["P1", "P2", "P3"], "name": ["a", "b", "c"], "area_ha": [100.0, 200.0, 50.0],
                          "supplied_ha": [80.0, 100.0, 50.0], "built_ha": [40.0, 100.0, 0.0],
                          "floor_area_ratio": [1.2, 0.8, 1.0], "building_density": [0.4, 0.3, 0.35]})
    e = pd.DataFrame({"enterprise_id": ["E1", "E2", "E3"], "park_id": ["P1", "P2", None], "tax": [4e6, 1e6, 9e9],
                      "revenue": [8e7, 1e7, 9e9]})
    projects = pd.DataFrame({"enterprise_id": ["E1", "E3"], "investment": [2e7, 5e9]})
    li = land_intensity(parks, e, projects).set_index("park_id")
    assert li.loc["P1", "supply_rate"] == 0.8 and li.loc["P2", "built_rate"] == 1.0
    assert li.loc["P1", "tax_per_ha"] == 1e5 and li.loc["P1", "investment_per_ha"] == 5e5
    assert li.loc["P2", "investment_per_ha"] == 0 and np.isnan(li.loc["P3", "tax_per_ha"])
    assert sorted(li["rank"]) == [1, 2, 3] and li.loc["P1", "rank"] == 1
    with pytest.raises(MetricsError, match="keys from"):
        land_intensity(parks, e, weights={"jobs_per_ha": 1})
