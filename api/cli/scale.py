"""``parkplan export-parquet``, ``parkplan join`` and ``parkplan batch``: the analyses past one machine.

The enterprises come from a partitioned GeoParquet store (``geodata.parquet``); the parks, counties
and urban boundaries from the dataset (``--data``). ``--engine memory`` runs the in-memory functions
on the whole store; ``--engine dask`` runs them partition by partition (``parks.scale``) on a Dask
cluster: ``--scheduler tcp://HOST:8786`` for an existing one, else a local cluster of ``--workers``
processes. Outputs are partitioned stores too, written by the workers (on a cluster, ``-o`` must be a
path every worker can write, such as a shared file system).

The commands only parse options and print: the runs are :func:`api.jobs.scale.join_store` and
:func:`api.jobs.scale.batch_store` on :func:`api.jobs.scale.dask_client` (also used by scripts and
``benchmarks/bench_scale.py``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from geodata.messages import listing

from ._common import DataOption, JsonOption, console, err_console, fail, load, print_json
from ._lang import LangOption, Words, num, table
from ._messages import CLI
from ._steps import steps

__all__ = ["register"]

EngineOption = Annotated[str, typer.Option("--engine", help="memory (one process) or dask (partitioned).")]
SchedulerOption = Annotated[str | None, typer.Option("--scheduler", help="Address of an existing Dask scheduler, e.g. tcp://scheduler-host:8786 (default: start a local cluster).")]
WorkersOption = Annotated[int, typer.Option("--workers", min=1, help="Worker processes of the local cluster (without --scheduler).")]
MemoryOption = Annotated[str, typer.Option("--worker-memory", help="Memory limit per local worker, e.g. 4GiB.")]
StoreOption = Annotated[Path, typer.Option("--enterprises-parquet", help="Partitioned GeoParquet of enterprises (a directory of part.*.parquet).")]


def _check_engine(engine: str, lang: str | None) -> None:
    from parks.scale import ENGINES

    if engine not in ENGINES:
        fail(CLI("cli.engine", value=engine, accepted=listing(ENGINES)), lang=lang)


@contextlib.contextmanager
def _cluster(engine: str, scheduler, workers: int, memory: str, s, w: Words) -> Iterator[None]:
    """A Dask client for ``--engine dask`` (a step of ``s``: starting or joining the cluster); nothing for memory."""
    if engine != "dask":
        yield
        return
    from ..jobs.scale import dask_client

    s.step(w.t("cli_step_cluster", where=scheduler or w.t("cli_local_cluster", n=workers)))
    with dask_client(scheduler, workers=workers, memory_limit=memory):
        yield


# --- commands -------------------------------------------------------------------------------------

def export_parquet(
    out: Annotated[Path, typer.Option("-o", "--out", help="Directory to write (part.00000.parquet, ...).")],
    data: DataOption = None,
    partition_rows: Annotated[int, typer.Option("--partition-rows", min=1, help="Enterprises per partition file.")] = 250_000,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing directory.")] = False,
    lang: LangOption = None,
) -> None:
    """Write the dataset's enterprises as partitioned GeoParquet (the input of --engine dask)."""
    from geodata.parquet import ParquetStoreError, write_enterprises_parquet

    w = Words(lang)
    with steps(2, err_console) as s:
        s.step(w.t("step_load_data"))
        ds = load(data, w.lang)
        s.step(w.t("cli_step_write", path=out))
        try:
            path = write_enterprises_parquet(ds.enterprises, out, partition_rows=partition_rows, overwrite=overwrite)
        except ParquetStoreError as exc:
            fail(exc, lang=w.lang)
    console.print(w.t("cli_wrote_enterprises", n=num(len(ds.enterprises)), path=path), highlight=False, markup=False)


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
    lang: LangOption = None,
) -> None:
    """Join enterprises (partitioned GeoParquet) to the dataset's counties, parks and urban cores."""
    from geodata.parquet import ParquetStoreError

    from ..jobs.scale import join_store

    _check_engine(engine, lang)
    w = Words(lang)
    with steps(2 + (engine == "dask"), err_console) as s:
        s.step(w.t("step_load_data"))
        ds = load(data, w.lang)
        try:
            with _cluster(engine, scheduler, workers, worker_memory, s, w):
                s.step(w.t("cli_step_join_store", engine=engine))
                res = join_store(ds, store, out, engine=engine, overwrite=overwrite)
        except ParquetStoreError as exc:
            fail(exc, lang=w.lang)
    res.update(engine=engine, out=str(out), enterprises_per_s=res["enterprises"] / max(res["seconds"], 1e-9))
    if as_json:
        print_json(res)
    else:
        tb = table(w.t("cli_join_title"), [(w.t("cli_item"), "left"), (w.t("cli_value"), "right")])
        tb.add_row(w.t("enterprises"), num(res["enterprises"]))
        tb.add_row(w.t("cli_partitions"), num(res["partitions"]))
        tb.add_row(w.t("cli_seconds"), num(res["seconds"], 1))
        tb.add_row(w.t("cli_per_second"), num(res["enterprises_per_s"], 0))
        console.print(tb)
        console.print(f'{w.t("cli_output")}: {out}', highlight=False, markup=False)


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
    lang: LangOption = None,
) -> None:
    """Batch suitability of every enterprise x every park (and park capture), in memory or on Dask."""
    from geodata.parquet import ParquetStoreError

    from ..jobs.scale import batch_store

    _check_engine(engine, lang)
    w = None
    if weights:
        try:
            w = json.loads(weights)
        except json.JSONDecodeError as exc:
            fail(CLI("cli.weights_not_json", reason=str(exc)), lang=lang)
    words = Words(lang)
    t = words.t
    # the steps batch_store reports as each ends (on_step), and the one that follows it
    following = {"context": t("cli_step_batch_score"), "batch": t("cli_step_batch_capture")}
    with steps(4 + (engine == "dask"), err_console) as s:

        def on_step(name: str) -> None:
            if following.get(name):
                s.step(following[name])

        s.step(t("step_load_data"))
        ds = load(data, words.lang)
        try:
            with _cluster(engine, scheduler, workers, worker_memory, s, words):
                s.step(t("cli_step_context"))
                res = batch_store(ds, store, out, engine=engine, top=top, capture=capture, overwrite=overwrite,
                                  weights=w, on_step=on_step)
        except (ParquetStoreError, ValueError) as exc:
            fail(exc, lang=words.lang)
    res.update(engine=engine, out=str(out))
    if as_json:
        print_json(res)
    else:
        total = res["context_s"] + res["batch_s"] + res["capture_s"]
        tb = table(t("cli_batch_title"), [(t("cli_item"), "left"), (t("cli_value"), "right")])
        tb.add_row(t("enterprises"), num(res["enterprises"]))
        tb.add_row(t("cli_partitions"), num(res["partitions"]))
        for key, seconds in (("cli_context_s", res["context_s"]), ("cli_batch_s", res["batch_s"]),
                             ("cli_capture_s", res["capture_s"]), ("cli_total_s", total)):
            tb.add_row(t(key), num(seconds, 1))
        console.print(tb)
        console.print(f'{t("cli_output")}: {out}', highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("export-parquet")(export_parquet)
    app.command("join")(join)
    app.command("batch")(batch)
