"""``/ui/review``: an office's transfer candidates (its own only, pending first, filters, counts by
status) and one candidate's page (enterprise, proposed park on a map, the frozen score breakdown, the
second-best alternative, the history) with approve / reject / ask-for-information.

Reads and writes go through :mod:`api.reviews`, the same functions as the API: the office scope
(another office's candidate is 404), and the optimistic version check. The decision form carries the
version the reviewer saw; if someone decided first, :func:`api.reviews.decide` refuses with 412 and
the page says so and shows the decision that stands, instead of overwriting it.

The decision is submitted in place by ``static/review.js`` (a ``fetch`` with the header
:data:`FRAGMENT_HEADER`): the answer is then the candidate's decision card alone
(the block ``decision_card`` of the page's own template, with the saved / error / conflict message inside it), and the page swaps it in; without JavaScript the form posts, and a stored decision is
answered with a 303 to the candidate's page (as before).
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy import func, select

from .. import reviews
from ..auth import Principal
from ..db import DECISIONS, STATUSES, DatabaseBusy, TransferCandidate
from ..deps import scope_filter
from ..problems import BUSY_RETRY_AFTER_S, NotFound, PreconditionFailed, ProblemError, problem_text
from ..routes.transfers import sheet_decided
from ..state import AppState
from . import backend
from .core import TEMPLATES, page_context, page_error, render, secure_headers, url_with
from . import error_pages as _error_pages  # noqa: F401 - registers the busy page's words (db_busy)
from . import i18n
from .i18n import DEFAULT_LANG, pick_lang, translator

i18n.MESSAGES.setdefault("retry_in_card", ("请 {seconds} 秒后再提交一次（您填写的内容仍在表单中）。",
                                           "Please submit again in {seconds} seconds (what you typed is still in the form)."))

router = APIRouter()

PAGE_SIZE = 200
#: the request header of the in-place submit (``static/review.js``), and of its answer: the decision card alone
FRAGMENT_HEADER = "X-Parkplan-Fragment"
FRAGMENT_DECISION = "decision"
EXPORT_XLSX = "/transfer-candidates/decisions.xlsx"
REVIEW_SHEET = "/transfer-candidates/{id}/sheet.pdf"


def status_counts(db, user) -> dict[str, int]:
    return status_counts_mark(db, user)[0]


def status_counts_mark(db, user) -> tuple[dict[str, int], tuple[int, ...]]:
    """The user's candidates counted by status, and a mark of their state: per status the count and the sum of
    the versions. A decision raises one candidate's version by one (and is the only change of a stored
    candidate); a proposal adds candidates: either changes the mark, so a view of the list kept under it is
    never shown after a change (read the mark before the view, so the view is at least as new as its mark)."""
    q = (select(TransferCandidate.status, func.count(), func.sum(TransferCandidate.version)).where(
        scope_filter(user, TransferCandidate.origin_county_code, TransferCandidate.destination_county_code))
        .group_by(TransferCandidate.status))
    got = {s: (int(n), int(v or 0)) for s, n, v in db.execute(q).all()}
    counts = {s: got.get(s, (0, 0))[0] for s in STATUSES}
    return counts, tuple(x for s in STATUSES for x in got.get(s, (0, 0)))


def resolve_county(query: str, names: dict[str, str]) -> tuple[str | None, bool]:
    """A county filter as typed: a 6-digit code, a county's name (海宁市) or its name without the suffix
    (海宁). Returns ``(code or None, unknown)``; ``unknown`` when the text names no county."""
    if not query:
        return None, False
    if query.isdigit() and len(query) == 6:
        return query, False
    exact = [c for c, n in names.items() if n == query]
    if len(exact) == 1:
        return exact[0], False
    prefix = [c for c, n in names.items() if n.startswith(query)]
    if len(prefix) == 1:
        return prefix[0], False
    return None, True


def _county_names(request: Request | AppState) -> dict[str, str]:
    def compute():
        ds = backend.dataset(request)
        return dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))

    return backend.cached(request, "review_county_names", compute)


def _park_names(request: Request | AppState) -> dict[str, str]:
    def compute():
        ds = backend.dataset(request)
        return dict(zip(ds.parks["park_id"].astype(str), ds.parks["name"].astype(str)))

    return backend.cached(request, "review_park_names", compute)


def _enterprise_names(request: Request | AppState) -> dict[str, str]:
    def compute():
        ent = backend.dataset(request).enterprises
        return dict(zip(ent["enterprise_id"].astype(str), ent["name"].astype(str)))

    return backend.cached(request, "enterprise_names", compute)


def _frozen_names(request: Request | AppState, db, ids: list[str]) -> dict[str, tuple[str, str]]:
    """The enterprise and park names frozen in each candidate's snapshot, by candidate id. A snapshot never changes
    (a changed proposal is a new candidate id), so the names are read from the database once per candidate and
    kept, instead of decoding every listed snapshot on every visit of the list."""
    known = backend.cached(request, "candidate_frozen_names", dict)
    missing = [i for i in ids if i not in known]
    if missing:
        q = select(TransferCandidate.candidate_id, TransferCandidate.snapshot).where(
            TransferCandidate.candidate_id.in_(missing))
        for cid, snap in db.execute(q).all():
            snap = snap or {}
            known[cid] = (str((snap.get("enterprise") or {}).get("name") or ""),
                          str((snap.get("park") or {}).get("name") or ""))
    return {i: known[i] for i in ids if i in known}


def _render_row(template, ctx: dict[str, Any], item: dict[str, Any]) -> Markup:
    return Markup(template.render(ctx, c=item))


def _row_html(request: Request | AppState, items: list[dict], lang: str, t) -> None:
    """Each listed candidate's table row (``review_list_row.html``, escaped as the page) as ``item["row_html"]``.
    A row follows from the candidate's version (a decision makes a new one; its names are frozen or the dataset's)
    and the language, so it is rendered once per (dataset version, candidate, version, language) and kept
    (``AppState.review_rows``): a visit of the list renders only the rows that changed since. ``request``: the
    app's state at the warm-up (the default language only: its links carry no ``lang``)."""
    state = backend.state_of(request)
    template = TEMPLATES.get_template("review_list_row.html")
    if isinstance(request, AppState):
        if lang != DEFAULT_LANG:
            raise ValueError(f"the review rows are warmed in the default language {DEFAULT_LANG!r} only, not {lang!r}")
        url = _default_lang_url
    else:
        url = partial(url_with, request)
    ctx = {"t": t, "url": url}
    for it in items:
        key = state.key("review_row", it["candidate_id"], int(it["version"]), lang)
        it["row_html"] = state.review_rows.get_or_compute(key, partial(_render_row, template, ctx, it))


