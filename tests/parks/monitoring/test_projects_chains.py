"""Projects (derived fields, overdue, sums, less-developed share, key enterprises) and supply chains, each
checked against a plain recomputation from the raw layers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from parks.monitoring import chain_links, chain_report, key_enterprises, less_developed_share, overdue_projects, project_sums


def test_projects_carry_their_enterprises_park_and_county(plan_ds):
    pr, ent = plan_ds.projects, plan_ds.enterprises
    merged = pr[["project_id", "enterprise_id"]].merge(ent[["enterprise_id", "park_id", "county_code", "city"]],
                                                       on="enterprise_id", how="left", suffixes=("", "_e"))
    for c in ("park_id", "county_code", "city"):
        a = pr.set_index("project_id")[c].astype(object).where(pr.set_index("project_id")[c].notna(), None)
        b = merged.set_index("project_id")[c].astype(object).where(merged.set_index("project_id")[c].notna(), None)
        assert a.reindex(b.index).tolist() == b.tolist(), c
    assert (pr["year"].astype(int) == pr["start_year"].astype(int)).all()
    assert pr["park_id"].notna().any() and pr["park_id"].isna().any()


def test_overdue_cases():
    pr = pd.DataFrame({
        "project_id": ["open", "late", "ontime", "cancelled", "noplan", "future", "done_nodate"],
        "status": ["in_progress", "completed", "completed", "cancelled", "in_progress", "planned", "completed"],
        "planned_completion": ["2003-06-30", "2003-01-01", "2003-01-01", "2002-01-01", None, "2005-01-01", "2002-01-01"],
        "actual_completion": [None, "2003-03-02", "2002-12-01", None, None, None, None],
    })
    got = overdue_projects(pr, dt.date(2004, 1, 1))
    assert got["project_id"].tolist() == ["open", "late"]
    assert got["overdue"].tolist() == ["open", "late"]
    assert got["days_late"].tolist() == [(dt.date(2004, 1, 1) - dt.date(2003, 6, 30)).days, 60]
    with pytest.raises(TypeError, match="as_of must be a date"):
        overdue_projects(pr, "2004-01-01")


def test_overdue_on_the_dataset(plan_ds):
    as_of = dt.date(2003, 12, 31)
    pr = plan_ds.projects
    got = set(overdue_projects(pr, as_of)["project_id"])
    ref = set()
    for r in pr.itertuples():
        planned = pd.Timestamp(r.planned_completion) if isinstance(r.planned_completion, str) else None
        actual = pd.Timestamp(r.actual_completion) if isinstance(r.actual_completion, str) else None
        if planned is None or r.status == "cancelled":
            continue
        if actual is None and r.status != "completed" and planned < pd.Timestamp(as_of):
            ref.add(r.project_id)
        elif actual is not None and actual > planned:
            ref.add(r.project_id)
    assert got == ref and len(ref) > 10


@pytest.mark.parametrize("by", ["year", "county_code", "park_id", "sector", "funding", "city"])
def test_sums_match_a_plain_groupby(plan_ds, by):
    pr = plan_ds.projects
    live = pr[pr["status"] != "cancelled"]
    got = project_sums(pr, by).set_index(by)
    ref = live.dropna(subset=[by]).pivot_table(index=by, values=["investment", "subsidy"], aggfunc="sum")
    n = live.dropna(subset=[by])[by].value_counts()
    assert set(got.index) == set(ref.index)
    np.testing.assert_allclose(got.loc[ref.index, "investment"], ref["investment"], rtol=1e-12)
    np.testing.assert_allclose(got.loc[ref.index, "subsidy"], ref["subsidy"], rtol=1e-12)
    assert (got.loc[n.index, "projects"] == n).all()
    assert got["investment"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="accepted: year, county_code"):
        project_sums(pr, "colour")


def test_less_developed_share_matches_the_counties(plan_ds):
    pr = plan_ds.projects[plan_ds.projects["status"] != "cancelled"]
    ld_codes = set(plan_ds.counties.loc[plan_ds.counties["less_developed"], "code"].astype(str))
    in_ld = pr["county_code"].astype(str).isin(ld_codes)
    got = less_developed_share(plan_ds.projects).set_index("year", drop=False)
    total = got[got["year"].isna()].iloc[0]
    assert total["share_investment"] == pytest.approx(pr.loc[in_ld, "investment"].sum() / pr["investment"].sum())
    assert total["share_subsidy"] == pytest.approx(pr.loc[in_ld, "subsidy"].sum() / pr["subsidy"].sum())
    for y, f in pr.groupby("year"):
        row = got[got["year"] == y].iloc[0]
        assert row["investment_less_developed"] == pytest.approx(f.loc[f["county_code"].astype(str).isin(ld_codes), "investment"].sum())


def test_key_enterprises(plan_ds):
    ent = plan_ds.enterprises
    both = key_enterprises(ent)
    assert len(both) == int((ent["key_enterprise"].astype(bool) | ent["small_giant"].astype(bool)).sum())
    sg = key_enterprises(ent, "small_giant")
    assert len(sg) == int(ent["small_giant"].sum()) and sg["small_giant"].all()
    assert sg["revenue"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="accepted: key_enterprise, small_giant"):
        key_enterprises(ent, "giant")


def test_chain_links_and_report(plan_ds):
    ent = plan_ds.enterprises.set_index("enterprise_id")
    links = chain_links(plan_ds.suppliers, plan_ds.enterprises, plan_ds.projects, plan_ds.metric_crs)
    assert len(links) == len(plan_ds.suppliers)
    missing = links[links["missing"].notna()]
    assert missing["supplier_id"].tolist() == ["E_NOT_THERE"] and missing["distance_km"].isna().all()
    known = links[links["missing"].isna()]
    geod = Geod(ellps="GRS80")
    lead, sup = ent.geometry.reindex(known["leader_id"]), ent.geometry.reindex(known["supplier_id"])
    _, _, d = geod.inv(lead.x.to_numpy(), lead.y.to_numpy(), sup.x.to_numpy(), sup.y.to_numpy())
    np.testing.assert_allclose(known["distance_km"], d / 1000, rtol=5e-3, atol=1e-3)  # Gauss-Kruger vs geodesic
    same = ent["county_code"].reindex(known["leader_id"]).to_numpy() == ent["county_code"].reindex(known["supplier_id"]).to_numpy()
    assert (known["same_county"].to_numpy() == same).all()
    pr = plan_ds.projects[plan_ds.projects["status"] != "cancelled"]
    n = pr["enterprise_id"].value_counts()
    assert (known["supplier_projects"].to_numpy() == n.reindex(known["supplier_id"]).fillna(0).to_numpy()).all()
    rep = chain_report(links).set_index("leader_id")
    counts = plan_ds.suppliers["leader_id"].value_counts()
    assert (rep.loc[counts.index, "suppliers"] == counts).all()
    assert rep["same_county"].sum() == int(links["same_county"].sum())
    with pytest.raises(ValueError, match="projected"):
        chain_links(plan_ds.suppliers, plan_ds.enterprises, plan_ds.projects, 4326)
