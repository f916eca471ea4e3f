"""The ``parkplan`` command line: one module per command group (``api/cli/<group>.py``).

A command module only parses options and prints; what a command does lives below it (``geodata``,
``parks``, ``api.jobs``, ``api.scenario_exports``). Each module has ``register(app)``.
"""

from __future__ import annotations

import typer

from ._usage import ParkplanGroup

# ParkplanGroup: the parser's own refusals (an unknown option, a value out of range...) in the command line's
# language (--lang, else the locale), exit code 2 (api/cli/_usage.py)
app = typer.Typer(
    name="parkplan",
    cls=ParkplanGroup,
    help="Geospatial planning for industrial parks: data, suitability, clustering metrics, maps, transfer review.",
    no_args_is_help=True,
    add_completion=False,
)

from . import bench, data, io, map, metrics, plan, scale, serve, suitability, token, transfers  # noqa: E402

for _group in (data, io, serve, token, transfers, metrics, map, suitability, scale, bench, plan):
    _group.register(app)
