"""The plan's numeric targets: read and validate a targets file (TOML, or CSV), built-in or edited by a user.

A target says which indicator it measures (:data:`INDICATORS`), in which unit the numbers are written
(:data:`UNITS`; converted on read to yuan, a share 0..1 or a count), its base year and value, its
target year and value, and the path between them (:data:`PATHS`). The built-in file
``geodata/data/targets_zhejiang.toml`` transcribes the plan's own targets with the sentence each
comes from. See ``docs/plan-monitoring.md``.

Every problem of a file is reported at once, each with the line it is on (tomllib only gives line
numbers for syntax errors, so the lines of keys are found by scanning the text) and what is accepted::

    targets.toml line 18: targets.tech_share_of_fai: unit 'yuan' is not a unit of a share; accepted: share, percent, %
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .messages import TARGETS, CodedError, Joined, Message, library_reason

__all__ = [
    "INDICATORS",
    "UNITS",
    "PATHS",
    "COMPARISONS",
    "Indicator",
    "Target",
    "Targets",
    "TargetsError",
    "builtin_targets_path",
    "load_targets",
    "parse_targets",
]


@dataclass(frozen=True)
class Indicator:
    id: str
    dimension: str  # "money" (yuan), "share" (0..1) or "count"
    zh: str
    en: str
    intensive: bool  # a share or rate: a county's value can be held against the province's target


INDICATORS: dict[str, Indicator] = {i.id: i for i in (
    Indicator("tech_investment", "money", "技术改造投资（当年）", "Technical-transformation investment (year)", False),
    Indicator("tech_investment_total", "money", "技术改造投资（期内累计）", "Technical-transformation investment (period to date)", False),
    Indicator("tech_investment_growth", "share", "技术改造投资年均增长率", "Average annual growth of technical-transformation investment", True),
    Indicator("tech_share_of_fai", "share", "技术改造投资占全社会固定资产投资比重", "Technical-transformation share of fixed-asset investment", True),
    Indicator("high_tech_share_of_value_added", "share", "高新技术产业增加值占规模以上工业增加值比重", "High-tech share of value added above designated size", True),
    Indicator("enterprises_sales_over_10bn", "count", "年销售收入100亿元以上企业数", "Enterprises with sales of 10 billion yuan or more", False),
    Indicator("enterprises_sales_over_5bn", "count", "年销售收入50亿元以上企业数", "Enterprises with sales of 5 billion yuan or more", False),
    Indicator("township_zones_built", "count", "建成乡镇工业专业区", "Township industrial zones built", False),
    Indicator("specialty_parks_built", "count", "建成特色工业园区", "Specialty industrial parks built", False),
)}

# unit name -> (dimension, factor to the canonical unit: yuan, share 0..1, count)
UNITS: dict[str, tuple[str, float]] = {
    "yuan": ("money", 1.0), "元": ("money", 1.0),
    "10k_yuan": ("money", 1e4), "万元": ("money", 1e4),
    "100m_yuan": ("money", 1e8), "亿元": ("money", 1e8),
    "billion_yuan": ("money", 1e9),
    "share": ("share", 1.0), "percent": ("share", 0.01), "%": ("share", 0.01),
    "count": ("count", 1.0), "个": ("count", 1.0), "家": ("count", 1.0),
}
_DIMENSION_NAMES = {"money": TARGETS("targets.dimension_money"), "share": TARGETS("targets.dimension_share"),
                    "count": TARGETS("targets.dimension_count")}

PATHS: dict[str, str] = {
    "linear": "a straight line from the base value in the base year to the target value in the target year "
              "(without a base value: from the data's value in the base year)",
    "constant": "the target value in every year after the base year (a rate to hold, e.g. growth of 12% a year)",
    "cumulative": "a running total from the year after the base year, rising evenly to the target value",
}
COMPARISONS = ("at_least", "at_most")

_TOP_KEYS = ("schema", "plan", "targets")
_PLAN_KEYS = ("name", "province", "period_start", "period_end")
_TARGET_KEYS = ("indicator", "unit", "quote", "section", "base_year", "base_value", "target_year", "target_value",
                "path", "comparison", "label_zh", "label_en", "note")
_REQUIRED = ("indicator", "unit", "base_year", "target_year", "target_value")
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


class TargetsError(CodedError):
    """A targets file is unreadable or holds a wrong key, value or unit; ``problems`` lists each by line (English
    text), ``messages`` the same problems as coded messages (:data:`geodata.messages.TARGETS`).

    The error's own code is ``targets.refused`` (the frame: the file and how many problems); ``str(exc)`` is the
    English text, ``geodata.messages.message(exc, "zh")`` the whole refusal in Chinese."""

    def __init__(self, source: str, problems: list[Message]):
        self.source = source
        self.messages = list(problems)
        self.problems = [str(p) for p in self.messages]
        shown: list[Message] = self.messages[:50]
        if len(problems) > 50:
            shown = shown + [TARGETS("targets.and_more", n=len(problems) - 50)]
        super().__init__(TARGETS("targets.refused", source=source, count=len(problems),
                                 problems=Joined(tuple(shown), "\n  ")))


@dataclass(frozen=True)
class Target:
    """One target, its numbers in canonical units (yuan, share 0..1, count)."""

    id: str
    indicator: str
    unit: str  # as written in the file (for display)
    base_year: int
    target_year: int
    target_value: float
    base_value: float | None = None
    path: str = "linear"
    comparison: str = "at_least"
    quote: str = ""
    section: str = ""
    label_zh: str = ""
    label_en: str = ""
    note: str = ""
    line: int | None = None

    @property
    def dimension(self) -> str:
        return INDICATORS[self.indicator].dimension

    @property
    def factor(self) -> float:
        """Canonical value = value as written x factor."""
        return UNITS[self.unit][1]

    def expected(self, year: int, base_from_data: float | None = None) -> float | None:
        """The target path's value in ``year`` (canonical units), or None before the base year.

        ``linear``: ``b + (t - b) (y - y0) / (y1 - y0)`` with ``b`` the base value (else ``base_from_data``);
        ``constant``: ``t`` for ``y > y0``; ``cumulative``: ``t (y - y0) / (y1 - y0)``. Past the target year
        the path stays at the target value.
        """
        y0, y1 = self.base_year, self.target_year
        if year < y0 or (self.path != "linear" and year == y0):
            return None
        frac = 1.0 if y1 == y0 else min(1.0, (year - y0) / (y1 - y0))
        if self.path == "constant":
            return self.target_value
        if self.path == "cumulative":
            return self.target_value * frac
        base = self.base_value if self.base_value is not None else base_from_data
        if base is None or not math.isfinite(base):
            return self.target_value if year >= y1 else None
        return base + (self.target_value - base) * frac

    def met(self, value: float | None, expected: float | None) -> bool | None:
        """Whether ``value`` meets ``expected`` (None when either is missing)."""
        if value is None or expected is None or not math.isfinite(value) or not math.isfinite(expected):
            return None
        return bool(value >= expected - 1e-12) if self.comparison == "at_least" else bool(value <= expected + 1e-12)

    def label(self, lang: str = "zh") -> str:
        ind = INDICATORS[self.indicator]
        return (self.label_en or ind.en) if lang == "en" else (self.label_zh or ind.zh)

    def to_dict(self) -> dict:
        return {"id": self.id, "indicator": self.indicator, "dimension": self.dimension, "unit": self.unit,
                "label_zh": self.label("zh"), "label_en": self.label("en"), "section": self.section, "quote": self.quote,
                "base_year": self.base_year, "base_value": self.base_value, "target_year": self.target_year,
                "target_value": self.target_value, "path": self.path, "comparison": self.comparison, "note": self.note}


@dataclass(frozen=True)
class Targets:
    targets: tuple[Target, ...]
    plan: dict = field(default_factory=dict)
    source: str = ""

    def __iter__(self):
        return iter(self.targets)

    def __len__(self) -> int:
        return len(self.targets)

    def by_id(self, target_id: str) -> Target:
        for t in self.targets:
            if t.id == target_id:
                return t
        raise KeyError(f"no target {target_id!r}; the file has: {', '.join(t.id for t in self.targets)}")


def builtin_targets_path() -> Path:
    """The built-in targets file (the plan's own targets, Zhejiang)."""
    return Path(str(resources.files("geodata") / "data" / "targets_zhejiang.toml"))


def load_targets(path: str | os.PathLike | None = None) -> Targets:
    """Read and validate a targets file (``.toml`` or ``.csv``); the built-in file when ``path`` is None."""
    path = Path(path) if path is not None else builtin_targets_path()
    if not path.exists():
        raise TargetsError(str(path), [TARGETS("targets.no_file")])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise TargetsError(str(path), [TARGETS("targets.encoding")]) from None
    fmt = "csv" if path.suffix.lower() == ".csv" else "toml"
    return parse_targets(text, source=path.name, fmt=fmt)


def parse_targets(text: str, source: str = "<targets>", fmt: str = "toml") -> Targets:
    """Validate the text of a targets file; raise :class:`TargetsError` listing every problem by line."""
    if fmt == "csv":
        return _parse_csv(text, source)
    if fmt != "toml":
        raise TargetsError(source, [TARGETS("targets.format", fmt=fmt)])
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TargetsError(source, [TARGETS("targets.not_toml", reason=library_reason(exc))]) from None
    lines = _key_lines(text)
    problems: list[Message] = []

    def where(*keypath: str) -> Message | str:
        line = lines.get(tuple(keypath))
        while line is None and len(keypath) > 1:  # a key not found: the line of its table
            keypath = keypath[:-1]
            line = lines.get(tuple(keypath))
        return TARGETS("targets.line", line=line) if line else ""

    for key in doc:
        if key not in _TOP_KEYS:
            problems.append(TARGETS("targets.unknown_top_key", where=where(key), key=key, accepted=", ".join(_TOP_KEYS)))
    if "schema" in doc and doc["schema"] != 1:
        problems.append(TARGETS("targets.schema", where=where("schema"), value=doc["schema"]))
    plan = doc.get("plan", {})
    if not isinstance(plan, dict):
        problems.append(TARGETS("targets.plan_table", where=where("plan")))
        plan = {}
    for key in plan:
        if key not in _PLAN_KEYS:
            problems.append(TARGETS("targets.plan_unknown_key", where=where("plan", key), key=key,
                                    accepted=", ".join(_PLAN_KEYS)))
    raw_targets = doc.get("targets")
    if not isinstance(raw_targets, dict) or not raw_targets:
        problems.append(TARGETS("targets.none", where=where("targets"), keys=", ".join(_REQUIRED)))
        raw_targets = {}
    targets = []
    for tid, entry in raw_targets.items():
        if not isinstance(entry, dict):
            problems.append(TARGETS("targets.entry_table", where=where("targets", tid), name=f"targets.{tid}"))
            continue
        t = _target(tid, entry, lambda *k, _tid=tid: where("targets", _tid, *k),
                    lines.get(("targets", tid)), problems)
        if t is not None:
            targets.append(t)
    if problems:
        raise TargetsError(source, problems)
    return Targets(tuple(targets), {k: plan[k] for k in plan}, source)


def _target(tid: str, entry: dict, where, line: int | None, problems: list[Message]) -> Target | None:
    """One target from its table, or None (with its problems added) when anything is wrong."""
    n0 = len(problems)
    name = f"targets.{tid}"
    if not _ID_RE.match(tid):
        problems.append(TARGETS("targets.bad_id", where=where(), name=name))
    for key in entry:
        if key not in _TARGET_KEYS:
            problems.append(TARGETS("targets.unknown_key", where=where(key), name=name, key=key,
                                    accepted=", ".join(_TARGET_KEYS)))
    for key in _REQUIRED:
        if key not in entry or entry[key] in ("", None):
            problems.append(TARGETS("targets.missing_key", where=where(), name=name, key=key,
                                    required=", ".join(_REQUIRED)))
    indicator = entry.get("indicator")
    if indicator is not None and indicator not in INDICATORS:
        problems.append(TARGETS("targets.unknown_indicator", where=where("indicator"), name=name, value=indicator,
                                accepted=", ".join(INDICATORS)))
    unit = entry.get("unit")
    if unit is not None:
        if unit not in UNITS:
            problems.append(TARGETS("targets.unknown_unit", where=where("unit"), name=name, value=unit,
                                    accepted=", ".join(UNITS)))
        elif indicator in INDICATORS:
            dim = INDICATORS[indicator].dimension
            if UNITS[unit][0] != dim:
                ok = [u for u, (d, _) in UNITS.items() if d == dim]
                problems.append(TARGETS("targets.wrong_unit", where=where("unit"), name=name, value=unit,
                                        dimension=_DIMENSION_NAMES[dim], indicator=indicator, accepted=", ".join(ok)))
    for key in ("base_year", "target_year"):
        v = entry.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or not 1900 <= v <= 2100):
            problems.append(TARGETS("targets.year", where=where(key), name=name, key=key, value=v))
    for key in ("base_value", "target_value"):
        v = entry.get(key)
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v)):
            problems.append(TARGETS("targets.number", where=where(key), name=name, key=key, value=v))
    path = entry.get("path", "linear")
    if path not in PATHS:
        problems.append(TARGETS("targets.unknown_path", where=where("path"), name=name, value=path,
                                accepted=", ".join(PATHS)))
    comparison = entry.get("comparison", "at_least")
    if comparison not in COMPARISONS:
        problems.append(TARGETS("targets.unknown_comparison", where=where("comparison"), name=name, value=comparison,
                                accepted=", ".join(COMPARISONS)))
    for key in ("quote", "section", "label_zh", "label_en", "note"):
        if key in entry and not isinstance(entry[key], str):
            problems.append(TARGETS("targets.text", where=where(key), name=name, key=key))
    by, ty = entry.get("base_year"), entry.get("target_year")
    if isinstance(by, int) and isinstance(ty, int) and ty < by:
        problems.append(TARGETS("targets.year_order", where=where("target_year"), name=name, target=ty, base=by))
    if len(problems) > n0:
        return None
    # the checks above added a problem unless these are present, known and whole years
    assert isinstance(indicator, str) and isinstance(unit, str) and isinstance(by, int) and isinstance(ty, int)
    factor = UNITS[unit][1]
    base = entry.get("base_value")
    return Target(id=tid, indicator=indicator, unit=unit, base_year=by, target_year=ty,
                  target_value=float(entry["target_value"]) * factor,
                  base_value=None if base is None else float(base) * factor, path=path, comparison=comparison,
                  quote=entry.get("quote", ""), section=entry.get("section", ""), label_zh=entry.get("label_zh", ""),
                  label_en=entry.get("label_en", ""), note=entry.get("note", ""), line=line)


