"""The nine suitability criteria: ids, parameters and the transforms that normalise each to [0, 1].

Every criterion maps a raw value (km, yuan/m2, a share, a head count...) to a score in [0, 1] where
higher is always better. The transforms are three kinds (see ``docs/suitability.md``):

* **linear**: :math:`s = \\mathrm{clip}((x - a) / (b - a), 0, 1)` (land price, ecology);
* **distance decay** (half-distance :math:`h`): :math:`s = 2^{-d / h}` (distance, transport);
* **saturating**: :math:`s = 1 - e^{-x / x_0}` (supply chain, labour), and the log-ratio
  threshold :math:`s = \\mathrm{clip}(\\ln r / \\ln r_{sat}, 0, 1)` (land margin).

The functions here work on numpy arrays that broadcast enterprises (rows) against parks (columns),
so the same code scores one enterprise or a hundred thousand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = [
    "CRITERIA",
    "CRITERIA_LABELS_ZH",
    "CriteriaParams",
    "decay",
    "linear",
    "saturating",
    "log_ratio",
    "criterion_matrices",
    "land_price_reference",
    "relative_price_score",
    "supplier_scores",
    "supplier_lookup",
]

CRITERIA: tuple[str, ...] = (
    "sector_fit",
    "supply_chain",
    "distance",
    "transport",
    "land_price",
    "land_margin",
    "labour",
    "policy",
    "ecology",
)
CRITERIA_LABELS_ZH: dict[str, str] = {
    "sector_fit": "产业契合度",
    "supply_chain": "产业链配套",
    "distance": "距现址距离",
    "transport": "交通条件",
    "land_price": "地价",
    "land_margin": "用地余量",
    "labour": "劳动力供给",
    "policy": "政策支持",
    "ecology": "生态安全",
}
CRITERIA_LABELS_EN: dict[str, str] = {
    "sector_fit": "sector fit",
    "supply_chain": "supply-chain proximity",
    "distance": "distance from current site",
    "transport": "transport access",
    "land_price": "land price",
    "land_margin": "land margin",
    "labour": "labour availability",
    "policy": "policy support",
    "ecology": "ecology",
}


@dataclass(frozen=True)
class CriteriaParams:
    """Parameters of the criterion transforms (defaults documented in ``docs/suitability.md``)."""

    # sector_fit = lead_weight * [sector leads the park] + (1 - lead_weight) * min(1, share / share_cap)
    sector_lead_weight: float = 0.6
    sector_share_cap: float = 0.5
    # supply_chain: decay-weighted mass of linked-sector enterprises near the park
    supply_radius_km: float = 15.0
    supply_decay_km: float = 5.0
    chain_leader_factor: float = 5.0
    supply_saturation: float = 10.0
    # distance from the current site: half-distance decay
    distance_half_km: float = 30.0
    # transport: half distances and weights of expressway, rail, port
    expressway_half_km: float = 10.0
    rail_half_km: float = 25.0
    port_half_km: float = 60.0
    transport_weights: tuple[float, float, float] = (0.5, 0.25, 0.25)
    # land_price: relative to the median price of the enterprise's nearest parks, saturating
    land_price_ref_parks: int = 5
    land_price_ratio_saturation: float = 2.0
    # supply_chain of a supplier (suppliers layer): half-distance decay to its own chain leader(s)
    supplier_half_km: float = 15.0
    # land_margin: full score when free land is this multiple of the need
    land_ratio_saturation: float = 5.0
    # labour: pool of the park's county relative to labour_multiple * the enterprise's employees
    labour_multiple: float = 200.0
    # policy = ld_weight * [less-developed county] + (1 - ld_weight) * [encouraged sector]
    policy_less_developed_weight: float = 0.6
    # ecology: linear from 0 km (score 0) to ecology_full_km (score 1) from the nearest protected area
    ecology_full_km: float = 5.0

    def __post_init__(self) -> None:
        positive = ("sector_share_cap", "supply_radius_km", "supply_decay_km", "supply_saturation",
                    "distance_half_km", "expressway_half_km", "rail_half_km", "port_half_km",
                    "labour_multiple", "ecology_full_km", "supplier_half_km")
        for name in positive:
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and v > 0):
                raise ValueError(f"criteria parameter {name} must be > 0, got {v!r}")
        for name in ("sector_lead_weight", "policy_less_developed_weight"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"criteria parameter {name} must be in [0, 1], got {v!r}")
        if not (isinstance(self.land_price_ref_parks, (int, np.integer)) and self.land_price_ref_parks >= 1):
            raise ValueError(f"criteria parameter land_price_ref_parks must be an integer >= 1, got {self.land_price_ref_parks!r}")
        if self.land_price_ratio_saturation <= 1:
            raise ValueError("criteria parameter land_price_ratio_saturation must be > 1, "
                             f"got {self.land_price_ratio_saturation!r}")
        if self.land_ratio_saturation <= 1:
            raise ValueError(f"criteria parameter land_ratio_saturation must be > 1, got {self.land_ratio_saturation!r}")
        if self.chain_leader_factor < 0:
            raise ValueError(f"criteria parameter chain_leader_factor must be >= 0, got {self.chain_leader_factor!r}")
        tw = self.transport_weights
        if len(tw) != 3 or min(tw) < 0 or sum(tw) <= 0:
            raise ValueError(f"transport_weights must be three non-negative numbers with a positive sum, got {tw!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["transport_weights"] = list(self.transport_weights)
        return d


# --- transforms -------------------------------------------------------------------------------

def linear(x, lo: float, hi: float, *, decreasing: bool = False) -> np.ndarray:
    """:math:`\\mathrm{clip}((x - lo) / (hi - lo), 0, 1)`, or ``1 -`` that when ``decreasing``.

    A degenerate range (``hi == lo``) scores 1 everywhere (nothing to tell the options apart).
    """
    x = np.asarray(x, dtype=float)
    if hi == lo:
        return np.ones_like(x)
    s = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return 1.0 - s if decreasing else s


def broadcast_rows(a, shape: tuple[int, int]) -> np.ndarray:
    """``np.broadcast_to(a, shape)`` for a park vector ``a`` (``(m,)`` or ``(1, m)``): the same read-only view.

    With one enterprise (``shape[0] == 1``, every ``POST /suitability``) the view is ``a`` reshaped, made without
    ``broadcast_to``'s general machinery (a few microseconds a call, ten calls per scoring)."""
    a = np.asarray(a)
    if shape[0] == 1 and a.ndim in (1, 2) and a.shape[-1] == shape[1] and a.size == shape[1]:
        v = a.reshape(shape)
        v.flags.writeable = False
        return v
    return np.broadcast_to(a, shape)


