"""The suitability context keeps every enterprise's WGS 84 lon/lat, so an enterprise given by id is described
without building a transformer per request; the stored degrees equal a fresh pyproj transformation."""

from __future__ import annotations

import numpy as np
import pyproj

from parks.suitability.model import resolve_enterprise


def test_context_lonlat_equal_a_fresh_transformation(W):
    ctx, w = W.world_context(seed=3)
    pop = ctx.enterprises
    fresh = pyproj.Transformer.from_crs(ctx.metric_crs, 4326, always_xy=True)
    lon, lat = fresh.transform(pop["x"].to_numpy(float), pop["y"].to_numpy(float))
    np.testing.assert_allclose(pop["lon"].to_numpy(float), lon, rtol=0, atol=1e-9)
    np.testing.assert_allclose(pop["lat"].to_numpy(float), lat, rtol=0, atol=1e-9)
    # and against the input layer's own geometry in degrees
    ents = w["enterprises"].to_crs(4326).set_index("enterprise_id")
    for eid in list(pop.index[:10]):
        _, info = resolve_enterprise(ctx, eid)
        assert abs(info["lon"] - ents.loc[eid].geometry.x) < 1e-7
        assert abs(info["lat"] - ents.loc[eid].geometry.y) < 1e-7
