"""A review sheet a user waits for is not left behind the low-priority sheet child (:class:`api.sheet_process.
SheetClient`): a request for a decided sheet still queued in the background makes it itself (in the normal-priority
child), a request joining a sheet the background child has not answered yet moves it to the normal-priority child;
either way the sheet served is the candidate's current one, byte for byte what the server's own thread makes (but
the creation time), and an older version's sheet finishing late never replaces a newer one in the shared table."""

from __future__ import annotations

import threading
import time

import pytest

from api import exports
from api.routes import transfers

from .test_sheet_process import _details, _pages, _stable


@pytest.fixture
def served_state(dataset_path, candidate_rows, tmp_path):
    from .conftest import Api, _offices, build_app, make_tokens

    app = build_app(dataset_path, f"sqlite:///{tmp_path / 'reviews.sqlite'}", candidate_rows)
    api = Api(app, make_tokens(app, _offices(candidate_rows)))
    yield api, app.state.parkplan
    app.state.parkplan.close()


def _wait_idle(timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not transfers.SHEETS_AFTER_DECISIONS.idle():
        assert time.monotonic() < deadline, "the background sheets did not end"
        time.sleep(0.05)


def _sheet(api, d) -> bytes:
    r = api.get(f"/transfer-candidates/{d['candidate_id']}/sheet.pdf", as_="reviewer_a")
    assert r.status_code == 200 and r.content.startswith(b"%PDF"), r.text[:300]
    return r.content


def test_a_request_makes_a_sheet_still_queued_in_the_background(served_state, dataset):
    api, state = served_state
    [d] = _details(api, 1)
    counts = dict(state.sheet_process.counts)
    ahead = threading.Event()
    # what the runner does before this sheet (other decisions' sheets): held until the request is answered
    transfers.SHEETS_AFTER_DECISIONS(lambda: ahead.wait(120))
    try:
        transfers.sheet_decided(state, d["candidate_id"], d["version"])  # what the decision queues
        pdf = _sheet(api, d)  # answered while the queue ahead of the sheet still waits
        assert not transfers.SHEETS_AFTER_DECISIONS.idle()
    finally:
        ahead.set()
    _wait_idle()
    assert _stable(pdf) == _stable(exports.review_sheet_pdf(d, dataset))
    assert d["candidate_id"] in _pages(pdf)[0][0]
    made = {k: state.sheet_process.counts[k] - counts[k] for k in counts}
    assert made == {"background": 0, "waited": 1, "promoted": 0}  # made once, by the normal-priority child
    assert _sheet(api, d) == pdf  # kept: the next download is the same bytes


def test_a_request_joining_an_unanswered_background_sheet_moves_it(served_state, dataset):
    api, state = served_state
    d, *others = _details(api, 4)
    static = transfers._static(state)
    busy_done = threading.Event()

    def keep_busy() -> None:  # the background child is busy with other sheets (as under load)
        try:
            for o in others:
                state.sheet_process.process.render(state.dataset_version, o, exports.sheet_places(o, state.dataset),
                                                   lambda: static)
        finally:
            busy_done.set()

    state.sheet_process.process.warm(state.dataset_version, static)
    helper = threading.Thread(target=keep_busy, daemon=True)
    helper.start()
    time.sleep(0.3)
    counts = dict(state.sheet_process.counts)
    key = transfers.sheet_key(state, d["candidate_id"], d["version"])
    transfers.sheet_decided(state, d["candidate_id"], d["version"])
    deadline = time.monotonic() + 60
    while getattr(state.sheets._background.get(key), "state", None) != "running":  # sent to the background child
        assert time.monotonic() < deadline and not state.sheets.get(key), "the background sheet did not start"
        time.sleep(0.01)
    pdf = _sheet(api, d)
    _wait_idle()
    helper.join(120)
    assert _stable(pdf) == _stable(exports.review_sheet_pdf(d, dataset))
    made = {k: state.sheet_process.counts[k] - counts[k] for k in counts}
    if busy_done.is_set() and made["background"] == 1:  # pragma: no cover - the child answered before the request
        pytest.skip("the background child answered before the request joined (machine too fast for this race)")
    assert made == {"background": 0, "waited": 1, "promoted": 1}


def test_an_older_version_never_replaces_a_newer_one(served_state):
    _api, state = served_state
    old, new = transfers.sheet_key(state, "TC-x", 1), transfers.sheet_key(state, "TC-x", 2)
    assert state.sheets.store(new, b"%PDF new") is True
    assert state.sheets.store(old, b"%PDF old") is False  # finished late: not kept over the newer one
    assert state.sheets.load(new) == b"%PDF new" and state.sheets.load(old) is None
    newer = transfers.sheet_key(state, "TC-x", 3)
    assert state.sheets.store(newer, b"%PDF newer") is True  # a newer one replaces it
    assert state.sheets.load(new) is None and state.sheets.load(newer) == b"%PDF newer"
    other = transfers.sheet_key(state, "TC-y", 1)  # another candidate's scope: untouched
    assert state.sheets.store(other, b"%PDF y") is True and state.sheets.load(newer) == b"%PDF newer"
