"""Interactive maps (folium): one function per map, a dataset or an analysis result in, a folium.Map out.

Every map has no tiles by default (counties as the base, less-developed counties marked), a layer
control, legend, scale bar, fullscreen, measure tool and search by name, labels in Chinese (``lang="zh"``)
or English (``lang="en"``), and loads its scripts only from ``/maps/assets/`` (see :mod:`maps.assets`).

:func:`build_map` builds one by name, as ``GET /maps/{name}`` and ``parkplan map NAME`` do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geodata.messages import listing

from .assets import AssetError, inline_assets
from .base import MapError, MapOptions, render_html
from .i18n import MapLangError

if TYPE_CHECKING:
    import folium
    import pandas as pd

    from parks.joins import PreparedDataset
    from parks.suitability import SuitabilityContext

__all__ = ["MAP_NAMES", "MapError", "MapLangError", "MapOptions", "AssetError", "build_map", "render_html",
           "inline_assets", "proposed_candidates"]

MAP_NAMES = ("parks", "enterprises", "clusters", "suitability", "transfers")


def proposed_candidates(ds: PreparedDataset, ctx: SuitabilityContext | None = None) -> pd.DataFrame:
    """Transfer candidates proposed by the model (status ``pending``), for a map when none are stored."""
    import pandas as pd

    from parks.suitability import context_from_dataset
    from parks.suitability.transfers import propose_transfers

    ctx = ctx or context_from_dataset(ds)
    proposal = propose_transfers(ctx, ds.enterprises)
    rows = [{**c.to_dict(), "status": "pending"} for c in proposal.candidates]
    cols = ["candidate_id", "enterprise_id", "origin_county_code", "destination_county_code", "park_id", "status", "score"]
    return pd.DataFrame(rows, columns=None if rows else cols)


def build_map(name: str, ds: PreparedDataset, *, lang: str = "zh", sector: str | None = None, enterprise_id: str | None = None,
              county: str | None = None, opts: MapOptions | None = None, suitability_context=None,
              candidates=None, metric: str | None = None, profile=None, candidate=None, weights=None,
              constraints=None, firms: bool = True) -> folium.Map:
    """The map ``name`` (one of :data:`MAP_NAMES`) for a prepared dataset ``ds``.

    ``suitability_context``: a prebuilt :class:`parks.suitability.SuitabilityContext` (else built here).
    ``candidates``: transfer candidates (else the model's proposal for ``ds``).
    ``metric``: the parks map as a choropleth of that park-profile column (e.g. ``employees``).
    ``profile``: for the suitability map, an enterprise not in the dataset given by its attributes (a
    mapping with ``sector``, ``land_ha``, ``employees``, ``pollution_class``, ``lon``, ``lat`` and
    optionally ``name``), instead of ``enterprise_id``.
    ``weights`` / ``constraints``: for the suitability map, as :func:`parks.suitability.score_enterprise`
    takes them (default: the model's weights, no extra constraint).
    ``candidate``: for the transfers map, one stored transfer candidate (a mapping as
    ``api.reviews.candidate_public(..., snapshot=True)`` returns): the map of that candidate alone
    (:func:`maps.transfers_map.candidate_map`).
    ``firms``: for the transfers map, False draws the flows between counties only (no firm names).
    """
    opts = opts or MapOptions(lang=lang)
    if name not in MAP_NAMES:
        raise MapError("map.unknown", name=name, accepted=listing(MAP_NAMES))
    if name == "parks":
        from .parks_map import parks_map

        return parks_map(ds, sector=sector, county=county, opts=opts, metric=metric)
    if name == "enterprises":
        from .enterprises_map import enterprises_map

        return enterprises_map(ds, sector=sector, county=county, opts=opts)
    if name == "clusters":
        from .clusters_map import clusters_map

        return clusters_map(ds, sector=sector, opts=opts)
    if name == "suitability":
        from parks.suitability import context_from_dataset, score_enterprise

        from .suitability_map import suitability_map

        if bool(enterprise_id) == bool(profile):
            raise MapError("map.suitability_both" if profile else "map.suitability_target")
        ctx = suitability_context or context_from_dataset(ds)
        target = str(enterprise_id) if enterprise_id else dict(profile)
        return suitability_map(ds, score_enterprise(ctx, target, weights, constraints), opts=opts)
    from .transfers_map import candidate_map, transfers_map

    if candidate is not None:
        return candidate_map(ds, candidate, opts=opts)

    if candidates is None:
        candidates = proposed_candidates(ds, suitability_context)
    return transfers_map(ds, candidates, county=county, opts=opts, firms=firms)
