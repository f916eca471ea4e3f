"""api.jobs.scale: the local cluster's workers get the allocator setting; both engines write the same stores."""

from __future__ import annotations

import os
import threading

import pandas as pd

import distributed  # noqa: F401 - a hard dependency: a broken install fails, never skips


def _gc_state() -> dict:
    import gc
    import sys

    return {"frozen": gc.get_freeze_count(),
            "modules": all(m in sys.modules for m in ("parks.scale", "parks.suitability.batch", "geodata.parquet")),
            "ready_thread": __import__("api.jobs._dask_worker", fromlist=["x"]).ready_thread}


def test_local_workers_get_the_malloc_setting_and_keep_dasks_own():
    from api.jobs.scale import WORKER_ENV, dask_client

    with dask_client(workers=1) as client:
        env = list(client.run(lambda: dict(os.environ)).values())[0]
        profiling = list(client.run(lambda: __import__("dask").config.get("distributed.worker.profile.enabled")).values())
        ready = list(client.run(_gc_state).values())[0]
        task_thread = client.gather([client.submit(threading.get_ident, pure=False) for _ in range(3)])
        assert len(set(task_thread)) == 1
    # the worker imported the analysis and froze what its imports created (ReadyWorker): the collector's
    # full passes no longer walk the ~240,000 objects of the libraries
    assert ready["modules"] and ready["frozen"] > 100_000, ready
    assert profiling == [False]
    # ... in the thread that runs the tasks (what that thread keeps, its transformer and allocator heap, is warm)
    assert ready["ready_thread"] is not None and ready["ready_thread"] == task_thread[0]
    for key, value in WORKER_ENV.items():
        assert env.get(key) == value
    # the nanny's other settings are kept; its 64 KiB trim threshold is replaced by ours (the page faults of a
    # worker's task thread, see WORKER_ENV)
    assert env.get("OMP_NUM_THREADS") == "1"
    assert int(env["MALLOC_TRIM_THRESHOLD_"]) >= 16 * 2**20
    assert "MALLOC_MMAP_THRESHOLD_" not in os.environ or os.environ["MALLOC_MMAP_THRESHOLD_"] == env["MALLOC_MMAP_THRESHOLD_"]


def test_batch_store_engines_write_the_same_files(dataset, tmp_path):
    from api.jobs.scale import CAPTURE_GROUPINGS, batch_store, dask_client, join_store
    from geodata.parquet import read_enterprises_parquet_frame, read_table_parquet, write_enterprises_parquet

    raw = dataset.enterprises.drop(columns=[c for c in dataset.enterprises.columns if c in (
        "county_code", "county_name", "city", "less_developed", "coastal", "park_id", "park_distance_m",
        "park_match", "city_centre_km", "in_urban_core")])
    store = write_enterprises_parquet(raw, tmp_path / "ent", partition_rows=800)
    join_store(dataset, store, tmp_path / "j-mem", engine="memory")
    with dask_client(workers=2):
        j = join_store(dataset, store, tmp_path / "j-dask", engine="dask")
        b = batch_store(dataset, tmp_path / "j-dask", tmp_path / "b-dask", engine="dask", top=2)
    assert j["partitions"] == 4 and b["partitions"] == 4 and b["enterprises"] == len(raw)
    assert b["capture_in_batch_cpu_s"] > 0  # the capture sums ran in the batch tasks, and were clocked there
    pd.testing.assert_frame_equal(read_enterprises_parquet_frame(tmp_path / "j-mem"),
                                  read_enterprises_parquet_frame(tmp_path / "j-dask"))
    b_mem = batch_store(dataset, tmp_path / "j-mem", tmp_path / "b-mem", engine="memory", top=2)
    assert b_mem["capture_in_batch_cpu_s"] == 0.0
    for part in ("top", "summary"):
        pd.testing.assert_frame_equal(read_table_parquet(tmp_path / "b-mem" / part),
                                      read_table_parquet(tmp_path / "b-dask" / part), check_dtype=False)
    for by in CAPTURE_GROUPINGS:
        mem = pd.read_csv(tmp_path / "b-mem" / f"capture_{by}.csv")
        dsk = pd.read_csv(tmp_path / "b-dask" / f"capture_{by}.csv")
        pd.testing.assert_frame_equal(mem, dsk, rtol=1e-12)
    assert len(read_table_parquet(tmp_path / "b-dask" / "top")) > len(raw)


