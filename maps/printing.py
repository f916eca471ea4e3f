"""Map pages that carry their own font (:func:`embed_font`, for files written by ``parkplan map -o``) and a
map page made ready for a picture (``parkplan map --png``): no zoom buttons, search box, layer
control, full-screen or measure buttons; a north arrow; every text in the one CJK font of
:mod:`geodata.fonts`, delivered to the page with ``@font-face`` as a ``data:`` URI of the characters
the page holds, so the picture draws Chinese on a machine without any system CJK font.

The map keeps its title, legend and scale bar, and its own fit to the data. What is added is constant
markup and CSS; the only data-derived bytes are the font's (base64, no markup can come of it).
"""

from __future__ import annotations

import base64
import html as _html
import re

from geodata.fonts import FONT_FAMILY, font_subset

__all__ = ["print_ready", "embed_font", "PRINT_CSS", "NORTH_ARROW"]

PRINT_CSS = """
.leaflet-control-zoom, .leaflet-control-layers, .leaflet-control-fullscreen, .pp-search, .pp-measure,
.leaflet-control-attribution { display: none !important; }
.pp-north { position: absolute; top: 12px; left: 12px; z-index: 1000; width: 44px; text-align: center;
  background: rgba(255,255,255,0.9); border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); padding: 4px 0 2px; }
.pp-north svg { display: block; margin: 0 auto; }
.pp-north span { font-weight: bold; font-size: 14px; }
"""

NORTH_ARROW = ('<div class="pp-north" id="pp-north" aria-label="north"><svg width="22" height="30" viewBox="0 0 22 30">'
               '<polygon points="11,0 21,28 11,21 1,28" fill="#222"/><polygon points="11,0 11,21 1,28" fill="#888"/>'
               '</svg><span>{label}</span></div>')

_TAGS = re.compile(r"<[^>]*>")


def _page_text(page: str) -> str:
    """Every character the page could show: its text and its JSON data, unescaped."""
    return _html.unescape(_TAGS.sub(" ", page)) + page


_EMBEDDED = re.compile(r'<style id="pp-font">.*?</style>', re.S)


def embed_font(page: str, extra: str = "") -> str:
    """``page`` (a self-contained map page) with the CJK font of :mod:`geodata.fonts` cut down to the
    characters the page holds (and ``extra``), in a ``<style id="pp-font">`` at the end of ``<head>``: an
    ``@font-face`` whose source is a ``data:`` URI (OpenType, as the font is), and
    every text of the map in that font. The file then draws Chinese with no server, network or system
    font (its Content-Security-Policy allows ``font-src data:``). A font embedded before is replaced
    (the characters of both pages), so embedding twice leaves one."""
    if "</head>" not in page or "<body" not in page:
        raise ValueError("a map page has a <head> and a <body>")
    page = _EMBEDDED.sub("", page)
    data = base64.b64encode(font_subset(_page_text(page) + extra)).decode("ascii")
    style = ('<style id="pp-font">@font-face { font-family: "' + FONT_FAMILY + '"; src: url(data:font/otf;base64,'
             + data + ') format("opentype"); }\n'
             '*, .leaflet-container, .leaflet-tooltip { font-family: "' + FONT_FAMILY + '", sans-serif !important; }'
             "</style>")
    return page.replace("</head>", style + "</head>", 1)


def print_ready(page: str, lang: str = "zh") -> str:
    """``page`` (a self-contained map page) with the print CSS, the north arrow and the embedded font."""
    label = "北" if lang == "zh" else "N"
    page = embed_font(page, label).replace("</head>", "<style>" + PRINT_CSS + "</style></head>", 1)
    body = re.search(r"<body[^>]*>", page)
    assert body is not None  # embed_font checked
    # text in the font at the top of the body: the font loads while the page is parsed, before the
    # map's script lays out its labels (a headless screenshot does not wait for a font asked later)
    return page[:body.end()] + NORTH_ARROW.format(label=label) + page[body.end():]
