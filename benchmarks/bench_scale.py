"""The largest Dask run this machine takes: join + batch suitability + park capture of 10,000,000 enterprises.

Input: a partitioned GeoParquet store (250,000 enterprises per file) made by replicating the
1,000,000-enterprise built-in register ten times (each copy with new ids and its points moved by a
few hundred metres, so the joins do real work on every copy). It is built once and cached.

The run is ``parkplan join`` then ``parkplan batch`` (``api.jobs.scale.join_store`` / ``batch_store``):
a local cluster of 2 worker processes x 1 thread (the machine's 2 cores), or ``--scheduler ADDRESS``.
Each worker's resident memory is sampled every half second (``client.run`` + psutil) for its peak.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from api.jobs.scale import batch_store, dask_client, join_store

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


PER_CORE_N = {"full": 1_000_000, "quick": 1_000_000, "tiny": 3_000}


class CpuClock:
    """CPU seconds (user + system) used so far by this process and, with a client, by every worker
    process of the cluster (the local cluster's scheduler runs in this process, so it is counted)."""

    def __init__(self, client=None):
        self.client = client

    @staticmethod
    def _worker_cpu() -> float:
        import psutil

        t = psutil.Process().cpu_times()
        return t.user + t.system

    def __call__(self) -> float:
        own = time.process_time()
        if self.client is None:
            return own
        return own + sum(self.client.run(self._worker_cpu).values())


def _warm_up() -> None:
    """What every worker does once when it starts (:func:`api.jobs._dask_worker.import_analysis`: the imports,
    the projection database, a small partition's Parquet write, read and projection), here run in this
    process before the one-process clocks start, so that the same is warm on both sides.
    ``parks.metrics.capture`` imports the metrics package (esda, libpysal, scikit-learn): about 1.3
    CPU-seconds, which the capture step of each fresh worker paid when it was left out."""
    from api.jobs._dask_worker import import_analysis

    import_analysis()


def _steps_cpu(clock: CpuClock, fn) -> tuple[dict, dict]:
    """Run ``fn(on_step)`` and return (its result, CPU seconds of each step named by ``on_step``)."""
    marks = [("start", clock())]
    res = fn(lambda name: marks.append((name, clock())))
    return res, {name: t - marks[i][1] for i, (name, t) in enumerate(marks[1:])}


def _account_capture(batch: dict, cpu: dict) -> dict:
    """Step CPU with the capture sums computed inside the batch tasks (``capture_in_batch_cpu_s``, the
    tasks' own thread clocks) moved from the batch step to the capture step, where they belong."""
    moved = float(batch.get("capture_in_batch_cpu_s", 0.0))
    return {**cpu, "batch": cpu["batch"] - moved, "capture": cpu["capture"] + moved}


PER_CORE_ROUNDS = 3
STEPS = ("join", "context", "batch", "capture")


def _pipeline_cpu(ds, sub: Path, out: Path, engine: str, clock: CpuClock) -> dict:
    """CPU seconds of each step of ``parkplan join`` + ``parkplan batch`` on ``sub``, written under ``out``."""
    t0 = clock()
    join_store(ds, sub, out / "joined", engine=engine)
    steps = {"join": clock() - t0}
    b, more = _steps_cpu(clock, lambda cb: batch_store(ds, out / "joined", out / "batch", engine=engine, top=3,
                                                       on_step=cb))
    return _account_capture(b, {**steps, **more})


def per_core(size: str, scheduler: str | None = None, rounds: int = PER_CORE_ROUNDS) -> tuple[str, dict]:
    """Each step's enterprises per CPU-second, in one process and on a 2-worker local cluster, same input.

    ``rounds`` rounds, the two engines interleaved (one process first in odd rounds, Dask first in even
    ones) on one cluster kept open, so that first-run effects, the machine's load and its memory
    bandwidth fall on both alike; each step's median over the rounds is reported with its range.
    """
    import gc
    import statistics

    n = PER_CORE_N[size]
    rows_n = PARTITION_ROWS[size]
    store = input_store("quick" if size == "full" else size)  # the first 1,000,000 (or tiny) partitions
    files = sorted(store.glob("part.*.parquet"))[: int(np.ceil(n / rows_n))]
    ds = dataset(BASE[size])
    _warm_up()  # this process too: no step of either path pays for a first import
    # As each worker does (api.jobs._dask_worker.ReadyWorker), this process moves what exists before the
    # runs (its imports, and here also the benchmark's 1,000,000-enterprise dataset: 1.2 million objects
    # the workers do not hold) out of the cyclic collector's sight: otherwise each full collection during
    # the one-process join walks them (0.35-0.5 CPU-s of its 2.7-3.8 s, measured 2026-11-30).
    gc.collect()
    gc.freeze()
    cpu: dict[str, list[dict[str, float]]] = {"memory": [], "dask": []}
    try:
        with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp, \
                dask_client(scheduler, workers=2, threads_per_worker=1, memory_limit="10GiB") as client:
            sub = Path(tmp) / "in"
            sub.mkdir()
            for f in files:
                (sub / f.name).symlink_to(f)
            clocks = {"memory": CpuClock(None), "dask": CpuClock(client)}
            for r in range(rounds):
                for engine in (("memory", "dask") if r % 2 == 0 else ("dask", "memory")):
                    out = Path(tmp) / f"{engine}-{r}"
                    cpu[engine].append(_pipeline_cpu(ds, sub, out, engine, clocks[engine]))
                    shutil.rmtree(out)
    finally:
        gc.unfreeze()
    med = {e: {s: statistics.median(run[s] for run in cpu[e]) for s in STEPS} for e in cpu}
    labels = {"join": "join (county, park, urban core) -> joined store",
              "context": "suitability context (with reading the joined store, once)",
              "batch": "batch suitability, top 3 -> Parquet", "capture": "park capture (sector, county, all)"}

    def spread(e: str, s: str) -> str:
        vals = [run[s] for run in cpu[e]]
        return f"{med[e][s]:.2f} s ({min(vals):.2f}-{max(vals):.2f})"

    rows = []
    for step, label in labels.items():
        m, d = med["memory"][step], med["dask"][step]
        ratios = [a[step] / b[step] for a, b in zip(cpu["memory"], cpu["dask"]) if b[step] > 0]
        rows.append([label, spread("memory", step), f"{n / m:,.0f}" if m > 0 else "", spread("dask", step),
                     f"{n / d:,.0f}" if d > 0 else "", f"**{m / d:.0%}**" if d > 0 else "",
                     f"{min(ratios):.0%}-{max(ratios):.0%}" if ratios else ""])
    tot = {e: [sum(run[s] for s in STEPS) for run in cpu[e]] for e in cpu}
    m_all, d_all = statistics.median(tot["memory"]), statistics.median(tot["dask"])
    all_ratios = [a / b for a, b in zip(tot["memory"], tot["dask"])]
    rows.append(["**all steps**", f"{m_all:.1f} s ({min(tot['memory']):.1f}-{max(tot['memory']):.1f})",
                 f"{n / m_all:,.0f}", f"{d_all:.1f} s ({min(tot['dask']):.1f}-{max(tot['dask']):.1f})",
                 f"{n / d_all:,.0f}", f"**{m_all / d_all:.0%}**", f"{min(all_ratios):.0%}-{max(all_ratios):.0%}"])
    text = (
        f"### Per core: {n:,} enterprises, one process against Dask\n\n"
        f"The same {len(files)} partitions of {rows_n:,}, the same dataset, run by `api.jobs.scale` with "
        "`engine=memory` (one process) and `engine=dask` (local cluster, 2 worker processes x 1 thread), "
        f"{rounds} rounds with the two engines interleaved (one cluster for all rounds); each cell is the median "
        "of the rounds with their range, the ratio is of the medians, and the last column the range of the "
        "rounds' own ratios. "
        "CPU = user + system seconds of this process (with the local cluster's scheduler) and of every worker "
        "(warmed up first: the libraries imported and then frozen out of the cyclic garbage collector, in the "
        "workers and in this process alike), so the per-core throughput (enterprises per CPU-second) does not "
        "depend on what else ran on the machine. On Dask each partition's capture sums are computed by the "
        "task that scores it; their CPU (the tasks' thread clocks around them) is counted in the capture step, "
        "not in the batch. The limit of each Dask step is the one-process path (100%); the goal is at least 90%.\n\n"
        + table(["step", "one process CPU", "per CPU-s", "Dask CPU (all processes)", "per CPU-s",
                 "Dask / one process", "rounds' ratios"], rows)
    )
    return text, {"per_core_n": n, "per_core_rounds": rounds, "cpu_memory": med["memory"], "cpu_dask": med["dask"],
                  "cpu_memory_rounds": cpu["memory"], "cpu_dask_rounds": cpu["dask"]}


def run(size: str = "full", scheduler: str | None = None, engine: str = "dask") -> Report:
    check_size(size)
    per_core_text, per_core_data = per_core(size, scheduler) if engine == "dask" else ("", {})
    n = N[size]
    t = time.perf_counter()
    store = input_store(size)
    t_input = time.perf_counter() - t
    ds = dataset(BASE[size])
    layers = ds  # parks, counties, urban boundaries and projects come from the base dataset
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        out = Path(tmp)
        def steps(clock: CpuClock) -> tuple[dict, dict, dict]:
            c0 = clock()
            j = join_store(layers, store, out / "joined", engine=engine)
            c_join = clock() - c0
            b, more = _steps_cpu(clock, lambda cb: batch_store(layers, out / "joined", out / "batch", engine=engine,
                                                               top=3, on_step=cb))
            return j, b, _account_capture(b, {"join": c_join, **more})

        if engine == "memory":
            t0 = time.perf_counter()
            j, b, cpu = steps(CpuClock(None))
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
                    j, b, cpu = steps(CpuClock(client))
                    wall = time.perf_counter() - t0
                peaks = mem.peak
        out_bytes = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    def row(label: str, seconds: float, cpu_s: float, bold: bool = False) -> list[str]:
        cells = [fmt_s(seconds), f"{cpu_s:.1f} s", f"{n / seconds:,.0f}", f"{n / cpu_s:,.0f}" if cpu_s > 0 else ""]
        return [f"**{label}**" if bold else label] + ([f"**{c}**" for c in cells] if bold else cells)

    cpu_all = sum(cpu.values())
    rows = [
        row("join (county, park, urban core) -> joined GeoParquet", j["seconds"], cpu["join"]),
        row("suitability context (population sums over partitions)", b["context_s"], cpu["context"]),
        row("batch suitability, 200 parks, top 3 -> Parquet", b["batch_s"], cpu["batch"]),
        row("park capture (sector, county, all)", b["capture_s"], cpu["capture"]),
        row("whole run", wall, cpu_all, bold=True),
    ]
    mem_line = ", ".join(f"{p / 2**30:.2f} GiB" for p in sorted(peaks.values())) or "n/a (not sampled)"
    body = (
        f"{n:,} enterprises in {j['partitions']} GeoParquet partitions of {PARTITION_ROWS[size]:,} "
        f"(input store {'from the cache' if t_input < 1 else f'built and cached in {t_input:.0f} s'}: the "
        f"{BASE[size]:,}-enterprise built-in register "
        f"replicated with new ids and points jittered by ~300 m), {workers}, `engine={engine}`.\n\n"
        + table(["step", "time", "CPU (all processes)", "enterprises/s", "enterprises per CPU-s"], rows)
        + "\n\nCPU = user + system seconds of this process (with the local cluster's scheduler) and of every "
        "worker process, read at the end of each step (the memory sampler's calls included). On Dask each "
        "partition's capture sums are computed by the task that scores it: their CPU (the tasks' thread clocks "
        "around them) is counted in the capture row, their wall time is in the batch row's."
        + f"\n\nPeak resident memory per worker: {mem_line} (sampled every 0.5 s). Output written: "
        f"{out_bytes / 2**30:.2f} GiB (joined GeoParquet, top-3 and summary Parquet, capture CSVs)."
        + (f"\n\n{per_core_text}" if per_core_text else "")
    )
    return Report("scale", f"Scale: {n:,} enterprises on Dask", body, {
        "n": n, "partitions": j["partitions"], "join_s": j["seconds"], **{k: v for k, v in b.items()},
        "wall_s": wall, "cpu_s": cpu, "worker_peak_bytes": peaks, "engine": engine, "scheduler": scheduler, **per_core_data,
    })
