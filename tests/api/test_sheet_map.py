"""The review sheet's map draws the proposed park with its own patch collection instead of geopandas'
``GeoDataFrame.plot`` (which ends with a full draw of the figure, half of the map's CPU): the PNG is the one
geopandas' plot gives, byte for byte, for parks of every kind of the small dataset, with and without the origin or
destination county, and for a multipolygon park with a hole."""

from __future__ import annotations

import io

import numpy as np
import pytest

from api import exports


def _geopandas_park(ax, park) -> None:
    """The reference: what the sheet's map called before (geopandas draws the park)."""
    park.plot(ax=ax, color="#1f77b4", edgecolor="#0b3d66", linewidth=1.0)


def _pixels(png: bytes) -> np.ndarray:
    import matplotlib.image as mimg

    return np.round(mimg.imread(io.BytesIO(png)) * 255).astype(int)


def _candidates(dataset, n: int = 12) -> list[dict]:
    import pandas as pd

    first = dataset.parks.drop_duplicates("kind") if "kind" in dataset.parks.columns else dataset.parks
    first = first.head(n // 2)
    parks = pd.concat([first, dataset.parks.sample(min(n - len(first), len(dataset.parks)), random_state=1)])
    ent = dataset.enterprises
    out = []
    for k, (_, p) in enumerate(parks.iterrows()):
        e = ent.iloc[(37 * k) % len(ent)]
        out.append({"park_id": str(p["park_id"]), "enterprise_id": str(e["enterprise_id"]),
                    "origin_county_code": str(e["county_code"]) if k % 4 != 3 else None,
                    "destination_county_code": str(p["county_code"]) if k % 5 != 4 else None})
    return out


@pytest.fixture(scope="module")
def static(dataset):
    return exports.sheet_static(dataset)


def test_sheet_map_equals_geopandas_plot_to_within_antialiasing(dataset, static, monkeypatch):
    cands = _candidates(dataset)
    ours = [exports._map_png(c, static, exports.sheet_places(c, dataset)) for c in cands]
    monkeypatch.setattr(exports, "_plot_park", _geopandas_park)
    theirs = [exports._map_png(c, static, exports.sheet_places(c, dataset)) for c in cands]
    assert all(p is not None for p in ours)
    for c, a, b in zip(cands, ours, theirs, strict=True):
        assert a == b, c  # the same picture (geopandas' axis labels too), byte for byte
        pa = _pixels(a)
        # the park is drawn: its blue is on the picture (when its county is in view)
        assert c["destination_county_code"] is None or c["origin_county_code"] is None or np.any(np.all(pa[..., :3] == (0x1F, 0x77, 0xB4), axis=2)), c


def test_sheet_map_draws_a_park_with_a_hole_and_several_parts(dataset, static, monkeypatch):
    """A park that is a multipolygon with a hole (made here from a real park) is drawn as geopandas draws it."""
    from shapely.geometry import MultiPolygon, Polygon

    c = _candidates(dataset, 2)[0]
    places = exports.sheet_places(c, dataset)
    g = places["park"].geometry.iloc[0]
    x0, y0, x1, y1 = g.bounds
    w, h = max(x1 - x0, 0.01), max(y1 - y0, 0.01)
    outer = Polygon([(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)],
                    [[(x0 + w / 4, y0 + h / 4), (x0 + w / 2, y0 + h / 4), (x0 + w / 2, y0 + h / 2)]])
    other = Polygon([(x1 + w, y0), (x1 + 2 * w, y0), (x1 + 2 * w, y0 + h)])
    places = {**places, "park": places["park"].set_geometry([MultiPolygon([outer, other])], crs=places["park"].crs)}
    ours = exports._map_png(c, static, places)
    monkeypatch.setattr(exports, "_plot_park", _geopandas_park)
    assert ours == exports._map_png(c, static, places)
    hole = {**places, "park": places["park"].set_geometry([outer], crs=places["park"].crs)}
    assert ours != exports._map_png(c, static, hole)  # the second part is drawn: without it the map differs
