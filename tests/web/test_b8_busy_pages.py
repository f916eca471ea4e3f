"""A busy review database, and every other refusal raised inside a ``/ui`` handler, answers a browser with the
workspace's page (Chinese; ``lang=en`` English), never problem+json; the JSON API keeps problem+json.

The database is really busy: another SQLite connection holds a write transaction (``BEGIN IMMEDIATE`` and an
uncommitted ``UPDATE`` of the very candidate) while the decision is posted; the app's engine is given a short patience
through its settings (``PARKPLAN_DB_PATIENCE_S`` / ``PARKPLAN_DB_BUSY_MS``: :class:`api.settings.Settings`), so
:func:`api.db.write_transaction` really retries and gives up with :class:`api.db.DatabaseBusy`. Nothing is mocked.
In headless chromium, the candidate page's in-place submit (``static/review.js``: ``fetch`` with
``X-Parkplan-Fragment: decision``) gets the decision card saying so (503), shown in place with the form as typed,
and no second post; the plain form (no script) ends on the Chinese 503 page; nothing is stored and the candidate's
version is unchanged; the same decision later is stored."""

from __future__ import annotations

import re
import sqlite3
import time
from html import unescape

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from .conftest import csrf_of, login_client, own_review_app

PROBLEM = "application/problem+json"
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
BUSY_ZH = "审核数据库正忙，本次提交没有保存任何内容。"
BUSY_EN = "The review database is busy: nothing was saved."
PATIENCE_S = 0.4
_MESSAGE = re.compile(r'<p id="message">(.*?)</p>', re.S)
_DETAIL = re.compile(r'<p class="detail">(.*?)</p>', re.S)


class WriteTransaction:
    """Another connection in the middle of a write transaction: ``BEGIN IMMEDIATE`` (SQLite's write lock) and an
    uncommitted update of the candidate, rolled back by :meth:`end` (so it changes nothing either)."""

    def __init__(self, path, candidate_id: str) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("UPDATE transfer_candidates SET last_comment = 'another writer' WHERE candidate_id = ?",
                          (candidate_id,))
        self.open = True

    def end(self) -> None:
        if self.open:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.open = False


@pytest.fixture(scope="module")
def busy(hostile_dataset_path, tmp_path_factory):
    """An app of its own whose engine has a short write patience (its settings), one office's candidates, a
    reviewer's token, and a probe router under ``/ui`` raising each kind of refusal from inside a handler."""
    from api.settings import Settings

    busy = own_review_app(hostile_dataset_path, tmp_path_factory.mktemp("busy") / "reviews.sqlite", "busy", 701,
                          settings=Settings.from_env(db_patience_s=PATIENCE_S, db_busy_timeout_ms=50))
    busy.app.include_router(_probe_router())
    return busy


def _stored(busy, cid: str) -> tuple:
    """(status, version, last_comment, reviews, review audit entries) of a candidate, read from the database."""
    from sqlalchemy import func, select

    from api.db import AuditEntry, Review, TransferCandidate

    with busy.app.state.sessions() as db:
        c = db.get(TransferCandidate, cid)
        reviews = db.execute(select(func.count()).select_from(Review).where(Review.candidate_id == cid)).scalar_one()
        audits = db.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_id == cid, AuditEntry.action == "review")).scalar_one()
        return c.status, c.version, c.last_comment, reviews, audits


def _page(r, status: int) -> tuple[str, str]:
    assert r.status_code == status, (r.status_code, r.text[:800])
    assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
    assert "content-security-policy" in r.headers
    m, d = _MESSAGE.search(r.text), _DETAIL.search(r.text)
    assert m, r.text[:2000]
    return unescape(m.group(1)).strip(), unescape(d.group(1)).strip() if d else ""


def _form(client, cid: str, lang: str | None = None) -> dict[str, str]:
    page = client.get(f"/ui/review/{cid}", params={"lang": lang} if lang else None)
    assert page.status_code == 200
    m = re.search(r'name="version" value="(\d+)"', page.text)
    assert m, page.text[:1000]
    version = m.group(1)
    return {"csrf_token": csrf_of(page.text), "version": version, "seen_status": "pending", "decision": "approved",
            "comment": HOSTILE}


