"""Transfer candidates and their review: office-scoped, versioned (ETag / If-Match, 412), audited.

Reviewer role or higher. A reviewer sees and decides only candidates whose origin or destination
county is one of its offices; any other candidate is 404, as if it did not exist. Admins see all.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError
from concurrent.futures.process import BrokenProcessPool
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from geodata.dataset import Dataset

from .. import exports, reviews
from ..db import TransferCandidate
from ..deps import DatasetDep, DbDep, ReviewerUser, StateDep
from ..problems import PROBLEM_JSON
from ..state import AppState

router = APIRouter(tags=["transfer review"])

CandidateId = Annotated[str, Path(max_length=64, description="candidate_id")]
Limit = Annotated[int | None, Query(ge=1, description="page size; clamped to the maximum")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
COUNTY_PATTERN = r"^[0-9]{6}$"  # a 6-digit county code

_ETAG_HEADER = {"ETag": {"description": "the candidate's current version as a strong entity tag, for If-Match",
                         "schema": {"type": "string", "pattern": '^"[^"]*"$'}}}


class Candidate(BaseModel):
    candidate_id: str
    enterprise_id: str
    origin_county_code: str
    destination_county_code: str
    park_id: str
    scenario: str
    score: float | None
    status: Literal["pending", "approved", "rejected", "needs_info"]
    version: int
    last_comment: str
    created_at: str | None
    updated_at: str | None


class ReviewOut(BaseModel):
    id: int
    candidate_id: str
    decision: str
    comment: str
    reviewer: str
    version_before: int
    version_after: int
    created_at: str | None


class CandidateDetail(Candidate):
    snapshot: dict
    reviews: list[ReviewOut]


class CandidatePage(BaseModel):
    items: list[Candidate]
    numberMatched: int
    numberReturned: int
    links: list[dict]


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approved", "rejected", "needs_info"]
    comment: str = Field("", max_length=4000)
    version: int | None = Field(None, ge=1, description="the version decided on (instead of If-Match)")


class ReviewResult(BaseModel):
    candidate: Candidate
    review: ReviewOut


class AuditOut(BaseModel):
    id: int
    at: str | None
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    origin_county_code: str | None
    destination_county_code: str | None
    before: dict | None
    after: dict | None


class AuditPage(BaseModel):
    items: list[AuditOut]
    numberMatched: int
    numberReturned: int
    links: list[dict]


def _page(request: Request, limit: int | None) -> int:
    s = request.app.state.settings
    return min(limit or s.default_limit, s.max_limit)


def _links(request: Request, offset: int, page: int, matched: int) -> list[dict]:
    links = [{"href": str(request.url), "rel": "self", "type": "application/json"}]
    if offset + page < matched:
        links.append({"href": str(request.url.include_query_params(offset=offset + page, limit=page)), "rel": "next",
                      "type": "application/json"})
    if offset > 0:
        links.append({"href": str(request.url.include_query_params(offset=max(0, offset - page), limit=page)),
                      "rel": "prev", "type": "application/json"})
    return links


@router.get("/transfer-candidates", response_model=CandidatePage, summary="Transfer candidates in your offices")
def list_transfer_candidates(
    request: Request,
    user: ReviewerUser,
    db: DbDep,
    status: Annotated[Literal["pending", "approved", "rejected", "needs_info"] | None, Query()] = None,
    county: Annotated[str | None, Query(pattern=COUNTY_PATTERN, description="origin or destination county")] = None,
    origin_county_code: Annotated[str | None, Query(pattern=COUNTY_PATTERN)] = None,
    destination_county_code: Annotated[str | None, Query(pattern=COUNTY_PATTERN)] = None,
    park_id: Annotated[str | None, Query(max_length=64)] = None,
    enterprise_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = None,
    offset: Offset = 0,
):
    page = _page(request, limit)
    rows, total = reviews.list_candidates(
        db, user, filters={"status": status, "origin_county_code": origin_county_code,
                           "destination_county_code": destination_county_code, "park_id": park_id,
                           "enterprise_id": enterprise_id},
        county=county, limit=page, offset=offset, with_snapshot=False)
    items = [reviews.candidate_public(c) for c in rows]
    return {"items": items, "numberMatched": total, "numberReturned": len(items),
            "links": _links(request, offset, page, total)}


Office = Annotated[str | None, Query(pattern=COUNTY_PATTERN, description="one of your offices (default: all of them)")]


_OFFICE_404: dict[int | str, dict[str, Any]] = {404: {"description": "an office that is not one of yours"}}


@router.get("/transfer-candidates/decisions.csv", summary="Your offices' decisions as CSV (UTF-8 with BOM)",
            response_class=Response, responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
                                                **_OFFICE_404})
def decisions_csv(user: ReviewerUser, db: DbDep, ds: DatasetDep, office: Office = None):
    rows = reviews.office_decisions(db, user, office)
    names = _county_names(ds)
    return Response(exports.decisions_csv(rows, names), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": _attachment(_decisions_name(user, office, names, "csv"))})


@router.get("/transfer-candidates/decisions.xlsx", summary="Your offices' decisions as an Excel workbook",
            response_class=Response,
            responses={200: {"content": {exports.XLSX: {"schema": {"type": "string", "format": "binary"}}}},
                       **_OFFICE_404})
def decisions_xlsx(request: Request, user: ReviewerUser, db: DbDep, ds: DatasetDep, office: Office = None):
    names = _county_names(ds)
    return Response(decisions_xlsx_bytes(request.app.state.parkplan, db, user, office, names), media_type=exports.XLSX,
                    headers={"Content-Disposition": _attachment(_decisions_name(user, office, names, "xlsx"))})


def decisions_xlsx_bytes(state: AppState, db, user, office: str | None, names: dict[str, str]) -> bytes:
    """The decisions workbook of ``user``'s offices (or ``office``), kept per process (``state.pages``) by dataset
    version, the user's scope (admin, or its offices), ``office`` and :func:`api.reviews.office_decisions_mark` of
    that scope (the last review id and the number of reviews): a decision, made through any worker, changes the
    mark, so the next download is made anew. Otherwise the workbook is the same rows: it is made once (openpyxl,
    about 13 ms of CPU for an office's few dozen decisions) instead of on every download."""
    mark = reviews.office_decisions_mark(db, user, office)  # 404 for an office not among the user's
    scope = ("admin",) if user.is_admin else tuple(sorted(user.offices))
    key = state.key("decisions_xlsx", scope, office, *mark)
    return state.pages.get_or_compute(key, lambda: exports.decisions_xlsx(
        reviews.office_decisions(db, user, office), names))


_BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def _county_names(ds: Dataset) -> dict[str, str]:
    counties = ds.counties
    return dict(zip(counties["code"].astype(str), counties["name"].astype(str)))


def _decisions_name(user, office: str | None, names: dict[str, str], ext: str) -> str:
    """``<office name>-审核决定-<date in Beijing>.<ext>``: the office asked for, else the user's only office,
    else 全部 (every office of an admin or of a multi-office token)."""
    code = office or (next(iter(user.offices)) if len(user.offices) == 1 else None)
    who = names.get(code, code) if code else None
    return exports.decisions_filename(who, dt.datetime.now(_BEIJING).date(), ext)


def _attachment(name: str) -> str:
    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _detail(db, c) -> dict:
    out = reviews.candidate_public(c, snapshot=True)
    out["reviews"] = [reviews.review_public(r) for r in reviews.candidate_reviews(db, c.candidate_id)]
    return out


@router.get("/transfer-candidates/{candidate_id}", response_model=CandidateDetail,
            summary="One candidate with its frozen snapshot and review history (ETag)",
            responses={200: {"description": "the candidate", "headers": _ETAG_HEADER}})
def get_transfer_candidate(candidate_id: CandidateId, user: ReviewerUser, db: DbDep, response: Response):
    c = reviews.get_candidate(db, user, candidate_id)
    response.headers["ETag"] = reviews.etag(c)
    response.headers["Cache-Control"] = "no-store"
    return _detail(db, c)


@router.get("/transfer-candidates/{candidate_id}/reviews", response_model=list[ReviewOut],
            summary="A candidate's decisions, oldest first")
def list_reviews(candidate_id: CandidateId, user: ReviewerUser, db: DbDep):
    c = reviews.get_candidate(db, user, candidate_id)
    return [reviews.review_public(r) for r in reviews.candidate_reviews(db, c.candidate_id)]


@router.post("/transfer-candidates/{candidate_id}/reviews", response_model=ReviewResult, status_code=201,
             summary="Decide on a candidate (If-Match: its ETag, or a version field; stale -> 412)",
             responses={201: {"description": "the decision, recorded", "headers": _ETAG_HEADER},
                        412: {"description": "the version decided on is not the current one, or If-Match names no "
                                             "strong entity tag of it (weak tags never match); nothing was changed",
                              "headers": _ETAG_HEADER},
                        428: {"description": "neither If-Match nor a version field, or If-Match: *"},
                        503: {"description": "the review database stayed busy; nothing was changed, send it again "
                                             "after Retry-After seconds",
                              "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}})
def post_review(
    request: Request,
    candidate_id: CandidateId,
    body: ReviewIn,
    user: ReviewerUser,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=200,
                                    description='the candidate\'s ETag as GET returned it ("TC-....v3"), or send a '
                                                "version field instead. Compared strongly (RFC 9110): a weak tag "
                                                "(W/...) or a value naming no entity tag never matches (412)")] = None,
):
    out = reviews.decide(request.app.state.engine, user, candidate_id, decision=body.decision, comment=body.comment,
                         if_match=if_match, version=body.version)
    sheet_decided(request.app.state.parkplan, candidate_id, out.candidate["version"])
    response.headers["ETag"] = out.etag
    return {"candidate": out.candidate, "review": out.review}


@router.get("/transfer-candidates/{candidate_id}/sheet.pdf", summary="The candidate's review sheet (PDF, Chinese)",
            response_class=Response,
            responses={200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
def review_sheet(candidate_id: CandidateId, user: ReviewerUser, db: DbDep, state: StateDep):
    c = reviews.get_candidate(db, user, candidate_id)  # the office scope: another office's candidate is 404
    pdf = sheet_pdf(state, c.candidate_id, c.version, lambda: _detail(db, c))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": _attachment(f"review-{c.candidate_id}.pdf"),
                             "ETag": reviews.etag(c), "Cache-Control": "no-store"})


# ---------------------------------------------------------------- the review sheet's cache
# A sheet follows from the candidate's stored state, which only a decision changes (and a decision makes a new
# version): the bytes are kept by dataset version, candidate id, version and language (state.sheets, per worker
# process). A decision starts the new version's sheet in the background (the sheet is printed and signed after
# deciding) and forgets the old ones. Decisions themselves are never cached: they are written by api.reviews.


def sheet_key(state: AppState, candidate_id: str, version: int) -> tuple:
    return state.key("sheet", candidate_id, int(version), exports.SHEET_LANG)


def _basemap(state: AppState) -> dict:
    return state.web.get_or_compute(state.key("sheet_basemap"), lambda: exports.sheet_basemap(state.dataset))


def _static(state: AppState) -> dict:
    """What every sheet of the dataset draws (:func:`api.exports.sheet_static`), made once per dataset version."""
    return state.web.get_or_compute(state.key("sheet_static"),
                                    lambda: exports.sheet_static(state.dataset, _basemap(state)))


def warm_sheets(state: AppState) -> None:
    """For the start-up warm-up: the sheets' county paths and characters, and the font cut from them; with a sheet
    process (:mod:`api.sheet_process`), the child is started and given them (so the first sheet only draws)."""
    from geodata.fonts import truetype_subset

    if state.sheet_process is not None:
        state.sheet_process.warm(state.dataset_version, _static(state))
    else:
        truetype_subset(_basemap(state)["chars"])
    SHEETS_AFTER_DECISIONS.start()


def make_sheet(state: AppState, candidate: dict) -> bytes:
    """The PDF of ``candidate`` (the API's detail dict): in the sheet process if the state has one (the server's
    thread waits without the interpreter's lock), else here; the same bytes either way."""
    places = exports.sheet_places(candidate, state.dataset)
    if state.sheet_process is not None:
        try:
            return state.sheet_process.render(state.dataset_version, candidate, places, lambda: _static(state))
        except (BrokenProcessPool, CancelledError, OSError) as exc:  # the child died or could not start
            print(f"parkplan: the review sheet process failed ({type(exc).__name__}: {exc}); "
                  "making the sheet in the server", flush=True)
    return exports.render_review_sheet(candidate, _static(state), places)


def sheet_pdf(state: AppState, candidate_id: str, version: int, detail) -> bytes:
    """The review sheet of ``candidate_id`` at ``version``: from the cache, else made now from ``detail()``
    (the candidate as ``GET /transfer-candidates/{id}`` returns it, read at that version). A sheet being made
    in the background (after a decision) is waited for, not made twice."""
    def make() -> bytes:
        return make_sheet(state, detail())

    try:
        return state.sheets.get_or_compute(sheet_key(state, candidate_id, version), make)
    except _VersionMoved:  # joined a background computation that found a newer decision: make this version's here
        return make()


class _VersionMoved(RuntimeError):
    """The candidate changed again before its sheet was made in the background: nothing is kept."""


class BackgroundRunner:
    """One long-lived daemon thread that runs what is handed to it, one after the other: a decision's new review
    sheet is started through it, so that the decision's request only puts a function in a queue.

    Starting a thread per decision (``LockedCache.future``'s default) made the request wait in
    ``Thread.start()`` until the new thread had taken the interpreter's lock and signalled that it runs: 3 ms
    at the median and up to 19 ms of a decision's POST with 8 users on one core (``python -m
    benchmarks.trace_decision --pin``). The sheets are made one at a time anyway (one sheet process)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pending = 0  # handed over and not yet finished

    def __call__(self, fn: Callable[[], None]) -> None:
        with self._lock:
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
        self._queue.put(fn)

    def start(self) -> None:
        """Start the thread now (the warm-up), so that the first decision does not."""
        self(lambda: None)

    def idle(self) -> bool:
        """Nothing handed over is waiting or running."""
        with self._lock:
            return self._pending == 0

    def _loop(self) -> None:
        while True:
            fn = self._queue.get()
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - the runner outlives one failed job
                print(f"parkplan: {self.name}: {type(exc).__name__}: {exc}", flush=True)
            finally:
                with self._lock:
                    self._pending -= 1


#: the process's runner of the new review sheets after decisions (every app state of the process uses it)
SHEETS_AFTER_DECISIONS = BackgroundRunner("parkplan-sheet-after-decision")


def sheet_decided(state: AppState, candidate_id: str, version: int) -> None:
    """After a decision (API or web page): forget the candidate's older sheets and start the new version's (on
    :data:`SHEETS_AFTER_DECISIONS`: the request does not wait for a thread to start)."""
    state.sheets.discard_where(lambda k: isinstance(k, tuple) and k[1:3] == ("sheet", candidate_id)
                               and k[3] != int(version))

    def detail() -> dict:
        with state.sessions() as db:
            c = db.get(TransferCandidate, candidate_id)
            if c is None or c.version != int(version):  # a newer decision came first: its own sheet is made
                raise _VersionMoved(candidate_id)
            return _detail(db, c)

    state.sheets.future(sheet_key(state, candidate_id, version), lambda: make_sheet(state, detail()),
                        start=SHEETS_AFTER_DECISIONS)


@router.get("/audit-log", response_model=AuditPage, tags=["audit"],
            summary="Audit log: every change, who, when, before and after (admins: all; offices: their own)")
def audit_log(
    request: Request,
    user: ReviewerUser,
    db: DbDep,
    candidate_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = None,
    offset: Offset = 0,
):
    page = _page(request, limit)
    rows, total = reviews.list_audit(db, user, candidate_id=candidate_id, limit=page, offset=offset)
    items = [reviews.audit_public(a) for a in rows]
    return {"items": items, "numberMatched": total, "numberReturned": len(items),
            "links": _links(request, offset, page, total)}
