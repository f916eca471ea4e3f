"""Every command that prints a table, in Chinese and in English, on a wide (200) and a narrow (80)
terminal, read back cell by cell:

* no name is cut: the table is parsed back (a cell that folds onto the next lines is joined again) and
  every ``name (code)`` cell names the county or park the code says, whole;
* no ``6.43e-05``, no raw dict or list, no rich ellipsis;
* English output has no Chinese except names (places, parks, enterprises, the dataset's own provenance
  text); Chinese output has no English words except codes, ids, units and the statistics' proper names
  (as ``tests/web/test_language_scan.py`` reads the pages).

The import report's problem messages come from :mod:`geodata` in English (the CLI's own words around
them are translated): they are taken out before the scan and listed in ``GEODATA_MESSAGES``.
"""

from __future__ import annotations

import re
import shutil

import pytest
from typer.testing import CliRunner

from api.cli import app
from geodata.dataset import SPATIAL_LAYERS, TABLE_LAYERS
from geodata.schema import SECTOR_IDS

runner = CliRunner()
HAN = re.compile(r"[\u4e00-\u9fff]")
EXPONENT = re.compile(r"\d[eE][-+]\d")
CODE = re.compile(r"\((\d{6}|(?:TZ|SP)\d{3})\)")

#: Latin words a Chinese table may show: statistics' proper names (the glossary puts them after the Chinese),
#: units, coordinate systems, product names
ALLOWED_LATIN = {"Clark-Evans", "Ellison-Glaeser", "Maurel-Sédillot", "Ripley", "LISA", "Gi", "EG", "MS", "Moran",
                 "CR", "AHP", "EGK", "TD", "T", "L", "R", "r", "n", "p", "z", "km", "ha", "MB", "EPSG", "WGS", "CSV",
                 "Chromium", "Duranton-Overman", "sqlite", "memory", "dask", "A", "B", "C", "D", "gpkg", "xlsx", "csv",
                 "toml"}
#: ids a user types (layer and sector ids in the info tables, engines): codes, shown beside their names
IDS = set(SPATIAL_LAYERS) | set(TABLE_LAYERS) | set(SECTOR_IDS)


