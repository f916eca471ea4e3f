"""The one CJK font (geodata.fonts) draws Chinese with the system's fonts hidden; the one glossary."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import textwrap

import pytest
from fontTools.ttLib import TTFont

from geodata import fonts, glossary

CJK = "浙江省海宁市皮革园区行业迁入县已批准堃"
TOFU = "\uffff"


def _glyph_ids(text: str) -> dict[str, int]:
    with TTFont(str(fonts.cjk_font_path()), lazy=True) as f:
        cmap, order = f.getBestCmap(), f.getGlyphOrder()
        return {c: order.index(cmap[ord(c)]) for c in text if ord(c) in cmap}


def test_font_comes_from_the_package_and_covers_chinese():
    path = fonts.cjk_font_path()
    assert path.name == fonts.FONT_FILE and "mplfonts" in path.parts
    assert fonts.covers(CJK) == []
    assert fonts.covers("A" + TOFU) == [TOFU]  # the check can fail


def test_env_font_must_be_a_font_file(monkeypatch, tmp_path):
    monkeypatch.setenv("PARKPLAN_CJK_FONT", str(tmp_path / "nothere.otf"))
    with pytest.raises(fonts.FontMissing, match="PARKPLAN_CJK_FONT=.*accepted: an existing .ttf or .otf"):
        fonts.cjk_font_path()


HIDDEN = textwrap.dedent("""
    import json, sys, base64, re
    import matplotlib.font_manager as fm
    # hide every system font: matplotlib sees only its own bundled fonts
    fm.X11FontDirectories[:] = []
    fm.OSXFontDirectories[:] = []
    fm._get_fontconfig_fonts = lambda: []
    fm.fontManager = fm.FontManager()
    names = sorted({f.name for f in fm.fontManager.ttflist})
    from api.web import charts
    uri = charts.bar_chart([sys.argv[1], sys.argv[2]], [2, 1], xlabel=sys.argv[1])
    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    glyphs = dict(re.findall(r'<path id="([^"]+)" d="([^"]*)"', svg))
    print(json.dumps({"names": names, "glyphs": {k: len(v) for k, v in glyphs.items()}}))
""")


def test_chart_draws_chinese_glyphs_with_system_fonts_hidden(tmp_path):
    """Each CJK character is drawn from the packaged font's own glyph (id = its glyph index), with ink;
    the tofu character is not in the font and falls back to matplotlib's last-resort box."""
    env = {"MPLCONFIGDIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", HIDDEN, CJK, TOFU], capture_output=True, text=True, env=env,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]), timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert not [n for n in res["names"] if "CJK" in n or "WenQuanYi" in n], res["names"]  # really hidden
    for ch, gid in _glyph_ids(CJK).items():
        key = f"NotoSansCJKsc-Regular-{gid:x}"
        assert res["glyphs"].get(key, 0) > 20, (ch, key)  # drawn from the font, with an outline
    assert any(k.startswith("LastResort") for k in res["glyphs"])  # the tofu char: the missing-glyph box


def test_truetype_subset_keeps_the_glyphs(tmp_path):
    data = fonts.truetype_subset(CJK + "12.5 公顷")
    path = tmp_path / "sub.ttf"
    path.write_bytes(data)
    with TTFont(str(path)) as f:
        assert "glyf" in f and "CFF " not in f
        cmap = f.getBestCmap()
        assert all(ord(c) in cmap for c in CJK)
        glyf = f["glyf"]
        assert all(glyf[cmap[ord(c)]].numberOfContours > 0 for c in CJK)  # ink, not an empty glyph


def test_glossary_one_word_per_concept():
    zh = glossary.terms("zh")
    assert zh["sector"] == "行业" and zh["destination_county"] == "迁入县" and zh["status_approved"] == "已批准"
    # the words the issue found twice are gone from every label
    for key, text in zh.items():
        assert "承接县" not in text and "同意" not in text and text != "产业", (key, text)
        assert not re.search(r"(按|选择)产业", text), (key, text)
    en = glossary.terms("en")
    assert set(zh) == set(en)
    for key, text in en.items():  # no Chinese left in English labels
        assert not re.search(r"[\u4e00-\u9fff]", text), (key, text)
    with pytest.raises(glossary.GlossaryError, match="no key 'nope'"):
        glossary.term("nope")
    with pytest.raises(glossary.GlossaryError, match="accepted: zh, en"):
        glossary.term("sector", "fr")


def test_pages_maps_and_exports_read_the_glossary():
    from api import exports
    from api.web import i18n
    from maps import i18n as map_i18n

    for key, pair in glossary.pairs().items():
        assert i18n.MESSAGES[key] == pair
        if key not in map_i18n._ALIASES:  # a map key named like a glossary key means that entry
            assert map_i18n.t(key, "zh") == pair[0] and map_i18n.t(key, "en") == pair[1]
    for alias, key in map_i18n._ALIASES.items():
        assert map_i18n.t(alias, "zh") == glossary.term(key, "zh"), alias
    assert set(exports.DECISION_COLUMNS.values()) <= {z for z, _ in glossary.pairs().values()}


def test_park_kinds_in_the_glossary_are_the_programme_words():
    """The park kinds read as the programme writes them (重点建好100个乡镇工业专业区和100个特色工业园区, the source
    document in ../shared/seed): the glossary, the data model's labels and the maps agree."""
    from geodata.schema import PARK_KIND_LABELS_ZH
    from maps import i18n as map_i18n

    assert PARK_KIND_LABELS_ZH == {"township_zone": "乡镇工业专业区", "specialty_park": "特色工业园区"}
    for kind, label in PARK_KIND_LABELS_ZH.items():
        assert glossary.term(kind, "zh") == label
        assert map_i18n.t(kind, "zh") == label
