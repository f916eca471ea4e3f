"""Clustering metrics: how agglomerated each sector is, where, and how much of it sits inside parks.

One module per idea; every function takes GeoDataFrames/DataFrames and parameters and returns a
named Series/DataFrame or a small dataclass; all distances in the metric CRS (metres); randomness
only through explicit ``seed`` arguments. :func:`parks.metrics.report.compute_metrics` assembles the
public JSON document (see ``docs/metrics.md``).
"""

from ._common import MU_PER_HA, MetricsError
from .autocorrelation import county_weights, getis_ord, local_moran, morans_i, sector_density
from .capture import park_capture
from .clark_evans import ClarkEvans, clark_evans
from .concentration import coagglomeration, ellison_glaeser, hhi, location_quotients, park_sector_hhi, sector_hhi
from .duranton_overman import KDensityResult, duranton_overman
from .land_intensity import land_intensity
from .per_mu import ClassRule, class_distribution, per_mu_evaluation, per_mu_indicators
from .report import METRIC_KEYS, compute_metrics
from .ripley import RipleyResult, cross_k, cross_k_envelope, csr_envelope, ripley, ripley_k, ripley_l
from .spatial_clusters import dbscan_labels, describe_clusters, hdbscan_labels, spatial_clusters
from .trend import metrics_by_year

__all__ = [
    "MU_PER_HA",
    "METRIC_KEYS",
    "MetricsError",
    "ClarkEvans",
    "ClassRule",
    "KDensityResult",
    "RipleyResult",
    "class_distribution",
    "clark_evans",
    "coagglomeration",
    "compute_metrics",
    "county_weights",
    "cross_k",
    "cross_k_envelope",
    "csr_envelope",
    "dbscan_labels",
    "describe_clusters",
    "duranton_overman",
    "ellison_glaeser",
    "getis_ord",
    "hdbscan_labels",
    "hhi",
    "land_intensity",
    "local_moran",
    "location_quotients",
    "metrics_by_year",
    "morans_i",
    "park_capture",
    "park_sector_hhi",
    "per_mu_evaluation",
    "per_mu_indicators",
    "ripley",
    "ripley_k",
    "ripley_l",
    "sector_density",
    "sector_hhi",
    "spatial_clusters",
]
