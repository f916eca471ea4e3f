"""Score one enterprise against every park: ranked feasible parks and excluded parks with reasons.

.. math::

    S_{ep} = \\sum_c w_c \\, s_{c}(e, p), \\qquad \\sum_c w_c = 1, \\quad s_c \\in [0, 1]

over the nine criteria of :mod:`parks.suitability.criteria`, for every park *p* that passes every
hard constraint of :mod:`parks.suitability.constraints`. Parks are ranked by score (descending,
compared at 1e-9 so that float noise never decides), ties broken by ``park_id`` (ascending).
Every park is in exactly one of ``ranked`` and ``excluded``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from geodata.crs import cached_transformer
from geodata.jsonable import jsonable

from .constraints import REASON_CODES, REASON_LABELS_ZH, Constraints, _message, feasible, reasons, violation_masks
from .context import (EnterpriseArrays, EnterpriseProfile, SuitabilityContext, SuitabilityError, context_index,
                      population_arrays, profile_arrays)
from .criteria import CRITERIA, criterion_matrices
from .messages import SUITABILITY
from .weights import normalise_weights

__all__ = [
    "MODEL_VERSION",
    "CriterionScore",
    "RankedPark",
    "ExcludedPark",
    "SuitabilityResult",
    "score_enterprise",
    "resolve_enterprise",
    "score_arrays",
    "rank_order",
]

MODEL_VERSION = "1"
SCORE_DECIMALS = 9  # scores are compared (ranked) at this precision; ties then go by park_id


@dataclass(frozen=True)
class CriterionScore:
    value: float  # raw value (km, yuan/m2, share, ...)
    score: float  # normalised to [0, 1], higher better
    weight: float
    contribution: float  # weight * score

    def to_dict(self) -> dict:
        return {"value": _num(self.value), "score": _num(self.score), "weight": _num(self.weight),
                "contribution": _num(self.contribution)}


@dataclass(frozen=True)
class RankedPark:
    park_id: str
    rank: int
    score: float
    criteria: dict[str, CriterionScore]
    name: str | None = None
    county_code: str | None = None

    def to_dict(self) -> dict:
        return {"park_id": self.park_id, "rank": self.rank, "score": _num(self.score), "name": self.name,
                "county_code": self.county_code,
                "criteria": {c: v.to_dict() for c, v in self.criteria.items()}}


@dataclass(frozen=True)
class ExcludedPark:
    park_id: str
    reasons: list[dict[str, str]]
    name: str | None = None
    county_code: str | None = None

    def to_dict(self) -> dict:
        return {"park_id": self.park_id, "name": self.name, "county_code": self.county_code,
                "reasons": [dict(r) for r in self.reasons]}


@dataclass(frozen=True)
class SuitabilityResult:
    """Ranked and excluded parks for one enterprise, with the inputs that produced them."""

    enterprise: dict[str, Any]
    weights: dict[str, float]
    constraints: dict[str, Any]
    ranked: list[RankedPark]
    excluded: list[ExcludedPark]
    ranked_total: int
    flag: str | None = None  # "closure_or_upgrade" when the catalogue says eliminate
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> RankedPark | None:
        return self.ranked[0] if self.ranked else None

    def to_dict(self) -> dict:
        """JSON-serialisable (plain str/float/int/bool/None/list/dict): the same for the CLI and the API."""
        return {
            "model_version": MODEL_VERSION,
            "enterprise": {k: jsonable(v) for k, v in self.enterprise.items()},
            "weights": {k: _num(v) for k, v in self.weights.items()},
            "constraints": {k: jsonable(v) for k, v in self.constraints.items()},
            "flag": self.flag,
            "ranked_total": self.ranked_total,
            "ranked": [r.to_dict() for r in self.ranked],
            "excluded": [e.to_dict() for e in self.excluded],
            "params": {k: jsonable(v) for k, v in self.params.items()},
        }


def _num(x) -> float | None:
    return jsonable(float(x))


def weight_vector(weights: Mapping[str, float]) -> np.ndarray:
    return np.array([weights[c] for c in CRITERIA], dtype=float)


def score_arrays(ctx: SuitabilityContext, ent: EnterpriseArrays, weights: Mapping[str, float],
                 constraints: Constraints, *, with_values: bool = True):
    """The matrix core shared by single and batch scoring.

    Returns ``(distance_km, masks, feasible, criteria, scores)``: ``criteria`` maps each criterion
    to ``(value, score)`` arrays ``(n, m)``; ``scores = sum_c w_c * score_c`` (NaN where infeasible).
    """
    dist = ctx.distances_km(ent)
    masks = violation_masks(ctx, ent, dist, constraints)
    ok = feasible(masks)
    crit = criterion_matrices(ctx, ent, dist)
    total = np.zeros(dist.shape)
    for c in CRITERIA:
        if weights[c]:
            total = total + weights[c] * crit[c][1]
    total = np.where(ok, total, np.nan)
    return dist, masks, ok, crit, total


def rank_order(scores: np.ndarray) -> np.ndarray:
    """Indices of the non-NaN entries of a 1-d score vector, best first, ties by index (= park_id order)."""
    idx = np.flatnonzero(~np.isnan(scores))
    key = -np.round(scores[idx], SCORE_DECIMALS)
    return idx[np.argsort(key, kind="stable")]


def resolve_enterprise(ctx: SuitabilityContext, enterprise, *, _row=None) -> tuple[EnterpriseArrays, dict[str, Any]]:
    """Arrays and a description of an enterprise given by id, :class:`EnterpriseProfile` or mapping.

    An id is looked up in the context's per-column arrays by a dict of positions built once per context
    (``_row``: another row lookup, for the tests' reference path)."""
    if isinstance(enterprise, Mapping):
        from dataclasses import fields

        names = [f.name for f in fields(EnterpriseProfile)]
        unknown = [k for k in enterprise if k not in names]
        missing = [n for n in ("sector", "land_ha", "employees", "pollution_class", "lon", "lat") if n not in enterprise]
        if unknown or missing:
            what = (SUITABILITY("profile.unknown_field", name=unknown[0]) if unknown
                    else SUITABILITY("profile.missing_fields", names=", ".join(missing)))
            raise SuitabilityError("profile.fields", what=what, accepted=", ".join(names))
        enterprise = EnterpriseProfile(**enterprise)
    if isinstance(enterprise, EnterpriseProfile):
        ent = profile_arrays(ctx, enterprise)
        info = enterprise.to_dict()
        info["source"] = "profile"
    elif isinstance(enterprise, (str, int, np.integer)):
        ent, r = population_arrays(ctx, str(enterprise), _row=_row)
        lon, lat = r.get("lon"), r.get("lat")
        if lon is None or lat is None:  # a context built without them
            lon, lat = cached_transformer(ctx.metric_crs, 4326).transform(r["x"], r["y"])
        info = {"enterprise_id": r["enterprise_id"], "name": r.get("name"), "sector": r["sector"],
                "land_ha": float(r["land_ha"]), "employees": int(r["employees"]),
                "pollution_class": r["pollution_class"], "lon": float(lon), "lat": float(lat),
                "county_code": r.get("county_code"), "park_id": r.get("park_id"), "source": "dataset"}
    else:
        raise TypeError(f"enterprise must be an id (str), an EnterpriseProfile or a mapping, got {type(enterprise).__name__}")
    info["catalogue_level"] = ent.level[0]
    return ent, info


def score_enterprise(
    ctx: SuitabilityContext,
    enterprise: str | EnterpriseProfile | Mapping[str, Any],
    weights: Mapping[str, float] | None = None,
    constraints: Constraints | Mapping[str, Any] | None = None,
    *,
    top: int | None = None,
) -> SuitabilityResult:
    """Rank the parks for one enterprise.

    Parameters
    ----------
    ctx : SuitabilityContext
        From :func:`parks.suitability.build_context` / :func:`context_from_dataset`.
    enterprise : str, EnterpriseProfile or mapping
        An ``enterprise_id`` of the dataset, or a profile (sector, land_ha, employees,
        pollution_class, lon, lat) for an enterprise not in the dataset.
    weights : mapping, optional
        Criterion id -> weight; missing ones 0, normalised to sum 1. Default
        :data:`parks.suitability.weights.DEFAULT_WEIGHTS`.
    constraints : Constraints or mapping, optional
    top : int, optional
        Keep only the first ``top`` ranked parks (``ranked_total`` still counts all feasible ones;
        ``excluded`` is always complete).

    Examples
    --------
    >>> from geodata.builtin import build_builtin_dataset
    >>> from parks.joins import prepare
    >>> from parks.suitability import context_from_dataset
    >>> ds = prepare(build_builtin_dataset(enterprises=300, projects=20, seed=1))
    >>> ctx = context_from_dataset(ds)
    >>> res = score_enterprise(ctx, "E0000001", top=5)
    >>> doc = res.to_dict()
    >>> [r["rank"] for r in doc["ranked"]]
    [1, 2, 3, 4, 5]
    >>> scores = [r["score"] for r in doc["ranked"]]
    >>> scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    True
    """
    if top is not None and (not isinstance(top, (int, np.integer)) or top < 1):
        raise SuitabilityError("param.top", top=top)
    w = normalise_weights(weights)
    if not isinstance(constraints, Constraints):
        constraints = Constraints.from_mapping(constraints)
    ent, info = resolve_enterprise(ctx, enterprise)
    dist, masks, ok, crit, scores = score_arrays(ctx, ent, w, constraints)
    order = rank_order(scores[0])
    park_ids, names, counties, params = context_index(ctx).assembly(_park_parts)
    sel = order[: top if top else len(order)]
    # each criterion's values and scores of the ranked parks as Python floats (what float(crit[c][k][0, j]) gives
    # park by park), from one (2 x criteria, parks) table: one gather and one tolist instead of one per criterion
    table = np.array([crit[c][k][0] for c in CRITERIA for k in (0, 1)], dtype=float)[:, sel].tolist()
    values = {c: (table[2 * i], table[2 * i + 1]) for i, c in enumerate(CRITERIA)}
    totals = np.asarray(scores[0, sel], dtype=float).tolist()
    ranked = []
    for k, j in enumerate(sel.tolist()):
        cs = {}
        for c in CRITERIA:
            value, score = values[c][0][k], values[c][1][k]
            cs[c] = CriterionScore(value, score, w[c], w[c] * score)
        ranked.append(RankedPark(park_ids[j], k + 1, totals[k], cs, names[j], counties[j]))
    excluded = [ExcludedPark(park_ids[j], why, names[j], counties[j])
                for j, why in _excluded_reasons(ctx, ent, masks, ok, dist, constraints).items()]
    flag = "closure_or_upgrade" if ent.level[0] == "eliminate" else None
    return SuitabilityResult(enterprise=info, weights=w, constraints=constraints.to_dict(), ranked=ranked,
                             excluded=excluded, ranked_total=int(len(order)), flag=flag,
                             params={k: _fresh(v) for k, v in params.items()})


def _excluded_reasons(ctx, ent, masks, ok, dist, constraints) -> dict[int, list[dict[str, str]]]:
    """``{park position: reasons}`` of the excluded parks of enterprise 0, in park order: what
    :func:`parks.suitability.constraints.reasons` gives park by park (each park's reasons in ``REASON_CODES``'
    order, the same messages), found criterion by criterion over the excluded parks' masks instead of one numpy
    scalar per park and code."""
    idx = np.flatnonzero(~ok[0])
    out: dict[int, list[dict[str, str]]] = {j: [] for j in idx.tolist()}
    if not len(idx):
        return out
    # one (excluded park, code) table: its nonzero entries come park by park, each park's in REASON_CODES' order
    table = np.array([masks[code][0] for code in REASON_CODES], dtype=bool)[:, idx].T
    rows, codes = np.nonzero(table)
    parks = idx[rows].tolist()
    kept = context_index(ctx).messages
    for j, c in zip(parks, codes.tolist()):
        code = REASON_CODES[c]
        key = _message_key(code, j, ent, constraints)
        message = None if key is None else kept.get(key)
        if message is None:
            message = _message(code, ctx, ent, 0, j, dist, constraints)
            if key is not None and len(kept) < _MESSAGES_KEPT:
                kept[key] = message
        out[j].append({"code": code, "message": message, "message_zh": REASON_LABELS_ZH[code]})
    return out


#: exclusion messages kept per context (:func:`_message_key`): the parks' own reasons under the constraints in use
_MESSAGES_KEPT = 20_000


def _message_key(code: str, j: int, ent, constraints: Constraints) -> tuple | None:
    """What :func:`parks.suitability.constraints._message` of ``code`` for park ``j`` and enterprise 0 reads besides
    the context, when that is not the enterprise's own numbers (its land need, its distances): then the message
    is kept per context under this key. ``None``: formatted per request."""
    if code in ("catalogue_eliminate", "catalogue_restricted", "not_less_developed", "current_park",
                "urban_core_park"):
        return (code, j)
    if code == "pollution_class":
        return (code, j, int(ent.pollution_rank[0]))
    if code == "protected_area":
        return (code, j, constraints.protected_kinds, float(constraints.protected_buffer_m))
    return None


def _park_parts(ctx: SuitabilityContext) -> tuple[list[str], list, list[str], dict[str, Any]]:
    """What every result of ``ctx`` repeats, built once per context (:func:`context_index`): the parks' ids,
    names (through ``jsonable``) and county codes as Python lists in park order, and ``params.to_dict()``."""
    names = ctx.parks["name"].tolist() if "name" in ctx.parks.columns else [None] * ctx.n_parks
    return ([str(p) for p in ctx.park_ids], [jsonable(n) for n in names], [str(c) for c in ctx.county_code],
            ctx.params.to_dict())


def _fresh(value):
    """A copy of a ``params`` value that a caller may change without changing the next result's."""
    if isinstance(value, list):  # transport_weights: a list of floats
        return [_fresh(v) for v in value]
    if isinstance(value, (dict, set)):
        return copy.deepcopy(value)
    return value


def _score_enterprise_plain(
    ctx: SuitabilityContext,
    enterprise: str | EnterpriseProfile | Mapping[str, Any],
    weights: Mapping[str, float] | None = None,
    constraints: Constraints | Mapping[str, Any] | None = None,
    *,
    top: int | None = None,
) -> SuitabilityResult:
    """:func:`score_enterprise` as it was written first: the enterprise's row through pandas, the result
    assembled park by park from numpy scalars, the names and ``params`` document rebuilt per call. The reference
    the tests compare :func:`score_enterprise` with (``tests/parks/suitability/test_fast_assembly.py``)."""
    from .context import _population_row_plain

    if top is not None and (not isinstance(top, (int, np.integer)) or top < 1):
        raise SuitabilityError("param.top", top=top)
    w = normalise_weights(weights)
    if not isinstance(constraints, Constraints):
        constraints = Constraints.from_mapping(constraints)
    ent, info = resolve_enterprise(ctx, enterprise, _row=_population_row_plain)
    dist, masks, ok, crit, scores = score_arrays(ctx, ent, w, constraints)
    order = rank_order(scores[0])
    names = ctx.parks["name"].tolist() if "name" in ctx.parks.columns else [None] * ctx.n_parks
    ranked = []
    for rank, j in enumerate(order[: top if top else len(order)], start=1):
        cs = {c: CriterionScore(float(crit[c][0][0, j]), float(crit[c][1][0, j]), w[c], w[c] * float(crit[c][1][0, j]))
              for c in CRITERIA}
        ranked.append(RankedPark(str(ctx.park_ids[j]), rank, float(scores[0, j]), cs,
                                 jsonable(names[j]), str(ctx.county_code[j])))
    excluded = [ExcludedPark(str(ctx.park_ids[j]), reasons(ctx, ent, 0, j, masks, dist, constraints),
                             jsonable(names[j]), str(ctx.county_code[j]))
                for j in np.flatnonzero(~ok[0]).tolist()]
    flag = "closure_or_upgrade" if ent.level[0] == "eliminate" else None
    return SuitabilityResult(enterprise=info, weights=w, constraints=constraints.to_dict(), ranked=ranked,
                             excluded=excluded, ranked_total=int(len(order)), flag=flag,
                             params=ctx.params.to_dict())
