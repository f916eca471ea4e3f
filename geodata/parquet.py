"""Partitioned GeoParquet of enterprises: the input format of the Dask path (``parks.scale``).

A partitioned store is a directory of ``part.00000.parquet``, ``part.00001.parquet``, ... files, each
a GeoParquet file (geometry as WKB with the GeoParquet ``geo`` metadata, WGS 84 as every stored layer),
read back in file-name order so the row order is the order written. One file is one Dask partition.

Writes are atomic: the files go to a temporary sibling directory, renamed into place when complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .messages import PARQUET, CodedError

__all__ = [
    "ParquetStoreError",
    "DEFAULT_PARTITION_ROWS",
    "write_enterprises_parquet",
    "enterprise_parquet_files",
    "read_enterprises_parquet",
    "read_enterprises_parquet_frame",
    "write_partition",
    "read_table_parquet",
]

DEFAULT_PARTITION_ROWS = 250_000
_PATTERN = "part.{:05d}.parquet"


class ParquetStoreError(CodedError):
    """A partitioned GeoParquet store is missing, empty, or the frame to write cannot be written (a ``ValueError``).

    Raised with a code of :data:`geodata.messages.PARQUET` and its values; ``str(exc)`` is the English text,
    ``geodata.messages.message(exc, "zh")`` the Chinese."""

    def __init__(self, code: str, /, **params: Any):
        super().__init__(PARQUET(code, **params))


def write_enterprises_parquet(enterprises: gpd.GeoDataFrame, path: str | os.PathLike, *,
                              partition_rows: int = DEFAULT_PARTITION_ROWS, overwrite: bool = False) -> Path:
    """Write ``enterprises`` as a directory of GeoParquet files of ``partition_rows`` rows each.

    The index is not stored (enterprises are keyed by ``enterprise_id``). Returns the directory.

    >>> import tempfile, geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"enterprise_id": ["E1", "E2", "E3"]},
    ...                      geometry=shapely.points([[120, 30], [121, 30], [122, 29]]), crs=4326)
    >>> d = write_enterprises_parquet(g, tempfile.mkdtemp() + "/ent", partition_rows=2)
    >>> [p.name for p in enterprise_parquet_files(d)]
    ['part.00000.parquet', 'part.00001.parquet']
    """
    if not isinstance(enterprises, gpd.GeoDataFrame):
        raise TypeError(f"enterprises must be a GeoDataFrame, got {type(enterprises).__name__}")
    if enterprises.crs is None:
        raise ParquetStoreError("parquet.no_crs")
    if int(partition_rows) < 1:
        raise ParquetStoreError("parquet.partition_rows", value=partition_rows)
    dest = Path(path)
    if dest.exists() and not overwrite:
        raise ParquetStoreError("parquet.exists", path=dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        frame = enterprises.reset_index(drop=True)
        n = len(frame)
        starts = range(0, max(n, 1), int(partition_rows))
        for i, start in enumerate(starts):
            frame.iloc[start:start + int(partition_rows)].to_parquet(tmp / _PATTERN.format(i), index=False)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def enterprise_parquet_files(path: str | os.PathLike) -> list[Path]:
    """The partition files of a store, in partition order (a single ``.parquet`` file is one partition)."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise ParquetStoreError("parquet.no_store", path=p)
    files = sorted(f for f in p.iterdir() if f.suffix == ".parquet" and not f.name.startswith("."))
    if not files:
        raise ParquetStoreError("parquet.empty", path=p)
    return files


def read_enterprises_parquet(path: str | os.PathLike, *, columns: list[str] | None = None):
    """A lazy ``dask_geopandas.GeoDataFrame``, one partition per file, in file order."""
    import dask_geopandas

    files = [str(f) for f in enterprise_parquet_files(path)]
    cols = None if columns is None else list(dict.fromkeys([*columns, "geometry"]))
    return dask_geopandas.read_parquet(files, columns=cols)


def read_enterprises_parquet_frame(path: str | os.PathLike, *, columns: list[str] | None = None) -> gpd.GeoDataFrame:
    """The whole store in memory, rows in the order written, with a fresh RangeIndex."""
    cols = None if columns is None else list(dict.fromkeys([*columns, "geometry"]))
    parts = [gpd.read_parquet(f, columns=cols) for f in enterprise_parquet_files(path)]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)


def write_partition(frame: pd.DataFrame, directory: str | os.PathLike, index: int) -> int:
    """Write one partition of a store (``part.<index>.parquet``; GeoParquet for a GeoDataFrame) atomically.

    Used by the Dask path to write each partition from the worker that computed it; the directory must
    be reachable by every worker (a local path on one machine, a shared file system on a cluster).
    Returns the number of rows written.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    dest = d / _PATTERN.format(int(index))
    tmp = d / f".{dest.name}.tmp"
    frame.reset_index(drop=True).to_parquet(tmp, index=False)
    os.replace(tmp, dest)
    return len(frame)


def read_table_parquet(path: str | os.PathLike) -> pd.DataFrame:
    """A store of plain (non-spatial) partitions, e.g. batch suitability results, in memory and in order."""
    parts = [pd.read_parquet(f) for f in enterprise_parquet_files(path)]
    return pd.concat(parts, ignore_index=True)