# ------------------------------------------------------------------------------------- the busy database
def test_a_decision_posted_while_another_writer_holds_the_database_is_the_chinese_503_page(busy):
    c = login_client(busy.app, busy.token)
    cid = busy.candidates[0]
    form = _form(c, cid)
    etag = c.get(f"/transfer-candidates/{cid}", headers={"Authorization": f"Bearer {busy.token}"}).headers["ETag"]
    before = _stored(busy, cid)
    lock = WriteTransaction(busy.path, cid)
    try:
        t0 = time.monotonic()
        r = c.post(f"/ui/review/{cid}", data=form, follow_redirects=False)
        waited = time.monotonic() - t0
        en = c.post(f"/ui/review/{cid}?lang=en", data=form, follow_redirects=False)
        # as review.js sends it: the in-place header, fetch's Accept */*
        fragment = c.post(f"/ui/review/{cid}", data=form, headers={"X-Parkplan-Fragment": "decision", "Accept": "*/*"},
                          follow_redirects=False)
        asks_json = c.post(f"/ui/review/{cid}", data=form, headers={"Accept": "application/json"},
                           follow_redirects=False)
        api = c.post(f"/transfer-candidates/{cid}/reviews", json={"decision": "approved", "comment": "x"},
                     headers={"Authorization": f"Bearer {busy.token}", "If-Match": etag})
    finally:
        lock.end()
    assert waited >= PATIENCE_S  # write_transaction retried for its patience before giving up
    message, detail = _page(r, 503)
    assert message == BUSY_ZH and detail == "请 2 秒后重试（返回上一页，再提交一次）。"
    assert r.headers["retry-after"] == "2"
    assert 'id="who"' in r.text  # the reviewer's navigation
    assert "alert(" not in r.text and "&lt;script" not in r.text  # the comment typed is not echoed at all
    message, detail = _page(en, 503)
    assert message == BUSY_EN and detail == "Please try again in 2 seconds (go back and submit once more)."
    assert en.headers["retry-after"] == "2" and '<html lang="en"' in en.text
    # the in-place submit gets the decision card saying it (503, Retry-After, the form as typed, escaped): review.js
    # shows it in place and does not post the form once more (which would wait the whole patience again)
    assert fragment.status_code == 503 and fragment.headers["x-parkplan-fragment"] == "decision"
    assert fragment.headers["retry-after"] == "2" and 'id="decision-card"' in fragment.text
    card_error = unescape(re.search(r'id="review-error"[^>]*>(.*?)</', fragment.text, re.S).group(1)).strip()
    assert card_error == BUSY_ZH + "请 2 秒后再提交一次（您填写的内容仍在表单中）。"
    assert "alert(" in unescape(fragment.text) and "<script>alert(" not in fragment.text  # typed, kept, escaped
    # a client asking for JSON, and the JSON API, keep problem+json with code db.busy and Retry-After
    for j in (asks_json, api):
        assert j.status_code == 503 and j.headers["content-type"].startswith(PROBLEM), j.text[:300]
        assert j.json()["code"] == "db.busy" and j.headers["retry-after"] == "2"
        assert "未做任何更改" in j.json()["detail_zh"]
    # nothing was stored: same status, version, comment; no review, no audit entry
    assert _stored(busy, cid) == before
    # the very same form, once the other writer is done, is stored
    ok = c.post(f"/ui/review/{cid}", data=form, follow_redirects=False)
    assert ok.status_code == 303, ok.text[:500]
    status, version, comment, reviews, audits = _stored(busy, cid)
    assert (status, version, comment, reviews, audits) == ("approved", before[1] + 1, HOSTILE, before[3] + 1,
                                                           before[4] + 1)


def test_the_html_lang_of_the_busy_page_is_chinese_by_default(busy):
    c = login_client(busy.app, busy.token)
    cid = busy.candidates[1]
    form = _form(c, cid)
    lock = WriteTransaction(busy.path, cid)
    try:
        r = c.post(f"/ui/review/{cid}", data=form, follow_redirects=False)
    finally:
        lock.end()
    assert _page(r, 503)[0] == BUSY_ZH and re.search(r'<html lang="zh', r.text)


