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

from geodata.messages import Catalogue, CodedError, listing

from ..auth import _OFFICE_RE, ROLES, AuthError, Principal, create_token, revoke_token
from ..db import STATUSES, Token, default_db_url, init_db, integrity_check, make_engine, session_factory

# the token commands need only the database: what reads the dataset or the candidates (geopandas, the review
# model and FastAPI's problem types) is imported inside the functions that use it
if TYPE_CHECKING:
    from parks.joins import PreparedDataset

__all__ = ["AdminError", "review_db_url", "open_engine", "propose_into", "token_count", "create_checked_token",
           "token_rows", "revoke", "transfer_rows", "check_database"]


#: The refusals of the administration commands (:class:`AdminError`); roles, office codes and statuses stay as
#: they are in both languages.
ADMIN = Catalogue("admin", {
    "admin.office_unknown": ("office {office!r} is not a county code of the dataset {dataset} (e.g. {examples})",
                             "办公室 office {office!r} 不是数据集 {dataset} 中的县级代码（例如 {examples}）"),
    "admin.role": ("unknown role {role!r}; accepted: {accepted}", "未知角色 --role {role!r}；可接受：{accepted}"),
    "admin.office_format": ("office codes must be 6-digit county codes, got {offices}",
                            "办公室 --office 应为 6 位县级代码，而不是 {offices}"),
    "admin.reviewer_office": ("a reviewer token needs at least one office (--office COUNTY_CODE)",
                              "审核员（reviewer）令牌至少需要一个办公室（--office 县级代码）"),
    "admin.no_token": ("no token with id {token_id}", "没有编号为 {token_id} 的令牌"),
    "admin.status": ("status {value!r} is unknown; accepted: {accepted}", "状态 --status {value!r} 未知；可接受：{accepted}"),
    # what another layer refused, in its words (none is known to reach here: the checks above come first)
    "admin.refused": ("{reason}", "请求被拒绝（原始信息：{reason!r}）"),
})


class AdminError(CodedError):
    """A request the database cannot carry out as given (unknown office, unknown token id, bad filter): a
    ``ValueError``.

    Raised with a code of :data:`ADMIN` and its values; ``str(exc)`` is the English text,
    ``geodata.messages.message(exc, "zh")`` the Chinese."""

    def __init__(self, code: str, /, **params: Any):
        super().__init__(ADMIN(code, **params))


def _check_token_request(role: str, offices: list[str]) -> None:
    """The checks :func:`api.auth.create_token` makes, in its order, as coded refusals."""
    if role not in ROLES:
        raise AdminError("admin.role", role=role, accepted=listing(ROLES))
    out = sorted({str(o).strip() for o in offices})
    bad = [o for o in out if not _OFFICE_RE.match(o)]
    if bad:
        raise AdminError("admin.office_format", offices=", ".join(map(repr, bad)))
    if role == "reviewer" and not out:
        raise AdminError("admin.reviewer_office")


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
            raise AdminError("admin.office_unknown", office=unknown[0], dataset=data_path.name,
                             examples=listing(sorted(known)[:3]))
    _check_token_request(role, offices)
    with _session(url) as s:
        try:
            token, row = create_token(s, role, offices, label)
        except AuthError as exc:
            raise AdminError("admin.refused", reason=str(exc)) from exc
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
            raise AdminError("admin.no_token", token_id=token_id)
        s.commit()


def transfer_rows(url: str, *, status: str | None, county: str | None, limit: int) -> tuple[list[dict], int]:
    """Transfer candidates of every office (as an administrator sees them): (first ``limit`` rows, total)."""
    from ..problems import ProblemError
    from ..reviews import candidate_public, list_candidates

    if status is not None and status not in STATUSES:
        raise AdminError("admin.status", value=status, accepted=listing(STATUSES))
    admin = Principal(0, "command line", "admin")
    with _session(url) as s:
        try:
            rows, total = list_candidates(s, admin, filters={"status": status}, county=county, limit=limit, offset=0)
        except ProblemError as exc:
            raise AdminError("admin.refused", reason=exc.detail) from exc
        return [candidate_public(c) for c in rows], total


def check_database(url: str) -> dict:
    """SQLite integrity_check and foreign keys; references on PostgreSQL (:func:`api.db.integrity_check`)."""
    engine = open_engine(url)
    try:
        return integrity_check(engine)
    finally:
        engine.dispose()
