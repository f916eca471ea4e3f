"""The packaged CJK font (:mod:`geodata.fonts`) for web pages and served maps, in unicode-range chunks.

The font is 16 MB; a page needs a few hundred of its 44,000 characters. It is split into chunks, each
declared by an ``@font-face`` rule of one stylesheet (:func:`font_css`) with the ``unicode-range`` of
exactly the characters it holds, so a browser fetches only the chunks whose characters the page shows:

* ``latin``: Basic Latin, Latin-1, Latin Extended-A/B, general punctuation, letter-like symbols (℃, №),
  arrows, circled numbers, geometric shapes (▲ ▼);
* ``symbols``: CJK symbols and punctuation (、。《》「」), kana, full-width forms (，：（）);
* ``gb1-0`` .. ``gb1-3``: the 3,755 GB 2312 level-1 hanzi (the frequently used characters: nearly every
  county, park and sector name), in four chunks by code point;
* ``gb2-0`` .. ``gb2-2``: the 3,008 GB 2312 level-2 hanzi;
* ``rest-00`` ..: every other character of the font (rare hanzi in firm names, CJK extension A, Hangul,
  ...), by code point, about :data:`REST_CHUNK` characters a chunk.

The chunks' ranges are disjoint and together cover the font's character map exactly. Chunks are cut
lazily, on first request, with fontTools' subsetter (WOFF2 when ``brotli`` is installed, else WOFF),
and kept in the user cache directory under a key of the font file (path, size, mtime), the fontTools
version and the chunking (:func:`cache_key`); each file is written to a temporary name and renamed into
place (atomic: a reader never sees half a file; two processes cutting the same chunk both write the
same bytes). ``PARKPLAN_FONT_CACHE`` names another cache directory.

Pure functions and a file cache only: no HTTP here (``api/web/static.py`` serves them).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .fonts import FONT_FAMILY, _cmap, cjk_font_path

__all__ = ["Chunk", "chunks", "font_css", "chunk_bytes", "warm", "chunk_of", "cache_key", "cache_dir", "flavor",
           "unicode_range", "REST_CHUNK", "CHUNKING_VERSION"]

#: characters per chunk beyond GB 2312
REST_CHUNK = 1500
#: bump when the chunking changes (part of the cache key and of every chunk's URL)
CHUNKING_VERSION = 1

_LATIN = ((0x0000, 0x024F), (0x0250, 0x02FF), (0x0300, 0x036F), (0x2000, 0x206F), (0x20A0, 0x20CF),
          (0x2100, 0x214F), (0x2150, 0x218F), (0x2190, 0x21FF), (0x2460, 0x24FF), (0x25A0, 0x25FF))
_SYMBOLS = ((0x3000, 0x303F), (0x3040, 0x309F), (0x30A0, 0x30FF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))
_GB1_PIECES = 4
_GB2_PIECES = 3


@dataclass(frozen=True)
class Chunk:
    """One piece of the font: its ``name`` (a file name stem) and its characters (code points, sorted)."""

    name: str
    codepoints: tuple[int, ...]


def _gb2312(first_row: int, last_row: int) -> list[int]:
    """The hanzi of GB 2312 rows ``first_row``..``last_row`` (level 1: 16-55, level 2: 56-87)."""
    out = []
    for row in range(first_row, last_row + 1):
        for cell in range(1, 95):
            try:
                out.append(ord(bytes([0xA0 + row, 0xA0 + cell]).decode("gb2312")))
            except UnicodeDecodeError:  # the empty cells at the end of rows 55 and 87
                continue
    return out


def _pieces(points: list[int], n: int, stem: str) -> list[Chunk]:
    points = sorted(points)
    size = -(-len(points) // n) if points else 1
    return [Chunk(f"{stem}-{i}", tuple(points[i * size:(i + 1) * size])) for i in range(n) if points[i * size:(i + 1) * size]]


def _in(cp: int, ranges) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


@lru_cache(maxsize=4)
def _chunks(font: str) -> tuple[Chunk, ...]:
    cmap = sorted(_cmap(font))
    have = set(cmap)
    latin = [c for c in cmap if _in(c, _LATIN)]
    symbols = [c for c in cmap if _in(c, _SYMBOLS)]
    taken = set(latin) | set(symbols)
    gb1 = [c for c in _gb2312(16, 55) if c in have and c not in taken]
    taken |= set(gb1)
    gb2 = [c for c in _gb2312(56, 87) if c in have and c not in taken]
    taken |= set(gb2)
    rest = [c for c in cmap if c not in taken]
    out = [Chunk("latin", tuple(latin)), Chunk("symbols", tuple(symbols))]
    out += _pieces(gb1, _GB1_PIECES, "gb1") + _pieces(gb2, _GB2_PIECES, "gb2")
    out += [Chunk(f"rest-{i:02d}", tuple(rest[k:k + REST_CHUNK])) for i, k in enumerate(range(0, len(rest), REST_CHUNK))]
    return tuple(c for c in out if c.codepoints)


def chunks() -> tuple[Chunk, ...]:
    """The font's chunks, in the order of :func:`font_css`'s rules (disjoint; together the whole cmap)."""
    return _chunks(str(cjk_font_path()))


def chunk_of(char: str) -> str | None:
    """The name of the chunk that holds ``char`` (None: the font has no glyph for it)."""
    cp = ord(char)
    for c in chunks():
        if cp in c.codepoints:
            return c.name
    return None


def unicode_range(chunk: Chunk) -> str:
    """The chunk's CSS ``unicode-range``: runs of its code points, where a run may step over code points
    the font lacks (harmless: the browser falls back for those) but never over another chunk's."""
    return _ranges(str(cjk_font_path()))[chunk.name]