def test_dask_batch_reads_each_partition_once_and_ships_the_context_once(dataset, tmp_path, monkeypatch):
    """``batch`` on Dask reads every partition of the joined store once (the context's sums, the scoring
    and the capture use that read) and sends the context to the workers once, not with every task."""
    import api.jobs.scale as jobs
    from geodata.parquet import write_enterprises_parquet

    store = write_enterprises_parquet(dataset.enterprises, tmp_path / "joined", partition_rows=700)
    log = tmp_path / "reads.log"  # the task may be pickled by value: its reads are logged to a file
    real_read = jobs._read_partition

    def counting_read(path):
        with open(log, "a") as f:
            f.write(path + "\n")
        return real_read(path)

    shared: list[type] = []
    real_share = jobs._share

    def counting_share(obj):
        shared.append(type(obj))
        return real_share(obj)

    import geodata.parquet as gp

    real_lazy = gp.read_enterprises_parquet

    def logged(part):
        with open(log, "a") as f:
            f.write(f"lazy-partition-{len(part)}\n")
        return part

    def counting_lazy(path, **kw):  # a read through the lazy frame is logged too
        frame = real_lazy(path, **kw)
        return frame.map_partitions(logged, meta=frame._meta)

    monkeypatch.setattr(jobs, "_read_partition", counting_read)
    monkeypatch.setattr(jobs, "_share", counting_share)
    monkeypatch.setattr(gp, "read_enterprises_parquet", counting_lazy)
    with jobs.dask_client(workers=2, processes=False):  # in-process workers: the counters see their calls
        b = jobs.batch_store(dataset, store, tmp_path / "batch", engine="dask", top=2)
    files = sorted(str(p) for p in store.glob("part.*.parquet"))
    assert b["partitions"] == len(files) > 2
    assert sorted(log.read_text().split()) == files  # each partition once
    from parks.suitability import SuitabilityContext

    assert shared.count(SuitabilityContext) == 1


def test_multi_thread_workers_do_not_get_one_arena():
    from api.jobs.scale import dask_client

    with dask_client(workers=1, threads_per_worker=2) as client:
        env = list(client.run(lambda: dict(os.environ)).values())[0]
    assert "MALLOC_ARENA_MAX" not in env and int(env["MALLOC_TRIM_THRESHOLD_"]) >= 16 * 2**20


def test_the_workers_environment_does_not_stay_in_this_process():
    """The nanny writes the workers' variables into the process that starts it; dask_client puts them back."""
    from api.jobs.scale import WORKER_ENV, dask_client

    before = {k: os.environ.get(k) for k in WORKER_ENV}
    with dask_client(workers=1) as client:
        env = list(client.run(lambda: dict(os.environ)).values())[0]
        assert all(env.get(k) == v for k, v in WORKER_ENV.items()) or any(before.values())
    assert {k: os.environ.get(k) for k in WORKER_ENV} == before


def test_dask_capture_sums_come_from_the_scoring_tasks_rows(dataset, tmp_path, monkeypatch):
    """On Dask the capture sums of a partition are computed once, by the task that scored it, from the very
    frame it scored (no second task per partition, no second read), and the capture files still equal the
    one-process ones; without capture, no sums are computed."""
    import api.jobs.scale as jobs
    import parks.scale as pscale
    import parks.suitability.batch as pbatch
    from geodata.parquet import write_enterprises_parquet

    store = write_enterprises_parquet(dataset.enterprises, tmp_path / "joined", partition_rows=700)
    scored: list[tuple[int, int]] = []
    summed: list[tuple[int, int]] = []
    real_score, real_sums = pbatch.score_batch, pscale.capture_sums_partition

    def score(ctx, part, *a, **k):
        scored.append((id(part), len(part)))
        return real_score(ctx, part, *a, **k)

    def sums(part, *a, **k):
        summed.append((id(part), len(part)))
        return real_sums(part, *a, **k)

    monkeypatch.setattr(pbatch, "score_batch", score)
    monkeypatch.setattr(pscale, "capture_sums_partition", sums)
    with jobs.dask_client(workers=2, processes=False):  # in-process workers: the lists see their calls
        b = jobs.batch_store(dataset, store, tmp_path / "batch", engine="dask", top=2)
        n_files = len(list(store.glob("part.*.parquet")))
        assert b["partitions"] == n_files > 2
        assert len(summed) == n_files and sorted(summed) == sorted(scored)  # the same frames, once each
        assert sum(n for _, n in summed) == len(dataset.enterprises)
        summed.clear()
        jobs.batch_store(dataset, store, tmp_path / "batch-nocap", engine="dask", top=2, capture=False)
        assert summed == [] and not list((tmp_path / "batch-nocap").glob("capture_*.csv"))
    monkeypatch.undo()
    jobs.batch_store(dataset, store, tmp_path / "batch-mem", engine="memory", top=2)
    for by in jobs.CAPTURE_GROUPINGS:
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "batch-mem" / f"capture_{by}.csv"),
                                      pd.read_csv(tmp_path / "batch" / f"capture_{by}.csv"), rtol=1e-12)


