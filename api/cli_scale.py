"""``parkplan export-parquet``, ``parkplan join`` and ``parkplan batch``: the analyses past one machine.

The enterprises come from a partitioned GeoParquet store (``geodata.parquet``); the parks, counties
and urban boundaries from the dataset (``--data``). ``--engine memory`` runs the in-memory functions
on the whole store; ``--engine dask`` runs them partition by partition (``parks.scale``) on a Dask
cluster: ``--scheduler tcp://HOST:8786`` for an existing one, else a local cluster of ``--workers``
processes. Outputs are partitioned stores too, written by the workers (on a cluster, ``-o`` must be a
path every worker can write, such as a shared file system).

:func:`dask_client`, :func:`join_store` and :func:`batch_store` are the same steps as functions, for
scripts and for ``benchmarks/bench_scale.py``.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Annotated, Iterator

import typer

from .cli_common import DataOption, JsonOption, console, fail, load, print_json

__all__ = ["dask_client", "join_store", "batch_store", "register"]

CAPTURE_GROUPINGS = ("sector", "county_code", "all")

EngineOption = Annotated[str, typer.Option("--engine", help="memory (one process) or dask (partitioned).")]
SchedulerOption = Annotated[str | None, typer.Option("--scheduler", help="Address of an existing Dask scheduler, e.g. tcp://scheduler-host:8786 (default: start a local cluster).")]
WorkersOption = Annotated[int, typer.Option("--workers", min=1, help="Worker processes of the local cluster (without --scheduler).")]
MemoryOption = Annotated[str, typer.Option("--worker-memory", help="Memory limit per local worker, e.g. 4GiB.")]
StoreOption = Annotated[Path, typer.Option("--enterprises-parquet", help="Partitioned GeoParquet of enterprises (a directory of part.*.parquet).")]


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, workers: int = 2, threads_per_worker: int = 1,
                memory_limit: str = "auto", processes: bool = True) -> Iterator:
    """A ``distributed.Client`` for ``scheduler`` (an address), else for a new local cluster; closed after."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker, processes=processes,
                      memory_limit=memory_limit, dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def _check_engine(engine: str) -> None:
    from parks.scale import ENGINES

    if engine not in ENGINES:
        fail(f"--engine {engine!r} not accepted; accepted: {', '.join(ENGINES)}")


def join_store(ds, store: Path, out: Path, *, engine: str = "dask", overwrite: bool = False) -> dict:
    """Join the enterprises of ``store`` to ``ds``'s parks and counties; write the joined store ``out``.

    With ``engine="dask"`` this runs on the active Dask client, one task per partition, each writing its
    own output partition. Returns ``{"enterprises", "partitions", "seconds"}``.
    """
    import dask

    from geodata.parquet import (ParquetStoreError, read_enterprises_parquet, read_enterprises_parquet_frame,
                                 write_enterprises_parquet, write_partition)
    from parks import scale

    out = Path(out)
    if out.exists() and not overwrite:
        raise ParquetStoreError(f"{out} exists; pass --overwrite to replace it")
    t = time.perf_counter()
    if engine == "memory":
        joined = scale.join(read_enterprises_parquet_frame(store), ds, engine="memory")
        write_enterprises_parquet(joined, out, overwrite=True)
        n, parts = len(joined), 1
    else:
        _clear(out)
        joined = scale.join_partitioned(read_enterprises_parquet(store), ds)
        writes = [dask.delayed(write_partition)(p, str(out), i) for i, p in enumerate(joined.to_delayed())]
        counts = dask.compute(*writes)
        n, parts = int(sum(counts)), len(counts)
    return {"enterprises": n, "partitions": parts, "seconds": time.perf_counter() - t}


def batch_store(ds, joined_store: Path, out: Path, *, engine: str = "dask", top: int = 3,
                capture: bool = True, overwrite: bool = False, weights: dict | None = None,
                constraints: dict | None = None) -> dict:
    """Batch suitability (and park capture) of the joined enterprises of ``joined_store``.

    Writes ``out/top`` and ``out/summary`` (partitioned Parquet, one row per enterprise and rank / per
    enterprise) and ``out/capture_<by>.csv``. With ``engine="dask"`` the park context is summed over the
    partitions (:func:`parks.scale.context_partitioned`), so no process holds the whole register.
    Returns the timings of each step.
    """
    import dask

    from geodata.parquet import (ParquetStoreError, read_enterprises_parquet, read_enterprises_parquet_frame,
                                 write_partition)
    from parks import scale

    out = Path(out)
    if out.exists() and not overwrite:
        raise ParquetStoreError(f"{out} exists; pass --overwrite to replace it")
    _clear(out)
    out.mkdir(parents=True)
    steps: dict[str, float] = {}
    t = time.perf_counter()
    if engine == "memory":
        from dataclasses import replace

        from parks.metrics.capture import park_capture
        from parks.suitability import context_from_dataset
        from parks.suitability.batch import score_batch

        ent = read_enterprises_parquet_frame(joined_store)
        ctx = context_from_dataset(replace(ds, enterprises=ent))
        steps["context_s"] = time.perf_counter() - t
        t = time.perf_counter()
        res = score_batch(ctx, ent, weights, constraints, top=top)
        write_partition(res.top, out / "top", 0)
        write_partition(res.summary, out / "summary", 0)
        steps["batch_s"] = time.perf_counter() - t
        n, parts = len(ent), 1
        t = time.perf_counter()
        captures = {by: park_capture(ent, ds.projects, by=by) for by in CAPTURE_GROUPINGS} if capture else {}
    else:
        ctx = scale.context_partitioned(ds, read_enterprises_parquet(joined_store))
        steps["context_s"] = time.perf_counter() - t
        t = time.perf_counter()
        top_df, summary_df = scale.score_batch_partitioned(ctx, read_enterprises_parquet(joined_store), weights,
                                                          constraints, top=top)
        writes = [dask.delayed(write_partition)(p, str(out / "top"), i) for i, p in enumerate(top_df.to_delayed())]
        writes += [dask.delayed(write_partition)(p, str(out / "summary"), i)
                   for i, p in enumerate(summary_df.to_delayed())]
        counts = dask.compute(*writes)
        parts = len(counts) // 2
        n = int(sum(counts[parts:]))
        steps["batch_s"] = time.perf_counter() - t
        t = time.perf_counter()
        if capture:
            cols = ["enterprise_id", "park_id", "employees", "revenue", "sector", "county_code"]
            ddf = read_enterprises_parquet(joined_store, columns=cols)
            captures = scale.park_capture_partitioned(ddf, ds.projects, by=CAPTURE_GROUPINGS)  # one pass
        else:
            captures = {}
    for by, frame in captures.items():
        frame.to_csv(out / f"capture_{by}.csv", index=False)
    steps["capture_s"] = time.perf_counter() - t
    return {"enterprises": n, "partitions": parts, **steps}


