"""The planner's report on a small world whose numbers are worked out here from the raw coordinates.

The reference distances are computed independently of the report's code: the enterprises' lon/lat
and each park polygon's vertices are projected with a pyproj Transformer, the park's representative
point taken with shapely on the projected polygon, and the distances, bands, shares and loads then
counted by hand.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from numpy.testing import assert_allclose

from parks.suitability import SuitabilityError
from parks.suitability.plan_report import (ALL, LABELS, TABLES, PlanReport, ReportParams, band_labels, label,
                                           plan_report)

METRIC = "EPSG:4549"

COUNTIES = [  # code, name, city, lon0, lon1
    ("A", "甲县", "X市", 120.0, 120.2),
    ("B", "乙县", "X市", 120.2, 120.4),
    ("C", "丙县", "Y市", 120.4, 121.4),
]
# P1 is an L shape: its representative point is not its centroid's
PARKS = {
    "P1": dict(county_code="A", free_land_ha=5.0, land_price=300.0, leading_sectors="textiles", name="一号园",
               shape=[(120.09, 29.19), (120.13, 29.19), (120.13, 29.20), (120.10, 29.20), (120.10, 29.23), (120.09, 29.23)]),
    "P2": dict(county_code="B", free_land_ha=100.0, land_price=200.0, leading_sectors="machinery", name="二号园",
               shape=[(120.29, 29.19), (120.31, 29.19), (120.31, 29.21), (120.29, 29.21)]),
    "P3": dict(county_code="C", free_land_ha=100.0, land_price=100.0, leading_sectors="textiles,machinery", name="三号园",
               shape=[(121.19, 29.19), (121.21, 29.19), (121.21, 29.21), (121.19, 29.21)]),
}
# id, lon, lat, county, sector, employees, land_ha
ENTERPRISES = [
    ("E1", 120.05, 29.21, "A", "textiles", 100, 2.0),
    ("E2", 120.15, 29.10, "A", "textiles", 50, 2.0),
    ("E3", 120.25, 29.30, "B", "machinery", 80, 3.0),
    ("E4", 120.02, 29.05, "A", "machinery", 20, 1.0),
    ("E5", 120.35, 29.15, "B", "textiles", 10, 1.0),
    ("E6", 120.18, 29.35, "A", "textiles", 30, 2.0),
    ("E7", 120.38, 29.25, "B", "machinery", 40, 1.5),
    ("E8", 120.85, 29.20, "C", "textiles", 60, 1.0),
    ("E9", 120.60, 29.10, "C", "light_industry", 5, 0.5),
]
# scenario, enterprise, park (None: unplaced), reason
PLAN = [
    ("urban-core", "E1", "P1", None),
    ("urban-core", "E2", "P1", None),
    ("urban-core", "E3", "P2", None),
    ("urban-core", "E4", "P3", None),
    ("urban-core", "E5", None, "no_feasible_park"),
    ("scattered", "E6", "P1", None),
    ("scattered", "E7", "P2", None),
    ("scattered", "E8", "P3", None),
    ("scattered", "E9", None, "closure_or_upgrade"),
]


@pytest.fixture(scope="module")
def world():
    counties = gpd.GeoDataFrame({"code": [c[0] for c in COUNTIES], "name": [c[1] for c in COUNTIES],
                                 "city": [c[2] for c in COUNTIES]},
                                geometry=[shapely.box(c[3], 29.0, c[4], 29.4) for c in COUNTIES], crs=4326)
    parks = gpd.GeoDataFrame({"park_id": list(PARKS), **{k: [p[k] for p in PARKS.values()] for k in
                                                          ("county_code", "free_land_ha", "land_price", "leading_sectors", "name")}},
                             geometry=[shapely.Polygon(p["shape"]) for p in PARKS.values()], crs=4326)
    ents = gpd.GeoDataFrame({"enterprise_id": [e[0] for e in ENTERPRISES], "county_code": [e[3] for e in ENTERPRISES],
                             "sector": [e[4] for e in ENTERPRISES], "employees": [e[5] for e in ENTERPRISES],
                             "land_ha": [e[6] for e in ENTERPRISES], "name": [f"企业{e[0]}" for e in ENTERPRISES]},
                            geometry=[shapely.Point(e[1], e[2]) for e in ENTERPRISES], crs=4326)
    land = {e[0]: e[6] for e in ENTERPRISES}
    assignments = pd.DataFrame([{"enterprise_id": e, "scenario": s, "park_id": p, "score": 0.5 if p else np.nan,
                                 "land_ha": land[e], "status": "assigned" if p else "unassigned", "reason": r}
                                for s, e, p, r in PLAN])
    return counties, parks, ents, assignments


@pytest.fixture(scope="module")
def geometry_ref():
    """The firms' sites and the parks' representative points, projected from the raw coordinates."""
    tr = pyproj.Transformer.from_crs(4326, METRIC, always_xy=True)
    rep = {}
    for pid, p in PARKS.items():
        xs, ys = tr.transform([v[0] for v in p["shape"]], [v[1] for v in p["shape"]])
        rep[pid] = shapely.Polygon(list(zip(xs, ys))).representative_point()
    site = {e[0]: shapely.Point(*tr.transform(e[1], e[2])) for e in ENTERPRISES}
    return site, rep


@pytest.fixture(scope="module")
def reference(geometry_ref):
    """Distances (km) of the placed firms, from the raw coordinates, and the nearest park of each."""
    site, rep = geometry_ref
    dist = {(s, e): site[e].distance(rep[p]) / 1000.0 for s, e, p, _ in PLAN if p}
    nearest = {e: min(rep, key=lambda pid: site[e].distance(rep[pid])) for e in site}
    return dist, nearest


@pytest.fixture(scope="module")
def candidates():
    rows = [  # scenario, enterprise, park, rank, distance, land_price
        ("urban-core", "E1", "P1", 1, 0.9, 0.2), ("urban-core", "E1", "P2", 2, 0.3, 0.6),
        ("urban-core", "E2", "P1", 1, 0.8, 0.2), ("urban-core", "E2", "P3", 2, 0.1, 0.9),
        ("urban-core", "E3", "P3", 1, 0.2, 0.9), ("urban-core", "E3", "P2", 2, 0.7, 0.5),
    ]
    frame = pd.DataFrame(rows, columns=["scenario", "enterprise_id", "park_id", "rank", "distance", "land_price"])
    frame["score"] = 0.5 * frame["distance"] + 0.5 * frame["land_price"]
    return frame


@pytest.fixture(scope="module")
def report(world, candidates) -> PlanReport:
    counties, parks, ents, assignments = world
    return plan_report(assignments, ents, parks, counties, metric_crs=METRIC, candidates=candidates)


def _placed(scenario=None):
    return [(s, e, p) for s, e, p, _ in PLAN if p and (scenario in (None, ALL) or s == scenario)]


def test_the_world_is_built_as_intended(reference):
    """The fixture puts firms in the bands and counties the hand counts below assume."""
    dist, nearest = reference
    assert dist[("urban-core", "E1")] < 10 and dist[("urban-core", "E4")] > 100
    assert 30 <= dist[("scattered", "E8")] < 50
    assert nearest["E1"] == "P1" and nearest["E7"] == "P2"


@pytest.mark.parametrize("scenario", ["urban-core", "scattered", ALL])
def test_summary_matches_the_hand_count(report, reference, world, scenario):
    dist, _ = reference
    placed = _placed(scenario)
    d = np.array([dist[(s, e)] for s, e, _ in placed])
    county = {e[0]: e[3] for e in ENTERPRISES}
    city = {c[0]: c[2] for c in COUNTIES}
    park_county = {pid: p["county_code"] for pid, p in PARKS.items()}
    rows = [r for r in PLAN if scenario == ALL or r[0] == scenario]
    row = report.summary.set_index("scenario").loc[scenario]
    assert row["enterprises"] == len(rows)
    assert row["assigned"] == len(placed) and row["unassigned"] == len(rows) - len(placed)
    assert_allclose(row["median_km"], np.median(d), rtol=1e-9)
    assert_allclose(row["mean_km"], d.mean(), rtol=1e-9)
    assert_allclose(row["p90_km"], np.percentile(d, 90), rtol=1e-9)
    assert_allclose(row["max_km"], d.max(), rtol=1e-9)
    own_county = sum(county[e] == park_county[p] for _, e, p in placed) / len(placed)
    own_city = sum(city[county[e]] == city[park_county[p]] for _, e, p in placed) / len(placed)
    assert row["own_county_share"] == pytest.approx(own_county)
    assert row["own_city_share"] == pytest.approx(own_city)
    emp = {e[0]: e[5] for e in ENTERPRISES}
    land = {e[0]: e[6] for e in ENTERPRISES}
    assert row["jobs_moved"] == sum(emp[e] for _, e, _ in placed)
    assert row["land_ha"] == pytest.approx(sum(land[e] for _, e, _ in placed))


def test_hand_values_of_the_shares(report):
    """Written out: urban-core moves E1, E2 (A->A), E3 (B->B), E4 (A->C): 3 of 4 in their county and city;
    scattered E6 (A->A), E7 (B->B), E8 (C->C): all; the plan 6 of 7."""
    s = report.summary.set_index("scenario")
    assert s.loc["urban-core", "own_county_share"] == pytest.approx(0.75)
    assert s.loc["scattered", "own_county_share"] == pytest.approx(1.0)
    assert s.loc[ALL, "own_city_share"] == pytest.approx(6 / 7)
    assert list(report.scenarios) == ["urban-core", "scattered", ALL]


@pytest.mark.parametrize("scenario", ["urban-core", "scattered", ALL])
def test_distance_bands_count_the_reference_distances(report, reference, scenario):
    dist, _ = reference
    d = np.array([dist[(s, e)] for s, e, _ in _placed(scenario)])
    bands = report.distance_bands[report.distance_bands["scenario"] == scenario]
    assert bands["band"].tolist() == ["0-10 km", "10-30 km", "30-50 km", "50-100 km", "100+ km"]
    edges = [0, 10, 30, 50, 100, np.inf]
    expected = [int(((d >= lo) & (d < hi)).sum()) for lo, hi in zip(edges[:-1], edges[1:])]
    assert bands["firms"].tolist() == expected
    assert bands["firms"].sum() == len(d)
    assert_allclose(bands["share"].sum(), 1.0)


def test_park_load_against_free_land(report):
    load = report.park_load.set_index(["scenario", "park_id"])
    # P1: E1 (2 ha) + E2 (2 ha) in urban-core, E6 (2 ha) in scattered; 5 ha free
    assert load.loc[("urban-core", "P1"), "land_ha"] == pytest.approx(4.0)
    assert load.loc[("urban-core", "P1"), "land_share"] == pytest.approx(4.0 / 5.0)
    assert load.loc[("urban-core", "P1"), "firms"] == 2
    assert load.loc[("urban-core", "P1"), "jobs"] == 150
    assert load.loc[(ALL, "P1"), "land_ha"] == pytest.approx(6.0)
    assert bool(load.loc[(ALL, "P1"), "over_free_land"]) and not bool(load.loc[("urban-core", "P1"), "over_free_land"])
    assert load.loc[("scattered", "P2"), "firm_share"] == pytest.approx(1 / 3)
    land = report.park_land.set_index("park_id")
    assert land.loc["P1", "land_urban_core_ha"] == pytest.approx(4.0)
    assert land.loc["P1", "land_scattered_ha"] == pytest.approx(2.0)
    assert land.loc["P1", "land_left_ha"] == pytest.approx(-1.0)
    assert_allclose(land[["land_urban_core_ha", "land_scattered_ha"]].sum(axis=1), land["land_used_ha"])
    assert land.loc["P2", "firms"] == 2


def test_free_land_of_the_pool_overrides_the_layer(world):
    counties, parks, ents, assignments = world
    r = plan_report(assignments, ents, parks, counties, metric_crs=METRIC, free_land_ha={"P1": 8.0})
    assert r.park_land.set_index("park_id").loc["P1", "land_left_ha"] == pytest.approx(2.0)
    assert "over_free_land" not in set(r.flags["flag"])


def test_flags(report, world):
    flags = report.flags
    over = flags[flags["flag"] == "over_free_land"]
    assert over[["scenario", "park_id"]].values.tolist() == [[ALL, "P1"]]
    assert "一号园" in over["message_zh"].iloc[0] and "6.0" in over["message_zh"].iloc[0]
    # E4 moves over 100 km: urban-core's median is that of (E1, E2, E3, E4); with a threshold below it, flagged
    counties, parks, ents, assignments = world
    med = report.summary.set_index("scenario").loc["urban-core", "median_km"]
    r = plan_report(assignments, ents, parks, counties, metric_crs=METRIC,
                    params=ReportParams(median_move_km=med - 0.01, park_share_min_firms=1, park_share_max=0.4))
    f = r.flags
    assert ("urban-core", "median_move") in set(zip(f["scenario"], f["flag"]))
    # urban-core: P1 takes 2 of 4 placed (50% > 40%); scattered: each park 1 of 3 (33%, not flagged);
    # the plan: P1 3 of 7 (43%), P2 and P3 2 of 7 (29%)
    shares = f[f["flag"] == "park_share"]
    assert set(zip(shares["scenario"], shares["park_id"])) == {("urban-core", "P1"), (ALL, "P1")}
    # urban-core: 1 of 5 unplaced for no feasible park = 20%, not above the default 20%; scattered's is a closure
    assert "unplaced_share" not in set(report.flags["flag"])
    r = plan_report(assignments, ents, parks, counties, metric_crs=METRIC, params=ReportParams(unplaced_share_max=0.19))
    assert set(r.flags.loc[r.flags["flag"] == "unplaced_share", "scenario"]) == {"urban-core"}


def test_expected_share_flags(world):
    counties, parks, ents, assignments = world
    r = plan_report(assignments, ents, parks, counties, metric_crs=METRIC,
                    params=ReportParams(expected_shares=(("urban-core", "own_county", 0.8),
                                                         ("scattered", "own_city", 0.5))))
    got = r.flags[r.flags["flag"].isin(["own_county_share", "own_city_share"])]
    assert got[["scenario", "flag", "value"]].values.tolist() == [["urban-core", "own_county_share", 0.75]]


def test_unplaced_reasons_and_examples(report):
    un = report.unplaced.set_index(["scenario", "reason"])
    assert un.loc[("urban-core", "no_feasible_park"), "firms"] == 1
    assert un.loc[("urban-core", "no_feasible_park"), "share"] == pytest.approx(1 / 5)
    assert un.loc[("urban-core", "no_feasible_park"), "examples"] == "E5 企业E5"
    assert un.loc[("scattered", "closure_or_upgrade"), "jobs"] == 5
    assert un.loc[ALL, "firms"].sum() == 2


def test_top_parks_and_why(report, reference, geometry_ref):
    _, nearest = reference
    top = report.top_parks
    uc = top[top["scenario"] == "urban-core"].set_index("park_id")
    assert uc.index[0] == "P1" and uc.loc["P1", "rank"] == 1 and uc.loc["P1", "firms"] == 2
    # E1 and E2 both had P1 first; E3 had P3 first but went to P2
    assert uc.loc["P1", "first_choice_share"] == 1.0 and uc.loc["P2", "first_choice_share"] == 0.0
    # the criterion where P1 beats the firms' other candidates: distance (0.9 vs 0.6 mean, 0.8 vs 0.45)
    assert uc.loc["P1", "top_criteria"] == "distance"
    assert uc.loc["P1", "sector_match_share"] == 1.0  # textiles into a textiles park
    assert uc.loc["P1", "nearest_share"] == pytest.approx(np.mean([nearest[e] == "P1" for e in ("E1", "E2")]))
    # the nearest of each firm's candidate (feasible) parks, from the reference geometry
    site, rep = geometry_ref
    cand = {"E1": ("P1", "P2"), "E2": ("P1", "P3"), "E3": ("P3", "P2")}
    near = {e: min(ps, key=lambda p: site[e].distance(rep[p])) for e, ps in cand.items()}
    assert near == {"E1": "P1", "E2": "P1", "E3": "P2"}
    assert uc.loc["P1", "nearest_candidate_share"] == 1.0 and uc.loc["P2", "nearest_candidate_share"] == 1.0
    assert "最近的可行园区" in uc.loc["P2", "why_zh"] and "nearest feasible park for 100%" in uc.loc["P2", "why_en"]
    assert np.isnan(uc.loc["P3", "nearest_candidate_share"])  # E4 has no candidates given
    # land price ranks within the city: X市 has P1 (300) and P2 (200): P2 cheapest
    assert uc.loc["P2", "land_price_rank"] == 1 and uc.loc["P1", "land_price_rank"] == 2
    assert uc.loc["P2", "parks_in_city"] == 2
    assert "首选" in uc.loc["P1", "why_zh"] and "距现址距离" in uc.loc["P1", "why_zh"]
    assert "distance from current site" in uc.loc["P1", "why_en"]
    assert "市内地价最低" in uc.loc["P2", "why_zh"]
    # without candidates the first-choice share is unknown, not 0
    assert top[top["scenario"] == "scattered"]["first_choice_share"].isna().all()


def test_weights_weigh_the_advantages(world, candidates):
    counties, parks, ents, assignments = world
    r = plan_report(assignments, ents, parks, counties, metric_crs=METRIC, candidates=candidates,
                    weights={"distance": 0.0, "land_price": 1.0})
    top = r.top_parks.set_index(["scenario", "park_id"])
    assert top.loc[("urban-core", "P1"), "top_criteria"] == ""  # P1 is dearer than the alternatives
    assert top.loc[("urban-core", "P2"), "top_criteria"] == ""  # E3's P2: 0.5 vs 0.7 mean


def test_flows_in_the_report(report):
    f = report.flows
    assert f.groupby("scenario")["firms"].sum().to_dict() == {"scattered": 3, "urban-core": 4}
    pair = f[(f["scenario"] == "urban-core") & (f["origin_county_code"] == "A") & (f["destination_county_code"] == "A")]
    assert pair["firms"].tolist() == [2] and pair["jobs"].tolist() == [150] and bool(pair["same_county"].iloc[0])


def test_counties_derived_from_geometry_give_the_same_report(world, candidates, report):
    counties, parks, ents, assignments = world
    r = plan_report(assignments.sample(frac=1, random_state=3), ents.drop(columns="county_code"),
                    parks.drop(columns="county_code"), counties, metric_crs=METRIC, candidates=candidates)
    pd.testing.assert_frame_equal(r.summary, report.summary)
    pd.testing.assert_frame_equal(r.distance_bands, report.distance_bands)


def test_one_scenario_without_a_scenario_column(world):
    counties, parks, ents, assignments = world
    one = assignments[assignments["scenario"] == "scattered"].drop(columns="scenario")
    r = plan_report(one, ents, parks, counties, metric_crs=METRIC, scenario="scattered")
    assert list(r.scenarios) == ["scattered"] and r.summary["scenario"].tolist() == ["scattered"]
    assert list(r.park_land.columns[4:5]) == ["land_scattered_ha"]


def test_to_dict_is_json(report):
    doc = report.to_dict()
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
    assert set(TABLES) <= set(doc) and doc["scenarios"] == ["urban-core", "scattered", ALL]
    assert json.loads(text)["summary"][0]["scenario"] == "urban-core"
    assert doc["params"]["bands_km"] == [10.0, 30.0, 50.0, 100.0]


def test_tables_are_labelled(report):
    zh = report.tables()
    assert list(zh) == [label(f"table_{t}") for t in TABLES]
    assert list(zh)[0] == "方案汇总"
    assert all(len(name) <= 31 and not set(name) & set("[]:*?/\\") for name in zh)
    summary = zh["方案汇总"]
    assert "搬迁距离中位数（公里）" in summary.columns and "留在本县比例" in summary.columns
    assert summary["情景"].tolist() == ["城区企业退城入园", "分散企业入园", "联合方案（全部情景）"]
    land = zh["各情景园区用地"]
    assert "用地：城区企业退城入园（公顷）" in land.columns
    top = zh["承接最多的园区及原因"]
    assert "原因" in top.columns and "why_en" not in top.columns and "why_zh" not in top.columns
    assert top["得分优势准则"].iloc[0] == "距现址距离"
    assert zh["合理性检查"]["检查项"].tolist() == ["园区安排用地超过可用土地"]
    en = report.tables("en")
    assert list(en)[0] == "Summary" and "Median move (km)" in en["Summary"].columns
    for frame in en.values():
        for col in frame.columns:
            assert not any("\u4e00" <= ch <= "\u9fff" for ch in str(col)), col


def test_every_label_has_both_languages():
    for key, (zh, en) in LABELS.items():
        if not key.startswith("scenario_") or key in ("scenario_all", "scenario_plan"):
            assert zh.strip(), key
        assert en.strip() and not any("\u4e00" <= ch <= "\u9fff" for ch in en), key
    for s in ("urban-core", "scattered", "coastal-transfer"):
        assert label(f"scenario_{s}") != s and label(f"scenario_{s}", "en") != s


def test_band_labels():
    assert band_labels((10, 30)) == [("0-10 km", 0.0, 10.0), ("10-30 km", 10.0, 30.0), ("30+ km", 30.0, float("inf"))]


@pytest.mark.parametrize("params, match", [
    (dict(bands_km=(10, 5)), "bands_km must be increasing"),
    (dict(park_share_max=0), "park_share_max must be a share"),
    (dict(top_parks=0), "top_parks must be an integer"),
    (dict(detour_km=0), "detour_km must be a distance"),
    (dict(expected_shares=(("urban-core", "own_town", 0.5),)), "expected_shares items"),
])
def test_bad_params_are_refused(params, match):
    with pytest.raises(SuitabilityError, match=match):
        ReportParams(**params)


def test_bad_input_is_refused_by_name(world):
    counties, parks, ents, assignments = world
    with pytest.raises(SuitabilityError, match="projected CRS"):
        plan_report(assignments, ents, parks, counties, metric_crs=4326)
    with pytest.raises(SuitabilityError, match=r"assignments lack column\(s\) status"):
        plan_report(assignments.drop(columns="status"), ents, parks, counties, metric_crs=METRIC)
    bad = assignments.copy()
    bad.loc[0, "park_id"] = "P9"
    with pytest.raises(SuitabilityError, match="park.*not in parks: P9"):
        plan_report(bad, ents, parks, counties, metric_crs=METRIC)
    with pytest.raises(SuitabilityError, match="enterprise.*not in enterprises: E1"):
        plan_report(assignments, ents[ents["enterprise_id"] != "E1"], parks, counties, metric_crs=METRIC)


def test_a_plan_that_places_nobody(world):
    """No firm selected, or none placed: the tables are empty or zero, the shares unknown, nothing fails."""
    counties, parks, ents, assignments = world
    empty = assignments.iloc[0:0]
    r = plan_report(empty, ents, parks, counties, metric_crs=METRIC, scenario="scattered")
    assert r.summary[["enterprises", "assigned"]].values.tolist() == [[0, 0]]
    assert r.summary["median_km"].isna().all() and r.summary["own_county_share"].isna().all()
    assert r.distance_bands["firms"].sum() == 0 and r.park_load.empty and r.park_land.empty and r.flows.empty
    json.dumps(r.to_dict(), allow_nan=False)
    unplaced = assignments.assign(park_id=None, status="unassigned", reason="no_feasible_park")
    r = plan_report(unplaced, ents, parks, counties, metric_crs=METRIC)
    assert r.summary.set_index("scenario").loc[ALL, "unassigned"] == len(PLAN)
    assert set(r.flags["flag"]) == {"unplaced_share"} and r.top_parks.empty
    assert all(len(t) >= 0 for t in r.tables().values())


def test_distance_bands_read_in_the_table_language():
    """The report's bands in English as :func:`band_labels` writes them; in the Chinese tables (the Excel sheets of
    the plan) as a Chinese planner writes them: 0–10 公里 … 100 公里以上, from the band's own edges."""
    from parks.suitability.plan_report import band_text

    assert [band_text(lo, hi) for _, lo, hi in band_labels((10, 30))] == ["0-10 km", "10-30 km", "30+ km"]
    assert [band_text(lo, hi, "zh") for _, lo, hi in band_labels((10, 30))] == ["0–10 公里", "10–30 公里", "30 公里以上"]
    assert band_text(2.5, 7.5, "zh") == "2.5–7.5 公里" and band_text(50, None, "zh") == "50 公里以上"


