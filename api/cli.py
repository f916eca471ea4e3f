"""The ``parkplan`` command line. Each group of commands lives in its own ``cli_*`` module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="parkplan",
    help="Geospatial planning for industrial parks: data, suitability, clustering metrics, maps, transfer review.",
    no_args_is_help=True,
    add_completion=False,
)

from . import cli_data  # noqa: E402

cli_data.register(app)
from . import cli_io; cli_io.register(app)  # noqa: E402, E702
from . import cli_serve; cli_serve.register(app)  # noqa: E402, E702
from . import cli_metrics; cli_metrics.register(app)  # noqa: E402, E702
from . import cli_map; cli_map.register(app)  # noqa: E402, E702
from . import cli_suitability; cli_suitability.register(app)  # noqa: E402, E702
from . import cli_scale; cli_scale.register(app)  # noqa: E402, E702
from . import cli_bench; cli_bench.register(app)  # noqa: E402, E702
from . import cli_plan; cli_plan.register(app)  # noqa: E402, E702

if __name__ == "__main__":  # pragma: no cover
    app()
