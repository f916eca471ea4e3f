"""The ``--db`` option shared by ``serve``, ``token`` and ``transfers``."""

from __future__ import annotations

from typing import Annotated

import typer

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Review database URL (default: $PARKPLAN_DB_URL, else a SQLite file next to the dataset; "
                              "postgresql+psycopg://... for a server database).", show_default=False),
]
