"""``/ui/static/{name}``: the workspace's own stylesheet and script (no CDN, no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

router = APIRouter()

STATIC = Path(__file__).parent / "static"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
_FILES = {p.name: p for p in STATIC.iterdir() if p.suffix in _TYPES} if STATIC.is_dir() else {}


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