def test_import_analysis_runs_a_partitions_io_and_leaves_nothing(tmp_path, monkeypatch):
    """The start-up warm-up writes, reads back and projects a small GeoParquet partition in a temporary
    directory of its own, which it removes."""
    import tempfile

    from api.jobs import _dask_worker

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen = []
    real = _dask_worker.__dict__.get("import_analysis")
    import geodata.parquet as gp

    orig_read = gp.read_enterprises_parquet_frame

    def read(path, **kw):
        frame = orig_read(path, **kw)
        seen.append((str(path), len(frame), frame.crs.to_epsg()))
        return frame

    monkeypatch.setattr(gp, "read_enterprises_parquet_frame", read)
    real(rows=500)
    assert len(seen) == 1 and seen[0][1:] == (500, 4326) and seen[0][0].startswith(str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def _incoming_keys(dask_worker) -> list[str]:
    return [str(k) for entry in dask_worker.transfer_incoming_log for k in entry.get("keys", {})]


def test_dask_batch_keeps_each_partition_on_the_worker_that_read_it(dataset, tmp_path):
    """The joined store's partitions are read evenly by the two workers, and the context's sums and the scoring
    of each run where it was read: no worker receives a partition from the other (the workers' own transfer
    logs), and the local cluster's scheduler does not steal work (which moved partitions with the tasks)."""
    import api.jobs.scale as jobs
    from geodata.parquet import write_enterprises_parquet
    from parks import scale

    store = write_enterprises_parquet(dataset.enterprises, tmp_path / "joined", partition_rows=500)
    n_files = len(list(store.glob("part.*.parquet")))
    assert n_files >= 4
    with jobs.dask_client(workers=2) as client:
        assert "stealing" not in client.cluster.scheduler.extensions
        for r in range(3):  # several rounds: a move depended on how busy each worker looked
            b = jobs.batch_store(dataset, store, tmp_path / f"batch-{r}", engine="dask", top=2)
            assert b["partitions"] == n_files
        moved = [k for keys in client.run(_incoming_keys).values() for k in keys if "_read_partition" in k]
        assert moved == []
        # the reads are spread: each worker holds half of the partitions (placed with _placed)
        import dask

        held = dask.persist(*jobs._placed(lambda f: dask.delayed(jobs._read_partition, pure=False)(str(f)),
                                          sorted(store.glob("part.*.parquet"))))
        where = scale.holders(list(held))
        assert all(where) and sorted(where.count(w) for w in set(where)) == [n_files // 2, n_files - n_files // 2]


def test_holders_without_a_client_are_none():
    import dask

    from parks import scale

    parts = dask.persist(*[dask.delayed(len)([1, 2]) for _ in range(3)])  # the local scheduler: no workers
    assert scale.holders(list(parts)) == [None, None, None]
    with scale.where(None):  # nothing to annotate
        assert dask.delayed(len)([1]).compute() == 1


def test_a_shared_object_travels_as_one_frame_and_is_unpickled_once():
    """``_share`` packs what it sends: Dask would send each numpy array of it as a frame of its own (the context of
    1,000,000 enterprises: 8,155 frames); packed it is one bytes value, unpickled once per process."""
    import pickle

    import numpy as np
    from distributed.protocol import serialize

    from api.jobs.scale import Packed, _unpacked

    links = {f"E{i}": (np.arange(3.0), np.arange(3.0), np.ones(3)) for i in range(500)}
    _, plain_frames = serialize(links)
    _, packed_frames = serialize(Packed.of(links))
    assert len(plain_frames) > 1000 and len(packed_frames) <= 3
    back = pickle.loads(pickle.dumps(Packed.of(links), protocol=5))
    assert isinstance(back, Packed) and back._obj is None  # unpickled on first use only
    first = _unpacked(back)
    assert _unpacked(back) is first  # once per process
    assert first.keys() == links.keys() and all((first[k][2] == links[k][2]).all() for k in links)
    assert _unpacked(7) == 7  # anything else passes through
