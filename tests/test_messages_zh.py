"""Coded error messages in Chinese and English (:mod:`geodata.messages`): every code of the importer's, the
suitability model's and the metrics' catalogues has both templates with the same placeholders; every refusal
in ``geodata/`` and ``parks/`` (suitability, import read, dataset and metrics errors) is raised with a code;
the Chinese command line shows a bad import and an unknown enterprise without an English sentence (only
codes, ids, field names and the user's values). More refusals on the Chinese command line and in the API:
``tests/test_messages_zh_refusals.py``."""

from __future__ import annotations

import ast
import pickle
import re
import string
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from geodata.messages import BOUNDARIES, EXPORT, IMPORT, TARGETS, Catalogue, Localised, message, placeholders
from api.cli._usage import USAGE
from parks.metrics.messages import METRICS
from parks.suitability.messages import SUITABILITY

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = {"import": IMPORT, "suitability": SUITABILITY, "metrics": METRICS, "export": EXPORT, "targets": TARGETS,
              "boundaries": BOUNDARIES, "usage": USAGE}
#: catalogues with few codes (every refusal of one module)
_SMALL = {"export": 8, "targets": 25, "boundaries": 3, "usage": 20}
HAN = re.compile(r"[\u4e00-\u9fff]")
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|“[^”\n]*”")
_RUN = re.compile(r"(?<![\w./:-])[A-Za-z]+(?:[ \t]+[A-Za-z]+)*(?![\w(/.:-])")
#: English words that never stand alone as an id, a field name or a value in parkplan's output
_PROSE_WORDS = {"row", "rows", "feature", "file", "column", "columns", "is", "not", "the", "and", "of", "in", "to",
                "must", "be", "got", "accepted", "expected", "needs", "has", "with", "problem", "problems",
                "nothing", "imported", "layer", "more", "unknown", "missing", "lies", "outside", "empty", "number"}


def english_sentences(text: str) -> list[str]:
    """English prose outside quoted values: a run of two or more words (not all single letters, as in
    ``n x n``), or a lone word of prose (``row 3``). Ids, field names and values are single tokens
    (``textiles``, ``enterprise_id``, ``'txtile'``, ``parks.joins.prepare(ds)``, ``GB/T``, ``--crs``)."""
    found = []
    for m in _RUN.finditer(_QUOTED.sub("''", text)):
        words = m.group().split()
        if (len(words) > 1 and any(len(w) > 1 for w in words)) or (len(words) == 1 and words[0].lower() in _PROSE_WORDS):
            found.append(m.group())
    return found


def test_the_detector_finds_english_and_passes_codes_and_values():
    assert english_sentences("row 3: 'x' is not a number") == ["row", "is not a number"]
    assert english_sentences("第 3 行：'is not a number' 不是数字；可接受的值：textiles, light_industry") == []
    assert english_sentences("缺少列 county_code；请用 parks.joins.prepare(ds) 求出（--crs 4326, EPSG:4549）") == []
    assert english_sentences("lambda_max = 1.5，CR = 0.2；'a/b' 是/否、Y/N、true/false（n x n）GB/T 4754") == []
    assert english_sentences("error: 1 problem") == ["problem"] and english_sentences("two words") == ["two words"]


def _sample(template: str) -> dict:
    """A value for each placeholder: a number where the template formats one (``{cr:.3f}``), else text."""
    return {name.split(".")[0]: (1.5 if spec else "V1") for _, name, spec, _ in string.Formatter().parse(template)
            if name}


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_every_code_has_both_templates_with_the_same_placeholders(name):
    cat = CATALOGUES[name]
    assert len(cat) >= _SMALL.get(name, 21)
    for code, (en, zh) in cat.items():
        assert placeholders(en) == placeholders(zh), code
        if HAN.search(zh) is None:  # only templates that are placeholders and symbols may lack Chinese
            assert not re.search(r"[A-Za-z]{2,}", string.Formatter().vformat(zh, (), {k: (0 if isinstance(v, float) else "")
                                                                                for k, v in _sample(zh).items()})), code
        params = _sample(en)
        assert str(cat(code, **params)) == string.Formatter().vformat(en, (), params)
        assert english_sentences(cat(code, **params).render("zh")) == [], (code, cat(code, **params).render("zh"))


