"""Fixtures of the plan-monitoring tests: the small prepared dataset with the plan layers added."""

from __future__ import annotations

import pytest

from .plan_layers import add_plan_layers


@pytest.fixture(scope="session")
def plan_ds(dataset):
    return add_plan_layers(dataset, seed=7)


@pytest.fixture(scope="session")
def plan_ds_fai(dataset):
    """The same, with the FAI layer's tech_transformation filled (the indicators take it over projects)."""
    return add_plan_layers(dataset, seed=7, with_fai_tech=True)