def test_the_chinese_sheet_of_bands_says_gongli(report):
    zh = report.tables("zh")[label("table_distance_bands", "zh")]
    en = report.tables("en")[label("table_distance_bands", "en")]
    band_zh, band_en = label("band", "zh"), label("band", "en")
    n = len(report.distance_bands)
    assert zh[band_zh].tolist()[:5] == ["0–10 公里", "10–30 公里", "30–50 公里", "50–100 公里", "100 公里以上"]
    assert en[band_en].tolist() == report.distance_bands["band"].tolist() and len(zh) == n
    assert not any("km" in str(v) for v in zh[band_zh])


# --------------------------------------------------------------------------- detour beyond the nearest feasible park

@pytest.fixture(scope="module")
def detour_candidates(candidates):
    """The urban-core candidates plus E4's: P1 (about 20 km away) and P3, where E4 is sent (over 100 km)."""
    e4 = pd.DataFrame([("urban-core", "E4", "P1", 1, 0.9, 0.5), ("urban-core", "E4", "P3", 2, 0.1, 0.9)],
                      columns=["scenario", "enterprise_id", "park_id", "rank", "distance", "land_price"])
    e4["score"] = 0.5 * e4["distance"] + 0.5 * e4["land_price"]
    return pd.concat([candidates, e4], ignore_index=True)


