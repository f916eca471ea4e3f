"""The review sheet made in a child process (:mod:`api.sheet_process`): the same PDF as the server's own thread
makes, the dataset's static part sent once per child and version (never per sheet), a dead child replaced, the
child stopped by ``close()`` and by the app's shutdown (no process left behind)."""

from __future__ import annotations

import io
import os
import signal

import psutil
import pypdf
import pytest

from api import exports
from api.routes import transfers
from api.sheet_process import SheetProcess

def _normal_font(data: bytes) -> bytes:
    """A TrueType font file with its time stamps zeroed (fontTools writes the time of the cut into ``head``)."""
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data), recalcTimestamp=False)
    font["head"].modified = font["head"].created = 0
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def _plain(v):
    """A PDF value as plain Python (references as their object numbers, not the reader they belong to)."""
    g = pypdf.generic
    if isinstance(v, g.IndirectObject):
        return ("ref", v.idnum, v.generation)
    if isinstance(v, g.DictionaryObject):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, g.ArrayObject):
        return [_plain(x) for x in v]
    return repr(v)


def _stable(pdf: bytes) -> dict:
    """Every object of the PDF, streams decoded, minus what differs between two runs of the same sheet: fpdf2's
    creation time (and the file id made from it: the trailer, not compared), the font's cut time; a stream's
    compressed /Length follows from its data."""
    r = pypdf.PdfReader(io.BytesIO(pdf))
    out = {}
    for gen, objs in r.xref.items():
        for num in objs:
            obj = r.get_object(pypdf.generic.IndirectObject(num, gen, r))
            if isinstance(obj, pypdf.generic.StreamObject):
                data = obj.get_data()
                out[num] = ({k: _plain(v) for k, v in obj.items() if k != "/Length"},
                            _normal_font(data) if "/Length1" in obj else data)
            elif isinstance(obj, pypdf.generic.DictionaryObject):
                out[num] = {k: _plain(v) for k, v in obj.items() if k not in ("/CreationDate", "/ModDate")}
            else:
                out[num] = _plain(obj)
    assert len(out) > 5
    return out


