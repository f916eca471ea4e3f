"""Labels of the web workspace in Chinese (default) and English (``?lang=en``).

One table, keyed by message id: the project's glossary (``geodata/data/glossary.csv`` through
:mod:`geodata.glossary`), which the maps, exports, PDF and command line read as well, so a concept
has one word everywhere. :func:`translator` returns the ``t(key, **kw)`` function that the templates
call. Sector, park-kind and pollution labels come from :func:`geodata.glossary.domain`, criterion
and reason labels from the domain modules.
"""

from __future__ import annotations

from collections.abc import Callable
import re
from functools import lru_cache

from geodata import glossary
from parks.suitability.plan_report import band_text

__all__ = ["LANGS", "DEFAULT_LANG", "MESSAGES", "pick_lang", "translator", "label", "reason_detail", "band_label"]

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

#: ``key -> (zh, en)``: the glossary (:mod:`geodata.glossary`), copied into a dict that page modules may
#: extend with page-only keys (a key the glossary has keeps the glossary's words).
MESSAGES: dict[str, tuple[str, str]] = dict(glossary.pairs())

#: page-only labels the glossary lacks (a key the glossary gains later keeps the glossary's words)
for _k, _v in {
    "per_mu_class_value": ("{cls} 类", "{cls}"),  # the per-mu classes A-D as the programme writes them ("A 类")
    "share_col": ("占比", "%"),
    "seconds_unit": ("秒", "s"),
    "cli_alloc_no_candidates": ("无候选企业", "no candidates"),
    "colon": ("：", ": "),
    # the Ripley chart's y-axis: L(r) − r is a distance, in metres
    "ripley_ylabel": ("L(r) − r（米）", "L(r) − r (m)"),
    # the plan page's answers to a bad query (a 400 page)
    "plan_bad_year": ("年份“{year}”无效：请填写年份，如 2003", "year '{year}': a year such as 2003"),
    "plan_year_range": ("年份 {year} 超出范围：应在 1900 至 2100 之间", "year {year}: between 1900 and 2100"),
    "plan_bad_key": ("重点企业筛选“{value}”无效：可选五个一批、小型巨人或全部",
                     "key '{value}': accepted key_enterprise, small_giant or nothing"),
    # the API's own refusals answered as a page under /ui (api.web.error_pages)
    "page_not_found": ("没有这个页面。", "No such page."),
    "method_not_allowed": ("此页面不接受这种请求方式。", "This page does not take this kind of request."),
    "body_too_large": ("提交的内容过大。", "What was sent is too large."),
    "request_invalid": ("网址中的参数无效。", "A parameter in the address is not valid."),
    "server_error": ("服务器内部错误。", "Internal server error."),
}.items():
    MESSAGES.setdefault(_k, _v)


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


def band_label(lang: str, from_km: float, to_km: float | None) -> str:
    """A distance band of the relocation report in ``lang``, from its bounds (the report's ``distance_bands``
    columns ``from_km`` / ``to_km``; ``to_km`` None, NaN or infinite for the open last band): as the report writes
    it in English (``0-10 km``, ``100+ km``: :func:`parks.suitability.plan_report.band_text`, which made the
    report's ``band`` text), ``0–10 公里`` / ``100 公里以上`` in Chinese."""
    return band_text(float(from_km), None if to_km is None else float(to_km), pick_lang(lang))


