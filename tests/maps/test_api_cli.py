"""GET /maps/{name} and /maps/assets/... through the app (roles, validation, traversal), and the
``parkplan map`` command (self-contained HTML, a user-imported enterprise, --png)."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient

from .conftest import HOSTILE, chromium_path


@pytest.fixture(scope="module")
def client(map_app):
    return TestClient(map_app)


def _auth(tokens, role):
    return {"Authorization": f"Bearer {tokens[role]}"}


def test_assets_need_no_login_and_are_typed(client):
    r = client.get("/maps/assets/leaflet/leaflet.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    r = client.get("/maps/assets/leaflet/leaflet.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert client.get("/maps/assets/leaflet/images/layers.png").headers["content-type"] == "image/png"
    assert client.get("/maps/assets/plugins/leaflet_heat.min.js").status_code == 200
    assert client.get("/maps/assets/parkplan/parkplan.js").status_code == 200


@pytest.mark.parametrize("path", ["leaflet/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "..%2f..%2fapi%2fapp.py",
                                  "leaflet/..%2F..%2F..%2Fetc%2Fpasswd", "parkplan/../../maps/base.py",
                                  "nope/x.js", "leaflet/leaflet.py", "plugins/x.js"])
def test_assets_refuse_traversal(client, path):
    r = client.get(f"/maps/assets/{path}")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_map_needs_login_and_roles(client, tokens):
    assert client.get("/maps/parks").status_code == 401
    r = client.get("/maps/parks", headers=_auth(tokens, "viewer"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src 'self' 'unsafe-inline'" in r.headers["content-security-policy"]
    assert "unsafe-eval" not in r.headers["content-security-policy"]
    r = client.get("/maps/enterprises", headers=_auth(tokens, "viewer"))
    assert r.status_code == 403 and "analyst" in r.json()["detail"]
    assert client.get("/maps/enterprises?sector=textiles", headers=_auth(tokens, "analyst")).status_code == 200


@pytest.mark.parametrize("url,status,detail", [
    ("/maps/nope", 422, None),
    ("/maps/..%2f..%2fetc%2fpasswd", 404, None),
    ("/maps/parks?lang=fr", 422, None),
    ("/maps/parks?sector=txtile", 400, "sector 'txtile' not accepted"),
    ("/maps/parks?county=999999", 400, "county '999999' not found"),
    ("/maps/parks?metric=nope", 400, "metric 'nope' not accepted"),
    ("/maps/parks?metric=employees", 200, None),
    ("/maps/suitability", 400, "needs enterprise_id"),
    ("/maps/suitability?enterprise_id=NOPE", 404, "NOPE"),
])
def test_map_parameters_checked(client, tokens, url, status, detail):
    r = client.get(url, headers=_auth(tokens, "admin"))
    assert r.status_code == status, r.text
    if detail:
        assert detail in r.json()["detail"]


def test_map_english_cached_and_gzipped(client, tokens):
    a = client.get("/maps/parks?lang=en", headers=_auth(tokens, "viewer"))
    b = client.get("/maps/parks?lang=en", headers={**_auth(tokens, "viewer"), "Accept-Encoding": "identity"})
    assert a.headers["content-encoding"] == "gzip" and "content-encoding" not in b.headers
    assert a.text == b.text and "Industrial parks" in a.text and "园区分布图" not in a.text


def _import_enterprise(path, raw_dataset, tmp_path, name: str) -> str:
    from geodata.importer import import_layer

    row = raw_dataset.enterprises.iloc[[10]].copy()
    new_id = "E9999001"
    row["enterprise_id"] = new_id
    row["name"] = name
    src = tmp_path / "new.geojson"
    row.to_file(src, driver="GeoJSON")
    import_layer(path, "enterprises", src, mode="append")
    return new_id


def test_cli_map_writes_self_contained_html_for_imported_enterprise(tmp_dataset_path, raw_dataset, tmp_path):
    from typer.testing import CliRunner

    from api.cli import app

    new_id = _import_enterprise(tmp_dataset_path, raw_dataset, tmp_path, HOSTILE)
    out = tmp_path / "s.html"
    r = CliRunner().invoke(app, ["map", "suitability", "--enterprise-id", new_id, "-o", str(out),
                                 "--data", str(tmp_dataset_path), "--lang", "en"])
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert "/maps/assets/" not in html
    assert not re.findall(r'<(?:script|link)[^>]*(?:src|href)="', html)  # everything inlined
    assert new_id in html and HOSTILE not in html
    assert "Relocation suitability" in html
    r = CliRunner().invoke(app, ["map", "nope", "-o", str(out), "--data", str(tmp_dataset_path)])
    assert r.exit_code == 2 and "accepted: parks, enterprises" in r.output


@pytest.mark.browser
def test_cli_map_png(dataset_path, tmp_path):
    import os

    from PIL import Image, ImageStat
    from typer.testing import CliRunner

    from api.cli import app

    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI")
        pytest.skip("chromium not installed")
    out = tmp_path / "parks.png"
    r = CliRunner().invoke(app, ["map", "parks", "-o", str(out), "--png", "--data", str(dataset_path)],
                           env={"PARKPLAN_CHROMIUM": chromium_path()})
    assert r.exit_code == 0, r.output
    img = Image.open(io.BytesIO(out.read_bytes())).convert("L")
    assert img.size[0] >= 800 and ImageStat.Stat(img).stddev[0] > 5.0


def _flows(html: str) -> list[dict]:
    import json

    return json.loads(re.search(r"var \w+ = L\.featureGroup\(\); (\[.*?\])\.forEach", html).group(1))


def test_transfers_map_shows_proposals_scoped_to_offices(client, map_app, tokens):
    from api.auth import create_token

    r = client.get("/maps/transfers", headers=_auth(tokens, "admin"))
    assert r.status_code == 200
    proposals = next(v for k, v in map_app.state.cache.items() if isinstance(k, tuple) and k[0] == "map-proposals")
    assert len(proposals) > 0 and sum(f["n"] for f in _flows(r.text)) == len(proposals)
    office = proposals["destination_county_code"].value_counts().index[0]
    with map_app.state.sessions() as db:
        raw, _ = create_token(db, "reviewer", offices=[office], label="maps-office")
        db.commit()
    mine = proposals[(proposals["origin_county_code"] == office) | (proposals["destination_county_code"] == office)]
    html = client.get("/maps/transfers", headers={"Authorization": f"Bearer {raw}"}).text
    assert sum(f["n"] for f in _flows(html)) == len(mine)
    other = next(c for c in map_app.state.dataset.counties["code"] if c != office)
    r = client.get(f"/maps/transfers?county={other}", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 403


def test_tiles_from_settings_allowed_by_csp(client, tokens, monkeypatch):
    monkeypatch.setenv("PARKPLAN_MAP_TILES", "amap")
    r = client.get("/maps/parks", headers=_auth(tokens, "viewer"))
    assert r.status_code == 200 and "autonavi.com" in r.text
    assert "img-src 'self' data: https://*.is.autonavi.com;" in r.headers["content-security-policy"]
    monkeypatch.setenv("PARKPLAN_MAP_TILES", "tianditu")
    r = client.get("/maps/parks", headers=_auth(tokens, "viewer"))
    assert r.status_code == 400 and "Tianditu key" in r.json()["detail"]
    monkeypatch.delenv("PARKPLAN_MAP_TILES")
    r = client.get("/maps/parks", headers=_auth(tokens, "viewer"))
    assert "autonavi" not in r.text and "img-src 'self' data:;" in r.headers["content-security-policy"]


def test_cli_map_png_without_chromium_draws_with_matplotlib(dataset_path, tmp_path):
    from PIL import Image, ImageStat
    from typer.testing import CliRunner

    from api.cli import app

    out = tmp_path / "ent.png"
    r = CliRunner().invoke(app, ["map", "enterprises", "-o", str(out), "--png", "--data", str(dataset_path),
                                 "--lang", "en"], env={"PARKPLAN_CHROMIUM": str(tmp_path / "no-such-chromium")})
    assert r.exit_code == 0, r.output
    assert "matplotlib" in r.output
    img = Image.open(out).convert("L")
    assert ImageStat.Stat(img).stddev[0] > 5.0


def test_transfers_map_shows_stored_candidates_with_status(hostile_path, tmp_path):
    """Once candidates are stored (``parkplan transfers propose``), the map shows those, office-scoped."""
    from api.app import create_app
    from api.auth import create_token
    from api.reviews import add_candidates

    app = create_app(hostile_path, db_url=f"sqlite:///{tmp_path / 'r.sqlite'}")
    ds = app.state.dataset
    ld = ds.counties[ds.counties["less_developed"]]["code"].tolist()
    origin = ds.counties[~ds.counties["less_developed"]]["code"].tolist()
    park = ds.parks[ds.parks["county_code"] == ld[0]].iloc[0]
    add_candidates(app.state.engine, [
        {"candidate_id": f"T{i}", "enterprise_id": ds.enterprises["enterprise_id"].iloc[i],
         "origin_county_code": origin[i % 2], "destination_county_code": ld[0], "park_id": park["park_id"]}
        for i in range(3)])
    with app.state.sessions() as db:
        admin, _ = create_token(db, "admin", label="a")
        elsewhere, _ = create_token(db, "reviewer", offices=[ld[1]], label="b")
        db.commit()
    client = TestClient(app)
    html = client.get("/maps/transfers", headers={"Authorization": f"Bearer {admin}"}).text
    flows = _flows(html)
    assert sorted(f["n"] for f in flows) == [1, 2]
    assert all("已提议" in json_rows for f in flows for json_rows in [str(f["rows"])])  # pending = proposed
    html = client.get("/maps/transfers", headers={"Authorization": f"Bearer {elsewhere}"}).text
    assert _flows(html) == []  # stored candidates exist, none in this office: no model proposal instead
