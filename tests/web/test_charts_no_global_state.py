"""Server charts are ``Figure`` objects with their font and sizes set per text: no pyplot, no ``rcParams``, no
``rc_context`` (global matplotlib state is shared by the server's threads)."""

from __future__ import annotations

import ast
import base64
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import matplotlib
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[2]


def _svg(uri: str) -> str:
    assert uri.startswith("data:image/svg+xml;base64,")
    return base64.b64decode(uri.split(",", 1)[1]).decode("utf-8")


@pytest.fixture
def no_global_style(monkeypatch):
    """Any use of matplotlib's global style fails the test."""
    def refuse(*a, **k):
        raise AssertionError("matplotlib.rc_context used by a server chart")

    monkeypatch.setattr(matplotlib, "rc_context", refuse)
    before = dict(matplotlib.rcParams)
    yield
    assert dict(matplotlib.rcParams) == before


def _counties():
    return gpd.GeoDataFrame({"code": ["330102", "330103", "330104"]},
                            geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(0, 1, 2, 2)],
                            crs=4326)


def test_plan_charts_use_no_global_style(no_global_style):
    from api.web.pages_plan import investment_map, target_chart

    line = _svg(target_chart([2001, 2002, 2003], [1.0, -2.0, None], [1.0, 1.12, 1.25], title="技术改造投资",
                             unit="亿元", value_label="实际值", path_label="目标路径"))
    shaded = _svg(investment_map(_counties(), {"330102": 3.0, "330103": 1.5}, title="项目投资"))
    for svg in (line, shaded):  # text drawn as paths: no data value is ever markup
        assert "<path" in svg and "<text" not in svg


def test_plan_charts_drawn_in_threads_equal_those_drawn_alone():
    """Drawn at once from several threads, each chart is the one drawn alone (ids aside: matplotlib salts
    them per file)."""
    from api.web.pages_plan import target_chart

    def draw(i: int) -> str:
        svg = _svg(target_chart([2001, 2002, 2003], [1.0 * i, 2.0, 3.0], [1.0, 1.5, 2.0], title=f"指标{i}", unit="%",
                                value_label="实际值", path_label="目标路径"))
        return re.sub(r'(id|href|clip-path)="[^"]*"', "", svg)

    alone = [draw(i) for i in range(1, 5)]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(draw, range(1, 5)))
    assert together == alone


def _global_style_uses(source: str) -> list[int]:
    """Lines that import pyplot or touch matplotlib's global style (``rcParams``, ``rc``, ``rc_context``)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any("pyplot" in a.name for a in node.names):
            out.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and ("pyplot" in (node.module or "") or any(
                a.name in ("pyplot", "rcParams", "rc_context", "rc") for a in node.names)):
            out.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr in ("rcParams", "rc_context", "pyplot"):
            out.append(node.lineno)
    return out


def test_the_scan_finds_global_style():
    assert _global_style_uses("import matplotlib\nwith matplotlib.rc_context({}):\n    pass\n") == [2]
    assert _global_style_uses("import matplotlib.pyplot as plt\n") == [1]
    assert _global_style_uses("from matplotlib import rcParams\n") == [1]
    assert _global_style_uses("# no pyplot, no rcParams\nx = 1\n") == []


def test_server_code_uses_no_pyplot_or_rcparams():
    offenders = [f"{p.relative_to(ROOT)}:{n}" for folder in ("api", "maps") for p in sorted((ROOT / folder).rglob("*.py"))
                 for n in _global_style_uses(p.read_text(encoding="utf-8"))]
    assert offenders == []
