"""Every script and stylesheet a map loads, served from installed packages, never from a CDN.

folium writes ``<script src="https://cdn...">`` for Leaflet and for each plugin. :func:`localize` rewrites
every such link of a map to a path under ``/maps/assets/`` (the API serves them with
:func:`resolve_asset`), or drops what the maps do not use (Bootstrap, jQuery, awesome-markers); a link
it does not know raises :class:`AssetError`, so nothing can slip through to a CDN. For a map written to
a file, :func:`inline_assets` puts the files themselves into the HTML (images referenced from CSS become
``data:`` URIs), so the file works with no server and no network.

Where the files come from (all installed by ``pip install parkplan``):

* ``leaflet/``: XStatic-Leaflet (Leaflet 1.9.3 and its images);
* ``markercluster/``: XStatic-Leaflet-MarkerCluster;
* ``fontawesome/``: XStatic-Font-Awesome (not used by the maps themselves; whitelisted for pages);
* ``plugins/``: leaflet.fullscreen and leaflet.heat as shipped by the ``folium-offline`` package (which
  carries folium's CDN files inside it);
* ``parkplan/``: this package's own small controls (``maps/assets/``): search box, measure tool, legend,
  canvas point layers and the map CSS. leaflet-measure is not used: it compiles templates with
  ``Function()``, which the maps' Content-Security-Policy (no ``unsafe-eval``) forbids, and it has no
  Chinese labels; leaflet-search builds its result list with ``innerHTML`` (names from user files
  would run as HTML) and walks every marker, too slow at 100,000 points.
"""

from __future__ import annotations

import base64
import mimetypes
import re
import secrets
from functools import lru_cache
from pathlib import Path, PurePosixPath

__all__ = ["ASSET_PREFIX", "AssetError", "asset_roots", "resolve_asset", "read_asset", "localize", "inline_assets",
           "media_type"]

ASSET_PREFIX = "/maps/assets/"
_OWN_DIR = Path(__file__).resolve().parent / "assets"
_ALLOWED_SUFFIXES = {".js", ".css", ".png", ".svg", ".woff", ".woff2", ".ttf", ".eot", ".gif", ".jpg", ".map"}


class AssetError(LookupError):
    """An asset name that is not on the whitelist, or a map that links a URL with no local copy."""


# folium (and plugin) CDN URL -> local asset path, or None to drop the link.
_CDN_TO_LOCAL: dict[str, str | None] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": None,
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": None,
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": None,
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": None,
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": None,
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": None,
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": None,
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": None,
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": "plugins/Control.FullScreen.min.js",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": "plugins/Control.FullScreen.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": "plugins/leaflet_heat.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": "markercluster/leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": "markercluster/MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": "markercluster/MarkerCluster.Default.css",
}

# plugins/<file> -> the CDN URL under which folium-offline stores that file
_PLUGIN_FILES = {local.removeprefix("plugins/"): url for url, local in _CDN_TO_LOCAL.items()
                 if local and local.startswith("plugins/")}


@lru_cache(maxsize=1)
def asset_roots() -> dict[str, Path]:
    """Top-level asset folder -> directory of the installed package that provides it."""
    import xstatic.pkg.font_awesome as fa
    import xstatic.pkg.leaflet as leaflet
    import xstatic.pkg.leaflet_markercluster as markercluster

    return {
        "leaflet": Path(leaflet.BASE_DIR).resolve(),
        "markercluster": Path(markercluster.BASE_DIR).resolve(),
        "fontawesome": Path(fa.BASE_DIR).resolve(),
        "parkplan": _OWN_DIR,
    }


@lru_cache(maxsize=1)
def _offline_files() -> dict[str, str]:
    import offlinefolium.elements as off

    return {name: off._res[url] for name, url in _PLUGIN_FILES.items() if url in off._res}


def _clean(path: str) -> PurePosixPath:
    p = PurePosixPath(path)
    if not path or p.is_absolute() or "\\" in path or any(part in ("..", ".", "") for part in path.split("/")):
        raise AssetError(f"asset path {path!r} refused: relative paths below a whitelisted folder only")
    if p.suffix.lower() not in _ALLOWED_SUFFIXES:
        raise AssetError(f"asset path {path!r} refused: suffix {p.suffix!r} not in {sorted(_ALLOWED_SUFFIXES)}")
    return p


def resolve_asset(path: str) -> Path | str:
    """The file for ``path`` (``leaflet/leaflet.js``, ``plugins/...``): a Path, or the text of a plugin
    file shipped inside folium-offline. Raises :class:`AssetError` for anything off the whitelist,
    path traversal included."""
    p = _clean(path)
    top, rest = p.parts[0], PurePosixPath(*p.parts[1:]) if len(p.parts) > 1 else None
    if rest is None:
        raise AssetError(f"asset path {path!r} refused: name a file under one of {sorted(asset_roots()) + ['plugins']}")
    if top == "plugins":
        files = _offline_files()
        if str(rest) not in files:
            raise AssetError(f"plugin asset {str(rest)!r} unknown; known: {', '.join(sorted(files))}")
        return files[str(rest)]
    roots = asset_roots()
    if top not in roots:
        raise AssetError(f"asset folder {top!r} unknown; accepted: {', '.join(sorted(roots) + ['plugins'])}")
    root = roots[top]
    full = (root / rest).resolve()
    if not full.is_relative_to(root) or not full.is_file():
        raise AssetError(f"asset {path!r} not found")
    return full


