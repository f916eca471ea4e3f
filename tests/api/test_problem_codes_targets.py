"""The server's targets file, when it is not valid, answers 500 with the refusal's ``code`` and ``detail_zh`` (the
same problems in Chinese, by line) beside the English ``detail``."""

from __future__ import annotations

from tests.test_messages_zh_export_targets import BAD_TARGETS


def test_the_servers_bad_targets_file_answers_500_with_code_and_detail_zh(api, monkeypatch, tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text(BAD_TARGETS, encoding="utf-8")
    monkeypatch.setenv("PARKPLAN_TARGETS", str(bad))
    r = api.get("/plan/indicators", as_="analyst")
    doc = r.json()
    assert r.status_code == 500 and doc["detail"].startswith("the server's targets file is not valid: targets file t.toml")
    assert doc["code"] == "targets.refused"
    assert doc["detail_zh"].startswith("服务器的目标文件无效：目标文件 t.toml：6 个问题：") and "第 8 行" in doc["detail_zh"]
