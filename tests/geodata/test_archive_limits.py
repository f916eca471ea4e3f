"""Zipped shapefiles: only the shapefile's own members are unpacked, streamed, within size and ratio limits.

The bombs are built here, streamed into the zip (2 GiB of zeros deflate to about 2 MB), and the imports
that meet them run as subprocesses of the real ``parkplan import``, whose peak resident memory is
measured. Assertions are on bytes (memory, files left behind, the dataset's SHA-256), never seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from geodata.dataset import load_dataset
from geodata.importer import import_layer
from geodata.readers import ArchiveLimits, ImportReadError, read_table

pytestmark = pytest.mark.filterwarnings(
    "ignore:Normalized/laundered field name:RuntimeWarning", "ignore:Column names longer than 10:UserWarning")

GIB = 1 << 30
MIB = 1 << 20
POINTS = [(120.1551, 30.2741), (121.5503, 29.8746), (120.6994, 27.9943)]
PARTS = ("shp", "shx", "dbf", "prj", "cpg")


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def shapefile(tmp_path_factory) -> Path:
    """A valid three-enterprise shapefile (UTF-8 attributes); returns the .shp."""
    folder = tmp_path_factory.mktemp("shp")
    gdf = gpd.GeoDataFrame({
        "enterprise_id": ["Z0001", "Z0002", "Z0003"], "name": ["绍兴柯桥印染", "慈溪小家电", "瑞安汽摩配"],
        "sector": ["textiles", "light_industry", "machinery"], "employees": [50, 60, 70],
        "revenue": [1e6, 2e6, 3e6], "land_ha": [1.5, 1.5, 1.5], "pollution_class": ["light"] * 3,
    }, geometry=[Point(p) for p in POINTS], crs=4326)
    pyogrio.write_dataframe(gdf, folder / "ent.shp", encoding="UTF-8")
    return folder / "ent.shp"


def zip_shapefile(shp: Path, out: Path, prefix: str = "", skip: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for ext in PARTS:
            if ext not in skip:
                zf.write(shp.with_suffix(f".{ext}"), f"{prefix}{shp.stem}.{ext}")
    return out


def add_zeros(zip_path: Path, name: str, size: int, level: int = 9) -> None:
    """Append a member of ``size`` zero bytes, streamed (never in memory), deflated at ``level``."""
    chunk = bytes(MIB)
    with zipfile.ZipFile(zip_path, "a", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        with zf.open(name, "w", force_zip64=True) as fh:
            for _ in range(size // MIB):
                fh.write(chunk)
            fh.write(bytes(size % MIB))


@pytest.fixture(scope="module")
def bombs(shapefile, tmp_path_factory) -> dict[str, Path]:
    """``xml``: the issue's file, a good shapefile plus a .shp.xml of 2 GiB (2 MB on disk); ``dbf``: the
    shapefile's own .dbf replaced by 2 GiB of zeros."""
    folder = tmp_path_factory.mktemp("bombs")
    xml = zip_shapefile(shapefile, folder / "xml_bomb.zip")
    add_zeros(xml, "ent.shp.xml", 2 * GIB)
    dbf = zip_shapefile(shapefile, folder / "dbf_bomb.zip", skip=("dbf",))
    add_zeros(dbf, "ent.dbf", 2 * GIB)
    for path in (xml, dbf):
        assert path.stat().st_size < 4 * MIB  # small on disk
    return {"xml": xml, "dbf": dbf}


_MEASURED_IMPORT = """
import json, re, sys
from api.cli import app
try:
    app(sys.argv[1:], prog_name="parkplan")
    code = 0
except SystemExit as exc:
    code = exc.code or 0
# VmHWM: this process image's peak resident set (ru_maxrss would carry the forking test process's peak over exec)
hwm = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
print("\\nPEAK " + json.dumps({"code": code, "hwm_kib": hwm}))
"""


def measured_import(args: list[str], tmpdir: Path) -> tuple[int, int, str]:
    """Run ``parkplan import ARGS`` in a subprocess with its own TMPDIR; (exit code, peak RSS bytes, output)."""
    env = {**os.environ, "TMPDIR": str(tmpdir), "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-c", _MEASURED_IMPORT, "import", *args], capture_output=True,
                          text=True, env=env, cwd=Path(__file__).resolve().parents[2], timeout=900)
    out = proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("PEAK "))
    peak = json.loads(line[5:])
    return peak["code"], peak["hwm_kib"] * 1024, out


# the import's own baseline (Python, geopandas, GDAL, the small dataset) is about 250-400 MiB; the bombs are 2 GiB
PEAK_LIMIT = 700 * MIB


