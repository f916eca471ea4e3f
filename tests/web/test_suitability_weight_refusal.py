"""A weight slider or the distance limit sent as text that is not a number (an edited address, a script), or
below zero, is refused by the suitability page with the model's coded refusal, naming the criterion in the page's
language; it used to be read silently as the default weight (or 0, or no limit) and ranked."""

from __future__ import annotations

import re
from html import unescape

import pytest

from .conftest import login_client

HOSTILE = "<img src=x onerror=alert(1)>"


def _error(r) -> str | None:
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.status_code
    m = re.search(r'id="suit-error"[^>]*>(.*?)</', r.text, re.S)
    return unescape(m.group(1)).strip() if m else None


@pytest.fixture(scope="module")
def analyst(web):
    return login_client(web.app, web.tokens["analyst"])


@pytest.fixture(scope="module")
def eid(web):
    return str(web.app.state.dataset.enterprises["enterprise_id"].iloc[3])


@pytest.mark.parametrize("field, typed, zh, en", [
    ("w_labour", "abc", "准则 '劳动力供给' 的权重应为有限数值，实际为 'abc'", "weight of 'labour' must be a finite number, got 'abc'"),
    ("w_distance", HOSTILE, "准则 '距现址距离' 的权重应为有限数值", "weight of 'distance' must be a finite number"),
    ("w_sector_fit", "-5", "的权重应 >= 0，实际为 -5.0", "weight of 'sector_fit' must be >= 0, got -5.0"),
    ("max_distance_km", "far", "约束 max_distance_km（最大搬迁距离，公里）应为 > 0 的数或不设，实际为 'far'",
     "constraint max_distance_km must be a number > 0 or None, got 'far'"),
    ("max_distance_km", "-10", "实际为 -10.0", "got -10.0"),
])
def test_a_weight_or_limit_that_is_not_a_number_is_refused_by_name(analyst, eid, field, typed, zh, en):
    for lang, expected in (("zh", zh), ("en", en)):
        params = {"enterprise_id": eid, field: typed, **({"lang": "en"} if lang == "en" else {})}
        r = analyst.get("/ui/suitability", params=params)
        text = _error(r)
        assert text is not None, r.text[:1500]
        assert expected in text, (expected, text)
        assert 'id="ranked"' not in r.text  # nothing ranked with a weight the user did not choose
        assert HOSTILE not in r.text  # the typed value is shown escaped
        if lang == "zh":
            assert "must be" not in text and "weight of" not in text


def test_numbers_and_empty_fields_still_rank(analyst, eid):
    r = analyst.get("/ui/suitability", params={"enterprise_id": eid, "w_labour": "", "w_distance": "40",
                                               "max_distance_km": ""})
    assert _error(r) is None and 'id="ranked"' in r.text