# ------------------------------------------------------------------------------------- other refusals in /ui
def _probe_router() -> APIRouter:
    """Handlers under ``/ui`` that raise each kind of refusal a page's handler can let escape (the mechanism under
    test is the app's exception handlers and the page hook, so the raising handler may be a probe)."""
    from api.db import DatabaseBusy
    from api.problems import PayloadTooLarge, PreconditionFailed, PreconditionRequired, ProblemError
    from geodata.dataset import DatasetError
    from parks.suitability import UnknownEnterpriseError

    class Conflict(ProblemError):
        status = 409

    router = APIRouter()

    @router.get("/ui/b8-probe/{kind}", include_in_schema=False)
    def probe(kind: str, n: int = 0):
        text = "refused " + HOSTILE
        if kind == "409":
            raise Conflict(text)
        if kind == "412":
            raise PreconditionFailed(text)
        if kind == "413":
            raise PayloadTooLarge(text)
        if kind == "428":
            raise PreconditionRequired(text)
        if kind == "busy":
            raise DatabaseBusy(text, attempts=3, waited_s=1.0)
        if kind == "dataset":
            raise DatasetError("dataset.unknown_layer", value=HOSTILE, accepted="parks")
        if kind == "enterprise":
            raise UnknownEnterpriseError("enterprise.unknown", enterprise_id=HOSTILE)
        if kind == "500":
            raise RuntimeError(text)
        return {"n": n}

    return router


@pytest.mark.parametrize("kind, status, zh, en", [
    ("409", 409, "与当前状态冲突，未做任何更改。", "This conflicts with the current state; nothing was changed."),
    ("412", 412, "内容已被他人修改，本次提交未保存。", "Someone changed this meanwhile; nothing was saved."),
    ("413", 413, "提交的内容过大。", "What was sent is too large."),
    ("428", 428, "提交中缺少版本信息，未做任何更改。",
     "The submission did not say which version it changes; nothing was changed."),
    ("busy", 503, BUSY_ZH, BUSY_EN),
    ("dataset", 400, None, None),
    ("enterprise", 404, None, None),
    ("500", 500, "服务器内部错误。", "Internal server error."),
    ("422", 422, "网址中的参数无效。", "A parameter in the address is not valid."),
])
def test_a_refusal_raised_inside_a_ui_handler_is_a_page_in_the_pages_language(busy, kind, status, zh, en):
    from api.web.i18n import MESSAGES

    c = TestClient(busy.app, raise_server_exceptions=False)
    path = "/ui/b8-probe/422?n=x" if kind == "422" else f"/ui/b8-probe/{kind}"
    r = c.get(path)
    message, detail = _page(r, status)
    if zh is None:  # a domain error: the workspace's generic message of its status (bad_request, page_not_found)
        zh, en = MESSAGES["bad_request" if status == 400 else "page_not_found"]
    assert message == zh, (message, zh)
    if kind in ("dataset", "enterprise"):  # the domain's own Chinese below it, the typed value escaped in it
        from geodata.messages import message as coded_message
        from geodata.dataset import DatasetError
        from parks.suitability import UnknownEnterpriseError

        exc = (DatasetError("dataset.unknown_layer", value=HOSTILE, accepted="parks") if kind == "dataset"
               else UnknownEnterpriseError("enterprise.unknown", enterprise_id=HOSTILE))
        assert detail == coded_message(exc, "zh") and HOSTILE in detail
    assert "<script>alert" not in r.text and "<img src=x" not in r.text  # escaped (or not shown)
    if kind == "busy":
        assert r.headers["retry-after"] == "2"
    if en is not None:
        sep = "&" if "?" in path else "?"
        assert _page(c.get(path + sep + "lang=en"), status)[0] == en
    # asking for JSON: problem+json as before
    j = c.get(path, headers={"Accept": "application/json"})
    assert j.status_code == status and j.headers["content-type"].startswith(PROBLEM)


