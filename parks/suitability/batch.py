"""Score many enterprises against every park at once.

:func:`score_batch` keeps each enterprise's ``top`` parks (sorted by score, ties by ``park_id``,
exactly as :func:`parks.suitability.model.score_enterprise` ranks). Its kernel (:class:`_Kernel`)
computes each criterion once per distinct (enterprise value, park) in a table, and, per block of rows
in two compiled loops (numba), the distances, the nearest parks' land price, the weighted sums of the
feasible parks and the best ``top + 1``; the rows it cannot decide (rounded scores equal at 1e-9, NaN)
and the scenario preferences take the matrix path (:func:`_score_matrices`: the ``(rows, parks)``
criterion matrices and a stable sort), which it equals to the last bit. Memory is
``O(distinct values x parks)`` for the tables, at most :data:`_TABLE_BYTES` (else in segments).

Distances are :math:`\\sqrt{dx^2 + dy^2}` (the reference loop's formula), not ``np.hypot`` as for one
enterprise (:meth:`SuitabilityContext.distances_km`): the two differ in the last bit of about one
distance in six, so a batch score may differ from the single-enterprise one by ~1e-16.

:func:`score_batch_loop` is the naive reference: one enterprise at a time with pandas, kept for the
tests (the two must agree) and for the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from numba import njit

from .constraints import Constraints, feasible, violation_masks
from .context import EnterpriseArrays, SuitabilityContext, SuitabilityError, enterprise_arrays
from .criteria import (CRITERIA, criterion_matrices, decay, log_ratio, relative_price_score, saturating,
                       supplier_lookup)
from .model import SCORE_DECIMALS
from .weights import normalise_weights

__all__ = ["BatchResult", "score_batch", "score_batch_loop"]

# the compiled loop's terms and the criteria it writes at each pick, in this order (w[0] * sector_fit, ...)
_KERNEL_TERMS = ("sector_fit", "supply_chain", "distance", "transport", "land_price", "land_margin", "labour",
                 "policy", "ecology")
if CRITERIA != _KERNEL_TERMS:  # pragma: no cover - a new or reordered criterion must be added to _nb_rank
    raise ImportError(f"parks.suitability.batch: _nb_rank adds {_KERNEL_TERMS}, CRITERIA is {CRITERIA}")


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
        raise SuitabilityError("param.top", top=top)
    if chunk_size < 1:
        raise SuitabilityError("param.chunk_size", chunk_size=chunk_size)
    w = normalise_weights(weights)
    cons = _constraints(constraints)
    ent = enterprises if isinstance(enterprises, EnterpriseArrays) else enterprise_arrays(ctx, enterprises)
    n, m = len(ent), ctx.n_parks
    k = min(int(top), m)
    top_idx = np.zeros((n, k), dtype=np.int64)
    top_score = np.full((n, k), np.nan)
    # (n, k, criteria) over memory laid out (criteria, n, k): each criterion's column of the result is then
    # one gather from contiguous memory (_assemble)
    top_crit = np.full((len(CRITERIA), n, k), np.nan).transpose(1, 2, 0)
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

_BLOCK = 1024  # rows per kernel block (two reused (block x parks) buffers: distances, decay)


def _keyed(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and, for each row, the index of its value (``np.unique`` with the inverse)."""
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, inverse.reshape(-1)


# --- compiled loops of the kernel (numba; the same IEEE operations in the same order as numpy's) ------

@njit(nogil=True, cache=True, error_model="numpy")
def _nb_distances(ex, ey, px, py, neg_half, price, u_price, dist, dec, ref_idx, ref_miss, r):  # pragma: no cover
    """``dist = sqrt(dx*dx + dy*dy) / 1000``, ``dec = dist / -half`` (exp2 is numpy's), and the median
    price of each row's ``r`` nearest parks (first index on equal distances, as the stable sort; the
    middle price, or the mean of the middle two, as ``np.median``) as its index in ``u_price`` (sorted
    distinct prices; ``ref_miss`` where it is not one of them)."""
    n, m = dist.shape
    best = np.empty(r)
    idx = np.empty(r, dtype=np.intp)
    for i in range(n):
        x = ex[i]
        y = ey[i]
        for j in range(m):
            dx = x - px[j]
            dy = y - py[j]
            d = np.sqrt(dx * dx + dy * dy) / 1000.0
            dist[i, j] = d
            dec[i, j] = d / neg_half
        cnt = 0
        lim = np.inf  # the r-th smallest distance so far
        for j in range(m):
            d = dist[i, j]
            if cnt < r:
                pos = cnt
                cnt += 1
            elif d < lim:
                pos = r - 1
            else:
                continue
            while pos > 0 and d < best[pos - 1]:
                best[pos] = best[pos - 1]
                idx[pos] = idx[pos - 1]
                pos -= 1
            best[pos] = d
            idx[pos] = j
            if cnt == r:
                lim = best[r - 1]
        for t in range(r):  # the prices of the r nearest, sorted
            v = price[idx[t]]
            pos = t
            while pos > 0 and v < best[pos - 1]:
                best[pos] = best[pos - 1]
                pos -= 1
            best[pos] = v
        h = r // 2
        ref = best[h] if r % 2 else (best[h - 1] + best[h]) / 2.0
        pos = np.searchsorted(u_price, ref)
        if pos >= len(u_price):
            pos = len(u_price) - 1
        ref_idx[i] = pos
        ref_miss[i] = not (u_price[pos] == ref)


