"""The partitioned runs behind ``parkplan join`` and ``parkplan batch`` (and ``benchmarks/bench_scale.py``).

:func:`dask_client` opens a cluster (an existing scheduler, or a local one whose workers get
:data:`WORKER_ENV`); :func:`join_store` and :func:`batch_store` run the steps, in memory or one task per
partition file on the active Dask client. How the Dask path keeps a worker's core busy with the
analysis, not with shipping and allocating:

* what every partition needs (the small layers for the join, the suitability context, the projects'
  investment) is sent once to every worker (``client.scatter(..., broadcast=True)``), pickled into one
  bytes value (:class:`Packed`), and handed to the tasks as a future, never embedded per task;
* the joined store's partitions are read evenly by the workers (:func:`_placed`) and every later step of a
  partition runs on the worker holding it (:func:`parks.scale.holders`, :func:`parks.scale.where`); the local
  cluster does not steal work (:data:`WORKER_CONFIG`): no partition moves between workers;
* each task reads its own partition file and writes its own output partition: no partition travels
  through the scheduler or the client;
* ``batch`` reads the joined store once: each partition is read by one task and kept in that worker's
  memory (``dask.persist``) for the steps that use it (the context's population sums, then the scoring
  and, in the same task right after it, the park-capture sums), as the one-process path reads the store
  once;
* workers run with ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` set and without the
  statistical profiler
  (:data:`WORKER_ENV`, :data:`WORKER_CONFIG`);
* every worker imports the analysis once and then moves the objects of its imports out of Python's
  cyclic garbage collector's sight (:class:`api.jobs._dask_worker.ReadyWorker`, ``gc.freeze``).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Iterator

from geodata.dataset import Dataset

__all__ = ["CAPTURE_GROUPINGS", "WORKER_ENV", "WORKER_CONFIG", "dask_client", "join_store", "batch_store"]

CAPTURE_GROUPINGS = ("sector", "county_code", "all")

#: Environment of local Dask worker processes. Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_``, which turns
#: off glibc's dynamic mmap threshold: every temporary above 128 KiB (the scoring chunks' 2,000 x 200
#: matrices are 3.2 MB) is then mapped and unmapped, page-faulted afresh each time, and a partition
#: costs about twice the CPU it costs in one process (measured: 12.8 s against 6.6 s for 250,000
#: enterprises). A fixed 16 MiB threshold keeps those temporaries on the heap (6.9 s). Workers of an
#: existing cluster need the same setting where they are started (``docs/scale.md``).
#:
#: ``MALLOC_TRIM_THRESHOLD_`` (64 MiB instead of the nanny's 64 KiB) and ``MALLOC_ARENA_MAX=1``: with the
#: nanny's threshold glibc hands freed memory at the top of the heap back to the system after nearly
#: every free, and the next allocation faults the pages in again; a worker runs its tasks in a thread
#: of its pool, whose own arena (a thread's arena, not the main one) is trimmed the same way. The
#: park-capture sums of 1,000,000 enterprises (4 partitions) cost 0.60-0.65 CPU-seconds in the workers
#: against 0.43-0.45 s in one process, the difference system time (24,000 minor page faults per
#: partition of 250,000 against 5,000 per partition in one process); the same kernel in a plain process,
#: in a thread, with the workers' environment shows it too (118,000 faults per 1,000,000). With both
#: settings: 0.46-0.48 s, 2,000-10,000 faults per partition (measured 2026-11-30, ``MALLOC_TRIM_THRESHOLD_``
#: alone: 0.46-0.53 s). That was with the capture sums as tasks of their own; computed by the batch task
#: right after the scoring (as :func:`batch_store` now does) they cost 0.44-0.47 s with or without these two
#: settings, and the context and batch steps showed no difference either (A/B of the two environments,
#: old/new/old/new, 2026-11-30 10:52-10:55 UTC, load average 17-23): they stay for tasks that allocate
#: on a fresh heap. A worker keeps at most 64 MiB of freed memory per arena instead of returning it.
#: One arena is set only for workers of one thread (what :func:`dask_client` starts by default; the
#: threads of a wider worker would queue on one arena's lock).
WORKER_ENV = {"MALLOC_MMAP_THRESHOLD_": str(16 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(64 * 2**20),
              "MALLOC_ARENA_MAX": "1"}
#: the part of :data:`WORKER_ENV` that workers of several threads get (no single arena)
_MULTI_THREAD_ENV = {k: v for k, v in WORKER_ENV.items() if k != "MALLOC_ARENA_MAX"}
#: Dask configuration of local workers: the statistical profiler samples each task's stack every 10 ms;
#: off, reading, scoring and writing a partition of 250,000 in a worker took 8.1 CPU-seconds against
#: 8.6-9.4 s with it (7.0-7.3 s in one process; single runs on a loaded machine). The dashboard's
#: profile page is then empty.
#: The event loop's tick (20 ms), the system monitor (0.5 s) and the memory monitor (0.1 s) wake every
#: process of the cluster many times a second: idle, the scheduler and two workers used 0.074 CPU-seconds
#: per second, 0.011 with the intervals below (measured 2026-11-30), CPU that grows with the wall time of a
#: run on a busy machine. The memory limit is then checked every second instead of ten times a second.
#:
#: Work stealing is off (the scheduler of a local cluster runs in this process and reads this configuration when
#: it starts). ``batch`` keeps each partition of the joined store in the memory of the worker that read it, and
#: the steps after the read (the context's sums, the scoring) are meant to run where their partition is. With
#: stealing on, a worker that ran out of tasks took one queued on the other, and the 74 MB partition it needed
#: travelled with it: two of five rounds of a 1,000,000-enterprise batch moved partitions this way (measured
#: 2026-12-01 from the workers' transfer logs), each move paid twice (pickled by one worker, unpickled by the
#: other). Without it, no round moved one. The reads are spread evenly over the workers instead
#: (:func:`_placed`), so that no worker is left idle for stealing to fill.
WORKER_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
                 "distributed.admin.system-monitor.interval": "2s",
                 "distributed.worker.memory.monitor-interval": "1s",
                 "distributed.scheduler.work-stealing": False}


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, workers: int = 2, threads_per_worker: int = 1,
                memory_limit: str = "auto", processes: bool = True) -> Iterator:
    """A ``distributed.Client`` for ``scheduler`` (an address), else for a new local cluster whose worker
    processes get :data:`WORKER_ENV` and :data:`WORKER_CONFIG`; every worker gets
    :class:`api.jobs._dask_worker.ReadyWorker` (with ``processes=False`` the workers share this process:
    it is not frozen); closed after."""
    import dask
    from distributed import Client, LocalCluster

    from ._dask_worker import ReadyWorker

    if scheduler:
        with Client(scheduler) as client:
            client.register_plugin(ReadyWorker())
            yield client
        return
    ours = WORKER_ENV if threads_per_worker == 1 else _MULTI_THREAD_ENV
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {}, **ours)
    # the nanny passes these on by writing them into this process's environment before it spawns a worker
    # (and leaves them there): put this process's own values back once the workers run and at the end, so
    # a later cluster (say of several threads) or any other child of this process does not inherit them
    # (the nanny also lets a variable of this process's environment override its configuration, so a
    # value left there by an earlier cluster, e.g. the nanny's own 64 KiB trim threshold, would win: ours
    # are put there while the workers start)
    saved = {k: os.environ.get(k) for k in environ}
    os.environ.update(ours)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ, **WORKER_CONFIG}), \
                LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker, processes=processes,
                             memory_limit=memory_limit, dashboard_address=None) as cluster, Client(cluster) as client:
            _restore_environ(saved)
            if processes:
                client.register_plugin(ReadyWorker())
            yield client
    finally:
        _restore_environ(saved)


def _restore_environ(saved: dict) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _client():
    """The active ``distributed.Client``, or None (then Dask's local scheduler runs the tasks)."""
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


class Packed:
    """An object pickled once into one ``bytes`` value, unpickled once per process that uses it (:meth:`get`).

    What :func:`_share` sends to the workers. Dask pickles data with every numpy array as a buffer of its own, and
    sends each as a message frame: the suitability context of 1,000,000 enterprises has 8,155 arrays (three for each
    of its 2,636 suppliers' chain leaders), and broadcasting it cost the client 0.17-0.26 and the workers 0.30-0.41
    CPU-seconds, every round, a fifth of the Dask batch step's overhead (a broadcast reaches the second worker
    from the first, which pickles the object again). Packed, the same context is one frame of 0.46 MB, and the
    copy the first worker passes on stays packed (measured 2026-12-01).
    """

    __slots__ = ("data", "_obj")

    def __init__(self, data: bytes):
        self.data = data
        self._obj = None

    @classmethod
    def of(cls, obj) -> "Packed":
        import pickle

        packed = cls(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))  # no buffer callback: in-band
        packed._obj = obj
        return packed

    def __reduce__(self):
        return (Packed, (self.data,))

    def get(self):
        if self._obj is None:
            import pickle

            self._obj = pickle.loads(self.data)
        return self._obj


