"""``parkplan bench``: run the benchmarks in ``benchmarks/`` (from a source checkout) and record the results.

The command runs ``python -m benchmarks`` in a child process with the options it was given: the CLI does
not import the benchmarks (they import the application, not the other way round), and a benchmark's
memory and threads end with it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from ._common import fail
from ._messages import CLI


def bench(
    names: Annotated[list[str] | None, typer.Argument(help="Benchmarks to run: join, ripley, suitability, api, scale, maps (default: all).")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Smaller inputs for a fast look.")] = False,
    tiny: Annotated[bool, typer.Option("--tiny", help="Tiny inputs: only checks that each benchmark runs.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Results file (default: benchmarks/RESULTS.md).")] = None,
    no_write: Annotated[bool, typer.Option("--no-write", help="Print the results, do not write the file.")] = False,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="scale: address of an existing Dask scheduler (default: a local 2-worker cluster).")] = None,
    engine: Annotated[str, typer.Option("--engine", help="scale: dask (memory runs the in-memory path for comparison).")] = "dask",
) -> None:
    """Benchmarks against the peer libraries (geopandas, pointpats, a pandas loop) and the Dask scale run."""
    if quick and tiny:
        fail(CLI("cli.bench_quick_tiny"))
    if importlib.util.find_spec("benchmarks") is None:
        fail(CLI("cli.bench_no_package"))
    argv = list(names or [])
    argv += ["--quick"] if quick else []
    argv += ["--tiny"] if tiny else []
    argv += ["--out", str(out)] if out else []
    argv += ["--no-write"] if no_write else []
    argv += ["--scheduler", scheduler] if scheduler else []
    argv += ["--engine", engine]
    raise typer.Exit(subprocess.run([sys.executable, "-m", "benchmarks", *argv], check=False).returncode)


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
