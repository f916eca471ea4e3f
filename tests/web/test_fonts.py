"""Chinese draws in real glyphs on a machine without any CJK font: the home page, a metrics page, the
parks map served by the API and a map file written by ``parkplan map -o``, in headless chromium whose
fontconfig sees only DejaVu (a fresh Debian's Latin fonts).

For each page, in the page's own computed font (``getComputedStyle``), a canvas draws the page's
Chinese text and '浙江省'; a missing glyph is the font's box, which is the same box for every character,
so the text is compared with the private-use U+E000 (no font has it: always the box), with the same
text in DejaVu Sans (no CJK) and with other Chinese text. Chromium's own account of the fonts it used
for the element (DevTools ``CSS.getPlatformFontsForNode``) must name the served web font, and the
element's screenshot must differ from the same page without it. Each check is shown to fail without
the ``@font-face``: the same page with the font's requests refused (served pages) or the embedded font
removed (the file) draws boxes.

Also: the font's routes (stylesheet, chunks, 404s, cache headers) and the chunking itself.
"""

from __future__ import annotations

import os
import re
import subprocess
from urllib.parse import urlparse

import pytest

from geodata import webfont
from geodata.fonts import FONT_FAMILY

from .conftest import chromium_path, login_client

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
CJK = re.compile(r"[\u4e00-\u9fff]")


# ---------------------------------------------------------------- the chunks and the routes (no browser)


def test_chunks_are_disjoint_and_cover_the_font_exactly():
    from geodata.fonts import _cmap, cjk_font_path

    cmap = _cmap(str(cjk_font_path()))
    seen: set[int] = set()
    for c in webfont.chunks():
        assert not seen & set(c.codepoints), f"{c.name} overlaps an earlier chunk"
        seen |= set(c.codepoints)
    assert seen == set(cmap)
    # the frequent hanzi first: GB 2312 level 1 is in the gb1 chunks, county names among them
    assert {webfont.chunk_of(ch) for ch in "浙江省杭州市温州"} <= {"gb1-0", "gb1-1", "gb1-2", "gb1-3"}
    assert webfont.chunk_of("A") == "latin" and webfont.chunk_of("，") == "symbols"
    assert webfont.chunk_of("堃").startswith("rest-") and webfont.chunk_of("\ue000") is None


