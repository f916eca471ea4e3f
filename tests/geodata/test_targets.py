"""Targets files: the built-in one transcribes the plan; a wrong key, unit or value is refused with the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodata.targets import INDICATORS, TargetsError, builtin_targets_path, load_targets, parse_targets

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_95dbad208ad359a6.txt"


def builtin_text() -> str:
    return builtin_targets_path().read_text(encoding="utf-8")


def line_of(text: str, needle: str, after: str | None = None) -> int:
    """1-based line of the first line containing ``needle`` (after the first line containing ``after``)."""
    lines = text.splitlines()
    start = 0
    if after is not None:
        start = next(i for i, ln in enumerate(lines) if after in ln)
    return next(i for i, ln in enumerate(lines) if i >= start and needle in ln) + 1


def test_builtin_targets_are_the_plans():
    t = load_targets()
    by = {x.id: x for x in t}
    assert len(t) == 8 and {x.indicator for x in t} <= set(INDICATORS)
    assert by["tech_investment_growth"].target_value == pytest.approx(0.12)
    assert by["tech_investment_total"].target_value == pytest.approx(400e9)  # 4000亿元 in yuan
    assert by["tech_investment_total"].base_value == pytest.approx(235.6e9)
    assert by["tech_share_of_fai"].target_value == pytest.approx(0.30)
    assert by["high_tech_share"].target_value == pytest.approx(0.25)
    assert (by["enterprises_10bn"].target_value, by["enterprises_5bn"].target_value) == (5, 10)
    assert by["township_zones"].target_value == 100 and by["specialty_parks"].target_value == 100
    assert all(x.quote and x.section for x in t)
    assert t.plan["period_start"] == 2001 and t.plan["period_end"] == 2005


def test_every_quote_is_the_plans_sentence():
    if not SEED.exists():
        pytest.skip("the source document is not beside the checkout")
    source = SEED.read_text(encoding="utf-8")
    for t in load_targets():
        assert t.quote in source, t.id


@pytest.mark.parametrize("old,new,needle,after,match", [
    ('unit = "亿元"', 'unit = "percent"', 'unit = "percent"', "[targets.tech_investment_total]",
     r"unit 'percent' is not a unit of an amount of money .*accepted: yuan, 元, 10k_yuan, 万元, 100m_yuan, 亿元"),
    ('target_value = 30\n', 'target_value = 30\ntarget_valeu = 31\n', "target_valeu", None,
     r"unknown key 'target_valeu'; accepted: indicator, unit"),
    ('indicator = "tech_share_of_fai"', 'indicator = "tech_share"', 'indicator = "tech_share"', None,
     r"indicator 'tech_share' is not known; accepted: tech_investment,"),
    ('path = "cumulative"', 'path = "exponential"', 'path = "exponential"', None,
     r"path 'exponential' is not known; accepted: linear, constant, cumulative"),
    ("target_year = 2005\ntarget_value = 10\n", 'target_year = "2005"\ntarget_value = 10\n', 'target_year = "2005"', None,
     r"target_year '2005' must be a whole year"),
])
def test_a_wrong_key_or_unit_is_refused_naming_the_line(old, new, needle, after, match):
    text = builtin_text()
    assert old in text
    bad = text.replace(old, new, 1)
    with pytest.raises(TargetsError, match=match) as err:
        parse_targets(bad, source="mine.toml")
    line = line_of(bad, needle, after)
    assert f"line {line}:" in str(err.value)
    assert "mine.toml" in str(err.value) and len(err.value.problems) == 1


def test_every_problem_is_reported_at_once(tmp_path):
    bad = builtin_text().replace('unit = "家"', 'unit = "yuan"').replace("[plan]\n", "[plan]\ncolour = 1\n")
    p = tmp_path / "t.toml"
    p.write_text(bad, encoding="utf-8")
    with pytest.raises(TargetsError) as err:
        load_targets(p)
    problems = err.value.problems
    assert len(problems) == 3  # two targets in 家 and the unknown plan key
    assert problems[0].startswith(f"line {line_of(bad, 'colour')}:")
    assert all(p.startswith("line ") for p in problems)


def test_syntax_errors_and_missing_files():
    with pytest.raises(TargetsError, match=r"not valid TOML: .*line 3"):
        parse_targets('schema = 1\n[plan]\nname = "x\n')
    with pytest.raises(TargetsError, match="does not exist"):
        load_targets("/nonexistent/targets.toml")
    with pytest.raises(TargetsError, match="missing key 'target_value'"):
        parse_targets('[targets.a]\nindicator = "tech_investment"\nunit = "yuan"\nbase_year = 2000\ntarget_year = 2005\n')
    with pytest.raises(TargetsError, match="no targets"):
        parse_targets("schema = 1\n")


def test_csv_targets_and_their_lines(tmp_path):
    ok = tmp_path / "t.csv"
    ok.write_text("id,indicator,unit,base_year,target_year,target_value,quote\n"
                  "share,tech_share_of_fai,%,2000,2005,30,提高到30%\n"
                  "inv,tech_investment_total,万元,2000,2005,4000,\n", encoding="gb18030")
    t = load_targets(ok)
    assert t.by_id("share").target_value == pytest.approx(0.3) and t.by_id("inv").target_value == pytest.approx(4e7)
    bad = tmp_path / "b.csv"
    bad.write_text("id,indicator,unit,base_year,target_year,target_value\n"
                   "share,tech_share_of_fai,%,2000,2005,30\n"
                   "inv,tech_investment_total,percent,2000,2005,4000\n", encoding="utf-8")
    with pytest.raises(TargetsError, match=r"line 3: targets.inv: unit 'percent' is not a unit of an amount of money"):
        load_targets(bad)


def test_target_paths():
    t = parse_targets("""
[targets.lin]
indicator = "tech_share_of_fai"
unit = "percent"
base_year = 2000
target_year = 2005
target_value = 30
[targets.cum]
indicator = "tech_investment_total"
unit = "亿元"
base_year = 2000
base_value = 2356
target_year = 2005
target_value = 4000
path = "cumulative"
[targets.const]
indicator = "tech_investment_growth"
unit = "share"
base_year = 2000
target_year = 2005
target_value = 0.12
path = "constant"
""")
    lin, cum, const = t.by_id("lin"), t.by_id("cum"), t.by_id("const")
    # linear from the data's base value when the file gives none, reaching the target in the target year
    assert lin.expected(2000, 0.2) == pytest.approx(0.2) and lin.expected(2005, 0.2) == pytest.approx(0.3)
    assert lin.expected(2003, 0.2) == pytest.approx(0.2 + 0.1 * 3 / 5)
    assert lin.expected(1999, 0.2) is None and lin.expected(2007, 0.2) == pytest.approx(0.3)
    # cumulative: a running total from the year after the base, not the previous period's total
    assert cum.expected(2000) is None and cum.expected(2001) == pytest.approx(800e8)
    assert cum.expected(2005) == pytest.approx(4000e8)
    assert [const.expected(y) for y in (2000, 2001, 2005)] == [None, 0.12, 0.12]
    assert lin.met(0.31, 0.3) and not lin.met(0.29, 0.3) and lin.met(None, 0.3) is None
