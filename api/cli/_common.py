"""Shared command-line plumbing: the ``--data`` option, loading the dataset, JSON output."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:  # geopandas is imported only when a command loads data
    from geodata.dataset import Dataset
    from geodata.messages import Message

# Nothing heavy at import: every command's module imports this one, and `parkplan --help` should not pay for
# numpy, pandas or geopandas. api.settings imports the dataset builder (geopandas), so it is imported where used.

# markup off: a name or a file's text in a table cell or a message is printed exactly as it is (a park
# called "[red]..." keeps its brackets); our own colours are asked for per call (markup=True, values escaped)
console = Console(markup=False)
err_console = Console(stderr=True, markup=False)

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
    """The built-in dataset's path in the user data directory (:func:`api.settings.default_data_path`)."""
    from .. import settings

    return settings.default_data_path()


def resolve_data_path(data: Path | None) -> Path:
    """The ``--data`` rule of :func:`api.settings.resolve_data_path` (``--data``, else ``$PARKPLAN_DATA``, else
    the built-in dataset, built on first use), with that first build shown step by step on standard error."""
    from .. import settings

    if data is None and not os.environ.get("PARKPLAN_DATA") and not settings.default_data_path().exists():
        from ._build import build_with_steps
        from ._lang import default_lang
        from ._messages import CLI

        path = settings.default_data_path()
        err_console.print(CLI("cli.first_use", path=path).render(default_lang()), highlight=False, markup=False)
        build_with_steps(path, err_console, default_lang())
    return settings.resolve_data_path(data)


def load(data: Path | None, lang: str | None = None) -> Dataset:
    """Load the dataset named by ``--data`` (see :func:`resolve_data_path`); exit 2 with a message if it cannot
    (in ``lang``, default the locale's)."""
    from geodata.dataset import DatasetError, load_dataset

    path = resolve_data_path(data)
    try:
        return load_dataset(path)
    except DatasetError as exc:
        fail(exc, lang=lang)


def fail(message: str | BaseException | Message, code: int = 2, *, lang: str | None = None) -> NoReturn:
    """Print an error message after the word for error, both in ``lang`` (``zh``/``en``, default: the
    locale's), and exit with ``code``.

    ``message`` is a coded message (the command's own refusals: :data:`api.cli._messages.CLI`), or an error: a
    coded one (:class:`geodata.messages.CodedError`: an import, dataset, metrics, suitability, export,
    targets-file, boundary, map, flows, scale, GeoParquet store or administration refusal) is shown in ``lang``
    (:func:`geodata.messages.message`), any other as ``str(exc)``. Plain text is shown as it is (the commands
    give messages: ``tests/cli/test_cli_messages.py`` refuses a sentence). It is printed as it is: escaped here, so a value's ``[red]`` keeps its brackets (do not
    escape it before)."""
    from rich.markup import escape

    from geodata import glossary
    from geodata.messages import message as in_lang

    from ._lang import default_lang

    lang = lang or default_lang()
    text = message if isinstance(message, str) else in_lang(message, lang)
    prefix = glossary.term("cli_error", lang)
    err_console.print(f"[red]{escape(prefix)}[/red] {escape(text)}", markup=True, highlight=False)
    raise typer.Exit(code)


def print_json(obj: Any) -> None:
    """Write ``obj`` as JSON (UTF-8, Chinese unescaped) to stdout."""
    from geodata.jsonable import jsonable

    sys.stdout.write(json.dumps(jsonable(obj), ensure_ascii=False, indent=2, allow_nan=False) + "\n")
