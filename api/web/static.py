"""``/ui/static/{name}``: the workspace's own stylesheet and script (no CDN, no build step);
``/ui/fonts/cjk.css`` and ``/ui/fonts/{key}/{chunk}``: the packaged CJK font in unicode-range chunks
(:mod:`geodata.webfont`) for pages and served maps, so Chinese draws on a machine without a CJK font."""

from __future__ import annotations

import gzip
import threading
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from geodata import webfont

router = APIRouter()

STATIC = Path(__file__).parent / "static"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
_FILES = {p.name: p for p in STATIC.iterdir() if p.suffix in _TYPES} if STATIC.is_dir() else {}
#: where the font's stylesheet is served (pages link it; maps/assets/parkplan.css imports it)
FONT_CSS_URL = "/ui/fonts/cjk.css"
_FONT_PREFIX = "/ui/fonts/"


@router.get("/ui/static/{name}", include_in_schema=False)
def static_file(name: str):
    path = _FILES.get(name)  # a fixed list: no path from the request reaches the file system
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type=_TYPES[path.suffix], headers={"Cache-Control": "max-age=3600",
                                                                        "X-Content-Type-Options": "nosniff"})


@router.get("/favicon.ico", include_in_schema=False)
def favicon():
    """Browsers ask for it on every site; answering keeps their consoles free of 404s."""
    return static_file("favicon.svg")


@lru_cache(maxsize=2)
def _font_css(key: str) -> tuple[bytes, bytes]:
    css = webfont.font_css(_FONT_PREFIX).encode("utf-8")
    return css, gzip.compress(css, 9, mtime=0)


@router.get(FONT_CSS_URL, include_in_schema=False)
def font_css(request: Request):
    """The ``@font-face`` rules (about 90 kB, 31 kB gzipped); an hour in the browser's cache, as the
    other static files (its chunk URLs carry the font's key, so a new font is picked up within the hour)."""
    css, packed = _font_css(webfont.cache_key())
    headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        return Response(packed, media_type="text/css; charset=utf-8", headers={**headers, "Content-Encoding": "gzip"})
    return Response(css, media_type="text/css; charset=utf-8", headers=headers)


@router.get(_FONT_PREFIX + "{key}/{name}", include_in_schema=False)
def font_chunk(key: str, name: str):
    """One chunk of the font, immutable under its key (a year in the browser's cache); cut on first
    request and kept in the user cache directory. 404 for another key or an unknown chunk."""
    stem, dot, fmt = name.partition(".")
    if key != webfont.cache_key() or not dot or fmt != webfont.flavor():
        return Response(f"font chunk {key}/{name} not found (the font's key is {webfont.cache_key()}, "
                        f"format {webfont.flavor()})", status_code=404, media_type="text/plain")
    try:
        data = webfont.chunk_bytes(stem)
    except KeyError as exc:
        return Response(str(exc.args[0]), status_code=404, media_type="text/plain")
    return Response(data, media_type=f"font/{fmt}", headers={"Cache-Control": "public, max-age=31536000, immutable",
                                                             "X-Content-Type-Options": "nosniff",
                                                             "Access-Control-Allow-Origin": "*"})


def warm_font(app) -> threading.Thread | None:
    """With the app's ``settings.warm`` (``parkplan serve``): cut the font chunks nearly every Chinese page
    needs (:func:`geodata.webfont.warm`) in a background thread, so the first visitor does not wait for
    them; they stay cached across restarts. Returns the thread (None when not warming)."""
    if not getattr(getattr(app.state, "settings", None), "warm", False):
        return None

    def run() -> None:
        try:
            webfont.warm()
        except Exception as exc:  # noqa: BLE001 - pages still work: chunks are cut on request
            print(f"parkplan: cutting the web font failed: {type(exc).__name__}: {exc}", flush=True)

    thread = threading.Thread(target=run, name="parkplan-webfont", daemon=True)
    thread.start()
    return thread
