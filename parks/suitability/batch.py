"""Score many enterprises against every park at once (numpy matrices, in chunks).

:func:`score_batch` computes, for a chunk of enterprises at a time, the ``(chunk, n_parks)``
feasibility mask, the nine criterion score matrices and the weighted sum, then keeps each
enterprise's ``top`` parks (sorted by score, ties by ``park_id``, exactly as
:func:`parks.suitability.model.score_enterprise` ranks). Memory is ``O(chunk_size x n_parks)``.

:func:`score_batch_loop` is the naive reference: one enterprise at a time with pandas, kept for the
tests (the two must agree) and for the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from .constraints import Constraints
from .context import EnterpriseArrays, SuitabilityContext, SuitabilityError, enterprise_arrays
from .criteria import CRITERIA, decay, log_ratio, saturating
from .model import SCORE_DECIMALS, score_arrays
from .weights import normalise_weights

__all__ = ["BatchResult", "score_batch", "score_batch_loop"]


@dataclass(frozen=True)
class BatchResult:
    """``top``: one row per (enterprise, rank <= top) with ``enterprise_id``, ``rank``, ``park_id``,
    ``score`` and each criterion's normalised score; ``summary``: one row per enterprise with
    ``n_feasible``, ``best_park_id``, ``best_score``, ``catalogue_level`` and ``flag``."""

    top: pd.DataFrame
    summary: pd.DataFrame
    weights: dict[str, float]
    constraints: dict


def _constraints(c) -> Constraints:
    return c if isinstance(c, Constraints) else Constraints.from_mapping(c)


def score_batch(
    ctx: SuitabilityContext,
    enterprises,
    weights: Mapping[str, float] | None = None,
    constraints: Constraints | Mapping | None = None,
    *,
    top: int = 3,
    chunk_size: int = 2000,
    progress: Callable[[int, int], None] | None = None,
    preference: Callable[[SuitabilityContext, EnterpriseArrays], np.ndarray] | None = None,
) -> BatchResult:
    """Score every enterprise in ``enterprises`` (GeoDataFrame or :class:`EnterpriseArrays`) against all parks.

    ``progress(done, total)`` is called after each chunk. ``preference(ctx, chunk)`` (optional)
    returns an ``(n, m)`` bonus >= 0 (a scenario's rule, :func:`parks.suitability.scenarios.scenario_preference`):
    the ``top`` parks are then those of the highest ``score + bonus`` (ties by score, then park_id),
    ``rank`` is that order and ``top`` gains a ``bonus`` column; ``score`` stays the suitability.
    """
    if not isinstance(top, (int, np.integer)) or top < 1:
        raise SuitabilityError(f"top must be a positive integer, got {top!r}")
    if chunk_size < 1:
        raise SuitabilityError(f"chunk_size must be >= 1, got {chunk_size!r}")
    w = normalise_weights(weights)
    cons = _constraints(constraints)
    ent = enterprises if isinstance(enterprises, EnterpriseArrays) else enterprise_arrays(ctx, enterprises)
    n, m = len(ent), ctx.n_parks
    k = min(int(top), m)
    top_idx = np.zeros((n, k), dtype=np.int64)
    top_score = np.full((n, k), np.nan)
    top_crit = np.full((n, k, len(CRITERIA)), np.nan)
    n_feasible = np.zeros(n, dtype=np.int64)
    top_bonus = np.zeros((n, k)) if preference is not None else None
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        sub = ent.take(slice(start, stop))
        _, _, ok, crit, scores = score_arrays(ctx, sub, w, cons)
        if preference is None:
            key = np.where(ok, -np.round(scores, SCORE_DECIMALS), np.inf)
            order = np.argsort(key, axis=1, kind="stable")[:, :k]
        else:
            bonus = np.asarray(preference(ctx, sub), dtype=float)
            key1 = np.where(ok, -np.round(scores + bonus, SCORE_DECIMALS), np.inf)
            key2 = np.where(ok, -np.round(scores, SCORE_DECIMALS), np.inf)
            cols = np.broadcast_to(np.arange(ctx.n_parks)[None, :], key1.shape)
            order = np.lexsort((cols, key2, key1), axis=1)[:, :k]
        rows = np.arange(stop - start)[:, None]
        top_idx[start:stop] = order
        top_score[start:stop] = scores[rows, order]
        if top_bonus is not None:
            top_bonus[start:stop] = bonus[rows, order]
        for c_i, c in enumerate(CRITERIA):
            top_crit[start:stop, :, c_i] = np.broadcast_to(crit[c][1], scores.shape)[rows, order]
        n_feasible[start:stop] = ok.sum(axis=1)
        if progress is not None:
            progress(stop, n)
    return _assemble(ctx, ent, w, cons, k, top_idx, top_score, top_crit, n_feasible, top_bonus)


def _assemble(ctx, ent, w, cons, k, top_idx, top_score, top_crit, n_feasible, top_bonus=None) -> BatchResult:
    n = len(ent)
    rank = np.tile(np.arange(1, k + 1), n)
    keep = ~np.isnan(top_score.ravel())
    frame = pd.DataFrame({
        "enterprise_id": np.repeat(ent.ids, k)[keep],
        "rank": rank[keep],
        "park_id": ctx.park_ids[top_idx.ravel()][keep],
        "score": top_score.ravel()[keep],
    })
    for c_i, c in enumerate(CRITERIA):
        frame[c] = top_crit[:, :, c_i].ravel()[keep]
    frame["county_code"] = ctx.county_code[top_idx.ravel()][keep]
    if top_bonus is not None:
        frame["bonus"] = top_bonus.ravel()[keep]
    has = n_feasible > 0
    summary = pd.DataFrame({
        "enterprise_id": ent.ids,
        "land_ha": ent.land_ha,
        "n_feasible": n_feasible,
        "best_park_id": np.where(has, ctx.park_ids[top_idx[:, 0]] if k else None, None),
        "best_score": np.where(has, top_score[:, 0] if k else np.nan, np.nan),
        "catalogue_level": ent.level,
        "flag": np.where(ent.level == "eliminate", "closure_or_upgrade", None),
    })
    return BatchResult(top=frame.reset_index(drop=True), summary=summary, weights=w, constraints=cons.to_dict())


def score_batch_loop(
    ctx: SuitabilityContext,
    enterprises,
    weights: Mapping[str, float] | None = None,
    constraints: Constraints | Mapping | None = None,
    *,
    top: int = 3,
) -> BatchResult:
    """Reference implementation: the same model, one enterprise at a time, with pandas over the parks.

    It shares only the park-level inputs of ``ctx`` (sector shares, supply-chain mass, transport,
    ecology, labour pool) and the transforms; feasibility, the enterprise-by-park criteria, the
    weighted sum and the ranking are written out separately. Slow by design.
    """
    w = normalise_weights(weights)
    cons = _constraints(constraints)
    ent = enterprises if isinstance(enterprises, EnterpriseArrays) else enterprise_arrays(ctx, enterprises)
    p = ctx.params
    parks = pd.DataFrame({
        "park_id": ctx.park_ids, "x": ctx.park_x, "y": ctx.park_y, "free": ctx.free_land,
        "max_rank": ctx.max_pollution_rank, "ld": ctx.less_developed > 0, "sensitive": ctx.sensitive,
        "pool": ctx.labour_pool, "transport": ctx.transport_score, "price": ctx.land_price_score,
        "ecology": ctx.ecology_score,
        "protected_m": (np.minimum.reduce([ctx.protected_km[kd] for kd in cons.protected_kinds]) * 1000.0
                        if cons.protected_kinds else np.full(ctx.n_parks, np.inf)),
    })
    m = len(parks)
    k = min(int(top), m)
    top_idx = np.zeros((len(ent), k), dtype=np.int64)
    top_score = np.full((len(ent), k), np.nan)
    top_crit = np.full((len(ent), k, len(CRITERIA)), np.nan)
    n_feasible = np.zeros(len(ent), dtype=np.int64)
    for i in range(len(ent)):
        s = int(ent.sector_idx[i])
        land, emp, level = float(ent.land_ha[i]), float(ent.employees[i]), ent.level[i]
        d = np.sqrt((parks["x"] - ent.x[i]) ** 2 + (parks["y"] - ent.y[i]) ** 2) / 1000.0
        ok = (parks["free"] >= land * (1 + cons.land_margin)) & (parks["max_rank"] >= ent.pollution_rank[i])
        ok &= level != "eliminate"
        if level == "restricted":
            ok &= ~(parks["ld"] | parks["sensitive"])
        ok &= parks["protected_m"] > cons.protected_buffer_m
        if cons.max_distance_km is not None:
            ok &= d <= cons.max_distance_km
        if cons.less_developed_only:
            ok &= parks["ld"]
        if cons.exclude_current_park:
            ok &= parks.index != ent.park_idx[i]
        if cons.exclude_urban_core_parks and ctx.park_in_urban_core is not None:
            ok &= ~pd.Series(ctx.park_in_urban_core)
        if cons.own_city_or_km is not None:
            same = pd.Series(ctx.park_city).astype(str) == str(ent.city[i]) if ent.city[i] is not None else False
            ok &= same | (d <= cons.own_city_or_km)
        if cons.own_county_or_km is not None:
            same = pd.Series(ctx.county_code).astype(str) == str(ent.county_code[i]) if ent.county_code[i] is not None else False
            ok &= same | (d <= cons.own_county_or_km)
        share = pd.Series(ctx.sector_share[:, s])
        # supply chain: a supplier (suppliers layer) by the distance to its own leader(s), else the linked mass
        if ent.ids[i] in ctx.supplier_links:
            lx, ly, lw = ctx.supplier_links[ent.ids[i]]
            supply = sum(wj * decay(np.sqrt((parks["x"] - xj) ** 2 + (parks["y"] - yj) ** 2) / 1000.0, p.supplier_half_km)
                         for xj, yj, wj in zip(lx, ly, lw))
        else:
            supply = saturating(ctx.supply_raw[:, s], p.supply_saturation)
        # land price against the median of the k nearest parks (stable order on distance)
        near = parks.assign(d=d).sort_values("d", kind="stable").head(min(p.land_price_ref_parks, m))
        ref = float(np.median(ctx.land_price[near.index.to_numpy()]))
        price_score = (0.5 + 0.5 * np.log(max(ref, 1e-9) / np.maximum(ctx.land_price, 1e-9))
                       / np.log(p.land_price_ratio_saturation)).clip(0.0, 1.0)
        crit = pd.DataFrame({
            "sector_fit": p.sector_lead_weight * ctx.leading[:, s]
            + (1 - p.sector_lead_weight) * (share / p.sector_share_cap).clip(upper=1.0),
            "supply_chain": np.asarray(supply, float),
            "distance": decay(d, p.distance_half_km),
            "transport": parks["transport"],
            "land_price": price_score,
            "land_margin": log_ratio(parks["free"] / land if land > 0 else np.full(m, np.inf), p.land_ratio_saturation),
            "labour": 1.0 - np.exp(-parks["pool"] / (p.labour_multiple * max(emp, 1.0))),
            "policy": p.policy_less_developed_weight * parks["ld"]
            + (1 - p.policy_less_developed_weight) * float(level == "encouraged"),
            "ecology": parks["ecology"],
        })
        score = sum(w[c] * crit[c] for c in CRITERIA if w[c])
        cand = pd.DataFrame({"park_id": parks["park_id"], "key": -np.round(score, SCORE_DECIMALS), "score": score})[ok]
        cand = cand.sort_values(["key", "park_id"], kind="stable").head(k)
        n_feasible[i] = int(ok.sum())
        for r, j in enumerate(cand.index):
            top_idx[i, r] = j
            top_score[i, r] = cand.at[j, "score"]
            top_crit[i, r] = crit.loc[j, list(CRITERIA)].to_numpy(float)
    return _assemble(ctx, ent, w, cons, k, top_idx, top_score, top_crit, n_feasible)
