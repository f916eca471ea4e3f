"""Monitoring the plan: its targets against the data by year, county and park; its projects, subsidies,
supply chains and key enterprises. Pure functions over a prepared dataset (``parks.joins.prepare``).

- :mod:`parks.monitoring.indicators`: indicator values by year and area, held against the target paths;
- :mod:`parks.monitoring.projects`: overdue projects, sums by year/county/park/sector/funding, the share
  going to less-developed counties;
- :mod:`parks.monitoring.chains`: chain leaders and their suppliers (plan 四.四.1);
- :mod:`parks.monitoring.report`: everything above as one JSON-ready document (CLI, API and page).
"""

from .chains import chain_links, chain_report
from .indicators import IndicatorReport, compute_indicators, indicator_components, indicator_values
from .projects import key_enterprises, less_developed_share, overdue_projects, project_sums

__all__ = [
    "IndicatorReport",
    "compute_indicators",
    "indicator_components",
    "indicator_values",
    "overdue_projects",
    "project_sums",
    "less_developed_share",
    "key_enterprises",
    "chain_links",
    "chain_report",
]
