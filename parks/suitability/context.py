"""Everything about the parks that the suitability model needs, computed once and shared.

A :class:`SuitabilityContext` holds the parks (sorted by ``park_id``, which is the deterministic
tie-break order) as numpy arrays in the metric CRS, the park-level criterion inputs (transport, land
price, ecology, labour pool, sector shares, supply-chain mass) and the enterprise population used to
derive them. Scoring one enterprise or a hundred thousand reads these arrays; nothing is recomputed.
"""

from __future__ import annotations

import functools
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from geodata.crs import NotAPointError, cached_transformer, points_xy
from geodata.crs import metric_crs as _metric_crs
from geodata.dataset import Dataset
from geodata.jsonable import jsonable
from geodata.messages import CodedError
from geodata.schema import CATALOGUE_LEVELS, POLLUTION_CLASSES, PROTECTED_KINDS, SECTOR_IDS

from ..joins import PreparedDataset
from .criteria import CriteriaParams, decay, linear
from .messages import SUITABILITY

__all__ = [
    "SuitabilityError",
    "UnknownEnterpriseError",
    "SuitabilityContext",
    "EnterpriseArrays",
    "EnterpriseProfile",
    "build_context",
    "context_from_dataset",
    "linkage_matrix",
    "enterprise_arrays",
    "profile_arrays",
    "catalogue_level",
    "lookup_enterprise",
    "population_arrays",
]

PARK_COLUMNS = ("park_id", "county_code", "leading_sectors", "free_land_ha", "land_price",
                "max_pollution_class", "rail_km", "port_km", "expressway_km")
ENTERPRISE_COLUMNS = ("enterprise_id", "sector", "employees", "land_ha", "pollution_class")
_SEVERITY = {"encouraged": 0, "restricted": 1, "eliminate": 2}


class SuitabilityError(CodedError):
    """Input to the suitability model is missing a column, has an unknown value, or is inconsistent.

    Raised with a code of :data:`parks.suitability.messages.SUITABILITY` and its values; ``str(exc)`` is
    the English text, ``geodata.messages.message(exc, "zh")`` the Chinese."""

    def __init__(self, code: str, /, **params: Any):
        super().__init__(SUITABILITY(code, **params))


class UnknownEnterpriseError(SuitabilityError, LookupError):
    """An enterprise id is not in the dataset."""


@dataclass(frozen=True)
class EnterpriseProfile:
    """An enterprise to place, by attributes (one that may not be in the dataset yet).

    ``lon``/``lat`` are WGS 84 degrees of the current site. ``catalogue_level`` overrides the level
    looked up in the industrial catalogue by ``sector`` (and ``product`` when given).
    """

    sector: str
    land_ha: float
    employees: int
    pollution_class: str
    lon: float
    lat: float
    enterprise_id: str | None = None
    name: str | None = None
    county_code: str | None = None
    product: str | None = None
    size: str | None = None  # "above" / "below" designated size (catalogue rules may depend on it)
    catalogue_level: str | None = None

    def __post_init__(self) -> None:
        if self.sector not in SECTOR_IDS:
            raise SuitabilityError("profile.sector", value=self.sector, accepted=", ".join(SECTOR_IDS))
        if self.pollution_class not in POLLUTION_CLASSES:
            raise SuitabilityError("profile.pollution_class", value=self.pollution_class,
                                   accepted=", ".join(POLLUTION_CLASSES))
        for name in ("land_ha", "employees"):
            v = getattr(self, name)
            if not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v) or v < 0:
                raise SuitabilityError("profile.number", name=name, value=v)
        if not (-180 <= float(self.lon) <= 180 and -90 <= float(self.lat) <= 90):
            raise SuitabilityError("profile.lonlat", lon=self.lon, lat=self.lat)
        if self.size is not None and self.size not in ("above", "below"):
            raise SuitabilityError("profile.size", value=self.size)
        if self.catalogue_level is not None and self.catalogue_level not in CATALOGUE_LEVELS:
            raise SuitabilityError("profile.catalogue_level", value=self.catalogue_level,
                                   accepted=", ".join(CATALOGUE_LEVELS))

    def to_dict(self) -> dict:
        return {k: jsonable(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True, eq=False)
class EnterpriseArrays:
    """Enterprises as aligned arrays, ready for matrix scoring."""

    ids: np.ndarray  # object
    x: np.ndarray  # metric CRS, metres
    y: np.ndarray
    sector_idx: np.ndarray  # int, index into SECTOR_IDS
    land_ha: np.ndarray
    employees: np.ndarray
    pollution_rank: np.ndarray  # int
    level: np.ndarray  # object: None / encouraged / restricted / eliminate
    encouraged: np.ndarray  # float 0/1
    park_idx: np.ndarray  # int: index of the current park in the context, -1 if none
    county_code: np.ndarray  # object
    city: np.ndarray  # object: prefecture-level city (from the enterprise, else from its county)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, idx) -> "EnterpriseArrays":
        return EnterpriseArrays(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})


