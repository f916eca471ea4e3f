"""Transfer candidates and their reviews in the review database: store, list, decide, audit.

Used by the HTTP routes (:mod:`api.routes.transfers`) and the command line (``parkplan transfers``).
Every change writes an :class:`~api.db.AuditEntry` (who, when, before, after) in the same
transaction. A review is accepted only if the caller's expected version is the current one; the
update itself is conditional (``WHERE version = :expected``), so two reviewers racing on the same
version cannot both win, on SQLite or PostgreSQL. Writes go through :func:`api.db.write_transaction`:
a busy database is retried (the version check is redone each time) and, past its patience, answered
503 with ``Retry-After`` (:class:`api.db.DatabaseBusy`, handled in :mod:`api.app`): the decision was
not recorded and the client may send it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult, Engine, Row
from sqlalchemy.orm import Session, defer

from .auth import Principal
from .db import DECISIONS, STATUSES, AuditEntry, Review, TransferCandidate, as_utc, utcnow, write_transaction
from .deps import scope_filter
from .problems import BadRequest, NotFound, PreconditionFailed, PreconditionRequired

__all__ = [
    "CANDIDATE_FIELDS",
    "candidate_public",
    "review_public",
    "audit_public",
    "etag",
    "versions_from_if_match",
    "count_candidates",
    "add_candidates",
    "all_candidates",
    "list_candidates",
    "get_candidate",
    "candidate_reviews",
    "decide",
    "list_audit",
    "office_decisions",
    "office_decisions_mark",
    "ReviewOutcome",
]

CANDIDATE_FIELDS = ("candidate_id", "enterprise_id", "origin_county_code", "destination_county_code", "park_id",
                    "scenario", "score", "status", "version", "last_comment", "created_at", "updated_at")
_ETAG_RE = re.compile(r'(W/)?"([^"]*)"')


def _iso(value) -> str | None:
    value = as_utc(value)
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def candidate_public(c: TransferCandidate | Row[Any], *, snapshot: bool = False) -> dict[str, Any]:
    """The candidate as the API shows it; ``c`` is the ORM object or a plain row of its columns."""
    out = {k: getattr(c, k) for k in CANDIDATE_FIELDS}
    out["created_at"], out["updated_at"] = _iso(c.created_at), _iso(c.updated_at)
    if snapshot:
        out["snapshot"] = c.snapshot or {}
    return out


def review_public(r: Review) -> dict[str, Any]:
    return {"id": r.id, "candidate_id": r.candidate_id, "decision": r.decision, "comment": r.comment,
            "reviewer": r.reviewer, "version_before": r.version_before, "version_after": r.version_after,
            "created_at": _iso(r.created_at)}


def audit_public(a: AuditEntry) -> dict[str, Any]:
    return {"id": a.id, "at": _iso(a.at), "actor": a.actor, "role": a.role, "action": a.action,
            "object_type": a.object_type, "object_id": a.object_id, "origin_county_code": a.origin_county_code,
            "destination_county_code": a.destination_county_code, "before": a.before, "after": a.after}


def etag(c: TransferCandidate) -> str:
    return f'"{c.candidate_id}.v{c.version}"'


def versions_from_if_match(header: str, candidate_id: str) -> set[int] | None:
    """Versions named by an ``If-Match`` header's strong entity tags for this candidate (``*`` -> ``None``: any
    version). If-Match compares strongly (RFC 9110, 13.1.1): a weak tag (``W/"..."``) never matches."""
    if header.strip() == "*":
        return None
    out: set[int] = set()
    for weak, tag in _ETAG_RE.findall(header):
        cid, dot, v = tag.rpartition(".v")
        if not weak and dot and cid == candidate_id and v.isdigit():
            out.add(int(v))
    return out


def _only_weak(header: str) -> bool:
    tags = _ETAG_RE.findall(header)
    return bool(tags) and all(weak for weak, _ in tags)


def _snapshot_without_candidate(c: TransferCandidate) -> dict[str, Any]:
    return {k: v for k, v in candidate_public(c).items() if k not in ("created_at", "updated_at")}


def count_candidates(db: Session) -> int:
    return int(db.execute(select(func.count()).select_from(TransferCandidate)).scalar_one())


def add_candidates(engine: Engine, rows: Iterable[dict[str, Any]], *, actor: str = "parkplan transfers propose",
                   role: str = "system") -> int:
    """Insert candidates whose ``candidate_id`` is new (existing ones, and their reviews, are kept). Returns
    how many were added.

    A proposal run after the model or the data changed gives new ids (the id hashes the frozen snapshot).
    Such a candidate is NOT added when its enterprise already has a candidate under review (pending,
    needs_info) or approved: an office never sees two live proposals for one firm, and no decision is
    replaced behind its back. A firm whose earlier candidates were all rejected may be proposed again,
    but not to a park that already rejected it."""
    rows = list(rows)
    return write_transaction(engine, lambda db: _add_candidates(db, rows, actor, role))


def _add_candidates(db: Session, rows: list[dict[str, Any]], actor: str, role: str) -> int:
    added = 0
    existing = set(db.execute(select(TransferCandidate.candidate_id)).scalars())
    live: set[str] = set()                  # enterprises with a candidate pending, needing info or approved
    rejected: set[tuple[str, str]] = set()  # (enterprise, park) pairs an office rejected
    for eid, park, status in db.execute(select(TransferCandidate.enterprise_id, TransferCandidate.park_id,
                                               TransferCandidate.status)):
        if status == "rejected":
            rejected.add((str(eid), str(park)))
        else:
            live.add(str(eid))
    for r in rows:
        cid, eid, park = str(r["candidate_id"]), str(r["enterprise_id"]), str(r["park_id"])
        if cid in existing or eid in live or (eid, park) in rejected:
            continue
        existing.add(cid)
        live.add(eid)
        c = TransferCandidate(
            candidate_id=cid, enterprise_id=str(r["enterprise_id"]),
            origin_county_code=str(r["origin_county_code"]),
            destination_county_code=str(r["destination_county_code"]), park_id=str(r["park_id"]),
            scenario=str(r.get("scenario") or ""), score=None if r.get("score") is None else float(r["score"]),
            status="pending", version=1, last_comment="", snapshot=r.get("snapshot") or {})
        db.add(c)
        db.add(AuditEntry(actor=actor, role=role, action="propose", object_type="transfer_candidate",
                          object_id=cid, origin_county_code=c.origin_county_code,
                          destination_county_code=c.destination_county_code, before=None,
                          after=_snapshot_without_candidate(c)))
        added += 1
    return added


def all_candidates(db: Session, *, county: str | None = None) -> list[TransferCandidate]:
    """Every stored candidate (``county``: as origin or destination), unscoped: for the aggregated flows
    that viewers and analysts see (the caller strips them of firm-level detail)."""
    q = select(TransferCandidate)
    if county is not None:
        q = q.where((TransferCandidate.origin_county_code == county) |
                    (TransferCandidate.destination_county_code == county))
    return list(db.execute(q.order_by(TransferCandidate.candidate_id)).scalars())


_FILTERS = ("status", "origin_county_code", "destination_county_code", "park_id", "enterprise_id", "scenario")


def _candidate_conditions(user: Principal, filters: dict[str, str | None], county: str | None) -> list:
    conds = [scope_filter(user, TransferCandidate.origin_county_code, TransferCandidate.destination_county_code)]
    for name, value in filters.items():
        if value is None:
            continue
        if name not in _FILTERS:
            raise BadRequest(f"unknown filter {name!r}; accepted: {', '.join(_FILTERS)}")
        if name == "status" and value not in STATUSES:
            raise BadRequest(f"status {value!r} is unknown; accepted: {', '.join(STATUSES)}")
        if name == "status":
            # compared through a function (status is NOT NULL: the same rows) so that the database does not pick
            # the status index, which matches most candidates (nearly all are pending), over the offices'
            # indexes: SQLite walked every pending candidate of the province for one office's page (the page
            # 3.7 -> 1.3 ms, its count 2.1 -> 0.15 ms of CPU over 2,004 candidates)
            conds.append(func.coalesce(TransferCandidate.status, "") == value)
            continue
        conds.append(getattr(TransferCandidate, name) == value)
    if county is not None:
        conds.append((TransferCandidate.origin_county_code == county) |
                     (TransferCandidate.destination_county_code == county))
    return conds


def _listed(db: Session, q, conds: list, limit: int, offset: int):
    """``q`` restricted to ``conds``, pending first, one page of it; and how many rows match in all."""
    q = q.where(*conds)
    total = int(db.execute(select(func.count()).select_from(TransferCandidate).where(*conds)).scalar_one())
    pending_first = (TransferCandidate.status != "pending")
    return q.order_by(pending_first, TransferCandidate.candidate_id).limit(limit).offset(offset), total


def list_candidates(db: Session, user: Principal, *, filters: dict[str, str | None], limit: int, offset: int,
                    county: str | None = None, with_snapshot: bool = True) -> tuple[list[TransferCandidate], int]:
    """Candidates the user may see, filtered; ``county`` matches origin or destination. Pending first.
    ``with_snapshot=False``: the snapshots are not read (nor decoded) unless a row's is asked for."""
    q, total = _listed(db, select(TransferCandidate), _candidate_conditions(user, filters, county), limit, offset)
    if not with_snapshot:
        q = q.options(defer(TransferCandidate.snapshot))
    return list(db.execute(q).scalars()), total