def _unpacked(value):
    """A value :func:`_share` sent (its object), or any other value as it is."""
    return value.get() if isinstance(value, Packed) else value


def _share(obj):
    """``obj`` on every worker once: a future of it :class:`Packed` on a cluster (tasks take it through
    :func:`_unpacked`), else a delayed value (one graph key)."""
    import dask

    client = _client()
    if client is None:
        return dask.delayed(obj, pure=True)
    return client.scatter(Packed.of(obj), broadcast=True, hash=False)


def _placed(make, items) -> list:
    """``[make(item) for item in items]``, the ``i``-th task meant for worker ``i % n`` of the active cluster's ``n``
    (sorted by address; a preference, not a restriction: another worker may run it if that one is gone).

    ``dask.persist`` of the joined store's reads otherwise gives the first two partitions to the two workers and
    each later one to whichever is free first, so one worker could hold three partitions of four and do three
    quarters of every later step while the other idles."""
    from parks.scale import where

    client = _client()
    workers = sorted(client.scheduler_info()["workers"]) if client is not None else []
    tasks = []
    for i, item in enumerate(items):
        with where(workers[i % len(workers)] if workers else None):
            tasks.append(make(item))
    return tasks


def _clear(path: Path) -> None:
    import shutil

    if path.exists():
        shutil.rmtree(path)


