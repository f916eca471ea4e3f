"""Leftovers of killed writers: removed when their owner is provably gone, never while it lives.

The owners here are real processes: a helper that holds a claim and sleeps, and a real ``parkplan
import`` killed with SIGKILL in the middle of writing its temporary GeoPackage.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from geodata.dataset import load_dataset
from geodata.tempfiles import TAG, claim_temp, process_start, remove_stale
from geodata.writers import export_layer

ROOT = Path(__file__).resolve().parents[2]


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if f".{TAG}." in p.name)


_HOLDER = """
import sys, time
from pathlib import Path
from geodata.tempfiles import claim_temp
claim = claim_temp(sys.argv[1], ".data.gpkg", ".gpkg")
claim.path.write_bytes(b"half a GeoPackage")
Path(str(claim.path) + "-journal").write_bytes(b"journal")
print(claim.path, flush=True)
time.sleep(600)
"""


def test_a_live_owners_files_are_kept_and_a_killed_ones_removed(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    try:
        path = Path(holder.stdout.readline().strip())
        files = leftovers(tmp_path)
        assert path in files and len(files) == 3  # the file, its journal, the lock
        assert remove_stale(tmp_path) == [] and leftovers(tmp_path) == files  # alive: untouched
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    removed = remove_stale(tmp_path, ".data.gpkg")
    assert sorted(removed) == files and leftovers(tmp_path) == []


def test_what_cannot_be_proved_stale_is_kept(tmp_path):
    me, start = os.getpid(), process_start(os.getpid())
    host = claim_temp(tmp_path, "probe")
    host_tag = host.path.name.split(".")[2]
    host.release()
    assert leftovers(tmp_path) == []
    dead = _a_dead_pid()
    keep = [
        f".d.gpkg.{TAG}.{host_tag}.{me}.{start}.0000000a.gpkg",        # this very process
        f".d.gpkg.{TAG}.0badf00d.{dead}.1.0000000b.gpkg",              # another host's process
        f".d.gpkg.{TAG}.{host_tag}.{dead}.1.0000000c.gpkg",             # dead, but its lock is held (below)
        f".d.gpkg.{TAG}.{host_tag}.{dead}.1.0000000c.lock",
        ".d.gpkg.abcdefgh.gpkg",                                       # an unrecognised name
    ]
    gone = [
        f".d.gpkg.{TAG}.{host_tag}.{dead}.1.0000000d.gpkg",             # dead, no lock
        f".d.gpkg.{TAG}.{host_tag}.{me}.{start + 1}.0000000e.gpkg",     # pid reused: another start time
    ]
    for name in keep + gone:
        (tmp_path / name).write_bytes(b"x")
    import fcntl

    with open(tmp_path / keep[3], "rb+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        removed = remove_stale(tmp_path)
    assert sorted(p.name for p in removed) == sorted(gone)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)


def _a_dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert process_start(proc.pid) is None
    return proc.pid


def test_an_export_leaves_nothing_and_clears_a_killed_exports_leftover(dataset_path, tmp_path):
    ds = load_dataset(dataset_path)
    dead = _a_dead_pid()
    host_tag = claim_temp(tmp_path, "probe")
    tag = host_tag.path.name.split(".")[2]
    host_tag.release()
    stale = tmp_path / f".parks.csv.{TAG}.{tag}.{dead}.1.0000000f.csv"
    stale.write_bytes(b"half")
    export_layer(ds, "parks", tmp_path / "parks.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parks.csv"]


def _big_enterprises_csv(dataset_path: Path, out: Path, copies: int) -> Path:
    """The dataset's enterprises ``copies`` times over, with new ids (a file that takes seconds to write)."""
    frame = pd.read_csv(export_layer(load_dataset(dataset_path), "enterprises", out.with_suffix(".one.csv")), dtype=str)
    frames = [frame.assign(enterprise_id=frame["enterprise_id"] + f"-{k}") for k in range(copies)]
    pd.concat(frames, ignore_index=True).to_csv(out, index=False)
    return out


def _kill_during_write(dataset: Path, source: Path) -> list[Path]:
    """Start ``parkplan import`` and SIGKILL it as soon as its temporary GeoPackage appears."""
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "import", "enterprises", str(source), "--crs", "4326",
                             "--data", str(dataset)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while proc.poll() is None:
            if any(p.suffix == ".gpkg" for p in leftovers(dataset.parent)):
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        code = proc.wait()
    assert code == -signal.SIGKILL, f"the import ended on its own ({code}): {proc.stderr.read().decode()[-2000:]}"
    found = leftovers(dataset.parent)
    assert any(p.suffix == ".gpkg" for p in found) and any(p.suffix == ".lock" for p in found), found
    return found


@pytest.fixture(scope="module")
def big_csv(dataset_path, tmp_path_factory):
    return _big_enterprises_csv(dataset_path, tmp_path_factory.mktemp("big") / "enterprises.csv", copies=10)


def test_killed_import_leftover_is_removed_by_info(tmp_dataset_path, big_csv):
    before = sha(tmp_dataset_path)
    found = _kill_during_write(tmp_dataset_path, big_csv)
    assert sha(tmp_dataset_path) == before  # the dataset is as it was

    r = subprocess.run([sys.executable, "-m", "api.cli", "info", "--data", str(tmp_dataset_path), "--json"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert sorted(json.loads(r.stdout)["removed_temporary_files"]) == sorted(map(str, found))
    assert leftovers(tmp_dataset_path.parent) == []


def test_killed_import_leftover_is_removed_by_the_next_import(tmp_dataset_path, big_csv, tmp_path):
    _kill_during_write(tmp_dataset_path, big_csv)
    small = tmp_path / "small.csv"
    pd.read_csv(big_csv, dtype=str, nrows=5).to_csv(small, index=False)
    r = subprocess.run([sys.executable, "-m", "api.cli", "import", "enterprises", str(small), "--crs", "4326",
                        "--data", str(tmp_dataset_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert leftovers(tmp_dataset_path.parent) == []
    assert len(load_dataset(tmp_dataset_path).enterprises) == 5
