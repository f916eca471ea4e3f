"""Per-mu efficiency evaluation (亩均效益综合评价) of enterprises, as Zhejiang practises it under the
"亩均论英雄" reform, and the resulting A/B/C/D classes.

Indicators of each enterprise (1 mu = 1/15 ha):

==========================  ===========================================  =============
indicator                   definition                                   unit
==========================  ===========================================  =============
``tax_per_mu``              tax / (land_ha x 15)             (亩均税收)   yuan per mu
``va_per_mu``               value_added / (land_ha x 15)     (亩均增加值) yuan per mu
``va_per_tce``              value_added / energy_tce     (单位能耗增加值) yuan per tce
``rd_intensity``            rd_spend / revenue           (研发经费占比)   ratio
``labour_productivity``     value_added / employees      (全员劳动生产率) yuan per person
==========================  ===========================================  =============

Score (the county rules' usual construction): each indicator is divided by its benchmark, the mean
over the evaluation group (by default the enterprise's county, as counties evaluate their own
enterprises), capped at ``cap`` times the benchmark, weighted, and scaled so an enterprise at every
benchmark scores 100:

.. math::  S_k = 100 \\sum_m w_m \\min(v_{km} / \\bar v_m,\\ cap), \\qquad \\sum_m w_m = 1

Classes: by default by rank within the group -- the top 20 % A (优先发展), the next 50 % B
(提升发展), the next 20 % C (整治提升), the bottom 10 % D (淘汰/腾退, the first relocation and
upgrading candidates); or by absolute score cut-offs.

Source and status of the defaults. The indicator set is the one named in the provincial guidance
浙政发〔2018〕5号《关于深化"亩均论英雄"改革的指导意见》 (tax per mu, value added per mu, labour
productivity, value added per unit of energy and of emissions, R&D spending share); the weights,
benchmark rule, cap and class proportions are set by each county's implementation rules and differ
between counties. The defaults here (tax 0.40, value added 0.20, energy 0.20 -- energy and
emissions merged because the data model has no emissions column --, R&D 0.10, labour 0.10; cap 2;
A/B/C/D = 20/50/20/10 %) follow the common pattern of those rules (tax per mu weighted highest) and
are meant to be replaced by the county's own table: pass ``weights``, ``cap`` and ``classes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._common import MU_PER_HA, MetricsError, require_columns

__all__ = [
    "INDICATORS",
    "DEFAULT_WEIGHTS",
    "ClassRule",
    "DEFAULT_CLASSES",
    "per_mu_indicators",
    "per_mu_evaluation",
    "class_distribution",
]

# indicator -> (numerator column, denominator column or "mu")
INDICATORS: dict[str, tuple[str, str]] = {
    "tax_per_mu": ("tax", "mu"),
    "va_per_mu": ("value_added", "mu"),
    "va_per_tce": ("value_added", "energy_tce"),
    "rd_intensity": ("rd_spend", "revenue"),
    "labour_productivity": ("value_added", "employees"),
}
DEFAULT_WEIGHTS: dict[str, float] = {
    "tax_per_mu": 0.40,
    "va_per_mu": 0.20,
    "va_per_tce": 0.20,
    "rd_intensity": 0.10,
    "labour_productivity": 0.10,
}
CLASS_NAMES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class ClassRule:
    """How scores become classes.

    ``kind='share'``: ``cuts`` are the shares of the group in A, B, C (D gets the rest), by rank.
    ``kind='score'``: ``cuts`` are the minimum scores of A, B, C (below C's is D).
    """

    kind: str = "share"
    cuts: tuple[float, float, float] = (0.20, 0.50, 0.20)

    def __post_init__(self):
        if self.kind not in ("share", "score"):
            raise MetricsError("per_mu.rule_kind", value=self.kind)
        if len(self.cuts) != 3:
            raise MetricsError("per_mu.rule_cuts", value=self.cuts)
        if self.kind == "share" and (min(self.cuts) < 0 or sum(self.cuts) > 1):
            raise MetricsError("per_mu.shares", value=self.cuts)
        if self.kind == "score" and not (self.cuts[0] >= self.cuts[1] >= self.cuts[2]):
            raise MetricsError("per_mu.score_cuts", value=self.cuts)


DEFAULT_CLASSES = ClassRule()


def per_mu_indicators(enterprises: pd.DataFrame) -> pd.DataFrame:
    """The five indicators per enterprise (index aligned), plus ``mu``. Enterprises without land get
    NaN per-mu values; a zero denominator with a positive numerator gives +inf (capped in scoring)."""
    require_columns(enterprises, ["land_ha", "tax", "value_added", "energy_tce", "rd_spend", "revenue", "employees"])
    num = lambda c: pd.to_numeric(enterprises[c], errors="coerce").astype(float)  # noqa: E731
    mu = num("land_ha") * MU_PER_HA
    out = pd.DataFrame({"mu": mu}, index=enterprises.index)
    for name, (a, b) in INDICATORS.items():
        den = mu if b == "mu" else num(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[name] = num(a) / den
    out.loc[~(mu > 0), ["tax_per_mu", "va_per_mu"]] = np.nan
    return out


def _check_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    w = dict(DEFAULT_WEIGHTS if weights is None else weights)
    unknown = [k for k in w if k not in INDICATORS]
    if unknown:
        raise MetricsError("per_mu.unknown_indicator", names=", ".join(map(repr, unknown)), accepted=", ".join(INDICATORS))
    if any(v < 0 for v in w.values()) or not sum(w.values()) > 0:
        raise MetricsError("per_mu.weights", weights=w)
    total = sum(w.values())
    return {k: v / total for k, v in w.items()}


def _classify(score: pd.Series, rule: ClassRule) -> pd.Series:
    if rule.kind == "score":
        a, b, c = rule.cuts
        cls = np.select([score >= a, score >= b, score >= c], ["A", "B", "C"], "D")
        return pd.Series(cls, index=score.index)
    # rank share: top share A, then B, C, rest D (ties share the better class)
    frac = (score.rank(ascending=False, method="min") - 1) / len(score)
    a, b, c = np.cumsum(rule.cuts)
    cls = np.select([frac < a, frac < b, frac < c], ["A", "B", "C"], "D")
    return pd.Series(cls, index=score.index)


def per_mu_evaluation(enterprises: pd.DataFrame, *, weights: Mapping[str, float] | None = None, cap: float = 2.0,
                      classes: ClassRule = DEFAULT_CLASSES, group: str | None = "county_code") -> pd.DataFrame:
    """Score and class of every enterprise with land (``land_ha > 0``).

    Parameters
    ----------
    weights : indicator -> weight (renormalised to sum 1); default :data:`DEFAULT_WEIGHTS`.
    cap : an indicator counts at most ``cap`` times its benchmark (so one extreme value cannot
        carry the score).
    classes : :class:`ClassRule`.
    group : column whose groups are evaluated separately (benchmarks and class shares per county),
        or None for one provincial evaluation.

    Returns
    -------
    DataFrame with ``enterprise_id`` (if present), the indicators, ``score`` and ``class``, for the
    evaluated enterprises only.

    Examples
    --------
    >>> e = pd.DataFrame({"enterprise_id": [1, 2], "land_ha": [1.0, 1.0], "tax": [3e5, 1e5], "value_added": [2e6, 2e6],
    ...                   "energy_tce": [100, 100], "rd_spend": [0, 0], "revenue": [1e7, 1e7], "employees": [20, 20]})
    >>> r = per_mu_evaluation(e, group=None, weights={"tax_per_mu": 1}, classes=ClassRule("share", (0.5, 0.5, 0)))
    >>> r["score"].round(1).tolist(), r["class"].tolist()      # benchmark = mean tax per mu
    ([150.0, 50.0], ['A', 'B'])
    """
    w = _check_weights(weights)
    if not cap > 0:
        raise MetricsError("per_mu.cap", value=cap)
    ind = per_mu_indicators(enterprises)
    keep = ind["mu"] > 0
    ind = ind[keep]
    if group is not None:
        require_columns(enterprises, [group])
        groups = enterprises.loc[keep, group].astype(object).fillna("unknown")
    else:
        groups = pd.Series("all", index=ind.index)
    score = pd.Series(0.0, index=ind.index)
    for name, weight in w.items():
        v = ind[name].replace(np.inf, np.nan)
        bench = v.groupby(groups).transform("mean")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (ind[name] / bench).clip(lower=0, upper=cap)
        ratio = ratio.where(~(ind[name] == np.inf), cap).fillna(0.0)
        score += 100.0 * weight * ratio
    cls = pd.concat([_classify(s, classes) for _, s in score.groupby(groups)]) if len(score) else pd.Series(dtype=object)
    out = ind.copy()
    if "enterprise_id" in enterprises:
        out.insert(0, "enterprise_id", enterprises.loc[ind.index, "enterprise_id"])
    out["score"] = score
    out["class"] = cls.reindex(out.index)
    return out


def class_distribution(evaluation: pd.DataFrame, enterprises: pd.DataFrame, *, by: str = "park_id") -> pd.DataFrame:
    """Count and share of A/B/C/D enterprises per ``by`` group (``park_id`` or ``county_code``)."""
    require_columns(enterprises, [by])
    g = enterprises.loc[evaluation.index, by]
    tab = pd.crosstab(g, evaluation["class"]).reindex(columns=list(CLASS_NAMES), fill_value=0)
    tab.columns = [f"n_{c}" for c in CLASS_NAMES]
    n = tab.sum(axis=1)
    for c in CLASS_NAMES:
        tab[f"share_{c}"] = tab[f"n_{c}"] / n
    tab.insert(0, "evaluated", n)
    tab.index.name = by
    return tab.reset_index()
