"""The worker plugin of parkplan's Dask runs (imported only where a Dask client is opened)."""

from __future__ import annotations

import gc

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["ReadyWorker", "import_analysis"]


#: rows of the synthetic partition :func:`import_analysis` writes and reads back once (a tenth of the
#: 250,000 of a typical partition: enough to run every code path of a partition's read, join and write)
WARM_ROWS = 25_000


def import_analysis(rows: int = WARM_ROWS) -> None:
    """Import what the tasks run, open the projection database, and run a partition's I/O once.

    The I/O: a synthetic GeoParquet partition of ``rows`` points (an id, numbers, a category) written with
    :func:`geodata.parquet.write_partition`, read back with :func:`geodata.parquet.read_enterprises_parquet_frame`
    (its CRS parsed from the file's metadata) and projected, in a temporary directory removed after. The
    first partition a fresh worker joined cost 0.83-0.87 CPU-seconds against 0.59 s for its second (35,000
    minor page faults against 15,000-18,000, 0.15-0.18 s of system time; measured 2026-11-30): Arrow's
    thread pool and allocator, the Parquet reader and writer and the GeoParquet metadata are set up by
    whichever task comes first. Done here, at start-up, they are set up once per process. The benchmark
    (``benchmarks/bench_scale.py``) runs this same function in its own process before the one-process
    path, so neither side's first step pays it.
    """
    import shutil
    import tempfile

    import numpy as np
    import pandas as pd
    import pyproj
    import shapely

    import geodata.parquet
    import parks.metrics.capture  # noqa: F401
    import parks.scale  # noqa: F401
    import parks.suitability.batch  # noqa: F401

    pyproj.Transformer.from_crs(4326, 4549, always_xy=True).transform(120.0, 30.0)
    if rows <= 0:
        return
    import geopandas as gpd

    from geodata.crs import points_xy

    rng = np.random.default_rng(0)
    frame = gpd.GeoDataFrame(
        {"enterprise_id": pd.array([f"W{i}" for i in range(rows)], dtype="string[pyarrow]"),
         "sector": pd.Categorical(rng.choice(["a", "b", "c"], rows)),
         "employees": rng.integers(1, 500, rows), "revenue": rng.gamma(2.0, 5.0, rows)},
        geometry=shapely.points(rng.uniform(118.0, 123.0, rows), rng.uniform(27.0, 31.0, rows)), crs=4326)
    tmp = tempfile.mkdtemp(prefix="parkplan-warm-")
    try:
        geodata.parquet.write_partition(frame, tmp, 0)
        back = geodata.parquet.read_enterprises_parquet_frame(tmp)
        points_xy(back.geometry, back.crs, pyproj.CRS.from_epsg(4549))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class ReadyWorker(WorkerPlugin):
    """Import the analysis on the worker and run a partition's I/O once (:func:`import_analysis`), then
    ``gc.freeze()``.

    A worker process holds some 240,000 objects that Python's cyclic garbage collector tracks (the
    modules of pandas, geopandas, dask, distributed, parkplan), and a partition creates hundreds of
    thousands of tracked objects (a shapely geometry per enterprise), so the collector's full passes
    walked all of them again and again: joining a partition of 250,000 took 1.0-1.2 CPU-seconds in a
    worker against 0.7-0.9 s in one process; with the imports frozen, 0.72-0.77 s (measured 2026-11-30).
    Only the objects that exist when the worker is ready (the imported modules) are frozen; everything a
    task creates is collected as usual.
    """

    name = "parkplan-ready"
    idempotent = True

    def setup(self, worker=None):
        # in the thread that runs the tasks (a worker of one thread has one), so that what is kept per
        # thread (the projection's transformer, the allocator's thread heap) is that thread's
        executor = getattr(worker, "executors", {}).get("default") if worker is not None else None
        if executor is None:
            _ready()
            return None
        import asyncio

        return asyncio.wrap_future(executor.submit(_ready))


#: the thread that ran :func:`_ready` in this process (the tasks' thread on a worker), for the tests
ready_thread: int | None = None


def _ready() -> None:
    global ready_thread
    import threading

    ready_thread = threading.get_ident()
    import_analysis()
    gc.collect()
    gc.freeze()
