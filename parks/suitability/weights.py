"""Criterion weights: documented defaults, a mapping from a file or request, or AHP judgements.

AHP (Saaty 1980): for a reciprocal pairwise comparison matrix :math:`A` (``a_ij`` = how much more
important criterion *i* is than *j* on the 1-9 scale, ``a_ji = 1 / a_ij``) the weights are the
principal right eigenvector :math:`w` (:math:`A w = \\lambda_{max} w`, normalised to sum 1); the
consistency index is :math:`CI = (\\lambda_{max} - n) / (n - 1)` and the consistency ratio
:math:`CR = CI / RI_n` with Saaty's random index :math:`RI_n`. Judgements with ``CR >= 0.1`` are
refused. Group AHP aggregates several offices' matrices by the element-wise geometric mean
(aggregation of individual judgements, Forman & Peniwati 1998), which stays reciprocal.

Reference: T. L. Saaty, "How to make a decision: the analytic hierarchy process", European Journal
of Operational Research 48 (1990) 9-26 (the house example, table 2, is this module's test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from geodata.messages import Message

from .context import SuitabilityError
from .criteria import CRITERIA
from .messages import SUITABILITY

__all__ = [
    "DEFAULT_WEIGHTS",
    "RANDOM_INDEX",
    "InconsistentJudgementsError",
    "AHPResult",
    "GroupAHPResult",
    "normalise_weights",
    "weights_from_mapping",
    "ahp",
    "ahp_weights",
    "ahp_from_mapping",
    "group_ahp",
]

# Distance weighs most (issue 12): with the land price relative to the enterprise's local parks and
# saturating at half price, a cheap park gains at most 0.10 / 2 = 0.05 over a locally priced one,
# which buys at most about 4.6 km of extra distance for a park next door (0.30 * (1 - 2^(-d/30))
# = 0.05) and 11 km for one at 20 km; see docs/suitability.md.
DEFAULT_WEIGHTS: dict[str, float] = {
    "sector_fit": 0.15,
    "supply_chain": 0.10,
    "distance": 0.30,
    "transport": 0.10,
    "land_price": 0.10,
    "land_margin": 0.05,
    "labour": 0.10,
    "policy": 0.05,
    "ecology": 0.05,
}

# Saaty's random consistency index for n = 1..15 (Saaty 1980; 1990 table 1 up to 10).
RANDOM_INDEX: dict[int, float] = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41,
                                  9: 1.45, 10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}
CR_LIMIT = 0.1


class InconsistentJudgementsError(SuitabilityError):
    """AHP judgements whose consistency ratio is 0.1 or more."""


def normalise_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """All nine criteria, missing ones 0, scaled to sum 1. ``None`` gives :data:`DEFAULT_WEIGHTS`.

    Raises :class:`SuitabilityError` for an unknown criterion id, a negative or non-numeric weight,
    or weights that are all zero.
    """
    if weights is None:
        return dict(DEFAULT_WEIGHTS)
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights must be a mapping of criterion id to number, got {type(weights).__name__}")
    out = {c: 0.0 for c in CRITERIA}
    for key, value in weights.items():
        if key not in out:
            raise SuitabilityError("weights.unknown_criterion", value=key, accepted=", ".join(CRITERIA))
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
            raise SuitabilityError("weights.not_finite", criterion=key, value=value)
        if value < 0:
            raise SuitabilityError("weights.negative", criterion=key, value=value)
        out[key] = float(value)
    largest = max(out.values())
    if largest <= 0:
        raise SuitabilityError("weights.all_zero")
    out = {k: v / largest for k, v in out.items()}  # scale first: a sum of huge weights must not overflow
    total = sum(out.values())
    return {k: v / total for k, v in out.items()}


def weights_from_mapping(document: Mapping[str, Any]) -> dict[str, float]:
    """Weights from a parsed TOML/JSON document: either ``{criterion: weight}`` or ``{"weights": {...}}``."""
    if isinstance(document, Mapping) and "weights" in document and isinstance(document["weights"], Mapping):
        document = document["weights"]
    return normalise_weights(document)


@dataclass(frozen=True)
class AHPResult:
    """Weights from one pairwise comparison matrix and its consistency."""

    criteria: tuple[str, ...]
    weights: dict[str, float]
    lambda_max: float
    ci: float
    cr: float
    ri: float
    matrix: np.ndarray = field(repr=False)
    worst_pair: tuple[str, str] | None = None  # the judgement farthest from w_i / w_j

    @property
    def consistent(self) -> bool:
        return self.cr < CR_LIMIT

    def to_dict(self) -> dict:
        return {"criteria": list(self.criteria), "weights": self.weights, "lambda_max": self.lambda_max,
                "ci": self.ci, "cr": self.cr, "ri": self.ri, "consistent": self.consistent,
                "worst_pair": list(self.worst_pair) if self.worst_pair else None,
                "matrix": self.matrix.tolist()}


@dataclass(frozen=True)
class GroupAHPResult:
    """Group AHP: the geometric-mean matrix's result plus each office's own consistency."""

    combined: AHPResult
    offices: dict[str, AHPResult]

    @property
    def weights(self) -> dict[str, float]:
        return self.combined.weights

    def to_dict(self) -> dict:
        return {"combined": self.combined.to_dict(),
                "offices": {k: {"cr": v.cr, "consistent": v.consistent, "weights": v.weights,
                                "worst_pair": list(v.worst_pair) if v.worst_pair else None}
                            for k, v in self.offices.items()}}


def _check_matrix(matrix, criteria: Sequence[str] | None) -> tuple[np.ndarray, tuple[str, ...]]:
    a = np.asarray(matrix, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 1:
        raise SuitabilityError("ahp.not_square", shape=a.shape)
    n = a.shape[0]
    crit = tuple(criteria) if criteria is not None else (CRITERIA[:n] if n == len(CRITERIA) else tuple(f"c{i + 1}" for i in range(n)))
    if len(crit) != n:
        raise SuitabilityError("ahp.criteria_count", n=n, named=len(crit))
    if len(set(crit)) != n:
        raise SuitabilityError("ahp.criteria_repeat", criteria=", ".join(crit))
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        i, j = np.argwhere(~(np.isfinite(a) & (a > 0)))[0]
        raise SuitabilityError("ahp.judgement_value", a=crit[i], b=crit[j], value=a[i, j])
    bad = np.argwhere(~np.isclose(a * a.T, 1.0, rtol=1e-3))
    if len(bad):
        i, j = bad[0]
        raise SuitabilityError("ahp.not_reciprocal", a=crit[i], b=crit[j], ab=a[i, j], ba=a[j, i], expected=1 / a[i, j])
    return a, crit


def ahp(matrix, criteria: Sequence[str] | None = None) -> AHPResult:
    """Principal-eigenvector weights and consistency ratio of a pairwise comparison matrix (no refusal).

    Examples
    --------
    >>> r = ahp([[1, 3], [1 / 3, 1]], criteria=["distance", "land_price"])
    >>> round(r.weights["distance"], 3), r.cr
    (0.75, 0.0)
    """
    a, crit = _check_matrix(matrix, criteria)
    n = len(crit)
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    lam = float(vals[k].real)
    w = np.abs(vecs[:, k].real)
    w = w / w.sum()
    ci = max((lam - n) / (n - 1), 0.0) if n > 2 else 0.0
    ri = RANDOM_INDEX.get(n, RANDOM_INDEX[15])
    cr = ci / ri if ri > 0 else 0.0
    worst = None
    if n > 2:
        dev = np.abs(np.log(a * w[None, :] / w[:, None]))
        i, j = np.unravel_index(int(np.argmax(np.triu(dev, 1))), dev.shape)
        worst = (crit[i], crit[j])
    return AHPResult(criteria=crit, weights={c: float(x) for c, x in zip(crit, w)}, lambda_max=lam, ci=float(ci),
                     cr=float(cr), ri=float(ri), matrix=a, worst_pair=worst)


def _refuse(result: AHPResult, who: Message | str = "") -> None:
    """``who``: whose judgements (a message of :data:`SUITABILITY`), "" for one set."""
    if not result.consistent:
        pair = (SUITABILITY("ahp.worst_pair", a=result.worst_pair[0], b=result.worst_pair[1])
                if result.worst_pair else "")
        raise InconsistentJudgementsError("ahp.inconsistent", who=who, cr=result.cr, limit=CR_LIMIT,
                                          lambda_max=result.lambda_max, ci=result.ci, ri=result.ri, pair=pair)


def _expand(result: AHPResult) -> dict[str, float]:
    unknown = [c for c in result.criteria if c not in CRITERIA]
    if unknown:
        raise SuitabilityError("ahp.unknown_criterion", value=unknown[0], accepted=", ".join(CRITERIA))
    return normalise_weights(result.weights)


def ahp_weights(matrix, criteria: Sequence[str] | None = None) -> tuple[dict[str, float], AHPResult]:
    """Suitability weights (all nine criteria, missing ones 0) from AHP; refuses CR >= 0.1."""
    result = ahp(matrix, criteria)
    _refuse(result)
    return _expand(result), result


def _matrix_from_document(doc: Mapping[str, Any]) -> tuple[np.ndarray, tuple[str, ...]]:
    """``{"criteria": [...], "matrix": [[...]]}`` or ``{"criteria": [...], "judgements": {"a/b": 3, ...}}``."""
    if not isinstance(doc, Mapping) or "criteria" not in doc:
        raise SuitabilityError("ahp.document_keys")
    crit = tuple(str(c) for c in doc["criteria"])
    if "matrix" in doc:
        return np.asarray(doc["matrix"], dtype=float), crit
    if "judgements" not in doc:
        raise SuitabilityError("ahp.document_matrix")
    pos = {c: i for i, c in enumerate(crit)}
    a = np.ones((len(crit), len(crit)))
    for key, value in doc["judgements"].items():
        parts = str(key).split("/")
        if len(parts) != 2 or parts[0] not in pos or parts[1] not in pos:
            raise SuitabilityError("ahp.judgement_key", key=key, criteria=", ".join(crit))
        i, j = pos[parts[0]], pos[parts[1]]
        a[i, j], a[j, i] = float(value), 1.0 / float(value)
    return a, crit


def ahp_from_mapping(document: Mapping[str, Any]) -> tuple[dict[str, float], AHPResult | GroupAHPResult]:
    """Weights from a parsed AHP file: one matrix, or ``{"offices": {name: {...}, ...}}`` for group AHP."""
    if isinstance(document, Mapping) and "offices" in document:
        offices = document["offices"]
        if not isinstance(offices, Mapping) or not offices:
            raise SuitabilityError("ahp.offices_mapping")
        mats = {}
        crit0 = None
        for name, doc in offices.items():
            a, crit = _matrix_from_document(doc)
            if crit0 is not None and crit != crit0:
                raise SuitabilityError("ahp.office_criteria", office=name, criteria=", ".join(crit), expected=", ".join(crit0))
            crit0 = crit
            mats[str(name)] = a
        group = group_ahp(mats, crit0)
        return _expand(group.combined), group
    a, crit = _matrix_from_document(document)
    return ahp_weights(a, crit)


def group_ahp(matrices: Mapping[str, Any], criteria: Sequence[str] | None = None, *, strict: bool = False) -> GroupAHPResult:
    """Combine several offices' matrices by element-wise geometric mean and derive one set of weights.

    Each office's own CR is reported. The combined matrix must have CR < 0.1; with ``strict`` every
    office must too.
    """
    if not matrices:
        raise SuitabilityError("ahp.group_empty")
    results = {name: ahp(m, criteria) for name, m in matrices.items()}
    shapes = {r.matrix.shape for r in results.values()}
    if len(shapes) != 1:
        raise SuitabilityError("ahp.group_sizes", sizes=sorted(shapes))
    if strict:
        for name, r in results.items():
            _refuse(r, SUITABILITY("ahp.who_office", office=name))
    logs = np.stack([np.log(r.matrix) for r in results.values()])
    combined = ahp(np.exp(logs.mean(axis=0)), next(iter(results.values())).criteria)
    bad = [f"{k} (CR {v.cr:.3f})" for k, v in results.items() if not v.consistent]
    _refuse(combined, SUITABILITY("ahp.who_combined") if not bad
            else SUITABILITY("ahp.who_combined_inconsistent", offices=", ".join(bad)))
    return GroupAHPResult(combined=combined, offices=results)
