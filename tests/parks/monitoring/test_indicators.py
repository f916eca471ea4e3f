"""Indicators: recomputed here from the raw layers with plain pandas (a different route: merges and
pivot tables per level, no shared helper), on a hand-made frame and on the small built-in dataset."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from geodata.targets import builtin_targets_path, load_targets, parse_targets
from parks.monitoring.indicators import compute_indicators, indicator_components, indicator_values

PERIOD_START = 2001


def _levels(counties: pd.DataFrame) -> dict[str, pd.Series]:
    c = counties.assign(code=counties["code"].astype(str)).set_index("code")
    return {"province": pd.Series("province", index=c.index), "city": c["city"].astype(str),
            "county": pd.Series(c.index, index=c.index),
            "less_developed": c["less_developed"].astype(bool).map({True: "less_developed", False: "other"})}


def reference_values(ds, source: str) -> dict[tuple[str, str, str, int], float]:
    """Every indicator by (indicator, level, group, year), computed the plain way."""
    counties = ds.counties
    years = sorted(set(ds.fixed_asset_investment["year"]) | set(ds.enterprise_years["year"]) | set(ds.projects["year"].dropna()))
    lv = _levels(counties)
    out = {}
    pr = ds.projects[ds.projects["status"] != "cancelled"]
    fai = ds.fixed_asset_investment
    ey = ds.enterprise_years.merge(ds.enterprises[["enterprise_id", "county_code", "high_tech"]], on="enterprise_id", how="left")
    ey = ey[ey["sales"] >= 5e6]
    parks = ds.parks
    for level, m in lv.items():
        def grp(codes):
            if level == "province":
                return pd.Series("province", index=codes.index)
            return codes.astype(str).map(m)
        if source == "projects":
            inv = pr.assign(g=grp(pr["county_code"])).pivot_table(index="g", columns="year", values="investment", aggfunc="sum")
        else:
            inv = fai.assign(g=grp(fai["county_code"])).pivot_table(index="g", columns="year", values="tech_transformation", aggfunc="sum")
        tot = fai.assign(g=grp(fai["county_code"])).pivot_table(index="g", columns="year", values="total", aggfunc="sum")
        va = ey.assign(g=grp(ey["county_code"])).pivot_table(index="g", columns="year", values="value_added", aggfunc="sum")
        vah = ey[ey["high_tech"]].assign(g=grp(ey.loc[ey["high_tech"], "county_code"])).pivot_table(
            index="g", columns="year", values="value_added", aggfunc="sum")
        groups = sorted(set(m.dropna()))
        for g in groups:
            cum = 0.0
            for y in years:
                i = inv.at[g, y] if g in inv.index and y in inv.columns and pd.notna(inv.at[g, y]) else 0.0
                t = tot.at[g, y] if g in tot.index and y in tot.columns else np.nan
                a = va.at[g, y] if g in va.index and y in va.columns and pd.notna(va.at[g, y]) else 0.0
                h = vah.at[g, y] if g in vah.index and y in vah.columns and pd.notna(vah.at[g, y]) else 0.0
                sel = ey[(ey["year"] == y) & (grp(ey["county_code"]) == g)]
                out[("tech_investment", level, g, y)] = i
                out[("tech_share_of_fai", level, g, y)] = i / t if t > 0 else np.nan
                out[("high_tech_share_of_value_added", level, g, y)] = h / a if a > 0 else np.nan
                out[("enterprises_sales_over_10bn", level, g, y)] = float((sel["sales"] >= 1e10).sum())
                out[("enterprises_sales_over_5bn", level, g, y)] = float((sel["sales"] >= 5e9).sum())
                in_g = parks[(grp(parks["county_code"]) == g) & (parks["established"] <= y)]
                out[("township_zones_built", level, g, y)] = float((in_g["kind"] == "township_zone").sum())
                out[("specialty_parks_built", level, g, y)] = float((in_g["kind"] == "specialty_park").sum())
                if y >= PERIOD_START:
                    cum += i
                    out[("tech_investment_total", level, g, y)] = cum
                    b = inv.at[g, PERIOD_START - 1] if g in inv.index and PERIOD_START - 1 in inv.columns else np.nan
                    b = 0.0 if pd.isna(b) else b
                    out[("tech_investment_growth", level, g, y)] = (i / b) ** (1 / (y - PERIOD_START + 1)) - 1 if b > 0 and i > 0 else np.nan
    return out


@pytest.mark.parametrize("source", ["projects", "fai"])
def test_every_indicator_matches_a_plain_recomputation(plan_ds, plan_ds_fai, source):
    ds = plan_ds if source == "projects" else plan_ds_fai
    parts, used, years = indicator_components(ds, source="auto")
    assert used == source
    got = indicator_values(parts, ds.counties, period_start=PERIOD_START)
    ref = reference_values(ds, source)
    got = got.set_index(["indicator", "level", "group", "year"])["value"]
    keys = list(ref)
    assert len(keys) > 1000
    missing = [k for k in keys if k not in got.index]
    assert not missing, missing[:5]
    np.testing.assert_allclose(got.loc[keys].to_numpy(dtype=float), np.array([ref[k] for k in keys], dtype=float),
                               rtol=1e-9, equal_nan=True)
    # the province's figures are sums over every county plus the enterprises/projects outside any county
    prov = got.xs(("tech_investment", "province"), level=("indicator", "level"))
    county = got.xs(("tech_investment", "county"), level=("indicator", "level")).groupby(level="year").sum()
    assert (prov.droplevel("group") >= county - 1e-6).all()


def _tiny():
    counties = pd.DataFrame({"code": ["1", "2"], "name": ["甲县", "乙县"], "city": ["A", "A"], "less_developed": [False, True]})
    ent = pd.DataFrame({"enterprise_id": ["e1", "e2", "e3"], "county_code": ["1", "2", "2"], "high_tech": [True, False, True]})
    projects = pd.DataFrame({"project_id": ["p1", "p2", "p3", "p4"], "enterprise_id": ["e1", "e2", "e3", "e1"],
                             "investment": [100.0, 50.0, 30.0, 999.0], "status": ["completed", "in_progress", "planned", "cancelled"],
                             "county_code": ["1", "2", "2", "1"], "year": [2000, 2000, 2001, 2001]})
    fai = pd.DataFrame({"county_code": ["1", "2", "1", "2"], "year": [2000, 2000, 2001, 2001], "total": [400.0, 200.0, 500.0, 100.0]})
    ey = pd.DataFrame({"enterprise_id": ["e1", "e2", "e3", "e1", "e2", "e3"], "year": [2000, 2000, 2000, 2001, 2001, 2001],
                       "sales": [2e10, 6e9, 1e6, 2.2e10, 7e9, 8e6], "value_added": [10.0, 30.0, 99.0, 12.0, 28.0, 20.0]})
    parks = pd.DataFrame({"park_id": ["k1", "k2", "k3"], "kind": ["township_zone", "specialty_park", "township_zone"],
                          "county_code": ["1", "2", "2"], "established": [1999, 2001, np.nan]})
    return SimpleNamespace(counties=counties, enterprises=ent, projects=projects, fixed_asset_investment=fai,
                           enterprise_years=ey, parks=parks)


def test_tiny_dataset_by_hand():
    ds = _tiny()
    parts, used, years = indicator_components(ds)
    v = indicator_values(parts, ds.counties, period_start=2001).set_index(["indicator", "level", "group", "year"])["value"]
    P = "province"
    assert used == "projects" and years == [2000, 2001]
    assert v[("tech_investment", P, P, 2000)] == 150 and v[("tech_investment", P, P, 2001)] == 30  # cancelled p4 left out
    assert v[("tech_share_of_fai", P, P, 2000)] == pytest.approx(150 / 600)
    assert v[("tech_share_of_fai", "county", "2", 2001)] == pytest.approx(30 / 100)
    # e3 is below designated size in 2000 (sales 1 M < 5 M), above in 2001
    assert v[("high_tech_share_of_value_added", P, P, 2000)] == pytest.approx(10 / 40)
    assert v[("high_tech_share_of_value_added", P, P, 2001)] == pytest.approx(32 / 60)
    assert v[("enterprises_sales_over_10bn", P, P, 2001)] == 1 and v[("enterprises_sales_over_5bn", P, P, 2001)] == 2
    assert v[("township_zones_built", P, P, 2001)] == 1  # k3 has no year: not counted
    assert v[("specialty_parks_built", P, P, 2000)] == 0 and v[("specialty_parks_built", P, P, 2001)] == 1
    assert v[("tech_investment_total", P, P, 2001)] == 30
    assert v[("tech_investment_growth", P, P, 2001)] == pytest.approx(30 / 150 - 1)
    assert v[("tech_investment", "less_developed", "less_developed", 2000)] == 50
    assert v[("tech_investment", "city", "A", 2000)] == 150


TARGETS = """
[plan]
period_start = 2001
[targets.share]
indicator = "tech_share_of_fai"
unit = "percent"
base_year = 2000
target_year = 2002
target_value = 30
[targets.inv]
indicator = "tech_investment"
unit = "yuan"
base_year = 2000
base_value = 100
target_year = 2002
target_value = 200
"""


def test_targets_gap_and_on_track():
    ds = _tiny()
    rep = compute_indicators(ds, parse_targets(TARGETS))
    t = rep.table.set_index(["target_id", "level", "group", "year"])
    # share: linear path from the data's own 2000 value (25%) to 30% in 2002: 27.5% in 2001
    r = t.loc[("share", "province", "province", 2001)]
    assert r["target"] == pytest.approx(0.275)
    assert r["value"] == pytest.approx(30 / 600)
    assert r["gap"] == pytest.approx(30 / 600 - 0.275) and not r["on_track"]
    # a share is held against the path for counties too; county 2's own base is 50/200
    r2 = t.loc[("share", "county", "2", 2001)]
    assert r2["target"] == pytest.approx(0.25 + 0.05 / 2) and r2["on_track"]
    # an amount has no target below the province
    assert t.loc[("inv", "county", "1", 2000), "target"] is None or pd.isna(t.loc[("inv", "county", "1", 2000), "target"])
    assert t.loc[("inv", "province", "province", 2000), "target"] == 100 and t.loc[("inv", "province", "province", 2000), "on_track"]
    assert t.loc[("inv", "province", "province", 2001), "target"] == 150
    assert rep.year == 2001
    s = rep.summary.set_index("target_id")
    assert s.at["inv", "progress"] == pytest.approx(30 / 200)


def test_an_edited_target_changes_the_result(plan_ds):
    base = load_targets()
    a = compute_indicators(plan_ds, base)
    text = builtin_targets_path().read_text(encoding="utf-8")
    assert "target_value = 25\n" in text
    edited = parse_targets(text.replace("target_value = 25\n", "target_value = 5\n"))
    b = compute_indicators(plan_ds, edited)
    ta = a.summary.set_index("target_id").loc["high_tech_share"]
    tb = b.summary.set_index("target_id").loc["high_tech_share"]
    assert ta["value"] == tb["value"]
    assert tb["expected"] < ta["expected"]


def test_bad_inputs_are_refused(plan_ds):
    with pytest.raises(ValueError, match="source 'x' is not accepted"):
        compute_indicators(plan_ds, load_targets(), source="x")
    with pytest.raises(TypeError, match="year must be an int"):
        compute_indicators(plan_ds, load_targets(), year="2003")
    raw = SimpleNamespace(**{k: getattr(plan_ds, k) for k in ("counties", "parks", "projects")},
                          enterprises=plan_ds.enterprises.drop(columns="county_code"))
    with pytest.raises(ValueError, match="prepare"):
        indicator_components(raw)


def test_the_builtin_datasets_own_layers_match_a_plain_recomputation(dataset):
    """The built-in generator's own FAI, enterprise-year and flag series (not the ones this test folder builds)."""
    assert len(dataset.fixed_asset_investment) and len(dataset.enterprise_years), "the built-in dataset has plan series"
    parts, used, _ = indicator_components(dataset)
    source = "fai" if dataset.fixed_asset_investment["tech_transformation"].notna().any() else "projects"
    assert used == source
    got = indicator_values(parts, dataset.counties, period_start=PERIOD_START).set_index(
        ["indicator", "level", "group", "year"])["value"]
    ref = reference_values(dataset, source)
    keys = [k for k in ref if k[1] != "county"]  # every province, city and less-developed row; counties below
    keys += [k for k in ref if k[1] == "county"][::7]
    np.testing.assert_allclose(got.loc[keys].to_numpy(dtype=float), np.array([ref[k] for k in keys], dtype=float),
                               rtol=1e-9, equal_nan=True)
    rep = compute_indicators(dataset, load_targets())
    assert rep.year == max(dataset.enterprise_years["year"]) and len(rep.summary) == 8