def _default_lang_url(path: str, **params: Any) -> str:
    """:func:`api.web.core.url_with` for a request in the default language (no ``lang`` kept)."""
    q = {k: v for k, v in params.items() if v is not None and v != ""}
    return path + ("?" + urlencode(q, doseq=True) if q else "")


def _named(where: Request | AppState, db, rows: list[dict[str, Any]]) -> None:
    """The listed rows' enterprise, park and county names (the frozen ones of the snapshot first)."""
    cn, pn, en = _county_names(where), _park_names(where), _enterprise_names(where)
    frozen = _frozen_names(where, db, [it["candidate_id"] for it in rows])
    for it in rows:
        ename, pname = frozen.get(it["candidate_id"], ("", ""))
        it["enterprise_name"] = ename or en.get(it["enterprise_id"], "")
        it["park_name"] = pname or pn.get(it["park_id"], "")
        it["origin_name"] = cn.get(it["origin_county_code"], it["origin_county_code"])
        it["destination_name"] = cn.get(it["destination_county_code"], it["destination_county_code"])


#: the most candidates whose rows the start-up warm-up renders (pending first, as the list orders them)
WARM_ROWS = 5000


def warm(state: AppState, lang: str = DEFAULT_LANG) -> int:
    """For the start-up warm-up (each worker process): the frozen names and the list's row of every stored candidate
    (up to :data:`WARM_ROWS`) in the default language, so that no reviewer's first visit of the list renders 200 rows
    in this worker. Returns how many rows are kept."""
    admin = Principal(token_id=0, label="warm-up", role="admin")
    with state.sessions() as db:
        rows, _ = reviews.list_candidate_dicts(db, admin, filters={}, limit=WARM_ROWS, offset=0)
        _named(state, db, rows)
    _row_html(state, rows, lang, translator(lang))
    return len(rows)


