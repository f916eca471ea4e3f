"""Server-side charts: valid SVG, text drawn as paths (a label from a data file is never markup)."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import numpy as np

from api.web import charts

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def _svg(uri: str) -> ET.Element:
    assert uri.startswith("data:image/svg+xml;base64,")
    return ET.fromstring(base64.b64decode(uri.split(",", 1)[1]))


def _tags(root: ET.Element) -> set[str]:
    return {el.tag.rsplit("}", 1)[-1] for el in root.iter()}


def test_bar_chart_draws_labels_as_paths():
    root = _svg(charts.bar_chart([HOSTILE, "纺织服装"], [3, 1]))
    tags = _tags(root)
    assert "svg" in tags and "path" in tags
    assert not tags & {"script", "text", "foreignObject", "img"}
    assert b"alert" not in ET.tostring(root)


def test_ripley_chart_and_county_map(raw_dataset):
    r = np.linspace(500, 10_000, 10)
    root = _svg(charts.ripley_chart(r, r + 100, r - 50, r + 50, xlabel="距离（公里）", observed="观测值", envelope="CSR"))
    assert not _tags(root) & {"script", "text"}
    counties = raw_dataset.counties[["code", "geometry"]].head(5)
    code = str(counties["code"].iloc[0])
    root = _svg(charts.county_map(counties, {code: "hot"}, {"hot": "#d7191c", "ns": "#eeeeee"}, {"hot": "热点", "ns": "不显著"}))
    assert b"#d7191c" in ET.tostring(root) and not _tags(root) & {"script", "text"}
