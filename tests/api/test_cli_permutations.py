"""`parkplan metrics --permutations` takes what the API takes (19..9999): 0 used to raise AttributeError."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


@pytest.mark.parametrize("value", ["0", "18", "10000"])
def test_permutations_out_of_range_are_refused_before_loading(value, tmp_path):
    result = runner.invoke(app, ["metrics", "--permutations", value, "--data", str(tmp_path / "absent.gpkg")])
    assert result.exit_code == 2
    assert "--permutations" in result.output