def _read_partition(path: str):
    from geodata.parquet import read_enterprises_parquet_frame

    return read_enterprises_parquet_frame(path)


def _join_file(src: str, out: str, index: int, layers, max_park_distance_m: float, urban_core_km) -> int:
    from geodata.parquet import write_partition
    from parks.scale import join_partition

    joined = join_partition(_read_partition(src), _unpacked(layers), max_park_distance_m, urban_core_km)
    return write_partition(joined, out, index)


def _score_part(part, out: str, index: int, ctx, weights, constraints, top: int, investment=None,
                groupings: tuple[str, ...] = ()) -> tuple[int, dict, float]:
    """Score one partition and write its top and summary; then, from the same rows, its park-capture sums
    per grouping. Returns (rows, {by: sums}, CPU seconds of this thread spent on the capture sums)."""
    from geodata.parquet import write_partition
    from parks.scale import capture_sums_partition
    from parks.suitability.batch import score_batch

    ctx, investment = _unpacked(ctx), _unpacked(investment)
    res = score_batch(ctx, part, weights, constraints, top=top)
    write_partition(res.top, Path(out) / "top", index)
    write_partition(res.summary, Path(out) / "summary", index)
    t = time.thread_time()
    sums = capture_sums_partition(part, investment, groupings) if groupings else {}
    return len(res.summary), sums, time.thread_time() - t


def join_store(ds: Dataset, store: Path, out: Path, *, engine: str = "dask", overwrite: bool = False,
               max_park_distance_m: float | None = None, urban_core_km: float | None = None) -> dict:
    """Join the enterprises of ``store`` to ``ds``'s parks and counties; write the joined store ``out``.

    With ``engine="dask"`` this runs on the active Dask client, one task per partition file, each reading
    its file and writing its own output partition. Returns ``{"enterprises", "partitions", "seconds"}``.
    """
    import dask

    from geodata.parquet import (ParquetStoreError, enterprise_parquet_files, read_enterprises_parquet_frame,
                                 write_enterprises_parquet)
    from parks import scale
    from parks.joins import DEFAULT_MAX_PARK_DISTANCE_M

    out = Path(out)
    if out.exists() and not overwrite:
        raise ParquetStoreError("parquet.exists_overwrite", path=out)
    distance = DEFAULT_MAX_PARK_DISTANCE_M if max_park_distance_m is None else max_park_distance_m
    t = time.perf_counter()
    if engine == "memory":
        joined = scale.join(read_enterprises_parquet_frame(store), ds, engine="memory",
                            max_park_distance_m=distance, urban_core_km=urban_core_km)
        write_enterprises_parquet(joined, out, overwrite=True)
        n, parts = len(joined), 1
    else:
        files = enterprise_parquet_files(store)
        _clear(out)
        layers = _share(scale.layers(ds))
        counts = dask.compute(*[dask.delayed(_join_file, pure=False)(str(f), str(out), i, layers, distance, urban_core_km)
                                for i, f in enumerate(files)])
        n, parts = int(sum(counts)), len(counts)
    return {"enterprises": n, "partitions": parts, "seconds": time.perf_counter() - t}


