"""Labels of the web workspace in Chinese (default) and English (``?lang=en``).

One table, keyed by message id: the project's glossary (``geodata/data/glossary.csv`` through
:mod:`geodata.glossary`), which the maps, exports, PDF and command line read as well, so a concept
has one word everywhere. :func:`translator` returns the ``t(key, **kw)`` function that the templates
call. Sector, park-kind and pollution labels come from :func:`geodata.glossary.domain`, criterion
and reason labels from the domain modules.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from geodata import glossary

__all__ = ["LANGS", "DEFAULT_LANG", "MESSAGES", "pick_lang", "translator", "label"]

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

#: ``key -> (zh, en)``: the glossary (:mod:`geodata.glossary`), copied into a dict that page modules may
#: extend with page-only keys (a key the glossary has keeps the glossary's words).
MESSAGES: dict[str, tuple[str, str]] = dict(glossary.pairs())


def pick_lang(value: str | None) -> str:
    """``'en'`` when asked for, else Chinese."""
    return value if value in LANGS else DEFAULT_LANG


def translator(lang: str) -> Callable[..., str]:
    i = LANGS.index(pick_lang(lang))

    def t(key: str, **kw) -> str:
        pair = MESSAGES.get(key)
        text = pair[i] if pair else key
        return text.format(**kw) if kw else text

    return t


@lru_cache(maxsize=4)  # constants (the glossary is read once): built once per language, not on every label()
def _domain_labels(lang: str) -> dict[str, dict[str, str]]:
    from parks.suitability.constraints import REASON_LABELS_ZH
    from parks.suitability.criteria import CRITERIA_LABELS_EN, CRITERIA_LABELS_ZH

    en = lang == "en"
    return {
        "sector": glossary.domain("sector", lang),
        "kind": glossary.domain("kind", lang),
        "pollution": glossary.domain("pollution", lang),
        "status": glossary.domain("status", lang),
        "decision": glossary.domain("decision", lang),
        "criterion": CRITERIA_LABELS_EN if en else CRITERIA_LABELS_ZH,
        "reason": {} if en else REASON_LABELS_ZH,
    }


def label(lang: str, family: str, key) -> str:
    """Label of a domain value (``family``: sector, kind, pollution, criterion, reason); the id itself if unknown."""
    if key is None:
        return ""
    return _domain_labels(pick_lang(lang)).get(family, {}).get(str(key), str(key))
