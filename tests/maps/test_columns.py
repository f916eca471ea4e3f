"""maps.columns: the compact column data of the enterprises map. Python's decode_columns gives back
exactly the plain columns (coordinates the same doubles as numpy.round(x, 5)); strings escaped as
js_json escapes them; anything that does not fit a compact form is sent plain; and the page's
PARKPLAN.columns (real Chromium) decodes to the same values as Python."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maps import MapOptions
from maps.base import js_json
from maps.columns import coded_ids, columns_json, decode_columns, fixed, strings_json
from maps.enterprises_map import _column_arrays, compact_columns, enterprise_columns

from .conftest import HOSTILE, HOSTILE_SCRIPT

NASTY = [HOSTILE, HOSTILE_SCRIPT, "X{{ 7*191 }}", "{% raw %}", "{#c#}", "a\u2028b\u2029c", "&amp;", "引号\"\\",
         "tab\tnew\nline\x00\x1f", "", "𠮷野家", "<!--", "]}", "\u00a0"]


def _roundtrip(columns: dict) -> dict:
    return decode_columns(json.loads(columns_json(columns).text))


def test_enterprise_columns_round_trip_exactly(hostile_prepared):
    ent = hostile_prepared.enterprises
    codes = hostile_prepared.counties["code"].astype(str).tolist()
    for opts in (MapOptions(), MapOptions(tiles="amap")):  # WGS 84 and GCJ-02-shifted coordinates
        plain = enterprise_columns(ent, opts, codes)
        compact = compact_columns(_column_arrays(ent, opts, codes))
        assert isinstance(compact["lat"], dict) and isinstance(compact["id"], dict)  # the compact forms were used
        back = _roundtrip(compact)
        assert back == plain  # floats compared exactly: the same doubles as numpy.round(x, 5)
        assert HOSTILE in back["label"] and HOSTILE_SCRIPT in back["label"]


def test_compact_is_smaller(hostile_prepared):
    ent = hostile_prepared.enterprises
    codes = hostile_prepared.counties["code"].astype(str).tolist()
    plain = js_json(enterprise_columns(ent, MapOptions(), codes))
    compact = columns_json(compact_columns(_column_arrays(ent, MapOptions(), codes))).text
    assert len(compact.encode()) < 0.9 * len(plain.encode())


@pytest.mark.parametrize("values", [NASTY, ["plain"], [], ["\ud800 lone surrogate"]])
def test_strings_json_escapes_as_js_json(values):
    text = strings_json(values)
    assert json.loads(text) == json.loads(js_json(values)) == values
    for raw in ("<", ">", "&", "{", "}", "\u2028", "\u2029"):
        assert raw not in text


def test_strings_json_non_strings_take_the_general_path():
    assert json.loads(strings_json(["a", None, 3])) == ["a", None, 3]


def test_columns_json_is_safe_for_a_script_block():
    cols = {"label": NASTY, "id": NASTY, "n": np.arange(len(NASTY)), HOSTILE: ["key"]}
    text = columns_json(cols).text
    for raw in ("<", ">", "&", "\u2028", "\u2029", "{{", "{%", "{#"):
        assert raw not in text.replace('{"', "").replace(',"', "")  # structural braces only before keys
    back = decode_columns(json.loads(text))
    assert back["label"] == NASTY and back["n"] == list(range(len(NASTY))) and back[HOSTILE] == ["key"]


@pytest.mark.parametrize("decimals", [0, 3, 5, 7])
def test_fixed_is_numpy_round(decimals):
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(118, 123, 5000), rng.uniform(-180, 180, 5000), [0.0, -0.000004, 27.000005]])
    back = _roundtrip({"x": fixed(x, decimals)})["x"]
    assert back == np.round(x, decimals).tolist()


@pytest.mark.parametrize("bad", [[1.0, np.nan], [np.inf], [1e12]])
def test_fixed_refuses_what_it_cannot_send_exactly(bad):
    assert fixed(np.array(bad), 5) is None


@pytest.mark.parametrize("ids", [
    ["E0000001", "E0000002", "E0000010"],
    ["E0000010", "E0000002", "E0000001"],   # differences may be negative
    ["000", "001", "999"],                  # no prefix, leading zeros kept
    ["园区-A-07", "园区-A-12"],               # any prefix
    ["X{{1}}<9", "X{{1}}<0"],               # a hostile prefix (escaped by js_json)
])
def test_coded_ids_round_trip(ids):
    coded = coded_ids(ids)
    assert coded is not None
    assert _roundtrip({"id": coded})["id"] == ids


@pytest.mark.parametrize("ids", [
    [], ["E1", "E10"], ["E01", "F02"], ["E01", "E0x"], ["E٠١"], ["E1234567890123456"], ["abc"], ["E1", None],
])
def test_coded_ids_fall_back_to_plain(ids):
    assert coded_ids(ids) is None


@pytest.mark.browser
def test_page_decodes_as_python(page_run, server, hostile_prepared):
    run = page_run("analyst")
    run.open(f"{server}/maps/enterprises", timeout_ms=240_000)  # the first page waits for the warm-up
    got = run.page.evaluate("""() => {
        for (const s of document.querySelectorAll('script[type="application/json"]')) {
            const b = JSON.parse(s.textContent);
            if (b && b.data && b.meta) {
                const d = pp_ent_data, out = {};
                for (const k of ['lat', 'lon', 'label', 'id', 'sector', 'size', 'employees', 'county']) {
                    out[k] = Array.from(d[k]);
                }
                return {raw: b.data, decoded: out};
            }
        }
        return null;
    }""")
    assert got is not None and isinstance(got["raw"]["lat"], dict)
    decoded = got["decoded"]
    assert decoded == decode_columns(got["raw"])
    # and the page's values are the dataset's, enterprise by enterprise
    ent = hostile_prepared.enterprises
    plain = enterprise_columns(ent, MapOptions(), hostile_prepared.counties["code"].astype(str).tolist())
    by_id = {i: (plain["lat"][k], plain["lon"][k], plain["label"][k]) for k, i in enumerate(plain["id"])}
    assert len(decoded["id"]) == len(by_id)
    for k, i in enumerate(decoded["id"]):
        assert by_id[i] == (decoded["lat"][k], decoded["lon"][k], decoded["label"][k])
    # edge cases straight through PARKPLAN.columns
    cases = {"a": coded_ids(["000", "001", "999"]), "b": coded_ids(["E0000010", "E0000002"]),
             "c": fixed(np.array([-0.000004, 27.000005, 120.123456]), 5), "d": ["x", HOSTILE]}
    payload = json.loads(columns_json(cases).text)
    assert run.page.evaluate(
        "(x) => { const c = PARKPLAN.columns(x); const o = {}; for (const k in c) o[k] = Array.from(c[k]); return o; }",
        payload) == decode_columns(payload)
    # the heat layer (off by default) gets its points when first shown, every enterprise
    heat = "PARKPLAN.layers.heatmap[0]"
    assert run.page.evaluate(f"() => {heat}._latlngs.length") == 0
    run.page.evaluate(f"() => {{ {heat}.addTo(PARKPLAN.maps[0]); }}")
    assert run.page.evaluate(f"() => {heat}._latlngs.length") == len(by_id)
    assert run.page.evaluate(f"() => {heat}._latlngs[0][0] === pp_ent_data.lat[0] && {heat}._latlngs[0][1] === pp_ent_data.lon[0]")
    assert run.errors == [] and run.blocked == []
