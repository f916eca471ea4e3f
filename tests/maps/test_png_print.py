"""PNG maps for reports (``parkplan map --png``): controls hidden, north arrow, and Chinese drawn from the
packaged font served with ``@font-face``, with every CJK system font hidden from Chromium."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from maps.printing import print_ready

CHROMIUM = os.environ.get("PARKPLAN_CHROMIUM") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
PAGE = ("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body style='margin:0;background:#fff'>"
        "<div style='font-size:64px;line-height:80px;padding:10px'>{text}</div></body></html>")


@pytest.fixture
def no_cjk_fonts(tmp_path, monkeypatch):
    """Chromium's fontconfig sees only Latin fonts (DejaVu, as on a fresh Debian): no CJK font. (With no
    font at all Chromium fails every web font of a page that needs a fallback, not a case to test.)"""
    latin = next((d for d in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")
                  if os.path.isdir(d)), None)
    if latin is None:
        pytest.skip("no DejaVu/Liberation fonts to stand for a fresh machine's Latin fonts")
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"<?xml version='1.0'?><fontconfig><dir>{latin}</dir><cachedir>{tmp_path / 'fc'}</cachedir>"
                    "</fontconfig>")
    listed = subprocess.run(["fc-list"], capture_output=True, text=True, env={**os.environ, "FONTCONFIG_FILE": str(conf)})
    assert "CJK" not in listed.stdout and "WenQuanYi" not in listed.stdout
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    monkeypatch.setenv("FONTCONFIG_PATH", str(tmp_path))
    monkeypatch.setenv("PARKPLAN_CHROMIUM", CHROMIUM or "")
    return tmp_path


def _shot(tmp_path, html: str, name: str):
    from PIL import Image

    from api.cli.map import screenshot

    page = tmp_path / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    png = screenshot(page, tmp_path / f"{name}.png", width=800, height=400, budget_ms=10000)
    return Image.open(io.BytesIO(png.read_bytes())).convert("L")


def _ink(img) -> int:
    """Dark pixels of the text's area (left of the north arrow)."""
    return sum(1 for v in img.crop((0, 0, 600, 120)).tobytes() if v < 128)


def test_print_ready_hides_controls_and_adds_the_north_arrow():
    page = print_ready("<html><head></head><body><div>浙江省 海宁市</div></body></html>")
    assert "@font-face" in page and "data:font/otf;base64," in page and 'id="pp-north"' in page
    assert ".leaflet-control-zoom, .leaflet-control-layers" in page and ".pp-search" in page
    with pytest.raises(ValueError, match="<head> and a <body>"):
        print_ready("<div>no page</div>")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian chromium")
def test_chinese_glyphs_drawn_from_the_served_font_without_cjk_fonts(no_cjk_fonts):
    """Two different Chinese strings draw different ink with the served font (a missing-glyph box looks
    the same for every character); without it, in the same Chromium, they are the same missing-glyph boxes."""
    tmp = no_cjk_fonts
    a = _shot(tmp, print_ready(PAGE.format(text="浙江海宁")), "a")
    b = _shot(tmp, print_ready(PAGE.format(text="温州龙泉")), "b")
    assert _ink(a) > 500 and _ink(b) > 500
    assert a.tobytes() != b.tobytes()
    # the control: the same two strings with no served font are indistinguishable boxes (or nothing)
    a0 = _shot(tmp, PAGE.format(text="浙江海宁"), "a0")
    b0 = _shot(tmp, PAGE.format(text="温州龙泉"), "b0")
    assert a0.tobytes() == b0.tobytes()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian chromium")
def test_parkplan_map_png_without_cjk_fonts(no_cjk_fonts, dataset_path):
    out = no_cjk_fonts / "parks.png"
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))}
    r = subprocess.run([sys.executable, "-c", "from api.cli import app; app()", "map", "parks", "-o", str(out), "--png",
                        "--data", str(dataset_path)], capture_output=True, text=True, env=env, timeout=600,
                       cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert r.returncode == 0, r.stderr[-2000:]
    from PIL import Image

    img = Image.open(out)
    img.save(os.environ.get("PARKPLAN_TEST_SHOTS", str(no_cjk_fonts)) + "/parks-map.png")
    assert img.size[0] > 800 and len(set(img.convert("L").tobytes())) > 20
