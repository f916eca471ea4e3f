"""Review sheet PDFs made in a child process, not in a thread of the server: :class:`SheetProcess`.

A sheet (:func:`api.exports.render_review_sheet`: matplotlib's map, fpdf2's tables, the font) is about a fifth of
a second of pure-Python CPU. Made in a thread of the server (after each decision, in the background), it held the
interpreter's lock while the other users' requests waited for it: the decision's p95 in the browser benchmark.
Here a :class:`concurrent.futures.ProcessPoolExecutor` of one worker (started with ``spawn``: the server has
threads, so no ``fork``), created on first use (or by the start-up warm-up) and stopped with the app (terminated
and reaped: :meth:`SheetProcess.close`), makes it; the server's thread only waits for the answer (without the
lock). A server has two (:class:`SheetClient`): the sheets made after decisions, which nobody waits for yet, at a
lower priority (``nice`` :data:`CHILD_NICE`) than the server's requests, and the sheets a user waits for at normal
priority (under load the low-priority child is starved by design; a download no longer waits behind it).

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
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .waited import WAITED, Waited

__all__ = ["SheetProcess", "SheetClient", "SheetProcessClosed", "Abandoned", "NeedStatic", "client", "enabled", "ENV"]

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


class SheetProcessClosed(RuntimeError):
    """The sheet was not made: the sheet process was stopped (the server is stopping) before or while it was made.
    Not a crash: the sheet is not made again elsewhere (a sheet is a cache; the next request after a restart makes
    it)."""


# ---------------------------------------------------------------- the child's side
_STATIC: OrderedDict[str, dict[str, Any]] = OrderedDict()


#: the child's niceness: a sheet is made in the background; the server's requests go first on a busy machine
CHILD_NICE = 10


#: seconds between the child's looks at whether its server process is still alive
PARENT_CHECK_S = 1.0

#: seconds :meth:`SheetProcess.close` waits for the terminated child to exit before it kills it
STOP_TIMEOUT_S = 5.0


def _exit_with_parent(parent: int) -> None:
    """End the child when the process that started it is gone (killed, or a uvicorn worker replaced): the pool's
    pipes stay open in the server's other processes, so the child would otherwise wait for work for ever."""
    import time

    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _child_init(nice: int = 10) -> None:
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True,
                     name="parkplan-sheet-parent-watch").start()
    # a sheet process does one thing at a time; keep its numeric libraries to one thread
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if nice:
        try:
            os.nice(nice)
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
    import geopandas  # noqa: F401  (the park's geometry arrives as a GeoDataFrame; exports._plot_park draws it)
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
class Abandoned(Exception):
    """:meth:`SheetProcess.render` stopped waiting for the child: its ``abandon`` was set."""


def _wait(fut: Future, abandon: Waited | None) -> Any:
    """``fut.result()``, or :class:`Abandoned` as soon as ``abandon`` is set (``fut`` cancelled if not started)."""
    if abandon is None:
        return fut.result()
    wake = threading.Event()
    fut.add_done_callback(lambda _f: wake.set())
    abandon.on_set(wake.set)
    wake.wait()
    if fut.done():
        return fut.result()
    fut.cancel()
    raise Abandoned()


class SheetProcess:
    """One child process that makes review sheets; created on first use, :meth:`close` stops it (and the next use
    starts a new one). Thread-safe: sheets asked for at once are made one after the other in the child."""

    def __init__(self, start_method: str = "spawn", nice: int = CHILD_NICE) -> None:
        self.start_method = start_method
        self.nice = nice
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._sent: set[str] = set()  # dataset versions the current child holds (as far as the parent knows)
        self.pid: int | None = None
        self._generation = 0  # close() counts up: a sheet that saw its pool closed under it is not made again

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                ctx = multiprocessing.get_context(self.start_method)
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_child_init,
                                                 initargs=(self.nice,))
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
        generation = self._generation
        pool = self._executor()
        try:
            pid = pool.submit(_child_warm, version, static).result()
        except (BrokenProcessPool, CancelledError, RuntimeError) as exc:
            if self._generation == generation and not (isinstance(exc, RuntimeError) and "after shutdown" in str(exc)):
                raise
            raise SheetProcessClosed("the review sheet process was stopped while it started") from exc
        with self._lock:
            if self._pool is pool:
                self._sent.add(version)
                self.pid = pid
        return pid

    def render(self, version: str, candidate: dict[str, Any], places: dict[str, Any],
               static: Callable[[], dict[str, Any]], abandon: Waited | None = None) -> bytes:
        """The sheet's PDF bytes, made in the child (``static()`` is called, and sent, only when the child does
        not hold ``version`` yet). Waits for the child; raises what the sheet's function raised there, and
        :class:`SheetProcessClosed` if :meth:`close` stopped the child meanwhile (a child that died otherwise is
        replaced once), :class:`Abandoned` if ``abandon`` was set before the child answered (the sheet is cancelled
        if the child had not started it; else the child finishes it and its answer is dropped)."""
        generation = self._generation
        for _ in range(2):  # a second time only if the child died under us (not if close() stopped it)
            pool = self._executor()
            try:
                payload = None if version in self._sent else static()
                try:
                    out = _wait(pool.submit(_child_render, version, candidate, places, payload), abandon)
                except NeedStatic:
                    out = _wait(pool.submit(_child_render, version, candidate, places, static()), abandon)
            except (BrokenProcessPool, CancelledError) as exc:  # the child died, or close() stopped it meanwhile
                self._broken(pool)
                if self._generation != generation:
                    raise SheetProcessClosed("the review sheet process was stopped; the sheet was not made") from exc
                continue
            except RuntimeError as exc:
                if "after shutdown" not in str(exc):  # close() came between _executor() and submit()
                    raise
                raise SheetProcessClosed("the review sheet process was stopped; the sheet was not made") from exc
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

    def close(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the child now and reap it: the sheets queued are dropped and the one being made is abandoned (their
        callers get :class:`SheetProcessClosed`, nothing is made again elsewhere); a later sheet starts a new child.

        The child is terminated (``SIGTERM``; ``SIGKILL`` after ``timeout`` seconds), not waited for: a sheet is
        a cache, and on a loaded machine the child (``nice`` :data:`CHILD_NICE`) could take seconds to finish the
        one it makes, which held the server's shutdown (``parkplan serve`` stopped 9 s after SIGTERM)."""
        with self._lock:
            pool, self._pool, self._sent, self.pid = self._pool, None, set(), None
            self._generation += 1
        if pool is None:
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout)
            if proc.is_alive():  # pragma: no cover - SIGTERM not obeyed in time
                proc.kill()
                proc.join(timeout)
        # the pool's manager thread sees its child gone and fails what was pending: returns at once
        pool.shutdown(wait=True, cancel_futures=True)


