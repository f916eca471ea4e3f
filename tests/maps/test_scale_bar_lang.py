"""The maps' scale bar (Leaflet's ``L.control.scale``) in the map's language, read in headless chromium: 米 / 公里
in Chinese (the default), Leaflet's own ``m`` / ``km`` with ``lang=en``; zooming keeps the units (the label is
rewritten on every move), and the numbers are Leaflet's own rounding (the same number in both languages)."""

from __future__ import annotations

import re

import pytest

from .conftest import set_zoom

pytestmark = pytest.mark.browser

_LABEL = re.compile(r"^(\d+(?:\.\d+)?) (\S+)$")


def _scale(run) -> str:
    return run.page.evaluate("() => document.querySelector('.leaflet-control-scale-line').textContent")


def _zoom(run, z: float) -> None:
    set_zoom(run.page, z)
    run.page.wait_for_timeout(200)


@pytest.mark.parametrize("path", ["/maps/parks", "/maps/enterprises"])
def test_the_scale_bar_reads_in_the_maps_language(page_run, server, path):
    labels = {}
    for lang, (metre, km) in {"zh": ("米", "公里"), "en": ("m", "km")}.items():
        run = page_run("analyst")
        run.open(f"{server}{path}" + ("?lang=en" if lang == "en" else ""))
        seen = []
        for z in (7, 9, 15, 17):  # a province, a county, a street (metres), a block
            _zoom(run, z)
            text = _scale(run)
            m = _LABEL.match(text)
            assert m, (lang, z, text)
            seen.append((m.group(1), m.group(2)))
            if lang == "zh":
                assert "km" not in text and not text.endswith(" m"), text
        units = {u for _, u in seen}
        assert units == {metre, km}, (lang, seen)  # both units met between zoom 7 and 17
        labels[lang] = [n for n, _ in seen]
        assert not run.errors, run.errors
    assert labels["zh"] == labels["en"]  # the same rounding: only the unit's word differs
