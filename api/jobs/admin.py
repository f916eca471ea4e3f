"""Administration of the review database for the commands: the database URL rule, tokens, transfer
candidates and the integrity check. The commands (``api/cli/token.py``, ``transfers.py``, ``serve.py``)
only parse options and print what these return.

Errors a user can fix are :class:`AdminError` (a ``ValueError``) with a message naming the value and
what is accepted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from ..auth import AuthError, Principal, create_token, revoke_token
from ..db import Token, default_db_url, init_db, integrity_check, make_engine, session_factory

# the token commands need only the database: what reads the dataset or the candidates (geopandas, the review
# model and FastAPI's problem types) is imported inside the functions that use it
if TYPE_CHECKING:
    from parks.joins import PreparedDataset

__all__ = ["AdminError", "review_db_url", "open_engine", "propose_into", "token_count", "create_checked_token",
           "token_rows", "revoke", "transfer_rows", "check_database"]


class AdminError(ValueError):
    """A request the database cannot carry out as given (unknown office, unknown token id, bad filter)."""


def review_db_url(data_path: Path, db: str | None) -> str:
    """The review database: ``db`` if given, else ``$PARKPLAN_DB_URL``, else a SQLite file next to the
    dataset (:func:`api.db.default_db_url`) - the same rule as the server's."""
    return db or os.environ.get("PARKPLAN_DB_URL") or default_db_url(data_path)


def open_engine(url: str):
    """An engine on ``url`` with the tables created."""
    engine = make_engine(url)
    init_db(engine)
    return engine


@contextmanager
def _session(url: str) -> Iterator[Any]:
    engine = open_engine(url)
    try:
        with session_factory(engine)() as s:
            yield s
    finally:
        engine.dispose()


def propose_into(engine, ds: PreparedDataset, *, progress: bool = False) -> int:
    """Propose transfer candidates for the (prepared) dataset and store the new ones; returns how many."""
    from ..proposals import propose  # the proposal model pulls in the allocation solver
    from ..reviews import add_candidates

    return add_candidates(engine, propose(ds, progress=progress))


def token_count(session) -> int:
    return int(session.execute(select(func.count()).select_from(Token)).scalar_one())


def create_checked_token(url: str, data_path: Path, role: str, offices: list[str], label: str) -> tuple[str, int]:
    """Create a token (offices must be county codes of the dataset); returns (the secret, its id)."""
    offices = [o.strip() for o in offices]
    if offices:
        from geodata.dataset import load_dataset

        known = set(load_dataset(data_path).counties["code"].astype(str))
        unknown = [o for o in offices if o not in known]
        if unknown:
            raise AdminError(f"office {unknown[0]!r} is not a county code of the dataset {data_path.name} "
                             f"(e.g. {', '.join(sorted(known)[:3])})")
    with _session(url) as s:
        try:
            token, row = create_token(s, role, offices, label)
        except AuthError as exc:
            raise AdminError(str(exc)) from exc
        s.commit()
        return token, int(row.id)


def token_rows(url: str) -> list[dict]:
    """Every token: id, role, offices, label, revoked, created_at (ISO); never a secret."""
    with _session(url) as s:
        return [{"id": t.id, "role": t.role, "offices": t.offices, "label": t.label, "revoked": t.revoked,
                 "created_at": t.created_at.isoformat()} for t in s.execute(select(Token).order_by(Token.id)).scalars()]


def revoke(url: str, token_id: int) -> None:
    """Revoke a token (its browser sessions end too)."""
    with _session(url) as s:
        if not revoke_token(s, token_id):
            raise AdminError(f"no token with id {token_id}")
        s.commit()


def transfer_rows(url: str, *, status: str | None, county: str | None, limit: int) -> tuple[list[dict], int]:
    """Transfer candidates of every office (as an administrator sees them): (first ``limit`` rows, total)."""
    from ..problems import ProblemError
    from ..reviews import candidate_public, list_candidates

    admin = Principal(0, "command line", "admin")
    with _session(url) as s:
        try:
            rows, total = list_candidates(s, admin, filters={"status": status}, county=county, limit=limit, offset=0)
        except ProblemError as exc:
            raise AdminError(exc.detail) from exc
        return [candidate_public(c) for c in rows], total


def check_database(url: str) -> dict:
    """SQLite integrity_check and foreign keys; references on PostgreSQL (:func:`api.db.integrity_check`)."""
    engine = open_engine(url)
    try:
        return integrity_check(engine)
    finally:
        engine.dispose()
