"""Hard constraints: a park either can take an enterprise or is excluded with named reasons.

Each constraint is a boolean ``(n_enterprises, n_parks)`` mask of violations; a park is feasible for
an enterprise when no mask is set. Reason codes (public contract, stable):

``free_land``            free land < land need x (1 + margin)
``pollution_class``      the enterprise's pollution class is above the park's maximum
``catalogue_eliminate``  the catalogue lists the enterprise's sector/product as *eliminate*: it is not
                         relocated at all (flagged for closure or upgrading)
``catalogue_restricted`` *restricted*: not into a less-developed or ecologically sensitive county
``protected_area``       the park lies inside, or within ``protected_buffer_m`` of, a protected area
``max_distance``         farther than ``max_distance_km`` from the current site (optional)
``not_less_developed``   the park's county is not less-developed (optional "only less-developed")
``current_park``         the park the enterprise is already in (``exclude_current_park``)
``urban_core_park``      the park itself lies in an urban core (``exclude_urban_core_parks``; urban-core scenario)
``outside_city_band``    neither in the enterprise's prefecture-level city nor within ``own_city_or_km``
``outside_county_band``  neither in the enterprise's county nor within ``own_county_or_km``
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

import numpy as np

from geodata.schema import POLLUTION_CLASSES, PROTECTED_KINDS, PROTECTED_LABELS_ZH

from .context import EnterpriseArrays, SuitabilityContext, SuitabilityError
from .criteria import broadcast_rows

__all__ = ["Constraints", "REASON_CODES", "REASON_LABELS_ZH", "violation_masks", "feasible", "reasons"]

REASON_CODES: tuple[str, ...] = (
    "free_land", "pollution_class", "catalogue_eliminate", "catalogue_restricted",
    "protected_area", "max_distance", "not_less_developed", "current_park",
    "urban_core_park", "outside_city_band", "outside_county_band",
)
REASON_LABELS_ZH: dict[str, str] = {
    "free_land": "可用土地不足",
    "pollution_class": "污染等级超过园区上限",
    "catalogue_eliminate": "属淘汰类，不予搬迁（关停或改造提升）",
    "catalogue_restricted": "属限制类，不得迁入欠发达或生态敏感县",
    "protected_area": "位于或邻近生态保护区",
    "max_distance": "超过最大搬迁距离",
    "not_less_developed": "不在欠发达县",
    "current_park": "企业现所在园区",
    "urban_core_park": "园区位于城市中心区内",
    "outside_city_band": "不在本市且超出就近搬迁距离",
    "outside_county_band": "不在本县且超出就近搬迁距离",
}


@dataclass(frozen=True)
class Constraints:
    """The hard constraints' settings (defaults documented in ``docs/suitability.md``)."""

    land_margin: float = 0.1
    protected_buffer_m: float = 200.0
    protected_kinds: tuple[str, ...] = PROTECTED_KINDS
    max_distance_km: float | None = None
    less_developed_only: bool = False
    exclude_current_park: bool = True
    exclude_urban_core_parks: bool = False
    own_city_or_km: float | None = None
    own_county_or_km: float | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.land_margin, (int, float)) and self.land_margin >= 0):
            raise SuitabilityError("constraint.land_margin", value=self.land_margin)
        if not (isinstance(self.protected_buffer_m, (int, float)) and self.protected_buffer_m >= 0):
            raise SuitabilityError("constraint.protected_buffer_m", value=self.protected_buffer_m)
        kinds = tuple(self.protected_kinds)
        bad = [k for k in kinds if k not in PROTECTED_KINDS]
        if bad:
            raise SuitabilityError("constraint.protected_kind", value=bad[0], accepted=", ".join(PROTECTED_KINDS))
        object.__setattr__(self, "protected_kinds", kinds)
        if self.max_distance_km is not None and not (isinstance(self.max_distance_km, (int, float)) and self.max_distance_km > 0):
            raise SuitabilityError("constraint.max_distance_km", value=self.max_distance_km)
        for name in ("own_city_or_km", "own_county_or_km"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0):
                raise SuitabilityError("constraint.band", name=name, value=v)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None, base: "Constraints | None" = None) -> "Constraints":
        """Constraints from a mapping (API body, CLI options); unknown keys are refused by name."""
        base = base or _default_constraints(cls)
        if not mapping:
            return base
        names = [f.name for f in fields(cls)]
        unknown = [k for k in mapping if k not in names]
        if unknown:
            raise SuitabilityError("constraint.unknown", name=unknown[0], accepted=", ".join(names))
        values = asdict(base)
        values.update(mapping)
        if values.get("protected_kinds") is not None:
            values["protected_kinds"] = tuple(values["protected_kinds"])
        return cls(**values)

    def with_(self, **changes) -> "Constraints":
        return self.from_mapping(changes, base=self)

    def to_dict(self) -> dict:
        """``dataclasses.asdict`` with ``protected_kinds`` as a list. The fields are numbers, booleans, ``None``
        and a tuple of strings, so reading them is what ``asdict``'s deep copy gives, in a tenth of its time
        (one ``POST /suitability`` writes this document)."""
        d = {name: getattr(self, name) for name in _CONSTRAINT_FIELDS}
        d["protected_kinds"] = list(self.protected_kinds)
        return d


