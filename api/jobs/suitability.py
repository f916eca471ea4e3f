"""Scenario tables and their files for ``parkplan suitability`` (the command parses options and prints).

A scenario's table is one row per (enterprise, rank) with the enterprise's attributes, and with an
allocation its park and reason; it is written as CSV (UTF-8 with BOM), Excel or GeoPackage by the file's
suffix, with the allocation's land use per park beside it and the planner's report as extra Excel sheets
(:func:`api.scenario_exports.write_plan_sheets`, the same sheets the API's plan workbook has). Every
spreadsheet cell goes through :func:`geodata.spreadsheet.safe_frame`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import geopandas as gpd
import pandas as pd

from geodata.spreadsheet import safe_frame

from ..scenario_exports import write_plan_sheets

__all__ = ["OUTPUT_SUFFIXES", "scenario_table", "xlsx_output", "write_table", "write_parks_table",
           "append_plan_sheets"]

OUTPUT_SUFFIXES = (".csv", ".gpkg", ".xlsx")


def scenario_table(selected, batch, allocation=None) -> pd.DataFrame:
    """One row per (enterprise, rank) with the enterprise's attributes; enterprises without any feasible
    park get one row with an empty rank. With an allocation, its park and reason per enterprise."""
    keep = [c for c in ("enterprise_id", "name", "sector", "county_code", "employees", "land_ha", "pollution_class",
                        "scenario", "scenario_reasons") if c in selected.columns]
    attrs = pd.DataFrame(selected[keep]).assign(enterprise_id=lambda f: f["enterprise_id"].astype(str))
    summary = batch.summary[["enterprise_id", "n_feasible", "catalogue_level", "flag"]]
    top = batch.top.rename(columns={"county_code": "park_county_code"})
    out = attrs.merge(summary, on="enterprise_id", how="left").merge(top, on="enterprise_id", how="left")
    if allocation is not None:
        a = allocation.assignments.rename(columns={"park_id": "allocated_park_id", "reason": "allocation_reason",
                                                    "status": "allocation_status"})
        out = out.merge(a[["enterprise_id", "allocated_park_id", "allocation_status", "allocation_reason"]],
                        on="enterprise_id", how="left")
    return out.reset_index(drop=True)


@contextlib.contextmanager
def xlsx_output(output: Path) -> Iterator[pd.ExcelWriter | None]:
    """One Excel writer for every sheet of an ``.xlsx`` output (``None`` for another suffix): the table, the parks'
    land and the report's sheets are written in one pass, to a file beside ``output`` renamed onto it only when
    all are written. A failure on the way leaves ``output`` as it was (an earlier file stays, none appears).

    Each sheet used to be added by opening the workbook again (``pd.ExcelWriter(mode="a")``), and openpyxl parsed
    the whole assignments sheet back every time: 79 of the 153 s of an urban-core scenario's command under cProfile
    (28,878 rows, 2026-12-01)."""
    if output.suffix.lower() != ".xlsx":
        yield None
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.stem}.partial.xlsx")  # pandas checks the suffix
    try:
        with pd.ExcelWriter(partial, engine="openpyxl") as xw:
            yield xw
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)


def write_table(frame: pd.DataFrame, path: Path, geometry=None, crs=4326, writer=None) -> None:
    """Write ``frame`` to ``path``: .csv (UTF-8 with BOM, opens in Excel), .xlsx, or .gpkg (with ``geometry``).
    ``writer``: the :func:`xlsx_output` writer of ``path`` (an .xlsx written with other sheets).

    Raises
    ------
    ValueError
        For another suffix (naming the accepted ones), or .gpkg without ``geometry``.
    """
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ValueError(f"output {path} has suffix {path.suffix!r}; accepted: {', '.join(OUTPUT_SUFFIXES)}")
    if suffix == ".gpkg" and geometry is None:
        raise ValueError("GeoPackage output needs the enterprises' geometry")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gpkg":
        gpd.GeoDataFrame(frame, geometry=geometry, crs=crs).to_file(path, layer="suitability", driver="GPKG")
        return
    safe = safe_frame(frame)
    if suffix == ".csv":
        safe.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        safe.to_excel(path if writer is None else writer, index=False, sheet_name="suitability")


def write_parks_table(parks: pd.DataFrame, output: Path, park_layer, writer=None) -> str:
    """The allocation's per-park land use next to the scenario output: a second Excel sheet
    ``parks`` (through ``writer``, the output's :func:`xlsx_output`), a second GeoPackage
    layer ``allocation_parks`` (park polygons), or ``<name>_parks.csv``. Returns where it went."""
    frame = parks.merge(park_layer[["park_id", "name", "county_code"]].astype({"park_id": str}), on="park_id", how="left")
    suffix = output.suffix.lower()
    if suffix == ".xlsx":
        safe_frame(frame).to_excel(_sheets(writer), index=False, sheet_name="parks")
        return f"{output} (sheet 'parks')"
    if suffix == ".gpkg":
        geom = park_layer.assign(park_id=park_layer["park_id"].astype(str)).set_index("park_id").geometry.to_crs(4326)
        gdf = gpd.GeoDataFrame(frame, geometry=geom.reindex(frame["park_id"]).to_numpy(), crs=4326)
        gdf.to_file(output, layer="allocation_parks", driver="GPKG")
        return f"{output} (layer 'allocation_parks')"
    path = output.with_name(f"{output.stem}_parks.csv")
    safe_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")
    return str(path)


def append_plan_sheets(report, output: Path, lang: str = "zh", writer=None) -> str | None:
    """The plan report's tables as extra sheets of an .xlsx output (:func:`write_plan_sheets`: a sheet per
    table, header frozen, text guarded), through ``writer`` (the output's :func:`xlsx_output`); None for another
    suffix or no report. Returns where they went."""
    if output.suffix.lower() != ".xlsx" or report is None:
        return None
    names = write_plan_sheets(_sheets(writer), report, lang)
    return f"{output} (sheets {', '.join(names)})"


def _sheets(writer):
    """The output's :func:`xlsx_output` writer: the only way a sheet is added to an .xlsx output (reopening the
    workbook to append one parsed the whole table back)."""
    if writer is None:
        raise TypeError("an .xlsx output's extra sheets are written through its xlsx_output(...) writer")
    return writer
