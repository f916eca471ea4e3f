"""The command line starts without the libraries a command does not use (issue 15).

Each test runs ``parkplan`` (``api.cli`` through :mod:`runpy`, as ``python -m api.cli`` does) in a fresh
interpreter and reads which modules it had imported when the command ended. No timing: what is imported
decides the start-up time (``python -m benchmarks.cli_startup`` measures it), and it does not depend on
the machine's load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

#: what no command needs before it runs: the analyses (esda and what it pulls in), maps, the cluster, the web
#: server and the database
NEVER_AT_START = ("esda", "libpysal", "sklearn", "matplotlib", "folium", "branca", "dask", "distributed", "numba",
                  "fastapi", "starlette", "uvicorn", "sqlalchemy", "pointpats", "scipy", "jinja2")
#: ...and what only commands that read data need
DATA_LIBRARIES = ("pandas", "numpy", "geopandas", "shapely", "pyproj", "pyogrio", "pyarrow")

# Runs each argv of the JSON list in argv[1] as `parkplan ARGV` in this one process (click's standalone mode
# off, so --help returns instead of exiting), then writes the exit codes and sorted(sys.modules) to argv[2].
_PROBE = r"""
import json, sys
runs, out = json.loads(sys.argv[1]), sys.argv[2]
from api.cli import app
codes = []
for args in runs:
    try:
        rv = app(args=args, prog_name="parkplan", standalone_mode=False)
        codes.append(rv if isinstance(rv, int) else 0)
    except SystemExit as exc:
        codes.append(exc.code or 0)
with open(out, "w") as f:
    json.dump({"codes": codes, "modules": sorted(sys.modules)}, f)
"""


def _run(tmp_path, *runs: list[str], env: dict[str, str] | None = None) -> tuple[list[int], set[str], str]:
    """Exit codes, top-level packages imported, and standard output of the ``runs`` in one fresh interpreter."""
    out = tmp_path / "modules.json"
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(list(runs)), str(out)], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "200", **(env or {})}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    return doc["codes"], {m.split(".")[0] for m in doc["modules"]}, proc.stdout


def _commands() -> list[list[str]]:
    """Every command and sub-command of ``parkplan``, as argv prefixes (``["token", "list"]``)."""
    import typer

    from api.cli import app

    def walk(cmd, prefix: list[str]) -> list[list[str]]:  # typer's click: a group has .commands
        found = [prefix]
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                found += walk(sub, [*prefix, name])
        return found

    return walk(typer.main.get_command(app), [])


def test_every_help_page_starts_without_analyses_database_or_data_libraries(tmp_path):
    commands = _commands()
    assert ["info"] in commands and ["token", "list"] in commands and ["map"] in commands  # the walk finds them
    # an English locale: the pages checked below are the English ones (a Chinese locale gives 用法： pages)
    codes, loaded, stdout = _run(tmp_path, *[[*c, "--help"] for c in commands], env={"LC_ALL": "en_US.UTF-8"})
    assert codes == [0] * len(commands)
    assert "Usage: parkplan token list" in stdout and "Usage: parkplan suitability" in stdout
    assert "enterprise_years" in stdout  # `import --help` names the importable layers (geodata.schema)
    assert loaded.isdisjoint(NEVER_AT_START + DATA_LIBRARIES), sorted(loaded & {*NEVER_AT_START, *DATA_LIBRARIES})
    assert "typer" in loaded and "api" in loaded  # the probe did run the command line


def test_info_reads_the_dataset_without_the_analysis_libraries(tmp_path, dataset_path):
    codes, loaded, stdout = _run(tmp_path, ["info", "--data", str(dataset_path), "--json"])
    assert codes == [0]
    doc = json.loads(stdout)
    assert doc["layers"]["enterprises"] == 3000 and doc["counties"] == 90
    assert "geopandas" in loaded  # it read the GeoPackage
    assert loaded.isdisjoint(NEVER_AT_START), sorted(loaded & set(NEVER_AT_START))


def test_token_commands_open_the_database_without_the_web_server_or_analyses(tmp_path, dataset_path):
    db = f"sqlite:///{tmp_path / 'review.db'}"
    codes, loaded, stdout = _run(tmp_path, ["token", "list", "--data", str(dataset_path), "--db", db, "--json"])
    assert codes == [0]
    assert json.loads(stdout) == []  # a new database has no token
    assert "sqlalchemy" in loaded
    heavy = set(NEVER_AT_START) - {"sqlalchemy"}
    assert loaded.isdisjoint(heavy), sorted(loaded & heavy)


def test_a_command_that_needs_the_analyses_still_imports_them(tmp_path, dataset_path):
    """The other side of laziness: the import happens where the command needs it (here esda for Moran's I)."""
    codes, loaded, stdout = _run(tmp_path, ["metrics", "--data", str(dataset_path), "--simulations", "0",
                                            "--permutations", "19", "--json"])
    assert codes == [0]
    assert "esda" in loaded and "morans_i" in stdout


@pytest.mark.parametrize("module, names", [
    ("api.jobs.admin", None),
    ("api.cli._common", ("default_data_path", "resolve_data_path", "load", "fail", "print_json", "DataOption")),
    ("api.cli._lang", None),
])
def test_public_names_still_importable(module, names):
    import importlib

    mod = importlib.import_module(module)
    for name in names or mod.__all__:
        assert hasattr(mod, name), f"{module}.{name}"


def test_importable_layers_one_definition():
    from geodata import schema, validate

    assert validate.IMPORTABLE_LAYERS is schema.IMPORTABLE_LAYERS


def test_scoring_one_enterprise_skips_the_batch_kernel_and_the_solver(tmp_path, dataset, dataset_path):
    """`parkplan suitability --enterprise` needs the model, not numba (batch kernel) nor scipy.optimize (MILP)."""
    eid = str(dataset.enterprises["enterprise_id"].iloc[0])
    codes, loaded, stdout = _run(tmp_path, ["suitability", "--enterprise", eid, "--data", str(dataset_path), "--json"])
    assert codes == [0]
    assert json.loads(stdout)["enterprise"]["enterprise_id"] == eid
    assert loaded.isdisjoint({*NEVER_AT_START, "numba"} - {"scipy"}), sorted(loaded & {*NEVER_AT_START, "numba"})


def test_parks_suitability_exports_resolve_to_their_submodules():
    """The lazy package (PEP 562) gives every public name, the same object its submodule defines, and its
    submodules as attributes, as the eager imports did."""
    import importlib

    import parks.suitability as ps

    assert sorted(ps._WHERE) == sorted(ps.__all__)  # one list of names for the type checker and for run time
    for name in ps.__all__:
        submodule = importlib.import_module(f"parks.suitability.{ps._WHERE[name]}")
        assert getattr(ps, name) is getattr(submodule, name), name
        assert name in dir(ps)
    assert ps.batch is importlib.import_module("parks.suitability.batch")
    with pytest.raises(AttributeError, match="has no attribute 'score_everything'"):
        ps.score_everything  # noqa: B018


def test_importing_parks_suitability_is_light(tmp_path):
    probe = ("import sys; from parks.suitability import score_enterprise, Constraints, SuitabilityError, "
             "context_from_dataset; print(sorted(m for m in ('numba', 'scipy.optimize', 'parks.suitability.batch', "
             "'parks.suitability.allocation') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