def _clear(path: Path) -> None:
    import shutil

    if path.exists():
        shutil.rmtree(path)


# --- commands -------------------------------------------------------------------------------------

def export_parquet(
    out: Annotated[Path, typer.Option("-o", "--out", help="Directory to write (part.00000.parquet, ...).")],
    data: DataOption = None,
    partition_rows: Annotated[int, typer.Option("--partition-rows", min=1, help="Enterprises per partition file.")] = 250_000,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing directory.")] = False,
) -> None:
    """Write the dataset's enterprises as partitioned GeoParquet (the input of --engine dask)."""
    from geodata.parquet import ParquetStoreError, write_enterprises_parquet

    ds = load(data)
    try:
        path = write_enterprises_parquet(ds.enterprises, out, partition_rows=partition_rows, overwrite=overwrite)
    except ParquetStoreError as exc:
        fail(str(exc))
    console.print(f"wrote {len(ds.enterprises):,} enterprises to {path}")


def join(
    store: StoreOption,
    out: Annotated[Path, typer.Option("-o", "--out", help="Directory for the joined enterprises (partitioned GeoParquet).")],
    data: DataOption = None,
    engine: EngineOption = "dask",
    scheduler: SchedulerOption = None,
    workers: WorkersOption = 2,
    worker_memory: MemoryOption = "auto",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output directory.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Join enterprises (partitioned GeoParquet) to the dataset's counties, parks and urban cores."""
    from geodata.parquet import ParquetStoreError

    _check_engine(engine)
    ds = load(data)
    try:
        if engine == "dask":
            with dask_client(scheduler, workers=workers, memory_limit=worker_memory):
                res = join_store(ds, store, out, engine=engine, overwrite=overwrite)
        else:
            res = join_store(ds, store, out, engine=engine, overwrite=overwrite)
    except ParquetStoreError as exc:
        fail(str(exc))
    res.update(engine=engine, out=str(out), enterprises_per_s=res["enterprises"] / max(res["seconds"], 1e-9))
    if as_json:
        print_json(res)
    else:
        console.print(f"joined {res['enterprises']:,} enterprises in {res['partitions']} partition(s) in "
                      f"{res['seconds']:.1f} s ({res['enterprises_per_s']:,.0f}/s) -> {out}")


def batch(
    store: Annotated[Path, typer.Option("--enterprises-parquet", help="Joined enterprises (the output of `parkplan join`).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Directory for top/, summary/ and capture_*.csv.")],
    data: DataOption = None,
    engine: EngineOption = "dask",
    scheduler: SchedulerOption = None,
    workers: WorkersOption = 2,
    worker_memory: MemoryOption = "auto",
    top: Annotated[int, typer.Option("--top", min=1, help="Parks kept per enterprise.")] = 3,
    weights: Annotated[str | None, typer.Option("--weights", help="JSON object of criterion weights.")] = None,
    capture: Annotated[bool, typer.Option("--capture/--no-capture", help="Also write park capture shares.")] = True,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output directory.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Batch suitability of every enterprise x every park (and park capture), in memory or on Dask."""
    from geodata.parquet import ParquetStoreError

    _check_engine(engine)
    w = None
    if weights:
        try:
            w = json.loads(weights)
        except json.JSONDecodeError as exc:
            fail(f"--weights is not JSON: {exc}")
    ds = load(data)
    try:
        if engine == "dask":
            with dask_client(scheduler, workers=workers, memory_limit=worker_memory):
                res = batch_store(ds, store, out, engine=engine, top=top, capture=capture, overwrite=overwrite, weights=w)
        else:
            res = batch_store(ds, store, out, engine=engine, top=top, capture=capture, overwrite=overwrite, weights=w)
    except (ParquetStoreError, ValueError) as exc:
        fail(str(exc))
    res.update(engine=engine, out=str(out))
    if as_json:
        print_json(res)
    else:
        total = res["context_s"] + res["batch_s"] + res["capture_s"]
        console.print(f"scored {res['enterprises']:,} enterprises in {total:.1f} s "
                      f"(context {res['context_s']:.1f} s, batch {res['batch_s']:.1f} s, capture {res['capture_s']:.1f} s) -> {out}")


def register(app: typer.Typer) -> None:
    app.command("export-parquet")(export_parquet)
    app.command("join")(join)
    app.command("batch")(batch)
