"""Import a user's file into one layer of a dataset, atomically and on the record.

``import_layer`` = read (:mod:`geodata.readers`) -> validate and convert (:mod:`geodata.validate`) ->
write (:func:`geodata.dataset.save_dataset`, which writes a temporary file and renames it into place).
Any problem stops the import before the write, so a failed import leaves the dataset file byte for
byte as it was. A successful one appends a row to the ``import_log`` layer: when, which layer, from
which file (and its SHA-256), in which mode, how many rows.

A killed import can leave its temporary GeoPackage beside the dataset; the next import removes the
leftovers whose writer is provably gone (:func:`geodata.tempfiles.remove_stale`), and never one that
a live import is writing.

Concurrent imports into the same dataset are serialised with an advisory lock on a ``.lock`` file
beside it (POSIX ``flock``; Windows ``msvcrt.locking``), so two imports cannot both read the old
dataset and the second overwrite the first.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from .dataset import Dataset, DatasetError, load_dataset, save_dataset
from .messages import IMPORT, Note, layer_name
from .readers import ArchiveLimits, read_table
from .schema import LAYERS
from .tempfiles import remove_stale
from .validate import IMPORTABLE_LAYERS, ValidatedLayer, validate_layer

__all__ = ["IMPORT_MODES", "ImportReport", "import_layer", "source_sha256"]

IMPORT_MODES = ("replace", "append")

# field -> (layer, id column) that its values must exist in
_REFERENCES = {
    "projects": {"enterprise_id": ("enterprises", "enterprise_id")},
    "parks": {"county_code": ("counties", "code")},
    "suppliers": {"supplier_id": ("enterprises", "enterprise_id"), "leader_id": ("enterprises", "enterprise_id")},
    "fixed_asset_investment": {"county_code": ("counties", "code")},
    "enterprise_years": {"enterprise_id": ("enterprises", "enterprise_id")},
}
# the other way round: replacing a layer may leave rows of another layer pointing nowhere. That is
# reported, not refused, or real data could never replace the synthetic (projects need enterprises first).
_DEPENDENTS = {
    layer: [(dependent, fname, ref_col) for dependent, refs in _REFERENCES.items()
            for fname, (ref_layer, ref_col) in refs.items() if ref_layer == layer]
    for layer in {ref_layer for refs in _REFERENCES.values() for ref_layer, _ in refs.values()}
}


@dataclass
class ImportReport:
    """What an import did; ``to_dict()`` is what ``parkplan import --json`` prints."""

    layer: str
    source: str
    format: str
    mode: str
    rows: int  # rows imported
    total_rows: int  # rows in the layer afterwards
    sha256: str
    time: str
    crs: str | None = None
    encoding: str | None = None
    source_layer: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    repaired: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def source_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of an imported file; for a shapefile, of its .shp, .shx, .dbf, .prj and .cpg in that order."""
    path = Path(path)
    h = hashlib.sha256()
    parts = [path]
    if path.suffix.lower() == ".shp":
        parts = [p for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")
                 for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() == ext]
    for part in parts:
        with open(part, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def _locked(dataset_path: Path):
    """Hold an exclusive advisory lock beside ``dataset_path`` (released on exit or process death)."""
    lock_path = dataset_path.parent / f".{dataset_path.name}.lock"
    with open(lock_path, "a+b") as fh:
        if sys.platform == "win32":
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield


def import_layer(
    dataset_path: str | os.PathLike,
    layer: str,
    file: str | os.PathLike,
    crs: str | int | None = None,
    mode: str = "replace",
    repair: bool = False,
    *,
    source_layer: str | None = None,
    now: _dt.datetime | None = None,
    limits: ArchiveLimits | None = None,
) -> ImportReport:
    """Import ``file`` into ``layer`` of the dataset at ``dataset_path``.

    Parameters
    ----------
    dataset_path : the dataset GeoPackage (see :func:`geodata.dataset.load_dataset`).
    layer : one of :data:`geodata.validate.IMPORTABLE_LAYERS`.
    file : GeoJSON, GeoPackage, Shapefile (or a .zip of one), GeoParquet, CSV or Excel .xlsx.
    crs : the CRS of the file's coordinates if the file does not state it (or states it wrongly):
        an EPSG code, ``gcj02`` (AMap, Tencent) or ``bd09`` (Baidu). Converted to WGS 84.
    mode : ``replace`` the layer's rows, or ``append`` to them (ids must be new).
    repair : repair invalid polygons (``shapely.make_valid``) instead of refusing the file.
    source_layer : the GeoPackage layer or Excel sheet to read, when the file has several.
    now : the time recorded in the import log (default: now, UTC).
    limits : how much a zipped shapefile may unpack to (default :class:`geodata.readers.ArchiveLimits`:
        2 GiB in total, compression ratio 100 per member).

    Raises
    ------
    geodata.validate.ImportValidationError
        listing every problem of the file; the dataset is not touched.
    geodata.readers.ImportReadError, geodata.dataset.DatasetError
        for an unreadable file, a missing dataset, an unknown layer or mode (coded: geodata.messages).
    """
    if layer not in IMPORTABLE_LAYERS:
        raise DatasetError("dataset.not_importable", layer=layer, accepted=", ".join(IMPORTABLE_LAYERS))
    if mode not in IMPORT_MODES:
        raise DatasetError("dataset.mode_unknown", mode=mode, accepted=", ".join(IMPORT_MODES))
    dataset_path = Path(dataset_path)
    file = Path(file)
    raw = read_table(file, source_layer=source_layer, target=layer, limits=limits)
    digest = source_sha256(file)
    time = (now or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc).isoformat(timespec="seconds")
    if not dataset_path.exists():
        load_dataset(dataset_path)  # raises DatasetError with the way out
    with _locked(dataset_path):
        remove_stale(dataset_path.parent, f".{dataset_path.name}")
        ds = load_dataset(dataset_path)
        validated = _validate(ds, raw, layer, crs, mode, repair)
        combined = _combine(ds.layer(layer), validated.frame, mode)
        log = _log_row(ds.import_log, time=time, layer=layer, source=str(file.resolve()), mode=mode,
                       rows=len(validated.frame), sha256=digest)
        updated = ds.with_layer(layer, combined).with_layer("import_log", log)
        updated.metadata = _record_provenance(ds.metadata, layer, mode, file.name, time, digest)
        save_dataset(updated, dataset_path)
    notes = validated.notes + _dangling(updated, layer)
    return ImportReport(
        layer=layer, source=str(file), format=raw.format, mode=mode, rows=len(validated.frame),
        total_rows=len(combined), sha256=digest, time=time, crs=validated.crs, encoding=raw.encoding,
        source_layer=raw.source_layer, columns=validated.columns, units=validated.units,
        ignored_columns=validated.ignored_columns, repaired=validated.repaired, notes=notes,
    )


def _validate(ds: Dataset, raw, layer: str, crs, mode: str, repair: bool) -> ValidatedLayer:
    schema = LAYERS[layer]
    current = ds.layer(layer)
    existing_ids = None
    if mode == "append" and schema.id_field and schema.id_field in current.columns:
        existing_ids = set(current[schema.id_field].dropna().astype(str))
    references = {}
    for fname, (ref_layer, ref_col) in _REFERENCES.get(layer, {}).items():
        ref = ds.layer(ref_layer)
        if ref_col in ref.columns and len(ref):
            references[fname] = (ref_layer, set(ref[ref_col].dropna().astype(str)))
    province, name = None, "the province"
    if len(ds.province):
        geoms = ds.province.to_crs(4326).geometry
        province = geoms.iloc[0] if len(geoms) == 1 else geoms.union_all()
        if "name" in ds.province.columns:
            name = str(ds.province["name"].iloc[0])
    return validate_layer(
        raw, layer, province=province, province_name=name, crs=crs, repair=repair,
        existing_ids=existing_ids, keep_columns=set(current.columns) - {"geometry"}, references=references,
    )


def _dangling(ds: Dataset, layer: str) -> list[str]:
    """Notes on rows of other layers that refer to ids no longer in ``layer``."""
    notes: list[str] = []
    for dependent, fname, ref_col in _DEPENDENTS.get(layer, []):
        rows = ds.layer(dependent)
        if fname not in rows.columns or not len(rows):
            continue
        ids = set(ds.layer(layer)[ref_col].dropna().astype(str))
        missing = ~rows[fname].astype(str).isin(ids)
        if missing.any():
            notes.append(Note(IMPORT("note.dangling", missing=int(missing.sum()), total=len(rows),
                                     dependent=layer_name(dependent), field=fname, layer=layer_name(layer))))
    return notes


def _combine(current: pd.DataFrame, new: pd.DataFrame, mode: str) -> pd.DataFrame:
    if mode == "replace" or len(current) == 0:
        return new
    new = new.reindex(columns=list(current.columns) + [c for c in new.columns if c not in current.columns])
    combined = pd.concat([current, new], ignore_index=True)
    if hasattr(current, "crs"):
        import geopandas as gpd

        combined = gpd.GeoDataFrame(combined, geometry="geometry", crs=current.crs)
    return combined


def _log_row(log: pd.DataFrame, **row) -> pd.DataFrame:
    entry = pd.DataFrame([row])
    if len(log) == 0:
        return entry.astype({"rows": "int64"})
    return pd.concat([log, entry], ignore_index=True)


def _record_provenance(metadata: dict, layer: str, mode: str, name: str, time: str, digest: str) -> dict:
    """Metadata saying ``layer`` now holds imported data.

    ``replace``: the layer is no longer listed as synthetic and is described as imported; ``append``:
    the import is added to the layer's description (a synthetic layer stays labelled synthetic).

    Follows the built-in dataset's metadata (``provenance.synthetic`` list, ``layer_descriptions``) and
    adds ``provenance.imported[layer]``; other keys are kept as they are.
    """
    meta = dict(metadata)
    prov = dict(meta.get("provenance") or {})
    if mode == "replace" and isinstance(prov.get("synthetic"), list):
        prov["synthetic"] = [name_ for name_ in prov["synthetic"] if name_ != layer]
    imported = dict(prov.get("imported") or {})
    entry = {"file": name, "time": time, "sha256": digest, "mode": mode}
    imported[layer] = [entry] if mode == "replace" else list(imported.get(layer) or []) + [entry]
    prov["imported"] = imported
    meta["provenance"] = prov
    descriptions = dict(meta.get("layer_descriptions") or {})
    text = f"IMPORTED from {name} at {time} (sha256 {digest[:12]}...)"
    if mode == "append" and descriptions.get(layer):
        text = f"{descriptions[layer]}; rows appended from {name} at {time} (sha256 {digest[:12]}...)"
    descriptions[layer] = text
    meta["layer_descriptions"] = descriptions
    return meta