def _parse_range(text: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.strip().removeprefix("U+").partition("-")
        out |= set(range(int(lo, 16), int(hi or lo, 16) + 1))
    return out


def test_unicode_ranges_hold_each_chunk_and_no_other_chunks_characters():
    """A run of a range may step over code points the font lacks, never over another chunk's."""
    owner = {cp: c.name for c in webfont.chunks() for cp in c.codepoints}
    for c in webfont.chunks():
        covered = _parse_range(webfont.unicode_range(c))
        assert set(c.codepoints) <= covered
        stolen = {cp for cp in covered if owner.get(cp, c.name) != c.name}
        assert not stolen, f"{c.name}'s range covers other chunks' characters {sorted(stolen)[:5]}"


def test_font_css_and_chunks_are_served(web, tmp_path, monkeypatch):
    from fontTools.ttLib import TTFont

    monkeypatch.setenv("PARKPLAN_FONT_CACHE", str(tmp_path))
    client = login_client(web.app, web.tokens["viewer"])
    css = client.get("/ui/fonts/cjk.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    rules = re.findall(r'@font-face \{ font-family: "([^"]+)";.*?src: url\("([^"]+)"\) format\("(woff2?)"\); '
                       r"unicode-range: ([^;]+); \}", css.text)
    assert len(rules) == len(webfont.chunks()) and {r[0] for r in rules} == {FONT_FAMILY}
    url = next(u for _, u, _, _ in rules if "/gb1-" in u)
    r = client.get(url)
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-type"] == f"font/{webfont.flavor()}"
    # the chunk is a font holding exactly the chunk's characters, and it was cached on disk
    path = tmp_path / url.split("/")[-2] / url.split("/")[-1]
    assert path.is_file() and path.read_bytes() == r.content
    name = url.rsplit("/", 1)[1].split(".")[0]
    with TTFont(path) as f:
        assert set(f.getBestCmap()) == set(next(c for c in webfont.chunks() if c.name == name).codepoints)
    assert not list(tmp_path.rglob("*.part")), "a temporary file was left"
    # pages link the stylesheet; the map stylesheet imports it
    home = client.get("/", headers={"Accept": "text/html"})
    assert '<link rel="stylesheet" href="/ui/fonts/cjk.css">' in home.text
    assert '@import url("/ui/fonts/cjk.css");' in client.get("/maps/assets/parkplan/parkplan.css").text
    # another key, an unknown chunk, a path: 404 naming what is accepted
    for bad in (url.replace(url.split("/")[-2], "0" * 16), url.replace(name, "nope"), "/ui/fonts/x/..%2Fa"):
        refused = client.get(bad)
        assert refused.status_code == 404, bad
    assert "accepted: latin, symbols" in client.get(url.replace(name, "nope")).text


def test_chunks_are_cut_once_and_served_without_a_writable_cache(tmp_path, monkeypatch):
    from fontTools.ttLib import TTFont

    monkeypatch.setenv("PARKPLAN_FONT_CACHE", str(tmp_path / "cache"))
    assert webfont.warm(("latin",)) == ["latin"] and webfont.warm(("latin",)) == []
    cached = webfont.cache_dir() / f"latin.{webfont.flavor()}"
    assert cached.is_file()
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("PARKPLAN_FONT_CACHE", str(blocker))  # the cache cannot be created: cut, served, not kept
    data = webfont.chunk_bytes("latin")
    assert data == cached.read_bytes()  # the same bytes from the same font and fontTools
    with TTFont(cached) as f:
        assert ord("A") in f.getBestCmap() and ord("浙") not in f.getBestCmap()
    with pytest.raises(KeyError, match="accepted: latin, symbols, gb1-0"):
        webfont.chunk_bytes("../latin")


# ---------------------------------------------------------------- in chromium without CJK fonts

_GLYPHS_JS = r"""
async ([sel, extra]) => {
  const el = document.querySelector(sel);
  if (!el) return {error: 'no element ' + sel};
  const family = getComputedStyle(el).fontFamily;
  const cjk = [...el.textContent].filter(ch => /[\u4e00-\u9fff]/.test(ch));
  const text = cjk.slice(0, 4).join('');
  const px = (fam) => '40px ' + fam;
  await document.fonts.load(px(family), text + extra + '温州市');
  await document.fonts.ready;
  const draw = (s, fam) => {
    const c = document.createElement('canvas'); c.width = 420; c.height = 64;
    const g = c.getContext('2d');
    g.fillStyle = '#fff'; g.fillRect(0, 0, 420, 64); g.fillStyle = '#000';
    g.font = px(fam); g.fillText(s, 4, 48);
    const d = g.getImageData(0, 0, 420, 64).data, grey = new Uint8Array(d.length / 4);
    let ink = 0;
    for (let i = 0; i < grey.length; i++) { grey[i] = d[4 * i]; if (grey[i] < 128) ink++; }
    return {grey, ink};
  };
  const diff = (a, b) => { let n = 0; for (let i = 0; i < a.grey.length; i++) if (Math.abs(a.grey[i] - b.grey[i]) > 64) n++; return n; };
  const box = (s) => '\uE000'.repeat([...s].length);
  const out = {family, text, loaded: [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)};
  for (const [key, s] of [['page', text], ['extra', extra]]) {
    const real = draw(s, family);
    out[key] = {ink: real.ink, vsBox: diff(real, draw(box(s), family)),
                vsLatin: diff(real, draw(s, '"DejaVu Sans"')), vsOther: diff(real, draw('温州市龙泉'.slice(0, [...s].length), family))};
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def fontless_browser(tmp_path_factory):
    """Headless chromium whose fontconfig lists DejaVu only (no CJK font), in a thread of its own (the
    other browser tests keep their own Playwright)."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Debian chromium is required in CI (apt-get install chromium); set PARKPLAN_CHROMIUM")
        pytest.skip("Debian chromium is not installed (set PARKPLAN_CHROMIUM)")
    latin = "/usr/share/fonts/truetype/dejavu"
    if not os.path.isdir(latin):
        pytest.skip("no DejaVu fonts to stand for a fresh machine's Latin fonts")
    tmp = tmp_path_factory.mktemp("fontconfig")
    conf = tmp / "fonts.conf"
    conf.write_text(f"<?xml version='1.0'?><fontconfig><dir>{latin}</dir><cachedir>{tmp / 'fc'}</cachedir></fontconfig>")
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "FONTCONFIG_PATH": str(tmp)}
    listed = subprocess.run(["fc-list"], capture_output=True, text=True, env=env).stdout
    assert "DejaVu" in listed and not re.search(r"CJK|WenQuanYi|Droid Sans Fallback|AR PL", listed), listed

    from .conftest import BrowserThread

    class FontlessBrowser(BrowserThread):
        def _start(self, path: str) -> None:
            from playwright.sync_api import sync_playwright

            self._pw = sync_playwright().start()
            self.browser = self._pw.chromium.launch(executable_path=path, headless=True, env=env,
                                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                          "--disable-background-networking"])

    bt = FontlessBrowser(path)
    yield bt
    bt.close()


