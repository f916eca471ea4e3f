"""``/ui/plan`` with the server's targets file invalid: a 500 page that names the problems by line, in the page's
language (the refusal's ``detail_zh`` in Chinese, its English ``detail`` with ``lang=en``), escaped, without paths."""

from __future__ import annotations

from .test_plan_page import plan_web  # noqa: F401 - the module's fixture

BAD = """[targets.a]
indicator = "tech_share_of_fai"
unit = "yuan"
base_year = 2000
target_year = 2005
target_value = "<b>30</b>"
"""


def test_an_invalid_targets_file_is_shown_in_the_pages_language(plan_web, monkeypatch, tmp_path):  # noqa: F811
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD, encoding="utf-8")
    monkeypatch.setenv("PARKPLAN_TARGETS", str(bad))
    c = plan_web.client
    zh = c.get("/ui/plan")
    assert zh.status_code == 500
    assert "服务器的目标文件无效：目标文件 bad.toml：2 个问题：" in zh.text, zh.text
    assert "第 3 行：targets.a：单位 &#39;yuan&#39; 不是比例的单位" in zh.text
    assert "第 6 行：targets.a：target_value &#39;&lt;b&gt;30&lt;/b&gt;&#39; 应为数字" in zh.text  # escaped
    assert "problem(s)" not in zh.text and str(tmp_path) not in zh.text
    en = c.get("/ui/plan?lang=en")
    assert en.status_code == 500 and "the server&#39;s targets file is not valid: targets file bad.toml: 2 problem(s)" in en.text
    assert "line 3: targets.a: unit &#39;yuan&#39; is not a unit of a share" in en.text
