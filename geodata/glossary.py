"""The one glossary of parkplan: every user-visible label in Chinese and English.

Pages (:mod:`api.web.i18n`), maps (:mod:`maps.i18n`), exports (Excel/CSV column names, the PDF review
sheet) and the command line's tables read their words from ``geodata/data/glossary.csv`` (columns
``key, zh, en``), so one concept has one word everywhere: the enterprise's sector is 行业, the
destination county 迁入县, an approved candidate 已批准 (the decision that makes it so: 批准).

Domain labels that carry more than a word (the eleven sectors with their industry-classification
divisions, pollution classes, park kinds) stay defined in :mod:`geodata.schema`; :func:`domain`
returns them in either language so callers need not know where they live.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Mapping

__all__ = ["LANGS", "GlossaryError", "terms", "term", "pairs", "domain", "check_lang"]

LANGS = ("zh", "en")


_FAMILIES = {"status": ("pending", "proposed", "approved", "rejected", "needs_info", "returned"),
             "decision": ("approved", "rejected", "needs_info")}


class GlossaryError(LookupError):
    """A key the glossary does not hold, or a language other than zh / en."""


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise GlossaryError(f"language {lang!r} not accepted; accepted: {', '.join(LANGS)}")
    return lang


@lru_cache(maxsize=1)
def pairs() -> Mapping[str, tuple[str, str]]:
    """Every entry, ``key -> (zh, en)``, read once from the data file (read-only)."""
    out: dict[str, tuple[str, str]] = {}
    text = resources.files("geodata.data").joinpath("glossary.csv").read_text(encoding="utf-8")
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        key, zh, en = (row.get(c) or "" for c in ("key", "zh", "en"))
        if not key or not zh or not en:
            raise GlossaryError(f"glossary.csv line {line}: key, zh and en must all be given (got {row!r})")
        if key in out:
            raise GlossaryError(f"glossary.csv line {line}: key {key!r} given twice")
        out[key] = (zh, en)
    return MappingProxyType(out)


def terms(lang: str = "zh") -> Mapping[str, str]:
    """``key -> label`` in ``lang``."""
    i = LANGS.index(check_lang(lang))
    return {k: v[i] for k, v in pairs().items()}


def term(key: str, lang: str = "zh") -> str:
    """The label of ``key`` in ``lang``; a key the glossary lacks is an error naming it."""
    pair = pairs().get(key)
    if pair is None:
        raise GlossaryError(f"glossary has no key {key!r}")
    return pair[LANGS.index(check_lang(lang))]


def domain(family: str, lang: str = "zh") -> dict[str, str]:
    """Labels of a domain family: ``sector``, ``kind``, ``pollution``, ``criterion``, ``status``, ``decision``."""
    from . import schema

    en = check_lang(lang) == "en"
    if family == "sector":
        return dict(schema.SECTOR_LABELS_EN if en else schema.SECTOR_LABELS_ZH)
    if family == "kind":
        return ({"township_zone": "township industrial zone", "specialty_park": "specialty industrial park"}
                if en else dict(schema.PARK_KIND_LABELS_ZH))
    if family == "pollution":
        return {"light": "light", "medium": "medium", "heavy": "heavy"} if en else dict(schema.POLLUTION_LABELS_ZH)
    if family in _FAMILIES:
        return {k: term(f"{family}_{k}", lang) for k in _FAMILIES[family]}
    raise GlossaryError(f"glossary family {family!r} unknown; accepted: sector, kind, pollution, status, decision")