# ------------------------------------------------------------------------------------- in headless chromium
@pytest.fixture(scope="module")
def busy_server(busy, serve_app):
    return serve_app(busy.app)


@pytest.mark.browser
def test_in_the_browser_a_busy_database_is_said_in_place_and_on_the_forms_503_page(web_browser, busy_server, busy):
    web_browser.run(_in_browser, busy_server, busy)


def _in_place_while_busy(page, busy, cid: str) -> None:
    """Submit the decision in place while another writer holds the database, until the card says so."""
    lock = WriteTransaction(busy.path, cid)
    try:
        page.click("#submit-decision")
        page.wait_for_selector("#decision-card #review-error", timeout=60_000)
    finally:
        lock.end()


def _in_browser(browser, server, busy):
    from .test_browser import Watch, login, new_context

    cid = busy.candidates[2]
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, busy.token)
    page.goto(f"{server}/ui/review/{cid}", wait_until="load")  # the map's frame loaded too, before the lock
    answers: list[dict] = []
    page.on("response", lambda r: answers.append({
        "url": r.url, "status": r.status, "type": r.headers.get("content-type", ""), "method": r.request.method,
        "fragment": r.request.headers.get("x-parkplan-fragment"), "kind": r.request.resource_type,
        "retry": r.headers.get("retry-after")}) if r.request.method == "POST" else None)
    navigations: list[str] = []
    page.on("framenavigated", lambda f: navigations.append(f.url) if f == page.main_frame else None)
    before = _stored(busy, cid)
    page.check("#decision-approved")
    page.fill("#comment", HOSTILE)
    _in_place_while_busy(page, busy, cid)
    # in place: the card says the database was busy and nothing was saved; the form keeps what was typed
    assert page.locator("#review-error").inner_text() == BUSY_ZH + "请 2 秒后再提交一次（您填写的内容仍在表单中）。"
    assert page.locator("#comment").input_value() == HOSTILE
    assert page.locator("#decision-approved").is_checked()
    assert navigations == [] and page.url == f"{server}/ui/review/{cid}"
    posts = [a for a in answers if a["url"] == f"{server}/ui/review/{cid}"]
    assert [(a["kind"], a["fragment"], a["status"], a["retry"]) for a in posts] == [("fetch", "decision", 503, "2")]
    assert _stored(busy, cid) == before  # nothing saved: status, version, comment, reviews, audit
    assert all("503" in e for e in watch.errors), watch.errors  # the fetch's 503, logged by chromium
    watch.errors.clear()
    watch.assert_clean()
    # without the page's script (the plain form, as a browser without JavaScript posts it): the Chinese 503 page
    lock = WriteTransaction(busy.path, cid)
    try:
        with page.expect_navigation(timeout=60_000):
            page.evaluate("() => HTMLFormElement.prototype.submit.call(document.getElementById('decision-form'))")
        page.wait_for_load_state("load")
    finally:
        lock.end()
    assert page.locator("#message").inner_text() == BUSY_ZH
    assert page.locator(".detail").inner_text() == "请 2 秒后重试（返回上一页，再提交一次）。"
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    assert _stored(busy, cid) == before
    watch.errors.clear()
    # English: the in-place card in English
    page.goto(f"{server}/ui/review/{cid}?lang=en", wait_until="load")
    page.check("#decision-approved")
    _in_place_while_busy(page, busy, cid)
    assert page.locator("#review-error").inner_text() == (
        BUSY_EN + " Please submit again in 2 seconds (what you typed is still in the form).")
    assert _stored(busy, cid) == before
    watch.errors.clear()
    # "try again": back on the candidate page, the same decision is now stored (in place)
    page.goto(f"{server}/ui/review/{cid}", wait_until="load")
    page.check("#decision-approved")
    page.fill("#comment", HOSTILE)
    page.click("#submit-decision")
    page.wait_for_selector("#decision-card #saved")
    assert _stored(busy, cid)[:4] == ("approved", before[1] + 1, HOSTILE, before[3] + 1)
    watch.assert_clean()
    ctx.close()