def parse_cells(text: str) -> list[list[str]]:
    """The body rows of every rich table in ``text``, each cell's folded lines joined (spaces removed): a
    line whose first cell is empty continues the row above (for tables whose first column never folds)."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip().replace(" ", "") for c in line.strip().strip("│").split("│")]
        if cells[0] or not rows or len(rows[-1]) != len(cells):
            rows.append(cells)
        else:
            rows[-1] = [a + c for a, c in zip(rows[-1], cells)]
    return rows


def parse_columns(text: str) -> list[list[str]]:
    """Each rich table in ``text`` as its columns, each column's body lines joined top to bottom (spaces
    removed): a cell that folds onto the next lines stays contiguous in its column."""
    tables: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("│"):
            current = None
            continue
        cells = [c.replace(" ", "") for c in line.strip().strip("│").split("│")]
        if current is None or len(current) != len(cells):
            current = [""] * len(cells)
            tables.append(current)
        current[:] = [a + c for a, c in zip(current, cells)]
    return tables


def check_names(text: str, counties: dict[str, str], parks: dict[str, str]) -> int:
    """Every ``name (code)`` in a table names, whole, what its code says; returns how many there were."""
    n = 0
    for columns in parse_columns(text):
        for column in columns:
            start = 0
            for m in CODE.finditer(column):
                code, before = m.group(1), column[start:m.start()]
                start = m.end()
                known = counties.get(code) if code.isdigit() else parks.get(code)
                if known is None:
                    continue  # a code shown without a name (e.g. a number in parentheses)
                assert before.endswith(known.replace(" ", "")), f"{before!r} does not end with {known!r} ({code})"
                n += 1
    return n


@pytest.fixture(scope="module")
def env(dataset_path, tmp_path_factory):
    """A private copy of the session dataset with proposed transfer candidates and a token."""
    d = tmp_path_factory.mktemp("cli-tables")
    data = d / "data.gpkg"
    shutil.copyfile(dataset_path, data)
    db = f"sqlite:///{d / 'reviews.sqlite'}"
    r = runner.invoke(app, ["transfers", "propose", "--data", str(data), "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    code = None
    from geodata.dataset import load_dataset

    ds = load_dataset(data)
    code = str(ds.counties["code"].iloc[0])
    r = runner.invoke(app, ["token", "create", "--role", "reviewer", "--office", code, "--label", "科室甲",
                            "--data", str(data), "--db", db])
    assert r.exit_code == 0, r.output
    bad = ds.enterprises.drop(columns="geometry").head(5).copy()
    bad["lon"], bad["lat"] = ds.enterprises.geometry.x.head(5).to_numpy(), ds.enterprises.geometry.y.head(5).to_numpy()
    good = bad.copy()
    bad.loc[bad.index[0], "sector"] = "txtile"
    bad.loc[bad.index[1], "pollution_class"] = "very heavy"
    bad.to_csv(d / "bad.csv", index=False)
    good["enterprise_id"] = [f"NEW{i}" for i in range(len(good))]
    good.rename(columns={"name": "企业名称"}).to_csv(d / "good.csv", index=False)
    return {"dir": d, "data": data, "db": db, "ds": ds,
            "enterprise": str(ds.enterprises["enterprise_id"].iloc[7])}


def _commands(env) -> dict[str, list[str]]:
    data, db = str(env["data"]), env["db"]
    return {
        "info": ["info", "--data", data],
        "suitability": ["suitability", "--enterprise", env["enterprise"], "--top", "5", "--sensitivity", "10",
                        "--data", data],
        "scenario": ["suitability", "--scenario", "urban-core", "--allocate", "--top", "3", "--data", data],
        "joint": ["suitability", "--scenario", "all", "--time-limit", "10", "--data", data],
        "plan": ["plan", "report", "--data", data],
        "transfers": ["transfers", "list", "--limit", "8", "--data", data, "--db", db],
        "token": ["token", "list", "--data", data, "--db", db],
        "metrics": ["metrics", "--sector", "textiles", "--simulations", "3", "--permutations", "99", "--top", "4",
                    "--trend", "--coagglomeration", "--data", data],
    }


#: the tables each command must show a county or park name beside its code in
WITH_NAMES = {"info", "suitability", "scenario", "joint", "transfers", "token", "metrics"}


def _names(ds) -> list[str]:
    names = set(ds.counties["name"].astype(str)) | set(ds.counties["city"].astype(str))
    names |= set(ds.parks["name"].astype(str)) | set(ds.enterprises["name"].astype(str))
    names |= set(ds.province["name"].astype(str)) | {"科室甲"}
    for v in (ds.metadata.get("provenance", {}).get("real") or {}).values():  # the dataset's own text
        names.add(str(v))
    return sorted(names, key=len, reverse=True)


@pytest.fixture(scope="module")
def outputs(env):
    out = {}
    for name, args in _commands(env).items():
        for lang, columns in (("zh", 200), ("en", 200), ("zh", 80), ("en", 80)):
            r = runner.invoke(app, [*args, "--lang", lang], env={"COLUMNS": str(columns)})
            assert r.exit_code == 0, (name, lang, r.output)
            out[name, lang, columns] = r.output
    return out


def _scan(text: str, lang: str, env, extra_names=()) -> list[str]:
    for n in [*extra_names, *_names(env["ds"])]:
        text = text.replace(n, " ")
    text = text.replace(str(env["dir"]), " ")
    text = re.sub(r"[\w.-]+\.(?:toml|csv|gpkg|xlsx|sqlite)\b", " ", text)  # file names are names
    if lang == "en":
        return HAN.findall(text)
    words = set(re.findall(r"[A-Za-z][A-Za-z_\-é]*", text)) - ALLOWED_LATIN - IDS
    ids = set(env["ds"].parks["park_id"].astype(str)) | set(env["ds"].enterprises["enterprise_id"].astype(str))
    return sorted(w for w in words if w not in ids and not re.fullmatch(r"(TC|TZ|SP|E)[-0-9a-f]*|[a-f0-9]+", w)
                  and len(w) > 2)


@pytest.mark.parametrize("name", ["info", "suitability", "scenario", "joint", "plan", "transfers", "token", "metrics"])
def test_tables_in_both_languages_and_widths(outputs, env, name):
    ds = env["ds"]
    counties = dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))
    parks = dict(zip(ds.parks["park_id"].astype(str), ds.parks["name"].astype(str)))
    for lang in ("zh", "en"):
        for columns in (200, 80):
            text = outputs[name, lang, columns]
            where = f"{name} --lang {lang} at COLUMNS={columns}"
            assert not EXPONENT.search(text), (where, EXPONENT.findall(text))
            assert "{'" not in text and "['" not in text, where  # no raw dict or list
            assert "…" not in text, where  # rich cut nothing
            shown = check_names(text, counties, parks)
            if name in WITH_NAMES:
                assert shown > 0, f"{where}: no name beside a code"
            if columns == 200:  # the words do not depend on the width; names folded at 80 would not match whole
                bad = _scan(text, lang, env)
                assert not bad, (where, bad[:20])
    # the wide terminal shows each name beside its code on one line
    if name in WITH_NAMES:
        assert re.search(r"\S+ \((\d{6}|(?:TZ|SP)\d{3})\)", outputs[name, "zh", 200])


def test_the_two_languages_differ_where_they_should(outputs):
    assert "推荐园区" in outputs["suitability", "zh", 200] and "Ranked parks" in outputs["suitability", "en", 200]
    assert "方案汇总" in outputs["scenario", "zh", 200] and "Summary" in outputs["scenario", "en", 200]
    assert "计划目标" in outputs["plan", "zh", 200] and "Targets" in outputs["plan", "en", 200]
    assert "待审核" in outputs["transfers", "zh", 200] and "pending" in outputs["transfers", "en", 200]
    assert "审核员" in outputs["token", "zh", 200] and "reviewer" in outputs["token", "en", 200]


def test_import_reports_in_both_languages(env, tmp_path):
    ds = env["ds"]
    counties = dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))
    parks = dict(zip(ds.parks["park_id"].astype(str), ds.parks["name"].astype(str)))
    for lang in ("zh", "en"):
        for columns in (200, 80):
            data = tmp_path / f"{lang}{columns}.gpkg"
            shutil.copyfile(env["data"], data)
            r = runner.invoke(app, ["import", "enterprises", str(env["dir"] / "bad.csv"), "--crs", "4326",
                                    "--data", str(data), "--lang", lang], env={"COLUMNS": str(columns)})
            assert r.exit_code == 2, r.output
            rows = parse_cells(r.output)
            # one row per problem: where (the file's row, translated), field, what, what is accepted
            assert {(row[0], row[1]) for row in rows} >= {
                ("第2行" if lang == "zh" else "row2", "sector"), ("第3行" if lang == "zh" else "row3", "pollution_class")}
            assert any("textiles" in row[2] + row[3] for row in rows)
            assert ("未导入任何数据" if lang == "zh" else "nothing was imported") in " ".join(r.output.split())
            assert "…" not in r.output
            r = runner.invoke(app, ["import", "enterprises", str(env["dir"] / "good.csv"), "--crs", "4326",
                                    "--mode", "append", "--data", str(data), "--lang", lang],
                              env={"COLUMNS": str(columns)})
            assert r.exit_code == 0, r.output
            assert ["企业名称", "name", ""] in parse_cells(r.output)
            text = " ".join(r.output.split())
            assert (f"已从 {env['dir'] / 'good.csv'} 导入 5 行" if lang == "zh" else "imported 5 row(s)") in text
            check_names(r.output, counties, parks)
            headers = [h for row in parse_cells(r.output) for h in row[:2]]  # the file's headers; field ids are codes
            if columns == 200:  # a path folded at 80 columns would not be taken out whole
                assert not _scan(r.output, lang, env, extra_names=[str(tmp_path), *headers])


def test_scale_outputs_in_both_languages(env, tmp_path):
    r = runner.invoke(app, ["export-parquet", "--data", str(env["data"]), "-o", str(tmp_path / "ent"),
                            "--partition-rows", "2000", "--lang", "en"])
    assert r.exit_code == 0, r.output
    for lang in ("zh", "en"):
        r = runner.invoke(app, ["join", "--data", str(env["data"]), "--enterprises-parquet", str(tmp_path / "ent"),
                                "-o", str(tmp_path / f"j-{lang}"), "--engine", "memory", "--lang", lang],
                          env={"COLUMNS": "200"})
        assert r.exit_code == 0, r.output
        rows = dict((row[0], row[1]) for row in parse_cells(r.output))
        assert rows["企业" if lang == "zh" else "Enterprises"] == f"{len(env['ds'].enterprises):,}"
        assert rows["分区数" if lang == "zh" else "partitions"] == "1"
        assert f"{tmp_path / f'j-{lang}'}" in r.output
        assert not _scan(r.output, lang, env, extra_names=[str(tmp_path / f"j-{lang}")])
        r = runner.invoke(app, ["batch", "--data", str(env["data"]), "--enterprises-parquet", str(tmp_path / f"j-{lang}"),
                                "-o", str(tmp_path / f"b-{lang}"), "--engine", "memory", "--top", "1", "--lang", lang],
                          env={"COLUMNS": "200"})
        assert r.exit_code == 0, r.output
        assert not EXPONENT.search(r.output)
        assert not _scan(r.output, lang, env, extra_names=[str(tmp_path / f"b-{lang}")])
        rows = parse_cells(r.output)
        assert len(rows) == 6 and all(re.fullmatch(r"[\d,]+(\.\d+)?", row[1]) for row in rows), rows


def test_parse_columns_keeps_folded_names_whole():
    text = ("┃ a ┃ b ┃\n"
            "│ 缙云机床 │ 1 │\n"
            "│ 工业园区 │   │\n"
            "│  (SP092) │   │\n"
            "│ 海宁市   │ 2 │\n"
            "│ (330481) │   │\n")
    assert parse_columns(text) == [["缙云机床工业园区(SP092)海宁市(330481)", "12"]]
    assert check_names(text, {"330481": "海宁市"}, {"SP092": "缙云机床工业园区"}) == 2
    with pytest.raises(AssertionError, match="does not end with"):
        check_names(text, {"330481": "海宁市"}, {"SP092": "缙云机床锯床特色工业园区"})
    assert parse_cells("│ 第 2 行 │ sector │\n│         │ s      │\n│ 第 3 行 │ x │\n") == [["第2行", "sectors"],
                                                                                      ["第3行", "x"]]