@dataclass(frozen=True, eq=False)
class SuitabilityContext:
    """Park-level inputs of the suitability model; see the module docstring."""

    params: CriteriaParams
    metric_crs: pyproj.CRS
    parks: pd.DataFrame  # attribute table, sorted by park_id, RangeIndex = park index
    park_ids: np.ndarray
    park_x: np.ndarray
    park_y: np.ndarray
    free_land: np.ndarray
    land_price: np.ndarray
    land_price_score: np.ndarray
    max_pollution_rank: np.ndarray
    county_code: np.ndarray
    less_developed: np.ndarray  # float 0/1
    sensitive: np.ndarray  # bool: park's county is ecologically sensitive
    labour_pool: np.ndarray
    leading: np.ndarray  # (m, 11) float 0/1
    sector_share: np.ndarray  # (m, 11)
    supply_raw: np.ndarray  # (m, 11)
    transport_value: np.ndarray
    transport_score: np.ndarray
    ecology_km: np.ndarray
    ecology_score: np.ndarray
    protected_km: dict[str, np.ndarray]  # kind -> (m,) km from the park polygon (inf when none)
    enterprises: pd.DataFrame  # population, indexed by enterprise_id, with metric x, y
    catalogue_rules: tuple[tuple[str, str | None, str | None, str], ...]
    linkage: np.ndarray  # (11, 11) symmetric
    metadata: dict[str, Any] = field(default_factory=dict)
    park_kind: np.ndarray | None = None  # object: township_zone / specialty_park
    park_city: np.ndarray | None = None  # object: the park county's prefecture-level city
    park_in_urban_core: np.ndarray | None = None  # bool: park centroid inside an urban development boundary
    county_city: dict[str, str | None] = field(default_factory=dict)  # county code -> city (None: unknown)
    county_sector: dict[str, np.ndarray] = field(default_factory=dict)  # county -> (11,) enterprise counts
    county_leaders: dict[str, np.ndarray] = field(default_factory=dict)  # county -> (11,) chain leaders
    supplier_links: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    # supplier enterprise_id -> (leader x, leader y, weights summing to 1), metric CRS
    shanhai_pairs: frozenset = frozenset()  # {(developed county code, less-developed county code)}

    @property
    def n_parks(self) -> int:
        return len(self.park_ids)

    @functools.cached_property
    def supplier_table(self) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """The supply-chain criterion of every supplier of :attr:`supplier_links` at every park
        (:func:`parks.suitability.criteria.supplier_scores`: km to its own chain leaders and their decay): its id ->
        row, the values and the scores, ``(suppliers, parks)`` each. They follow from the links, the parks and the
        params alone, so they are computed once per context (on first use: a context is not changed after it is
        built; :func:`dataclasses.replace` makes a new one, without this table), not per batch of rows."""
        from .criteria import supplier_scores

        ids = np.array(list(self.supplier_links), dtype=object)
        rows, value, score = supplier_scores(self, ids, self.park_x, self.park_y, self.params.supplier_half_km)
        return {ids[r]: i for i, r in enumerate(rows)}, value, score

    def park_index(self, park_id: str) -> int:
        hit = np.flatnonzero(self.park_ids == park_id)
        if not len(hit):
            raise SuitabilityError("park.unknown", park_id=park_id)
        return int(hit[0])

    def distances_km(self, ent: EnterpriseArrays) -> np.ndarray:
        """Euclidean distance (km, metric CRS) from each enterprise to each park centroid, (n, m)."""
        return np.hypot(ent.x[:, None] - self.park_x[None, :], ent.y[:, None] - self.park_y[None, :]) / 1000.0


# --- helpers ----------------------------------------------------------------------------------


class ContextIndex:
    """Lookups derived from a :class:`SuitabilityContext`, built once per context and kept beside it
    (:func:`context_index`): scoring one enterprise by id reads them instead of rebuilding them per request.

    A context is immutable once built (a frozen dataclass whose arrays and tables nothing writes to; a dataset
    version gets a new context, and ``dataclasses.replace`` makes a new object with its own index), so what is
    derived from it stays valid as long as it lives. The index is held in a weak mapping keyed by the context
    object, not as an attribute, so it is never pickled with the context (a Dask broadcast ships the context
    alone) and goes when the context goes.
    """

    def __init__(self, ctx: SuitabilityContext):
        self._ctx = weakref.ref(ctx)
        self.park_pos: dict[Any, int] = {pid: i for i, pid in enumerate(ctx.park_ids)}
        self.levels: dict[tuple, str | None] = {}  # _arrays' catalogue levels, by (key, its types)
        self._lock = threading.Lock()
        self._positions: dict[Any, int] | None = None
        self._positions_done = False
        self._values: list | None = None
        self.enterprise_columns: list = list(ctx.enterprises.columns)
        self._assembly: Any = None
        self.messages: dict[tuple, str] = {}  # exclusion messages that depend on the park, not the enterprise

    def _context(self) -> SuitabilityContext:
        ctx = self._ctx()
        if ctx is None:  # pragma: no cover - the index is reached through its live context
            raise RuntimeError("the suitability context of this index is gone")
        return ctx

    def enterprise_positions(self) -> dict[Any, int] | None:
        """``{enterprise_id: row position}`` of the population (``None`` when an id or a column name repeats)."""
        if not self._positions_done:
            with self._lock:
                if not self._positions_done:
                    index = self._context().enterprises.index
                    unique = index.is_unique and self._context().enterprises.columns.is_unique
                    self._positions = {k: i for i, k in enumerate(index.tolist())} if unique else None
                    self._positions_done = True
        return self._positions

    def enterprise_values(self) -> list:
        """One array per column of the population (``enterprise_columns``' order), holding the values a row
        lookup gives (``Series.to_numpy``; extension columns as objects, as pandas boxes them in a row)."""
        if self._values is None:
            with self._lock:
                if self._values is None:
                    frame = self._context().enterprises
                    self._values = [_row_values(frame[c]) for c in self.enterprise_columns]
        return self._values

    def assembly(self, build):
        """``build(ctx)`` once per context (the result document's per-park parts, :mod:`.model`)."""
        if self._assembly is None:
            with self._lock:
                if self._assembly is None:
                    self._assembly = build(self._context())
        return self._assembly


def _row_values(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, np.dtype):
        return series.to_numpy()
    return np.asarray(series.astype(object).to_numpy(), dtype=object)


_INDEXES: "weakref.WeakKeyDictionary[SuitabilityContext, ContextIndex]" = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def context_index(ctx: SuitabilityContext) -> ContextIndex:
    """The :class:`ContextIndex` of ``ctx``, built on first use (concurrent first callers build it once)."""
    index = _INDEXES.get(ctx)
    if index is None:
        with _INDEXES_LOCK:
            index = _INDEXES.get(ctx)
            if index is None:
                index = _INDEXES[ctx] = ContextIndex(ctx)
    return index