@router.get("/ui/review", include_in_schema=False)
def review_list(request: Request, user: backend.ReviewerPage, status: str | None = None, county: str | None = None, park_id: str | None = None,
                offset: int = 0):
    status = status if status in STATUSES else None
    cn = _county_names(request)
    county_query = (county or "").strip()
    county, county_error = resolve_county(county_query, cn)
    filters = {"status": status, "park_id": park_id or None}
    state = backend.state_of(request)
    offset = max(int(offset), 0)
    with request.app.state.sessions() as db:
        counts, mark = status_counts_mark(db, user)  # first: the listed rows are at least as new as the mark

        def listed() -> tuple[list[dict[str, Any]], int]:
            if county_error:
                return [], 0
            rows, total = reviews.list_candidate_dicts(db, user, filters=filters, limit=PAGE_SIZE, offset=offset,
                                                       county=county)
            _named(request, db, rows)
            return rows, total

        # the page's rows, kept per process by the user's scope, the filters, the page and the mark of the scope's
        # candidates (a decision through any worker changes it): a visit with nothing changed reads only the mark
        scope = ("admin",) if user.is_admin else tuple(sorted(user.offices))
        key = state.key("review_list", scope, status, park_id or None, county, bool(county_error), offset, PAGE_SIZE,
                        mark)
        rows, total = state.pages.get_or_compute(key, listed)
    items = [dict(it) for it in rows]  # row_html is set per language on the page's own copies
    lang = pick_lang(request.query_params.get("lang"))
    t = translator(lang)
    _row_html(request, items, lang, t)
    offices = sorted(user.offices) if not user.is_admin else []
    return render(request, "review_list.html", {
        "items": items, "total": total, "counts": counts, "statuses": STATUSES,
        "f": {"status": status or "", "county": county_query, "park_id": park_id or ""},
        "county_error": t("county_unknown", query=county_query) if county_error else None,
        "county_names": sorted(set(cn.values())),
        "offices": [{"code": o, "name": cn.get(o, o)} for o in offices],
        "export_url": url_with(request, EXPORT_XLSX),
        "offset": offset,
        "prev_url": url_with(request, "/ui/review", status=status, county=county_query or None, park_id=park_id,
                             offset=max(offset - PAGE_SIZE, 0)) if offset > 0 else None,
        "next_url": url_with(request, "/ui/review", status=status, county=county_query or None, park_id=park_id,
                             offset=offset + PAGE_SIZE) if offset + PAGE_SIZE < total else None,
    }, user=user)


def _candidate_view(request: Request, user, candidate_id: str) -> dict | None:
    with request.app.state.sessions() as db:
        try:
            c = reviews.get_candidate(db, user, candidate_id)
        except NotFound:
            return None
        cand = reviews.candidate_public(c, snapshot=True)
        history = [reviews.review_public(r) for r in reviews.candidate_reviews(db, candidate_id)]
    snap = cand.pop("snapshot") or {}
    cn, pn, en = _county_names(request), _park_names(request), _enterprise_names(request)
    ent = dict(snap.get("enterprise") or {})
    ent.setdefault("enterprise_id", cand["enterprise_id"])
    ent.setdefault("name", en.get(cand["enterprise_id"], ""))
    park = dict(snap.get("park") or {})
    park.setdefault("park_id", cand["park_id"])
    park.setdefault("name", pn.get(cand["park_id"], ""))
    criteria = _breakdown(snap)
    alternatives = [a for a in (snap.get("alternatives") or snap.get("ranked") or []) if isinstance(a, dict)]
    second = (snap.get("second_best") or snap.get("alternative")
              or next((a for a in alternatives if str(a.get("park_id")) != cand["park_id"]), None))
    if isinstance(second, dict):
        second = dict(second)
        second.setdefault("name", pn.get(str(second.get("park_id")), ""))
    return {
        "cand": cand, "enterprise": ent, "park": park, "criteria": criteria, "second": second,
        "excluded": snap.get("excluded") or [], "history": history, "snapshot_score": snap.get("score", cand.get("score")),
        "origin_name": cn.get(cand["origin_county_code"], cand["origin_county_code"]),
        "destination_name": cn.get(cand["destination_county_code"], cand["destination_county_code"]),
        "decisions": DECISIONS,
        "sheet_url": url_with(request, REVIEW_SHEET.format(id=candidate_id)),
        "map_url": url_with(request, "/maps/transfers", candidate_id=candidate_id),
    }


#: seconds between a decision and the start of its new review sheet in the background when the sheet is made in a
#: thread of this process (``PARKPLAN_SHEET_PROCESS=0``): the browser follows the decision's 303 to the candidate
#: page at once, and the sheet (a fifth of a second of CPU, under the GIL) would otherwise be made while that page
#: is answered. A sheet asked for sooner is made on request. With the sheet process (the default), the sheet is
#: started at once: it runs in another process, at a lower priority, and holds no lock of this one.
SHEET_DELAY_S = 1.0


def _sheet_after(state, candidate_id: str, version: int) -> None:
    """The older versions' sheets are forgotten now; the new version's is started now (sheet process) or after
    :data:`SHEET_DELAY_S` (in a thread)."""
    if state.sheet_process is not None:
        sheet_decided(state, candidate_id, version)
        return
    state.sheets.discard_where(lambda k: k[1:3] == ("sheet", candidate_id) and k[3] != version)
    timer = threading.Timer(SHEET_DELAY_S, sheet_decided, args=(state, candidate_id, version))
    timer.daemon = True
    timer.name = "parkplan-sheet-after-decision"
    timer.start()