@lru_cache(maxsize=4)
def _ranges(font: str) -> dict[str, str]:
    owner = {cp: c.name for c in _chunks(font) for cp in c.codepoints}
    runs: dict[str, list[list[int]]] = {}
    prev = None
    for cp in sorted(owner):
        name = owner[cp]
        if prev is not None and owner[prev] == name:
            runs[name][-1][1] = cp
        else:
            runs.setdefault(name, []).append([cp, cp])
        prev = cp
    return {name: ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in rs) for name, rs in runs.items()}


def flavor() -> str:
    """``woff2`` when the ``brotli`` package is installed, else ``woff`` (zlib)."""
    try:
        import brotli  # noqa: F401
    except ImportError:
        return "woff"
    return "woff2"


def cache_key() -> str:
    """A short key of what the chunks are cut from: the font file (path, size, mtime), the fontTools
    version, the chunking and the file format. It names the chunks' cache folder and is in their URLs,
    so a URL's content never changes (served as immutable)."""
    import fontTools

    path = cjk_font_path()
    st = path.stat()
    raw = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{fontTools.version}|{CHUNKING_VERSION}|{REST_CHUNK}|{flavor()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def cache_dir() -> Path:
    """Where the chunks are kept: ``$PARKPLAN_FONT_CACHE``, else ``<user cache dir>/parkplan/webfont``,
    then a folder per :func:`cache_key`."""
    base = os.environ.get("PARKPLAN_FONT_CACHE")
    if base:
        root = Path(base)
    else:
        from platformdirs import user_cache_dir

        root = Path(user_cache_dir("parkplan", appauthor=False)) / "webfont"
    return root / cache_key()


_NAME = re.compile(r"(latin|symbols|gb[12]-\d|rest-\d\d)")
# one cut at a time: fontTools is pure Python (threads would not run two cuts at once anyway) and each
# cut parses the whole 16 MB font (about 140 MB of memory)
_CUT_LOCK = threading.Lock()


def chunk_bytes(name: str) -> bytes:
    """The font file of chunk ``name`` (WOFF2 or WOFF, see :func:`flavor`), cut on first use and cached
    on disk (a cache directory that cannot be written only costs a cut per request).

    Raises :class:`KeyError` for a name that is not a chunk (the accepted names: :func:`chunks`)."""
    found = {c.name: c for c in chunks()} if _NAME.fullmatch(name) else {}
    if name not in found:
        raise KeyError(f"font chunk {name!r} unknown; accepted: {', '.join(c.name for c in chunks())}")
    path = cache_dir() / f"{name}.{flavor()}"
    if path.is_file():
        return path.read_bytes()
    with _CUT_LOCK:
        if path.is_file():  # cut by another thread while this one waited
            return path.read_bytes()
        data = _cut(str(cjk_font_path()), found[name].codepoints, flavor())
        try:
            _write_atomic(path, data)
        except OSError:
            pass
        return data


def warm(names: tuple[str, ...] = ("latin", "symbols", "gb1-0", "gb1-1", "gb1-2", "gb1-3")) -> list[str]:
    """Cut the chunks ``names`` into the cache now (default: those nearly every Chinese page needs), so
    the first page does not wait for them; returns the names cut. For a server's start-up."""
    cut = []
    for name in names:
        if not (cache_dir() / f"{name}.{flavor()}").is_file():
            chunk_bytes(name)
            cut.append(name)
    return cut


def _cut(font: str, codepoints: tuple[int, ...], fmt: str) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    opts = subset.Options()
    opts.layout_features = ["*"]  # vertical forms, proportional punctuation: what a browser may ask for
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.hinting = False  # 15% smaller; browsers hint CJK outlines themselves
    opts.flavor = fmt
    # the font's own date (the same chunk from the same font, byte for byte) and its own bounding boxes
    # (those of the whole font, a superset: recomputing them draws every glyph, a quarter of a cut's time)
    f = TTFont(font, recalcTimestamp=False, recalcBBoxes=False)
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=codepoints)
    sub.subset(f)
    f.flavor = fmt
    buf = io.BytesIO()
    f.save(buf)
    return buf.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def font_css(url_prefix: str) -> str:
    """The stylesheet: one ``@font-face`` rule per chunk, family :data:`geodata.fonts.FONT_FAMILY`, source
    ``{url_prefix}{cache_key}/{chunk}.{woff2|woff}``, with the chunk's ``unicode-range``;
    ``font-display: swap`` (text shows at once in the next font of the stack, then in this one)."""
    key, fmt = cache_key(), flavor()
    rules = []
    for c in chunks():
        rules.append(f'@font-face {{ font-family: "{FONT_FAMILY}"; font-style: normal; font-weight: 400; '
                     f'font-display: swap; src: url("{url_prefix}{key}/{c.name}.{fmt}") format("{fmt}"); '
                     f"unicode-range: {unicode_range(c)}; }}")
    return f"/* {FONT_FAMILY}: Noto Sans CJK SC (SIL OFL 1.1) in {len(rules)} chunks by unicode-range */\n" + "\n".join(rules) + "\n"
