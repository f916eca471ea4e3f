"""The largest Dask run this machine takes: join + batch suitability + park capture of 10,000,000 enterprises.

Input: a partitioned GeoParquet store (250,000 enterprises per file) made by replicating the
1,000,000-enterprise built-in register ten times (each copy with new ids and its points moved by a
few hundred metres, so the joins do real work on every copy). It is built once and cached.

The run is ``parkplan join`` then ``parkplan batch`` (``api.jobs.scale.join_store`` / ``batch_store``):
a local cluster of 2 worker processes x 1 thread (the machine's 2 cores), or ``--scheduler ADDRESS``.
Each worker's resident memory is sampled every half second (``client.run`` + psutil) for its peak.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from . import Report, check_size, fmt_s, table
from ._data import cache_dir, dataset

N = {"full": 10_000_000, "quick": 1_000_000, "tiny": 6_000}
BASE = {"full": 1_000_000, "quick": 1_000_000, "tiny": 3_000}
PARTITION_ROWS = {"full": 250_000, "quick": 250_000, "tiny": 1_500}
JITTER_DEG = 0.003  # about 300 m


def input_store(size: str) -> Path:
    """The cached partitioned store for ``size`` (built on first use)."""
    from geodata.parquet import write_partition

    n, base_n, rows = N[size], BASE[size], PARTITION_ROWS[size]
    path = cache_dir() / f"scale-{n}"
    done = path / ".complete"
    if done.exists():
        return path
    import geopandas as gpd
    import shapely

    if path.exists():
        import shutil

        shutil.rmtree(path)
    base = dataset(base_n).enterprises.reset_index(drop=True)
    xy = shapely.get_coordinates(base.geometry.values)
    rng = np.random.default_rng(11)
    part = 0
    for copy in range(int(np.ceil(n / base_n))):
        frame = base.copy()
        frame["enterprise_id"] = frame["enterprise_id"].astype(str) + (f"-{copy}" if copy else "")
        if copy:
            moved = xy + rng.normal(0.0, JITTER_DEG, size=xy.shape)
            frame = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=shapely.points(moved), crs=base.crs)
        frame = frame.iloc[: max(0, min(base_n, n - copy * base_n))]
        for start in range(0, len(frame), rows):
            write_partition(frame.iloc[start:start + rows], path, part)
            part += 1
    done.write_text(f"{n}\n")
    return path


class WorkerMemory:
    """Peak RSS of each Dask worker process, sampled every ``interval`` seconds."""

    def __init__(self, client, interval: float = 0.5):
        self.client, self.interval = client, interval
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _rss() -> int:
        import psutil

        return psutil.Process().memory_info().rss

    def _loop(self):
        while not self._stop.is_set():
            try:
                for addr, rss in self.client.run(self._rss).items():
                    self.peak[addr] = max(self.peak.get(addr, 0), rss)
            except Exception:  # noqa: BLE001 - a sample lost while workers are busy is fine
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run(size: str = "full", scheduler: str | None = None, engine: str = "dask") -> Report:
    from api.jobs.scale import batch_store, dask_client, join_store

    check_size(size)
    n = N[size]
    t = time.perf_counter()
    store = input_store(size)
    t_input = time.perf_counter() - t
    ds = dataset(BASE[size])
    layers = ds  # parks, counties, urban boundaries and projects come from the base dataset
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        out = Path(tmp)
        if engine == "memory":
            t0 = time.perf_counter()
            j = join_store(layers, store, out / "joined", engine="memory")
            b = batch_store(layers, out / "joined", out / "batch", engine="memory", top=3)
            wall = time.perf_counter() - t0
            peaks: dict[str, int] = {}
            workers = "in memory, one process"
        else:
            with dask_client(scheduler, workers=2, threads_per_worker=1, memory_limit="10GiB") as client:
                nworkers = len(client.scheduler_info()["workers"])
                workers = (f"existing cluster {scheduler}" if scheduler else "local cluster") + \
                    f", {nworkers} worker processes x 1 thread"
                with WorkerMemory(client) as mem:
                    t0 = time.perf_counter()
                    j = join_store(layers, store, out / "joined", engine="dask")
                    b = batch_store(layers, out / "joined", out / "batch", engine="dask", top=3)
                    wall = time.perf_counter() - t0
                peaks = mem.peak
        out_bytes = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    rows = [
        ["join (county, park, urban core) -> joined GeoParquet", fmt_s(j["seconds"]), f"{n / j['seconds']:,.0f}"],
        ["suitability context (population sums over partitions)", fmt_s(b["context_s"]), f"{n / b['context_s']:,.0f}"],
        ["batch suitability, 200 parks, top 3 -> Parquet", fmt_s(b["batch_s"]), f"{n / b['batch_s']:,.0f}"],
        ["park capture (sector, county, all)", fmt_s(b["capture_s"]), f"{n / b['capture_s']:,.0f}"],
        ["**whole run**", f"**{fmt_s(wall)}**", f"**{n / wall:,.0f}**"],
    ]
    mem_line = ", ".join(f"{p / 2**30:.2f} GiB" for p in sorted(peaks.values())) or "n/a (not sampled)"
    body = (
        f"{n:,} enterprises in {j['partitions']} GeoParquet partitions of {PARTITION_ROWS[size]:,} "
        f"(input store {'from the cache' if t_input < 1 else f'built and cached in {t_input:.0f} s'}: the "
        f"{BASE[size]:,}-enterprise built-in register "
        f"replicated with new ids and points jittered by ~300 m), {workers}, `engine={engine}`.\n\n"
        + table(["step", "time", "enterprises/s"], rows)
        + f"\n\nPeak resident memory per worker: {mem_line} (sampled every 0.5 s). Output written: "
        f"{out_bytes / 2**30:.2f} GiB (joined GeoParquet, top-3 and summary Parquet, capture CSVs)."
    )
    return Report("scale", f"Scale: {n:,} enterprises on Dask", body, {
        "n": n, "partitions": j["partitions"], "join_s": j["seconds"], **{k: v for k, v in b.items()},
        "wall_s": wall, "worker_peak_bytes": peaks, "engine": engine, "scheduler": scheduler,
    })
