"""Temporary files that a killed process cannot leave behind for ever.

Atomic writes (a dataset, an export) go to a temporary file beside the target that is renamed into
place; a zipped shapefile is unpacked into a temporary folder. A process killed with ``kill -9`` leaves
these behind. Their names say who made them::

    .{target}.parkplan-tmp.{host}.{pid}.{start}.{random}{suffix}      (beside the target)
    parkplan-shp.parkplan-tmp.{host}.{pid}.{start}.{random}           (a folder in the system temp folder)

``host`` is a short hash of the machine's name, ``pid`` the writer's process id and ``start`` the
writer's start time (Linux: clock ticks since boot, ``/proc/PID/stat`` field 22; elsewhere psutil's
creation time in milliseconds). While it writes, the owner also holds an exclusive lock
(``flock``) on a companion ``....lock`` file; the kernel drops it when the process dies.

:func:`remove_stale` deletes a leftover only when it can prove the owner gone: made on this host, and
no process with that id and start time exists (a reused id has another start time), and its lock can be
taken. Anything else (another host, a live owner, an unreadable process table, a held lock, a name it
does not recognise) is left alone: a file that a live import is writing is never deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TempClaim", "claim_temp", "process_start", "remove_stale", "TAG"]

TAG = "parkplan-tmp"
_NAME = re.compile(
    rf"^(?P<key>(?P<prefix>.*)\.{TAG}\.(?P<host>[0-9a-f]{{8}})\.(?P<pid>\d+)\.(?P<start>\d+)\.(?P<rand>[0-9a-f]{{8}}))"
    r"(?P<rest>.*)$", re.S)
# what SQLite (GDAL's GeoPackage driver) may leave beside a database file
_SIDECARS = ("", "-journal", "-wal", "-shm")


def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def process_start(pid: int) -> int | None:
    """The start time of process ``pid`` as an integer (None: no such process).

    Raises ``OSError`` when it cannot be told (no /proc and no psutil, or no permission): the caller
    must then treat the process as alive.
    """
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            text = stat.read_text()
        except FileNotFoundError:
            return None
        except ProcessLookupError:
            return None
        return int(text[text.rindex(")") + 2:].split()[19])  # field 22 (starttime), after "pid (comm) "
    try:
        import psutil
    except ImportError as exc:  # pragma: no cover - Linux always has /proc
        raise OSError("cannot tell process start times here (no /proc, no psutil)") from exc
    try:
        return int(psutil.Process(pid).create_time() * 1000)
    except psutil.NoSuchProcess:
        return None
    except psutil.Error as exc:  # pragma: no cover
        raise OSError(str(exc)) from exc


def _me() -> tuple[int, int]:
    pid = os.getpid()
    start = process_start(pid)
    return pid, start if start is not None else 0


@dataclass
class TempClaim:
    """A temporary path owned by this process (see :func:`claim_temp`); ``release()`` removes what is left."""

    path: Path
    lock_path: Path
    _fd: int | None

    def release(self) -> None:
        """Remove the temporary file or folder (if not renamed away), its SQLite sidecars and the lock."""
        _remove_group(self.path, ())
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            self.lock_path.unlink()

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc) -> None:
        self.release()


def claim_temp(parent: str | os.PathLike, prefix: str, suffix: str = "", *, directory: bool = False) -> TempClaim:
    """A fresh temporary path in ``parent`` named ``{prefix}.parkplan-tmp.{host}.{pid}.{start}.{random}{suffix}``,
    with its lock taken. The file itself is not created (GDAL refuses to write over a file); with
    ``directory=True`` a folder is created. Use as a context manager, or call ``release()`` when done."""
    parent = Path(parent)
    pid, start = _me()
    key = f"{prefix}.{TAG}.{_host()}.{pid}.{start}.{secrets.token_hex(4)}"
    lock_path = parent / f"{key}.lock"
    fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    _lock(fd, blocking=True)
    path = parent / f"{key}{suffix}"
    if directory:
        path.mkdir(mode=0o700)
    return TempClaim(path, lock_path, fd)


def _lock(fd: int, blocking: bool) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        return True
    except BlockingIOError:
        return False


def _owner_gone(host: str, pid: int, start: int) -> bool:
    if host != _host():
        return False  # another machine's process table is not ours to read
    try:
        now = process_start(pid)
    except (OSError, ValueError, IndexError):
        return False
    return now is None or now != start


def _remove_group(path: Path, keep: tuple[Path, ...]) -> None:
    for sidecar in _SIDECARS:
        p = Path(f"{path}{sidecar}")
        if p in keep:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


def remove_stale(directory: str | os.PathLike, prefix: str | None = None) -> list[Path]:
    """Delete the leftovers in ``directory`` (optionally only those named ``{prefix}.parkplan-tmp...``) whose
    owner is provably gone; return what was removed. Never raises for a file it cannot judge or remove."""
    directory = Path(directory)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    groups: dict[str, list[str]] = {}
    for name in names:
        m = _NAME.match(name)
        if m and (prefix is None or m["prefix"] == prefix):
            groups.setdefault(m["key"], []).append(name)
    removed: list[Path] = []
    for key, members in groups.items():
        m = _NAME.match(key)
        if m is None or not _owner_gone(m["host"], int(m["pid"]), int(m["start"])):
            continue
        lock_path = directory / f"{key}.lock"
        fd = None
        try:
            fd = os.open(lock_path, os.O_RDWR)
        except FileNotFoundError:
            pass
        except OSError:
            continue
        try:
            if fd is not None and not _lock(fd, blocking=False):
                continue  # someone holds it: not stale, whatever the process table says
            for name in sorted(members, key=lambda n: n.endswith(".lock")):  # the lock last
                p = directory / name
                try:
                    if p.is_dir() and not p.is_symlink():
                        shutil.rmtree(p)
                    else:
                        p.unlink()
                    removed.append(p)
                except FileNotFoundError:
                    pass
                except OSError:
                    continue
        finally:
            if fd is not None:
                os.close(fd)
    return removed
