"""Clark-Evans nearest-neighbour ratio: is a pattern clustered (R < 1), random (R = 1) or regular (R > 1)?

Clark and Evans (1954), "Distance to nearest neighbor as a measure of spatial relationships in
populations", *Ecology* 35(4): 445-453:

.. math::

    R = \\frac{\\bar d}{E[\\bar d]}, \\quad E[\\bar d] = \\frac{1}{2\\sqrt{n / A}}, \\quad
    SE = \\frac{0.26136}{\\sqrt{n^2 / A}}, \\quad z = \\frac{\\bar d - E[\\bar d]}{SE}

with :math:`\\bar d` the mean nearest-neighbour distance and :math:`A` the study-area size. The
optional Donnelly (1978) edge correction replaces the expectation and standard error with
:math:`E = 0.5\\sqrt{A/n} + (0.0514 + 0.041/\\sqrt n) P / n` and
:math:`SE = \\sqrt{0.0703 A/n^2 + 0.037 P \\sqrt{A/n^5}}` (:math:`P` the perimeter). The p-value is
two-sided under the normal approximation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree
from scipy.stats import norm

from ._common import MetricsError, xy

__all__ = ["ClarkEvans", "clark_evans", "CORRECTIONS"]

CORRECTIONS = ("none", "donnelly")


@dataclass(frozen=True)
class ClarkEvans:
    R: float
    z: float
    p_value: float
    mean_nnd: float
    expected_nnd: float
    n: int
    area_m2: float
    correction: str

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in asdict(self).items()}


def clark_evans(points_xy, polygon: shapely.Geometry | None = None, *, area: float | None = None,
                correction: str = "none") -> ClarkEvans:
    """Clark-Evans R, z and two-sided p for points (metres) in a study area.

    Parameters
    ----------
    points_xy : (n, 2) array or projected GeoSeries/GeoDataFrame.
    polygon : the study area; points outside it are dropped, its area (and perimeter) are used.
    area : study-area size in m2 when no polygon is given.
    correction : ``'none'`` or ``'donnelly'`` (needs ``polygon`` for the perimeter).

    Examples
    --------
    A square lattice with spacing 1 in a 10 x 10 window: every nearest neighbour is 1 away and
    E = 0.5, so R = 2 (perfectly regular).

    >>> g = np.stack(np.meshgrid(np.arange(10) + 0.5, np.arange(10) + 0.5), -1).reshape(-1, 2)
    >>> round(clark_evans(g, area=100.0).R, 6)
    2.0
    """
    if correction not in CORRECTIONS:
        raise MetricsError("clark_evans.correction", value=correction, accepted=", ".join(CORRECTIONS))
    pts = xy(points_xy)
    if polygon is not None:
        if len(pts):
            pts = pts[shapely.contains_xy(polygon, pts[:, 0], pts[:, 1])]
        a = float(polygon.area)
        perimeter = float(polygon.length)
    elif area is not None and area > 0:
        a = float(area)
        perimeter = np.nan
        if correction == "donnelly":
            raise MetricsError("clark_evans.donnelly_polygon")
    else:
        raise MetricsError("clark_evans.area")
    n = len(pts)
    if n < 2:
        return ClarkEvans(np.nan, np.nan, np.nan, np.nan, np.nan, n, a, correction)
    d, _ = cKDTree(pts).query(pts, k=2)
    mean_nnd = float(d[:, 1].mean())
    if correction == "donnelly":
        expected = 0.5 * np.sqrt(a / n) + (0.0514 + 0.041 / np.sqrt(n)) * perimeter / n
        se = np.sqrt(0.0703 * a / n**2 + 0.037 * perimeter * np.sqrt(a / n**5))
    else:
        expected = 0.5 / np.sqrt(n / a)
        se = 0.26136 / np.sqrt(n * n / a)
    z = (mean_nnd - expected) / se
    return ClarkEvans(R=float(mean_nnd / expected), z=float(z), p_value=float(2 * norm.sf(abs(z))),
                      mean_nnd=mean_nnd, expected_nnd=float(expected), n=n, area_m2=a, correction=correction)
