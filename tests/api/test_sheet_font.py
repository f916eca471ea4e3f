"""The review sheet's embedded font is cut by fpdf2 without unpacking every glyph to recompute its box
(``exports._keep_font_bounds``): against fpdf2's default (the reference), the same glyphs with the same outlines,
the same text extracted, the same other tables; only the font-wide maxima are those of the larger cut the sheet
handed to fpdf2, and they bound the reference's."""

from __future__ import annotations

import io

import pytest

from api import exports


def _font(pdf: bytes):
    import pypdf
    from fontTools.ttLib import TTFont

    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    [font] = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    return TTFont(io.BytesIO(desc["/FontFile2"].get_object().get_data())), desc


def _text(pdf: bytes) -> str:
    import pypdf

    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def sheets(dataset):
    static = exports.sheet_static(dataset)
    ent = dataset.enterprises.iloc[5]
    park = dataset.parks.iloc[3]
    cand = {"candidate_id": "TC-font", "enterprise_id": str(ent["enterprise_id"]), "park_id": str(park["park_id"]),
            "origin_county_code": str(ent["county_code"]), "destination_county_code": str(park["county_code"]),
            "version": 2, "status": "approved", "score": 0.61, "scenario": "all", "snapshot": {},
            "reviews": [{"created_at": "2026-11-30T08:00:00+00:00", "reviewer": "审核员甲", "decision": "approved",
                         "comment": "同意迁入，注意龘字与 Ω 之类的生僻字符", "version_before": 1, "version_after": 2}]}
    places = exports.sheet_places(cand, dataset)
    ours = exports.render_review_sheet(cand, static, places)
    mp = pytest.MonkeyPatch()
    mp.setattr(exports, "_keep_font_bounds", lambda pdf: None)  # fpdf2's default: every box recomputed
    try:
        reference = exports.render_review_sheet(cand, static, places)
    finally:
        mp.undo()
    return ours, reference


def test_the_sheet_font_keeps_glyphs_and_text(sheets):
    ours, reference = sheets
    assert ours != reference  # the two paths really differ (the maxima below)
    assert _text(ours) == _text(reference) and "龘" in _text(ours)
    fo, do = _font(ours)
    fr, dr = _font(reference)
    assert {k: do[k] for k in do} == {k: dr[k] for k in dr}  # the PDF's font descriptor (its box included)
    assert fo.getGlyphOrder() == fr.getGlyphOrder()
    go, gr = fo["glyf"], fr["glyf"]
    for name in fo.getGlyphOrder():
        assert go[name].compile(go, False) == gr[name].compile(gr, False), name
    tags = {t for t in fo.keys() if t != "GlyphOrder"}
    assert tags == {t for t in fr.keys() if t != "GlyphOrder"}
    differ = {t for t in tags if fo.getTableData(t) != fr.getTableData(t)}
    assert differ <= {"head", "hhea", "vhea", "maxp"}, differ
    # the maxima kept bound the recomputed ones
    ho, hr = fo["head"], fr["head"]
    assert ho.xMin <= hr.xMin and ho.yMin <= hr.yMin and ho.xMax >= hr.xMax and ho.yMax >= hr.yMax
    mo, mr = fo["maxp"], fr["maxp"]
    assert mo.maxPoints >= mr.maxPoints and mo.maxContours >= mr.maxContours
    assert fo["hhea"].advanceWidthMax >= fr["hhea"].advanceWidthMax
