"""compute_metrics on the small built-in dataset: the public JSON keys, filters, seeds, errors; the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from geodata.schema import SECTOR_IDS
from parks.metrics import METRIC_KEYS, MetricsError, compute_metrics
from parks.metrics.report import hotspot_rows, land_intensity_rows, lisa_rows, per_mu_distribution_rows, sector_rows

FAST = dict(permutations=99, simulations=9, seed=1)


@pytest.fixture(scope="module")
def doc(dataset):
    return compute_metrics(dataset, **FAST)


def test_exact_keys_and_json_serialisable(doc):
    assert tuple(doc) == METRIC_KEYS == ("location_quotients", "sectors", "lisa", "hotspots", "clusters",
                                         "park_capture", "ripley", "per_mu", "land_intensity")
    json.dumps(doc, allow_nan=False)


def test_row_shapes_follow_the_contract(doc, dataset):
    assert {"county_code", "sector", "location_quotient", "basis"} <= set(doc["location_quotients"][0])
    assert {r["basis"] for r in doc["location_quotients"]} == {"employment", "count"}
    assert {"sector", "hhi", "ellison_glaeser_gamma", "maurel_sedillot_gamma", "clark_evans_r", "clark_evans_z",
            "morans_i", "morans_p_sim"} <= set(doc["sectors"][0])
    assert [r["sector"] for r in doc["sectors"]] == [s for s in SECTOR_IDS if s in set(dataset.enterprises["sector"])]
    assert {r["quadrant"] for r in doc["lisa"]} <= {"HH", "HL", "LH", "LL", "ns"}
    assert {r["spot"] for r in doc["hotspots"]} <= {"hot", "cold", "ns"}
    assert len(doc["lisa"]) == len(doc["sectors"]) * len(dataset.counties)
    assert {"distances", "K", "L", "envelope_low", "envelope_high"} <= set(doc["ripley"])
    assert {"enterprise_id", "score", "class"} <= set(doc["per_mu"][0])
    assert {r["class"] for r in doc["per_mu"]} == set("ABCD")
    assert {"park_id", "supply_rate", "built_rate", "floor_area_ratio", "tax_per_ha", "rank", "sector_mix_hhi",
            "dominant_sector"} <= set(doc["land_intensity"][0])
    assert all(1 / 11 - 1e-9 <= r["sector_mix_hhi"] <= 1 for r in doc["land_intensity"] if r["sector_mix_hhi"] is not None)
    c = doc["clusters"][0]
    assert c["hull"]["type"] in ("Polygon", "LineString", "Point") and 118 < c["lon"] < 123.5


def test_properties_on_real_boundaries(doc):
    for r in doc["sectors"]:
        assert 1 / 90 - 1e-9 <= r["hhi"] <= 1
    # employment-weighted mean LQ of every sector is 1 (weights: county employment)
    emp = [r for r in doc["location_quotients"] if r["basis"] == "employment"]
    totals: dict[str, float] = {}
    for r in emp:
        totals[r["county_code"]] = totals.get(r["county_code"], 0.0) + r["value"]
    for s in {r["sector"] for r in emp}:
        rows = [r for r in emp if r["sector"] == s]
        mean = sum(r["location_quotient"] * totals[r["county_code"]] for r in rows) / sum(totals[r["county_code"]] for r in rows)
        assert mean == pytest.approx(1.0)
    # the synthetic enterprises sit in parks and towns: clustered at every distance
    rp = doc["ripley"]
    assert all(L > hi for L, hi in zip(rp["L"], rp["envelope_high"], strict=True) if hi is not None)
    assert rp["n"] > 0.95 * len(doc["per_mu"]) and rp["units"]["distances"] == "m"
    capture_all = next(r for r in doc["park_capture"] if r["by"] == "all")
    assert 0 < capture_all["share_enterprises"] < 1


def test_filters_select_rows_without_changing_values(dataset, doc):
    county = doc["sectors"] and next(r["county_code"] for r in doc["lisa"])
    one = compute_metrics(dataset, sector="textiles", county=county, **FAST)
    assert {r["sector"] for r in one["location_quotients"]} == {"textiles"}
    assert {r["county_code"] for r in one["location_quotients"]} == {county}
    assert [r["sector"] for r in one["sectors"]] == ["textiles"]
    full = next(r for r in doc["sectors"] if r["sector"] == "textiles")
    assert one["sectors"][0]["ellison_glaeser_gamma"] == pytest.approx(full["ellison_glaeser_gamma"])
    assert one["sectors"][0]["morans_i"] == pytest.approx(full["morans_i"])
    assert one["sectors"][0]["morans_p_sim"] == full["morans_p_sim"]  # per-sector seeds
    full_lisa = {(r["county_code"], r["sector"]): r for r in doc["lisa"]}
    assert one["lisa"] == [full_lisa[(county, "textiles")]]
    per_mu_full = {r["enterprise_id"]: r for r in doc["per_mu"]}
    assert all(per_mu_full[r["enterprise_id"]]["class"] == r["class"] for r in one["per_mu"])
    assert all(r["county_code"] == county for r in one["land_intensity"])
    assert one["ripley"]["county_code"] == county and one["ripley"]["area_m2"] < doc["ripley"]["area_m2"]


def test_same_seed_same_document(dataset):
    a = sector_rows(dataset, "machinery", permutations=99, seed=3)
    b = sector_rows(dataset, "machinery", permutations=99, seed=3)
    assert a == b
    assert lisa_rows(dataset, "machinery", permutations=99, seed=3) == lisa_rows(dataset, "machinery", permutations=99, seed=3)
    assert hotspot_rows(dataset, "machinery", permutations=99, seed=3) == hotspot_rows(dataset, "machinery", permutations=99, seed=3)


def test_unprepared_dataset_is_prepared(raw_dataset):
    rows = land_intensity_rows(raw_dataset)
    assert len(rows) == len(raw_dataset.parks)


@pytest.mark.parametrize("kwargs, message", [
    ({"sector": "txtiles"}, "did you mean 'textiles'"),
    ({"county": "999999"}, "unknown county code '999999'"),
])
def test_bad_filters_raise_domain_errors(dataset, kwargs, message):
    with pytest.raises(MetricsError, match=message):
        compute_metrics(dataset, **kwargs, **FAST)
    assert issubclass(MetricsError, ValueError)


def test_cli_json_and_tables(dataset_path):
    from api.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["metrics", "--data", str(dataset_path), "--sector", "textiles", "--json",
                              "--simulations", "5", "--permutations", "99"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert tuple(out) == METRIC_KEYS and [r["sector"] for r in out["sectors"]] == ["textiles"]
    res = runner.invoke(app, ["metrics", "--data", str(dataset_path), "--sector", "textiles", "--simulations", "3",
                              "--permutations", "99"])
    assert res.exit_code == 0, res.output
    assert "Ripley" in res.stdout and "Clark-Evans" in res.stdout.replace("\n", "")
    res = runner.invoke(app, ["metrics", "--data", str(dataset_path), "--sector", "txtiles"])
    assert res.exit_code == 2 and "textiles" in res.output
    assert np.isfinite(out["sectors"][0]["clark_evans_r"])


def test_cli_opt_in_extras_add_their_keys_only(dataset_path):
    from api.cli import app

    res = CliRunner().invoke(app, ["metrics", "--data", str(dataset_path), "--sector", "textiles", "--json", "--simulations",
                                   "0", "--permutations", "99", "--trend", "--coagglomeration", "--duranton-overman"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert tuple(out) == METRIC_KEYS + ("trend", "coagglomeration", "duranton_overman")
    assert {r["sector"] for r in out["trend"]} == {"all", "textiles"}
    assert all("textiles" in (r["sector_a"], r["sector_b"]) for r in out["coagglomeration"])
    assert out["duranton_overman"][0]["sector"] == "textiles" and out["ripley"]["simulations"] == 0


def test_cli_cross_k(dataset_path):
    from api.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["metrics", "--data", str(dataset_path), "--sector", "textiles", "--cross", "machinery", "--json",
                              "--simulations", "0", "--permutations", "99"])
    assert res.exit_code == 0, res.output
    c = json.loads(res.stdout)["cross_k"]
    assert c["other"] == "machinery" and len(c["L"]) == len(c["L_low"]) == len(c["distances"])
    res = runner.invoke(app, ["metrics", "--data", str(dataset_path), "--cross", "machinery", "--simulations", "0",
                              "--lang", "en"])
    assert res.exit_code == 2 and "--cross needs --sector" in res.output


def test_per_mu_distribution_rows_match_the_per_mu_rows(dataset, doc):
    rows = per_mu_distribution_rows(dataset, by="park_id")
    in_parks = [r for r in doc["per_mu"] if r["park_id"] is not None]
    assert sum(r["evaluated"] for r in rows) == len(in_parks)
    first = rows[0]
    assert first["n_D"] == sum(1 for r in in_parks if r["park_id"] == first["park_id"] and r["class"] == "D")
    by_county = per_mu_distribution_rows(dataset, by="county_code")
    assert all(r["share_D"] <= 0.2 for r in by_county if r["evaluated"] >= 20)
    with pytest.raises(MetricsError, match="accepted: park_id, county_code"):
        per_mu_distribution_rows(dataset, by="city")


@pytest.mark.parametrize("kwargs, code", [({"cluster_method": "bogus"}, "clusters.method"),
                                           ({"edge_correction": "torus"}, "ripley.edge_correction")])
def test_a_bad_choice_is_refused_before_any_metric_is_computed(kwargs, code):
    """The dataset is not even looked at: an object that is no dataset would fail as soon as it were."""
    with pytest.raises(MetricsError) as info:
        compute_metrics(object(), **kwargs)
    assert info.value.code == code and repr(next(iter(kwargs.values()))) in str(info.value)
