"""GET /maps/{name} and /maps/assets/... through the app (roles, validation, traversal), and the
``parkplan map`` command (self-contained HTML, a user-imported enterprise, --png)."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient

from .conftest import HOSTILE, HOSTILE_SCRIPT, chromium_path


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
    assert re.search(r"script-src 'self' 'nonce-[A-Za-z0-9_-]{24}';", r.headers["content-security-policy"])
    assert "unsafe-inline" not in r.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert "unsafe-eval" not in r.headers["content-security-policy"]
    r = client.get("/maps/enterprises", headers=_auth(tokens, "viewer"))
    assert r.status_code == 403 and "analyst" in r.json()["detail"]
    assert client.get("/maps/enterprises?sector=textiles", headers=_auth(tokens, "analyst")).status_code == 200


@pytest.mark.parametrize("url,status,detail", [
    ("/maps/nope", 422, None),
    ("/maps/..%2f..%2fetc%2fpasswd", 404, None),
    ("/maps/parks?lang=fr", 422, None),
    ("/maps/parks?sector=txtile", 400, "sector 'txtile' not accepted"),
    ("/maps/parks?county=999999", 404, "county '999999' not found"),
    ("/maps/parks?county=3301", 422, None),
    ("/maps/parks?metric=nope", 400, "metric 'nope' not accepted"),
    ("/maps/parks?metric=employees", 200, None),
    ("/maps/suitability", 422, "needs enterprise_id or a profile"),
    ("/maps/suitability?enterprise_id=NOPE", 404, "NOPE"),
])
def test_map_parameters_checked(client, tokens, url, status, detail):
    r = client.get(url, headers=_auth(tokens, "admin"))
    assert r.status_code == status, r.text
    if detail:
        assert detail in r.json()["detail"]
    if status == 400:  # a map's refusal is coded: its code and the same refusal in Chinese, naming the value
        body = r.json()
        assert body["code"].startswith("map.") and "not accepted" not in body["detail_zh"]
        assert url.rsplit("=", 1)[1] in body["detail_zh"]


def test_map_english_cached_and_gzipped(client, tokens):
    a = client.get("/maps/parks?lang=en", headers=_auth(tokens, "viewer"))
    b = client.get("/maps/parks?lang=en", headers={**_auth(tokens, "viewer"), "Accept-Encoding": "identity"})
    assert a.headers["content-encoding"] == "gzip" and "content-encoding" not in b.headers
    na, nb = (re.search(r"'nonce-([^']+)'", r.headers["content-security-policy"]).group(1) for r in (a, b))
    assert na != nb  # a fresh nonce per response, also from the cached, pre-compressed page
    assert a.text.count(f'<script nonce="{na}"') == a.text.count("<script") > 0
    assert re.sub(r' nonce="[^"]+"', "", a.text) == re.sub(r' nonce="[^"]+"', "", b.text)
    assert "Industrial parks" in a.text and "园区分布图" not in a.text


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
    r = CliRunner().invoke(app, ["map", "nope", "-o", str(out), "--data", str(tmp_dataset_path), "--lang", "en"])
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
    from maps.base import json_blocks

    found = [b for b in json_blocks(html).values() if isinstance(b, list) and b and isinstance(b[0], dict) and "from" in b[0]]
    return found[0] if found else []


def test_transfers_map_shows_proposals_scoped_to_offices(client, map_app, tokens):
    from api.auth import create_token

    r = client.get("/maps/transfers", headers=_auth(tokens, "admin"))
    assert r.status_code == 200
    state = map_app.state.parkplan
    proposals = state.maps.get(state.key("map-proposals"))
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
    dest = next(c for c in ld if (ds.parks["county_code"] == c).any())  # a less-developed county with a park
    park = ds.parks[ds.parks["county_code"] == dest].iloc[0]
    add_candidates(app.state.engine, [
        {"candidate_id": f"T{i}", "enterprise_id": ds.enterprises["enterprise_id"].iloc[i],
         "origin_county_code": origin[i % 2], "destination_county_code": dest, "park_id": park["park_id"]}
        for i in range(3)])
    with app.state.sessions() as db:
        admin, _ = create_token(db, "admin", label="a")
        elsewhere, _ = create_token(db, "reviewer", offices=[next(c for c in ld if c != dest)], label="b")
        db.commit()
    client = TestClient(app)
    html = client.get("/maps/transfers", headers={"Authorization": f"Bearer {admin}"}).text
    flows = _flows(html)
    assert sorted(f["n"] for f in flows) == [1, 2]
    assert all("待审核" in json_rows for f in flows for json_rows in [str(f["rows"])])  # pending: the review pages' word
    html = client.get("/maps/transfers", headers={"Authorization": f"Bearer {elsewhere}"}).text
    assert _flows(html) == []  # stored candidates exist, none in this office: no model proposal instead

    # viewers and analysts review no office: they see the same flows, aggregated, with no candidate or firm named
    with app.state.sessions() as db:
        viewer, _ = create_token(db, "viewer", label="v")
        analyst, _ = create_token(db, "analyst", label="n")
        db.commit()
    admin_flows = _flows(client.get("/maps/transfers", headers={"Authorization": f"Bearer {admin}"}).text)

    def firm_rows(flows):  # a popup row per candidate: "<candidate id> · <firm name>"
        return [row[0] for f in flows for row in f["rows"] if str(row[0]).startswith(("T0 · ", "T1 · ", "T2 · "))]

    assert len(firm_rows(admin_flows)) == 3  # an admin's popups list the firms
    for token in (viewer, analyst):
        r = client.get(f"/maps/transfers?county={dest}", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        flows = _flows(r.text)
        assert sorted(f["n"] for f in flows) == [1, 2]
        assert [f["title"] for f in flows] == [f["title"] for f in admin_flows]
        assert firm_rows(flows) == [] and all(len(f["rows"]) == 5 for f in flows), flows  # counts only


PROFILE = {"sector": "textiles", "land_ha": "2.5", "employees": "80", "pollution_class": "light", "lon": "120.6",
           "lat": "29.9"}


def _block_with(html: str, key: str, *also: str):
    """The value of ``key`` in the page's one JSON block (a dict) that has ``key`` and ``also``."""
    from maps.base import json_blocks

    (found,) = [b[key] for b in json_blocks(html).values() if isinstance(b, dict) and all(k in b for k in (key, *also))]
    return found