def _pages(pdf: bytes) -> list[tuple[str, list[bytes]]]:
    """Each page's text and its images' bytes (the map)."""
    return [(p.extract_text(), [im.data for im in p.images]) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _details(api, n: int) -> list[dict]:
    r = api.get(f"/transfer-candidates?limit={n}", as_="reviewer_a")
    assert r.status_code == 200 and r.json()["items"], r.text
    return [api.get(f"/transfer-candidates/{c['candidate_id']}", as_="reviewer_a").json() for c in r.json()["items"]]


@pytest.fixture
def proc():
    p = SheetProcess()
    yield p
    p.close()
    assert p.children() == []


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_the_child_makes_the_same_pdf_as_the_thread(api, dataset, proc):
    static = exports.sheet_static(dataset)
    seen = []
    for d in _details(api, 3):
        here = exports.review_sheet_pdf(d, dataset)
        there = proc.render("v-test", d, exports.sheet_places(d, dataset), lambda: static)
        assert there.startswith(b"%PDF")
        assert _stable(there) == _stable(here)  # every object, but the creation time and the font's cut time
        assert _pages(there) == _pages(here)
        assert d["candidate_id"] in _pages(there)[0][0]
        seen.append(_stable(there))
    assert seen[0] != seen[1] != seen[2]  # the comparison sees a sheet's content
    [pid] = proc.children()
    assert pid != os.getpid() and psutil.Process(pid).ppid() == os.getpid()


def test_the_static_part_is_sent_once_per_child_and_version(api, dataset, proc):
    static = exports.sheet_static(dataset)
    sent: list[str] = []

    def counted(version):
        def give():
            sent.append(version)
            return static
        return give

    d1, d2 = _details(api, 2)
    for d in (d1, d2, d1):
        proc.render("v1", d, exports.sheet_places(d, dataset), counted("v1"))
    assert sent == ["v1"]  # the first sheet carried it; the others only the candidate and its places
    proc.render("v2", d1, exports.sheet_places(d1, dataset), counted("v2"))  # another dataset version
    assert sent == ["v1", "v2"]
    first = proc.children()
    proc.close()
    assert proc.children() == [] and all(_gone(p) for p in first)
    proc.render("v1", d2, exports.sheet_places(d2, dataset), counted("v1"))  # a new child holds nothing yet
    assert sent == ["v1", "v2", "v1"]
    assert proc.children() and proc.children() != first


def test_a_killed_child_is_replaced(api, dataset, proc):
    static = exports.sheet_static(dataset)
    [d] = _details(api, 1)
    places = exports.sheet_places(d, dataset)
    before = proc.render("v", d, places, lambda: static)
    [pid] = proc.children()
    os.kill(pid, signal.SIGKILL)
    psutil.Process(pid).wait(timeout=30)
    after = proc.render("v", d, places, lambda: static)  # the broken pool is dropped, a new child makes it
    assert _stable(after) == _stable(before)
    assert proc.children() and proc.children() != [pid]


def test_the_app_shutdown_stops_the_child(dataset_path, candidate_rows, tmp_path):
    """A served app (its lifespan runs) makes a sheet in the child; leaving it stops the child."""
    from fastapi.testclient import TestClient

    from .conftest import Api, _offices, build_app, make_tokens

    app = build_app(dataset_path, f"sqlite:///{tmp_path / 'reviews.sqlite'}", candidate_rows)
    state = app.state.parkplan
    assert state.sheet_process is not None
    api = Api(app, make_tokens(app, _offices(candidate_rows)))
    try:
        with TestClient(app) as client:  # runs the lifespan: startup now, shutdown at the end of the block
            api.client = client
            [d] = _details(api, 1)
            r = api.get(f"/transfer-candidates/{d['candidate_id']}/sheet.pdf", as_="reviewer_a")
            assert r.status_code == 200 and r.content.startswith(b"%PDF")
            children = state.sheet_process.children()
            # the sheet was made by a child: the waited-for one, and the background one too if it was started (one
            # process each at most: two pools of one worker)
            assert 1 <= len(children) <= 2
            assert len(state.sheet_process.process.children()) <= 1 and len(state.sheet_process.waited.children()) <= 1
        assert state.sheet_process.children() == []
        assert all(_gone(p) for p in children)
    finally:
        state.close()
        app.state.engine.dispose()


def test_in_a_thread_when_turned_off(api, dataset, monkeypatch):
    """``PARKPLAN_SHEET_PROCESS=0``: no child; the sheet is the same."""
    from api import sheet_process
    from api.state import AppState

    monkeypatch.setenv(sheet_process.ENV, "0")
    assert sheet_process.enabled() is False
    s = api.app.state.parkplan
    off = AppState(settings=s.settings, dataset=s.dataset, dataset_version=s.dataset_version, engine=s.engine,
                   sessions=s.sessions, session_key=s.session_key)
    assert off.sheet_process is None
    [d] = _details(api, 1)
    assert _stable(transfers.make_sheet(off, d)) == _stable(exports.review_sheet_pdf(d, s.dataset))
    monkeypatch.setenv(sheet_process.ENV, "maybe")
    with pytest.raises(ValueError, match="PARKPLAN_SHEET_PROCESS='maybe': accepted 1"):
        sheet_process.enabled()


def test_the_child_ends_when_its_server_process_dies(tmp_path):
    """A server killed without its lifespan (SIGKILL, a uvicorn worker replaced) leaves no sheet process behind."""
    import subprocess
    import sys
    import time

    script = (
        "import os\n"
        "from api.sheet_process import SheetProcess\n"
        "sp = SheetProcess()\n"
        "print(sp._executor().submit(os.getpid).result(), flush=True)\n"
        "os._exit(0)\n"  # no close(), no atexit: as if killed
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    child = int(out.stdout.strip().splitlines()[-1])
    deadline = time.monotonic() + 30
    while not _gone(child):
        assert time.monotonic() < deadline, f"sheet child {child} still running 30 s after its parent died"
        time.sleep(0.2)


def test_sheets_queued_at_shutdown_are_dropped_not_restarted(dataset_path, candidate_rows, tmp_path, capfd,
                                                             monkeypatch):
    """Leaving the app while decisions' sheets are queued (in the background runner, in the child): the child is
    stopped and reaped, every queued sheet ends (made before the stop, or dropped with SheetProcessClosed), none
    restarts the child ("died twice in a row") or is made in the server's own thread; another app of the process
    still makes its sheets (a new child)."""
    import time

    from fastapi.testclient import TestClient

    from api import sheet_process
    from api.sheet_process import SheetProcessClosed

    from .conftest import Api, _offices, build_app, make_tokens

    made_here = []
    real = exports.render_review_sheet

    def counted(*a, **kw):  # the real function, counted: a sheet made in this (the server's) process
        made_here.append(1)
        return real(*a, **kw)

    app = build_app(dataset_path, f"sqlite:///{tmp_path / 'reviews.sqlite'}", candidate_rows)
    state = app.state.parkplan
    api = Api(app, make_tokens(app, _offices(candidate_rows)))
    try:
        with TestClient(app) as client:
            api.client = client
            details = _details(api, 12)
            [d0] = details[:1]
            r = api.get(f"/transfer-candidates/{d0['candidate_id']}/sheet.pdf", as_="reviewer_a")  # child started
            assert r.status_code == 200 and r.content.startswith(b"%PDF")
            [child] = state.sheet_process.children()
            monkeypatch.setattr(exports, "render_review_sheet", counted)
            keys = []
            for d in details[1:]:
                transfers.sheet_decided(state, d["candidate_id"], d["version"])  # what a decision queues
                keys.append(transfers.sheet_key(state, d["candidate_id"], d["version"]))
            assert not transfers.SHEETS_AFTER_DECISIONS.idle()  # still queued when the app shuts down
        assert state.sheet_process.children() == [] and _gone(child)
        deadline = time.monotonic() + 60
        while not transfers.SHEETS_AFTER_DECISIONS.idle():
            assert time.monotonic() < deadline, "the queued sheets did not end after the shutdown"
            time.sleep(0.05)
        assert state.sheet_process.children() == []  # no child started again
        assert made_here == []  # none made in the server
        dropped = 0
        for key in keys:
            fut = state.sheets._table.get(key)
            if fut is None:  # a dropped sheet is forgotten (the next request makes it)
                dropped += 1
                continue
            assert fut.done()
            if fut.exception() is not None:
                assert isinstance(fut.exception(), SheetProcessClosed)
                dropped += 1
            else:
                assert fut.result().startswith(b"%PDF")
        assert dropped >= 1  # the shutdown came while some were queued
        with pytest.raises(SheetProcessClosed):
            state.sheet_process.render(state.dataset_version, d0, exports.sheet_places(d0, state.dataset),
                                       lambda: exports.sheet_static(state.dataset))
        out = capfd.readouterr().out
        assert "died twice" not in out and "making the sheet in the server" not in out
        other = sheet_process.client()  # another app of the process: a new child makes its sheet
        pdf = other.render("v-other", d0, exports.sheet_places(d0, state.dataset),
                           lambda: exports.sheet_static(state.dataset))
        assert pdf.startswith(b"%PDF") and other.children() and other.children() != [child]
    finally:
        state.close()