def _look(browser, url: str, selector: str, *, server: str | None, token: str | None, fonts: bool,
          ready: str | None = None) -> dict:
    """Open ``url`` (logged in with ``token``), wait for ``selector`` and measure its glyphs; ``fonts``
    False refuses every request for the served font (``/ui/fonts/``)."""
    ctx = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    refused: list[str] = []

    def route(r):
        u = urlparse(r.request.url)
        if r.request.url.startswith(("data:", "blob:", "about:", "file:")) or u.hostname in LOOPBACK:
            if not fonts and u.path.startswith("/ui/fonts/"):
                refused.append(r.request.url)
                return r.abort()
            return r.continue_()
        refused.append(r.request.url)
        return r.abort()

    ctx.route("**/*", route)
    try:
        page = ctx.new_page()
        if token:
            page.goto(f"{server}/login")
            page.fill("#token", token)
            with page.expect_navigation():
                page.click("#login-form button[type=submit]")
        page.goto(url, timeout=180_000)
        if ready:
            page.wait_for_function(ready, timeout=180_000)
        page.wait_for_selector(selector, state="visible", timeout=180_000)
        out = page.evaluate(_GLYPHS_JS, [selector, "浙江省"])
        cdp = ctx.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        out["platform_fonts"] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        out["shot"] = page.locator(selector).first.screenshot()
        out["refused"] = [u for u in refused if "/ui/fonts/" not in u]
        return out
    finally:
        ctx.close()


def _report(seen: dict, where: str) -> None:
    print(where, {k: v for k, v in seen.items() if k not in ("shot", "loaded")})  # shown with pytest -s


def _assert_glyphs(seen: dict, where: str) -> None:
    _report(seen, where)
    assert "error" not in seen, seen
    assert seen["family"].startswith(f'"{FONT_FAMILY}"'), f"{where}: the font stack does not start with {FONT_FAMILY}: {seen['family']}"
    assert seen["text"], f"{where}: no Chinese text in the element"
    for key in ("page", "extra"):
        m = seen[key]
        assert m["ink"] > 150, f"{where} ({key}): nothing drawn {m}"
        # a missing glyph is the same box as U+E000's, and the same as in DejaVu Sans; real glyphs differ
        assert m["vsBox"] > 150 and m["vsLatin"] > 150 and m["vsOther"] > 150, f"{where} ({key}): boxes {m}"
    custom = [f for f in seen["platform_fonts"] if f.get("isCustomFont")]
    assert custom and sum(f["glyphCount"] for f in custom) >= len(seen["text"]), \
        f"{where}: chromium drew the element with {seen['platform_fonts']}"
    assert seen["refused"] == [], f"{where}: requests left the machine {seen['refused']}"


