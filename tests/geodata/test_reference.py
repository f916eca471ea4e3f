"""The shipped sector linkage table and its validation."""

from __future__ import annotations

import pandas as pd
import pytest

from geodata.reference import ReferenceDataError, sector_linkages, validate_sector_linkages
from geodata.schema import SECTOR_IDS


def test_shipped_table_is_valid_and_covers_every_sector():
    t = sector_linkages()
    assert list(t.columns[:3]) == ["upstream", "downstream", "weight"]
    assert set(t["upstream"]) | set(t["downstream"]) == set(SECTOR_IDS)
    assert t["weight"].between(0, 1, inclusive="right").all()


def test_validation_collects_every_problem():
    bad = pd.DataFrame({"upstream": ["textile", "machinery", "machinery", "metallurgy"],
                        "downstream": ["logistics", "machinery", "logistics", "machinery"],
                        "weight": [0.5, 0.5, 1.5, "x"]})
    with pytest.raises(ReferenceDataError) as err:
        validate_sector_linkages(bad)
    msg = str(err.value)
    assert "row 0: upstream 'textile' is not a sector id" in msg
    assert "row 1: self-link" in msg
    assert "row 2: weight 1.5" in msg and "row 3: weight 'x'" in msg
    with pytest.raises(ReferenceDataError, match="lacks column.*weight"):
        validate_sector_linkages(bad.drop(columns="weight"))
