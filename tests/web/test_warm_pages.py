"""The workspace's pages after the start-up warm-up (api.web.warm): answered from what it computed, the same
page as without it; every park's profile computed at once equals the one-park reference."""

from __future__ import annotations

import pytest

from api.web import charts, pages_parks
from api.web.warm import warm

from .conftest import login_client


def test_park_profiles_equal_the_one_park_reference(web):
    ds = web.app.state.parkplan.dataset
    every = pages_parks.park_profiles(ds)
    assert set(every) == set(ds.parks["park_id"].astype(str))
    for pid, got in every.items():
        want = pages_parks.park_profile(ds, pid)
        assert got["profile"] == pytest.approx(want["profile"]), pid
        counts = [r["enterprises"] for r in got["by_sector"]]
        assert counts == sorted(counts, reverse=True), pid  # most enterprises first, as the reference
        g = {r["sector"]: r for r in got["by_sector"]}
        w = {r["sector"]: r for r in want["by_sector"]}
        assert set(g) == set(w), pid
        for sector, row in w.items():
            assert g[sector] == pytest.approx(row), (pid, sector)


@pytest.mark.slow
def test_pages_after_warm_up_draw_nothing_again(web, monkeypatch):
    state = web.app.state.parkplan
    client = login_client(web.app, web.tokens["analyst"])
    ds = state.dataset
    pid = str(ds.parks["park_id"].iloc[1])
    sector = next(s for s in ("textiles", "machinery") if (ds.enterprises["sector"] == s).any())
    before = {path: client.get(path) for path in (f"/ui/parks/{pid}", f"/ui/metrics?sector={sector}", "/ui/plan")}
    warm(state)
    # every chart and map of the warmed pages is drawn: drawing again would fail
    for name in ("bar_chart", "ripley_chart", "county_map"):
        monkeypatch.setattr(charts, name, lambda *a, **k: pytest.fail("drawn again after the warm-up"))
    from api.web import pages_plan

    monkeypatch.setattr(pages_plan, "target_chart", lambda *a, **k: pytest.fail("drawn again after the warm-up"))
    for other_pid in ds.parks["park_id"].astype(str)[:20]:
        assert client.get(f"/ui/parks/{other_pid}").status_code == 200
    for other in sorted(set(ds.enterprises["sector"].astype(str)))[:3]:
        assert client.get(f"/ui/metrics?sector={other}").status_code == 200
    for path, old in before.items():
        new = client.get(path)
        assert new.status_code == old.status_code == 200, path
        # the same page (the CSRF token and nonce-free parts are the same: compare the main content)
        assert new.text.split("<main", 1)[-1] == old.text.split("<main", 1)[-1], path
