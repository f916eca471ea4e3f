"""Charts rendered on the server with matplotlib as SVG, handed to pages as ``data:`` image URIs.

An SVG shown through ``<img>`` runs no script whatever text it holds, and text is drawn as paths
(``svg.fonttype = 'path'``), so a label from a data file is never markup; matplotlib's mathtext is
off on every text (``parse_math=False``), so a ``$...$`` in a name is drawn as typed, never parsed (nor
an error). Every chart is a ``matplotlib.figure.Figure`` (no pyplot state, no global ``rcParams``);
every text of it is set in the one CJK font of :mod:`geodata.fonts` (a ``FontProperties`` made from
the font file's path), so Chinese draws on a machine without any system CJK font.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from geodata.fonts import set_figure_font

from .i18n import translator

__all__ = ["bar_chart", "ripley_chart", "county_map", "svg_uri", "new_figure", "apply_font", "FONT_SIZE"]

#: the text size of the small charts (points), set on each text: no ``rc_context`` (global ``rcParams`` are not
#: thread-safe, and these are drawn in the server's threads)
FONT_SIZE = 9


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A Figure with an Agg canvas, outside pyplot."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def apply_font(fig: Figure) -> Figure:
    """Every text of ``fig`` in the CJK font, mathtext off (:func:`geodata.fonts.set_figure_font`)."""
    return set_figure_font(fig)


def svg_uri(fig) -> str:
    apply_font(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def bar_chart(labels: Sequence[str], values: Sequence[float], *, xlabel: str = "", color: str = "#3b6ea5",
              width: float = 5.5, percent: bool = False) -> str:
    """A horizontal bar chart (largest on top). ``percent``: the values are shares (0-1), written on the axis as
    percentages ("25%"), as the pages write shares."""
    from matplotlib.ticker import FuncFormatter

    fig = new_figure((width, 0.3 * max(len(labels), 1) + 0.8))
    ax = fig.subplots()
    y = list(range(len(labels)))[::-1]
    ax.barh(y, list(values), color=color)
    ax.set_yticks(y, [str(s) for s in labels])
    ax.set_xlabel(xlabel)
    if percent:
        # as few decimals as each tick needs: 5%, 10% ... or 0.1%, 0.2% ... (rounded: no 0.30000000000000004)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{round(x * 100, 6):g}%"))
        ax.set_xlim(left=0)  # shares are never negative (no "-2%" tick when every share is 0)
    ax.spines[["top", "right"]].set_visible(False)
    return svg_uri(fig)


def ripley_chart(distances_m: Sequence[float], L: Sequence[float], lo: Sequence[float] | None, hi: Sequence[float] | None,
                 *, xlabel: str, observed: str, envelope: str, title: str = "", lang: str = "zh") -> str:
    """Ripley's L(r) - r against r (km), with the CSR envelope shaded; the y-axis label (L(r) − r, in metres) in
    ``lang`` (the workspace's ``ripley_ylabel``)."""
    import numpy as np

    r = np.asarray(distances_m, dtype=float)
    fig = new_figure((5.5, 3.4))
    ax = fig.subplots()
    if lo is not None and hi is not None and len(lo) == len(r):
        ax.fill_between(r / 1000, np.asarray(lo, float) - r, np.asarray(hi, float) - r, color="#cccccc",
                        label=envelope)
    ax.plot(r / 1000, np.asarray(L, float) - r, color="#c0392b", lw=2, label=observed)
    ax.axhline(0, color="#555555", lw=0.8, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(translator(lang)("ripley_ylabel"))
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return svg_uri(fig)


def county_map(counties, values: dict[str, str], colors: dict[str, str], legend: dict[str, str], *, title: str = "",
               code_column: str = "code") -> str:
    """Counties filled by a category (LISA quadrant, Gi* spot); counties without a value in light grey."""
    from matplotlib.patches import Patch

    fills = [colors.get(values.get(str(c), ""), "#eeeeee") for c in counties[code_column].astype(str)]
    fig = new_figure((4.6, 4.6))
    ax = fig.subplots()
    counties.plot(ax=ax, color=fills, edgecolor="#666666", linewidth=0.3)
    ax.set_axis_off()
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    ax.legend(handles=[Patch(facecolor=colors[k], edgecolor="#666666", label=v) for k, v in legend.items()],
              loc="lower left", frameon=False, fontsize=8)
    return svg_uri(fig)
