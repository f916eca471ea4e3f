"""The command line's tables never cut a number (api.cli._lang.FitTable): a ten-column plan summary on an
80-column terminal used to print 3,151 as ``3,1`` and lose its headers."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from api.cli._lang import FitTable, num, pct, table

HEADERS = ["情景", "涉及企业数", "已安置", "安置比例", "搬迁从业人员", "用地（公顷）", "搬迁距离中位数（公里）",
           "90%分位搬迁距离（公里）", "留在本县比例", "留在本市比例"]
ROWS = [["城区企业退城入园", 3151, 3068, 0.974, 298236, 3386.94, 21.04, 38.31, 0.24, 1.0],
        ["沿海向欠发达地区转移", 1894, 1828, 0.965, 170513, 1242.0, 88.14, 279.43, 0.0, 0.31],
        ["联合方案（全部情景）", 7895, 7365, 0.933, 652934, 6083.2, 22.7, 114.5, 0.41, 0.82]]


def _summary() -> FitTable:
    t = table("方案汇总", [(h, "left" if i == 0 else "right") for i, h in enumerate(HEADERS)])
    assert isinstance(t, FitTable)
    for r in ROWS:
        t.add_row(r[0], *[pct(v) if h.endswith("比例") else num(v, 1) if "（" in h else num(v, 0)
                          for h, v in zip(HEADERS[1:], r[1:])])
    return t


def _render(t: FitTable, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, legacy_windows=False).print(t)
    return out.getvalue()


def _cells(t: FitTable) -> list[str]:
    return [str(x) for c in t.columns[1:] for x in c.cells]


@pytest.mark.parametrize("width", [40, 60, 80, 100, 120, 160, 240])
def test_every_number_printed_whole_at_any_width(width):
    t = _summary()
    text = _render(t, width)
    assert max(len(line) for line in text.splitlines()) <= width
    tokens = set(re.findall(r"[\d,.%]+", text))
    for cell in _cells(t):
        assert cell in tokens, (width, cell)


def test_wide_terminal_one_line_per_row_narrow_one_card_per_row():
    wide = _render(_summary(), 240)
    assert sum("3,151" in line and "298,236" in line for line in wide.splitlines()) == 1
    assert "搬迁距离中位数（公里）" in wide  # headers whole when they fit
    narrow = _render(_summary(), 60)
    for r in ROWS:  # each row its own card, titled by its first cell, every header beside its value
        assert r[0] in narrow
    for h in HEADERS[1:]:
        assert narrow.count(h) == len(ROWS)


def test_middle_width_folds_headers_not_numbers():
    text = _render(_summary(), 120)
    lines = text.splitlines()
    assert sum("3,151" in line and "298,236" in line and "100%" in line for line in lines) == 1
    assert "（公里）" in text and "（公顷）" in text  # the unit on a line of its own
