"""``GET /metrics`` and ``GET /metrics/{name}``: clustering metrics by sector and county.

The JSON is :func:`parks.metrics.report.compute_metrics` (all parts) or one of its parts, the same
shapes as ``parkplan metrics --json``. Analyst role or higher (the per-mu part lists enterprises).
Every computation is given the app's one :class:`parks.metrics.report.MetricsContext`
(:func:`api.app.metrics_context`), so the joins, projections and county weights are computed once per
server, not per request. Results are cached per (part, sector, county, permutations, simulations) in
a bounded LRU (the data do not change while the server runs), and at most two computations run at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from ..app import metrics_context
from ..deps import AnalystUser
from ..problems import NotFound

router = APIRouter(tags=["metrics"])

Sector = Annotated[str | None, Query(max_length=40, description="a sector id")]
County = Annotated[str | None, Query(max_length=12, description="a 6-digit county code")]
Permutations = Annotated[int, Query(ge=0, le=9999, description="permutations for Moran / LISA / Gi* p-values")]
Simulations = Annotated[int, Query(ge=0, le=999, description="CSR simulations for Ripley's envelope (0 skips it)")]


def _parts():
    from parks.metrics import report as r

    return {
        "location_quotients": lambda ds, s, c, p, n: r.location_quotient_rows(ds, s, c),
        "sectors": lambda ds, s, c, p, n: r.sector_rows(ds, s, c, permutations=p),
        "lisa": lambda ds, s, c, p, n: r.lisa_rows(ds, s, c, permutations=p),
        "hotspots": lambda ds, s, c, p, n: r.hotspot_rows(ds, s, c, permutations=p),
        "clusters": lambda ds, s, c, p, n: r.cluster_rows(ds, s, c),
        "park_capture": lambda ds, s, c, p, n: r.park_capture_rows(ds, s, c),
        "ripley": lambda ds, s, c, p, n: r.ripley_section(ds, s, c, simulations=n),
        "per_mu": lambda ds, s, c, p, n: r.per_mu_rows(ds, s, c),
        "land_intensity": lambda ds, s, c, p, n: r.land_intensity_rows(ds, s, c),
    }


CACHE_ENTRIES = 128  # results kept (least recently used dropped)
_COMPUTING = threading.BoundedSemaphore(2)  # at most two metric computations at once (the rest wait)


def _cached(request: Request, key: tuple, compute):
    """LRU-cached ``compute()``: bounded in entries, and in concurrent computations (API4)."""
    state = request.app.state
    with state.cache_lock:
        cache = state.cache.setdefault("metrics", OrderedDict())
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    with _COMPUTING:
        value = compute()
    with state.cache_lock:
        cache[key] = value
        while len(cache) > CACHE_ENTRIES:
            cache.popitem(last=False)
    return value


@router.get("/metrics", summary="Every clustering metric (optionally for one sector and/or county)")
def all_metrics(request: Request, _user: AnalystUser, sector: Sector = None, county: County = None,
                permutations: Permutations = 999, simulations: Simulations = 99) -> dict[str, Any]:
    from parks.metrics.report import compute_metrics, jsonable

    ctx = metrics_context(request.app)
    return _cached(request, ("metrics", "*", sector, county, permutations, simulations),
                   lambda: jsonable(compute_metrics(ctx, sector, county, permutations=permutations,
                                                    simulations=simulations)))


@router.get("/metrics/{name}", summary="One part of the metrics document")
def one_metric(request: Request, _user: AnalystUser, name: Annotated[str, Path(max_length=40)],
               sector: Sector = None, county: County = None, permutations: Permutations = 999,
               simulations: Simulations = 99) -> Any:
    from parks.metrics.report import METRIC_KEYS, jsonable

    parts = _parts()
    if name not in parts:
        raise NotFound(f"metric {name!r} not found; accepted: {', '.join(METRIC_KEYS)}")
    ctx = metrics_context(request.app)
    return _cached(request, ("metrics", name, sector, county, permutations, simulations),
                   lambda: {name: jsonable(parts[name](ctx, sector, county, permutations, simulations))})
