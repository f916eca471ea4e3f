"""The analyses past one machine: the join, batch suitability and park capture, partitioned on Dask.

Each function takes the enterprises as a ``dask_geopandas.GeoDataFrame`` (for example from
:func:`geodata.parquet.read_enterprises_parquet`) and the small layers (parks, counties, urban
boundaries) in memory, and runs the *same* in-memory code on every partition:

* :func:`join_partitioned` -- :func:`parks.joins.prepare` on each partition: county, park, urban core;
* :func:`score_batch_partitioned` -- :func:`parks.suitability.batch.score_batch` on each partition;
* :func:`context_partitioned` -- the park-level suitability inputs that depend on the whole enterprise
  population (sector shares in parks, supply-chain mass, labour pool) summed over partitions, so
  the context of a 10-million register never needs the register in one process;
* :func:`park_capture_partitioned` -- the capture shares of :func:`parks.metrics.capture.park_capture`
  from per-partition sums.

Because an enterprise's join and its suitability scores depend only on that enterprise and on the
park-level inputs, the partitioned results equal the in-memory ones row for row (the join exactly;
the population sums up to floating-point summation order).

The functions are pure and lazy where the result is large (they return Dask collections; the caller
computes or writes them with whichever scheduler is active: a ``distributed.Client`` for a cluster,
else Dask's default). :func:`join` and :func:`score_batch` pick the engine with ``engine="memory"``
or ``engine="dask"``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.dataset import Dataset
from geodata.messages import Catalogue, CodedError, listing
from geodata.schema import SECTOR_IDS

from .joins import DEFAULT_MAX_PARK_DISTANCE_M, prepare

__all__ = [
    "ENGINES",
    "ScaleError",
    "layers",
    "slim_context",
    "join_partition",
    "project_investment",
    "capture_from_sums",
    "capture_sums_partition",
    "join",
    "join_partitioned",
    "score_batch",
    "score_batch_partitioned",
    "context_partitioned",
    "park_capture_partitioned",
    "holders",
    "where",
    "on_holders",
]

ENGINES = ("memory", "dask")


#: The refusals of the partitioned runs (:class:`ScaleError`); engine names, column names and function names stay
#: as they are in both languages.
SCALE = Catalogue("scale", {
    "scale.engine": ("engine {engine!r} not accepted; accepted: {accepted}",
                     "计算引擎 engine {engine!r} 不可接受；可接受：{accepted}"),
    "scale.join_not_dask": ("join_partitioned needs a dask_geopandas.GeoDataFrame, got {got}; use join(..., "
                            "engine='memory') for an in-memory frame",
                            "join_partitioned 需要 dask_geopandas.GeoDataFrame，而不是 {got}；内存中的数据表请用 "
                            "join(..., engine='memory')"),
    "scale.not_dask": ("{function} needs a Dask frame, got {got}", "{function} 需要 Dask 数据表，而不是 {got}"),
    "scale.lacks_column": ("enterprises lack column {column!r}; join them first (join_partitioned)",
                           "企业数据缺少列 {column!r}；请先做空间连接（join_partitioned）"),
    "scale.lacks_columns": ("enterprises lack column(s) {columns}; join them first (join_partitioned)",
                            "企业数据缺少列 {columns}；请先做空间连接（join_partitioned）"),
    "scale.by": ("by {value!r} not accepted; accepted: {accepted}", "分组方式 by {value!r} 不可接受；可接受：{accepted}"),
})


class ScaleError(CodedError):
    """A partitioned run was asked for with an unknown engine or inputs it cannot use (a ``ValueError``).

    Raised with a code of :data:`SCALE` and its values; ``str(exc)`` is the English text,
    ``geodata.messages.message(exc, "zh")`` the Chinese."""

    def __init__(self, code: str, /, **params: Any):
        super().__init__(SCALE(code, **params))


def _check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise ScaleError("scale.engine", engine=engine, accepted=listing(ENGINES))
    return engine


def _is_dask(frame) -> bool:
    return hasattr(frame, "npartitions") and hasattr(frame, "to_delayed")


def holders(parts: list) -> list[str | None]:
    """The address of the Dask worker that holds each of ``parts`` (persisted objects, e.g. from
    ``dask.persist``), waiting for them to be computed; ``None`` for each without a distributed client.

    A task that reads a part placed with :func:`where` runs on the worker that holds the part, so the part is not
    sent to another worker: the scheduler otherwise weighs a part's transfer (74 MB for 250,000 enterprises,
    pickled by one worker and unpickled by the other) against how busy its holder looks, and moved parts in some
    rounds of a 1,000,000-enterprise batch (measured 2026-12-01 from the workers' transfer logs)."""
    try:
        from distributed import futures_of, get_client, wait
    except ImportError:  # pragma: no cover - dask without distributed
        return [None] * len(parts)
    try:
        client = get_client()
    except ValueError:  # no client: the local scheduler
        return [None] * len(parts)
    futures = [futures_of(p) for p in parts]
    if not all(len(f) == 1 for f in futures):
        return [None] * len(parts)
    wait([f[0] for f in futures])
    who = client.who_has([f[0] for f in futures])
    return [next(iter(sorted(who.get(f[0].key) or ())), None) for f in futures]


def where(worker: str | None):
    """A ``dask.annotate`` context for tasks meant for ``worker`` (from :func:`holders`): a preference, not a
    restriction (``allow_other_workers``: another worker runs them if that one is gone), which the scheduler
    follows when it places them; nothing with ``None``."""
    import contextlib

    import dask

    if worker is None:
        return contextlib.nullcontext()
    return dask.annotate(workers=[worker], allow_other_workers=True)


def on_holders(parts: list, make) -> list:
    """``[make(i, part) ...]``, each task made under :func:`where` the worker that holds its part
    (:func:`holders`), so the scheduler runs it there and the part is not sent to another worker."""
    tasks = []
    for i, (part, worker) in enumerate(zip(parts, holders(parts))):
        with where(worker):
            tasks.append(make(i, part))
    return tasks


def _to_dask(frame, npartitions: int | None):
    if _is_dask(frame):
        return frame
    import dask_geopandas

    return dask_geopandas.from_geopandas(frame, npartitions=npartitions or 1, sort=False)


#: The dataset's fields that hold the register or tables of it (by enterprise, by project, by year):
#: a partition's join reads none of them. ``enterprise_years`` alone has six rows per enterprise (6.2 million
#: rows, 250 MB pickled, for the 1,000,000-enterprise built-in register).
_TABLES = ("enterprises", "projects", "import_log", "suppliers", "fixed_asset_investment", "enterprise_years")


#: The layers the join projects to the metric CRS (:func:`parks.joins.prepare` calls ``to_crs`` on each).
_PROJECTED = ("counties", "parks", "urban_boundaries")


def layers(ds: Dataset) -> Dataset:
    """The dataset without its enterprises and tables: what every partition's join needs (the boundaries,
    parks, urban cores and catalogue: a few MB to ship, whatever the size of the register).

    The counties, parks and urban boundaries come already in ``ds.metric_crs`` (the province stays as it
    is, so the metric CRS is the same): :func:`parks.joins.prepare` projects them with ``to_crs``, which
    returns a layer already in that CRS as it is, so they are projected once here rather than once per
    partition (the counties' 124,000 vertices: about 0.03 CPU-seconds of a partition's fixed cost of
    0.056 s; the coordinates are the same numbers either way).
    """
    crs = ds.metric_crs
    projected = {f: getattr(ds, f).to_crs(crs) for f in _PROJECTED
                 if getattr(ds, f, None) is not None and getattr(ds, f).crs is not None}
    return replace(ds, path=None, **projected,
                   **{f: getattr(ds, f).iloc[:0] for f in _TABLES if getattr(ds, f, None) is not None})


# --- join -------------------------------------------------------------------------------------

def join_partition(part: gpd.GeoDataFrame, layers: Dataset, max_park_distance_m: float = DEFAULT_MAX_PARK_DISTANCE_M,
                   urban_core_km: float | None = None) -> gpd.GeoDataFrame:
    """One partition's join: :func:`parks.joins.prepare` of ``part`` against ``layers`` (see :func:`layers`)."""
    return prepare(replace(layers, enterprises=part), max_park_distance_m=max_park_distance_m,
                   urban_core_km=urban_core_km).enterprises


def join_partitioned(enterprises, ds: Dataset, *, max_park_distance_m: float = DEFAULT_MAX_PARK_DISTANCE_M,
                     urban_core_km: float | None = None):
    """Lazy :func:`parks.joins.prepare` of partitioned enterprises against ``ds``'s parks, counties and
    urban boundaries. Returns a ``dask_geopandas.GeoDataFrame`` with the derived columns of ``prepare``
    (each partition keeps its own index; the rows keep their order).
    """
    if not _is_dask(enterprises):
        raise ScaleError("scale.join_not_dask", got=type(enterprises).__name__)
    import dask

    small = layers(ds)
    meta = join_partition(enterprises._meta, small, max_park_distance_m, urban_core_km)
    shared = dask.delayed(small, pure=True)
    return enterprises.map_partitions(join_partition, shared, max_park_distance_m, urban_core_km, meta=meta,
                                      align_dataframes=False)


def join(enterprises, ds: Dataset, *, engine: str = "memory", npartitions: int | None = None,
         max_park_distance_m: float = DEFAULT_MAX_PARK_DISTANCE_M, urban_core_km: float | None = None):
    """The enterprises with their county, park and urban-core columns, in memory or partitioned.

    ``engine="memory"``: a GeoDataFrame (a Dask frame is computed first). ``engine="dask"``: a lazy
    Dask frame (an in-memory frame is split into ``npartitions``).
    """
    _check_engine(engine)
    if engine == "memory":
        frame = enterprises.compute() if _is_dask(enterprises) else enterprises
        return prepare(replace(layers(ds), enterprises=frame.reset_index(drop=True)),
                       max_park_distance_m=max_park_distance_m, urban_core_km=urban_core_km).enterprises
    return join_partitioned(_to_dask(enterprises, npartitions), ds, max_park_distance_m=max_park_distance_m,
                            urban_core_km=urban_core_km)


# --- batch suitability -------------------------------------------------------------------------

def slim_context(ctx):
    """The context without its enterprise population table (only lookups by id read it)."""
    return replace(ctx, enterprises=ctx.enterprises.iloc[:0])


def _score_partition(part, ctx, weights, constraints, top, chunk_size):
    from .suitability.batch import score_batch as _score

    res = _score(ctx, part, weights, constraints, top=top, chunk_size=chunk_size)
    return res.top, res.summary


def score_batch_partitioned(ctx, enterprises, weights: Mapping[str, float] | None = None,
                            constraints: Mapping[str, Any] | None = None, *, top: int = 3, chunk_size: int = 2000):
    """Lazy :func:`parks.suitability.batch.score_batch` on every partition of joined enterprises.

    ``enterprises`` must carry ``park_id`` and ``county_code`` (from :func:`join_partitioned`).
    Returns ``(top, summary)`` as two Dask DataFrames that share their tasks: compute them together
    (``dask.compute(top, summary)``) to score each partition once.
    """
    import dask
    import dask.dataframe as dd

    from .suitability.batch import score_batch as _score

    if not _is_dask(enterprises):
        raise ScaleError("scale.not_dask", function="score_batch_partitioned", got=type(enterprises).__name__)
    shared = dask.delayed(slim_context(ctx), pure=True)
    parts = enterprises.to_delayed()
    results = [dask.delayed(_score_partition, nout=2)(p, shared, weights, constraints, top, chunk_size) for p in parts]
    # meta: the same function on an empty frame of the partition schema
    empty = _score(ctx, enterprises._meta, weights, constraints, top=top, chunk_size=chunk_size)
    top_df = dd.from_delayed([r[0] for r in results], meta=empty.top, verify_meta=False)
    summary_df = dd.from_delayed([r[1] for r in results], meta=empty.summary, verify_meta=False)
    return top_df, summary_df


def score_batch(ctx, enterprises, weights: Mapping[str, float] | None = None,
                constraints: Mapping[str, Any] | None = None, *, engine: str = "memory", top: int = 3,
                chunk_size: int = 2000, npartitions: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Batch suitability in memory or on Dask; returns the computed ``(top, summary)`` frames.

    With ``engine="dask"`` the partitions are scored by whichever Dask scheduler is active.
    """
    _check_engine(engine)
    if engine == "memory":
        from .suitability.batch import score_batch as _score

        frame = enterprises.compute() if _is_dask(enterprises) else enterprises
        res = _score(ctx, frame, weights, constraints, top=top, chunk_size=chunk_size)
        return res.top, res.summary
    import dask

    t, s = score_batch_partitioned(ctx, _to_dask(enterprises, npartitions), weights, constraints, top=top,
                                   chunk_size=chunk_size)
    t, s = dask.compute(t, s)
    return t.reset_index(drop=True), s.reset_index(drop=True)


# --- the population-dependent context inputs ------------------------------------------------------

def _population_sums(part: pd.DataFrame, park_ids: np.ndarray, park_xy: np.ndarray, link: np.ndarray,
                     params, crs, linked_ids: frozenset = frozenset(), columns: list | None = None) -> dict:
    """One partition's share of the population-dependent context inputs (what ``build_context`` computes
    over the whole population), in vectorised form: no per-row Python loop, no per-county scan."""
    from .suitability.context import _metric_xy, _supply_raw

    if columns is not None:
        part = part[columns]

    k = len(SECTOR_IDS)
    m = len(park_ids)
    pos = {s: i for i, s in enumerate(SECTOR_IDS)}
    sector = part["sector"].map(pos).to_numpy(int)
    # park of each enterprise as a position in park_ids (-1 outside every park), str-compared as build_context does
    pid = part["park_id"]
    pidx = pd.Index([str(p) for p in park_ids]).get_indexer(pid.astype(str)) if len(part) else np.zeros(0, int)
    pidx = np.where(pid.notna().to_numpy(bool), pidx, -1)
    counts = np.bincount(pidx[pidx >= 0] * k + sector[pidx >= 0], minlength=m * k).reshape(m, k).astype(float)
    # metric x, y without building new geometries (the transformer of to_crs)
    exy = np.column_stack(_metric_xy(part, crs)) if len(part) else np.zeros((0, 2))
    leader = (part["chain_leader"].fillna(False).astype(bool).to_numpy(float) if "chain_leader" in part.columns
              else np.zeros(len(part)))
    supply = _supply_raw(park_xy, exy, sector, leader, link, params)
    county = part["county_code"].astype(object).where(part["county_code"].notna(), None)
    county_str = pd.Series(county.to_numpy(), index=part.index).astype(str)
    emp = pd.to_numeric(part["employees"], errors="coerce").fillna(0.0)
    labour = emp.groupby(county_str).sum()
    # enterprises and chain leaders by county and sector (as build_context's county_sector/county_leaders)
    # (an enterprise without a county is in none: its code is -1, as groupby drops a missing key)
    codes, names = pd.factorize(county_str.to_numpy())
    n_c = len(names)
    known = codes >= 0
    cell = codes[known] * k + sector[known]
    n_sector = np.bincount(cell, minlength=n_c * k).reshape(n_c, k).astype(float)
    n_leader = np.bincount(cell, weights=leader[known], minlength=n_c * k).reshape(n_c, k)
    by_county = {c: (n_sector[i], n_leader[i]) for i, c in enumerate(names)}
    # positions of the enterprises the suppliers table names (supplier -> leader links)
    # (a hash lookup: np.isin on object strings sorts them, 8 CPU-s for 250,000 ids against 6,700 names)
    if linked_ids and "enterprise_id" in part.columns:
        ids = part["enterprise_id"].astype(str)
        named = np.flatnonzero(ids.isin(linked_ids).to_numpy(bool))
        linked = (ids.to_numpy(dtype=object)[named], exy[named, 0], exy[named, 1])
    else:
        linked = (np.array([], dtype=object), np.zeros(0), np.zeros(0))
    return {"counts": counts, "supply": supply, "labour": labour, "by_county": by_county, "linked": linked}


def _population_sums_shared(part: pd.DataFrame, shared: dict) -> dict:
    return _population_sums(part, **shared)


def context_partitioned(ds: Dataset, enterprises, *, linkages: pd.DataFrame | None = None, params=None,
                        sensitive_share: float = 0.2, parts: list | None = None):
    """The suitability context of ``ds``'s parks for a partitioned enterprise population.

    The park-level inputs that do not depend on the enterprises are computed by
    :func:`parks.suitability.context.build_context` as usual; the three that sum over the population
    (the sector shares inside each park, the supply-chain mass around each park and the labour pool
    of each park's county) are summed partition by partition, which is exactly what ``build_context``
    computes over the whole population (up to floating-point summation order). The returned context
    has no enterprise table, so it scores enterprises but cannot look one up by id.

    ``parts`` (optional): the partitions as Dask objects already read (``dask.persist``), to sum over
    them instead of reading ``enterprises`` again; ``enterprises`` then only gives the columns.

    This computes (with the active Dask scheduler).
    """
    import dask

    from .suitability.context import _dataset_pairs, _supplier_links, build_context

    if not _is_dask(enterprises):
        raise ScaleError("scale.not_dask", function="context_partitioned", got=type(enterprises).__name__)
    for col in ("sector", "park_id", "county_code", "employees"):
        if col not in enterprises.columns:
            raise ScaleError("scale.lacks_column", column=col)
    if linkages is None:  # the shipped table, as parks.suitability.context_from_dataset defaults
        from geodata.reference import sector_linkages

        linkages = sector_linkages()
    suppliers = getattr(ds, "suppliers", None)
    # the same inputs as parks.suitability.context_from_dataset gives build_context
    base = build_context(ds.parks, enterprises._meta, counties=ds.counties, protected_areas=ds.protected_areas,
                         catalogue=ds.catalogue, linkages=linkages, metric_crs=ds.metric_crs, params=params,
                         sensitive_share=sensitive_share, urban_boundaries=getattr(ds, "urban_boundaries", None),
                         suppliers=suppliers, shanhai_pairs=_dataset_pairs(ds))
    park_xy = np.column_stack([base.park_x, base.park_y])
    linked_ids: frozenset[str] = frozenset()
    if suppliers is not None and len(suppliers):
        linked_ids = frozenset(suppliers["supplier_id"].astype(str)) | frozenset(suppliers["leader_id"].astype(str))
    cols = [c for c in ("enterprise_id", "sector", "park_id", "county_code", "employees", "chain_leader", "geometry")
            if c in enterprises.columns]
    if parts is None:
        parts = enterprises[cols].to_delayed()
    # the parks' inputs in one graph key, which every task refers to: sent once, not embedded per partition
    shared = dask.delayed({"park_ids": base.park_ids, "park_xy": park_xy, "link": base.linkage, "params": base.params,
                           "crs": base.metric_crs, "linked_ids": linked_ids, "columns": cols}, pure=True)
    # each partition's sums where the partition is held
    sums = dask.compute(*on_holders(parts, lambda i, p: dask.delayed(_population_sums_shared)(p, shared)))
    counts = sum(s["counts"] for s in sums)
    supply = sum(s["supply"] for s in sums)
    labour = pd.concat([s["labour"] for s in sums]).groupby(level=0).sum() if sums else pd.Series(dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    pool = np.array([float(labour.get(c, 0.0)) for c in base.county_code])
    county_sector: dict[str, np.ndarray] = {}
    county_leaders: dict[str, np.ndarray] = {}
    for s in sums:
        for c, (n_sector, n_leader) in s["by_county"].items():
            county_sector[c] = county_sector.get(c, 0.0) + n_sector
            county_leaders[c] = county_leaders.get(c, 0.0) + n_leader
    links = {}
    if linked_ids:
        ids = np.concatenate([s["linked"][0] for s in sums]) if sums else np.array([], dtype=object)
        lx = np.concatenate([s["linked"][1] for s in sums]) if sums else np.zeros(0)
        ly = np.concatenate([s["linked"][2] for s in sums]) if sums else np.zeros(0)
        links = _supplier_links(suppliers, ids, lx, ly)
    meta = dict(base.metadata, partitions=len(sums), population="partitioned")
    return replace(base, sector_share=share, supply_raw=supply, labour_pool=pool, metadata=meta,
                   county_sector=dict(sorted(county_sector.items())),
                   county_leaders=dict(sorted(county_leaders.items())), supplier_links=links)


# --- park capture --------------------------------------------------------------------------------

_VALUES = ("one", "employees", "revenue", "investment")


def _capture_sums(part: pd.DataFrame, investment: pd.Series | None, by: str) -> pd.DataFrame:
    from .metrics.capture import capture_sums

    total, inside = capture_sums(part, investment, by)
    return total.join(inside.add_suffix("_in"))


def _investment_of(ids: pd.Series, investment: pd.Series) -> np.ndarray:
    """Each row's investment, looked up by its enterprise id (0.0 for an id without projects): the values of
    ``ids.map(investment).fillna(0.0)``. Arrow-backed string ids are looked up in Arrow (a hash of the few
    thousand investing ids, no Python string per row): 4 ms instead of 45 ms for 250,000 ids against 3,000
    (measured 2026-11-30), which was 40 % of a partition's capture sums."""
    chunked = getattr(ids.array, "_pa_array", None)
    index = investment.index
    if chunked is None or not index.is_unique or index.inferred_type != "string":
        return ids.map(investment).fillna(0.0).to_numpy(float)
    import pyarrow as pa
    import pyarrow.compute as pc

    pos = pc.index_in(chunked, value_set=pa.array(list(index), type=chunked.type)).fill_null(-1).to_numpy()
    values = pd.to_numeric(investment, errors="coerce").fillna(0.0).to_numpy(float)
    return np.where(pos >= 0, values[np.maximum(pos, 0)], 0.0) if len(values) else np.zeros(len(ids))


def _capture_sums_many(part: pd.DataFrame, investment: pd.Series | None, groupings: tuple[str, ...]) -> dict:
    """:func:`parks.metrics.capture.capture_sums` of each grouping, the per-enterprise values (in a park,
    employees, revenue, investment looked up by id) computed once for all groupings, not once per grouping."""
    from .metrics.capture import CAPTURE_VALUES

    if len(groupings) < 2 or not len(part):
        return {by: _capture_sums(part, investment, by) for by in groupings}
    values = list(CAPTURE_VALUES)
    n = len(part)
    columns = [pd.Series(np.ones(n)), pd.to_numeric(part["employees"], errors="coerce").fillna(0.0),
               pd.to_numeric(part["revenue"], errors="coerce").fillna(0.0),
               pd.Series(_investment_of(part["enterprise_id"], investment) if investment is not None else np.zeros(n))]
    dtypes = [c.dtype for c in columns]  # an integer column's sums stay integers, as groupby's do
    rows = np.column_stack([c.to_numpy(float) for c in columns])
    inside = part["park_id"].notna().to_numpy()
    out = {}
    for by in groupings:
        # group codes straight from the column (Arrow strings are not turned into a Python object each);
        # missing groups get -1 and are left out, as groupby leaves them out
        if by == "all":
            codes, labels = np.zeros(n, dtype=np.intp), pd.Index(["all"])
        else:
            codes, labels = pd.factorize(part[by], sort=True)
        k = len(labels)
        known = codes >= 0
        within = known & inside
        total = np.column_stack([np.bincount(codes[known], weights=rows[known, j], minlength=k) for j in range(4)])
        in_park = np.column_stack([np.bincount(codes[within], weights=rows[within, j], minlength=k)
                                   for j in range(4)])
        index = pd.Index(np.asarray(labels, dtype=object), name="group")
        frame = {v: total[:, j].astype(dtypes[j]) for j, v in enumerate(values)}
        frame.update({f"{v}_in": in_park[:, j].astype(dtypes[j]) for j, v in enumerate(values)})
        out[by] = pd.DataFrame(frame, index=index)
    return out


def capture_sums_partition(part: pd.DataFrame, investment: pd.Series | None,
                           groupings: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """One partition's park-capture sums per grouping (``{by: sums}``), what :func:`capture_from_sums` adds up."""
    return _capture_sums_many(part, investment, tuple(groupings))


def _capture_frame(agg: pd.DataFrame, by: str) -> pd.DataFrame:
    from .metrics.capture import capture_table

    total, inside = agg[list(_VALUES)], agg[[f"{v}_in" for v in _VALUES]].set_axis(list(_VALUES), axis=1)
    return capture_table(total, inside, by)


def project_investment(projects: pd.DataFrame | None) -> pd.Series | None:
    """Investment per enterprise id (what the capture sums need from the projects), None without projects."""
    if projects is None or not len(projects):
        return None
    return pd.to_numeric(projects["investment"], errors="coerce").fillna(0.0).groupby(projects["enterprise_id"]).sum()


def capture_from_sums(sums: list[dict], groupings: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """The capture frames of :func:`parks.metrics.capture.park_capture` from per-partition sums
    (``{by: sums}`` as :func:`capture_sums_partition` returns them), added up and divided once."""
    return {b: _capture_frame(pd.concat([s[b] for s in sums]).groupby(level=0).sum().sort_index(), b)
            for b in groupings}


def park_capture_partitioned(enterprises, projects: pd.DataFrame | None = None, *,
                             by: str | tuple[str, ...] = "sector") -> pd.DataFrame | dict[str, pd.DataFrame]:
    """:func:`parks.metrics.capture.park_capture` of joined, partitioned enterprises (computes).

    Each partition gives its per-group totals and in-park totals; the sums are added and divided once,
    so the shares are those of the whole population. Same columns and group order as ``park_capture``.
    ``by`` may be a tuple of groupings: then all are computed in one pass over the partitions and a
    dict ``{by: frame}`` is returned.
    """
    import dask

    from .metrics.capture import GROUPINGS

    many = isinstance(by, (tuple, list))
    groupings: tuple[str, ...] = tuple(str(b) for b in by) if isinstance(by, (tuple, list)) else (str(by),)
    bad = [b for b in groupings if b not in GROUPINGS]
    if bad or not groupings:
        raise ScaleError("scale.by", value=bad[0] if bad else by, accepted=listing(GROUPINGS))
    if not _is_dask(enterprises):
        raise ScaleError("scale.not_dask", function="park_capture_partitioned", got=type(enterprises).__name__)
    need = ["park_id", "employees", "revenue", "enterprise_id"] + [b for b in groupings if b != "all"]
    missing = [c for c in need if c not in enterprises.columns]
    if missing:
        raise ScaleError("scale.lacks_columns", columns=listing(map(repr, missing)))
    shared = dask.delayed(project_investment(projects), pure=True)
    parts = enterprises[list(dict.fromkeys(need))].to_delayed()
    sums = dask.compute(*[dask.delayed(_capture_sums_many)(p, shared, groupings) for p in parts])
    out = capture_from_sums(list(sums), groupings)
    return out if many else out[groupings[0]]
