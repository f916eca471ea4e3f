"""Review sheet PDFs made in a child process, not in a thread of the server: :class:`SheetProcess`.

A sheet (:func:`api.exports.render_review_sheet`: matplotlib's map, fpdf2's tables, the font) is about a fifth of
a second of pure-Python CPU. Made in a thread of the server (after each decision, in the background), it held the
interpreter's lock while the other users' requests waited for it: the decision's p95 in the browser benchmark.
Here a :class:`concurrent.futures.ProcessPoolExecutor` of one worker (started with ``spawn``: the server has
threads, so no ``fork``), created on first use (or by the start-up warm-up) and shut down with the app, makes it,
at a lower priority (``nice`` :data:`CHILD_NICE`) than the server's requests; the server's thread only waits for
the answer (without the lock).

What crosses the process boundary is plain data: per sheet the candidate (the API's detail dict) and its
:func:`api.exports.sheet_places` (the park's geometry, the enterprise's point); the dataset's
:func:`api.exports.sheet_static` (county outlines, names, the characters of the font) is sent once per dataset
version (the child keeps the last few), never the dataset itself. The child answers :class:`NeedStatic` when it
does not hold the version (a new child after a crash, a new dataset): the parent sends it again with the static
part. The bytes are the ones the in-thread path makes (the same function over the same data).

``PARKPLAN_SHEET_PROCESS=0`` makes sheets in the server's own thread as before (for comparison; also the
fallback when the child cannot be started or died: logged, and the sheet is still made).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

__all__ = ["SheetProcess", "NeedStatic", "enabled", "ENV"]

ENV = "PARKPLAN_SHEET_PROCESS"
#: the datasets' static parts a child keeps (one server serves one dataset; tests build several)
CHILD_VERSIONS = 4


def enabled() -> bool:
    """Whether sheets are made in a child process (``PARKPLAN_SHEET_PROCESS``, default on; ``0``: in a thread)."""
    value = os.environ.get(ENV, "1").strip().lower()
    if value in ("1", "true", "yes", "on", ""):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{ENV}={value!r}: accepted 1 (a child process makes the review sheets) or 0 (a thread)")


class NeedStatic(LookupError):
    """Raised in the child: it does not hold the static part of this dataset version; send it."""


# ---------------------------------------------------------------- the child's side
_STATIC: OrderedDict[str, dict[str, Any]] = OrderedDict()


#: the child's niceness: a sheet is made in the background; the server's requests go first on a busy machine
CHILD_NICE = 10


#: seconds between the child's looks at whether its server process is still alive
PARENT_CHECK_S = 1.0


def _exit_with_parent(parent: int) -> None:
    """End the child when the process that started it is gone (killed, or a uvicorn worker replaced): the pool's
    pipes stay open in the server's other processes, so the child would otherwise wait for work for ever."""
    import time

    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _child_init() -> None:
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True,
                     name="parkplan-sheet-parent-watch").start()
    # a sheet process does one thing at a time; keep its numeric libraries to one thread
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        os.nice(CHILD_NICE)
    except OSError:  # pragma: no cover - not permitted: same priority as the server
        pass
    import matplotlib

    matplotlib.use("Agg")


def _child_keep(version: str, static: dict[str, Any]) -> None:
    _STATIC[version] = static
    _STATIC.move_to_end(version)
    while len(_STATIC) > CHILD_VERSIONS:
        _STATIC.popitem(last=False)


def _child_warm(version: str, static: dict[str, Any]) -> int:
    """Keep ``static``, import what a sheet uses and cut the font of its characters (the first sheet then only
    draws); the child's pid."""
    import fpdf  # noqa: F401
    import geopandas  # noqa: F401  (the park's geometry arrives as a GeoDataFrame and is drawn by geopandas)
    from matplotlib.backends import backend_agg  # noqa: F401

    from geodata.fonts import truetype_subset

    from . import exports  # noqa: F401

    _child_keep(version, static)
    truetype_subset(static["chars"])
    return os.getpid()


def _child_render(version: str, candidate: dict[str, Any], places: dict[str, Any],
                  static: dict[str, Any] | None) -> bytes:
    from .exports import render_review_sheet

    if static is not None:
        _child_keep(version, static)
    held = _STATIC.get(version)
    if held is None:
        raise NeedStatic(version)
    _STATIC.move_to_end(version)
    return render_review_sheet(candidate, held, places)


# ---------------------------------------------------------------- the server's side
class SheetProcess:
    """One child process that makes review sheets; created on first use, :meth:`close` stops it (and the next use
    starts a new one). Thread-safe: sheets asked for at once are made one after the other in the child."""

    def __init__(self, start_method: str = "spawn") -> None:
        self.start_method = start_method
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._sent: set[str] = set()  # dataset versions the current child holds (as far as the parent knows)
        self.pid: int | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                ctx = multiprocessing.get_context(self.start_method)
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_child_init)
                self._sent = set()
            return self._pool

    def _broken(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
                self.pid = None
        pool.shutdown(wait=False, cancel_futures=True)

    def warm(self, version: str, static: dict[str, Any]) -> int:
        """Start the child, give it the dataset's static part and cut its font; the child's pid."""
        pool = self._executor()
        pid = pool.submit(_child_warm, version, static).result()
        with self._lock:
            if self._pool is pool:
                self._sent.add(version)
                self.pid = pid
        return pid

    def render(self, version: str, candidate: dict[str, Any], places: dict[str, Any],
               static: Callable[[], dict[str, Any]]) -> bytes:
        """The sheet's PDF bytes, made in the child (``static()`` is called, and sent, only when the child does
        not hold ``version`` yet). Waits for the child; raises what the sheet's function raised there."""
        for _ in range(2):  # a second time only if the child was replaced under us
            pool = self._executor()
            try:
                payload = None if version in self._sent else static()
                try:
                    out = pool.submit(_child_render, version, candidate, places, payload).result()
                except NeedStatic:
                    out = pool.submit(_child_render, version, candidate, places, static()).result()
            except (BrokenProcessPool, CancelledError):  # the child died, or close() stopped it meanwhile
                self._broken(pool)
                continue
            except RuntimeError as exc:
                if "after shutdown" not in str(exc):  # close() came between _executor() and submit()
                    raise
                continue
            with self._lock:
                if self._pool is pool:
                    self._sent.add(version)
            return out
        raise BrokenProcessPool("the review sheet process died twice in a row")

    def children(self) -> list[int]:
        """The pids of the child processes now running (none before the first sheet and after :meth:`close`)."""
        with self._lock:
            pool = self._pool
        procs = getattr(pool, "_processes", None) or {}
        return [p for p, proc in list(procs.items()) if proc.is_alive()]

    def close(self) -> None:
        """Stop the child (waits for it to exit); a later sheet starts a new one."""
        with self._lock:
            pool, self._pool, self._sent, self.pid = self._pool, None, set(), None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


_SHARED: SheetProcess | None = None
_SHARED_LOCK = threading.Lock()


def shared() -> SheetProcess:
    """The process's one :class:`SheetProcess` (every app state of a process uses it: the child keeps each dataset
    version's static part apart, so several apps in one process, as in the tests, share one child; closing it
    from one app only means the next sheet starts a new child)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = SheetProcess()
            atexit.register(_SHARED.close)
        return _SHARED