def test_suitability_map_for_a_profile_ranks_as_the_api(client, map_app, tokens):
    """A typed-in profile (not in the dataset): the map's candidate parks, their ranks and the site are
    those ``POST /suitability`` returns for the same profile."""
    r = client.get("/maps/suitability", params={**PROFILE, "profile_name": HOSTILE, "lang": "en"},
                   headers=_auth(tokens, "analyst"))
    assert r.status_code == 200, r.text
    html = r.text
    assert HOSTILE not in html and "\\u003cimg" in html  # the name reaches the page as JSON text only
    body = {k: float(v) if k in ("land_ha", "lon", "lat") else int(v) if k == "employees" else v
            for k, v in PROFILE.items()}
    api = client.post("/suitability", json={"profile": body}, headers=_auth(tokens, "analyst")).json()
    labels = re.findall(r'"_label": ?"(\d+)"', html)
    assert labels == [str(x["rank"]) for x in api["ranked"][:10]]
    tips = re.findall(r'"_tip": ?"#(\d+) ', html)
    assert len(tips) == len(api["ranked"]) > 0
    site = _block_with(html, "site", "rows")
    assert site == [29.9, 120.6]
    # without a name the profile is still titled
    html = client.get("/maps/suitability", params=PROFILE, headers=_auth(tokens, "analyst")).text
    assert "输入的企业画像" in html


