"""The plan's three relocation scenarios as enterprise selections (plus their constraints).

``urban-core`` (plan 四.五.1, 二.二.5)
    enterprises in the urban core (``in_urban_core``) that are old (``established < old_before``),
    land-intensive (land per employee at or above the ``land_quantile`` of their sector in the
    population), polluting (``pollution_class`` in ``polluting_classes``) or in per-mu class C/D.
    Destinations: never a park that lies in an urban core; in the enterprise's own prefecture-level
    city or within ``urban_core_band_km`` of its site; own-city parks first (``own_area_bonus``).
``scattered`` (plan 四.五.2, 二.二.5)
    township enterprises (``township_enterprise`` true) outside every park (no ``park_id``) and
    outside urban cores. Without a ``township_enterprise`` column: every enterprise outside parks and
    urban cores, with a :class:`ScenarioWarning`. Destinations: the own county or within
    ``scattered_band_km``; own-county township zones first, then own-county specialty parks, then the
    band (``own_area_bonus``, ``township_zone_bonus``).
``coastal-transfer`` (plan 四.八)
    labour-intensive enterprises in developed coastal counties (``coastal`` and not
    ``less_developed``); destinations only in less-developed counties
    (``Constraints.less_developed_only``); counties that already host the firm's sector or its chain
    first (``host_bonus``), and mountain-sea cooperation partners of the origin county
    (``pairing_bonus``, when the pairs are known), nearer receiving parks first (``nearness_bonus``,
    decaying with ``transfer_half_km``).

The bonuses are not part of the suitability score: they order each enterprise's candidate parks and
are added to the allocation's objective (:func:`scenario_preference`), so that the allocation honours
the rule and does not depend on luck. See ``docs/suitability.md`` for the magnitudes.

The enterprise columns ``in_urban_core``, ``park_id``, ``coastal`` and ``less_developed`` come from
:func:`parks.joins.prepare`. Per-mu classes come from :mod:`parks.metrics.per_mu` unless given.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geodata.messages import Coded

from .constraints import Constraints
from .context import SuitabilityError
from .messages import SUITABILITY

__all__ = ["SCENARIOS", "ScenarioParams", "ScenarioWarning", "select_scenario", "scenario_constraints",
           "scenario_preference", "per_mu_classes"]

SCENARIOS: tuple[str, ...] = ("urban-core", "scattered", "coastal-transfer")
SCENARIO_LABELS_ZH = {"urban-core": "城区企业退城入园", "scattered": "分散企业入园", "coastal-transfer": "沿海向欠发达地区转移"}


class ScenarioWarning(Coded, UserWarning):
    """A scenario fell back to a weaker rule because the data lack a column (the message says which).
    ``warning.text`` is the coded message (:class:`geodata.messages.Message`): ``in_lang("zh")`` for the
    command line and the web; ``str(warning)`` is the English."""

    def __init__(self, text):
        self.text = text
        super().__init__(str(text))


@dataclass(frozen=True)
class ScenarioParams:
    """Selection rules and destination rules of the scenarios (defaults in ``docs/suitability.md``)."""

    old_before: int = 1995
    land_quantile: float = 0.75
    polluting_classes: tuple[str, ...] = ("heavy",)
    per_mu_low_classes: tuple[str, ...] = ("C", "D")
    # destinations: own area (city / county) or within a band (km) of the current site
    urban_core_band_km: float | None = 30.0
    scattered_band_km: float | None = 20.0
    # allocation preferences (added to the objective, and the order of the candidate parks)
    own_area_bonus: float = 1.0  # own city (urban-core), own county (scattered)
    township_zone_bonus: float = 1.0  # scattered: own-county township zones before specialty parks
    host_bonus: float = 0.2  # coastal-transfer: destination county hosts the sector or its chain
    host_min_enterprises: int = 5  # ... at least this many enterprises of the sector there
    pairing_bonus: float = 0.2  # coastal-transfer: mountain-sea cooperation partner county
    # coastal-transfer: nearer receiving parks first, on the transfer's own scale (every receiving park
    # lies beyond the score's 30 km half-distance, where the distance criterion no longer tells them apart)
    nearness_bonus: float = 0.3
    transfer_half_km: float = 100.0
    key_bonus: float = 0.0  # key_enterprise / small_giant: priority for land (joint plan option)

    def __post_init__(self) -> None:
        for name in ("urban_core_band_km", "scattered_band_km"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and v >= 0):
                raise SuitabilityError("scenario.band", name=name, value=v)
        if not (isinstance(self.transfer_half_km, (int, float)) and np.isfinite(self.transfer_half_km)
                and self.transfer_half_km > 0):
            raise SuitabilityError("scenario.transfer_half_km", value=self.transfer_half_km)
        for name in ("own_area_bonus", "township_zone_bonus", "host_bonus", "pairing_bonus", "nearness_bonus", "key_bonus"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise SuitabilityError("scenario.bonus", name=name, value=v)


def _need(frame: pd.DataFrame, cols, scenario: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise SuitabilityError("scenario.columns_missing", scenario=scenario, columns=", ".join(missing))


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
        raise SuitabilityError("scenario.unknown", scenario=scenario, accepted=", ".join(SCENARIOS))
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
        if "township_enterprise" in e.columns:
            keep = keep & _flag(e, "township_enterprise")
            reasons = pd.Series("township_enterprise,outside_parks", index=e.index)
        else:
            warnings.warn(ScenarioWarning(SUITABILITY("scenario.no_township_column")), stacklevel=2)
            reasons = pd.Series("outside_parks", index=e.index)
    else:
        _need(e, ("labour_intensive", "coastal", "less_developed"), scenario)
        keep = _flag(e, "labour_intensive") & _flag(e, "coastal") & ~_flag(e, "less_developed")
        reasons = pd.Series("labour_intensive,developed_coastal", index=e.index)
    out = e[keep.to_numpy()].copy()
    out["scenario"] = scenario
    out["scenario_reasons"] = reasons[keep].astype(object).to_numpy() if len(out) else np.array([], dtype=object)
    return out


def scenario_constraints(scenario: str, base: Constraints | None = None,
                         params: ScenarioParams | None = None) -> Constraints:
    """The constraints a scenario implies.

    urban-core: no park in an urban core, own city or within ``urban_core_band_km``; scattered: own
    county or within ``scattered_band_km``; coastal-transfer: only less-developed counties. A band of
    None lifts the area rule.
    """
    base = base or Constraints()
    params = params or ScenarioParams()
    if scenario not in SCENARIOS:
        raise SuitabilityError("scenario.unknown", scenario=scenario, accepted=", ".join(SCENARIOS))
    if scenario == "urban-core":
        return base.with_(exclude_urban_core_parks=True, own_city_or_km=params.urban_core_band_km)
    if scenario == "scattered":
        return base.with_(own_county_or_km=params.scattered_band_km)
    return base.with_(less_developed_only=True)


def scenario_preference(scenario: str, ctx, ent, params: ScenarioParams | None = None) -> np.ndarray:
    """``(n, m)`` preference bonus of each park for each enterprise under a scenario's rule (>= 0).

    urban-core: ``own_area_bonus`` for parks of the enterprise's own city. scattered:
    ``own_area_bonus`` for parks of its own county, plus ``township_zone_bonus`` for its county's
    township zones. coastal-transfer: ``host_bonus`` when the park's county hosts at least
    ``host_min_enterprises`` of the firm's sector, a park leading it, or a chain leader of the sector
    or a linked one; ``pairing_bonus`` when the origin and destination counties are mountain-sea
    cooperation partners (``ctx.shanhai_pairs``); and ``nearness_bonus * 2 ** (-d / transfer_half_km)``
    for a park ``d`` km away (nearer receiving parks first: the firm keeps more of its customers,
    suppliers and managers' time). ``ent`` is an :class:`EnterpriseArrays`.
    """
    params = params or ScenarioParams()
    if scenario not in SCENARIOS:
        raise SuitabilityError("scenario.unknown", scenario=scenario, accepted=", ".join(SCENARIOS))
    n, m = len(ent), ctx.n_parks
    bonus = np.zeros((n, m))
    if scenario == "urban-core":
        same = _same(ent.city, ctx.park_city, m)
        bonus += params.own_area_bonus * same
    elif scenario == "scattered":
        same = _same(ent.county_code, ctx.county_code, m)
        tz = (np.asarray(ctx.park_kind, dtype=object) == "township_zone") if ctx.park_kind is not None else np.zeros(m, bool)
        bonus += params.own_area_bonus * same + params.township_zone_bonus * (same & tz[None, :])
    else:
        k = ctx.leading.shape[1]
        zeros = np.zeros(k)
        counts = np.array([ctx.county_sector.get(str(c), zeros) for c in ctx.county_code]).reshape(m, k)
        leaders = np.array([ctx.county_leaders.get(str(c), zeros) for c in ctx.county_code]).reshape(m, k)
        # a county leads a sector when one of its parks does
        county_lead = pd.DataFrame(ctx.leading).groupby(pd.Series(ctx.county_code).astype(str).to_numpy()).max()
        lead = county_lead.reindex(pd.Series(ctx.county_code).astype(str)).to_numpy()
        linked = (ctx.linkage > 0) | np.eye(k, dtype=bool)  # (sector, sector): own or linked
        host = (counts >= params.host_min_enterprises) | (lead > 0)  # (m, k)
        chain = (leaders @ linked.T.astype(float)) > 0  # (m, k): leader of the own or a linked sector
        hosted = (host | chain)[:, ent.sector_idx].T  # (n, m)
        bonus += params.host_bonus * hosted
        if ctx.shanhai_pairs:
            paired = np.array([[(str(o), str(d)) in ctx.shanhai_pairs for d in ctx.county_code]
                               for o in ent.county_code], dtype=bool).reshape(n, m)
            bonus += params.pairing_bonus * paired
        if params.nearness_bonus:
            bonus += params.nearness_bonus * np.exp2(-ctx.distances_km(ent) / params.transfer_half_km)
    return bonus


def _same(ent_area, park_area, m: int) -> np.ndarray:
    if park_area is None:
        return np.zeros((len(ent_area), m), dtype=bool)
    ea = np.asarray([None if a is None else str(a) for a in ent_area], dtype=object)
    pa = np.asarray([None if a is None else str(a) for a in park_area], dtype=object)
    return (ea[:, None] == pa[None, :]) & np.array([a is not None for a in ea])[:, None]
