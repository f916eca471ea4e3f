"""``api.web.i18n.band_label`` from the band's bounds gives what the former label did from the band's text (it
parsed ``0-10 km`` back to numbers): the same label for every band of several band edges, in both languages, also
from the bounds as the report's ``distance_bands`` frame stores them (``to_km`` None becomes NaN in the column)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from api.web.i18n import band_label, pick_lang
from parks.suitability.plan_report import ReportParams, band_labels, band_text

_BAND = re.compile(r"(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?)|(\+)) km")


def former_band_label(lang: str, band) -> str:
    """The former implementation (api/web/i18n.py before this change), kept here as the reference."""
    text = str(band)
    m = _BAND.fullmatch(text)
    if pick_lang(lang) == "en" or m is None:
        return text
    lo, hi, _plus = m.groups()
    return band_text(float(lo), None if hi is None else float(hi), "zh")


EDGES = [ReportParams().bands_km, (10, 30), (5,), (2.5, 7.5, 12.25), (1, 1000, 100000), ()]


@pytest.mark.parametrize("edges", EDGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_same_label_as_before_for_every_band(edges, lang):
    bands = band_labels(edges)
    assert len(bands) == len(edges) + 1
    for text, lo, hi in bands:
        assert band_label(lang, lo, hi) == former_band_label(lang, text)
    # as the report's frame holds them: the open band's to_km None, NaN in a float column
    frame = pd.DataFrame([[t, lo, None if hi == float("inf") else hi] for t, lo, hi in bands],
                         columns=["band", "from_km", "to_km"])
    assert frame["to_km"].isna().iloc[-1]
    got = [band_label(lang, lo, hi) for lo, hi in zip(frame["from_km"], frame["to_km"])]
    assert got == [former_band_label(lang, t) for t in frame["band"]]


def test_labels_in_each_language():
    assert [band_label("en", lo, hi) for _, lo, hi in band_labels((10, 30))] == ["0-10 km", "10-30 km", "30+ km"]
    assert [band_label("zh", lo, hi) for _, lo, hi in band_labels((10, 30))] == ["0–10 公里", "10–30 公里", "30 公里以上"]
    assert band_label("fr", 0, 10) == "0–10 公里"  # an unknown language is the default, Chinese