def _assert_boxes(seen: dict, where: str) -> None:
    """The control: without the font, the same check sees boxes (so the check can fail)."""
    _report(seen, where)
    assert seen["family"].startswith(f'"{FONT_FAMILY}"')
    for key in ("page", "extra"):
        assert seen[key]["vsBox"] == 0 and seen[key]["vsOther"] == 0, f"{where} ({key}): {seen[key]}"
    assert not any(f.get("isCustomFont") for f in seen["platform_fonts"]), seen["platform_fonts"]


def _differ(a: bytes, b: bytes) -> bool:
    import io

    from PIL import Image, ImageChops

    ia, ib = (Image.open(io.BytesIO(x)).convert("L") for x in (a, b))
    if ia.size != ib.size:
        return True
    return ImageChops.difference(ia, ib).getbbox() is not None


PAGES = [
    ("home", "/", "header.top .brand", "viewer", None),
    ("metrics", "/ui/metrics", "main h1", "analyst", None),
    ("parks map", "/maps/parks", ".pp-place-county .pp-place-text", "viewer", "window.PARKPLAN && PARKPLAN.ready"),
]


@pytest.mark.browser
@pytest.mark.parametrize("where,path,selector,role,ready", PAGES, ids=[p[0] for p in PAGES])
def test_served_pages_draw_chinese_glyphs_without_system_cjk_fonts(fontless_browser, server, web, where, path,
                                                                   selector, role, ready):
    kw = {"server": server, "token": web.tokens[role], "ready": ready}
    seen = fontless_browser.run(lambda b: _look(b, server + path, selector, fonts=True, **kw))
    _assert_glyphs(seen, where)
    assert FONT_FAMILY in seen["loaded"]
    control = fontless_browser.run(lambda b: _look(b, server + path, selector, fonts=False, **kw))
    _assert_boxes(control, where + " without the served font")
    assert _differ(seen["shot"], control["shot"]), f"{where}: the element looks the same with and without the font"


@pytest.mark.browser
def test_map_file_draws_chinese_glyphs_offline_without_system_cjk_fonts(fontless_browser, dataset_path, tmp_path):
    from typer.testing import CliRunner

    from api.cli import app

    out = tmp_path / "parks.html"
    r = CliRunner().invoke(app, ["map", "parks", "-o", str(out), "--data", str(dataset_path)])
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert html.count('<style id="pp-font">') == 1 and "/ui/fonts/" not in html.replace('@import url(data:,)', "")
    selector, ready = ".pp-place-county .pp-place-text", "window.PARKPLAN && PARKPLAN.ready"
    seen = fontless_browser.run(lambda b: _look(b, out.as_uri(), selector, server=None, token=None, fonts=True,
                                                ready=ready))
    _assert_glyphs(seen, "map file")
    # the control: the same file without its embedded font
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r'<style id="pp-font">.*?</style>', "", html, flags=re.S), encoding="utf-8")
    control = fontless_browser.run(lambda b: _look(b, bare.as_uri(), selector, server=None, token=None, fonts=True,
                                                   ready=ready))
    _assert_boxes(control, "map file without its font")
    assert _differ(seen["shot"], control["shot"])


def test_serve_cuts_the_chunks_of_a_chinese_page_in_the_background(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from api.web.static import warm_font

    monkeypatch.setenv("PARKPLAN_FONT_CACHE", str(tmp_path))
    app = SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(warm=False)))
    assert warm_font(app) is None and not list(tmp_path.iterdir())  # tests and scripts: nothing cut
    app.state.settings.warm = True
    thread = warm_font(app)
    assert thread is not None
    thread.join(timeout=600)
    assert sorted(p.stem for p in webfont.cache_dir().iterdir()) == sorted(
        ["latin", "symbols", "gb1-0", "gb1-1", "gb1-2", "gb1-3"])
