"""Park popups: formatted numbers, a link to the park's page; a metric choropleth's legend names the
metric in the map's language with its unit, in that unit."""

from __future__ import annotations

from urllib.parse import quote

from maps.base import json_blocks, render_html


def _legend(m) -> list:
    blocks = json_blocks(render_html(m))
    return next(v for v in blocks.values() if isinstance(v, list) and v and isinstance(v[0], dict) and "items" in v[0])


def _features(m) -> list:
    blocks = json_blocks(render_html(m))
    return [f for v in blocks.values() if isinstance(v, dict) and v.get("type") == "FeatureCollection"
            for f in v["features"] if "_rows" in f["properties"] and f["properties"].get("_title")]


def test_park_popup_links_to_the_park_page_with_formatted_numbers(hostile_prepared):
    from maps.parks_map import parks_map

    ids = set(hostile_prepared.parks["park_id"].astype(str))
    for lang, suffix, text in (("zh", "", "查看园区详情"), ("en", "?lang=en", "Open the park's page")):
        feats = [f for f in _features(parks_map(hostile_prepared, lang=lang)) if f["properties"]["_rows"][0][1] in ids]
        assert len(feats) == len(ids)
        for f in feats:
            rows = f["properties"]["_rows"]
            pid = rows[0][1]
            link = rows[-1][1]
            assert link == {"href": f"/ui/parks/{quote(pid, safe='')}{suffix}", "text": text}
            employees = dict((r[0], r[1]) for r in rows[:-1])["从业人员" if lang == "zh" else "Employees"]
            assert isinstance(employees, str) and employees.replace(",", "").isdigit()


def test_metric_legend_has_the_metric_name_and_unit(hostile_prepared):
    from maps.parks_map import parks_map, park_profiles

    m = parks_map(hostile_prepared, metric="revenue", k=3)
    section = _legend(m)[-1]
    assert section["title"] == "营业收入（万元）"
    top = float(section["items"][-1]["label"].split("–")[1].replace(",", ""))
    prof = park_profiles(hostile_prepared)
    assert abs(top - prof["revenue"].max() / 1e4) <= 0.1  # in 10k yuan, as the title says
    assert _legend(parks_map(hostile_prepared, metric="revenue", k=3, lang="en"))[-1]["title"] == "Revenue (10k yuan)"


def test_key_enterprises_and_small_giants_are_layers_of_the_enterprises_map(hostile_prepared):
    from maps.enterprises_map import FLAG_LAYERS, enterprises_map

    ent = hostile_prepared.enterprises
    m = enterprises_map(hostile_prepared)
    blocks = json_blocks(render_html(m))
    for flag, color in FLAG_LAYERS.items():
        want = int(ent[flag].fillna(False).astype(bool).sum()) if flag in ent.columns else 0
        got = [b for b in blocks.values() if isinstance(b, dict) and b.get("color") == color and "lat" in b]
        if want == 0:
            assert got == []
            continue
        (layer,) = got
        names = set(ent.loc[ent[flag].fillna(False).astype(bool), "name"].astype(str))
        assert len(layer["lat"]) == want and set(layer["label"]) == names
    legend = _legend(m)
    assert any(s["title"] == "重点企业" for s in legend) == bool(
        sum(int(ent[f].fillna(False).astype(bool).sum()) for f in FLAG_LAYERS if f in ent.columns))
