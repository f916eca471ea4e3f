"""Review exports a person reads: the PDF review sheet's text (extractable, names, units) and glyphs, the
decisions' Excel (the glossary's statuses, scores as on the page, Beijing time)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pypdf
import pytest
from fontTools.ttLib import TTFont

from api import exports
from geodata import glossary


def _candidates(api):
    r = api.get("/transfer-candidates?limit=1000", as_="reviewer_a")
    assert r.status_code == 200
    return r.json()["items"]


def _with_alternative(api):
    for c in _candidates(api):
        d = api.get(f"/transfer-candidates/{c['candidate_id']}", as_="reviewer_a").json()
        if (d.get("snapshot") or {}).get("alternative"):
            return d
    pytest.fail("the small dataset gives office A a candidate with a second-best park; none has one now")


def test_review_sheet_text_extracts_as_typed_with_names_and_units(fresh_api, dataset):
    api = fresh_api
    c = _with_alternative(api)
    cid = c["candidate_id"]
    assert api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a",
                    json={"decision": "approved", "comment": "同意转移", "version": 1}).status_code == 201
    r = api.get(f"/transfer-candidates/{cid}/sheet.pdf", as_="reviewer_a")
    assert r.status_code == 200
    reader = pypdf.PdfReader(io.BytesIO(r.content))
    text = "".join(p.extract_text() for p in reader.pages)
    assert "\x00" not in text
    # no space (nor NUL) between the characters of a word
    for needle in ("企业转移候选审核表", "评分明细", "审核记录", "同意转移", "次优园区", "迁入县", "北京时间"):
        assert needle in text, needle
    alt = c["snapshot"]["alternative"]
    names = dict(zip(dataset.parks["park_id"].astype(str), dataset.parks["name"].astype(str)))
    assert names[alt["park_id"]] in text  # the second-best park's name, not only its id
    for unit in ("公顷", "人", "公里", "元/平方米"):
        assert unit in text, unit
    assert glossary.term("status_approved") in text

    # every drawn glyph of the embedded font has an outline (no .notdef boxes)
    font = next(iter(reader.pages[0]["/Resources"]["/Font"].values())).get_object()
    desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
    data = desc["/FontFile2"].get_object().get_data()
    tt = TTFont(io.BytesIO(data))
    glyf = tt["glyf"]
    for ch in "企业转移候选审核表迁入县":
        gname = tt.getBestCmap()[ord(ch)]
        assert gname != ".notdef" and glyf[gname].numberOfContours > 0, ch


def test_decision_rows_read_as_the_page():
    rows = [{"candidate_id": "TC-1", "enterprise_id": "E1", "enterprise_name": "=cmd|x", "origin_county_code": "330481",
             "destination_county_code": "330825", "park_id": "P1", "park_name": "园区", "score": 0.123456,
             "decision": "needs_info", "comment": "", "reviewer": "a", "decided_at": "2026-11-30T17:30:00",
             "version_after": 2, "current_status": "needs_info"}]
    out = exports.decision_rows(rows, {"330481": "海宁市", "330825": "龙游县"})[0]
    cols = list(exports.decision_columns({}))
    assert cols == list(exports.DECISION_COLUMNS)
    assert "origin_county" not in exports.decision_columns(None)  # no empty name columns without names
    assert len(exports.decision_rows(rows)[0]) == len(exports.decision_columns(None))
    v = dict(zip(cols, out))
    assert v["score"] == 0.123 and v["decision"] == "需补充材料" and v["current_status"] == "需补充材料"
    utc = datetime(2026, 11, 30, 17, 30, tzinfo=timezone.utc)
    assert v["decided_at"] == (utc + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S") == "2026-12-01 01:30:00"
    assert v["origin_county"] == "海宁市" and v["destination_county"] == "龙游县"
    assert v["enterprise_name"].startswith("'=")  # the formula guard
    assert exports.decisions_filename("龙游县", date(2026, 11, 30), "xlsx") == "龙游县-审核决定-2026-11-30.xlsx"
    assert exports.decisions_filename('a/b:"c', date(2026, 1, 2), "csv", "en") == "a_b_c-decisions-2026-01-02.csv"
