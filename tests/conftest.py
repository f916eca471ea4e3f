"""Shared fixtures: one small built-in dataset per test session (real boundaries, synthetic rest).

Tests that change a dataset must copy ``dataset_path`` first (``tmp_dataset_path``); the session
dataset is shared and must stay as built.
"""

from __future__ import annotations

import shutil

import pytest

SMALL_ENTERPRISES = 3000
SMALL_PROJECTS = 400
SEED = 20031


@pytest.fixture(scope="session")
def raw_dataset():
    from geodata.builtin import build_builtin_dataset

    return build_builtin_dataset(enterprises=SMALL_ENTERPRISES, projects=SMALL_PROJECTS, seed=SEED)


@pytest.fixture(scope="session")
def dataset_path(raw_dataset, tmp_path_factory):
    from geodata.dataset import save_dataset

    return save_dataset(raw_dataset, tmp_path_factory.mktemp("data") / "small.gpkg")


@pytest.fixture(scope="session")
def dataset(dataset_path):
    """The small dataset as loaded from disk, with the derived joins (parks.joins.prepare)."""
    from geodata.dataset import load_dataset
    from parks.joins import prepare

    return prepare(load_dataset(dataset_path))


@pytest.fixture
def tmp_dataset_path(dataset_path, tmp_path):
    """A private copy of the session dataset that a test may change."""
    dst = tmp_path / "dataset.gpkg"
    shutil.copyfile(dataset_path, dst)
    return dst


@pytest.fixture(scope="session")
def serve_app():
    """Serve ASGI apps with uvicorn on 127.0.0.1 in threads of this process (so they share the tests'
    databases); ``serve_app(app)`` returns the base URL. Every server stops at the end of the session."""
    import socket
    import threading
    import time

    import uvicorn

    running = []

    def start(app) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        running.append((srv, thread))
        deadline = time.monotonic() + 60
        while not srv.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    yield start
    for srv, thread in running:
        srv.should_exit = True
    for srv, thread in running:
        thread.join(timeout=10)


@pytest.fixture(scope="session", autouse=True)
def _web_font_chunks(request):
    """Cut the packaged CJK font's common chunks once before the first browser test (a page's ``load``
    waits for its fonts; on an empty cache the first Chinese page would wait for the cut)."""
    if any(item.get_closest_marker("browser") for item in request.session.items):
        from geodata import webfont

        webfont.warm()
