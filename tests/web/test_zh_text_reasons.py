"""The detail of an exclusion reason on a Chinese page (the ``title`` of each reason on the suitability page):
the same facts as the English message (every number of it), in Chinese words, for the reasons the scoring
really gives (several enterprises, with and without constraints that add reasons)."""

from __future__ import annotations

import re

from api.web.i18n import reason_detail

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ASCII_WORD = re.compile(r"[A-Za-z]{2,}")


def _reasons(web):
    from api.app import suitability_context
    from parks.suitability import score_enterprise

    ctx = suitability_context(web.app)
    ents = web.app.state.dataset.enterprises["enterprise_id"].astype(str)
    out = []
    for eid in ents.iloc[::150]:
        for constraints in ({}, {"less_developed_only": True, "max_distance_km": 60}):
            res = score_enterprise(ctx, eid, constraints=constraints, top=3).to_dict()
            out += [r for e in res["excluded"] for r in e["reasons"]]
    return out


def test_every_reason_detail_is_chinese_with_the_numbers_of_the_message(web):
    reasons = _reasons(web)
    codes = {r["code"] for r in reasons}
    assert {"free_land", "catalogue_restricted", "max_distance", "not_less_developed"} <= codes, codes
    for r in reasons:
        zh = reason_detail("zh", r)
        assert not _ASCII_WORD.search(zh), (r, zh)
        if zh != r["message_zh"]:  # a known shape: every number of the English text is there
            assert sorted(_NUMBER.findall(r["message"])) == sorted(_NUMBER.findall(zh)), (r, zh)
        assert reason_detail("en", r) == r["message"]


def test_an_unknown_shape_falls_back_to_the_label():
    r = {"code": "free_land", "message": "some future wording", "message_zh": "可用土地不足"}
    assert reason_detail("zh", r) == "可用土地不足"
    assert reason_detail("zh", {"code": "new_code", "message": "x", "message_zh": "新原因"}) == "新原因"


def test_a_name_that_spells_a_placeholder_stays_text():
    """The Chinese detail is filled in one pass over its constant template: a city name from the data that spells
    ``{1}`` is shown as it is, not filled again with the next value (data never becomes part of a template)."""
    from api.web.i18n import reason_detail

    message = "park in {1}{2}市, not the enterprise's city 宁波市, and 50.0 km away > 30 km"
    out = reason_detail("zh", {"code": "outside_city_band", "message": message})
    assert out.startswith("园区在{1}{2}市，不在企业所在的宁波市")
    assert "50.0 公里" in out and "30 公里" in out
    assert reason_detail("en", {"code": "outside_city_band", "message": message}) == message
