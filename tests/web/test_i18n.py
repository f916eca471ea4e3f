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
