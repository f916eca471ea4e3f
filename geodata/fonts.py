"""The one CJK font of parkplan: found here for server charts (matplotlib), the PDF review sheet (fpdf2)
and PNG maps (headless Chromium, through ``@font-face``).

The font is Noto Sans CJK SC (SIL Open Font License 1.1) from the ``mplfonts`` wheel, a dependency, so a
fresh ``pip install`` draws Chinese without any system font. ``PARKPLAN_CJK_FONT`` names another
TTF/OTF file instead. Why this font and not a subset shipped as package data: ``docs/fonts.md``.

Nothing here changes global state (no matplotlib ``rcParams``, no font registration): callers take a
path, a :class:`matplotlib.font_manager.FontProperties` made from that path, or a TrueType subset.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

__all__ = ["FontMissing", "cjk_font_path", "font_properties", "set_figure_font", "truetype_subset", "font_subset", "covers", "FONT_FAMILY",
           "FONT_FILE"]

FONT_FILE = "NotoSansCJKsc-Regular.otf"
#: the CSS family name under which pages and PNG maps load the font (``@font-face``)
FONT_FAMILY = "Parkplan CJK"


class FontMissing(LookupError):
    """No CJK font file: neither ``PARKPLAN_CJK_FONT`` nor the ``mplfonts`` package's font."""


def cjk_font_path() -> Path:
    """The CJK font file: ``$PARKPLAN_CJK_FONT`` if set, else the Noto Sans CJK SC of ``mplfonts``.

    The ``mplfonts`` package is located without importing it (its import would touch matplotlib's
    global font settings).
    """
    env = os.environ.get("PARKPLAN_CJK_FONT")
    if env:
        p = Path(env)
        if not p.is_file() or p.suffix.lower() not in (".ttf", ".otf"):
            raise FontMissing(f"PARKPLAN_CJK_FONT={env!r} is not a font file; accepted: an existing .ttf or .otf file")
        return p
    return _packaged_font()


@lru_cache(maxsize=1)
def _packaged_font() -> Path:
    spec = importlib.util.find_spec("mplfonts")
    for base in (spec.submodule_search_locations or []) if spec else []:
        p = Path(base) / "fonts" / FONT_FILE
        if p.is_file():
            return p
    raise FontMissing(f"the CJK font {FONT_FILE} of the 'mplfonts' package is missing: pip install mplfonts "
                      "(a dependency of parkplan), or set PARKPLAN_CJK_FONT to a .ttf/.otf file")


def font_properties(size: float | None = None):
    """A matplotlib ``FontProperties`` for the CJK font, from its file path only (no font cache, no
    system font lookup)."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=str(cjk_font_path()), size=size)


def set_figure_font(fig):
    """Set every text of a matplotlib ``Figure`` (titles, labels, tick labels, legends) in the CJK font,
    mathtext off (a ``$`` in a name is drawn as typed). Tick labels exist only once the figure is laid
    out, so it is laid out first. Returns ``fig``."""
    import warnings

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    for text in fig.findobj(Text):  # before the layout too: a "$x^$" in a name must not be parsed there
        text.set_parse_math(False)
    with warnings.catch_warnings():  # laid out in the default font before the CJK one is set
        warnings.simplefilter("ignore", UserWarning)
        fig.draw_without_rendering()
    for text in fig.findobj(Text):
        text.set_fontproperties(font_properties(text.get_fontsize()))
        text.set_parse_math(False)
    return fig


@lru_cache(maxsize=4)
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as f:
        return frozenset(f.getBestCmap())


def covers(text: str) -> list[str]:
    """The characters of ``text`` (not whitespace) that the CJK font has no glyph for."""
    cmap = _cmap(str(cjk_font_path()))
    return [c for c in dict.fromkeys(text) if not c.isspace() and ord(c) not in cmap]


@lru_cache(maxsize=32)
def _subset(path: str, chars: frozenset[str], truetype: bool = True) -> bytes:
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=False)
    opts = subset.Options()
    opts.layout_features = []
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    sub = subset.Subsetter(opts)
    sub.populate(text="".join(sorted(chars)) + " ")
    sub.subset(font)
    if truetype and "CFF " in font:
        _cff_to_glyf(font)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def truetype_subset(text: str) -> bytes:
    """The CJK font cut down to the characters of ``text``, with TrueType (``glyf``) outlines.

    For fpdf2: it embeds CID-keyed CFF fonts (the Noto OTF) with a custom CMap encoding that PDF text
    extractors (pypdf) read as one-byte codes, so every character comes out with a NUL before it; a
    TrueType font is written with ``Identity-H`` and extracts as typed.
    """
    return _subset(str(cjk_font_path()), frozenset(text))


def font_subset(text: str) -> bytes:
    """The CJK font cut down to the characters of ``text``, outlines as in the font (OpenType CFF for
    the Noto font): for ``@font-face`` in a page."""
    return _subset(str(cjk_font_path()), frozenset(text), truetype=False)


def _cff_to_glyf(font) -> None:
    """Convert a font's CFF outlines to quadratic TrueType ones in place (fontTools' otf2ttf recipe)."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    maxp.maxComponentElements = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font["head"].indexToLocFormat = 0
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    maxp.numGlyphs = len(order)
    for g in glyphs.values():
        g.recalcBounds(glyf)