@pytest.mark.parametrize("params,field,message", [
    ({**PROFILE, "sector": "txtile"}, "query.sector", "textiles"),
    ({**PROFILE, "land_ha": "-1"}, "query.land_ha", "greater than or equal to 0"),
    ({**PROFILE, "land_ha": "nan"}, "query.land_ha", "finite"),
    ({**PROFILE, "employees": "many"}, "query.employees", "integer"),
    ({**PROFILE, "pollution_class": "toxic"}, "query.pollution_class", "'light', 'medium' or 'heavy'"),
    ({**PROFILE, "lat": "120.6"}, "query.lat", "less than or equal to 90"),
    ({k: v for k, v in PROFILE.items() if k != "lon"}, "query.lon", "a profile needs sector, land_ha"),
    ({"sector": "textiles"}, "query.land_ha", "missing"),
    ({**PROFILE, "enterprise_id": "E0000001"}, "query.enterprise_id", "not both"),
    ({**PROFILE, "weights": "distance:60,speed:5"}, "query.weights", "unknown criterion 'speed'"),
    ({**PROFILE, "weights": "distance=60"}, "query.weights", "is not criterion:number"),
    ({**PROFILE, "weights": "distance:-1"}, "query.weights", "must be >= 0"),
    ({**PROFILE, "weights": "distance:0"}, "query.weights", "all zero"),
    ({**PROFILE, "weights": "distance:inf"}, "query.weights", "is not criterion:number"),
    ({**PROFILE, "weights": "distance:1e308,labour:1e308"}, "query.weights", "too large"),
    ({**PROFILE, "max_distance_km": "0"}, "query.max_distance_km", "greater than 0"),
])
def test_suitability_map_profile_validated(client, tokens, params, field, message):
    r = client.get("/maps/suitability", params=params, headers=_auth(tokens, "analyst"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert any(e["field"] == field and message in e["message"] for e in errors), errors
    assert field in r.json()["detail"]


def test_suitability_map_with_weights_and_constraints_ranks_as_the_api(client, map_app, tokens):
    eid = str(map_app.state.dataset.enterprises["enterprise_id"].iloc[5])
    weights = {"distance": 60, "sector_fit": 5, "land_price": 20}
    params = {"enterprise_id": eid, "weights": ",".join(f"{k}:{v}" for k, v in weights.items()),
              "less_developed_only": "true", "lang": "en"}
    html = client.get("/maps/suitability", params=params, headers=_auth(tokens, "analyst")).text
    api = client.post("/suitability", json={"enterprise_id": eid, "weights": weights,
                                            "constraints": {"less_developed_only": True}},
                      headers=_auth(tokens, "analyst")).json()
    assert re.findall(r'"_label": ?"(\d+)"', html) == [str(r["rank"]) for r in api["ranked"][:10]]
    ids = re.findall(r'"_id": ?"([^"]+)"', html)
    assert ids[-len(api["ranked"]):] == [r["park_id"] for r in api["ranked"]]  # candidates, drawn in rank order
    assert len(re.findall(r'"_tip": ?"#\d+ ', html)) == len(api["ranked"]) < len(map_app.state.dataset.parks)


def test_suitability_map_profile_needs_the_analyst_role(client, tokens):
    r = client.get("/maps/suitability", params=PROFILE, headers=_auth(tokens, "viewer"))
    assert r.status_code == 403


def test_candidate_map_is_office_scoped(hostile_path, tmp_path):
    """``/maps/transfers?candidate_id=``: the candidate's site, proposed park and second-best park with the
    lines between, for the candidate's offices and admins; another office gets 404, as the API."""
    from api.app import create_app, suitability_context
    from api.auth import create_token
    from api.reviews import add_candidates
    from parks.suitability import score_enterprise

    app = create_app(hostile_path, db_url=f"sqlite:///{tmp_path / 'r.sqlite'}")
    ds = app.state.dataset
    eid = str(ds.enterprises["enterprise_id"].iloc[1])  # named HOSTILE_SCRIPT
    res = score_enterprise(suitability_context(app), eid, top=2).to_dict()
    best, alt = res["ranked"][:2]
    origin = str(ds.enterprises["county_code"].iloc[1])
    add_candidates(app.state.engine, [{
        "candidate_id": "TC1", "enterprise_id": eid, "origin_county_code": origin,
        "destination_county_code": best["county_code"], "park_id": best["park_id"], "score": best["score"],
        "snapshot": {"enterprise": res["enterprise"], "park": {"park_id": best["park_id"], "name": best["name"]},
                     "alternative": {"park_id": alt["park_id"], "score": alt["score"]}}}])
    other = next(c for c in ds.counties["code"].astype(str) if c not in (origin, best["county_code"]))
    with app.state.sessions() as db:
        tok = {name: create_token(db, role, offices, label=name)[0] for name, role, offices in (
            ("admin", "admin", ()), ("origin", "reviewer", (origin,)), ("dest", "reviewer", (best["county_code"],)),
            ("other", "reviewer", (other,)), ("viewer", "viewer", ()))}
        db.commit()
    client = TestClient(app)
    for who in ("admin", "origin", "dest"):
        r = client.get("/maps/transfers?candidate_id=TC1&lang=en", headers={"Authorization": f"Bearer {tok[who]}"})
        assert r.status_code == 200, (who, r.text)
    html = r.text
    assert HOSTILE_SCRIPT not in html and "TC1" in html
    props = re.findall(r'"_tip": ?"([^"]+)"', html)
    assert sorted(p.split(":")[0] for p in props if ":" in p) == ["Proposed park", "Second-best park"]
    lines = _block_with(html, "lines")
    assert len(lines) == 2
    site = _block_with(html, "site", "rows")
    assert site == pytest.approx([round(res["enterprise"]["lat"], 5), round(res["enterprise"]["lon"], 5)])
    for who in ("other", "viewer"):
        r = client.get("/maps/transfers?candidate_id=TC1", headers={"Authorization": f"Bearer {tok[who]}"})
        assert r.status_code == 404 and "TC1" in r.json()["detail"], who
    r = client.get("/maps/transfers?candidate_id=NOPE", headers={"Authorization": f"Bearer {tok['admin']}"})
    assert r.status_code == 404


def test_cli_map_suitability_for_a_profile(dataset_path, tmp_path):
    from typer.testing import CliRunner

    from api.cli import app

    out = tmp_path / "p.html"
    args = ["map", "suitability", "-o", str(out), "--data", str(dataset_path), "--lang", "en", "--sector", "textiles",
            "--land-ha", "2.5", "--employees", "80", "--pollution-class", "light", "--lon", "120.6", "--lat", "29.9"]
    r = CliRunner().invoke(app, [*args, "--profile-name", HOSTILE, "--weights", "distance:60,sector_fit:5"])
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert "Relocation suitability" in html and HOSTILE not in html
    assert re.findall(r'"_label": ?"(\d+)"', html)[:3] == ["1", "2", "3"]
    r = CliRunner().invoke(app, args[:-2])
    assert r.exit_code != 0 and "a profile needs --lat as well" in r.output
    r = CliRunner().invoke(app, [*args, "--weights", "speed:3"])
    assert r.exit_code != 0 and "unknown criterion 'speed'" in r.output
    r = CliRunner().invoke(app, [*args[:-1], "95"])
    assert r.exit_code != 0 and "not WGS 84 degrees" in r.output
