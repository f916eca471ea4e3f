"""The server's settings (:class:`Settings`, from the environment by :meth:`Settings.from_env`) and where its
dataset lives (:func:`resolve_data_path`, shared by the server and the command line).

=========================== ====================================================== =================
variable                    meaning                                                default
=========================== ====================================================== =================
``PARKPLAN_DATA``           dataset GeoPackage                                     built-in dataset
``PARKPLAN_DB_URL``         review database (SQLAlchemy URL)                       SQLite next to the dataset
``PARKPLAN_MAX_BODY_BYTES`` largest request body (413 above)                       1,000,000
``PARKPLAN_DEFAULT_LIMIT``  page size when ``limit`` is not given                  100
``PARKPLAN_MAX_LIMIT``      largest page (a larger ``limit`` is clamped, as OGC    1,000
                            API Features requires)
``PARKPLAN_MAX_BATCH``      most enterprises in one ``POST /suitability/batch``    500
``PARKPLAN_MAX_DRAWS``      most weight draws in ``POST /suitability/sensitivity`` 5,000
``PARKPLAN_SESSION_HOURS``  browser session lifetime                               8
``PARKPLAN_AUTH_TTL_S``     seconds a token's lookup is reused (a revoked token    5
                            stops working within this interval; 0: every request)
``PARKPLAN_WARM``           compute the heavy analyses in the background at        0 (serve: 1)
                            start-up (0: on first request)
``PARKPLAN_DB_PATIENCE_S``  seconds a write to the review database is retried      60
                            while it is busy (then 503 ``db.busy``, nothing saved)
``PARKPLAN_DB_BUSY_MS``     SQLite: milliseconds one statement waits for the       30,000
                            write lock (each retry waits this long again)
=========================== ====================================================== =================
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from platformdirs import user_data_dir

from geodata.builtin import GENERATOR_VERSION, build_builtin_dataset
from geodata.dataset import save_dataset

__all__ = ["Settings", "default_data_path", "resolve_data_path"]


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {value!r}") from None


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be a number of seconds, got {value!r}") from None


@dataclass(frozen=True)
class Settings:
    data_path: Path | None = None
    db_url: str | None = None
    max_body_bytes: int = 1_000_000
    default_limit: int = 100
    max_limit: int = 1000
    max_batch: int = 500
    max_draws: int = 5000
    session_ttl: dt.timedelta = field(default_factory=lambda: dt.timedelta(hours=8))
    auth_ttl_s: float = 5.0
    warm: bool = False  # parkplan serve turns it on
    db_patience_s: float | None = None  # None: api.db.WRITE_PATIENCE_S
    db_busy_timeout_ms: int | None = None  # None: api.db.SQLITE_BUSY_TIMEOUT_MS

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        data = os.environ.get("PARKPLAN_DATA")
        s = cls(
            data_path=Path(data) if data else None,
            db_url=os.environ.get("PARKPLAN_DB_URL") or None,
            max_body_bytes=_env_int("PARKPLAN_MAX_BODY_BYTES", cls.max_body_bytes),
            default_limit=_env_int("PARKPLAN_DEFAULT_LIMIT", cls.default_limit),
            max_limit=_env_int("PARKPLAN_MAX_LIMIT", cls.max_limit),
            max_batch=_env_int("PARKPLAN_MAX_BATCH", cls.max_batch),
            max_draws=_env_int("PARKPLAN_MAX_DRAWS", cls.max_draws),
            session_ttl=dt.timedelta(hours=_env_int("PARKPLAN_SESSION_HOURS", 8)),
            auth_ttl_s=_env_float("PARKPLAN_AUTH_TTL_S", cls.auth_ttl_s),
            warm=_env_int("PARKPLAN_WARM", 0) != 0,
            db_patience_s=(_env_float("PARKPLAN_DB_PATIENCE_S", 0.0) if os.environ.get("PARKPLAN_DB_PATIENCE_S")
                           else None),
            db_busy_timeout_ms=_env_int("PARKPLAN_DB_BUSY_MS", 0) if os.environ.get("PARKPLAN_DB_BUSY_MS") else None,
        )
        return replace(s, **{k: v for k, v in overrides.items() if v is not None})


def default_data_path() -> Path:
    """The built-in dataset's location in the user's data directory, keyed by the generator's version so
    that a changed generator builds a new dataset (an older one, and any import into it, stays beside it)."""
    return Path(user_data_dir("parkplan", appauthor=False)) / f"builtin-v{GENERATOR_VERSION}.gpkg"


def resolve_data_path(data: Path | None) -> Path:
    """``data``, else ``$PARKPLAN_DATA``, else the built-in dataset (built on first use)."""
    if data is not None:
        return Path(data)
    env = os.environ.get("PARKPLAN_DATA")
    if env:
        return Path(env)
    path = default_data_path()
    if not path.exists():
        print(f"Building the built-in dataset at {path} (first use)...", file=sys.stderr, flush=True)
        save_dataset(build_builtin_dataset(progress=True), path)
    return path
