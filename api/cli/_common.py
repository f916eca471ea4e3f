"""Shared command-line plumbing: the ``--data`` option, loading the dataset, JSON output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from geodata.jsonable import jsonable

if TYPE_CHECKING:  # geopandas is imported only when a command loads data
    from geodata.dataset import Dataset

from ..settings import default_data_path, resolve_data_path  # noqa: F401 - the --data rule, shared with the server

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


def load(data: Path | None) -> Dataset:
    """Load the dataset named by ``--data`` (see :func:`resolve_data_path`); exit 2 with a message if it cannot."""
    from geodata.dataset import DatasetError, load_dataset

    path = resolve_data_path(data)
    try:
        return load_dataset(path)
    except DatasetError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def fail(message: str, code: int = 2) -> NoReturn:
    """Print an error message and exit with ``code``."""
    err_console.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def print_json(obj: Any) -> None:
    """Write ``obj`` as JSON (UTF-8, Chinese unescaped) to stdout."""
    sys.stdout.write(json.dumps(jsonable(obj), ensure_ascii=False, indent=2, allow_nan=False) + "\n")