def _ref_detours(geometry_ref, cands) -> dict:
    site, rep = geometry_ref
    out = {}
    for s, e, park, _ in PLAN:
        mine = cands.loc[(cands["scenario"] == s) & (cands["enterprise_id"] == e), "park_id"]
        if park and len(mine):
            out[e] = (site[e].distance(rep[park]) - min(site[e].distance(rep[p]) for p in mine)) / 1000.0
    return out


def test_detour_is_the_move_beyond_the_nearest_candidate(world, geometry_ref, detour_candidates):
    """Each firm's detour is its move minus the distance to its nearest candidate park, both from the raw
    coordinates: E1-E3 go to their nearest candidate (0 km), E4 goes to P3 past P1 (about 90 km). Firms without
    candidates (the scattered scenario) have none."""
    counties, parks, ents, assignments = world
    det = _ref_detours(geometry_ref, detour_candidates)
    assert sorted(det) == ["E1", "E2", "E3", "E4"] and det["E4"] > 60 and all(det[e] == 0 for e in ("E1", "E2", "E3"))
    r = plan_report(assignments, ents, parks, counties, metric_crs=METRIC, candidates=detour_candidates)
    row = r.summary.set_index("scenario").loc["urban-core"]
    assert_allclose(row["median_detour_km"], np.median(list(det.values())), atol=1e-9)
    assert row["detour_share"] == pytest.approx(0.25)  # 1 of 4 beyond 30 km
    assert np.isnan(r.summary.set_index("scenario").loc["scattered", "median_detour_km"])
    plan_row = r.summary.set_index("scenario").loc[ALL]
    assert plan_row["detour_share"] == pytest.approx(0.25)  # the plan: the same 4 firms with candidates


