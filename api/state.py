"""The application's state in one typed home: :class:`AppState`.

:func:`api.app.create_app` builds one and puts it at ``app.state.parkplan``; handlers reach it through the
``Annotated`` dependencies of :mod:`api.deps` (``StateDep``, ``DatasetDep``, ``SettingsDep``, ...), helpers
take it as an argument. Nothing here imports :mod:`api.app` or a route.

Caches: every one is an :class:`api.cache.LockedCache` (one policy: bounded LRU, locked, computed once per
key, per process); keys start with :attr:`AppState.dataset_version` (see :meth:`AppState.key`). The review
sheets' cache is also kept in the review database (:class:`api.shared_cache.SharedBytesCache`), so with
``--workers N`` a sheet one worker made is read by the others.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from parks.joins import PreparedDataset
from parks.metrics import report as metrics_report
from parks.suitability import context_from_dataset
from parks.suitability.context import SuitabilityContext

from .cache import LockedCache
from .settings import Settings
from .shared_cache import SharedBytesCache
from .shared_compute import SharedResults
from .sheet_process import SheetClient, SheetProcessClosed
from .sheet_process import enabled as sheet_process_enabled
from .sheet_process import client as sheet_client

__all__ = ["AppState", "dataset_version", "METRICS_CONTEXT_CACHE"]

# the parts of a MetricsContext every metric uses: computed once when the context is built
_METRICS_SHARED = ("enterprises", "enterprises_m", "parks_m", "province_m", "county_codes", "weights",
                   "county_area_km2")
METRICS_CONTEXT_CACHE = 128  # results the metrics context keeps for its own expensive parts (Ripley envelopes)


def _sheet_scope(key: Any) -> str:
    """The review sheets that replace one another in the shared table: one candidate's, in one language (a key
    is ``(dataset version, "sheet", candidate id, version, lang)``, :func:`api.routes.transfers.sheet_key`)."""
    _, kind, candidate_id, _, lang = key
    return f"{kind}|{candidate_id}|{lang}"


def _sheet_newer(stored: str, key: Any) -> bool:
    """A stored review sheet's row is of a newer version of the candidate than ``key`` (same dataset version): the
    sheet of ``key``, finished late, is not stored over it (the key's text ends ``|<version>|<lang>``)."""
    prefix, version, _lang = stored.rsplit("|", 2)
    return prefix.split("|", 1)[0] == str(key[0]) and version.isdigit() and int(version) > int(key[3])


def dataset_version(path: Path) -> str:
    """A short version of the dataset file: its path, size and modification time."""
    try:
        st = path.stat()
        raw = f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        raw = f"{path}:missing"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(eq=False)
class AppState:
    """Everything a running app holds: settings, the prepared dataset and its version, the review database,
    the analysis contexts (built once, on first use or by :meth:`warm`) and the caches."""

    settings: Settings
    dataset: PreparedDataset  # parks.joins.prepare: enterprises carry park_id, county_code, ...
    dataset_version: str
    engine: Engine
    sessions: sessionmaker
    session_key: bytes
    # one policy for every cache (api.cache): sizes are entries
    contexts: LockedCache = field(default_factory=lambda: LockedCache(4, "contexts"))
    maps: LockedCache = field(default_factory=lambda: LockedCache(32, "maps"))
    metrics: LockedCache = field(default_factory=lambda: LockedCache(64, "metrics"))
    plans: LockedCache = field(default_factory=lambda: LockedCache(16, "plans"))
    reports: LockedCache = field(default_factory=lambda: LockedCache(64, "reports"))  # /plan indicators, projects
    features: LockedCache = field(default_factory=lambda: LockedCache(64, "features"))
    web: LockedCache = field(default_factory=lambda: LockedCache(64, "web"))
    # the web pages' views per parameters (a suitability query; a page's rendered content): apart from ``web``,
    # so that many queries never push out the tables every page reads
    pages: LockedCache = field(default_factory=lambda: LockedCache(128, "pages"))
    # one stored candidate's map (the candidate page's frame), per the candidate's content: apart from ``maps``,
    # so that reviewers walking many candidates never push out the province's maps
    candidate_maps: LockedCache = field(default_factory=lambda: LockedCache(64, "candidate maps"))
    auth: LockedCache = field(default_factory=lambda: LockedCache(1024, "auth"))
    # the review list's rendered table rows (api.web.pages_review), per candidate version and language: a few
    # hundred bytes each, so that a visit renders only the rows a decision changed
    review_rows: LockedCache = field(default_factory=lambda: LockedCache(20_000, "review rows"))
    # review sheet PDFs (api.routes.transfers): per process, and kept in the review database for the other workers
    sheets: LockedCache = field(init=False)
    # what is the same for every worker process (the metrics report, the cluster map, ...: api.shared_compute),
    # computed once by one of them and read by the others from the review database
    shared: SharedResults = field(init=False)
    # set by close() (the app's shutdown): the warm-up stops between its steps, sheets are no longer made
    stopping: threading.Event = field(default_factory=threading.Event)
    # the child processes that make them (api.sheet_process.SheetClient: one for the background, one for the sheets
    # a user waits for; started on first use, stopped by close()), or None: made in a thread of this process
    # (PARKPLAN_SHEET_PROCESS=0)
    sheet_process: SheetClient | None = field(init=False)
    landing_html: Callable | None = None  # the web workspace sets a callable (request) -> Response
    plan_lock: threading.Lock = field(default_factory=threading.Lock)  # one plan computation at a time

    def __post_init__(self) -> None:
        self.sheets = SharedBytesCache(64, "sheets", self.engine, scope=_sheet_scope, newer=_sheet_newer)
        self.shared = SharedResults(self.engine)
        self.sheet_process = sheet_client(self.stopping) if sheet_process_enabled() else None
        self.warm_at_startup: list[tuple[str, Callable[[], Any]]] | None = None
        self.warm_thread: threading.Thread | None = None
        self.warmed: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        """The app's lifespan (``app.router.lifespan_context``): the warm-up set in :attr:`warm_at_startup` (``parkplan
        serve``) starts once the server handles signals; :meth:`close` at shutdown."""
        try:
            if self.warm_at_startup is not None:
                tasks, self.warm_at_startup = self.warm_at_startup, None
                self.warm(tasks)
            yield
        finally:
            self.close()

    def close(self) -> None:
        """The app's shutdown; prompt whatever runs (a stopped server must not wait for its caches): the warm-up stops
        before its next step (the step under way is abandoned: the thread is a daemon, what it computes is a cache),
        the review sheet process is terminated and reaped (sheets still queued are dropped, not made elsewhere), the
        claims of shared results this process holds are released (the next start does not wait for them) and the
        database's connections are closed. Idempotent."""
        first = not self.stopping.is_set()
        self.stopping.set()
        if first and self.warm_thread is not None and self.warm_thread.is_alive():
            print(f"parkplan: the server is stopping: warm-up of process {os.getpid()} stopped", flush=True)
        if self.sheet_process is not None:
            self.sheet_process.close()
        self.shared.close()
        self.engine.dispose()

    def key(self, *parts: Any) -> tuple:
        """A cache key: the dataset version, then ``parts``."""
        return (self.dataset_version, *parts)

    def shared_value(self, parts: tuple, compute: Callable[[], Any], encode: Callable[[Any], bytes],
                     decode: Callable[[bytes], Any]) -> Any:
        """``compute()`` once for every worker process over this review database (:class:`SharedResults`), under
        the key ``(dataset version, "shared", *parts)``: read from the database if another worker stored it."""
        return self.shared.get(self.key("shared", *parts), compute, encode, decode)

    # ---------------------------------------------------------------- analysis contexts
    def suitability_context(self) -> SuitabilityContext:
        """The suitability model's park context for the dataset, built once (concurrent first callers wait)."""
        return self.contexts.get_or_compute(self.key("suitability"), lambda: context_from_dataset(self.dataset))

    def metrics_context(self) -> metrics_report.MetricsContext:
        """The one :class:`parks.metrics.report.MetricsContext` over the dataset, built once with its shared
        parts (joins, metric projections, county weights and areas), so later requests only read them."""
        return self.contexts.get_or_compute(self.key("metrics"), self._build_metrics_context)

    def _build_metrics_context(self):
        ctx = metrics_report.MetricsContext(self.dataset,
                                            cache=LockedCache(METRICS_CONTEXT_CACHE, "metrics-context"))
        for name in _METRICS_SHARED:
            getattr(ctx, name)
        return ctx

    def forget_metrics_context(self) -> None:
        """As on a fresh server: the next :meth:`metrics_context` builds it again (tests)."""
        self.contexts.discard(self.key("metrics"))

    # ---------------------------------------------------------------- warm-up
    def warm(self, tasks: list[tuple[str, Callable[[], Any]]]) -> threading.Thread:
        """Run ``tasks`` (name, function) one after the other in one background thread, so the first user
        of a heavy analysis finds it computed; a failing task is logged and the next one runs."""

        def run() -> None:
            start = time.perf_counter()
            print(f"parkplan: warm-up of process {os.getpid()} started ({len(tasks)} steps)", flush=True)
            for name, task in tasks:
                if self.stopping.is_set():  # close(): the server stops; the rest is not computed
                    return
                t0 = time.perf_counter()
                print(f"parkplan: warming {name}", flush=True)
                try:
                    task()
                except Exception as exc:  # noqa: BLE001 - a warm-up failure must not stop the server
                    if self.stopping.is_set() or isinstance(exc, SheetProcessClosed):
                        return
                    print(f"parkplan: warming {name} failed: {type(exc).__name__}: {exc}", flush=True)
                else:
                    self.warmed[name] = time.perf_counter() - t0
            print(f"parkplan: warm-up of process {os.getpid()} done in {time.perf_counter() - start:.1f} s",
                  flush=True)
            counts = self.shared.counts
            if counts["read"] or counts["computed"]:  # with --workers N: what this worker did not compute itself
                print(f"parkplan: warm-up of process {os.getpid()}: {counts['read']} results read from the review "
                      f"database, {counts['computed']} computed here", flush=True)

        self.warmed = {}
        thread = threading.Thread(target=run, name="parkplan-warm", daemon=True)
        thread.start()
        self.warm_thread = thread
        return thread
