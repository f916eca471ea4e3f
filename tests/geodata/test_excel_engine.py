"""Excel is read with calamine, named: no "default engine will change" warning from pandas, in the importer or
in a test that reads what an export wrote."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pandas as pd
import pytest

from geodata.readers import read_table
from geodata.spreadsheet import safe_frame

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def workbook(tmp_path) -> Path:
    path = tmp_path / "parks.xlsx"
    safe_frame(pd.DataFrame({"park_id": ["P001", "P002"], "name": ["=1+1园区", "绍兴纺织园"],
                             "area_ha": [120.5, 80]})).to_excel(path, index=False)
    return path


def test_the_importer_reads_excel_without_a_warning(workbook):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raw = read_table(workbook)
    assert list(raw.frame["park_id"]) == ["P001", "P002"] and list(raw.frame["name"]) == ["=1+1园区", "绍兴纺织园"]


def test_pandas_with_calamine_named_reads_without_a_warning_and_as_openpyxl_does(workbook):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        calamine = pd.read_excel(workbook, dtype=str, engine="calamine")
    pd.testing.assert_frame_equal(calamine, pd.read_excel(workbook, dtype=str, engine="openpyxl"))


def test_pandas_without_an_engine_still_warns(workbook):
    """What the tests above guard against (if pandas stops warning, the scan below can go)."""
    with pytest.warns(Warning, match="engine"):
        pd.read_excel(workbook, engine=None)  # pandas' default


def _read_excel_without_engine(source: str) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "read_excel"
            and not any(k.arg == "engine" for k in node.keywords)]


def test_every_read_excel_names_its_engine():
    assert _read_excel_without_engine("import pandas as pd\npd.read_excel('x.xlsx')\n") == [2]
    offenders = [f"{p.relative_to(ROOT)}:{n}" for folder in ("geodata", "parks", "maps", "api", "benchmarks", "tests")
                 for p in sorted((ROOT / folder).rglob("*.py"))
                 for n in _read_excel_without_engine(p.read_text(encoding="utf-8"))]
    assert offenders == []
