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
went to a better total).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from .context import SuitabilityError

__all__ = ["AllocationResult", "allocate", "allocate_batch"]


@dataclass(frozen=True)
class AllocationResult:
    """``assignments``: one row per enterprise (``enterprise_id``, ``park_id`` or None, ``score``,
    ``land_ha``, ``status`` assigned/unassigned, ``reason``); ``parks``: one row per park
    (``park_id``, ``free_land_ha``, ``land_used_ha``, ``land_left_ha``, ``enterprises``, ``cap``)."""

    assignments: pd.DataFrame
    parks: pd.DataFrame
    objective: float
    status: str
    mip_gap: float | None

    def to_dict(self) -> dict:
        def rows(frame):
            return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                    for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]
        return {"objective": self.objective, "status": self.status, "mip_gap": self.mip_gap,
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
        ``enterprise_id``, ``park_id``, ``score`` of the feasible pairs (one row per pair).
    land_ha : enterprise_id -> land need (ha).
    free_land_ha : park_id -> free land (ha); parks absent here cannot receive anyone.
    cap : optional maximum number of enterprises per park (one int for all, or per park_id).
    enterprises : every enterprise to report (default: those in ``candidates`` and ``land_ha``).
    flags : enterprise_id -> ``"closure_or_upgrade"`` for those the catalogue eliminates.
    time_limit, mip_rel_gap : solver limits. ``status`` is ``optimal`` (proven within
        ``mip_rel_gap``) or ``time_limit`` (best solution found; ``mip_gap`` says how far from the
        bound it may be). Large batches with tight per-park caps are hard instances of the
        generalised assignment problem: expect ``time_limit`` with a gap of a few per cent.
    """
    _check(candidates)
    land = pd.Series(land_ha, dtype=float)
    free = pd.Series(free_land_ha, dtype=float)
    cand = candidates[["enterprise_id", "park_id", "score"]].copy()
    cand["enterprise_id"] = cand["enterprise_id"].astype(str)
    cand["park_id"] = cand["park_id"].astype(str)
    cand = cand[cand["park_id"].isin(free.index)].drop_duplicates(["enterprise_id", "park_id"]).reset_index(drop=True)
    missing = sorted(set(cand["enterprise_id"]) - set(land.index.astype(str)))
    if missing:
        raise SuitabilityError(f"land_ha lacks enterprise(s) {', '.join(missing[:5])}; every candidate needs a land need")
    land.index = land.index.astype(str)
    ents = [str(e) for e in (enterprises if enterprises is not None else list(dict.fromkeys(list(land.index) + list(cand["enterprise_id"]))))]
    park_ids = [str(p) for p in free.index]
    e_pos = {e: i for i, e in enumerate(ents)}
    p_pos = {p: i for i, p in enumerate(park_ids)}
    cand = cand[cand["enterprise_id"].isin(e_pos)].reset_index(drop=True)
    n_k, n_e, n_p = len(cand), len(ents), len(park_ids)
    caps = _caps(cap, park_ids)

    x = np.zeros(n_k)
    status, gap, objective = "no candidates", None, 0.0
    if n_k:
        ei = cand["enterprise_id"].map(e_pos).to_numpy()
        pi = cand["park_id"].map(p_pos).to_numpy()
        a = land.reindex(cand["enterprise_id"]).to_numpy(float)
        cols = np.arange(n_k)
        one = sparse.csr_array((np.ones(n_k), (ei, cols)), shape=(n_e, n_k))
        cons = [LinearConstraint(one, -np.inf, 1.0)]
        # Rows that cannot bind are dropped (exact): a park whose candidates' land all fits needs no
        # land row, one with no more candidates than its cap no cap row. Without land rows the
        # matrix is a bipartite incidence matrix (totally unimodular): the LP optimum is integral.
        free_arr = free.to_numpy(float)
        land_need = np.bincount(pi, weights=a, minlength=n_p)
        bind = np.flatnonzero(land_need > free_arr + 1e-9)
        if len(bind):
            sel = np.isin(pi, bind)
            row = np.searchsorted(bind, pi[sel])
            land_rows = sparse.csr_array((a[sel], (row, cols[sel])), shape=(len(bind), n_k))
            cons.append(LinearConstraint(land_rows, -np.inf, free_arr[bind]))
        if caps is not None:
            count = np.bincount(pi, minlength=n_p)
            cbind = np.flatnonzero(count > caps)
            if len(cbind):
                sel = np.isin(pi, cbind)
                row = np.searchsorted(cbind, pi[sel])
                cap_rows = sparse.csr_array((np.ones(int(sel.sum())), (row, cols[sel])), shape=(len(cbind), n_k))
                cons.append(LinearConstraint(cap_rows, -np.inf, caps[cbind]))
        res = milp(c=-cand["score"].to_numpy(float), constraints=cons, integrality=np.ones(n_k),
                   bounds=Bounds(0, 1), options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap)})
        if res.x is None:
            raise SuitabilityError(f"allocation solver failed: {res.message}")
        x = np.round(res.x).astype(bool)
        status = {0: "optimal", 1: "time_limit"}.get(res.status, str(res.message))
        gap = getattr(res, "mip_gap", None)
        objective = float(cand["score"].to_numpy()[x].sum())
    chosen = cand[x.astype(bool)].set_index("enterprise_id")
    flags = pd.Series(flags if flags is not None else {}, dtype=object)
    has_cand = set(cand["enterprise_id"])
    rows = []
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
    return AllocationResult(assignments=assignments, parks=parks, objective=objective, status=status, mip_gap=gap)


def _check(candidates: pd.DataFrame) -> None:
    missing = [c for c in ("enterprise_id", "park_id", "score") if c not in candidates.columns]
    if missing:
        raise SuitabilityError(f"allocation candidates lack column(s) {', '.join(missing)}; expected enterprise_id, park_id, score")
    if len(candidates) and not np.all(np.isfinite(candidates["score"].to_numpy(float))):
        raise SuitabilityError("allocation candidates have a non-finite score; pass feasible pairs only")


def _caps(cap, park_ids: list[str]) -> np.ndarray | None:
    if cap is None:
        return None
    if isinstance(cap, (int, np.integer)):
        if cap < 0:
            raise SuitabilityError(f"cap must be >= 0, got {cap!r}")
        return np.full(len(park_ids), float(cap))
    c = pd.Series(cap, dtype=float)
    c.index = c.index.astype(str)
    return c.reindex(park_ids).fillna(np.inf).to_numpy(float)


def allocate_batch(ctx, batch, *, cap=None, time_limit: float = 30.0, mip_rel_gap: float = 1e-3) -> AllocationResult:
    """:func:`allocate` over a :class:`parks.suitability.batch.BatchResult` (its ``top`` rows are the candidates)."""
    summary = batch.summary
    return allocate(
        batch.top[["enterprise_id", "park_id", "score"]],
        pd.Series(summary["land_ha"].to_numpy(float), index=summary["enterprise_id"].astype(str)),
        pd.Series(ctx.free_land, index=ctx.park_ids.astype(str)),
        cap=cap,
        enterprises=summary["enterprise_id"].astype(str).tolist(),
        flags=pd.Series(summary["flag"].to_numpy(), index=summary["enterprise_id"].astype(str)),
        time_limit=time_limit,
        mip_rel_gap=mip_rel_gap,
    )
