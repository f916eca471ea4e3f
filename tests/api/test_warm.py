"""Start-up warm-up (PARKPLAN_WARM=1 / parkplan serve): the heavy analyses are computed in the background once,
under the same cache keys the routes use, so the first request of each is answered from the cache."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api import auth
from api.app import create_app
from api.settings import Settings


@pytest.mark.slow
def test_warm_up_fills_the_routes_caches(dataset_path, tmp_path, monkeypatch):
    from parks.metrics import report

    app = create_app(dataset_path, f"sqlite:///{tmp_path / 'r.sqlite'}", Settings.from_env(warm=True))
    state = app.state.parkplan
    state.warm_thread.join(900)
    assert not state.warm_thread.is_alive()
    assert set(state.warmed) == {"suitability context", "metrics context", "metrics report", "cluster map",
                                 "scenario plans", "web pages", "garbage collector"}, state.warmed
    import gc

    assert gc.get_freeze_count() > 100_000  # the dataset and the warmed caches are out of the collector's walk
    with state.sessions() as db:
        raw, _ = auth.create_token(db, "analyst", label="t")
        db.commit()
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {raw}"}
    # nothing is computed by the requests: every metric function fails if called
    for name in ("compute_metrics", "lisa_rows", "ripley_section"):
        monkeypatch.setattr(report, name, lambda *a, **k: pytest.fail("computed again"))
    assert client.get("/metrics", headers=headers).status_code == 200
    assert client.get("/metrics/lisa", headers=headers).status_code == 200  # its part of the full report
    maps_before = len(state.maps)
    assert client.get("/maps/clusters", headers=headers).status_code == 200
    assert len(state.maps) == maps_before  # the warmed page, not a new one
    for scenario in ("urban-core", "scattered", "coastal-transfer", "all"):
        fut = __import__("api.routes.scenarios", fromlist=["plan_future"]).plan_future(app, scenario)
        assert fut.done() and fut.exception() is None