def test_detour_flag_follows_its_thresholds(world, geometry_ref, detour_candidates):
    counties, parks, ents, assignments = world
    d4 = _ref_detours(geometry_ref, detour_candidates)["E4"]

    def flagged(**kw):
        r = plan_report(assignments, ents, parks, counties, metric_crs=METRIC, candidates=detour_candidates,
                        params=ReportParams(**kw))
        return r.flags[r.flags["flag"] == "detour"]

    got = flagged(detour_km=d4 - 1.0, detour_share_max=0.2)  # 25 % > 20 %: urban-core and the plan
    assert got["scenario"].tolist() == ["urban-core", ALL]
    assert got["value"].tolist() == pytest.approx([0.25, 0.25])
    assert f"{d4 - 1.0:.0f} 公里" in got["message_zh"].iloc[0] and "25%" in got["message_zh"].iloc[0]
    assert "km" in got["message_en"].iloc[0]
    assert flagged(detour_km=d4 + 1.0, detour_share_max=0.2).empty  # nobody beyond the distance
    assert flagged(detour_km=d4 - 1.0, detour_share_max=0.25).empty  # 25 % is not above 25 %
def test_median_move_threshold_per_scenario(world, report):
    """The coastal scenario moves firms to the mountain counties by design: its own threshold (default 150 km);
    a scenario without one uses median_move_km."""
    assert ReportParams().median_move_limit("coastal-transfer") == 150.0
    assert ReportParams().median_move_limit("urban-core") == 50.0
    counties, parks, ents, assignments = world
    med = report.summary.set_index("scenario").loc["urban-core", "median_km"]
    spared = plan_report(assignments, ents, parks, counties, metric_crs=METRIC,
                         params=ReportParams(median_move_km=med - 0.01,
                                             median_move_km_by_scenario=(("urban-core", med + 0.01),)))
    assert ("urban-core", "median_move") not in set(zip(spared.flags["scenario"], spared.flags["flag"]))
    flagged = plan_report(assignments, ents, parks, counties, metric_crs=METRIC,
                          params=ReportParams(median_move_km=med + 10, median_move_km_by_scenario=(("urban-core", med - 0.01),)))
    assert ("urban-core", "median_move") in set(zip(flagged.flags["scenario"], flagged.flags["flag"]))
    with pytest.raises(SuitabilityError):
        ReportParams(median_move_km_by_scenario=(("urban-core", -1.0),))
    # round trip through the JSON form (the API and the shared cache carry params as JSON)
    p = ReportParams(median_move_km_by_scenario=(("urban-core", 40.0),))
    assert ReportParams(**json.loads(json.dumps(p.to_dict()))) == p