def _breakdown(snap: dict) -> list[dict]:
    """The frozen per-criterion rows, whichever of the usual shapes the snapshot keeps them in."""
    crit = snap.get("criteria") or snap.get("breakdown") or (snap.get("best") or {}).get("criteria") or {}
    if isinstance(crit, dict):
        return [dict(v, criterion=k) if isinstance(v, dict) else {"criterion": k, "contribution": v} for k, v in crit.items()]
    if isinstance(crit, list):
        return [dict(r) for r in crit if isinstance(r, dict)]
    return []


def _wants_fragment(request: Request) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == FRAGMENT_DECISION


def _show(request: Request, user, candidate_id: str, *, conflict: dict | None = None, saved: bool = False,
          status_code: int = 200, error: str | None = None, typed: dict | None = None):
    """The candidate's page; ``typed`` (the decision and comment the reviewer submitted) fills the form
    again when the decision was not stored (a conflict, a missing choice or confirmation). Asked by the in-place
    submit (:data:`FRAGMENT_HEADER`), the decision card alone, with its message inside it."""
    view = _candidate_view(request, user, candidate_id)
    if view is None:
        return page_error(request, 404, "not_found", user=user)
    context = {**view, "conflict": conflict, "saved": saved, "error": error,
               "typed": typed or {"decision": "", "comment": ""}}
    if _wants_fragment(request):
        page = TEMPLATES.get_template("review_candidate.html")  # its block decision_card alone
        html = "".join(page.blocks["decision_card"](page.new_context(page_context(request, {**context, "fragment": True},
                                                                                 user))))
        resp = HTMLResponse(html, status_code=status_code, headers={FRAGMENT_HEADER: FRAGMENT_DECISION})
        secure_headers(resp)
        return resp
    return render(request, "review_candidate.html", context, status_code=status_code, user=user)


@router.get("/ui/review/{candidate_id}", include_in_schema=False)
def review_candidate(request: Request, user: backend.ReviewerPage, candidate_id: str, saved: int = 0):
    return _show(request, user, candidate_id, saved=bool(saved))


@router.post("/ui/review/{candidate_id}", include_in_schema=False)
def review_decide(request: Request, candidate_id: str, post: backend.ReviewerPost):
    user, form = post.user, post.form
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        return _show(request, user, candidate_id, status_code=400, error="bad_request")
    decision = str(form.get("decision") or "")
    comment = str(form.get("comment") or "")[:4000]
    typed = {"decision": decision, "comment": comment}
    t = translator(pick_lang(request.query_params.get("lang")))
    if decision not in DECISIONS:  # nothing is preselected: the reviewer must choose
        return _show(request, user, candidate_id, status_code=400, error=t("decision_choose"), typed=typed)
    seen = str(form.get("seen_status") or "pending")
    if seen != "pending" and form.get("confirm_replace") != "yes":
        # the page showed a decided candidate: replacing its decision needs the box ticked
        return _show(request, user, candidate_id, status_code=400, typed=typed,
                     error=t("decision_confirm_replace", current=t("status_" + seen) if seen in STATUSES else seen))
    try:
        out = reviews.decide(request.app.state.engine, user, candidate_id, decision=decision, comment=comment,
                             if_match=None, version=version)
    except NotFound:
        return page_error(request, 404, "not_found", user=user)
    except PreconditionFailed as exc:
        current = dict(exc.extra.get("current") or {})
        with request.app.state.sessions() as db:
            last = reviews.candidate_reviews(db, candidate_id)
        current["last_review"] = reviews.review_public(last[-1]) if last else None
        # 200, not 409: the page itself is the answer (the conflict and the standing decision); a
        # browser would log an error status as a console error
        return _show(request, user, candidate_id, conflict=current, typed=typed)
    except ProblemError as exc:  # in the page's language (its detail_zh, else the kind in Chinese, English quoted)
        return _show(request, user, candidate_id, status_code=400, typed=typed,
                     error=problem_text(exc, pick_lang(request.query_params.get("lang"))))
    except DatabaseBusy:
        if not _wants_fragment(request):
            raise  # the form's page: the busy database's 503 page (api.web.error_pages)
        # in place: the card says it (nothing saved, the form as typed), so the page's script shows it instead of
        # posting the form once more (which would wait the whole patience again)
        resp = _show(request, user, candidate_id, status_code=503, typed=typed,
                     error=("" if pick_lang(request.query_params.get("lang")) == "zh" else " ").join(
                         [t("db_busy"), t("retry_in_card", seconds=BUSY_RETRY_AFTER_S)]))
        resp.headers["Retry-After"] = str(BUSY_RETRY_AFTER_S)
        return resp
    _sheet_after(request.app.state.parkplan, candidate_id, int(out.candidate["version"]))
    if _wants_fragment(request):  # the in-place submit: the card with the stored decision, read back
        return _show(request, user, candidate_id, saved=True)
    return RedirectResponse(url_with(request, f"/ui/review/{candidate_id}", saved=1), status_code=303)