@njit(nogil=True, cache=True, error_model="numpy")
def _nb_rank(w, scale, sec, ref, land, emp, enc, feas, restricted, eliminated, cur, sup_row,  # pragma: no cover
             sector_fit, supply, sup, dec, transport, land_price, land_margin, labour, policy, ecology,
             bad, restricted_bad, viol, use_viol, top_idx, top_score, top_crit, n_feasible, undecided):
    """Per row: the weighted sums of the feasible parks (``0 + w_c * s_c`` in CRITERIA order, as
    ``_score_arrays`` adds them) and the ``k`` best, ``k = top_idx.shape[1]``, then the first infeasible
    parks in park order (as the stable sort puts them), with the nine criteria at each pick
    (``top_crit[i, t]``, CRITERIA order). The row is ``undecided`` when a sum is NaN or
    the rounded sums (``rint(s * scale)``, as ``np.round``) of the ``k + 1`` highest do not strictly
    decrease (the highest sums are kept with the first index on equal sums)."""
    n, m = dec.shape
    k = top_idx.shape[1]
    kk = min(k + 1, m)
    top_v = np.empty(kk)
    top_j = np.empty(kk, dtype=np.intp)
    off = np.empty(k, dtype=np.intp)
    row = np.empty(m)
    feasible = np.empty(m, dtype=np.bool_)
    w0, w1, w2, w3, w4, w5, w6, w7, w8 = w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
    for i in range(n):
        held = 0
        low = -np.inf  # the kk-th highest sum so far
        n_off = 0
        nf = 0
        nan = False
        s, f, c, rs, r_i = sec[i], feas[i], cur[i], restricted[i], ref[i]
        l_i, e_i, p_i, sup_i = land[i], emp[i], enc[i], sup_row[i]
        sf, sp, lp, lm, la, po = sector_fit[s], (sup[sup_i] if sup_i >= 0 else supply[s]), land_price[r_i], \
            land_margin[l_i], labour[e_i], policy[p_i]
        dc = dec[i]
        if not eliminated[i]:
            # every park's sum, branch-free (a zero weight adds 0 * s = +0.0: the same sum as skipping the
            # term while s is finite; a non-finite sum sends the row to the matrix path); -inf if infeasible
            bd = bad[f]
            odd = 0
            for j in range(m):
                t = 0.0
                t = t + w0 * sf[j]
                t = t + w1 * sp[j]
                t = t + w2 * dc[j]
                t = t + w3 * transport[j]
                t = t + w4 * lp[j]
                t = t + w5 * lm[j]
                t = t + w6 * la[j]
                t = t + w7 * po[j]
                t = t + w8 * ecology[j]
                ok = not (bd[j] or (rs and restricted_bad[j]) or j == c)
                feasible[j] = ok
                nf += ok
                odd += ok and not (t - t == 0.0)
                row[j] = t if ok else -np.inf
            if use_viol:
                for j in range(m):
                    if feasible[j] and viol[i, j]:
                        feasible[j] = False
                        nf -= 1
                        odd -= not (row[j] - row[j] == 0.0)
                        row[j] = -np.inf
            nan = odd > 0
            for j in range(m):  # the kk highest, first index on equal sums
                t = row[j]
                if t > low:
                    if held < kk:
                        pos = held
                        held += 1
                    else:
                        pos = kk - 1
                    while pos > 0 and t > top_v[pos - 1]:
                        top_v[pos] = top_v[pos - 1]
                        top_j[pos] = top_j[pos - 1]
                        pos -= 1
                    top_v[pos] = t
                    top_j[pos] = j
                    if held == kk:
                        low = top_v[kk - 1]
        if nf < k:  # then the infeasible parks in park order
            for j in range(m):
                if eliminated[i] or not feasible[j]:
                    off[n_off] = j
                    n_off += 1
                    if n_off == k:
                        break
        n_feasible[i] = nf
        fin = min(held, k)
        bad_row = nan or fin + n_off < k
        for t in range(fin):
            if t + 1 < held and not np.rint(top_v[t] * scale) > np.rint(top_v[t + 1] * scale):
                bad_row = True
        undecided[i] = bad_row
        for t in range(k):
            if bad_row:
                j = 0
            elif t < fin:
                j = top_j[t]
            else:
                j = off[t - fin]
            top_idx[i, t] = j
            top_score[i, t] = top_v[t] if t < fin and not bad_row else np.nan
            tc = top_crit[i, t]
            tc[0] = sf[j]
            tc[1] = sp[j]
            tc[2] = dc[j]
            tc[3] = transport[j]
            tc[4] = lp[j]
            tc[5] = lm[j]
            tc[6] = la[j]
            tc[7] = po[j]
            tc[8] = ecology[j]


