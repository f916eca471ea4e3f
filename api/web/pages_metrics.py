"""``/ui/metrics``: per sector, the agglomeration indices, Ripley's L with its CSR envelope, LISA and
Gi* hot-spot maps of the counties, and park capture by county. Charts are SVG drawn on the server
(:mod:`api.web.charts`). Results are computed with :mod:`parks.metrics.report` (the functions behind
``GET /metrics``) and cached per sector for the life of the app.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from geodata.schema import SECTOR_IDS

from . import backend, charts
from .core import lang_of
from .i18n import label, translator

router = APIRouter()

# Fewer random draws than the batch report: a page must answer in seconds; the p-values and the
# envelope are still those of the same functions, with the same seed.
PERMUTATIONS = 199
SIMULATIONS = 19
LISA_COLORS = {"HH": "#d7191c", "LH": "#abd9e9", "LL": "#2c7bb6", "HL": "#fdae61", "ns": "#eeeeee"}
SPOT_COLORS = {"hot": "#d7191c", "cold": "#2c7bb6", "ns": "#eeeeee"}


def _map_counties(where):
    """County outlines simplified to ~1 km for the small server-side maps (keeps each SVG to a few hundred kB).
    ``where``: the request, or the app's state (warm-up)."""
    def compute():
        c = backend.dataset(where).counties[["code", "geometry"]].copy()
        c["geometry"] = c.geometry.simplify(0.01, preserve_topology=True)
        return c

    return backend.cached(where, "map_counties", compute)


def _sector_table(where) -> list[dict]:
    from parks.metrics.report import sector_rows

    return backend.shared_cached(where, "metrics_sectors",
                                 lambda: sector_rows(backend.dataset(where), permutations=PERMUTATIONS, seed=0))


def _sector_detail(where, sector: str) -> dict:
    from parks.metrics.report import hotspot_rows, lisa_rows, park_capture_rows, ripley_section

    def compute():
        ds = backend.dataset(where)
        return {
            "ripley": ripley_section(ds, sector, simulations=SIMULATIONS, seed=0),
            "lisa": lisa_rows(ds, sector, permutations=PERMUTATIONS, seed=0),
            "hotspots": hotspot_rows(ds, sector, permutations=PERMUTATIONS, seed=0),
            "capture": [r for r in park_capture_rows(ds, sector) if r["by"] == "county_code"],
        }

    return backend.cached(where, f"metrics_sector:{sector}", compute)


def sector_view(where, sector: str, lang: str) -> dict:
    """The charts, maps and capture table of one sector in one language (cached: drawing takes a second)."""
    def compute():
        ds = backend.dataset(where)
        t = translator(lang)
        d = _sector_detail(where, sector)
        rp = d["ripley"]
        view = {"ripley": rp}
        view["ripley_chart"] = charts.ripley_chart(rp["distances"], rp["L"], rp.get("envelope_low"), rp.get("envelope_high"),
                                                   xlabel=t("distance_km"), observed=t("observed"), envelope=t("envelope"),
                                                   title=label(lang, "sector", sector), lang=lang)
        lisa = {r["county_code"]: r["quadrant"] for r in d["lisa"]}
        spots = {r["county_code"]: r["spot"] for r in d["hotspots"]}
        view["lisa_map"] = charts.county_map(_map_counties(where), lisa, LISA_COLORS,
                                             {k: t("quadrant_" + k) for k in LISA_COLORS},
                                             title=t("lisa_map"))
        view["hotspot_map"] = charts.county_map(_map_counties(where), spots, SPOT_COLORS,
                                                {"hot": t("spot_hot"), "cold": t("spot_cold"), "ns": t("quadrant_ns")},
                                                title=t("hotspot_map"))
        names = dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))
        cap = sorted(d["capture"], key=lambda r: -(r["share_enterprises"] or 0))
        view["capture"] = [dict(r, county_name=names.get(r["group"], r["group"])) for r in cap]
        top = view["capture"][:25]
        view["capture_chart"] = charts.bar_chart([r["county_name"] for r in top], [r["share_enterprises"] or 0 for r in top],
                                                 xlabel=t("capture_share"), percent=True) if top else None
        view["lisa_counts"] = {q: sum(1 for v in lisa.values() if v == q) for q in LISA_COLORS}
        view["spot_counts"] = {q: sum(1 for v in spots.values() if v == q) for q in SPOT_COLORS}
        return view

    return backend.shared_cached(where, f"metrics_view:{sector}:{lang}", compute)  # once for every worker


def sectors_present(where) -> list[str]:
    ds = backend.dataset(where)
    return backend.cached(where, "sectors_present", lambda: [s for s in SECTOR_IDS if (ds.enterprises["sector"] == s).any()])


def warm(state, lang: str = "zh") -> None:
    """The sector table and every present sector's view computed ahead, for the start-up warm-up."""
    _sector_table(state)
    for sector in sectors_present(state):
        sector_view(state, sector, lang)


@router.get("/ui/metrics", include_in_schema=False)
def metrics_page(request: Request, user: backend.AnalystPage, sector: str | None = None):
    present = sectors_present(request)
    if sector not in present:
        sector = present[0] if present else None
    view = {"sectors": present, "sector": sector, "rows": _sector_table(request)}
    if sector is not None:
        view.update(sector_view(request, sector, lang_of(request)))
    # the content block (about 570 kB: the sector table, three SVG charts, the capture table) follows from the
    # dataset version, the language and the sector alone: rendered once and kept (backend.render_content_cached),
    # the page around it (the user, the language switch) per request; it was rendered again on every visit
    return backend.render_content_cached(request, "metrics.html", view, ("sector", sector), user)
