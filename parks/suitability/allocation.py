"""Capacity-constrained allocation of a batch of enterprises to parks.

A 0-1 integer program over the candidate (enterprise, park) pairs :math:`k` with suitability
:math:`S_k` (the feasible pairs, typically each enterprise's best ``K`` parks from
:func:`parks.suitability.batch.score_batch`):

.. math::

    \\max \\sum_k S_k x_k \\quad \\text{s.t.} \\quad
    \\sum_{k \\ni e} x_k \\le 1 \\;\\forall e, \\qquad
    \\sum_{k \\ni p} a_e x_k \\le F_p \\;\\forall p, \\qquad
    \\sum_{k \\ni p} x_k \\le C_p \\;\\forall p, \\qquad x_k \\in \\{0, 1\\}

where :math:`a_e` is the enterprise's land need (ha), :math:`F_p` the park's free land (ha) and
:math:`C_p` the optional cap on enterprises per park. Solved with ``scipy.optimize.milp`` (HiGHS
branch and cut). Unassigned enterprises get a reason: ``closure_or_upgrade`` (catalogue:
eliminate), ``no_feasible_park`` (no candidate), or ``capacity`` (its candidate parks' land or cap
went to a better total). Candidates may carry a preference ``bonus`` (a scenario's rule, e.g. own
county first): the objective is then :math:`\\sum_k (S_k + b_k) x_k`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components

from .context import SuitabilityError

__all__ = ["AllocationResult", "allocate", "allocate_batch"]


@dataclass(frozen=True)
class AllocationResult:
    """``assignments``: one row per enterprise (``enterprise_id``, ``park_id`` or None, ``score``,
    ``land_ha``, ``status`` assigned/unassigned, ``reason``); ``parks``: one row per park
    (``park_id``, ``free_land_ha``, ``land_used_ha``, ``land_left_ha``, ``enterprises``, ``cap``).

    ``status``: ``optimal`` (every component proven within the gap), ``time_limit`` (the solver's
    best feasible allocation when the time ran out), ``time_limit_greedy`` (the solver had no
    feasible allocation in time for some component: the greedy one by score is used there).
    ``mip_gap`` is the proven relative gap ``(bound - value) / bound`` of the whole objective;
    ``bound`` the proven upper bound of the objective (score plus any preference ``bonus``)."""

    assignments: pd.DataFrame
    parks: pd.DataFrame
    objective: float
    status: str
    mip_gap: float | None
    bound: float | None = None
    components: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        def rows(frame):
            return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                    for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]
        return {"objective": self.objective, "status": self.status, "mip_gap": self.mip_gap, "bound": self.bound,
                "components": self.components, "seconds": self.seconds,
                "assignments": rows(self.assignments), "parks": rows(self.parks)}


def allocate(
    candidates: pd.DataFrame,
    land_ha: Mapping[str, float] | pd.Series,
    free_land_ha: Mapping[str, float] | pd.Series,
    *,
    cap: int | Mapping[str, int] | pd.Series | None = None,
    enterprises: list[str] | None = None,
    flags: Mapping[str, str | None] | pd.Series | None = None,
    time_limit: float = 30.0,
    mip_rel_gap: float = 1e-3,
) -> AllocationResult:
    """Assign enterprises to parks maximising total suitability (see the module docstring).

    Parameters
    ----------
    candidates : DataFrame
        ``enterprise_id``, ``park_id``, ``score`` of the feasible pairs (one row per pair), and
        optionally ``bonus`` (a scenario's preference, >= 0): the objective is ``score + bonus``.
    land_ha : enterprise_id -> land need (ha).
    free_land_ha : park_id -> free land (ha); parks absent here cannot receive anyone.
    cap : optional maximum number of enterprises per park (one int for all, or per park_id).
    enterprises : every enterprise to report (default: those in ``candidates`` and ``land_ha``).
    flags : enterprise_id -> ``"closure_or_upgrade"`` for those the catalogue eliminates.
    time_limit, mip_rel_gap : solver limits for the whole allocation. The candidate graph is split
        into connected components (enterprises linked through shared parks), each solved on its own
        with a share of the remaining time; a component whose land rows cannot bind is solved
        exactly by each enterprise's best candidate. A component that reaches its time limit keeps
        the solver's best feasible allocation or, if better or the only one, the greedy allocation
        by objective; the result always holds a feasible allocation and the gap it proved.
    """
    t0 = time.perf_counter()
    _check(candidates)
    land = pd.Series(land_ha, dtype=float)
    free = pd.Series(free_land_ha, dtype=float)
    cols = ["enterprise_id", "park_id", "score"] + (["bonus"] if "bonus" in candidates.columns else [])
    cand = candidates[cols].copy()
    if "bonus" not in cand.columns:
        cand["bonus"] = 0.0
    if not np.all(np.isfinite(cand["bonus"].to_numpy(float))) or (cand["bonus"].to_numpy(float) < 0).any():
        raise SuitabilityError("allocation.negative_bonus")
    cand["enterprise_id"] = cand["enterprise_id"].astype(str)
    cand["park_id"] = cand["park_id"].astype(str)
    free.index = free.index.astype(str)
    cand = cand[cand["park_id"].isin(free.index)].drop_duplicates(["enterprise_id", "park_id"]).reset_index(drop=True)
    missing = sorted(set(cand["enterprise_id"]) - set(land.index.astype(str)))
    if missing:
        raise SuitabilityError("allocation.land_missing", enterprises=", ".join(missing[:5]))
    land.index = land.index.astype(str)
    ents = [str(e) for e in (enterprises if enterprises is not None else list(dict.fromkeys(list(land.index) + list(cand["enterprise_id"]))))]
    park_ids = [str(p) for p in free.index]
    e_pos = {e: i for i, e in enumerate(ents)}
    p_pos = {p: i for i, p in enumerate(park_ids)}
    cand = cand[cand["enterprise_id"].isin(e_pos)].reset_index(drop=True)
    n_k, n_e, n_p = len(cand), len(ents), len(park_ids)
    caps = _caps(cap, park_ids)

    x = np.zeros(n_k, dtype=bool)
    status, gap, objective, bound, n_comp = "no candidates", None, 0.0, None, 0
    if n_k:
        ei = cand["enterprise_id"].map(e_pos).to_numpy()
        pi = cand["park_id"].map(p_pos).to_numpy()
        a = land.reindex(cand["enterprise_id"]).to_numpy(float)
        wgt = cand["score"].to_numpy(float) + cand["bonus"].to_numpy(float)
        x, statuses, bound_total, n_comp = _solve_components(ei, pi, a, wgt, free.to_numpy(float), caps, n_e, n_p,
                                                            float(time_limit), float(mip_rel_gap), t0)
        value = float(wgt[x].sum())
        status = ("time_limit_greedy" if "time_limit_greedy" in statuses
                  else "time_limit" if "time_limit" in statuses else "optimal")
        bound = max(bound_total, value)
        gap = 0.0 if bound <= 0 else max(0.0, (bound - value) / abs(bound))
        objective = float(cand["score"].to_numpy()[x].sum())
    chosen = cand[x].set_index("enterprise_id")
    flags = pd.Series(flags if flags is not None else {}, dtype=object)
    has_cand = set(cand["enterprise_id"])
    rows: list[tuple[object, object, float, float, str, str | None]] = []
    for e in ents:
        if e in chosen.index:
            rows.append((e, chosen.at[e, "park_id"], float(chosen.at[e, "score"]), land.get(e, np.nan), "assigned", None))
            continue
        if flags.get(e) == "closure_or_upgrade":
            reason = "closure_or_upgrade"
        elif e not in has_cand:
            reason = "no_feasible_park"
        else:
            reason = "capacity"
        rows.append((e, None, np.nan, land.get(e, np.nan), "unassigned", reason))
    assignments = pd.DataFrame(rows, columns=["enterprise_id", "park_id", "score", "land_ha", "status", "reason"])
    used = assignments[assignments["status"] == "assigned"].groupby("park_id")["land_ha"].agg(["sum", "size"])
    parks = pd.DataFrame({"park_id": park_ids, "free_land_ha": free.to_numpy(float)})
    parks["land_used_ha"] = parks["park_id"].map(used["sum"]).fillna(0.0).to_numpy(float)
    parks["land_left_ha"] = parks["free_land_ha"] - parks["land_used_ha"]
    parks["enterprises"] = parks["park_id"].map(used["size"]).fillna(0).astype(int).to_numpy()
    parks["cap"] = caps if caps is not None else np.nan
    return AllocationResult(assignments=assignments, parks=parks, objective=objective, status=status, mip_gap=gap,
                            bound=bound, components=n_comp, seconds=time.perf_counter() - t0)


def _solve_components(ei, pi, a, wgt, free, caps, n_e, n_p, time_limit, mip_rel_gap, t0):
    """Split the bipartite candidate graph into connected components and solve each; see :func:`allocate`."""
    n_k = len(ei)
    graph = sparse.coo_array((np.ones(n_k), (ei, n_e + pi)), shape=(n_e + n_p, n_e + n_p))
    n_comp, label = connected_components(graph, directed=False)
    comp = label[ei]
    order = np.argsort(comp, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(comp[order]) != 0, True])
    groups = [order[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]
    groups.sort(key=len)  # small components first: they finish fast and leave time to the big ones
    x = np.zeros(n_k, dtype=bool)
    statuses: set[str] = set()
    bound_total = 0.0
    left_k = n_k
    for g in groups:
        remaining = max(time_limit - (time.perf_counter() - t0), 0.0)
        # a share of the time left proportional to the pairs, but at least 1 s (small ones rarely need it)
        budget = min(remaining, max(remaining * len(g) / max(left_k, 1), 1.0))
        left_k -= len(g)
        xg, st, bd = _solve_one(ei[g], pi[g], a[g], wgt[g], free, caps, budget, mip_rel_gap)
        x[g] = xg
        statuses.add(st)
        bound_total += bd
    return x, statuses, bound_total, len(groups)


def _best_per_enterprise(ei, wgt) -> np.ndarray:
    """Each enterprise's best candidate (ties: the first row)."""
    order = np.lexsort((np.arange(len(ei)), -wgt, ei))
    first = np.r_[True, ei[order][1:] != ei[order][:-1]]
    x = np.zeros(len(ei), dtype=bool)
    x[order[first]] = True
    return x


def _greedy(ei, pi, a, wgt, free, caps) -> np.ndarray:
    """Feasible allocation by objective: best pairs first, each enterprise once, within land and cap."""
    left = free.astype(float).copy()
    count = np.zeros(len(free))
    done: set[int] = set()
    x = np.zeros(len(ei), dtype=bool)
    for k in np.lexsort((np.arange(len(ei)), -wgt)):
        e, p = int(ei[k]), int(pi[k])
        if e in done or a[k] > left[p] + 1e-9 or (caps is not None and count[p] + 1 > caps[p]):
            continue
        x[k] = True
        done.add(e)
        left[p] -= a[k]
        count[p] += 1
    return x


ROUNDING_MIN_PAIRS = 500  # components with fewer candidate pairs skip the LP rounding


def _rows(ei, pi, a, free, caps):
    """The constraints of one (sub)problem: one row per enterprise, land and cap rows that can bind."""
    n_k = len(ei)
    land_need = np.bincount(pi, weights=a, minlength=len(free))
    bind = np.flatnonzero(land_need > free + 1e-9)
    cbind = np.zeros(0, dtype=int)
    if caps is not None:
        cbind = np.flatnonzero(np.bincount(pi, minlength=len(free)) > caps)
    _, e_row = np.unique(ei, return_inverse=True)
    cols = np.arange(n_k)
    cons = [LinearConstraint(sparse.csr_array((np.ones(n_k), (e_row, cols)), shape=(int(e_row.max()) + 1 if n_k else 0, n_k)),
                             -np.inf, 1.0)]
    if len(bind):
        sel = np.isin(pi, bind)
        row = np.searchsorted(bind, pi[sel])
        cons.append(LinearConstraint(sparse.csr_array((a[sel], (row, cols[sel])), shape=(len(bind), n_k)),
                                     -np.inf, free[bind]))
    if len(cbind):
        sel = np.isin(pi, cbind)
        row = np.searchsorted(cbind, pi[sel])
        cons.append(LinearConstraint(sparse.csr_array((np.ones(int(sel.sum())), (row, cols[sel])),
                                                      shape=(len(cbind), n_k)), -np.inf, caps[cbind]))
    return cons, len(bind) + len(cbind)


def _lp_rounding(ei, pi, a, wgt, free, caps, cons, budget, deadline):
    """LP relaxation, then the pairs it sets to 1 kept, the enterprises it splits re-solved as a small
    MILP in the land left, and the land still left filled greedily. Returns ``(x, lp bound)`` or
    ``(None, None)`` when the LP does not solve in time."""
    lp = milp(c=-wgt, constraints=cons, integrality=np.zeros(len(ei)), bounds=Bounds(0, 1),
              options={"time_limit": float(budget)})
    if lp.status != 0 or lp.x is None:
        return None, None
    xr = lp.x
    x = xr > 1 - 1e-7
    done = np.zeros(ei.max() + 1, dtype=bool)
    done[ei[x]] = True
    split = np.unique(ei[(xr > 1e-7) & ~x])
    sub = np.flatnonzero(np.isin(ei, split) & ~done[ei])

    def left(xx):
        land_left = free - np.bincount(pi[xx], weights=a[xx], minlength=len(free))
        cap_left = None if caps is None else caps - np.bincount(pi[xx], minlength=len(free))
        return land_left, cap_left

    if len(sub):
        land_left, cap_left = left(x)
        sub_cons, n_rows = _rows(ei[sub], pi[sub], a[sub], land_left, cap_left)
        remaining = max(deadline - time.perf_counter(), 0.0)
        xs = None
        if n_rows and remaining > 0.05:
            r = milp(c=-wgt[sub], constraints=sub_cons, integrality=np.ones(len(sub)), bounds=Bounds(0, 1),
                     options={"time_limit": float(remaining) / 2})
            if r.x is not None and r.status in (0, 1):
                xs = np.round(r.x).astype(bool)
        if xs is None or not _fits(xs, pi[sub], a[sub], land_left, cap_left):
            xs = _greedy(ei[sub], pi[sub], a[sub], wgt[sub], land_left, cap_left) if n_rows else \
                _best_per_enterprise(ei[sub], wgt[sub])
        x[sub[xs]] = True
        done[ei[sub[xs]]] = True
    rest = np.flatnonzero(~done[ei])
    if len(rest):  # land the LP left unused may still take someone
        land_left, cap_left = left(x)
        xg = _greedy(ei[rest], pi[rest], a[rest], wgt[rest], land_left, cap_left)
        x[rest[xg]] = True
    return x, -float(lp.fun)


def _solve_one(ei, pi, a, wgt, free, caps, budget, mip_rel_gap):
    """One component: ``(x, status, upper bound)``.

    Rows that cannot bind are dropped (exact): a park whose candidates' land all fits needs no land
    row, one with no more candidates than its cap no cap row. Without any, each enterprise takes its
    best candidate. Otherwise the LP relaxation and its rounding (:func:`_lp_rounding`) usually
    prove the gap already; if not, branch and cut (HiGHS) gets the time left, and the best feasible
    allocation found (rounding, solver, greedy) is kept.
    """
    t0 = time.perf_counter()
    deadline = t0 + budget
    trivial_bound = float(pd.Series(wgt).groupby(ei).max().clip(lower=0).sum())
    cons, n_rows = _rows(ei, pi, a, free, caps)
    if not n_rows:
        x = _best_per_enterprise(ei, wgt)
        return x, "optimal", float(wgt[x].sum())
    greedy = _greedy(ei, pi, a, wgt, free, caps)
    if budget < 0.05:
        return greedy, "time_limit_greedy", trivial_bound
    best, best_from, bound = greedy, "greedy", trivial_bound
    # small components go straight to branch and cut (exact in milliseconds); large ones try the rounding
    xr, lp_bound = (_lp_rounding(ei, pi, a, wgt, free, caps, cons, budget, deadline) if len(ei) >= ROUNDING_MIN_PAIRS
                    else (None, None))
    if xr is not None:
        bound = min(bound, lp_bound)
        if _fits(xr, pi, a, free, caps) and wgt[xr].sum() >= wgt[best].sum():
            best, best_from = xr, "solver"
        if bound - float(wgt[best].sum()) <= mip_rel_gap * abs(bound):
            return best, "optimal", bound
    remaining = deadline - time.perf_counter()
    if remaining < 0.05:
        return best, "time_limit" if best_from == "solver" else "time_limit_greedy", bound
    res = milp(c=-wgt, constraints=cons, integrality=np.ones(len(ei)), bounds=Bounds(0, 1),
               options={"time_limit": float(remaining), "mip_rel_gap": float(mip_rel_gap)})
    dual = getattr(res, "mip_dual_bound", None)
    if dual is not None and np.isfinite(dual):
        bound = min(bound, -float(dual))
    if res.x is not None and res.status in (0, 1):
        x = np.round(res.x).astype(bool)
        if _fits(x, pi, a, free, caps) and wgt[x].sum() >= wgt[best].sum():  # solver tolerance: never over-promise
            best, best_from = x, "solver"
        if res.status == 0:
            return best, "optimal", max(bound, float(wgt[best].sum()))
    return best, "time_limit" if best_from == "solver" else "time_limit_greedy", max(bound, float(wgt[best].sum()))


def _fits(x, pi, a, free, caps) -> bool:
    used = np.bincount(pi[x], weights=a[x], minlength=len(free))
    if (used > free + 1e-6).any():
        return False
    if caps is not None and (np.bincount(pi[x], minlength=len(free)) > caps).any():
        return False
    return True


def _check(candidates: pd.DataFrame) -> None:
    missing = [c for c in ("enterprise_id", "park_id", "score") if c not in candidates.columns]
    if missing:
        raise SuitabilityError("allocation.columns_missing", columns=", ".join(missing))
    if len(candidates) and not np.all(np.isfinite(candidates["score"].to_numpy(float))):
        raise SuitabilityError("allocation.non_finite_score")


def _caps(cap, park_ids: list[str]) -> np.ndarray | None:
    if cap is None:
        return None
    if isinstance(cap, (int, np.integer)):
        if cap < 0:
            raise SuitabilityError("allocation.negative_cap", cap=cap)
        return np.full(len(park_ids), float(cap))
    c = pd.Series(cap, dtype=float)
    c.index = c.index.astype(str)
    return c.reindex(park_ids).fillna(np.inf).to_numpy(float)


def allocate_batch(ctx, batch, *, cap=None, time_limit: float = 30.0, mip_rel_gap: float = 1e-3) -> AllocationResult:
    """:func:`allocate` over a :class:`parks.suitability.batch.BatchResult` (its ``top`` rows are the candidates)."""
    summary = batch.summary
    cols = ["enterprise_id", "park_id", "score"] + (["bonus"] if "bonus" in batch.top.columns else [])
    return allocate(
        batch.top[cols],
        pd.Series(summary["land_ha"].to_numpy(float), index=summary["enterprise_id"].astype(str)),
        pd.Series(ctx.free_land, index=ctx.park_ids.astype(str)),
        cap=cap,
        enterprises=summary["enterprise_id"].astype(str).tolist(),
        flags=pd.Series(summary["flag"].to_numpy(), index=summary["enterprise_id"].astype(str)),
        time_limit=time_limit,
        mip_rel_gap=mip_rel_gap,
    )