_HEADER_RE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY_RE = re.compile(r"""^\s*((?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'))*)\s*=""")
_PART_RE = re.compile(r"""[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'""")


def _split_key(key: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _PART_RE.findall(key))


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Line (1-based) of every table header and key, by its full key path: ``("targets", "x", "unit") -> 18``.

    Enough TOML to place the keys of a targets file (tables, dotted and quoted keys); lines inside
    multi-line strings are skipped.
    """
    out: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_multiline = None
    for i, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        m = _HEADER_RE.match(line)
        if m and not line.lstrip().startswith("[["):
            table = _split_key(m.group(1))
            for n in range(1, len(table) + 1):
                out.setdefault(table[:n], i)
            continue
        m = _KEY_RE.match(line)
        if m:
            full = table + _split_key(m.group(1))
            for n in range(len(table) + 1, len(full) + 1):
                out.setdefault(full[:n], i)
            rest = line[m.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_multiline = quote
    return out


def _parse_csv(text: str, source: str) -> Targets:
    """CSV: a header row with ``id`` and the target keys, one target per row; line = the file's line."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    problems: list[Message] = []
    unknown = [h for h in header if h not in ("id",) + _TARGET_KEYS]
    if unknown:
        problems.append(TARGETS("targets.csv_unknown_columns", where=TARGETS("targets.line", line=1),
                                columns=", ".join(map(repr, unknown)), accepted=", ".join(("id",) + _TARGET_KEYS)))
    if "id" not in header:
        problems.append(TARGETS("targets.csv_no_id", where=TARGETS("targets.line", line=1)))
    targets = []
    for row in reader:
        line = reader.line_num
        entry: dict = {}
        for k, v in row.items():
            if k in unknown or k == "id" or k is None or v is None or v.strip() == "":
                continue
            v = v.strip()
            if k in ("base_year", "target_year"):
                try:
                    entry[k] = int(v)
                except ValueError:
                    entry[k] = v
            elif k in ("base_value", "target_value"):
                try:
                    entry[k] = float(v)
                except ValueError:
                    entry[k] = v
            else:
                entry[k] = v
        tid = (row.get("id") or "").strip()
        t = _target(tid, entry, lambda *k, _l=line: TARGETS("targets.line", line=_l), line, problems)
        if t is not None:
            targets.append(t)
    if not targets and not problems:
        problems.append(TARGETS("targets.csv_none", columns=", ".join(("id",) + _REQUIRED)))
    if problems:
        raise TargetsError(source, problems)
    return Targets(tuple(targets), {}, source)