def batch_store(ds: Dataset, joined_store: Path, out: Path, *, engine: str = "dask", top: int = 3,
                capture: bool = True, overwrite: bool = False, weights: dict | None = None,
                constraints: dict | None = None, on_step=None) -> dict:
    """Batch suitability (and park capture) of the joined enterprises of ``joined_store``.

    Writes ``out/top`` and ``out/summary`` (partitioned Parquet, one row per enterprise and rank / per
    enterprise) and ``out/capture_<by>.csv``. With ``engine="dask"`` each partition is read once into
    the memory of a worker (so no process holds the whole register), the park context is summed over
    the partitions (:func:`parks.scale.context_partitioned`), then one task per partition scores it,
    writes its results and, from the same rows, sums its capture shares. Returns the timings:
    ``context_s`` (with the reading), ``batch_s`` (scoring and writing; on Dask with the capture sums of
    each partition), ``capture_s`` (in memory the capture sums; on both, adding them up and writing the
    CSVs) and ``capture_in_batch_cpu_s``: the CPU seconds the batch tasks spent on the capture sums (each
    task's thread clock around them; 0 in memory), which belong to the capture step when steps are
    accounted for (``benchmarks/bench_scale.py`` moves them there).
    ``on_step(name)`` (optional) is called as each step ends (the benchmark reads CPU clocks there).
    """
    def done(name: str) -> None:
        if on_step is not None:
            on_step(name)

    import dask

    from geodata.parquet import (ParquetStoreError, enterprise_parquet_files, read_enterprises_parquet,
                                 read_enterprises_parquet_frame, write_partition)
    from geodata.spreadsheet import safe_frame
    from parks import scale

    out = Path(out)
    if out.exists() and not overwrite:
        raise ParquetStoreError("parquet.exists_overwrite", path=out)
    _clear(out)
    out.mkdir(parents=True)
    steps: dict[str, float] = {}
    held: tuple = ()
    t = time.perf_counter()
    if engine == "memory":
        from dataclasses import replace

        from parks.joins import PreparedDataset
        from parks.suitability import context_from_dataset
        from parks.suitability.batch import score_batch

        ent = read_enterprises_parquet_frame(joined_store)
        ctx = context_from_dataset(PreparedDataset(replace(ds, enterprises=ent)))  # the joined store: prepared
        steps["context_s"] = time.perf_counter() - t
        done("context")
        t = time.perf_counter()
        res = score_batch(ctx, ent, weights, constraints, top=top)
        write_partition(res.top, out / "top", 0)
        write_partition(res.summary, out / "summary", 0)
        steps["batch_s"] = time.perf_counter() - t
        done("batch")
        n, parts = len(ent), 1
        steps["capture_in_batch_cpu_s"] = 0.0
        t = time.perf_counter()
        # the kernel of the Dask path (one pass for the three groupings), on the whole register as one partition
        captures = (scale.capture_from_sums([scale.capture_sums_partition(ent, scale.project_investment(ds.projects),
                                                                          CAPTURE_GROUPINGS)], CAPTURE_GROUPINGS)
                    if capture else {})
    else:
        files = enterprise_parquet_files(joined_store)
        # each partition read once and kept where it was read (dask.persist: in the workers' memory), then
        # the three steps run on it: the context's population sums, the scoring, the capture sums
        held = dask.persist(*_placed(lambda f: dask.delayed(_read_partition, pure=False)(str(f)), files))
        ctx = scale.context_partitioned(ds, read_enterprises_parquet(joined_store), parts=list(held))
        steps["context_s"] = time.perf_counter() - t
        done("context")
        t = time.perf_counter()
        shared_ctx = _share(scale.slim_context(ctx))
        # the capture sums of a partition are computed by the task that scores it, right after the scoring,
        # from the rows it already holds: no second task per partition, no second pass over the held store
        groupings = CAPTURE_GROUPINGS if capture else ()
        investment = _share(scale.project_investment(ds.projects)) if capture else None
        # each partition scored where it is held: it is not sent to another worker
        results = dask.compute(*scale.on_holders(
            list(held), lambda i, p: dask.delayed(_score_part, pure=False)(p, str(out), i, shared_ctx, weights,
                                                                        constraints, top, investment, groupings)))
        n, parts = int(sum(r[0] for r in results)), len(results)
        steps["batch_s"] = time.perf_counter() - t
        # the capture sums' own CPU inside the batch tasks (each task's thread clock around them), so that
        # the capture step can be accounted for with them (benchmarks/bench_scale.py moves it)
        steps["capture_in_batch_cpu_s"] = float(sum(r[2] for r in results))
        done("batch")
        t = time.perf_counter()
        captures = scale.capture_from_sums([r[1] for r in results], CAPTURE_GROUPINGS) if capture else {}
    for by, frame in captures.items():  # group labels come from the data: no formula cells
        safe_frame(frame).to_csv(out / f"capture_{by}.csv", index=False)
    steps["capture_s"] = time.perf_counter() - t
    done("capture")
    # the partitions held by the workers are released here, after the last step, as the one-process path
    # drops its frame on return (freeing 1,000,000 enterprises' rows took the workers 0.07 CPU-s, which
    # released before the capture step's end fell into it)
    held = ()
    return {"enterprises": n, "partitions": parts, **steps}
