"""A static picture of a map with matplotlib, for ``parkplan map NAME --png`` where no Chromium is
installed (with Chromium the PNG is a screenshot of the interactive map itself).

It draws what every map shares: the counties (less-developed ones filled), the parks by kind, and for
the enterprises map the enterprises by sector; titles and county names in the map's language, in the packaged
CJK font (:mod:`geodata.fonts`).
"""

from __future__ import annotations

import math
from pathlib import Path

from .base import COUNTY_STYLE, LESS_DEVELOPED_STYLE, SECTOR_COLORS, MapOptions
from .i18n import sector_label, t
from parks.joins import PreparedDataset

__all__ = ["static_png"]

def static_png(ds: PreparedDataset, name: str, path: str | Path, *, opts: MapOptions | None = None, sector: str | None = None,
               dpi: int = 150) -> Path:
    """Write a PNG of map ``name`` for prepared dataset ``ds`` to ``path``; returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from geodata.fonts import set_figure_font
    from geodata.schema import SECTOR_IDS

    from .parks_map import KIND_COLORS

    opts = opts or MapOptions()
    lang = opts.lang
    fig = Figure(figsize=(10, 10))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    counties = ds.counties.to_crs(4326)
    ld = counties["less_developed"].astype(bool)
    counties[~ld].plot(ax=ax, color=COUNTY_STYLE["fillColor"], edgecolor=COUNTY_STYLE["color"], linewidth=0.4)
    counties[ld].plot(ax=ax, color=LESS_DEVELOPED_STYLE["fillColor"], edgecolor=COUNTY_STYLE["color"], linewidth=0.4)
    handles: list[Patch] | None = [
        Patch(facecolor=str(LESS_DEVELOPED_STYLE["fillColor"]), edgecolor="#666", label=t("less_developed", lang)),
        Patch(facecolor=str(COUNTY_STYLE["fillColor"]), edgecolor="#666", label=t("other_counties", lang))]
    if name == "enterprises":
        ent = ds.enterprises.to_crs(4326)
        if sector is not None:
            ent = ent[ent["sector"] == sector]
        for k, s in enumerate(SECTOR_IDS):
            sub = ent[ent["sector"] == s]
            if len(sub):
                ax.scatter(sub.geometry.x, sub.geometry.y, s=1.5 if len(ent) > 20000 else 4, color=SECTOR_COLORS[k],
                           linewidths=0, label=sector_label(s, lang))
        handles = None
    parks = ds.parks.to_crs(4326)
    for kind, color in KIND_COLORS.items():
        sub = parks[parks["kind"] == kind]
        sub.plot(ax=ax, color=color, edgecolor="#222", linewidth=0.3)
        if handles is not None:
            handles.append(Patch(facecolor=color, label=t(kind, lang)))
    for _, c in counties.iterrows():  # county names (no tiles to name the places)
        p = c.geometry.representative_point()
        ax.annotate(str(c["name"]), (p.x, p.y), ha="center", va="center", fontsize=5, color="#333333")
    ax.set_title(t(f"title_{name}", lang))
    ax.set_axis_off()
    miny, maxy = counties.total_bounds[1], counties.total_bounds[3]
    ax.set_aspect(1 / math.cos(math.radians((miny + maxy) / 2)))
    if handles is not None:
        ax.legend(handles=handles, loc="lower right", fontsize=8)
    else:
        ax.legend(loc="lower right", fontsize=7, markerscale=4)
    path = Path(path)
    set_figure_font(fig)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path