_CONSTRAINT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Constraints))


#: the defaults, made once: ``Constraints`` is frozen, so every request without constraints can share them
_DEFAULTS = Constraints()


def _default_constraints(cls):
    return _DEFAULTS if cls is Constraints else cls()


def violation_masks(ctx: SuitabilityContext, ent: EnterpriseArrays, distance_km: np.ndarray,
                    constraints: Constraints) -> dict[str, np.ndarray]:
    """``{reason_code: (n, m) bool}``: where each constraint excludes a park for an enterprise."""
    n, m = len(ent), ctx.n_parks
    shape = (n, m)
    need = ent.land_ha * (1.0 + constraints.land_margin)
    masks = {
        "free_land": ctx.free_land[None, :] < need[:, None],
        "pollution_class": ent.pollution_rank[:, None] > ctx.max_pollution_rank[None, :],
        "catalogue_eliminate": broadcast_rows((ent.level == "eliminate")[:, None], shape),
        "catalogue_restricted": (ent.level == "restricted")[:, None]
        & ((ctx.less_developed > 0) | ctx.sensitive)[None, :],
    }
    if constraints.protected_kinds and m:
        near = np.minimum.reduce([ctx.protected_km[k] for k in constraints.protected_kinds])
        masks["protected_area"] = broadcast_rows((near * 1000.0 <= constraints.protected_buffer_m)[None, :], shape)
    else:
        masks["protected_area"] = np.zeros(shape, dtype=bool)
    masks["max_distance"] = (distance_km > constraints.max_distance_km if constraints.max_distance_km is not None
                             else np.zeros(shape, dtype=bool))
    masks["not_less_developed"] = broadcast_rows(
        (ctx.less_developed <= 0)[None, :] if constraints.less_developed_only else np.zeros((1, m), dtype=bool), shape)
    masks["current_park"] = ((ent.park_idx[:, None] == np.arange(m)[None, :]) if constraints.exclude_current_park
                             else np.zeros(shape, dtype=bool))
    core = ctx.park_in_urban_core if ctx.park_in_urban_core is not None else np.zeros(m, dtype=bool)
    masks["urban_core_park"] = broadcast_rows(core[None, :] & constraints.exclude_urban_core_parks, shape)
    masks["outside_city_band"] = _outside_band(ent.city, ctx.park_city, distance_km, constraints.own_city_or_km)
    masks["outside_county_band"] = _outside_band(ent.county_code, ctx.county_code, distance_km,
                                                 constraints.own_county_or_km)
    return masks


