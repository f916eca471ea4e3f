"""One plan, not three: the scenarios allocated together against one pool of free land.

:func:`plan_scenario` runs one scenario end to end (select, score under the scenario's rules, rank
each enterprise's candidate parks by the scenario's preference, allocate under free land).
:func:`joint_plan` runs several so that no park is promised more land than it has:

``priority`` (default ``urban-core, coastal-transfer, scattered``)
    the scenarios in that order; each is allocated against the land the earlier ones left (the
    context's ``free_land`` is replaced by what is left, so feasibility and the land-margin
    criterion see it too).
``scenario_weights`` ({scenario: weight})
    one allocation over every scenario's candidates, the objective of a scenario's pairs multiplied
    by its weight (normalised so that the smallest is 1).

An enterprise that several scenarios select is planned under the first of them in the order (in
the weighted mode: the scenarios in the given order too). Key enterprises (``key_enterprise`` or
``small_giant``) get ``ScenarioParams.key_bonus`` added to every pair's objective: with scarce land
they are placed first.

Everything here is pure: frames and parameters in, :class:`ScenarioPlan` / :class:`JointPlan` out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .allocation import AllocationResult, allocate
from .batch import BatchResult, score_batch
from .constraints import Constraints
from .context import SuitabilityContext, SuitabilityError, enterprise_arrays
from .messages import SUITABILITY
from .scenarios import SCENARIOS, ScenarioParams, scenario_constraints, scenario_preference, select_scenario
from .weights import normalise_weights

__all__ = ["DEFAULT_PRIORITY", "ScenarioPlan", "JointPlan", "plan_scenario", "joint_plan", "parse_priority",
           "land_column"]

DEFAULT_PRIORITY: tuple[str, ...] = ("urban-core", "coastal-transfer", "scattered")
KEY_COLUMNS = ("key_enterprise", "small_giant")
PLAN_GAP = 5e-3  # a plan's allocation is optimal within 0.5 % (the weights themselves are judgements)
Progress = Callable[[str, int, int], None]


def land_column(scenario: str) -> str:
    """The parks table's column of a scenario's land: ``land_urban_core_ha`` etc."""
    return f"land_{scenario.replace('-', '_')}_ha"


@dataclass(frozen=True)
class ScenarioPlan:
    """One scenario: the ``selected`` enterprises, their ``batch`` scores (``top``: each enterprise's
    candidate parks in the scenario's order, with ``bonus``), the ``allocation``, and ``assignments``
    (one row per selected enterprise: ``enterprise_id``, ``scenario``, ``park_id`` or None, ``score``,
    ``bonus``, ``rank``, ``land_ha``, ``status``, ``reason``, ``key``, origin and destination county
    and city, ``distance_km``)."""

    scenario: str
    selected: pd.DataFrame
    batch: BatchResult
    allocation: AllocationResult
    assignments: pd.DataFrame
    constraints: Constraints


@dataclass(frozen=True)
class JointPlan:
    """The joint plan: ``assignments`` (as :class:`ScenarioPlan`'s, every scenario), ``parks``
    (``park_id``, ``free_land_ha``, one ``land_<scenario>_ha`` per scenario, ``land_used_ha``,
    ``land_left_ha``, ``enterprises``), the per-scenario ``plans``, the ``mode`` (``priority`` or
    ``weights``), the ``order`` and ``scenario_weights``, and the allocation ``status``/``mip_gap``
    (the worst over the scenarios)."""

    assignments: pd.DataFrame
    parks: pd.DataFrame
    plans: dict[str, ScenarioPlan]
    mode: str
    order: tuple[str, ...]
    scenario_weights: dict[str, float] | None
    status: str
    mip_gap: float | None

    def summary(self) -> dict[str, Any]:
        a = self.assignments
        scenarios: dict[str, dict[str, Any]] = {}
        out: dict[str, Any] = {"mode": self.mode, "order": list(self.order),
                               "scenario_weights": self.scenario_weights, "status": self.status,
                               "mip_gap": self.mip_gap, "scenarios": scenarios}
        for s in self.order:
            g = a[a["scenario"] == s]
            got = g[g["status"] == "assigned"]
            scenarios[s] = {
                "enterprises": int(len(g)), "assigned": int(len(got)),
                "unassigned": {str(k): int(v) for k, v in g["reason"].value_counts().items()},
                "land_ha": float(got["land_ha"].sum()),
                "median_distance_km": float(got["distance_km"].median()) if len(got) else None,
                "allocation_status": self.plans[s].allocation.status if s in self.plans else None,
                "mip_gap": self.plans[s].allocation.mip_gap if s in self.plans else None,
            }
        out["land_used_ha"] = float(self.parks["land_used_ha"].sum())
        out["parks_over_free_land"] = int((self.parks["land_left_ha"] < -1e-6).sum())
        return out


def _key_flags(frame: pd.DataFrame) -> np.ndarray:
    flags = np.zeros(len(frame), dtype=bool)
    for c in KEY_COLUMNS:
        if c in frame.columns:
            flags |= frame[c].fillna(False).astype(bool).to_numpy()
    return flags


def _preference(scenario: str, params: ScenarioParams, key_ids: set[str]):
    def pref(ctx, ent):
        bonus = scenario_preference(scenario, ctx, ent, params)
        if params.key_bonus and key_ids:
            key = np.array([str(e) in key_ids for e in ent.ids], dtype=bool)
            bonus = bonus + params.key_bonus * key[:, None]
        return bonus
    return pref


def _score(ctx, scenario, selected, weights, constraints, params, candidates, progress):
    cons = scenario_constraints(scenario, constraints, params)
    key_ids = set(selected["enterprise_id"].astype(str)[_key_flags(selected)]) if len(selected) else set()
    cb = (lambda done, total: progress(f"scoring {scenario}", done, total)) if progress else None
    batch = score_batch(ctx, selected, weights, cons, top=int(candidates), progress=cb,
                        preference=_preference(scenario, params, key_ids))
    return batch, cons, key_ids


def _assignment_frame(ctx, scenario, selected, batch, alloc, key_ids) -> pd.DataFrame:
    a = alloc.assignments.copy()
    a.insert(1, "scenario", scenario)
    top = batch.top.set_index(["enterprise_id", "park_id"])
    pairs = list(zip(a["enterprise_id"], a["park_id"]))
    got = [p in top.index for p in pairs]
    a["bonus"] = [float(top.at[p, "bonus"]) if g and "bonus" in top.columns else np.nan for p, g in zip(pairs, got)]
    a["rank"] = [int(top.at[p, "rank"]) if g else pd.NA for p, g in zip(pairs, got)]
    a["rank"] = a["rank"].astype("Int64")
    a["key"] = a["enterprise_id"].isin(key_ids)
    sel = selected.assign(enterprise_id=selected["enterprise_id"].astype(str)).set_index("enterprise_id")
    if len(a):
        ent = enterprise_arrays(ctx, sel.loc[a["enterprise_id"].to_numpy()].reset_index())
        pos = {p: i for i, p in enumerate(ctx.park_ids)}
        j = np.array([pos.get(p, -1) if p is not None else -1 for p in a["park_id"]], dtype=int)
        has = j >= 0
        dx = np.where(has, ctx.park_x[np.maximum(j, 0)] - ent.x, np.nan)
        dy = np.where(has, ctx.park_y[np.maximum(j, 0)] - ent.y, np.nan)
        a["origin_county_code"] = ent.county_code
        a["origin_city"] = ent.city
        a["park_county_code"] = np.where(has, ctx.county_code[np.maximum(j, 0)], None)
        park_city = ctx.park_city if ctx.park_city is not None else np.full(ctx.n_parks, None, dtype=object)
        a["park_city"] = np.where(has, park_city[np.maximum(j, 0)], None)
        a["distance_km"] = np.hypot(dx, dy) / 1000.0
    else:
        for c in ("origin_county_code", "origin_city", "park_county_code", "park_city", "distance_km"):
            a[c] = pd.Series(dtype=object if c != "distance_km" else float)
    return a


def _land_series(batch: BatchResult) -> pd.Series:
    return pd.Series(batch.summary["land_ha"].to_numpy(float), index=batch.summary["enterprise_id"].astype(str))


def _flags(batch: BatchResult) -> pd.Series:
    return pd.Series(batch.summary["flag"].to_numpy(), index=batch.summary["enterprise_id"].astype(str))


def plan_scenario(
    ctx: SuitabilityContext,
    enterprises: pd.DataFrame,
    scenario: str,
    weights: Mapping[str, float] | None = None,
    constraints: Constraints | Mapping | None = None,
    *,
    params: ScenarioParams | None = None,
    candidates: int = 10,
    cap=None,
    time_limit: float = 30.0,
    mip_rel_gap: float = PLAN_GAP,
    exclude: set[str] | None = None,
    progress: Progress | None = None,
) -> ScenarioPlan:
    """One scenario planned under its rules (see the module docstring); ``exclude``: enterprise ids
    already planned elsewhere. ``ctx.free_land`` is the land the allocation may use. ``mip_rel_gap``
    (default 0.5 %) is the gap within which the allocation counts as optimal."""
    params = params or ScenarioParams()
    base = constraints if isinstance(constraints, Constraints) else Constraints.from_mapping(constraints)
    if not isinstance(candidates, (int, np.integer)) or candidates < 1:
        raise SuitabilityError("joint.candidates", value=candidates)
    if progress:
        progress(f"selecting {scenario}", 0, 1)
    selected = select_scenario(scenario, enterprises, params=params)
    if exclude:
        selected = selected[~selected["enterprise_id"].astype(str).isin(exclude)]
    batch, cons, key_ids = _score(ctx, scenario, selected, weights, base, params, candidates, progress)
    if progress:
        progress(f"allocating {scenario}", 0, 1)
    alloc = allocate(batch.top[["enterprise_id", "park_id", "score", "bonus"]], _land_series(batch),
                     pd.Series(ctx.free_land, index=ctx.park_ids.astype(str)), cap=cap,
                     enterprises=batch.summary["enterprise_id"].astype(str).tolist(), flags=_flags(batch),
                     time_limit=time_limit, mip_rel_gap=mip_rel_gap)
    if progress:
        progress(f"allocating {scenario}", 1, 1)
    return ScenarioPlan(scenario, selected, batch, alloc,
                        _assignment_frame(ctx, scenario, selected, batch, alloc, key_ids), cons)


def parse_priority(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"urban-core,coastal-transfer,scattered"`` (or a list) -> a checked tuple of scenarios.

    Every scenario named once; scenarios left out are not planned."""
    if text is None:
        return DEFAULT_PRIORITY
    items = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if str(s).strip()]
    bad = [s for s in items if s not in SCENARIOS]
    if bad or not items:
        raise SuitabilityError("joint.priority_unknown", text=text, value=bad[0] if bad else SUITABILITY("joint.empty"),
                               accepted=", ".join(SCENARIOS))
    dup = [s for s in set(items) if items.count(s) > 1]
    if dup:
        raise SuitabilityError("joint.priority_twice", text=text, value=dup[0])
    return tuple(items)


def _check_weights(scenario_weights: Mapping[str, float]) -> dict[str, float]:
    bad = [k for k in scenario_weights if k not in SCENARIOS]
    if bad:
        raise SuitabilityError("joint.weight_unknown", value=bad[0], accepted=", ".join(SCENARIOS))
    out = {}
    for k, v in scenario_weights.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
            raise SuitabilityError("joint.weight_value", scenario=k, value=v)
        out[k] = float(v)
    if not out:
        raise SuitabilityError("joint.weights_empty")
    low = min(out.values())
    return {k: v / low for k, v in out.items()}


def joint_plan(
    ctx: SuitabilityContext,
    enterprises: pd.DataFrame,
    *,
    priority: str | Sequence[str] | None = None,
    scenario_weights: Mapping[str, float] | None = None,
    weights: Mapping[str, float] | None = None,
    constraints: Constraints | Mapping | None = None,
    params: ScenarioParams | None = None,
    candidates: int = 10,
    cap=None,
    time_limit: float = 30.0,
    mip_rel_gap: float = PLAN_GAP,
    progress: Progress | None = None,
) -> JointPlan:
    """The scenarios allocated against one pool of free land (see the module docstring).

    ``priority``: the order (default :data:`DEFAULT_PRIORITY`); ``scenario_weights``: weights
    instead of an order (the scenarios planned are the weighted ones, in ``priority`` order for
    enterprises several select). ``time_limit`` is per scenario (priority) or for the one allocation
    (weights). ``cap`` is per park over the whole plan in the weighted mode, per scenario in the
    priority mode.
    """
    params = params or ScenarioParams()
    base = constraints if isinstance(constraints, Constraints) else Constraints.from_mapping(constraints)
    normalise_weights(weights)  # refuse bad weights before any work
    order = parse_priority(priority)
    if scenario_weights is not None:
        sw = _check_weights(scenario_weights)
        order = tuple(s for s in order if s in sw) + tuple(s for s in sw if s not in order)
        return _joint_weighted(ctx, enterprises, order, sw, weights, base, params, candidates, cap, time_limit,
                               mip_rel_gap, progress)
    plans: dict[str, ScenarioPlan] = {}
    free = ctx.free_land.astype(float).copy()
    planned: set[str] = set()
    for scenario in order:
        sub_ctx = replace(ctx, free_land=np.maximum(free, 0.0))
        plan = plan_scenario(sub_ctx, enterprises, scenario, weights, base, params=params, candidates=candidates,
                             cap=cap, time_limit=time_limit, mip_rel_gap=mip_rel_gap, exclude=planned,
                             progress=progress)
        plans[scenario] = plan
        planned |= set(plan.assignments["enterprise_id"])
        used = plan.allocation.parks.set_index("park_id")["land_used_ha"].reindex(ctx.park_ids.astype(str)).fillna(0.0)
        free = free - used.to_numpy(float)
    assignments = pd.concat([p.assignments for p in plans.values()], ignore_index=True) if plans else pd.DataFrame()
    statuses = [p.allocation.status for p in plans.values()]
    gaps = [p.allocation.mip_gap for p in plans.values() if p.allocation.mip_gap is not None]
    return JointPlan(assignments, _parks_table(ctx, assignments, order), plans, "priority", order, None,
                     _worst(statuses), max(gaps) if gaps else None)


def _worst(statuses) -> str:
    for s in ("time_limit_greedy", "time_limit"):
        if s in statuses:
            return s
    return "optimal"


def _joint_weighted(ctx, enterprises, order, sw, weights, base, params, candidates, cap, time_limit, mip_rel_gap,
                    progress):
    scored = {}
    seen: set[str] = set()
    for scenario in order:
        if progress:
            progress(f"selecting {scenario}", 0, 1)
        sel = select_scenario(scenario, enterprises, params=params)
        sel = sel[~sel["enterprise_id"].astype(str).isin(seen)]
        seen |= set(sel["enterprise_id"].astype(str))
        batch, cons, key_ids = _score(ctx, scenario, sel, weights, base, params, candidates, progress)
        scored[scenario] = (sel, batch, cons, key_ids)
    frames = []
    for scenario, (sel, batch, cons, key_ids) in scored.items():
        t = batch.top[["enterprise_id", "park_id", "score", "bonus"]].copy()
        t["bonus"] = (sw[scenario] - 1.0) * t["score"] + sw[scenario] * t["bonus"]
        t["scenario"] = scenario
        frames.append(t)
    cand = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["enterprise_id", "park_id", "score", "bonus", "scenario"])
    land = pd.concat([_land_series(b) for _, b, _, _ in scored.values()]) if scored else pd.Series(dtype=float)
    flags = pd.concat([_flags(b) for _, b, _, _ in scored.values()]) if scored else pd.Series(dtype=object)
    ents = list(land.index)
    if progress:
        progress("allocating the joint plan", 0, 1)
    alloc = allocate(cand, land, pd.Series(ctx.free_land, index=ctx.park_ids.astype(str)), cap=cap, enterprises=ents,
                     flags=flags, time_limit=time_limit, mip_rel_gap=mip_rel_gap)
    if progress:
        progress("allocating the joint plan", 1, 1)
    plans = {}
    for scenario, (sel, batch, cons, key_ids) in scored.items():
        ids = set(batch.summary["enterprise_id"].astype(str))
        sub = replace(alloc, assignments=alloc.assignments[alloc.assignments["enterprise_id"].isin(ids)].reset_index(drop=True))
        plans[scenario] = ScenarioPlan(scenario, sel, batch, sub,
                                       _assignment_frame(ctx, scenario, sel, batch, sub, key_ids), cons)
    assignments = pd.concat([p.assignments for p in plans.values()], ignore_index=True)
    return JointPlan(assignments, _parks_table(ctx, assignments, order), plans, "weights", order, sw,
                     alloc.status, alloc.mip_gap)


def _parks_table(ctx, assignments: pd.DataFrame, order) -> pd.DataFrame:
    parks = pd.DataFrame({"park_id": ctx.park_ids.astype(str), "free_land_ha": ctx.free_land.astype(float)})
    got = assignments[assignments["status"] == "assigned"] if len(assignments) else assignments
    for s in order:
        g = got[got["scenario"] == s].groupby("park_id")["land_ha"].sum() if len(got) else pd.Series(dtype=float)
        parks[land_column(s)] = parks["park_id"].map(g).fillna(0.0).to_numpy(float)
    parks["land_used_ha"] = parks[[land_column(s) for s in order]].sum(axis=1) if order else 0.0
    parks["land_left_ha"] = parks["free_land_ha"] - parks["land_used_ha"]
    n = got.groupby("park_id").size() if len(got) else pd.Series(dtype=int)
    parks["enterprises"] = parks["park_id"].map(n).fillna(0).astype(int).to_numpy()
    return parks
