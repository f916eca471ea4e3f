"""Benchmark inputs: built-in datasets of a given size, built once and cached on disk (pickle).

The cache lives in ``$PARKPLAN_BENCH_CACHE`` (default: ``~/.cache/parkplan-bench``), in a folder per
generator version (``v3``: a changed generator never reuses an older dataset); a 1,000,000-
enterprise dataset takes about 45 s to build on the benchmark machine and 3 s to load from cache.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geodata.dataset import Dataset

SEED = 7
#: datasets already in memory, by number of enterprises (tests put their session dataset here)
PRELOADED: dict[int, "Dataset"] = {}


def cache_dir() -> Path:
    from geodata.builtin import GENERATOR_VERSION

    d = Path(os.environ.get("PARKPLAN_BENCH_CACHE", Path.home() / ".cache" / "parkplan-bench")) / f"v{GENERATOR_VERSION}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def dataset(enterprises: int, projects: int = 3000, seed: int = SEED, *, cache: bool = True):
    """The built-in Zhejiang dataset with ``enterprises`` synthetic enterprises (not joined)."""
    from geodata.builtin import build_builtin_dataset

    if enterprises in PRELOADED:
        return PRELOADED[enterprises]
    path = cache_dir() / f"builtin-{enterprises}-{projects}-{seed}.pkl"
    if cache and path.exists():
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except Exception:  # noqa: BLE001 - a stale or partial cache is rebuilt
            path.unlink(missing_ok=True)
    ds = build_builtin_dataset(enterprises=enterprises, projects=projects, seed=seed)
    if cache:
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            pickle.dump(ds, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    return ds


def prepared(enterprises: int, projects: int = 3000, seed: int = SEED):
    """The dataset joined with :func:`parks.joins.prepare` (cached like :func:`dataset`)."""
    from parks.joins import prepare

    if enterprises in PRELOADED:
        return prepare(PRELOADED[enterprises])
    path = cache_dir() / f"prepared-{enterprises}-{projects}-{seed}.pkl"
    if path.exists():
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except Exception:  # noqa: BLE001
            path.unlink(missing_ok=True)
    ds = prepare(dataset(enterprises, projects, seed))
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(ds, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return ds


def wait_idle(cpu_seconds, timeout: float, window: float = 4.0, share: float = 0.05) -> float | None:
    """Wait until a server whose CPU seconds so far ``cpu_seconds()`` gives uses under ``share`` of one core over
    ``window`` seconds (its background warm-up done); the seconds waited, or None after ``timeout``."""
    import time

    t0 = time.monotonic()
    last = cpu_seconds()
    while time.monotonic() - t0 < timeout:
        time.sleep(window)
        now = cpu_seconds()
        if now - last < share * window:
            return time.monotonic() - t0
        last = now
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """A free TCP port on ``host`` (for a benchmark's server)."""
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def gpkg(n: int) -> Path:
    """The ``n``-enterprise built-in dataset as a GeoPackage (what a server loads), cached."""
    from geodata.dataset import save_dataset

    path = cache_dir() / f"api-{n}.gpkg"
    if not path.exists():
        save_dataset(dataset(n), path)
    return path
