"""Small frames with the data contract's plan layers and fields (suppliers, fixed_asset_investment,
enterprise_years; high_tech / small_giant / township_enterprise flags; project dates), built here from a
seed so the monitoring tests do not depend on how the built-in generator fills them."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd

YEARS = list(range(1996, 2006))


def set_layers(ds, **layers):
    """A copy of ``ds`` with these layers set (a Dataset field when the schema has it, else an attribute)."""
    names = {f.name for f in dataclasses.fields(ds)}
    known = {k: v for k, v in layers.items() if k in names}
    out = dataclasses.replace(ds, **known) if known else copy.copy(ds)
    for k, v in layers.items():
        if k not in names:
            setattr(out, k, v)
    return out


def add_plan_layers(ds, seed: int = 7, *, with_fai_tech: bool = False):
    """``ds`` (prepared) with flags, project dates and the three new table layers filled from ``seed``."""
    rng = np.random.default_rng(seed)
    ent = ds.enterprises.copy()
    n = len(ent)
    ent["high_tech"] = rng.random(n) < 0.2
    ent["small_giant"] = rng.random(n) < 0.05
    ent["township_enterprise"] = rng.random(n) < 0.3
    ent.loc[ent.index[:3], "key_enterprise"] = True
    pr = ds.projects.copy()
    start = pd.to_datetime(pr["start_year"].astype(int).astype(str) + "-03-01")
    planned = start + pd.to_timedelta(rng.integers(200, 900, len(pr)), unit="D")
    delay = rng.integers(-100, 300, len(pr))
    actual = planned + pd.to_timedelta(delay, unit="D")
    done = pr["status"].astype(str) == "completed"
    pr["start_date"] = start.dt.strftime("%Y-%m-%d")
    pr["planned_completion"] = planned.dt.strftime("%Y-%m-%d")
    pr["actual_completion"] = actual.dt.strftime("%Y-%m-%d").where(done, None)
    pr.loc[pr.index[:5], "subsidy"] = rng.uniform(1e5, 1e6, 5)
    codes = ds.counties["code"].astype(str).tolist()
    fai = []
    for c in codes:
        base = rng.uniform(1e9, 2e10)
        for i, y in enumerate(YEARS):
            total = base * 1.1 ** i
            fai.append({"county_code": c, "year": y, "total": total, "industrial": total * 0.5,
                        "tech_transformation": total * rng.uniform(0.2, 0.35) if with_fai_tech else np.nan})
    above = ent[ent["size"].astype(str) == "above"] if "size" in ent else ent
    ey = []
    for eid, rev in zip(above["enterprise_id"].astype(str), above["revenue"].astype(float)):
        for i, y in enumerate(YEARS):
            sales = rev * 1.08 ** (i - 5) * rng.uniform(0.9, 1.1)
            ey.append({"enterprise_id": eid, "year": y, "sales": sales, "value_added": sales * 0.25})
    ey = pd.DataFrame(ey)
    # a few giants so the 5/10-billion counts are not all zero
    big = ey["enterprise_id"].isin(above["enterprise_id"].astype(str).iloc[:4])
    ey.loc[big, "sales"] = ey.loc[big, "sales"] + 5.5e9 + 1e9 * (ey.loc[big, "year"] - 1996)
    leaders = ent.loc[ent["chain_leader"].fillna(False).astype(bool), "enterprise_id"].astype(str).tolist()[:5]
    if not leaders:
        leaders = ent["enterprise_id"].astype(str).tolist()[:3]
    others = ent["enterprise_id"].astype(str).tolist()
    sup = [{"supplier_id": s, "leader_id": lead, "share": float(rng.uniform(0.1, 0.9))}
           for lead in leaders for s in rng.choice(others, 6, replace=False) if s != lead]
    sup.append({"supplier_id": "E_NOT_THERE", "leader_id": leaders[0], "share": 0.5})
    return set_layers(ds, enterprises=ent, projects=pr, suppliers=pd.DataFrame(sup),
                      fixed_asset_investment=pd.DataFrame(fai), enterprise_years=ey)


HOSTILE_TITLE = '=HYPERLINK("http://evil.example/","<b>x</b>")'
HOSTILE_NAME = "<img src=x onerror=alert(1)>有限公司"


def plan_dataset_file(raw_dataset, path, seed: int = 7):
    """Save the raw small dataset with the plan layers (and hostile project titles and enterprise names on
    the key enterprises and the overdue projects) to ``path``; returns the path."""
    from geodata.dataset import save_dataset

    ds = add_plan_layers(raw_dataset, seed=seed)
    pr = ds.projects.copy()
    pr.loc[pr.index[:40], "title"] = HOSTILE_TITLE
    ent = ds.enterprises.copy()
    keyed = ent["key_enterprise"].fillna(False).astype(bool) | ent["small_giant"].fillna(False).astype(bool)
    ent.loc[ent.index[keyed.to_numpy()][:5], "name"] = HOSTILE_NAME
    return save_dataset(set_layers(ds, projects=pr, enterprises=ent, path=None), path)
