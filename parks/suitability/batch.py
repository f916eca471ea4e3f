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

from .constraints import Constraints, feasible, violation_masks
from .context import EnterpriseArrays, SuitabilityContext, SuitabilityError, enterprise_arrays
from geodata.schema import SECTOR_IDS

from .criteria import (CRITERIA, criterion_matrices, decay, log_ratio, relative_price_score, saturating,
                       supplier_scores)
from .model import SCORE_DECIMALS
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
    if preference is not None or not _kernel_applies(ctx, ent, k):
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            _score_matrices(ctx, ent, w, cons, k, start, stop, top_idx, top_score, top_crit, n_feasible, top_bonus,
                            preference)
            if progress is not None:
                progress(stop, n)
        return _assemble(ctx, ent, w, cons, k, top_idx, top_score, top_crit, n_feasible, top_bonus)
    redo: list[int] = []
    segment = n if _table_rows(ent) * m * 8 <= _TABLE_BYTES else max(chunk_size, _SEGMENT // chunk_size * chunk_size)
    kernel, seg0 = None, 0
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        if kernel is None or start >= seg0 + segment:
            seg0 = start
            seg = slice(seg0, min(seg0 + segment, n))
            kernel = _Kernel(ctx, ent.take(seg), w, cons, k)
            views = (top_idx[seg], top_score[seg], top_crit[seg], n_feasible[seg])
        seg_redo: list[int] = []
        kernel.score(start - seg0, stop - seg0, *views, seg_redo)
        redo.extend(seg0 + r for r in seg_redo)
        if stop == min(seg0 + segment, n):
            kernel.finish(views[0], views[2])
        if progress is not None:
            progress(stop, n)
    if redo:  # rows the argmax passes cannot decide: the matrix path, row for row as before
        idx = np.asarray(redo, dtype=np.intp)
        sub = ent.take(idx)
        r_idx, r_score = np.zeros((len(idx), k), dtype=np.int64), np.full((len(idx), k), np.nan)
        r_crit, r_n = np.full((len(idx), k, len(CRITERIA)), np.nan), np.zeros(len(idx), dtype=np.int64)
        for start in range(0, len(idx), chunk_size):
            _score_matrices(ctx, sub, w, cons, k, start, min(start + chunk_size, len(idx)), r_idx, r_score, r_crit,
                            r_n, None, None)
        top_idx[idx], top_score[idx], top_crit[idx], n_feasible[idx] = r_idx, r_score, r_crit, r_n
    return _assemble(ctx, ent, w, cons, k, top_idx, top_score, top_crit, n_feasible, top_bonus)



def _distances_km(ctx: SuitabilityContext, ent: EnterpriseArrays) -> np.ndarray:
    """Distances (km) from each enterprise to each park as the batch computes them:
    :math:`\\sqrt{dx^2 + dy^2}`, the formula of the reference loop (:func:`score_batch_loop`).

    ``SuitabilityContext.distances_km`` (one enterprise, transfer snapshots) uses ``np.hypot``, ten
    times slower; the two differ in the last bit of about one distance in six. The single-enterprise path
    keeps ``hypot`` because transfer candidate ids hash the criteria's values."""
    dx = ent.x[:, None] - ctx.park_x[None, :]
    dy = ent.y[:, None] - ctx.park_y[None, :]
    return np.sqrt(dx * dx + dy * dy) / 1000.0


def _score_arrays(ctx: SuitabilityContext, ent: EnterpriseArrays, weights: Mapping[str, float], cons: Constraints):
    """:func:`parks.suitability.model.score_arrays` over the batch's distances: ``(feasible, criteria, scores)``."""
    dist = _distances_km(ctx, ent)
    ok = feasible(violation_masks(ctx, ent, dist, cons))
    crit = criterion_matrices(ctx, ent, dist)
    total = np.zeros(dist.shape)
    for c in CRITERIA:
        if weights[c]:
            total = total + weights[c] * crit[c][1]
    return ok, crit, np.where(ok, total, np.nan)


def _score_matrices(ctx, ent, w, cons, k, start, stop, top_idx, top_score, top_crit, n_feasible, top_bonus,
                    preference) -> None:
    """Rows ``start:stop`` by the matrix path: the full ``(rows, parks)`` criterion matrices
    (:func:`_score_arrays`) and a stable sort (with a ``preference``, a lexsort on score + bonus, score, park)."""
    sub = ent.take(slice(start, stop))
    ok, crit, scores = _score_arrays(ctx, sub, w, cons)
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


_TABLE_BYTES = 64 * 2**20  # the kernel's (distinct value x park) tables of a batch, at most
_SEGMENT = 16_384  # rows per kernel when a batch has more distinct land needs than that allows


def _kernel_applies(ctx: SuitabilityContext, ent: EnterpriseArrays, k: int) -> bool:
    """The kernel needs parks with finite coordinates and at least one park to rank."""
    return bool(len(ent) and ctx.n_parks and k and np.isfinite(ctx.park_x).all() and np.isfinite(ctx.park_y).all())


def _table_rows(ent: EnterpriseArrays) -> int:
    """Rows of the kernel's largest table: distinct (land need, pollution rank) pairs."""
    return len(np.unique(np.unique(ent.land_ha, return_inverse=True)[1].reshape(-1) * 4 + ent.pollution_rank))


# --- the kernel ---------------------------------------------------------------------------------

_BLOCK = 256  # rows per kernel block: its (block x parks) buffers stay in the core's cache


def _keyed(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and, for each row, the index of its value (``np.unique`` with the inverse)."""
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, inverse.reshape(-1)


class _Kernel:
    """Batch scoring of :func:`parks.suitability.model.score_arrays`' model, computed where it varies.

    Every criterion but the distance decay depends on the park and on one attribute of the enterprise
    with few distinct values (sector, land need, employees, encouraged or not, the reference price of
    its nearest parks), so its ``(value, park)`` table is computed once with the element-wise operations
    of :func:`parks.suitability.criteria.criterion_matrices` and gathered per block: the same bits. The
    hard constraints are one table of penalties (0 or -inf) by (number of parks with too little free
    land, pollution rank). The weighted sum is added up in ``CRITERIA`` order, as ``score_arrays`` does,
    into buffers reused for every block (no allocation per block). The top parks are ``top + 1``
    passes of ``argmax``: when the rounded scores of the picks strictly decrease, they are the parks
    the stable sort of the rounded scores puts first (``argmax`` takes the first index on a tie, the
    park_id order); a row where they do not (equal rounded scores, NaN, fewer feasible parks than
    ``top``) is left to the matrix path (``redo``).
    """

    def __init__(self, ctx: SuitabilityContext, ent: EnterpriseArrays, w: Mapping[str, float], cons: Constraints,
                 k: int):
        p = ctx.params
        self.ctx, self.ent, self.w, self.cons, self.k = ctx, ent, w, cons, k
        m = ctx.n_parks
        self.m = m
        self.sec = ent.sector_idx
        # sector-keyed criteria: (11, m)
        self.sector_fit = p.sector_lead_weight * ctx.leading.T + (1.0 - p.sector_lead_weight) * np.minimum(
            1.0, ctx.sector_share.T / p.sector_share_cap)
        self.supply = saturating(ctx.supply_raw.T, p.supply_saturation)
        links = ctx.supplier_links or {}
        self.supplier_rows = (np.flatnonzero([e in links for e in ent.ids]) if links
                              else np.zeros(0, dtype=np.intp))
        # land need: land margin
        self.u_land, self.land_inv = _keyed(ent.land_ha)
        need = self.u_land[:, None]
        free = ctx.free_land[None, :]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.where(need > 0, free / np.where(need > 0, need, 1.0), np.inf)
        self.land_margin = log_ratio(ratio, p.land_ratio_saturation)
        # employees: labour
        self.u_emp, self.emp_inv = _keyed(ent.employees)
        demand = p.labour_multiple * np.maximum(self.u_emp, 1.0)[:, None]
        self.labour = -np.expm1(-ctx.labour_pool[None, :] / demand)
        # encouraged or not: policy
        self.u_enc, self.enc_inv = _keyed(ent.encouraged)
        self.policy = (p.policy_less_developed_weight * ctx.less_developed[None, :]
                       + (1.0 - p.policy_less_developed_weight) * self.u_enc[:, None])
        # land price against the median price of the nearest parks: a row per park price
        self.n_ref = min(int(p.land_price_ref_parks), m)
        self.u_price = np.unique(ctx.land_price)
        self.land_price = relative_price_score(ctx.land_price[None, :], self.u_price[:, None],
                                               p.land_price_ratio_saturation)
        self.ref_idx = np.zeros(len(ent), dtype=np.intp)
        self.transport, self.ecology = ctx.transport_score, ctx.ecology_score
        # the weighted sum's terms in CRITERIA order; the leading sector-keyed ones folded into one table
        self.terms = [c for c in CRITERIA if w[c]]
        prefix = np.zeros((len(SECTOR_IDS), m))
        self.n_prefix = 0
        for c in self.terms:
            if c not in ("sector_fit", "supply_chain") or (c == "supply_chain" and len(self.supplier_rows)):
                break
            prefix = prefix + w[c] * (self.sector_fit if c == "sector_fit" else self.supply)
            self.n_prefix += 1
        self.prefix = prefix
        self.weighted = {
            "sector_fit": w["sector_fit"] * self.sector_fit, "supply_chain": w["supply_chain"] * self.supply,
            "transport": w["transport"] * self.transport, "land_price": w["land_price"] * self.land_price,
            "land_margin": w["land_margin"] * self.land_margin, "labour": w["labour"] * self.labour,
            "policy": w["policy"] * self.policy, "ecology": w["ecology"] * self.ecology,
        }
        self.keys = {"land_margin": self.land_inv, "labour": self.emp_inv, "policy": self.enc_inv,
                     "sector_fit": self.sec, "supply_chain": self.sec}
        # hard constraints (as constraints.violation_masks): the parks with less free land than the need
        # are the first q of the parks sorted by free land, so a penalty row per (q, pollution rank)
        f_need = ent.land_ha * (1.0 + cons.land_margin)
        q = np.searchsorted(np.sort(ctx.free_land), f_need, side="left")
        q[np.isnan(f_need)] = 0
        free_pos = np.empty(m, dtype=np.intp)
        free_pos[np.argsort(ctx.free_land, kind="stable")] = np.arange(m)
        n_rank = int(max(ctx.max_pollution_rank.max(initial=0), ent.pollution_rank.max(initial=0))) + 1
        u_feas, self.feas_inv = _keyed(q * n_rank + ent.pollution_rank)
        park_bad = np.zeros(m, dtype=bool)
        if cons.protected_kinds and m:
            near = np.minimum.reduce([ctx.protected_km[kd] for kd in cons.protected_kinds])
            park_bad |= near * 1000.0 <= cons.protected_buffer_m
        if cons.less_developed_only:
            park_bad |= ctx.less_developed <= 0
        if cons.exclude_urban_core_parks and ctx.park_in_urban_core is not None:
            park_bad |= ctx.park_in_urban_core
        bad = ((free_pos[None, :] < (u_feas // n_rank)[:, None])
               | ((u_feas % n_rank)[:, None] > ctx.max_pollution_rank[None, :]) | park_bad[None, :])
        self.penalty = np.where(bad, -np.inf, 0.0)
        restricted_bad = (ctx.less_developed > 0) | ctx.sensitive
        self.restricted_penalty = np.where(restricted_bad, -np.inf, 0.0)
        self.ok_count = (~bad).sum(axis=1)
        self.ok_count_restricted = (~bad & ~restricted_bad[None, :]).sum(axis=1)
        self.restricted = ent.level == "restricted"
        self.eliminated = ent.level == "eliminate"
        self.current = ent.park_idx if cons.exclude_current_park else np.full(len(ent), -1)
        self.distance_masks = (cons.max_distance_km is not None or cons.own_city_or_km is not None
                               or cons.own_county_or_km is not None)
        if cons.own_city_or_km is not None:
            self.city_codes = _area_codes(ent.city, ctx.park_city, m)
        if cons.own_county_or_km is not None:
            self.county_codes = _area_codes(ent.county_code, ctx.county_code, m)
        self.no_xy = ~(np.isfinite(ent.x) & np.isfinite(ent.y))
        block = max(1, min(_BLOCK, len(ent)))
        self.buf = {name: np.empty((block, m)) for name in ("total", "tmp", "dist", "scratch", "decay")}
        self.block = block

    def score(self, start: int, stop: int, top_idx, top_score, top_crit, n_feasible, redo: list) -> None:
        """Rows ``start:stop``: their top parks, scores, distance scores and feasible counts (the other
        criteria: :meth:`finish`); rows the kernel cannot decide are appended to ``redo``."""
        for b0 in range(start, stop, self.block):
            self._block(b0, min(b0 + self.block, stop), top_idx, top_score, top_crit, n_feasible, redo)

    def _block(self, r0: int, r1: int, top_idx, top_score, top_crit, n_feasible, redo: list) -> None:
        ctx, ent, w, k, m = self.ctx, self.ent, self.w, self.k, self.m
        p = ctx.params
        n = r1 - r0
        rows = slice(r0, r1)
        total, tmp, dist, scratch, dec = (buf[:n] for buf in self.buf.values())
        flat = np.arange(n) * m  # the row starts in a flattened (n, m) buffer
        # distances (km), as _distances_km, and their decay
        np.subtract(ent.x[rows, None], ctx.park_x[None, :], out=dist)
        np.multiply(dist, dist, out=dist)
        np.subtract(ent.y[rows, None], ctx.park_y[None, :], out=scratch)
        np.multiply(scratch, scratch, out=scratch)
        np.add(dist, scratch, out=dist)
        np.sqrt(dist, out=dist)
        np.divide(dist, 1000.0, out=dist)
        np.divide(dist, -p.distance_half_km, out=dec)  # (-d) / h: the same bits
        np.exp2(dec, out=dec)
        # the median price of the nearest parks (first index on equal distances, as the stable sort)
        near = np.empty((n, self.n_ref), dtype=np.intp)
        np.copyto(scratch, dist)
        s_flat = scratch.reshape(-1)
        for t in range(self.n_ref):
            j = np.argmin(scratch, axis=1)
            near[:, t] = j
            s_flat[flat + j] = np.inf
        prices = np.sort(ctx.land_price[near], axis=1)
        h = self.n_ref // 2
        ref = prices[:, h] if self.n_ref % 2 else (prices[:, h - 1] + prices[:, h]) / 2.0  # as np.median
        ref_idx = np.minimum(np.searchsorted(self.u_price, ref), len(self.u_price) - 1)
        ref_miss = self.u_price[ref_idx] != ref
        self.ref_idx[rows] = ref_idx
        # supplier rows: their supply-chain score is the decay to their own chain leaders
        sup_local = self.supplier_rows[(self.supplier_rows >= r0) & (self.supplier_rows < r1)] - r0
        sup_score = (supplier_scores(ctx, ent.ids[r0 + sup_local], ctx.park_x, ctx.park_y, p.supplier_half_km)[2]
                     if len(sup_local) else None)
        # the weighted sum, term by term in CRITERIA order
        if self.n_prefix:
            np.take(self.prefix, self.sec[rows], axis=0, out=total)
        else:
            total.fill(0.0)
        for c in self.terms[self.n_prefix:]:
            if c == "distance":
                np.multiply(dec, w[c], out=tmp)
            elif c in ("transport", "ecology"):
                np.add(total, self.weighted[c][None, :], out=total)
                continue
            else:
                np.take(self.weighted[c], ref_idx if c == "land_price" else self.keys[c][rows], axis=0, out=tmp)
                if c == "supply_chain" and sup_score is not None:
                    tmp[sup_local] = w[c] * sup_score
            np.add(total, tmp, out=total)
        # hard constraints: a penalty (0 or -inf) added to the scores
        np.take(self.penalty, self.feas_inv[rows], axis=0, out=tmp)
        restricted = np.flatnonzero(self.restricted[rows])
        if len(restricted):
            tmp[restricted] += self.restricted_penalty
        eliminated = self.eliminated[rows]
        if eliminated.any():
            tmp[eliminated] = -np.inf
        cur = self.current[rows]
        has_cur = np.flatnonzero(cur >= 0)
        t_flat = tmp.reshape(-1)
        cur_pos = flat[has_cur] + cur[has_cur]
        cur_ok = np.isfinite(t_flat[cur_pos])
        t_flat[cur_pos] = -np.inf
        if self.distance_masks:
            tmp[self._distance_violations(rows, dist)] = -np.inf
        np.add(total, tmp, out=scratch)
        if self.distance_masks:
            n_feasible[rows] = np.count_nonzero(np.isfinite(scratch), axis=1)
        else:
            fi = self.feas_inv[rows]
            cnt = np.where(self.restricted[rows], self.ok_count_restricted[fi], self.ok_count[fi])
            cnt[has_cur] -= cur_ok
            cnt[eliminated] = 0
            n_feasible[rows] = cnt
        # the top k (+ 1 to see that the k-th is strictly ahead of the rest)
        kk = min(k + 1, m)
        picks = np.empty((n, kk), dtype=np.intp)
        for t in range(kk):
            j = np.argmax(scratch, axis=1)
            picks[:, t] = j
            s_flat = scratch.reshape(-1)
            if t + 1 < kk:
                s_flat[flat + j] = -np.inf
        vals = total.reshape(-1)[flat[:, None] + picks] + tmp.reshape(-1)[flat[:, None] + picks]
        key = np.round(vals, SCORE_DECIMALS)
        if kk == k:  # every park is picked: nothing behind the k-th
            key = np.concatenate([key, np.full((n, 1), -np.inf)], axis=1)
        finite = np.isfinite(vals[:, :k])
        ahead = (key[:, :k] > key[:, 1:k + 1]) | ~finite  # each feasible pick strictly ahead of the next
        undecided = np.isnan(vals[:, 0]) | ~ahead.all(axis=1) | ref_miss | self.no_xy[rows]
        if undecided.any():
            redo.extend((r0 + np.flatnonzero(undecided)).tolist())
        picks = picks[:, :k]
        n_fin = finite.sum(axis=1)
        short = np.flatnonzero((n_fin < k) & ~undecided)
        if len(short):  # fewer feasible parks than k: then the infeasible ones in park order, as the stable sort
            off = np.isneginf(tmp[short])
            want = (k - n_fin[short])[:, None]
            first = off & (np.cumsum(off, axis=1) <= want)
            r, c = np.nonzero(first)
            slot = n_fin[short][r] + (np.cumsum(first, axis=1)[r, c] - 1)
            picks[short[r], slot] = c
        top_idx[rows] = picks
        at = flat[:, None] + picks
        top_score[rows] = np.where(np.arange(k)[None, :] < n_fin[:, None], total.reshape(-1)[at], np.nan)
        top_crit[rows, :, CRITERIA.index("distance")] = dec.reshape(-1)[at]
        if sup_score is not None:
            top_crit[r0 + sup_local, :, CRITERIA.index("supply_chain")] = \
                sup_score[np.arange(len(sup_local))[:, None], picks[sup_local]]

    def finish(self, top_idx, top_crit) -> None:
        """The criteria at the top parks from the tables (after :meth:`score` of every row)."""
        picks = top_idx
        col = lambda key: key[:, None]  # noqa: E731
        supplier = np.zeros(len(picks), dtype=bool)
        supplier[self.supplier_rows] = True
        supply = np.where(supplier[:, None], top_crit[:, :, CRITERIA.index("supply_chain")],
                          self.supply[col(self.sec), picks])
        values = {
            "sector_fit": self.sector_fit[col(self.sec), picks], "supply_chain": supply,
            "transport": self.transport[picks], "land_price": self.land_price[col(self.ref_idx), picks],
            "land_margin": self.land_margin[col(self.land_inv), picks], "labour": self.labour[col(self.emp_inv), picks],
            "policy": self.policy[col(self.enc_inv), picks], "ecology": self.ecology[picks],
        }
        for c_i, c in enumerate(CRITERIA):
            if c in values:
                top_crit[:, :, c_i] = values[c]

    def _distance_violations(self, rows: slice, dist: np.ndarray) -> np.ndarray:
        cons = self.cons
        viol = np.zeros(dist.shape, dtype=bool)
        if cons.max_distance_km is not None:
            viol |= dist > cons.max_distance_km
        for band, codes in ((cons.own_city_or_km, "city_codes"), (cons.own_county_or_km, "county_codes")):
            if band is not None:
                ent_code, park_code = getattr(self, codes)
                same = ent_code[rows, None] == park_code[None, :]
                viol |= ~same & (dist > band)
        return viol


def _area_codes(ent_area, park_area, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of the enterprises' and parks' areas (city or county) as ``str``; an unknown area
    (None) is -1 for an enterprise and -2 for a park, so that it equals nothing (as in ``_outside_band``)."""
    park_area = np.full(m, None, dtype=object) if park_area is None else park_area
    ea = pd.Series(np.asarray(ent_area, dtype=object))
    pa = pd.Series(np.asarray(park_area, dtype=object))
    ea_s, pa_s = ea.map(lambda a: None if a is None else str(a)), pa.map(lambda a: None if a is None else str(a))
    vocab = pd.Index(pd.unique(pd.concat([ea_s, pa_s]).dropna()))
    e = np.where(ea_s.isna(), -1, vocab.get_indexer(ea_s.fillna("")))
    q = np.where(pa_s.isna(), -2, vocab.get_indexer(pa_s.fillna("")))
    return e, q


def _assemble(ctx, ent, w, cons, k, top_idx, top_score, top_crit, n_feasible, top_bonus=None) -> BatchResult:
    n = len(ent)
    rank = np.tile(np.arange(1, k + 1), n)
    keep = ~np.isnan(top_score.ravel())
    rows = np.repeat(np.arange(n), k)[keep]
    parks = top_idx.ravel()[keep]
    frame = pd.DataFrame({
        "enterprise_id": _text(ent.ids, rows),
        "rank": rank[keep],
        "park_id": _text(ctx.park_ids, parks),
        "score": top_score.ravel()[keep],
    })
    for c_i, c in enumerate(CRITERIA):
        frame[c] = top_crit[:, :, c_i].ravel()[keep]
    frame["county_code"] = _text(ctx.county_code, parks)
    if top_bonus is not None:
        frame["bonus"] = top_bonus.ravel()[keep]
    has = n_feasible > 0
    summary = pd.DataFrame({
        "enterprise_id": _text(ent.ids, np.arange(n)),
        "land_ha": ent.land_ha,
        "n_feasible": n_feasible,
        "best_park_id": _text(ctx.park_ids, np.where(has, top_idx[:, 0], -1) if k else np.full(n, -1)),
        "best_score": np.where(has, top_score[:, 0] if k else np.nan, np.nan),
        "catalogue_level": _text(ent.level, np.arange(n)),
        "flag": _text(np.array(["closure_or_upgrade"], dtype=object), np.where(ent.level == "eliminate", 0, -1)),
    })
    return BatchResult(top=frame.reset_index(drop=True), summary=summary, weights=w, constraints=cons.to_dict())


_STR = pd.Series(np.array(["x"], dtype=object)).dtype  # the dtype pandas gives a column of str


def _text(vocab, codes: np.ndarray):
    """The column ``vocab[codes]`` (code -1: missing) as pandas would build it from the objects: built in
    Arrow (a take from ``vocab``) when its values are all ``str`` or None, else from the object array."""
    import pyarrow as pa

    vocab = np.asarray(vocab, dtype=object)
    codes = np.asarray(codes, dtype=np.intp)
    objects = lambda: np.append(vocab, None)[codes]  # noqa: E731 - code -1: the None at the end
    if not len(codes) or not len(vocab):
        return objects()
    try:
        arr = pa.array(vocab, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return objects()
    if not pa.types.is_string(arr.type):
        return objects()
    taken = arr.cast(pa.large_string()).take(pa.array(codes, mask=codes < 0))
    if taken.null_count == len(taken):  # no str at all: pandas keeps such a column as objects
        return objects()
    return pd.array(taken, dtype=_STR)


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