def test_member_outside_the_shapefile_is_never_unpacked(bombs, tmp_dataset_path, tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    code, peak, out = measured_import(["enterprises", str(bombs["xml"]), "--data", str(tmp_dataset_path),
                                       "--mode", "append", "--json"], tmpdir)
    assert code == 0, out
    assert peak < PEAK_LIMIT, f"peak RSS {peak / MIB:.0f} MiB"
    assert list(tmpdir.iterdir()) == []  # nothing left in the temporary folder
    assert {"Z0001", "Z0002", "Z0003"} <= set(load_dataset(tmp_dataset_path).enterprises["enterprise_id"])


def test_bomb_in_a_shapefile_member_is_refused_without_unpacking(bombs, tmp_dataset_path, tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    before = sha(tmp_dataset_path)
    code, peak, out = measured_import(["enterprises", str(bombs["dbf"]), "--data", str(tmp_dataset_path), "--lang", "en"],
                                      tmpdir)
    text = " ".join(out.split())
    assert code == 2, out
    assert "member 'ent.dbf' unpacks to 2,048.0 MiB from" in text and "the limit is 100" in text, text
    assert "--max-ratio" in text
    assert peak < PEAK_LIMIT, f"peak RSS {peak / MIB:.0f} MiB"
    assert list(tmpdir.iterdir()) == []
    assert sha(tmp_dataset_path) == before

    # a higher ratio lets it on to the total limit, which refuses it as well, still without unpacking it
    code, peak, out = measured_import(["enterprises", str(bombs["dbf"]), "--data", str(tmp_dataset_path), "--lang", "en",
                                       "--max-ratio", "5000", "--max-unpacked-mb", "1024"], tmpdir)
    text = " ".join(out.split())
    assert code == 2 and "member 'ent.dbf' declares 2,048.0 MiB" in text and "1,024.0 MiB unpacked in total" in text, text
    assert "--max-unpacked-mb" in text
    assert peak < PEAK_LIMIT and list(tmpdir.iterdir()) == [] and sha(tmp_dataset_path) == before


def test_sizes_are_counted_while_streaming_not_only_as_declared(shapefile, tmp_path, monkeypatch):
    """The declared sizes can lie; the running count of unpacked bytes is what is enforced."""
    src = zip_shapefile(shapefile, tmp_path / "s.zip", skip=("dbf",))
    add_zeros(src, "ent.dbf", 8 * MIB, level=1)
    with zipfile.ZipFile(src) as zf:
        real = zf.getinfo("ent.dbf")
        assert real.file_size / real.compress_size > 100

    import geodata.readers as readers

    monkeypatch.setattr(readers, "_check_member_sizes", lambda *a, **k: None)  # as if the header said "small"
    monkeypatch.setattr(readers.tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ImportReadError, match=r"member 'ent\.dbf' unpacks to [\d.]+ MiB from 0\.0 MiB, a compression "
                                              r"ratio of [\d,]+; the limit is 100"):
        read_table(src)
    with pytest.raises(ImportReadError, match=r"member 'ent\.dbf' unpacks to more than [\d.]+ MiB \(in total [\d.]+ MiB\); "
                                              r"the limit is 4\.0 MiB unpacked in total"):
        read_table(src, limits=ArchiveLimits(max_unpacked_bytes=4 * MIB, max_ratio=1e9))
    assert not list(tmp_path.glob("parkplan-shp*"))  # the folder (and its lock) went with the refusal


def test_genuine_layers_pass_the_default_limits(shapefile, tmp_dataset_path, tmp_path):
    """The parks of the built-in dataset (wide attributes, thousands of vertices) as a zipped shapefile."""
    parks = load_dataset(tmp_dataset_path).parks
    pyogrio.write_dataframe(parks, tmp_path / "parks.shp", encoding="UTF-8")
    src = zip_shapefile(tmp_path / "parks.shp", tmp_path / "parks.zip", prefix="园区/")
    raw = read_table(src)
    assert len(raw.frame) == len(parks) and raw.source_layer == "园区/parks.shp"


def test_limits_from_the_command_line_and_refused_values(shapefile, tmp_dataset_path, tmp_path):
    from typer.testing import CliRunner

    from api.cli import app

    src = zip_shapefile(shapefile, tmp_path / "ent.zip")
    before = sha(tmp_dataset_path)
    runner = CliRunner()
    r = runner.invoke(app, ["import", "enterprises", str(src), "--max-unpacked-mb", "0.001", "--lang", "en",
                            "--data", str(tmp_dataset_path)])
    text = " ".join(r.output.split())
    assert r.exit_code == 2 and "ent.zip: member 'ent." in text and "the limit is 0.0 MiB unpacked in total" in text, text
    assert sha(tmp_dataset_path) == before
    r = runner.invoke(app, ["import", "enterprises", str(src), "--max-ratio", "0.5", "--lang", "en",
                            "--data", str(tmp_dataset_path)])
    assert r.exit_code == 2 and "--max-ratio must be a number of at least 1" in r.output
    r = runner.invoke(app, ["import", "enterprises", str(src), "--max-unpacked-mb", "1", "--max-ratio", "2",
                            "--data", str(tmp_dataset_path), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rows"] == 3


def _entry(zf: zipfile.ZipFile, name: str, data: bytes = b"x", mode: int | None = None) -> None:
    info = zipfile.ZipInfo(name)
    if mode is not None:
        info.external_attr = mode << 16
    zf.writestr(info, data)


@pytest.mark.parametrize("name, mode, pattern", [
    ("../evil.txt", None, r"entry '\.\./evil\.txt' points outside the archive's folder"),
    ("a/../../evil.shp", None, r"entry 'a/\.\./\.\./evil\.shp' points outside"),
    ("/etc/cron.d/evil", None, r"entry '/etc/cron\.d/evil' has an absolute path"),
    ("C:/Windows/evil.dll", None, r"entry 'C:/Windows/evil\.dll' has an absolute path"),
    ("link.prj", stat.S_IFLNK | 0o777, r"entry 'link\.prj' is a symbolic link"),
    ("inner.zip", None, r"entry 'inner\.zip' is an archive inside the archive; unzip it"),
    ("ent.DBF", None, r"entry 'ent\.DBF' appears twice"),
])
def test_unsafe_entries_refuse_the_archive(shapefile, tmp_dataset_path, tmp_path, name, mode, pattern):
    src = zip_shapefile(shapefile, tmp_path / "ent.zip")
    with zipfile.ZipFile(src, "a") as zf:
        _entry(zf, name, mode=mode)
    before = sha(tmp_dataset_path)
    with pytest.raises(ImportReadError, match=r"ent\.zip is refused: " + pattern):
        import_layer(tmp_dataset_path, "enterprises", src)
    assert sha(tmp_dataset_path) == before


def test_several_shapefiles_are_named_and_one_is_asked_for(shapefile, tmp_path):
    src = zip_shapefile(shapefile, tmp_path / "two.zip", prefix="a/")
    with zipfile.ZipFile(src, "a") as zf:
        for ext in PARTS:
            zf.write(shapefile.with_suffix(f".{ext}"), f"b/other.{ext}")
    with pytest.raises(ImportReadError, match=r"two\.zip has 2 shapefiles \(a/ent\.shp, b/other\.shp\); name the one "
                                              r"to import \(--source-layer NAME\)"):
        read_table(src)
    assert read_table(src, source_layer="b/other.shp").source_layer == "b/other.shp"


def test_only_the_chosen_shapefiles_members_are_unpacked(shapefile, tmp_path, monkeypatch):
    import geodata.readers as readers

    src = zip_shapefile(shapefile, tmp_path / "ent.zip")
    with zipfile.ZipFile(src, "a") as zf:
        for extra in ("ent.shp.xml", "ent.qix", "ent.sbn", "readme.txt", "__MACOSX/._ent.shp"):
            zf.writestr(extra, b"not needed")
    unpacked = []
    real = readers._unpack_member
    monkeypatch.setattr(readers, "_unpack_member", lambda zf, info, *a: unpacked.append(info.filename) or real(zf, info, *a))
    assert len(read_table(src).frame) == 3
    assert sorted(unpacked) == [f"ent.{ext}" for ext in sorted(PARTS)]


def test_member_names_in_mixed_case_are_read_together(shapefile, tmp_path):
    src = tmp_path / "mixed.zip"
    with zipfile.ZipFile(src, "w") as zf:
        for ext, spelled in zip(PARTS, ("ENT.SHP", "ent.shx", "Ent.Dbf", "ent.PRJ", "ent.cpg")):
            zf.write(shapefile.with_suffix(f".{ext}"), f"层/{spelled}")
    raw = read_table(src)
    assert raw.source_layer == "层/ENT.SHP" and raw.frame["name"].tolist() == ["绍兴柯桥印染", "慈溪小家电", "瑞安汽摩配"]
    assert raw.crs is not None and raw.crs.to_epsg() == 4326


def test_a_killed_imports_unpacking_folder_is_removed_by_the_next(shapefile, tmp_path, monkeypatch):
    import geodata.readers as readers
    from geodata.tempfiles import claim_temp

    monkeypatch.setattr(readers.tempfile, "tempdir", str(tmp_path))
    probe = claim_temp(tmp_path, "probe")
    host = probe.path.name.split(".")[2]
    probe.release()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f"parkplan-shp.parkplan-tmp.{host}.{dead.pid}.1.0123abcd"
    (left / "sub").mkdir(parents=True)
    (left / "ent.dbf").write_bytes(b"half")
    (tmp_path / f"{left.name}.lock").write_bytes(b"")
    assert len(read_table(zip_shapefile(shapefile, tmp_path / "ent.zip")).frame) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ent.zip"]
