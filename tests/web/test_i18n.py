"""Every label a template asks for exists in Chinese and English."""

from __future__ import annotations

import re
from pathlib import Path

from api.web import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"


def test_every_template_label_is_translated():
    used = set()
    for path in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z_0-9]+)'\)", path.read_text(encoding="utf-8")))
    # labels built from data: t('status_' ~ s), t('decision_' ~ d)
    from api.db import DECISIONS, STATUSES

    used |= {f"status_{s}" for s in STATUSES} | {f"decision_{d}" for d in DECISIONS}
    missing = sorted(k for k in used if k not in i18n.MESSAGES)
    assert missing == []
    for key in used:
        zh, en = i18n.MESSAGES[key]
        assert zh.strip() and en.strip(), key
        assert not re.search(r"[\u4e00-\u9fff]", en), (key, en)  # the English text has no Chinese left in it


def test_language_choice_and_domain_labels():
    assert i18n.pick_lang(None) == "zh" and i18n.pick_lang("fr") == "zh" and i18n.pick_lang("en") == "en"
    assert i18n.translator("zh")("parks") == "园区" and i18n.translator("en")("parks") == "Parks"
    assert i18n.label("zh", "sector", "textiles") == "纺织服装" and i18n.label("en", "sector", "textiles") != "纺织服装"
    assert i18n.label("en", "criterion", "distance") == "distance from current site"
    assert i18n.label("zh", "sector", "unknown-id") == "unknown-id"  # unknown ids pass through (escaped later)


def test_review_history_reads_in_the_pages_words():
    """A review's stored actor and UTC time as the candidate page shows them: 令牌 3（label） and China Standard Time
    (UTC+8) in Chinese; the label stays the user's text; something else is shown as it is."""
    from api.web.core import when, who

    assert when("2026-11-30T14:59:07.5Z") == "2026-11-30 22:59"
    assert when("2026-12-31T20:00:00+00:00") == "2027-01-01 04:00"  # the day after, in the province
    assert when("2026-11-30T14:59:07") == "2026-11-30 22:59"  # a naive time is the database's UTC
    assert when("not a time") == "not a time" and when(None) == ""
    assert who("token 3 (县经信局 <b>)", "zh") == "令牌 3（县经信局 <b>）"
    assert who("token 3", "zh") == "令牌 3" and who("token 3 (a (b))", "en") == "token 3 (a (b))"
    assert who("parkplan transfers propose", "zh") == "parkplan transfers propose"