class _Kernel:
    """Batch scoring of the matrix path's model (:func:`_score_arrays`), computed where it varies.

    Every criterion but the distance decay depends on the park and on one attribute of the enterprise
    with few distinct values (sector, land need, employees, encouraged or not, the reference price of
    its nearest parks), so its ``(value, park)`` table is computed once with the element-wise operations
    of :func:`parks.suitability.criteria.criterion_matrices`: the same bits. The hard constraints are
    one boolean table by (number of parks with too little free land, pollution rank) and per-park
    flags. Per block of rows, two compiled loops (:func:`_nb_distances`, :func:`_nb_rank`) compute the
    distances, the nearest parks, the weighted sums of the feasible parks (``0 + w_c s_c`` in CRITERIA
    order, as the matrix path adds them) and keep the ``top + 1`` highest, into buffers reused for every
    block. When the rounded scores of the picks strictly decrease, they are the parks the stable sort of
    the rounded scores puts first; a row where they do not (equal rounded scores, NaN) is left to the
    matrix path (``redo``).
    """

    def __init__(self, ctx: SuitabilityContext, ent: EnterpriseArrays, w: Mapping[str, float], cons: Constraints,
                 k: int):
        p = ctx.params
        self.ctx, self.ent, self.w, self.cons, self.k = ctx, ent, w, cons, k
        m = ctx.n_parks
        self.m = m
        self.sec = ent.sector_idx
        # sector-keyed criteria: (11, m)
        # C order: the compiled loop reads a row of each table per enterprise; rows of the transposed
        # (Fortran-ordered) tables are strided and keep it from vectorising (1.7x slower, measured)
        self.sector_fit = np.ascontiguousarray(p.sector_lead_weight * ctx.leading.T + (1.0 - p.sector_lead_weight)
                                               * np.minimum(1.0, ctx.sector_share.T / p.sector_share_cap))
        self.supply = np.ascontiguousarray(saturating(ctx.supply_raw.T, p.supply_saturation))
        # suppliers: their supply-chain score is the decay to their own chain leaders, a row of ``sup`` each
        rows, _, sup = supplier_lookup(ctx, ent.ids) if ctx.supplier_links else (np.zeros(0, dtype=np.intp), None, None)
        self.sup_row = np.full(len(ent), -1, dtype=np.intp)
        self.sup_row[rows] = np.arange(len(rows))
        self.sup = np.ascontiguousarray(sup) if len(rows) else np.zeros((1, m))
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
        self.transport, self.ecology = ctx.transport_score, ctx.ecology_score
        # the weighted sum's terms in CRITERIA order; the leading sector-keyed ones folded into one table
        self.w_vector = np.array([w[c] for c in CRITERIA], dtype=float)
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
        self.bad = bad
        self.restricted_bad = (ctx.less_developed > 0) | ctx.sensitive
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
        self.buf = {name: np.empty((block, m)) for name in ("dist", "decay")}
        self.block = block

    def score(self, start: int, stop: int, top_idx, top_score, top_crit, n_feasible, redo: list) -> None:
        """Rows ``start:stop``: their top parks, scores, criteria at those parks and feasible counts;
        rows the kernel cannot decide are appended to ``redo``."""
        for b0 in range(start, stop, self.block):
            self._block(b0, min(b0 + self.block, stop), top_idx, top_score, top_crit, n_feasible, redo)

    def _block(self, r0: int, r1: int, top_idx, top_score, top_crit, n_feasible, redo: list) -> None:
        ctx, ent = self.ctx, self.ent
        p = ctx.params
        n = r1 - r0
        rows = slice(r0, r1)
        dist, dec = self.buf["dist"][:n], self.buf["decay"][:n]
        # distances (km) as _distances_km, the decay 2^(-d / h) (numpy's exp2), the nearest parks
        ref_idx = np.empty(n, dtype=np.intp)
        ref_miss = np.empty(n, dtype=np.bool_)
        _nb_distances(ent.x[rows], ent.y[rows], ctx.park_x, ctx.park_y, -float(p.distance_half_km), ctx.land_price,
                      self.u_price, dist, dec, ref_idx, ref_miss, self.n_ref)
        np.exp2(dec, out=dec)
        viol = self._distance_violations(rows, dist) if self.distance_masks else np.zeros((1, 1), dtype=bool)
        # the weighted sums of the feasible parks and the top k (+ 1, to see the k-th strictly ahead)
        undecided = np.empty(n, dtype=np.bool_)
        cnt = np.empty(n, dtype=np.int64)
        _nb_rank(self.w_vector, 10.0 ** SCORE_DECIMALS, self.sec[rows], ref_idx, self.land_inv[rows],
                 self.emp_inv[rows], self.enc_inv[rows], self.feas_inv[rows], self.restricted[rows],
                 self.eliminated[rows], self.current[rows], self.sup_row[rows], self.sector_fit, self.supply, self.sup, dec,
                 self.transport, self.land_price, self.land_margin, self.labour, self.policy, self.ecology, self.bad,
                 self.restricted_bad, viol, self.distance_masks, top_idx[rows], top_score[rows], top_crit[rows], cnt,
                 undecided)
        undecided |= ref_miss | self.no_xy[rows]
        if undecided.any():
            redo.extend((r0 + np.flatnonzero(undecided)).tolist())
        n_feasible[rows] = cnt

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
    kept = np.flatnonzero(~np.isnan(top_score.ravel()))
    rows = kept // k if k else kept
    parks = top_idx.ravel()[kept]
    # the float columns (score, the criteria, the bonus) gathered into one (columns, rows) block, which
    # the frame holds as it is (no copy per column, no stacking)
    names = ["score", *CRITERIA] + (["bonus"] if top_bonus is not None else [])
    block = np.empty((len(names), len(kept)))
    np.take(top_score.ravel(), kept, out=block[0], mode="clip")
    by_criterion = np.moveaxis(top_crit, 2, 0).reshape(len(CRITERIA), -1)  # a view for score_batch's layout
    np.take(by_criterion, kept, axis=1, out=block[1:1 + len(CRITERIA)], mode="clip")
    if top_bonus is not None:
        np.take(top_bonus.ravel(), kept, out=block[-1], mode="clip")
    frame = pd.DataFrame(block.T, columns=names, copy=False)
    ids = _arrow_strings(ent.ids)
    frame.insert(0, "enterprise_id", _text(ent.ids, rows, ids))
    frame.insert(1, "rank", kept % k + 1 if k else kept)
    frame.insert(2, "park_id", _text(ctx.park_ids, parks))
    frame.insert(4 + len(CRITERIA), "county_code", _text(ctx.county_code, parks))
    has = n_feasible > 0
    summary = pd.DataFrame({
        "enterprise_id": _text(ent.ids, np.arange(n), ids),
        "land_ha": ent.land_ha,
        "n_feasible": n_feasible,
        "best_park_id": _text(ctx.park_ids, np.where(has, top_idx[:, 0], -1) if k else np.full(n, -1)),
        "best_score": np.where(has, top_score[:, 0] if k else np.nan, np.nan),
        "catalogue_level": _text(ent.level, np.arange(n)),
        "flag": _text(np.array(["closure_or_upgrade"], dtype=object), np.where(ent.level == "eliminate", 0, -1)),
    })
    return BatchResult(top=frame, summary=summary, weights=w, constraints=cons.to_dict())