def read_asset(path: str) -> bytes:
    found = resolve_asset(path)
    return found.encode("utf-8") if isinstance(found, str) else found.read_bytes()


def media_type(path: str) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    return {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".map": "application/json",
            ".woff2": "font/woff2", ".woff": "font/woff", ".svg": "image/svg+xml"}.get(
        suffix, mimetypes.guess_type("x" + suffix)[0] or "application/octet-stream")


# --- rewriting a folium map -------------------------------------------------------------------

def _walk(element):
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from _walk(child)


def _local_links(links, owner) -> list[tuple[str, str]]:
    out = []
    for name, url in links:
        if url.startswith(ASSET_PREFIX):
            out.append((name, url))
            continue
        if url not in _CDN_TO_LOCAL:
            raise AssetError(f"{type(owner).__name__} links {url!r}, which has no local copy; "
                             "add it to maps.assets._CDN_TO_LOCAL or do not use that element")
        local = _CDN_TO_LOCAL[url]
        if local is not None:
            out.append((name, ASSET_PREFIX + local))
    return out


def localize(m):
    """Rewrite every JS/CSS link of folium map ``m`` (and of all its children) to ``/maps/assets/...``.

    Returns ``m``. Raises :class:`AssetError` if an element links a URL with no local copy."""
    for el in _walk(m):
        for attr in ("default_js", "default_css"):
            links = getattr(el, attr, None)
            if links:
                setattr(el, attr, _local_links(links, el))
    return m


_CSS_URL = re.compile(r"url\((['\"]?)(?!data:|#)([^)'\"]+)\1\)")
# @import of another stylesheet (e.g. parkplan.css importing the served web font's /ui/fonts/cjk.css):
# a self-contained file has no server to fetch it from, and a data: stylesheet is refused by its CSP
_CSS_IMPORT = re.compile(r"@import\s+(?:url\([^)]*\)|'[^']*'|\"[^\"]*\")[^;]*;")
_SCRIPT = re.compile(r'<script( nonce="[^"]+")? src="' + re.escape(ASSET_PREFIX) + r'([^"]+)"></script>')
_LINK = re.compile(r'<link rel="stylesheet" href="' + re.escape(ASSET_PREFIX) + r'([^"]+)"\s*/?>')


def _css_inline(path: str, css: str) -> str:
    base = PurePosixPath(path).parent

    def repl(match: re.Match) -> str:
        ref = match.group(2).split("?")[0].split("#")[0]
        target = str(PurePosixPath(*(base / ref).parts))
        parts: list[str] = []
        for part in target.split("/"):  # normalise a/b/../c
            if part == "..":
                parts.pop() if parts else None
            elif part not in (".", ""):
                parts.append(part)
        try:
            data = read_asset("/".join(parts))
        except AssetError:
            return "url(data:,)"
        return f"url(data:{media_type(target).split(';')[0]};base64,{base64.b64encode(data).decode()})"

    return _CSS_URL.sub(repl, _CSS_IMPORT.sub("", css))


def _safe_inline_script(js: str) -> str:
    return js.replace("</script", "<\\/script")


FILE_CSP = ("default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; img-src data: https:; "
            "font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'")
_SCRIPT_TAG = re.compile(r"<script(?=[\s>])")


def inline_assets(html: str, *, csp: bool = True) -> str:
    """Replace each ``/maps/assets/...`` script and stylesheet link in ``html`` with the file's content,
    so the page needs neither the API nor a network.

    With ``csp`` (default) the file carries its own Content-Security-Policy (a ``<meta>`` at the top of
    ``<head>``): only the scripts written here run (each gets the file's random nonce; data are JSON
    blocks, never script), no network but images (map tiles) over https."""
    nonce = secrets.token_urlsafe(18) if csp else None
    if nonce:  # every <script of the rendered page is a tag here (data cannot make one: '<' is escaped)
        html = f'<script nonce="{nonce}"'.join(_SCRIPT_TAG.split(html))
    html = _SCRIPT.sub(lambda m: "<script" + (m.group(1) or "") + ">"
                       + _safe_inline_script(read_asset(m.group(2)).decode("utf-8")) + "</script>", html)
    html = _LINK.sub(lambda m: "<style>" + _css_inline(m.group(1), read_asset(m.group(1)).decode("utf-8")).replace(
        "</style", "<\\/style") + "</style>", html)
    leftover = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
    if leftover:
        raise AssetError(f"links left after inlining (the file would need a server or a network): {leftover[:5]}")
    if nonce:
        head = html.index("<head>") + len("<head>")
        meta = f'\n    <meta http-equiv="Content-Security-Policy" content="{FILE_CSP.format(nonce=nonce)}">'
        html = html[:head] + meta + html[head:]
    return html
