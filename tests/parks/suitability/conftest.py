"""Fixtures for the suitability tests: a small synthetic world (metric coordinates in EPSG:4549, stored as WGS 84)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import numpy as np
import pandas as pd
import shapely

from geodata.schema import POLLUTION_CLASSES, SECTOR_IDS

CRS = 4549  # CGCS2000 GK zone CM 120E
X0, Y0 = 500_000.0, 3_300_000.0


def make_world(seed: int = 0, n_parks: int = 12, n_enterprises: int = 150, n_counties: int = 4):
    """Counties in a row (every other one less-developed), square parks, enterprises, protected areas."""
    rng = np.random.default_rng(seed)
    size = 40_000.0
    counties = gpd.GeoDataFrame({
        "code": [f"33{i:04d}" for i in range(n_counties)],
        "name": [f"县{i}" for i in range(n_counties)],
        "city": ["甲市"] * n_counties,
        "less_developed": [i % 2 == 1 for i in range(n_counties)],
        "coastal": [i == 0 for i in range(n_counties)],
    }, geometry=[shapely.box(X0 + i * size, Y0, X0 + (i + 1) * size, Y0 + size) for i in range(n_counties)], crs=CRS)
    c_idx = rng.integers(n_counties, size=n_parks)
    px = X0 + c_idx * size + rng.uniform(3000, size - 3000, n_parks)
    py = Y0 + rng.uniform(3000, size - 3000, n_parks)
    half = rng.uniform(300, 1500, n_parks)
    parks = gpd.GeoDataFrame({
        "park_id": [f"P{i:03d}" for i in rng.permutation(n_parks)],
        "name": [f"园区{i}" for i in range(n_parks)],
        "kind": rng.choice(["township_zone", "specialty_park"], n_parks),
        "county_code": counties["code"].to_numpy()[c_idx],
        "leading_sectors": [",".join(rng.choice(SECTOR_IDS, size=rng.integers(1, 4), replace=False)) for _ in range(n_parks)],
        "area_ha": (2 * half) ** 2 / 1e4,
        "free_land_ha": np.round(rng.uniform(0.0, 30.0, n_parks), 2),
        "land_price": np.round(rng.uniform(100, 900, n_parks), 1),
        "max_pollution_class": rng.choice(POLLUTION_CLASSES, n_parks),
        "rail_km": np.round(rng.uniform(0, 60, n_parks), 1),
        "port_km": np.round(rng.uniform(0, 200, n_parks), 1),
        "expressway_km": np.round(rng.uniform(0, 30, n_parks), 1),
        "established": rng.integers(1985, 2004, n_parks),
    }, geometry=[shapely.box(x - h, y - h, x + h, y + h) for x, y, h in zip(px, py, half)], crs=CRS)
    ex = rng.uniform(X0, X0 + n_counties * size, n_enterprises)
    ey = rng.uniform(Y0, Y0 + size, n_enterprises)
    # a third of the enterprises sit inside parks
    inside = rng.random(n_enterprises) < 0.35
    pick = rng.integers(n_parks, size=n_enterprises)
    ex = np.where(inside, px[pick] + rng.uniform(-200, 200, n_enterprises), ex)
    ey = np.where(inside, py[pick] + rng.uniform(-200, 200, n_enterprises), ey)
    pts = gpd.GeoSeries(gpd.points_from_xy(ex, ey), crs=CRS)
    park_of = np.full(n_enterprises, None, dtype=object)
    ip, ik = shapely.STRtree(parks.geometry.to_numpy()).query(pts.to_numpy(), predicate="within")
    park_of[ip] = parks["park_id"].to_numpy()[ik]
    county_of = counties["code"].to_numpy()[np.minimum(((ex - X0) // size).astype(int), n_counties - 1)]
    sector = rng.choice(SECTOR_IDS, n_enterprises)
    enterprises = gpd.GeoDataFrame({
        "enterprise_id": [f"E{i:05d}" for i in range(n_enterprises)],
        "name": [f"企业{i}" for i in range(n_enterprises)],
        "sector": sector,
        "product": ["x"] * n_enterprises,
        "size": rng.choice(["above", "below"], n_enterprises),
        "employees": rng.integers(5, 800, n_enterprises),
        "land_ha": np.round(rng.lognormal(0.0, 1.0, n_enterprises), 3),
        "pollution_class": rng.choice(POLLUTION_CLASSES, n_enterprises, p=[0.5, 0.3, 0.2]),
        "chain_leader": rng.random(n_enterprises) < 0.05,
        "labour_intensive": rng.random(n_enterprises) < 0.4,
        "established": rng.integers(1960, 2004, n_enterprises),
        "county_code": county_of,
        "park_id": park_of,
        "in_urban_core": rng.random(n_enterprises) < 0.2,
    }, geometry=pts.to_numpy(), crs=CRS)
    ld = dict(zip(counties["code"], counties["less_developed"]))
    coastal = dict(zip(counties["code"], counties["coastal"]))
    enterprises["less_developed"] = enterprises["county_code"].map(ld).astype(bool)
    enterprises["coastal"] = enterprises["county_code"].map(coastal).astype(bool)
    protected = gpd.GeoDataFrame({
        "area_id": ["A1", "A2"], "kind": ["ecological_redline", "water_source"], "name": ["红线", "水源"],
    }, geometry=[shapely.box(X0 + 10_000, Y0 + 10_000, X0 + 16_000, Y0 + 16_000),
                 shapely.box(X0 + size + 25_000, Y0 + 2_000, X0 + size + 30_000, Y0 + 9_000)], crs=CRS)
    catalogue = pd.DataFrame({
        "sector": ["information", "biopharma", "petrochemical", "metallurgy", "building_materials"],
        "product": [None, None, None, None, "水泥"],
        "size": [None, None, None, None, "below"],
        "level": ["encouraged", "encouraged", "restricted", "restricted", "eliminate"],
    })
    return {
        "parks": parks.to_crs(4326), "enterprises": enterprises.to_crs(4326), "counties": counties.to_crs(4326),
        "protected_areas": protected.to_crs(4326), "catalogue": catalogue,
    }


def random_supplier_links(ent, n: int, seed: int, weights=(0.7, 0.3)) -> dict:
    """``n`` enterprises of ``ent`` (EnterpriseArrays) made suppliers, each of two other enterprises as its chain
    leaders with ``weights``: the ``supplier_links`` of a context (metric x/y)."""
    rng = np.random.default_rng(seed)
    links = {}
    for i in rng.choice(len(ent), n, replace=False):
        j = rng.choice(len(ent), 2, replace=False)
        links[ent.ids[i]] = (ent.x[j], ent.y[j], np.array(weights))
    return links


def world_context(seed: int = 0, linkages=None, **kw):
    from geodata.reference import sector_linkages
    from parks.suitability import build_context

    w = make_world(seed, **kw)
    ctx = build_context(w["parks"], w["enterprises"], counties=w["counties"], protected_areas=w["protected_areas"],
                        catalogue=w["catalogue"], linkages=sector_linkages() if linkages is None else linkages,
                        metric_crs=__import__("pyproj").CRS.from_epsg(CRS))
    return ctx, w


class _World:
    CRS = CRS
    make_world = staticmethod(make_world)
    world_context = staticmethod(world_context)


@pytest.fixture(scope="session")
def W():
    """The synthetic-world helpers (``W.make_world``, ``W.world_context``, ``W.CRS``)."""
    return _World