def test_the_chinese_words_are_the_glossarys():
    from geodata import glossary
    from geodata._problems import where_label

    assert glossary.term("cli_accepted", "zh") in IMPORT["import.group_accepted"][1]
    assert where_label("row 17").render("zh") == glossary.term("cli_where_row", "zh").format(n=17) == "第 17 行"
    assert where_label("feature 3").render("zh") == "第 3 个要素" and where_label("file").render("zh") == "文件"
    assert where_label("row 17").render("en") == "row 17"
    assert glossary.term("cli_layer_enterprises", "zh") == "企业"  # the layer name in the refusal's head


def test_a_catalogue_refuses_mismatched_placeholders_and_wrong_parameters():
    with pytest.raises(ValueError, match=r"'x' has placeholders \['a'\] in English but \['b'\] in Chinese"):
        Catalogue("t", {"x": ("{a} is bad", "{b} 不好")})
    with pytest.raises(KeyError, match="no code 'nope'"):
        IMPORT("nope")
    with pytest.raises(TypeError, match=r"takes \['value'\], got \['v'\]"):
        IMPORT("value.not_a_number", v=1)


def test_values_are_never_template_source():
    hostile = "{value} {0} {__class__} <script>"
    m = IMPORT("value.not_a_number", value=hostile)
    assert str(m) == f"{hostile!r} is not a number" and m.render("zh") == f"{hostile!r} 不是数字"
    nested = SUITABILITY("profile.fields", what=SUITABILITY("profile.unknown_field", name="{what}"), accepted="a, b")
    assert nested.render("zh") == "企业概况含有未知字段 '{what}'；可接受的字段：a, b"
    assert Localised("parks", "园区").render("zh") == "园区"


def test_errors_keep_their_english_text_and_survive_pickling():
    from geodata._problems import ImportValidationError, Problem
    from parks.suitability import SuitabilityError, UnknownEnterpriseError

    exc = UnknownEnterpriseError("enterprise.unknown", enterprise_id="E9")
    assert str(exc) == "enterprise_id 'E9' is not in the dataset" and isinstance(exc, LookupError)
    assert message(exc, "zh") == "企业编号 'E9' 不在数据集中" and message(exc, "en") == str(exc)
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is UnknownEnterpriseError and str(back) == str(exc) and back.text == exc.text
    assert message(ValueError("plain"), "zh") == "plain"  # an uncoded error is shown as it is
    p = Problem("row 7", "sector", IMPORT("value.not_accepted_did_you_mean", value="txtile", suggestion="textiles"))
    err = ImportValidationError([p], source="a.csv", layer="enterprises")
    assert str(err) == ("1 problem in a.csv (layer enterprises); nothing was imported:\n- column 'sector':\n"
                        "    row 7: 'txtile' is not accepted (did you mean 'textiles'?)")
    assert message(err, "zh") == ("1 个问题（文件 a.csv）（图层：企业），未导入任何数据：\n- 列 'sector'：\n"
                                  "    第 7 行：'txtile' 不是可接受的值（是否指 'textiles'？）")
    assert str(pickle.loads(pickle.dumps(err))) == str(err)
    with pytest.raises(SuitabilityError):
        raise SuitabilityError("weights.all_zero")


# ------------------------------------------------------------------ every refusal carries a code

_RAISERS = {"SuitabilityError": SUITABILITY, "UnknownEnterpriseError": SUITABILITY,
            "InconsistentJudgementsError": SUITABILITY, "ImportReadError": IMPORT, "DatasetError": IMPORT,
            "MetricsError": METRICS, "ExportError": EXPORT, "BoundaryError": BOUNDARIES}
_MAKERS = {"IMPORT": IMPORT, "SUITABILITY": SUITABILITY, "METRICS": METRICS, "TARGETS": TARGETS, "EXPORT": EXPORT,
           "BOUNDARIES": BOUNDARIES}


