"""Charts rendered on the server with matplotlib as SVG, handed to pages as ``data:`` image URIs.

An SVG shown through ``<img>`` runs no script whatever text it holds, and text is drawn as paths
(``svg.fonttype = 'path'``), so a label from a data file is never markup; matplotlib's mathtext is
off (``text.parse_math``), so a ``$...$`` in a name is drawn as typed, never parsed (nor an error). Chinese labels use a CJK
font when one is installed (Debian's fonts-noto-cjk), else matplotlib's default.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

__all__ = ["bar_chart", "ripley_chart", "county_map", "svg_uri"]

_CJK_NAMES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Source Han Sans SC")


@lru_cache(maxsize=1)
def _font_family() -> list[str]:
    names = {f.name for f in font_manager.fontManager.ttflist}
    cjk = [n for n in _CJK_NAMES if n in names]
    return cjk + ["DejaVu Sans"]


def _style():
    return {"font.family": _font_family(), "svg.fonttype": "path", "axes.unicode_minus": False, "svg.hashsalt": "parkplan",
            "font.size": 9, "text.parse_math": False, "text.usetex": False}


def svg_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def bar_chart(labels: Sequence[str], values: Sequence[float], *, xlabel: str = "", color: str = "#3b6ea5",
              width: float = 5.5) -> str:
    """A horizontal bar chart (largest on top)."""
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(width, 0.3 * max(len(labels), 1) + 0.8))
        y = list(range(len(labels)))[::-1]
        ax.barh(y, list(values), color=color)
        ax.set_yticks(y, [str(s) for s in labels])
        ax.set_xlabel(xlabel)
        ax.spines[["top", "right"]].set_visible(False)
        return svg_uri(fig)


def ripley_chart(distances_m: Sequence[float], L: Sequence[float], lo: Sequence[float] | None, hi: Sequence[float] | None,
                 *, xlabel: str, observed: str, envelope: str, title: str = "") -> str:
    """Ripley's L(r) - r against r (km), with the CSR envelope shaded."""
    import numpy as np

    r = np.asarray(distances_m, dtype=float)
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(5.5, 3.4))
        if lo is not None and hi is not None and len(lo) == len(r):
            ax.fill_between(r / 1000, np.asarray(lo, float) - r, np.asarray(hi, float) - r, color="#cccccc",
                            label=envelope)
        ax.plot(r / 1000, np.asarray(L, float) - r, color="#c0392b", lw=2, label=observed)
        ax.axhline(0, color="#555555", lw=0.8, ls="--")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("L(r) − r (m)")
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
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(4.6, 4.6))
        counties.plot(ax=ax, color=fills, edgecolor="#666666", linewidth=0.3)
        ax.set_axis_off()
        ax.set_aspect("equal")
        if title:
            ax.set_title(title)
        ax.legend(handles=[Patch(facecolor=colors[k], edgecolor="#666666", label=v) for k, v in legend.items()],
                  loc="lower left", frameon=False, fontsize=8)
        return svg_uri(fig)