def list_candidate_dicts(db: Session, user: Principal, *, filters: dict[str, str | None], limit: int, offset: int,
                         county: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """As :func:`list_candidates` (same scope, filters, order and page), each row as :func:`candidate_public`
    without its snapshot, read as plain rows (no ORM objects: a page of 200 is listed on every visit of the list)."""
    cols = [getattr(TransferCandidate, k) for k in CANDIDATE_FIELDS]
    q, total = _listed(db, select(*cols), _candidate_conditions(user, filters, county), limit, offset)
    return [candidate_public(row) for row in db.execute(q)], total


def get_candidate(db: Session, user: Principal, candidate_id: str) -> TransferCandidate:
    """The candidate, if it exists and is in the user's scope; 404 otherwise (the same answer for both)."""
    c = db.get(TransferCandidate, candidate_id)
    if c is None or not user.in_scope(c.origin_county_code, c.destination_county_code):
        raise NotFound(f"transfer candidate {candidate_id!r} not found")
    return c


def candidate_reviews(db: Session, candidate_id: str) -> list[Review]:
    return list(db.execute(select(Review).where(Review.candidate_id == candidate_id).order_by(Review.id)).scalars())


@dataclass(frozen=True)
class ReviewOutcome:
    candidate: dict[str, Any]
    review: dict[str, Any]
    etag: str


def decide(engine: Engine, user: Principal, candidate_id: str, *, decision: str, comment: str,
           if_match: str | None, version: int | None) -> ReviewOutcome:
    """Record a decision if the expected version (``If-Match`` or ``version``) is current.

    412 (nothing changed) when it is stale; 428 when neither is given; 404 outside the user's scope; 503
    (:class:`api.db.DatabaseBusy`, nothing changed) when the database stayed locked by other writers past
    :data:`api.db.WRITE_PATIENCE_S`.
    """
    if decision not in DECISIONS:
        raise BadRequest(f"decision {decision!r} is unknown; accepted: {', '.join(DECISIONS)}")
    if if_match is None and version is None:
        raise PreconditionRequired("a review must say which version it decides on: send the candidate's ETag in "
                                   "If-Match, or a 'version' field")
    return write_transaction(engine, lambda db: _decide_in(db, user, candidate_id, decision, comment, if_match,
                                                           version))


def _decide_in(db: Session, user: Principal, candidate_id: str, decision: str, comment: str, if_match: str | None,
               version: int | None) -> ReviewOutcome:
    """One attempt, inside the write transaction: read, check the version, conditional update, review, audit.

    The candidate is read without its snapshot (a decision neither shows nor changes it: decoding its JSON was a
    third of the decision's database time), and its state after the update is the state read with the update's
    values set (no second read)."""
    c = db.get(TransferCandidate, candidate_id, options=[defer(TransferCandidate.snapshot)],
               populate_existing=True)
    if c is None or not user.in_scope(c.origin_county_code, c.destination_county_code):
        raise NotFound(f"transfer candidate {candidate_id!r} not found")
    if if_match is not None:
        accepted = versions_from_if_match(if_match, candidate_id)
        if accepted is None:
            raise PreconditionRequired("If-Match: * would overwrite any decision; send the candidate's ETag")
        if c.version not in accepted:
            if _only_weak(if_match):
                raise PreconditionFailed(
                    "If-Match compares entity tags strongly (RFC 9110, 13.1.1): a weak tag (W/\"...\") never "
                    "matches; send the candidate's ETag exactly as GET returned it. Nothing was changed.",
                    headers={"ETag": etag(c)}, current=candidate_public(c))
            if not _ETAG_RE.search(if_match):
                raise PreconditionFailed(
                    f"If-Match {if_match[:80]!r} names no entity tag, so it matches nothing (RFC 9110, 13.1.1); send "
                    f"the candidate's ETag as GET returned it, quotes included. Nothing was changed.",
                    headers={"ETag": etag(c)}, current=candidate_public(c))
            raise _stale(c)
    if version is not None and version != c.version:
        raise _stale(c)
    expected = c.version
    before = _snapshot_without_candidate(c)
    now = utcnow()
    res: CursorResult[Any] = db.execute(  # type: ignore[assignment]  # an UPDATE's result is a cursor result
        update(TransferCandidate)
        .where(TransferCandidate.candidate_id == candidate_id, TransferCandidate.version == expected)
        .values(status=decision, version=expected + 1, last_comment=comment, updated_at=now)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:  # another reviewer committed first (PostgreSQL: the row lock was released)
        current = db.execute(select(TransferCandidate).where(TransferCandidate.candidate_id == candidate_id)
                             .execution_options(populate_existing=True)).scalar_one()
        raise _stale(current)
    review = Review(candidate_id=candidate_id, decision=decision, comment=comment, reviewer=user.actor,
                    token_id=user.token_id, version_before=expected, version_after=expected + 1, created_at=now)
    db.add(review)
    changed = {"status": decision, "version": expected + 1, "last_comment": comment}
    after = {**before, **changed}
    db.add(AuditEntry(at=now, actor=user.actor, token_id=user.token_id, role=user.role, action="review",
                      object_type="transfer_candidate", object_id=candidate_id,
                      origin_county_code=c.origin_county_code, destination_county_code=c.destination_county_code,
                      before=before, after=after))
    db.flush()  # the review's id
    cand = {**candidate_public(c), **changed, "updated_at": _iso(now)}
    db.expunge(c)  # the object still holds the values read before the update: never reused by this session
    return ReviewOutcome(cand, review_public(review), f'"{candidate_id}.v{expected + 1}"')


def _stale(c: TransferCandidate) -> PreconditionFailed:
    return PreconditionFailed(
        f"transfer candidate {c.candidate_id!r} changed since you read it: it is now version {c.version} "
        f"({c.status}); nothing was changed. Read it again and decide on the current version.",
        headers={"ETag": etag(c)}, current=candidate_public(c))


def list_audit(db: Session, user: Principal, *, candidate_id: str | None, limit: int, offset: int
               ) -> tuple[list[AuditEntry], int]:
    q = select(AuditEntry).where(scope_filter(user, AuditEntry.origin_county_code, AuditEntry.destination_county_code))
    if candidate_id is not None:
        q = q.where(AuditEntry.object_id == candidate_id)
    total = int(db.execute(select(func.count()).select_from(q.subquery())).scalar_one())
    rows = db.execute(q.order_by(AuditEntry.id).limit(limit).offset(offset)).scalars()
    return list(rows), total


def _office_conditions(user: Principal, office: str | None) -> list:
    if office is not None and not user.in_scope(office):
        raise NotFound(f"office {office!r} not found among your offices")
    conds = [scope_filter(user, TransferCandidate.origin_county_code, TransferCandidate.destination_county_code)]
    if office is not None:
        conds.append((TransferCandidate.origin_county_code == office) |
                     (TransferCandidate.destination_county_code == office))
    return conds


def office_decisions_mark(db: Session, user: Principal, office: str | None) -> tuple[int, int]:
    """``(last review id, number of reviews)`` over the rows :func:`office_decisions` lists for the same user and
    office (404 likewise): one indexed aggregate. Reviews are only ever added (a decision is a new review, with
    a higher id, and the only change of a candidate's status), so equal marks mean equal rows; a cache of the
    decisions' exports is keyed by it."""
    q = (select(func.max(Review.id), func.count(Review.id))
         .join(TransferCandidate, Review.candidate_id == TransferCandidate.candidate_id)
         .where(*_office_conditions(user, office)))
    last, n = db.execute(q).one()
    return int(last or 0), int(n)


def office_decisions(db: Session, user: Principal, office: str | None) -> list[dict[str, Any]]:
    """One row per review of the office's candidates (all the user's offices when ``office`` is None).

    Plain columns, and the two frozen names read from the snapshot by the database (a JSON path, on SQLite and
    PostgreSQL alike) rather than each snapshot (about 11 kB of JSON) decoded here."""
    T = TransferCandidate
    q = (select(T.candidate_id, T.enterprise_id, T.snapshot[("enterprise", "name")].as_string(),
                T.origin_county_code, T.destination_county_code, T.park_id, T.snapshot[("park", "name")].as_string(),
                T.score, Review.decision, Review.comment, Review.reviewer, Review.created_at, Review.version_after,
                T.status)
         .join(T, Review.candidate_id == T.candidate_id).where(*_office_conditions(user, office)))
    return [{
        "candidate_id": cid, "enterprise_id": eid, "enterprise_name": ename, "origin_county_code": origin,
        "destination_county_code": dest, "park_id": park, "park_name": pname, "score": score, "decision": decision,
        "comment": comment, "reviewer": reviewer, "decided_at": _iso(created), "version_after": after,
        "current_status": status,
    } for (cid, eid, ename, origin, dest, park, pname, score, decision, comment, reviewer, created, after, status)
        in db.execute(q.order_by(Review.id)).all()]