def _calls():
    for folder in ("geodata", "parks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    yield path.relative_to(ROOT), node


def _check_code(where, node, cat) -> None:
    assert node.args, f"{where}: no code"
    code = node.args[0]
    keywords = {k.arg for k in node.keywords}
    if isinstance(code, ast.Constant):
        assert code.value in cat, f"{where}: code {code.value!r} is not in the {cat.name} catalogue"
        if None not in keywords:  # no **params
            assert keywords == placeholders(cat[code.value][0]), f"{where}: {code.value!r} takes other parameters"
    else:  # a code chosen at run time: each candidate is checked where it is made (few such places)
        assert isinstance(code, (ast.Name, ast.JoinedStr, ast.IfExp)), f"{where}: code is {ast.dump(code)[:60]}"


def test_every_refusal_in_geodata_and_parks_is_raised_with_a_code():
    seen = {"raise": 0, "Problem": 0, "made": 0}
    by_class: dict[str, int] = {}
    for path, node in _calls():
        name, where = node.func.id, f"{path}:{node.lineno}"
        if name in _RAISERS:
            seen["raise"] += 1
            by_class[name] = by_class.get(name, 0) + 1
            _check_code(where, node, _RAISERS[name])
        elif name in _MAKERS:
            seen["made"] += 1
            _check_code(where, node, _MAKERS[name])
        elif name == "Problem":
            seen["Problem"] += 1
            assert len(node.args) >= 3 and not any(k.arg == "accepted" for k in node.keywords), where
            text = node.args[2]
            assert not isinstance(text, (ast.Constant, ast.JoinedStr, ast.BinOp)), f"{where}: a Problem with prose"
            if isinstance(text, ast.Call) and isinstance(text.func, ast.Name):
                assert text.func.id == "IMPORT", where
        elif name == "TargetsError":  # (source, [problems]): each problem a TARGETS message, checked as made
            seen["targets"] = seen.get("targets", 0) + 1
            assert len(node.args) == 2 and not node.keywords, where
            problems = node.args[1]
            if isinstance(problems, ast.List):
                assert problems.elts and all(isinstance(e, ast.Call) and isinstance(e.func, ast.Name)
                                             and e.func.id == "TARGETS" for e in problems.elts), f"{where}: prose"
            else:
                assert isinstance(problems, ast.Name) and problems.id == "problems", where
    assert seen["raise"] >= 78 + 60 and seen["Problem"] >= 19 and seen["made"] >= 60, seen
    assert by_class.get("ExportError", 0) >= 8 and by_class.get("BoundaryError", 0) >= 2, by_class
    assert seen.get("targets", 0) >= 6, seen
    # the classes this scan was extended to: all their raise sites (readers, dataset, importer, parks/metrics)
    assert by_class.get("ImportReadError", 0) >= 15 and by_class.get("DatasetError", 0) >= 8, by_class
    assert by_class.get("MetricsError", 0) >= 42, by_class


def test_the_importers_errors_and_metrics_errors_are_raised_with_codes_only():
    """Every ``raise`` in the modules that raise these errors raises a coded error (no stray ``ValueError`` with
    a sentence is left in readers, dataset, importer or parks/metrics), and a sentence instead of a code fails."""
    from geodata.dataset import DatasetError
    from geodata.readers import ImportReadError
    from parks.metrics import MetricsError

    from geodata.boundaries import BoundaryError
    from geodata.writers import ExportError

    files = [ROOT / "geodata" / n for n in ("readers.py", "dataset.py", "importer.py", "writers.py", "targets.py",
                                            "boundaries.py")]
    files += sorted((ROOT / "parks" / "metrics").glob("*.py"))
    prose = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                if node.exc.func.id in ("ValueError", "TypeError", "LookupError", "KeyError"):
                    prose.append(f"{path.relative_to(ROOT)}:{node.lineno} raises {node.exc.func.id}")
    # Targets.by_id: a mapping's KeyError for a caller's id (no command or route takes a target id from a user)
    assert [p for p in prose if not (p.startswith("geodata/targets.py:") and p.endswith("KeyError"))] == []
    assert len(prose) <= 1, prose
    for cls in (ImportReadError, DatasetError, MetricsError, ExportError, BoundaryError):
        with pytest.raises(KeyError, match="no code"):
            cls("layer has no CRS")


def test_no_suitability_error_is_raised_with_prose():
    from parks.suitability import SuitabilityError

    with pytest.raises(KeyError, match="no code"):
        SuitabilityError("top must be a positive integer, got 0")


# ------------------------------------------------------------------ the Chinese command line

@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def _bad_gbk_csv(path: Path) -> Path:
    """A register as a county office sends it: GBK, Chinese headers, AMap-free WGS 84 coordinates, and bad rows."""
    frame = pd.DataFrame({
        "企业编号": ["G0001", "G0002", "G0002", "G0004"],
        "企业名称": ["杭州甲纺织有限公司", "<script>alert(1)</script>", "宁波丙机械厂", "温州丁制药"],
        "行业": ["纺织服装", "txtile", "机械", "C99"],
        "从业人员": ["120", "abc", "-5", "80"],
        "占地面积(亩)": ["30", "12", "15", "9"],
        "污染等级": ["轻度", "heavvy", "中度", "轻度"],
        "经度": ["120.15", "120.2", "30.1", "121.0"],
        "纬度": ["30.28", "30.3", "120.5", "45.0"],
    })
    path.write_bytes(frame.to_csv(index=False).encode("gbk"))
    return path


def test_a_bad_gbk_import_in_chinese_has_no_english_sentence(runner, tmp_dataset_path, tmp_path):
    from api.cli import app

    csv = _bad_gbk_csv(tmp_path / "企业名录.csv")
    before = tmp_dataset_path.read_bytes()
    res = runner.invoke(app, ["import", "enterprises", str(csv), "--crs", "4326", "--data", str(tmp_dataset_path),
                              "--lang", "zh"], env={"COLUMNS": "250"})
    assert res.exit_code == 2, res.output
    assert tmp_dataset_path.read_bytes() == before
    text = res.output
    for expected in ("第 3 行", "'txtile' 不是可接受的值（是否指 'textiles'？）", "'abc' 不是数字", "编号 'G0002' 重复",
                     "'-5' 小于最小值 0", "位于浙江省之外", "GB/T 4754"):
        assert expected in text, (expected, text)
    assert english_sentences(text) == [], text
    en = runner.invoke(app, ["import", "enterprises", str(csv), "--crs", "4326", "--data", str(tmp_dataset_path),
                             "--lang", "en"], env={"COLUMNS": "250"})
    assert "'txtile' is not accepted (did you mean 'textiles'?)" in en.output and "'abc' is not a number" in en.output
    assert not HAN.search(_QUOTED.sub("", re.sub(r"\S*[\u4e00-\u9fff]\S*(?=\s*\()", "", en.output)).split("accepted")[0])


def test_the_import_problems_render_whole_in_chinese(dataset_path, tmp_path):
    from geodata.readers import read_table
    from geodata.validate import ImportValidationError, validate_layer

    raw = read_table(_bad_gbk_csv(tmp_path / "r.csv"), target="enterprises")
    with pytest.raises(ImportValidationError) as info:
        validate_layer(raw, "enterprises", crs=4326)
    zh = message(info.value, "zh")
    assert zh.startswith(f"{len(info.value.problems)} 个问题（文件 r.csv）（图层：企业），未导入任何数据：")
    assert english_sentences(zh) == [], zh
    assert {p.code for p in info.value.problems} >= {"value.not_accepted_did_you_mean", "value.not_a_number",
                                                     "id.duplicate", "value.below_minimum"}
    assert str(info.value).startswith(f"{len(info.value.problems)} problems in r.csv (layer enterprises)")


def test_an_unknown_enterprise_in_chinese_has_no_english_sentence(runner, dataset_path):
    from api.cli import app

    res = runner.invoke(app, ["suitability", "--enterprise", "E-NOPE-4711", "--data", str(dataset_path),
                              "--lang", "zh"], env={"COLUMNS": "250"})
    assert res.exit_code == 2
    assert "企业编号 'E-NOPE-4711' 不在数据集中" in res.output, res.output
    assert english_sentences(res.output) == [], res.output
    en = runner.invoke(app, ["suitability", "--enterprise", "E-NOPE-4711", "--data", str(dataset_path),
                             "--lang", "en"], env={"COLUMNS": "250"})
    assert "enterprise_id 'E-NOPE-4711' is not in the dataset" in en.output


def test_a_bad_weights_file_in_chinese(runner, dataset_path, tmp_path):
    from api.cli import app

    weights = tmp_path / "w.json"
    weights.write_text('{"labour": -1}', encoding="utf-8")
    eid = "E000001"
    res = runner.invoke(app, ["suitability", "--enterprise", eid, "--weights", str(weights), "--data",
                              str(dataset_path), "--lang", "zh"], env={"COLUMNS": "250"})
    assert res.exit_code == 2
    assert "准则 'labour' 的权重应 >= 0，实际为 -1" in res.output, res.output
    assert english_sentences(res.output) == [], res.output