_STR = pd.Series(np.array(["x"], dtype=object)).dtype  # the dtype pandas gives a column of str


def _arrow_strings(vocab):
    """``vocab`` as an Arrow ``large_string`` array when its values are all ``str`` or None, else None."""
    import pyarrow as pa

    try:
        arr = pa.array(np.asarray(vocab, dtype=object), from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return arr.cast(pa.large_string()) if pa.types.is_string(arr.type) else None


_NOT_GIVEN = object()


def _text(vocab, codes: np.ndarray, arrow=_NOT_GIVEN):
    """The column ``vocab[codes]`` (code -1: missing) as pandas would build it from the objects: built in
    Arrow (a take from ``vocab``) when its values are all ``str`` or None, else from the object array.
    ``arrow``: :func:`_arrow_strings` of ``vocab``, when the caller has it already."""
    import pyarrow as pa

    vocab = np.asarray(vocab, dtype=object)
    codes = np.asarray(codes, dtype=np.intp)
    objects = lambda: np.concatenate([vocab, np.array([None], dtype=object)])[codes]  # noqa: E731 - -1: None
    if not len(codes) or not len(vocab):
        return objects()
    arr = _arrow_strings(vocab) if arrow is _NOT_GIVEN else arrow
    if arr is None:
        return objects()
    taken = arr.take(pa.array(codes, mask=codes < 0))
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
