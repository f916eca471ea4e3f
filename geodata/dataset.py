"""A dataset: one GeoPackage holding every layer of the data model, loaded into GeoDataFrames.

Layers are stored in WGS 84 (EPSG:4326). ``Dataset.metric_crs`` is the CGCS2000 Gauss-Kruger zone in
which every distance and area is computed. Writes go to a temporary file in the same directory and
are moved into place with ``os.replace``, so a reader never sees a half-written dataset and a failed
write leaves the previous file byte-for-byte as it was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj

from .crs import metric_crs
from .messages import IMPORT, CodedError, library_reason
from .tempfiles import claim_temp
from .schema import LAYERS

__all__ = ["Dataset", "DatasetError", "load_dataset", "save_dataset", "empty_layer", "SPATIAL_LAYERS", "TABLE_LAYERS",
           "OPTIONAL_LAYERS"]

SPATIAL_LAYERS = ("province", "cities", "counties", "parks", "enterprises", "protected_areas", "urban_boundaries")
TABLE_LAYERS = ("projects", "catalogue", "import_log", "suppliers", "fixed_asset_investment", "enterprise_years")
# Layers added after the first datasets were written: a file without them loads them empty.
OPTIONAL_LAYERS = ("suppliers", "fixed_asset_investment", "enterprise_years")

_EMPTY_DTYPES = {"str": "str", "date": "str", "list": "str", "int": "int64", "float": "float64", "bool": "bool"}


def empty_layer(name: str) -> pd.DataFrame:
    """A table layer with no rows and the schema's columns, typed (for datasets written without it)."""
    return pd.DataFrame({f.name: pd.Series(dtype=_EMPTY_DTYPES[f.dtype]) for f in LAYERS[name].fields})
METADATA_LAYER = "parkplan_metadata"

# GeoPackage writes the current time into gpkg_contents; fixing it makes a dataset built from the
# same seed the same bytes.
_FIXED_DATE = "2000-01-01T00:00:00Z"


class DatasetError(CodedError):
    """A dataset file is missing, unreadable or lacks a layer; or the importer is asked for a layer or mode it
    does not know.

    Raised with a code of :data:`geodata.messages.IMPORT` and its values; ``str(exc)`` is the English text,
    ``geodata.messages.message(exc, "zh")`` the Chinese."""

    def __init__(self, code: str, /, **params: object):
        super().__init__(IMPORT(code, **params))


@dataclass
class Dataset:
    province: gpd.GeoDataFrame
    cities: gpd.GeoDataFrame
    counties: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    enterprises: gpd.GeoDataFrame
    projects: pd.DataFrame
    protected_areas: gpd.GeoDataFrame
    urban_boundaries: gpd.GeoDataFrame
    catalogue: pd.DataFrame
    import_log: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"time": pd.Series(dtype=str), "layer": pd.Series(dtype=str), "source": pd.Series(dtype=str),
         "mode": pd.Series(dtype=str), "rows": pd.Series(dtype="int64"), "sha256": pd.Series(dtype=str)}))
    suppliers: pd.DataFrame = field(default_factory=lambda: empty_layer("suppliers"))
    fixed_asset_investment: pd.DataFrame = field(default_factory=lambda: empty_layer("fixed_asset_investment"))
    enterprise_years: pd.DataFrame = field(default_factory=lambda: empty_layer("enterprise_years"))
    metadata: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def metric_crs(self) -> pyproj.CRS:
        """CGCS2000 3-degree GK zone for this province (from the province's central meridian)."""
        return metric_crs(self.province)

    def layer(self, name: str) -> pd.DataFrame:
        if name not in SPATIAL_LAYERS + TABLE_LAYERS:
            raise DatasetError("dataset.unknown_layer", value=name, accepted=", ".join(SPATIAL_LAYERS + TABLE_LAYERS))
        return getattr(self, name)

    def with_layer(self, name: str, frame: pd.DataFrame) -> "Dataset":
        """A copy of this dataset with one layer replaced (the others shared, not copied)."""
        self.layer(name)
        return replace(self, **{name: frame})

    def summary(self) -> dict:
        """Counts by layer, park kind, sector and county; CRS; provenance."""
        parks = self.parks
        ent = self.enterprises
        return {
            "province": str(self.province["name"].iloc[0]) if len(self.province) else None,
            "crs": "EPSG:4326",
            "metric_crs": f"EPSG:{self.metric_crs.to_epsg()}",
            "layers": {name: int(len(getattr(self, name))) for name in SPATIAL_LAYERS + TABLE_LAYERS},
            "parks_by_kind": {str(k): int(v) for k, v in parks["kind"].value_counts().sort_index().items()},
            "enterprises_by_sector": {str(k): int(v) for k, v in ent["sector"].value_counts().sort_index().items()},
            "enterprises_by_county": {
                str(k): int(v) for k, v in ent["county_code"].value_counts().sort_index().items()
            } if "county_code" in ent else {},  # present once parks.joins.prepare has run
            "counties": int(len(self.counties)),
            "less_developed_counties": int(self.counties["less_developed"].sum()),
            "coastal_counties": int(self.counties["coastal"].sum()),
            "provenance": self.metadata.get("provenance", {}),
        }


