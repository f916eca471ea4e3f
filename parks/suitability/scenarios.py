"""The plan's three relocation scenarios as enterprise selections (plus their constraints).

``urban-core``
    enterprises in the urban core (``in_urban_core``) that are old (``established < old_before``),
    land-intensive (land per employee at or above the ``land_quantile`` of their sector in the
    population), polluting (``pollution_class`` in ``polluting_classes``) or in per-mu class C/D.
``scattered``
    township enterprises outside every park: no ``park_id`` and not in an urban core.
``coastal-transfer``
    labour-intensive enterprises in developed coastal counties (``coastal`` and not
    ``less_developed``); destinations only in less-developed counties
    (``Constraints.less_developed_only``).

The enterprise columns ``in_urban_core``, ``park_id``, ``coastal`` and ``less_developed`` come from
:func:`parks.joins.prepare`. Per-mu classes come from :mod:`parks.metrics.per_mu` unless given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .constraints import Constraints
from .context import SuitabilityError

__all__ = ["SCENARIOS", "ScenarioParams", "select_scenario", "scenario_constraints", "per_mu_classes"]

SCENARIOS: tuple[str, ...] = ("urban-core", "scattered", "coastal-transfer")
SCENARIO_LABELS_ZH = {"urban-core": "城区企业退城入园", "scattered": "分散企业入园", "coastal-transfer": "沿海向欠发达地区转移"}


@dataclass(frozen=True)
class ScenarioParams:
    old_before: int = 1995
    land_quantile: float = 0.75
    polluting_classes: tuple[str, ...] = ("heavy",)
    per_mu_low_classes: tuple[str, ...] = ("C", "D")


def _need(frame: pd.DataFrame, cols, scenario: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise SuitabilityError(
            f"scenario {scenario!r} needs enterprise column(s) {', '.join(missing)}; derive them with parks.joins.prepare(ds)")


def _flag(frame: pd.DataFrame, col: str) -> pd.Series:
    return frame[col].fillna(False).astype(bool)


def per_mu_classes(enterprises: pd.DataFrame) -> pd.Series:
    """Per-mu class (A-D) of each enterprise from :func:`parks.metrics.per_mu.per_mu_evaluation`
    (by county), index-aligned with ``enterprises``; enterprises without land get NaN."""
    from parks.metrics.per_mu import per_mu_evaluation

    group = "county_code" if "county_code" in enterprises.columns else None
    ev = per_mu_evaluation(enterprises, group=group)
    return ev["class"].reindex(enterprises.index)


def select_scenario(
    scenario: str,
    enterprises: pd.DataFrame,
    *,
    per_mu: pd.Series | None = None,
    params: ScenarioParams | None = None,
) -> pd.DataFrame:
    """The enterprises a scenario moves, with a ``scenario_reasons`` column (why each was selected).

    ``per_mu``: per-mu class per enterprise (index-aligned, or indexed by ``enterprise_id``); if
    None for ``urban-core``, computed with :mod:`parks.metrics.per_mu` when the needed columns exist.
    """
    params = params or ScenarioParams()
    if scenario not in SCENARIOS:
        raise SuitabilityError(f"unknown scenario {scenario!r}; accepted: {', '.join(SCENARIOS)}")
    e = enterprises
    if scenario == "urban-core":
        _need(e, ("in_urban_core", "land_ha", "employees", "sector", "pollution_class"), scenario)
        parts = {}
        if "established" in e.columns:
            parts["old"] = pd.to_numeric(e["established"], errors="coerce") < params.old_before
        per_emp = pd.to_numeric(e["land_ha"], errors="coerce") / pd.to_numeric(e["employees"], errors="coerce").clip(lower=1)
        cut = per_emp.groupby(e["sector"]).transform(lambda s: s.quantile(params.land_quantile))
        parts["land_intensive"] = per_emp >= cut
        parts["polluting"] = e["pollution_class"].isin(params.polluting_classes)
        if per_mu is None:
            try:
                per_mu = per_mu_classes(e)
            except (ImportError, ValueError, KeyError):
                per_mu = None
        if per_mu is not None:
            if not per_mu.index.equals(e.index) and "enterprise_id" in e.columns:
                per_mu = per_mu.reindex(e["enterprise_id"].to_numpy())
                per_mu.index = e.index
            parts["per_mu_low"] = per_mu.reindex(e.index).isin(params.per_mu_low_classes)
        flags = pd.DataFrame({k: v.fillna(False).astype(bool) for k, v in parts.items()}, index=e.index)
        keep = _flag(e, "in_urban_core") & flags.any(axis=1)
        reasons = flags.apply(lambda r: ",".join(k for k, v in r.items() if v), axis=1) if len(flags) else pd.Series(dtype=object)
    elif scenario == "scattered":
        _need(e, ("park_id", "in_urban_core"), scenario)
        keep = e["park_id"].isna() & ~_flag(e, "in_urban_core")
        reasons = pd.Series("outside_parks", index=e.index)
    else:
        _need(e, ("labour_intensive", "coastal", "less_developed"), scenario)
        keep = _flag(e, "labour_intensive") & _flag(e, "coastal") & ~_flag(e, "less_developed")
        reasons = pd.Series("labour_intensive,developed_coastal", index=e.index)
    out = e[keep.to_numpy()].copy()
    out["scenario"] = scenario
    out["scenario_reasons"] = reasons[keep].astype(object).to_numpy() if len(out) else np.array([], dtype=object)
    return out


def scenario_constraints(scenario: str, base: Constraints | None = None) -> Constraints:
    """The constraints a scenario implies: coastal-transfer only into less-developed counties."""
    base = base or Constraints()
    if scenario not in SCENARIOS:
        raise SuitabilityError(f"unknown scenario {scenario!r}; accepted: {', '.join(SCENARIOS)}")
    if scenario == "coastal-transfer":
        return base.with_(less_developed_only=True)
    return base
