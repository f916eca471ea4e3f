"""``parkplan import`` and ``parkplan export``: move layers between a dataset and files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rich.markup import escape

from geodata.messages import message
from geodata.schema import IMPORTABLE_LAYERS

from ._common import DataOption, JsonOption, console, err_console, fail, load, print_json, resolve_data_path
from ._lang import LangOption, Words, num, table
from ._steps import steps

__all__ = ["register"]

_IMPORT_HELP = (
    f"Import FILE into LAYER of the dataset ({', '.join(IMPORTABLE_LAYERS)}).\n\n"
    "FILE: GeoJSON, GeoPackage, Shapefile (.shp or .zip), GeoParquet, CSV or Excel .xlsx. Tables find their "
    "coordinates by header (经度/纬度, lon/lat, lng, longitude/latitude, x/y) and accept Chinese headers "
    "(企业名称, 营业收入（万元） ...); the text encoding (UTF-8, GBK/GB18030) is detected.\n\n"
    "Every problem is listed by row and field, and nothing changes unless the whole file is good; a "
    "successful import is recorded in the dataset's import_log layer."
)


def register(app: typer.Typer) -> None:
    app.command("import", help=_IMPORT_HELP)(import_command)
    app.command("export", help="Export LAYER of the dataset to FILE (GeoJSON, GeoPackage, CSV, GeoParquet, Excel).")(
        export_command
    )


def import_command(
    layer: Annotated[str, typer.Argument(help="Layer to import into.", show_default=False)],
    file: Annotated[Path, typer.Argument(help="File to import.", show_default=False)],
    crs: Annotated[str | None, typer.Option(
        "--crs", help="CRS of the file's coordinates if it states none (or a wrong one): 4326 (GPS), gcj02 "
        "(AMap, Tencent), bd09 (Baidu) or an EPSG code. Converted to WGS 84.")] = None,
    mode: Annotated[str, typer.Option("--mode", help="replace the layer, or append rows with new ids.")] = "replace",
    repair: Annotated[bool, typer.Option("--repair", help="Repair invalid polygons instead of refusing them.")] = False,
    source_layer: Annotated[str | None, typer.Option(
        "--source-layer", help="GeoPackage layer or Excel sheet to read, when the file has several.")] = None,
    max_unpacked_mb: Annotated[float | None, typer.Option(
        "--max-unpacked-mb", help="Zipped shapefile: most MiB its members may unpack to in total (default 2048).",
        show_default=False)] = None,
    max_ratio: Annotated[float | None, typer.Option(
        "--max-ratio", help="Zipped shapefile: highest unpacked/compressed size ratio of a member (default 100).",
        show_default=False)] = None,
    data: DataOption = None,
    json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    from geodata.dataset import DatasetError
    from geodata.importer import import_layer
    from geodata.readers import ArchiveLimits, ImportReadError
    from geodata.validate import ImportValidationError

    w = Words(lang)
    path = resolve_data_path(data)
    try:
        limits = ArchiveLimits.from_options(max_unpacked_mb, max_ratio)
        with steps(1, err_console) as s:
            s.step(w.t("cli_step_import", file=file.name, layer=w.layer(layer)))
            report = import_layer(path, layer, file, crs=crs, mode=mode, repair=repair, source_layer=source_layer,
                                  limits=limits)
    except ImportValidationError as exc:
        if json:
            print_json({"error": "invalid file", "problems": [str(p) for p in exc.problems], "detail": str(exc)})
            raise typer.Exit(2) from exc
        _print_problems(exc, w)
        raise typer.Exit(2) from exc
    except (ImportReadError, DatasetError, ValueError) as exc:
        fail(exc, lang=w.lang)
    if json:
        print_json(report.to_dict())
        return
    _print_import(report, file, w)


def _print_problems(exc, w: Words) -> None:
    """Every problem of a refused file, one row each (where, field, what, what is accepted), on stderr."""
    t = w.t
    err_console.print(f"[red]{escape(t('cli_error'))}[/red] "
                      + escape(t("cli_import_refused", n=len(exc.problems), file=exc.source or "-",
                                 layer=w.layer(exc.layer) if exc.layer else "-")), highlight=False, markup=True)
    tb = table(t("cli_problems_title"), [(t("cli_where"), "left"), (t("cli_field"), "left"), (t("cli_problem"), "left"),
                                        (t("cli_accepted"), "left")])
    for p in exc.problems:
        tb.add_row(w.where(p.where), p.field or "-", p.message_in(w.lang), p.accepted_in(w.lang) or "-")
    err_console.print(tb)


def _print_import(report, file: Path, w: Words) -> None:
    t = w.t
    console.print(t("cli_imported", rows=num(report.rows), file=file, layer=w.layer(report.layer),
                    mode=t(f"cli_mode_{report.mode}"), total=num(report.total_rows)), highlight=False, markup=False)
    renamed = [(h, f) for h, f in report.columns.items() if h != f]
    if renamed:
        tb = table(t("cli_columns_title"), [(t("cli_header"), "left"), (t("cli_field"), "left"), (t("cli_unit"), "left")])
        for header, field in renamed:
            tb.add_row(header, field, report.units.get(field, ""))
        console.print(tb)
    if report.crs:
        console.print("  " + t("cli_crs_converted", crs=report.crs), highlight=False, markup=False)
    for line in report.notes:  # the importer's notes (geodata): coded, in the command's language
        console.print(f"  {message(line, w.lang)}", highlight=False, markup=False)
    if report.ignored_columns:
        console.print("  " + t("cli_ignored_columns", columns=", ".join(report.ignored_columns)),
                      highlight=False, markup=False)


def export_command(
    layer: Annotated[str, typer.Argument(help="Layer to export.", show_default=False)],
    file: Annotated[Path, typer.Argument(help="File to write (format from its suffix).", show_default=False)],
    format: Annotated[str | None, typer.Option(
        "--format", help="geojson, gpkg, csv, parquet or xlsx (default: from FILE's suffix).")] = None,
    encoding: Annotated[str, typer.Option(
        "--encoding", help="CSV text encoding: utf-8-sig (opens in Excel), utf-8, gbk or gb18030.")] = "utf-8-sig",
    lang: Annotated[str, typer.Option(
        "--lang", help="CSV/Excel: en (field names, ids) or zh (中文表头和名称, e.g. 营业收入(元), 纺织服装).")] = "en",
    data: DataOption = None,
    json: JsonOption = False,
) -> None:
    from geodata.dataset import DatasetError
    from geodata.writers import ExportError, export_layer

    w = Words(lang if lang in ("zh", "en") else "en")
    with steps(2, err_console) as s:
        s.step(w.t("step_load_data"))
        ds = load(data)
        s.step(w.t("cli_step_export", layer=w.layer(layer), file=file.name))
        try:
            out = export_layer(ds, layer, file, format, encoding=encoding, lang=lang)
        except (ExportError, DatasetError) as exc:
            fail(exc)  # messages follow the locale (this command's --lang is the file's language)
    rows = len(ds.layer(layer))
    if json:
        print_json({"layer": layer, "file": str(out), "rows": rows})
    else:
        console.print(w.t("cli_exported", rows=num(rows), layer=w.layer(layer), file=out), highlight=False,
                      markup=False)
