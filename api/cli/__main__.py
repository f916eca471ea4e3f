"""``python -m api.cli``: the ``parkplan`` command line."""

from . import app

app(prog_name="parkplan")