_NUM = r"(-?[\d.]+)"
#: ``code -> (pattern of the English detail, Chinese template)``: the detail of an exclusion reason
#: (``parks.suitability.constraints._message``) in Chinese, with its numbers; the groups fill the template
#: after :func:`_zh_value` turned codes (pollution classes, protected kinds, "inside") into words.
_REASON_ZH: dict[str, tuple[re.Pattern, str]] = {
    "free_land": (re.compile(rf"free land {_NUM} ha < need {_NUM} ha \({_NUM} ha \+ {_NUM}% margin\)"),
                  "可用土地 {0} 公顷，少于所需 {1} 公顷（用地 {2} 公顷另加 {3}% 余量）"),
    "pollution_class": (re.compile(r"pollution class (\w+) exceeds the park's maximum (\w+)"),
                        "污染等级{0:pollution}超过园区允许的最高等级{1:pollution}"),
    "catalogue_restricted": (re.compile(r"'restricted' in the catalogue: not into a (.+?) county \((\w+)\)"),
                             "属限制类，不得迁入{0:county_kind}县（{1}）"),
    "protected_area": (re.compile(r"park is (inside|[\d.]+ m from) a protected area \((\w+), [^)]*\); buffer ([\d.]+) m"),
                       "园区{0:where}，缓冲距离 {2} 米"),
    "max_distance": (re.compile(rf"{_NUM} km from the current site > maximum {_NUM} km"),
                     "距现址 {0} 公里，超过最大搬迁距离 {1} 公里"),
    "not_less_developed": (re.compile(r"county (\w+) is not less-developed"), "所在县（{0}）不是欠发达县（仅限欠发达县园区）"),
    "urban_core_park": (re.compile(r"the park lies in the urban core of (.+)"), "园区位于{0:city}城市中心区内"),
    "outside_city_band": (re.compile(rf"park in (.+), not the enterprise's city (.+), and {_NUM} km away > {_NUM} km"),
                          "园区在{0}，不在企业所在的{1}，且相距 {2} 公里，超过 {3} 公里"),
    "outside_county_band": (re.compile(rf"park in county (\w+), not the enterprise's county (\w+), and {_NUM} km away > "
                                       rf"{_NUM} km"),
                            "园区在县 {0}，不在企业所在的县 {1}，且相距 {2} 公里，超过 {3} 公里"),
}
_PROTECTED_ZH = {"ecological_redline": "生态保护红线", "permanent_farmland": "永久基本农田", "water_source": "饮用水水源保护区"}
_COUNTY_KIND_ZH = {"less-developed": "欠发达", "ecologically sensitive": "生态敏感", "less-developed and ecologically sensitive": "欠发达或生态敏感"}


def _zh_value(kind: str, value: str) -> str:
    if kind == "pollution":
        return label("zh", "pollution", value)
    if kind == "county_kind":
        return _COUNTY_KIND_ZH.get(value, value)
    if kind == "city":
        return "所在城市" if value == "its city" else value
    return value


def reason_detail(lang: str, reason: dict) -> str:
    """The detail of an exclusion reason (``{"code", "message", "message_zh"}``) in ``lang``: the English
    ``message`` as it is, in Chinese the same facts and numbers in Chinese; the Chinese label of the reason
    when the detail is not one of the known shapes (never the English text on a Chinese page)."""
    message = str(reason.get("message") or "")
    if pick_lang(lang) == "en":
        return message
    code = str(reason.get("code") or "")
    fallback = str(reason.get("message_zh") or label("zh", "reason", code))
    shape = _REASON_ZH.get(code)
    if shape is None:
        return fallback
    pattern, template = shape
    m = pattern.search(message)
    if m is None:
        return fallback
    values = m.groups()
    where = ""
    if code == "protected_area":  # "inside" / "94 m from" and the kind of protected area make one phrase
        area = f"保护区（{_PROTECTED_ZH.get(m.group(2), m.group(2))}）"
        where = f"位于{area}内" if m.group(1) == "inside" else f"距{area} {m.group(1).split()[0]} 米"

    def fill(k: re.Match) -> str:
        # one pass over the constant template: a value is never read again as a placeholder (a name from the data
        # that spells "{1}" stays text)
        i, kind = int(k.group(1)), k.group(2) or ""
        if kind == "where":
            return where
        return _zh_value(kind, values[i]) if i < len(values) else k.group(0)

    return re.sub(r"\{(\d+)(?::(\w+))?\}", fill, template)