class SheetClient:
    """One app's review sheets (``AppState.sheet_process``), made in two children of the process:

    * **background** (``nice`` :data:`CHILD_NICE`): the sheets nobody waits for yet, started after a decision (a
      computation started by :meth:`api.shared_cache.SharedBytesCache.future`, which runs with a
      :class:`api.waited.Waited` in :data:`api.waited.WAITED`): on a busy machine the server's requests go first;
    * **waited** (normal priority): the sheets a user waits for: asked for by a request (no ``WAITED``), or a
      background sheet a request joined while it was still queued or being made; it is then abandoned in the
      background child (cancelled if not started) and made again at once in this one. Under load the background
      child is starved by design (a decided sheet's download waited up to 985 ms at p95 behind it, with 8 browsers
      on 2 cores); the user's sheet no longer waits for it. Either way the sheet is made outside the server's
      interpreter (its lock is never held for a sheet: ``docs/performance.md``).

    The same sheet comes out of either child (the same function over the same data); it is kept under its
    candidate's version (:func:`api.routes.transfers.sheet_key`), so a late answer for an older version never
    replaces a newer one. Once the app stops (``stopped``, set by :meth:`api.state.AppState.close`) every call is
    refused with :class:`SheetProcessClosed`: sheets still queued behind the shutdown are dropped, instead of
    starting a new child (or being made in the server) while the server stops."""

    def __init__(self, background: SheetProcess, waited: SheetProcess, stopped: threading.Event) -> None:
        self.process = background
        self.waited = waited
        self.stopped = stopped
        self.counts = {"background": 0, "waited": 0, "promoted": 0}  # sheets made per child; promoted: moved

    def _check(self) -> None:
        if self.stopped.is_set():
            raise SheetProcessClosed("the server is stopping; the review sheet was not made")

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def warm(self, version: str, static: dict[str, Any]) -> int:
        """Start both children (at once) and give each the dataset's static part; the background child's pid."""
        self._check()
        done = threading.Event()
        errors: list[BaseException] = []

        def warm_waited() -> None:
            try:
                self.waited.warm(version, static)
            except BaseException as exc:  # noqa: BLE001 - raised below, in the caller's thread
                errors.append(exc)
            finally:
                done.set()

        threading.Thread(target=warm_waited, name="parkplan-sheet-warm", daemon=True).start()
        pid = self.process.warm(version, static)
        done.wait()
        if errors:
            raise errors[0]
        return pid

    def render(self, version: str, candidate: dict[str, Any], places: dict[str, Any],
               static: Callable[[], dict[str, Any]]) -> bytes:
        self._check()
        waited = WAITED.get()
        try:
            if waited is not None and not waited.is_set():
                try:
                    out = self.process.render(version, candidate, places, static, abandon=waited)
                    self.counts["background"] += 1
                    return out
                except Abandoned:
                    self.counts["promoted"] += 1
            self._check()
            out = self.waited.render(version, candidate, places, static)
            self.counts["waited"] += 1
            return out
        except (BrokenProcessPool, CancelledError) as exc:
            if self.stopped.is_set():
                raise SheetProcessClosed("the server is stopping; the review sheet was not made") from exc
            raise

    def children(self) -> list[int]:
        return self.process.children() + self.waited.children()

    def close(self) -> None:
        """Refuse this app's sheets from now on and stop both children (terminated and reaped)."""
        self.stopped.set()
        self.process.close()
        self.waited.close()


_SHARED: tuple[SheetProcess, SheetProcess] | None = None
_SHARED_LOCK = threading.Lock()


def shared() -> tuple[SheetProcess, SheetProcess]:
    """The process's two :class:`SheetProcess` (background at ``nice`` :data:`CHILD_NICE`, waited-for at normal
    priority: :class:`SheetClient`); every app state of a process uses them (the children keep each dataset
    version's static part apart, so several apps in one process, as in the tests, share them; closing them from one
    app only means the next sheet starts a new child)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = (SheetProcess(nice=CHILD_NICE), SheetProcess(nice=0))
            for p in _SHARED:
                atexit.register(p.close)
        return _SHARED


def client(stopped: threading.Event | None = None) -> SheetClient:
    """One app's :class:`SheetClient` over the process's two children (:func:`shared`)."""
    background, waited = shared()
    return SheetClient(background, waited, stopped if stopped is not None else threading.Event())