def _require(frame: pd.DataFrame, columns, layer: str, hint: str | None = None) -> None:
    """``hint``: a code of :data:`SUITABILITY` that says how to get the missing columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SuitabilityError("layer.columns_missing", layer=layer, columns=", ".join(missing),
                               hint=SUITABILITY(hint) if hint else "")


def _to_metric(frame, crs: pyproj.CRS, layer: str):
    if frame.crs is None:
        raise SuitabilityError("layer.no_crs", layer=layer)
    return frame.to_crs(crs)


def _leading_list(value) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    return [str(s).strip() for s in value]


def _check_choices(series: pd.Series, choices, layer: str, column: str) -> None:
    bad = ~series.isin(choices)
    if bad.any():
        i = series.index[bad][0]
        raise SuitabilityError("layer.bad_choice", layer=layer, column=column, value=series[i], row=i,
                               accepted=", ".join(choices))


def linkage_matrix(linkages: pd.DataFrame) -> np.ndarray:
    """Symmetric 11 x 11 matrix ``L[s, t] = max(w(s->t), w(t->s))`` from an upstream/downstream table.

    Suppliers and customers both count as supply-chain partners; the diagonal is 0 (same-sector
    agglomeration is the ``sector_fit`` criterion's business).
    """
    _require(linkages, ("upstream", "downstream", "weight"), "sector_linkages")
    k = len(SECTOR_IDS)
    mat = np.zeros((k, k))
    pos = {s: i for i, s in enumerate(SECTOR_IDS)}
    for up, down, w in zip(linkages["upstream"], linkages["downstream"], linkages["weight"]):
        if up not in pos or down not in pos:
            raise SuitabilityError("linkage.unknown_sector", up=up, down=down, accepted=", ".join(SECTOR_IDS))
        i, j = pos[up], pos[down]
        if i != j:
            mat[i, j] = max(mat[i, j], float(w))
    return np.maximum(mat, mat.T)


def _catalogue_rules(catalogue: pd.DataFrame | None) -> tuple[tuple[str, str | None, str | None, str], ...]:
    """``(sector, product or None, size or None, level)`` rules from the catalogue table."""
    if catalogue is None or not len(catalogue):
        return ()
    _require(catalogue, ("sector", "level"), "catalogue")

    def opt(name):
        if name not in catalogue.columns:
            return [None] * len(catalogue)
        return [None if pd.isna(v) or str(v).strip() == "" else str(v).strip() for v in catalogue[name]]

    rules = []
    for sector, product, size, level in zip(catalogue["sector"], opt("product"), opt("size"), catalogue["level"]):
        if level not in _SEVERITY:
            raise SuitabilityError("catalogue.level", value=level, accepted=", ".join(CATALOGUE_LEVELS))
        rules.append((str(sector), product, size, str(level)))
    return tuple(rules)


def _sensitive_counties(counties, protected_metric, crs, share: float) -> dict[str, bool]:
    if counties is None or not len(counties):
        return {}
    if "ecologically_sensitive" in counties.columns:
        return {str(c): bool(v) for c, v in zip(counties["code"], counties["ecologically_sensitive"])}
    if protected_metric is None or not len(protected_metric) or "geometry" not in counties.columns:
        return {str(c): False for c in counties["code"]}
    cm = _to_metric(counties, crs, "counties")
    union = shapely.union_all(protected_metric.geometry.values)
    area = cm.geometry.area.to_numpy()
    covered = shapely.area(shapely.intersection(cm.geometry.values, union))
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(area > 0, covered / area, 0.0)
    return {str(c): bool(f >= share) for c, f in zip(cm["code"], frac)}


def _supply_raw(park_xy, ent_xy, ent_sector, ent_leader, linkage, p: CriteriaParams) -> np.ndarray:
    """Decay-weighted mass of linked enterprises (and chain leaders) within the radius of each park."""
    m, k = len(park_xy), len(SECTOR_IDS)
    mass = np.zeros((m, k))
    leaders = np.zeros((m, k))
    if len(ent_xy) and m:
        tree = cKDTree(ent_xy)
        hits = tree.query_ball_point(park_xy, r=p.supply_radius_km * 1000.0)
        for i, idx in enumerate(hits):
            if not idx:
                continue
            idx = np.asarray(idx)
            d = np.hypot(*(ent_xy[idx] - park_xy[i]).T) / 1000.0
            w = np.exp(-d / p.supply_decay_km)
            np.add.at(mass[i], ent_sector[idx], w)
            np.add.at(leaders[i], ent_sector[idx], w * ent_leader[idx])
    eye = np.eye(k)
    return mass @ linkage.T + p.chain_leader_factor * leaders @ (linkage + eye).T


def _protected_km(park_geoms, protected_metric) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    m = len(park_geoms)
    for kind in PROTECTED_KINDS:
        dist = np.full(m, np.inf)
        if protected_metric is not None and len(protected_metric):
            geoms = protected_metric.geometry.values[(protected_metric["kind"] == kind).to_numpy()]
            if len(geoms) and m:
                tree = shapely.STRtree(geoms)
                (src, _), d = tree.query_nearest(park_geoms, return_distance=True, all_matches=False)
                dist[src] = d / 1000.0
        out[kind] = dist
    return out


def build_context(
    parks,
    enterprises,
    *,
    counties=None,
    protected_areas=None,
    catalogue: pd.DataFrame | None = None,
    linkages: pd.DataFrame | None = None,
    metric_crs: pyproj.CRS | None = None,
    params: CriteriaParams | None = None,
    sensitive_share: float = 0.2,
    urban_boundaries=None,
    suppliers: pd.DataFrame | None = None,
    shanhai_pairs: pd.DataFrame | None = None,
) -> SuitabilityContext:
    """Compute the park-level inputs of the model.

    Parameters
    ----------
    parks, enterprises : GeoDataFrame
        The parks layer and the enterprise population (with ``county_code`` and ``park_id`` from
        :func:`parks.joins.prepare`). Any CRS; everything metric is computed in ``metric_crs``.
    counties, protected_areas : GeoDataFrame, optional
        For less-developed and ecologically sensitive counties, and protected-area distances.
    catalogue : DataFrame, optional
        ``sector``, ``product``, ``level``. Rows with an empty product set the sector's level.
    linkages : DataFrame, optional
        Upstream/downstream sector table (``geodata.reference.sector_linkages()``); none = no links.
    metric_crs : pyproj.CRS, optional
        Default: the CGCS2000 Gauss-Kruger zone of the parks (``Dataset.metric_crs``).
    sensitive_share : float
        A county is ecologically sensitive when protected areas cover at least this share of it
        (unless ``counties`` carries an ``ecologically_sensitive`` column).
    urban_boundaries : GeoDataFrame, optional
        Urban development boundaries (urban cores): a park whose centroid lies in one is an
        urban-core park (``park_in_urban_core``), never a destination of the urban-core scenario.
    suppliers : DataFrame, optional
        ``supplier_id``, ``leader_id``, optional ``share``: a supplier's supply-chain criterion is
        the distance from the park to its own chain leader(s) (see ``docs/suitability.md``).
    shanhai_pairs : DataFrame, optional
        Mountain-sea cooperation pairs: two county-code columns (developed, less-developed).
    """
    params = params or CriteriaParams()
    crs = _checked_inputs(parks, enterprises, metric_crs)
    pk = _park_frame(parks, crs)
    m, k = len(pk), len(SECTOR_IDS)
    park_ids = pk["park_id"].to_numpy(dtype=object)
    cent = pk.geometry.centroid
    park_x, park_y = cent.x.to_numpy(float), cent.y.to_numpy(float)
    county = pk["county_code"].astype(str).to_numpy(dtype=object)

    prot = None
    if protected_areas is not None and len(protected_areas):
        _require(protected_areas, ("kind", "geometry"), "protected_areas")
        prot = _to_metric(protected_areas, crs, "protected_areas")
    less_dev, sensitive = _county_flags(pk, county, counties, prot, crs, sensitive_share)
    pop = _population_arrays(enterprises, crs)
    share, leading = _sector_mix(pk, park_ids, pop)
    link = linkage_matrix(linkages) if linkages is not None else np.zeros((k, k))
    supply = _supply_raw(np.column_stack([park_x, park_y]), np.column_stack([pop.x, pop.y]), pop.sector, pop.leader,
                         link, params)
    labour = _labour_pool(pop, county)
    t_value, t_score = _transport(pk, params)
    price = pk["land_price"].astype(float).to_numpy()
    price_score = linear(price, float(price.min()), float(price.max()), decreasing=True) if m else price
    protected_km = _protected_km(pk.geometry.values, prot)
    eco_km = np.minimum.reduce([protected_km[kd] for kd in PROTECTED_KINDS]) if m else np.zeros(0)
    eco_score = np.where(np.isinf(eco_km), 1.0, linear(np.where(np.isinf(eco_km), 0.0, eco_km), 0.0, params.ecology_full_km))
    county_city, park_city, in_core = _places(counties, urban_boundaries, county, park_x, park_y, crs)
    attrs = pd.DataFrame(pk.drop(columns="geometry"))
    attrs["less_developed"] = less_dev
    attrs["ecologically_sensitive"] = sensitive
    attrs["city"] = park_city
    attrs["in_urban_core"] = in_core
    kind = (pk["kind"].astype(object).to_numpy() if "kind" in pk.columns else np.full(m, None, dtype=object))
    county_sector, county_leaders = _county_sector_mix(pop)

    return SuitabilityContext(
        params=params, metric_crs=crs, parks=attrs, park_ids=park_ids, park_x=park_x, park_y=park_y,
        free_land=pk["free_land_ha"].astype(float).to_numpy(), land_price=price, land_price_score=price_score,
        max_pollution_rank=pk["max_pollution_class"].map(POLLUTION_CLASSES.index).to_numpy(int),
        county_code=county, less_developed=less_dev.astype(float), sensitive=sensitive, labour_pool=labour,
        leading=leading, sector_share=share, supply_raw=supply, transport_value=t_value, transport_score=t_score,
        ecology_km=eco_km, ecology_score=eco_score, protected_km=protected_km, enterprises=_population_table(pop, crs),
        catalogue_rules=_catalogue_rules(catalogue), linkage=link,
        metadata={"metric_crs": f"EPSG:{crs.to_epsg()}", "sensitive_share": sensitive_share},
        park_kind=kind, park_city=park_city, park_in_urban_core=in_core, county_city=county_city,
        county_sector=county_sector, county_leaders=county_leaders,
        supplier_links=_supplier_links(suppliers, pop.ids.to_numpy(dtype=object), pop.x, pop.y),
        shanhai_pairs=_pairs(shanhai_pairs),
    )


# --- the steps of build_context ---------------------------------------------------------------------


def _checked_inputs(parks, enterprises, metric_crs: pyproj.CRS | None) -> pyproj.CRS:
    """Required columns and vocabularies, unique park ids; the metric CRS (projected)."""
    _require(parks, PARK_COLUMNS + ("geometry",), "parks")
    _require(enterprises, ENTERPRISE_COLUMNS + ("geometry", "county_code", "park_id"), "enterprises",
             "hint.prepare_joins")
    crs = metric_crs or _metric_crs(parks)
    if not crs.is_projected:
        raise SuitabilityError("crs.not_projected", crs=crs.to_string())
    _check_choices(parks["max_pollution_class"], POLLUTION_CLASSES, "parks", "max_pollution_class")
    _check_choices(enterprises["sector"], SECTOR_IDS, "enterprises", "sector")
    _check_choices(enterprises["pollution_class"], POLLUTION_CLASSES, "enterprises", "pollution_class")
    if parks["park_id"].duplicated().any():
        dup = parks["park_id"][parks["park_id"].duplicated()].iloc[0]
        raise SuitabilityError("layer.duplicate_park_id", value=dup)
    return crs


def _park_frame(parks, crs: pyproj.CRS):
    """The parks in ``crs``, ``park_id`` as text, sorted by it (the context's park order)."""
    pk = _to_metric(parks, crs, "parks")
    return pk.assign(park_id=pk["park_id"].astype(str)).sort_values("park_id", kind="stable").reset_index(drop=True)


def _county_flags(pk, county: np.ndarray, counties, prot, crs: pyproj.CRS,
                  sensitive_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Per park: its county is less developed (the park's own column first), ecologically sensitive."""
    ld_map: dict[str, bool] = {}
    if counties is not None and len(counties):
        _require(counties, ("code", "less_developed"), "counties")
        ld_map = {str(c): bool(v) for c, v in zip(counties["code"], counties["less_developed"])}
    if "less_developed" in pk.columns:
        less_dev = pk["less_developed"].fillna(False).astype(bool).to_numpy()
    else:
        less_dev = np.array([ld_map.get(c, False) for c in county], dtype=bool)
    sens_map = _sensitive_counties(counties, prot, crs, sensitive_share)
    return less_dev, np.array([sens_map.get(c, False) for c in county], dtype=bool)


@dataclass(frozen=True)
class _Population:
    """The enterprise population in the metric CRS, as arrays (one entry per enterprise)."""

    frame: Any  # GeoDataFrame in the metric CRS
    ids: pd.Series  # enterprise_id as text
    x: np.ndarray
    y: np.ndarray
    sector: np.ndarray  # position in SECTOR_IDS
    leader: np.ndarray  # 1.0 for a chain leader
    park: pd.Series  # park_id or None
    county: pd.Series  # county_code or None


def _population_arrays(enterprises, crs: pyproj.CRS) -> _Population:
    ent = _to_metric(enterprises, crs, "enterprises")
    ent_ids = ent["enterprise_id"].astype(str)
    if ent_ids.duplicated().any():
        raise SuitabilityError("layer.duplicate_enterprise_id", value=ent_ids[ent_ids.duplicated()].iloc[0])
    sector_pos = {s: i for i, s in enumerate(SECTOR_IDS)}
    leader = (ent["chain_leader"].fillna(False).astype(bool).to_numpy(float)
              if "chain_leader" in ent.columns else np.zeros(len(ent)))
    return _Population(ent, ent_ids, ent.geometry.x.to_numpy(float), ent.geometry.y.to_numpy(float),
                       ent["sector"].map(sector_pos).to_numpy(int), leader,
                       ent["park_id"].astype(object).where(ent["park_id"].notna(), None),
                       ent["county_code"].astype(object).where(ent["county_code"].notna(), None))


def _sector_mix(pk, park_ids: np.ndarray, pop: _Population) -> tuple[np.ndarray, np.ndarray]:
    """(park x sector) share of the park's enterprises in each sector, and the parks' leading sectors (0/1)."""
    m, k = len(park_ids), len(SECTOR_IDS)
    sector_pos = {s: i for i, s in enumerate(SECTOR_IDS)}
    park_pos = {pid: i for i, pid in enumerate(park_ids)}
    counts = np.zeros((m, k))
    pidx = np.array([park_pos.get(str(v), -1) if v is not None else -1 for v in pop.park], dtype=int)
    inside = pidx >= 0
    np.add.at(counts, (pidx[inside], pop.sector[inside]), 1.0)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    leading = np.zeros((m, k))
    for i, v in enumerate(pk["leading_sectors"]):
        for s in _leading_list(v):
            if s not in sector_pos:
                raise SuitabilityError("park.leading_sector", park_id=park_ids[i], value=s,
                                       accepted=", ".join(SECTOR_IDS))
            leading[i, sector_pos[s]] = 1.0
    return share, leading


def _labour_pool(pop: _Population, county: np.ndarray) -> np.ndarray:
    """Per park: employees of the population in the park's county."""
    emp = pd.to_numeric(pop.frame["employees"], errors="coerce").fillna(0.0)
    pool_by_county = emp.groupby(pd.Series(pop.county.to_numpy(), index=emp.index).astype(str)).sum()
    return np.array([float(pool_by_county.get(c, 0.0)) for c in county])


def _transport(pk, params: CriteriaParams) -> tuple[np.ndarray, np.ndarray]:
    """Per park: mean distance to expressway, rail and port (km), and the weighted decay score."""
    e_km, r_km, p_km = (pk[c].astype(float).to_numpy() for c in ("expressway_km", "rail_km", "port_km"))
    tw = np.asarray(params.transport_weights, float) / sum(params.transport_weights)
    t_score = (tw[0] * decay(e_km, params.expressway_half_km) + tw[1] * decay(r_km, params.rail_half_km)
               + tw[2] * decay(p_km, params.port_half_km))
    return (e_km + r_km + p_km) / 3.0, t_score


def _population_table(pop: _Population, crs: pyproj.CRS) -> pd.DataFrame:
    """The enterprises' attributes by id, with metric x/y and (once for all) WGS 84 lon/lat."""
    ent = pop.frame
    cols = [c for c in ("name", "sector", "employees", "land_ha", "pollution_class", "county_code", "park_id",
                        "product", "size", "catalogue_level", "city") if c in ent.columns]
    population = pd.DataFrame(ent[cols].to_numpy(dtype=object), columns=cols,
                              index=pd.Index(pop.ids.to_numpy(dtype=object), name="enterprise_id"))
    population["park_id"] = pop.park.to_numpy()
    population["county_code"] = pop.county.to_numpy()
    population["x"], population["y"] = pop.x, pop.y
    if len(pop.x):  # WGS 84 of every site, once: answering an enterprise by id needs no transformer
        population["lon"], population["lat"] = cached_transformer(crs, 4326).transform(pop.x, pop.y)
    return population


def _places(counties, urban_boundaries, county: np.ndarray, park_x: np.ndarray, park_y: np.ndarray,
            crs: pyproj.CRS) -> tuple[dict[str, str | None], np.ndarray, np.ndarray]:
    """County -> city, each park's city, and whether each park lies in an urban core."""
    county_city: dict[str, str | None] = {}
    if counties is not None and len(counties) and "city" in counties.columns:
        county_city = {str(c): (None if pd.isna(v) else str(v)) for c, v in zip(counties["code"], counties["city"])}
    park_city = np.array([county_city.get(c) for c in county], dtype=object)
    in_core = np.zeros(len(county), dtype=bool)
    if urban_boundaries is not None and len(urban_boundaries) and len(county):
        ub = _to_metric(urban_boundaries, crs, "urban_boundaries")
        in_core = shapely.contains_xy(shapely.union_all(ub.geometry.values), park_x, park_y)
    return county_city, park_city, in_core


def _county_sector_mix(pop: _Population) -> tuple[dict, dict]:
    """Per county: enterprises by sector, and chain leaders by sector."""
    k = len(SECTOR_IDS)
    cs_frame = pd.DataFrame({"county": pop.county.astype(str).to_numpy(), "sector": pop.sector, "leader": pop.leader})
    county_sector = {c: np.bincount(g["sector"].to_numpy(), minlength=k).astype(float)
                     for c, g in cs_frame.groupby("county")}
    county_leaders = {c: np.bincount(g["sector"].to_numpy(), weights=g["leader"].to_numpy(), minlength=k)
                      for c, g in cs_frame.groupby("county")}
    return county_sector, county_leaders


def _supplier_links(suppliers, ids, x, y) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """supplier_id -> (leaders' x, y, weights summing to 1) for leaders in the population.

    Weights are the ``share`` column normalised over the supplier's leaders (equal when absent).
    """
    if suppliers is None or not len(suppliers):
        return {}
    _require(suppliers, ("supplier_id", "leader_id"), "suppliers")
    pos = {str(e): i for i, e in enumerate(ids)}
    share = (pd.to_numeric(suppliers["share"], errors="coerce") if "share" in suppliers.columns
             else pd.Series(np.nan, index=suppliers.index))
    bad = share.notna() & ~share.between(0, 1)
    if bad.any():
        i = share.index[bad][0]
        raise SuitabilityError("suppliers.share_range", row=i, share=share[i])
    out: dict[str, list] = {}
    for sup, lead, sh in zip(suppliers["supplier_id"].astype(str), suppliers["leader_id"].astype(str), share):
        if lead not in pos or sup not in pos or sup == lead:
            continue
        out.setdefault(sup, []).append((pos[lead], 1.0 if pd.isna(sh) else float(sh)))
    links = {}
    for sup, rows in out.items():
        idx = np.array([r[0] for r in rows])
        w = np.array([r[1] for r in rows], dtype=float)
        w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
        links[sup] = (x[idx], y[idx], w)
    return links


def _pairs(frame) -> frozenset:
    """{(developed, less-developed)} county-code pairs from a table's first two ``*code*`` columns."""
    if frame is None or not len(frame):
        return frozenset()
    cols = [c for c in frame.columns if "code" in str(c).lower()][:2]
    if len(cols) < 2:
        raise SuitabilityError("pairs.columns", columns=", ".join(map(str, frame.columns)))
    return frozenset((str(a), str(b)) for a, b in zip(frame[cols[0]], frame[cols[1]]) if pd.notna(a) and pd.notna(b))


def context_from_dataset(ds: PreparedDataset, linkages: pd.DataFrame | None = None, params: CriteriaParams | None = None,
                         sensitive_share: float = 0.2) -> SuitabilityContext:
    """:func:`build_context` from a prepared :class:`geodata.dataset.Dataset` (see ``parks.joins.prepare``).

    ``linkages`` defaults to the shipped table (:func:`geodata.reference.sector_linkages`, package
    data), so that every caller (CLI, API, maps, benchmarks) builds the same context; pass an empty
    frame with the table's columns for no sector links.
    """
    if linkages is None:
        from geodata.reference import sector_linkages

        linkages = sector_linkages()
    ctx = build_context(
        ds.parks, ds.enterprises, counties=ds.counties, protected_areas=ds.protected_areas,
        catalogue=ds.catalogue, linkages=linkages, metric_crs=ds.metric_crs, params=params,
        sensitive_share=sensitive_share, urban_boundaries=getattr(ds, "urban_boundaries", None),
        suppliers=getattr(ds, "suppliers", None), shanhai_pairs=_dataset_pairs(ds),
    )
    # the file name only: a server path must not reach API responses, nor make candidate ids (hashes
    # of the snapshot) depend on where the same data is stored
    ctx.metadata["dataset"] = Path(str(ds.path)).name if getattr(ds, "path", None) else None
    prov = (getattr(ds, "metadata", None) or {}).get("provenance")
    if prov:
        ctx.metadata["provenance"] = prov
    return ctx


def _dataset_pairs(ds: Dataset) -> pd.DataFrame | None:
    """The mountain-sea cooperation pairs: the dataset's ``shanhai_pairs`` layer if it has one, else the
    shipped ``geodata/data/shanhai_pairs_zhejiang.csv`` for Zhejiang when it exists, else None."""
    layer = getattr(ds, "shanhai_pairs", None)
    if layer is not None and len(layer):
        return pd.DataFrame(layer)
    try:
        from geodata import reference

        if hasattr(reference, "shanhai_pairs"):
            return reference.shanhai_pairs()
        path = Path(reference.__file__).parent / "data" / "shanhai_pairs_zhejiang.csv"
    except ImportError:  # pragma: no cover
        return None
    prov = getattr(ds, "province", None)
    province = str(prov["name"].iloc[0]) if prov is not None and len(prov) and "name" in prov.columns else ""
    if not (path.exists() and (not province or "浙江" in province)):
        return None
    frame = pd.read_csv(path, dtype=str)
    try:
        _pairs(frame)
    except SuitabilityError as exc:  # shipped reference data: a bad file must not stop every analysis
        import warnings

        warnings.warn(f"{path.name} ignored: {exc}", UserWarning, stacklevel=2)
        return None
    return frame


# --- enterprises as arrays ---------------------------------------------------------------------

def catalogue_level(ctx: SuitabilityContext, sector: str, product=None, size=None, explicit=None) -> str | None:
    """The catalogue level of an enterprise: ``explicit`` if given, else the most specific matching rule.

    A rule with a product matches only that product, and a rule with a size only that size class
    (``above``/``below``); a product rule beats a sector-wide rule; among equally specific matches the
    most severe level wins (eliminate > restricted > encouraged). No match: ``None``.
    """
    if explicit is not None and not pd.isna(explicit):
        if explicit not in _SEVERITY:
            raise SuitabilityError("enterprise.catalogue_level", value=explicit, accepted=", ".join(CATALOGUE_LEVELS))
        return str(explicit)
    product = None if product is None or pd.isna(product) else str(product)
    size = None if size is None or pd.isna(size) else str(size)
    best, best_key = None, (-1, -1)
    for r_sector, r_product, r_size, level in ctx.catalogue_rules:
        if r_sector != sector or (r_product is not None and r_product != product) or (r_size is not None and r_size != size):
            continue
        key = (r_product is not None, _SEVERITY[level])
        if key > best_key:
            best, best_key = level, key
    return best


_SECTOR_POS = {s: i for i, s in enumerate(SECTOR_IDS)}
_LEVELS_KEPT = 4096


def _arrays(ctx, ids, x, y, sectors, land, employees, pollution, products, sizes, levels, parks, counties,
            cities=None) -> EnterpriseArrays:
    sector_pos = _SECTOR_POS
    index = context_index(ctx)
    park_pos = index.park_pos
    cache = index.levels  # catalogue_level per (sector, product, size, explicit level), kept for the context

    def level(key):
        typed = (key, tuple(map(type, key)))  # 1, 1.0 and True are one dict key; catalogue_level tells them apart
        try:
            return cache[typed]
        except (KeyError, TypeError):  # a first sight, or an unhashable value (computed, not kept)
            value = catalogue_level(ctx, *key)
            if len(cache) < _LEVELS_KEPT:  # typed-in products are unbounded: keep the first distinct keys only
                try:
                    cache[typed] = value
                except TypeError:
                    pass
            return value

    lv = np.array([level(k) for k in zip(sectors, products, sizes, levels)], dtype=object)
    return EnterpriseArrays(
        ids=np.asarray(ids, dtype=object),
        x=np.asarray(x, float), y=np.asarray(y, float),
        sector_idx=np.array([sector_pos[s] for s in sectors], dtype=int),
        land_ha=np.asarray(land, float), employees=np.asarray(employees, float),
        pollution_rank=np.array([POLLUTION_CLASSES.index(c) for c in pollution], dtype=int),
        level=lv, encouraged=(lv == "encouraged").astype(float),
        park_idx=np.array([park_pos.get(str(p), -1) if p is not None and not pd.isna(p) else -1 for p in parks], dtype=int),
        county_code=np.asarray(counties, dtype=object),
        city=np.array([c if c is not None and not (isinstance(c, float) and np.isnan(c))
                       else ctx.county_city.get(str(k)) for c, k in
                       zip(cities if cities is not None else [None] * len(ids), counties)], dtype=object),
    )


def enterprise_arrays(ctx: SuitabilityContext, frame) -> EnterpriseArrays:
    """Arrays for enterprises given as a (Geo)DataFrame with the enterprise layer's columns.

    A GeoDataFrame is projected to the context's metric CRS; a plain DataFrame must carry metric
    ``x``/``y`` (as :attr:`SuitabilityContext.enterprises` does). Column by column (codes, distinct
    catalogue keys), the arrays :func:`_arrays` builds row by row for one enterprise.
    """
    _require(frame, ENTERPRISE_COLUMNS, "enterprises")
    _check_choices(frame["sector"], SECTOR_IDS, "enterprises", "sector")
    _check_choices(frame["pollution_class"], POLLUTION_CLASSES, "enterprises", "pollution_class")
    if "geometry" in frame.columns and hasattr(frame, "crs"):
        x, y = _metric_xy(frame, ctx.metric_crs)
    else:
        _require(frame, ("x", "y"), "enterprises", "hint.metric_xy")
        x, y = frame["x"].to_numpy(float), frame["y"].to_numpy(float)
    n = len(frame)
    factorized: dict[str, tuple[np.ndarray, Any]] = {}

    def factorize(name) -> tuple[np.ndarray, Any]:  # codes (-1: missing) and distinct values, once per column
        if name not in factorized:
            factorized[name] = pd.factorize(frame[name], use_na_sentinel=True)
        return factorized[name]

    def col(name) -> np.ndarray:  # the column's values as objects, None where missing (each distinct value once)
        if name not in frame.columns:
            return np.full(n, None, dtype=object)
        codes, uniq = factorize(name)
        values = np.empty(len(uniq) + 1, dtype=object)
        values[:-1] = list(uniq.astype(object))
        return values[codes]  # code -1 (missing): the None at the end

    def positions(name, vocab) -> np.ndarray:  # index of each value in vocab (-1: missing or unknown)
        codes, uniq = factorize(name)
        pos = np.append(pd.Index(vocab).get_indexer(pd.Index(uniq).astype(str)), -1)
        return pos[codes].astype(int)

    ids = np.asarray(frame["enterprise_id"].astype(str).tolist(), dtype=object)
    levels = _catalogue_levels(ctx, frame, n, factorize)
    counties = col("county_code")
    city = col("city")
    missing = (np.flatnonzero(factorize("city")[0] < 0) if "city" in frame.columns
               else np.arange(n))
    if len(missing):
        by_county = {k: ctx.county_city.get(str(k)) for k in pd.unique(counties[missing])}
        city[missing] = [by_county[k] for k in counties[missing]]
    park_idx = positions("park_id", ctx.park_ids) if "park_id" in frame.columns else np.full(n, -1, dtype=int)
    return EnterpriseArrays(
        ids=ids, x=np.asarray(x, float), y=np.asarray(y, float),
        sector_idx=positions("sector", SECTOR_IDS),
        land_ha=pd.to_numeric(frame["land_ha"]).to_numpy(float),
        employees=pd.to_numeric(frame["employees"]).to_numpy(float),
        pollution_rank=positions("pollution_class", POLLUTION_CLASSES),
        level=levels, encouraged=(levels == "encouraged").astype(float), park_idx=park_idx,
        county_code=counties, city=city,
    )


def _catalogue_levels(ctx: SuitabilityContext, frame, n: int, factorize) -> np.ndarray:
    """:func:`catalogue_level` of every row, computed once per distinct (sector, product, size, level).
    ``factorize(column)``: ``pd.factorize`` of a column of ``frame`` (the caller's, which keeps them)."""
    keys = ("sector", "product", "size", "catalogue_level")
    codes, uniques = [], []
    for name in keys:
        if name in frame.columns:
            c, u = factorize(name)
            codes.append(np.asarray(c, dtype=np.int64) + 1)  # 0: missing
            uniques.append([None] + list(u))
        else:
            codes.append(np.zeros(n, dtype=np.int64))
            uniques.append([None])
    combined = np.zeros(n, dtype=np.int64)
    for c, u in zip(codes, uniques):
        combined = combined * (len(u) + 1) + c
    if not n:
        return np.zeros(0, dtype=object)
    inverse, _ = pd.factorize(combined)  # codes in order of first appearance: a code's first row is where
    running = np.maximum.accumulate(inverse)  # the running maximum first reaches it
    first = np.flatnonzero(np.concatenate(([True], running[1:] > running[:-1])))
    values = [catalogue_level(ctx, *(u[c[i]] for c, u in zip(codes, uniques))) for i in first]
    return np.asarray(values, dtype=object)[inverse]


def _metric_xy(frame, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    """x, y of the enterprise points in ``crs`` (:func:`geodata.crs.points_xy`): what
    ``frame.to_crs(crs).geometry.x`` / ``.y`` give, without copying the frame. Empty or missing points give
    NaN; a geometry that is not a point is refused (``layer.bad_choice`` naming its row): an enterprise is
    scored at a point."""
    if frame.crs is None:
        raise SuitabilityError("layer.no_crs", layer="enterprises")
    try:
        return points_xy(frame.geometry, frame.crs, crs, non_point="raise")
    except NotAPointError as exc:
        raise SuitabilityError("layer.bad_choice", layer="enterprises", column="geometry", value=exc.geom_type,
                               row=frame.index[exc.position], accepted="Point") from None


def lookup_enterprise(ctx: SuitabilityContext, enterprise_id: str) -> pd.DataFrame:
    """The population row of one enterprise (a one-row frame with metric x/y), or UnknownEnterpriseError."""
    key = str(enterprise_id)
    if key not in ctx.enterprises.index:
        raise UnknownEnterpriseError("enterprise.unknown", enterprise_id=key)
    return ctx.enterprises.loc[[key]].reset_index()


def _population_row_plain(ctx: SuitabilityContext, key: str) -> dict:
    """The population row of ``key`` through pandas (``ctx.enterprises.loc[key]``): the reference of
    :func:`population_arrays`'s lookup, kept for the tests that compare the two."""
    try:
        row = ctx.enterprises.loc[key]
    except KeyError:
        raise UnknownEnterpriseError("enterprise.unknown", enterprise_id=key) from None
    return {k: (None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v) for k, v in row.items()}


def _population_row(ctx: SuitabilityContext, key: str) -> dict:
    """The population row of ``key`` as ``{column: value}`` (missing values ``None``), read from the context's
    per-column arrays by a dict of positions (:func:`context_index`): the values ``ctx.enterprises.loc[key]``
    gives, without pandas' row indexing (about 0.05 ms a lookup on arrow-backed columns)."""
    index = context_index(ctx)
    positions = index.enterprise_positions()
    if positions is None:  # an index with repeated ids: pandas decides, as before
        return _population_row_plain(ctx, key)
    pos = positions.get(key)
    if pos is None:
        raise UnknownEnterpriseError("enterprise.unknown", enterprise_id=key)
    return {k: (None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v)
            for k, v in zip(index.enterprise_columns, [values[pos] for values in index.enterprise_values()])}


def population_arrays(ctx: SuitabilityContext, enterprise_id: str, *, _row=None) -> tuple[EnterpriseArrays, dict]:
    """Arrays and the attribute dict of one enterprise of the population (fast path for lookups by id).

    ``_row(ctx, key)``: the row lookup (default :func:`_population_row`; the tests pass the pandas one)."""
    key = str(enterprise_id)
    r = (_row or _population_row)(ctx, key)
    r["enterprise_id"] = key
    ent = _arrays(ctx, [key], [r["x"]], [r["y"]], [r["sector"]], [r["land_ha"]], [r["employees"]],
                  [r["pollution_class"]], [r.get("product")], [r.get("size")], [r.get("catalogue_level")],
                  [r.get("park_id")], [r.get("county_code")], [r.get("city")])
    return ent, r


def profile_arrays(ctx: SuitabilityContext, profile: EnterpriseProfile) -> EnterpriseArrays:
    """Arrays for one enterprise given as a profile (lon/lat WGS 84 projected to the metric CRS)."""
    tr = cached_transformer(4326, ctx.metric_crs)
    x, y = tr.transform(float(profile.lon), float(profile.lat))
    return _arrays(ctx, [profile.enterprise_id or "profile"], [x], [y], [profile.sector], [profile.land_ha],
                   [profile.employees], [profile.pollution_class], [profile.product], [profile.size],
                   [profile.catalogue_level],
                   [None], [profile.county_code])
