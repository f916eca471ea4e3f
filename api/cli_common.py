"""Shared command-line plumbing: the ``--data`` option, loading the dataset, JSON output."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Dataset GeoPackage (default: $PARKPLAN_DATA, else the built-in dataset in the user data directory, built on first use).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]


def default_data_path() -> Path:
    """The built-in dataset's location in the user's data directory, keyed by the generator's version so
    that a changed generator builds a new dataset (an older one, and any import into it, stays beside it)."""
    from platformdirs import user_data_dir

    from geodata.builtin import GENERATOR_VERSION

    return Path(user_data_dir("parkplan", appauthor=False)) / f"builtin-v{GENERATOR_VERSION}.gpkg"


def resolve_data_path(data: Path | None) -> Path:
    """``--data``, else ``$PARKPLAN_DATA``, else the built-in dataset (built on first use)."""
    if data is not None:
        return Path(data)
    env = os.environ.get("PARKPLAN_DATA")
    if env:
        return Path(env)
    path = default_data_path()
    if not path.exists():
        from geodata.builtin import build_builtin_dataset
        from geodata.dataset import save_dataset

        err_console.print(f"[bold]Building the built-in dataset at {path} (first use)...[/bold]")
        save_dataset(build_builtin_dataset(progress=True), path)
    return path


def load(data: Path | None):
    """Load the dataset named by ``--data`` (see :func:`resolve_data_path`); exit 2 with a message if it cannot."""
    from geodata.dataset import DatasetError, load_dataset

    path = resolve_data_path(data)
    try:
        return load_dataset(path)
    except DatasetError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def fail(message: str, code: int = 2) -> None:
    """Print an error message and exit with ``code``."""
    err_console.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def print_json(obj: Any) -> None:
    """Write ``obj`` as JSON (UTF-8, Chinese unescaped) to stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=_default) + "\n")


def _default(o: Any):
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if np.isnan(o) else float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