def _write_layer(path: str, name: str, frame: pd.DataFrame, description: str = "") -> None:
    options = {"DESCRIPTION": description} if description else {}
    if isinstance(frame, gpd.GeoDataFrame):
        frame = frame.to_crs(4326) if frame.crs is not None and not frame.crs.equals(pyproj.CRS(4326)) else frame
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", promote_to_multi=False, layer_options=options)
    else:
        pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=name, driver="GPKG", layer_options=options)


def save_dataset(ds: Dataset, path: str | os.PathLike) -> Path:
    """Write every layer to ``path`` atomically (temp file + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # named with the writer's PID and start time, so that a killed write's leftover can be proved stale
    claim = claim_temp(path.parent, f".{path.name}", ".gpkg")
    tmp = str(claim.path)
    old = os.environ.get("OGR_CURRENT_DATE")
    os.environ["OGR_CURRENT_DATE"] = _FIXED_DATE
    try:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _FIXED_DATE})
        descriptions = ds.metadata.get("layer_descriptions", {})
        for name in SPATIAL_LAYERS + TABLE_LAYERS:
            _write_layer(tmp, name, getattr(ds, name), descriptions.get(name, ""))
        meta = pd.DataFrame({"key": list(ds.metadata), "value": [json.dumps(v, ensure_ascii=False, sort_keys=True) for v in ds.metadata.values()]})
        _write_layer(tmp, METADATA_LAYER, meta)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        claim.release()
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
        if old is None:
            os.environ.pop("OGR_CURRENT_DATE", None)
        else:
            os.environ["OGR_CURRENT_DATE"] = old
    return path


_LIST_COLUMNS = {"parks": ("leading_sectors",)}


def _read(path: Path, name: str, spatial: bool, rows: bool = True) -> pd.DataFrame:
    """Layer ``name`` of ``path``; with ``rows=False`` its columns, types and CRS but no rows."""
    frame = pyogrio.read_dataframe(path, layer=name, use_arrow=True, read_geometry=spatial,
                                   max_features=None if rows else 0)
    if not spatial and isinstance(frame, gpd.GeoDataFrame):
        frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    return frame


def load_dataset(path: str | os.PathLike, layers: Sequence[str] | None = None) -> Dataset:
    """Read a dataset GeoPackage written by :func:`save_dataset` (or by ``parkplan init``).

    ``layers``: read the rows of these layers only (names from :data:`SPATIAL_LAYERS` and
    :data:`TABLE_LAYERS`); every other layer is an empty frame with the file's columns, types and CRS, so a
    caller that needs a few layers (county and park names) does not read a million enterprises. The
    metadata is always read. ``metric_crs`` needs the ``province`` layer. None reads every layer.
    """
    path = Path(path)
    wanted = None if layers is None else set(_checked_layers(layers))
    if not path.exists():
        raise DatasetError("dataset.no_file", path=str(path), out=str(path))
    try:
        present = {str(n) for n, _ in pyogrio.list_layers(path)}
    except Exception as exc:  # pyogrio raises DataSourceError for non-GeoPackage files
        raise DatasetError("dataset.unreadable", path=str(path), reason=library_reason(exc)) from exc
    missing = [n for n in SPATIAL_LAYERS + TABLE_LAYERS if n not in present and n not in OPTIONAL_LAYERS]
    if missing:
        raise DatasetError("dataset.lacks_layers", path=str(path), layers=", ".join(missing))
    values = {}
    for f in fields(Dataset):
        if f.name in ("metadata", "path"):
            continue
        if f.name in OPTIONAL_LAYERS and f.name not in present:
            values[f.name] = empty_layer(f.name)
            continue
        values[f.name] = _read(path, f.name, f.name in SPATIAL_LAYERS, rows=wanted is None or f.name in wanted)
    meta = {}
    if METADATA_LAYER in present:
        m = _read(path, METADATA_LAYER, False)
        meta = {k: json.loads(v) for k, v in zip(m["key"], m["value"])}
    return Dataset(**values, metadata=meta, path=path)


def _checked_layers(layers) -> tuple[str, ...]:
    if isinstance(layers, str):
        raise DatasetError("dataset.layers_string", value=layers)
    names = tuple(str(n) for n in layers)
    unknown = [n for n in names if n not in SPATIAL_LAYERS + TABLE_LAYERS]
    if unknown:
        raise DatasetError("dataset.unknown_layer", value=unknown[0], accepted=", ".join(SPATIAL_LAYERS + TABLE_LAYERS))
    return names