def _outside_band(ent_area, park_area, distance_km: np.ndarray, band_km: float | None) -> np.ndarray:
    """Neither in the same area (city or county) nor within ``band_km`` of the current site."""
    if band_km is None:
        return np.zeros(distance_km.shape, dtype=bool)
    park_area = np.full(distance_km.shape[1], None, dtype=object) if park_area is None else park_area
    ea = np.asarray([None if a is None else str(a) for a in ent_area], dtype=object)
    pa = np.asarray([None if a is None else str(a) for a in park_area], dtype=object)
    same = (ea[:, None] == pa[None, :]) & (ea[:, None] != None)  # noqa: E711 (elementwise)
    return ~same & (distance_km > band_km)


def feasible(masks: Mapping[str, np.ndarray]) -> np.ndarray:
    """True where no constraint is violated."""
    return ~np.logical_or.reduce([np.asarray(v) for v in masks.values()])


def reasons(ctx: SuitabilityContext, ent: EnterpriseArrays, i: int, j: int, masks: Mapping[str, np.ndarray],
            distance_km: np.ndarray, constraints: Constraints) -> list[dict[str, str]]:
    """The named reasons (``code``, ``message``, ``message_zh``) why park ``j`` is excluded for enterprise ``i``."""
    out = []
    for code in REASON_CODES:
        if not masks[code][i, j]:
            continue
        out.append({"code": code, "message": _message(code, ctx, ent, i, j, distance_km, constraints),
                    "message_zh": REASON_LABELS_ZH[code]})
    return out


def _message(code, ctx, ent, i, j, distance_km, c: Constraints) -> str:
    if code == "free_land":
        need = ent.land_ha[i] * (1 + c.land_margin)
        return (f"free land {ctx.free_land[j]:.2f} ha < need {need:.2f} ha "
                f"({ent.land_ha[i]:.2f} ha + {c.land_margin:.0%} margin)")
    if code == "pollution_class":
        return (f"pollution class {POLLUTION_CLASSES[ent.pollution_rank[i]]} exceeds the park's maximum "
                f"{POLLUTION_CLASSES[ctx.max_pollution_rank[j]]}")
    if code == "catalogue_eliminate":
        return "the catalogue lists this sector/product as 'eliminate': not relocated, flagged for closure or upgrading"
    if code == "catalogue_restricted":
        why = [w for w, f in (("less-developed", ctx.less_developed[j] > 0), ("ecologically sensitive", ctx.sensitive[j])) if f]
        return f"'restricted' in the catalogue: not into a {' and '.join(why)} county ({ctx.county_code[j]})"
    if code == "protected_area":
        kinds = [(k, ctx.protected_km[k][j]) for k in c.protected_kinds]
        k, d = min(kinds, key=lambda kv: kv[1])
        where = "inside" if d == 0 else f"{d * 1000:.0f} m from"
        return f"park is {where} a protected area ({k}, {PROTECTED_LABELS_ZH[k]}); buffer {c.protected_buffer_m:.0f} m"
    if code == "max_distance":
        return f"{distance_km[i, j]:.1f} km from the current site > maximum {c.max_distance_km:g} km"
    if code == "not_less_developed":
        return f"county {ctx.county_code[j]} is not less-developed (only less-developed counties requested)"
    if code == "current_park":
        return "the enterprise is already in this park"
    if code == "urban_core_park":
        return f"the park lies in the urban core of {ctx.park_city[j] if ctx.park_city is not None else 'its city'}"
    if code == "outside_city_band":
        return (f"park in {ctx.park_city[j]}, not the enterprise's city {ent.city[i]}, and "
                f"{distance_km[i, j]:.1f} km away > {c.own_city_or_km:g} km")
    if code == "outside_county_band":
        return (f"park in county {ctx.county_code[j]}, not the enterprise's county {ent.county_code[i]}, and "
                f"{distance_km[i, j]:.1f} km away > {c.own_county_or_km:g} km")
    raise KeyError(code)  # pragma: no cover