def decay(d, half: float) -> np.ndarray:
    """Distance decay with half-distance ``half``: :math:`2^{-d/h}` (1 at 0, 0.5 at ``half``)."""
    return np.exp2(-np.asarray(d, dtype=float) / half)


def saturating(x, scale: float) -> np.ndarray:
    """:math:`1 - e^{-x / x_0}` for ``x >= 0`` (0 at 0, 0.63 at ``scale``, tends to 1)."""
    return -np.expm1(-np.maximum(np.asarray(x, dtype=float), 0.0) / scale)


def log_ratio(ratio, saturation: float) -> np.ndarray:
    """:math:`\\mathrm{clip}(\\ln r / \\ln r_{sat}, 0, 1)`: 0 when the ratio is <= 1, 1 from ``saturation``."""
    r = np.asarray(ratio, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.log(np.where(r > 0, r, 1.0)) / np.log(saturation)
    return np.clip(np.where(np.isposinf(r), 1.0, s), 0.0, 1.0)


def land_price_reference(distance_km: np.ndarray, price: np.ndarray, k: int) -> np.ndarray:
    """Median land price of each enterprise's ``k`` nearest parks (ties by park order), shape ``(n,)``.

    The price an enterprise would pay if it stayed local: the land-price criterion compares a park
    with this, not with the cheapest park of the province.
    """
    d = np.asarray(distance_km, dtype=float)
    if d.shape[1] == 0:
        return np.full(d.shape[0], np.nan)
    k = min(int(k), d.shape[1])
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    # np.median of each row, from one sort of the k prices: the middle one, or the mean of the middle two (their
    # sum halved, as np.mean of two gives it); a row with a NaN is NaN (sorted last). np.median's own overhead was
    # a tenth of one POST /suitability's scoring; tests/parks/suitability/test_criteria.py compares the two.
    v = np.sort(np.asarray(price, float)[nearest], axis=1)
    if k < 1:
        return np.full(d.shape[0], np.nan)
    h = k // 2
    mid = v[:, h] if k % 2 else (v[:, h - 1] + v[:, h]) / 2.0
    return np.where(np.isnan(v[:, -1]), np.nan, mid)


def relative_price_score(price, reference, saturation: float) -> np.ndarray:
    r""":math:`\mathrm{clip}(\tfrac12 + \tfrac12 \ln(p_{ref} / p) / \ln r_{sat}, 0, 1)`.

    0.5 at the local reference price, 1 from ``saturation`` times cheaper, 0 from ``saturation``
    times dearer: a park far cheaper than that is worth no more than one ``saturation`` times cheaper.
    """
    p = np.maximum(np.asarray(price, dtype=float), 1e-9)
    ref = np.maximum(np.asarray(reference, dtype=float), 1e-9)
    return np.clip(0.5 + 0.5 * np.log(ref / p) / np.log(saturation), 0.0, 1.0)


def supplier_scores(ctx, ids, park_x, park_y, half_km: float):
    """For the suppliers among ``ids`` (``ctx.supplier_links``): rows, the share-weighted mean distance
    (km) from each park to the supplier's own chain leader(s), and the share-weighted mean decay score.

    Returns ``(rows, value (r, m), score (r, m))``. Every (supplier, leader) pair of ``ids`` at once, the
    weighted terms summed per supplier (``np.add.reduceat``); a supplier without a leader scores 0. One pass instead of one per supplier: the batch calls this
    per block of rows, and 2,636 suppliers in 100,000 enterprises cost 29 ms of the batch's 290 ms one by one.
    """
    links = getattr(ctx, "supplier_links", None) or {}
    rows = [i for i, e in enumerate(ids) if e in links]
    m = len(park_x)
    value = np.zeros((len(rows), m))
    score = np.zeros((len(rows), m))
    parts = [links[ids[i]] for i in rows]
    counts = np.fromiter((len(part[0]) for part in parts), dtype=np.intp, count=len(parts))
    led = np.flatnonzero(counts > 0)
    if len(led):
        lx = np.concatenate([np.asarray(parts[r][0], dtype=float) for r in led])
        ly = np.concatenate([np.asarray(parts[r][1], dtype=float) for r in led])
        w = np.concatenate([np.asarray(parts[r][2], dtype=float) for r in led])[:, None]
        starts = np.concatenate(([0], np.cumsum(counts[led])[:-1]))
        d = np.hypot(park_x[None, :] - lx[:, None], park_y[None, :] - ly[:, None]) / 1000.0  # (pairs, m)
        value[led] = np.add.reduceat(w * d, starts, axis=0)
        score[led] = np.add.reduceat(w * decay(d, half_km), starts, axis=0)
    return np.asarray(rows, dtype=int), value, score


def supplier_lookup(ctx, ids):
    """:func:`supplier_scores` of ``ids``, read from the context's table of every supplier
    (:attr:`parks.suitability.context.SuitabilityContext.supplier_table`) when it has one: the same numbers
    for a supplier wherever it is scored (a batch's block, a chunk of the matrix path, one enterprise)."""
    table = getattr(ctx, "supplier_table", None) if getattr(ctx, "supplier_links", None) else None
    if table is None:
        return supplier_scores(ctx, ids, ctx.park_x, ctx.park_y, ctx.params.supplier_half_km)
    index, value, score = table
    rows = [i for i, e in enumerate(ids) if e in index]
    at = [index[ids[i]] for i in rows]
    return np.asarray(rows, dtype=int), value[at], score[at]


# --- matrices ---------------------------------------------------------------------------------

def criterion_matrices(ctx, ent, distance_km: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Raw values and scores of every criterion, each an ``(n_enterprises, n_parks)`` array.

    ``ctx`` is a :class:`parks.suitability.context.SuitabilityContext`, ``ent`` the
    :class:`parks.suitability.context.EnterpriseArrays` being scored and ``distance_km`` their
    distances to each park centroid (metric CRS). Returns ``{criterion: (value, score)}``.
    """
    p = ctx.params
    n, m = len(ent.sector_idx), ctx.n_parks
    shape = (n, m)
    sec = ent.sector_idx
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    share = ctx.sector_share[:, sec].T  # (n, m)
    lead = ctx.leading[:, sec].T
    out["sector_fit"] = (
        share,
        p.sector_lead_weight * lead + (1.0 - p.sector_lead_weight) * np.minimum(1.0, share / p.sector_share_cap),
    )

    supply = ctx.supply_raw[:, sec].T
    supply_score = saturating(supply, p.supply_saturation)
    rows, s_value, s_score = supplier_lookup(ctx, ent.ids)
    if len(rows):
        supply, supply_score = supply.copy(), supply_score.copy()
        supply[rows], supply_score[rows] = s_value, s_score
    out["supply_chain"] = (supply, supply_score)

    out["distance"] = (distance_km, decay(distance_km, p.distance_half_km))

    out["transport"] = (broadcast_rows(ctx.transport_value, shape), broadcast_rows(ctx.transport_score, shape))
    ref = land_price_reference(distance_km, ctx.land_price, p.land_price_ref_parks)
    out["land_price"] = (broadcast_rows(ctx.land_price, shape),
                         relative_price_score(ctx.land_price[None, :], ref[:, None], p.land_price_ratio_saturation))

    need = ent.land_ha[:, None]
    free = ctx.free_land[None, :]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(need > 0, free / np.where(need > 0, need, 1.0), np.inf)
    out["land_margin"] = (free - need, log_ratio(ratio, p.land_ratio_saturation))

    pool = ctx.labour_pool[None, :]
    demand = p.labour_multiple * np.maximum(ent.employees, 1.0)[:, None]
    out["labour"] = (broadcast_rows(pool, shape).astype(float), -np.expm1(-pool / demand))

    pol = (p.policy_less_developed_weight * ctx.less_developed[None, :]
           + (1.0 - p.policy_less_developed_weight) * ent.encouraged[:, None])
    out["policy"] = (pol, pol)

    out["ecology"] = (broadcast_rows(ctx.ecology_km, shape), broadcast_rows(ctx.ecology_score, shape))
    return out
