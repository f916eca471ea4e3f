"""The errors coded this session (FlowsError, ScaleError, MapError, ReferenceDataError, ParquetStoreError,
AdminError) and the command line's own refusals (CLI): every code has an English and a Chinese template with the
same placeholders, the Chinese reads without an English sentence; every raise site in the source carries a code of
its catalogue with that code's parameters (AST scan); each class is raised through a real path with bad input, where
its English text is the one it always was (word for word) and its Chinese text names the same values; the classes
are still ValueErrors and picklable."""

from __future__ import annotations

import ast
import itertools
import pickle
import re
import string
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from api.cli._messages import CLI
from api.jobs.admin import ADMIN, AdminError
from geodata.messages import PARQUET, REFERENCE, CodedError, message, placeholders
from geodata.parquet import ParquetStoreError
from geodata.reference import ReferenceDataError
from geodata.schema import SECTOR_IDS
from maps.i18n import MapLangError
from maps.messages import MAPS, MapError
from parks.flows import FLOWS, FlowsError
from parks.scale import SCALE, ScaleError
from tests.test_messages_zh import HAN, english_sentences

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = {"flows": FLOWS, "scale": SCALE, "maps": MAPS, "reference": REFERENCE, "parquet": PARQUET,
              "admin": ADMIN, "cli": CLI}
#: each coded class and the catalogue its codes come from
CLASSES = {"FlowsError": FLOWS, "ScaleError": SCALE, "MapError": MAPS, "MapLangError": MAPS,
           "ReferenceDataError": REFERENCE,
           "ParquetStoreError": PARQUET, "AdminError": ADMIN, "CLI": CLI}


def _sample(template: str) -> dict:
    return {name.split(".")[0].split("[")[0]: (1.5 if spec else "V1")
            for _, name, spec, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_every_code_has_both_templates_with_the_same_placeholders(name):
    cat = CATALOGUES[name]
    assert len(cat) >= 4
    for code, (en, zh) in cat.items():
        assert placeholders(en) == placeholders(zh), code
        params = _sample(en)
        assert str(cat(code, **params)) == string.Formatter().vformat(en, (), params)
        zh_text = cat(code, **params).render("zh")
        if code not in ("cli.json_or_toml",):  # 'JSON 或 TOML': format names and one Chinese word
            assert HAN.search(zh_text), code
        assert english_sentences(zh_text) == [], (code, zh_text)


def _calls(names: set[str]):
    """(file, line, class name, call) of every call of one of ``names`` in the product's source."""
    for base in ("geodata", "parks", "maps", "api"):
        for path in sorted((ROOT / base).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    f = node.func
                    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                    if name in names:
                        yield path.relative_to(ROOT), node.lineno, name, node


def _codes(arg: ast.expr) -> list[str] | None:
    """The code(s) a call's first argument names: a constant, or ``"a" if c else "b"``; None for anything else."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value]
    if isinstance(arg, ast.IfExp):
        a, b = _codes(arg.body), _codes(arg.orelse)
        return a + b if a is not None and b is not None else None
    return None


def test_the_scan_tells_a_code_from_a_sentence():
    def first_arg(src: str) -> ast.expr:
        return next(n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Call)).args[0]

    assert _codes(first_arg('MapError("map.county", county=c)')) == ["map.county"]
    assert _codes(first_arg('MapError("map.a" if p else "map.b")')) == ["map.a", "map.b"]
    assert _codes(first_arg('MapError(f"county {c!r} not found")')) is None
    assert _codes(first_arg('MapError(str(exc))')) is None


def test_every_raise_site_carries_a_code_of_its_catalogue_with_its_parameters():
    seen = {name: 0 for name in CLASSES}
    for where, line, name, call in _calls(set(CLASSES)):
        if where.name in ("messages.py",) and name != "CLI" and not call.args:
            continue
        assert call.args, f"{where}:{line}: {name}() without a code"
        codes = _codes(call.args[0])
        assert codes, f"{where}:{line}: {name}(...) is raised with {ast.unparse(call.args[0])}, not a code"
        given = {k.arg for k in call.keywords if k.arg is not None}
        spread = any(k.arg is None for k in call.keywords)  # **params: checked when the message is made
        for code in codes:
            assert code in CLASSES[name], f"{where}:{line}: {code!r} is not a code of {CLASSES[name].name}"
            wanted = placeholders(CLASSES[name][code][0])
            assert given <= wanted if spread else given == wanted, (f"{where}:{line}: {code} takes {sorted(wanted)}, "
                                                                    f"given {sorted(given)}")
        seen[name] += 1
    # each class is raised somewhere (a scan that finds nothing would pass for the wrong reason)
    assert all(seen.values()), seen


def _check(exc: CodedError, english: str, *values: str) -> str:
    """``exc``'s English is ``english`` word for word; its Chinese names ``values`` and has no English sentence."""
    assert isinstance(exc, ValueError)
    assert str(exc) == english
    zh = message(exc, "zh")
    assert HAN.search(zh) and english_sentences(zh) == [], zh
    for v in values:
        assert v in zh, (v, zh)
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc) and str(back) == english and message(back, "zh") == zh
    return zh


# ---- FlowsError: parks.flows.county_flows with bad input


def _flows_inputs():
    counties = pd.DataFrame({"code": ["330101", "330102"], "name": ["A", "B"], "city": ["X", "X"]})
    enterprises = pd.DataFrame({"enterprise_id": ["E1", "E2"], "county_code": ["330101", "330102"]})
    parks = pd.DataFrame({"park_id": ["P1"], "county_code": ["330102"]})
    return counties, enterprises, parks


def test_flows_errors_through_county_flows():
    from parks.flows import county_flows

    counties, enterprises, parks = _flows_inputs()
    with pytest.raises(FlowsError) as e:
        county_flows(pd.DataFrame({"enterprise_id": ["E1"]}), enterprises, parks, counties)
    _check(e.value, "assignments lack column(s) park_id; needed: enterprise_id, park_id", "park_id", "分配结果")
    ids = [f"X{i}" for i in range(7)]
    with pytest.raises(FlowsError) as e:
        county_flows(pd.DataFrame({"enterprise_id": ids, "park_id": ["P1"] * 7}), enterprises, parks, counties)
    zh = _check(e.value, "assignments name enterprise(s) not in enterprises: X0, X1, X2, X3, X4 and 2 more",
                "X0、X1、X2、X3、X4", "另有 2 个")
    assert "X5" not in zh
    with pytest.raises(FlowsError) as e:
        county_flows(pd.DataFrame({"enterprise_id": ["E1"], "park_id": ["P9"]}), enterprises, parks, counties)
    _check(e.value, "assignments name park(s) not in parks: P9", "P9")
    with pytest.raises(FlowsError) as e:
        county_flows(pd.DataFrame({"enterprise_id": ["E1"], "park_id": ["P1"]}),
                     enterprises.drop(columns="county_code"), parks, counties)
    _check(e.value, "enterprises have no county_code column; give it, or geometries (GeoDataFrames with a CRS) for "
                    "both them and the counties", "county_code", "企业图层")


# ---- ScaleError: parks.scale with an unknown engine or a frame it cannot use


def test_scale_errors_through_the_partitioned_runs(dataset):
    from parks import scale

    with pytest.raises(ScaleError) as e:
        scale.join(dataset.enterprises, dataset, engine="spark")
    _check(e.value, "engine 'spark' not accepted; accepted: memory, dask", "'spark'", "memory、dask")
    with pytest.raises(ScaleError) as e:
        scale.join_partitioned(dataset.enterprises, dataset)
    _check(e.value, "join_partitioned needs a dask_geopandas.GeoDataFrame, got GeoDataFrame; use join(..., "
                    "engine='memory') for an in-memory frame", "GeoDataFrame")
    with pytest.raises(ScaleError) as e:
        scale.park_capture_partitioned(dataset.enterprises, by="nope")
    _check(e.value, "by 'nope' not accepted; accepted: sector, county_code, all", "'nope'")
    with pytest.raises(ScaleError) as e:
        scale.park_capture_partitioned(dataset.enterprises, by="sector")
    _check(e.value, "park_capture_partitioned needs a Dask frame, got GeoDataFrame", "park_capture_partitioned")


# ---- MapError: the maps with options they do not accept


def test_map_errors_through_the_maps(dataset):
    from maps import MapOptions, build_map
    from maps.flows_map import flows_map
    from maps.suitability_map import parse_weights

    with pytest.raises(MapError) as e:
        MapOptions(tiles="bing")
    _check(e.value, "tiles 'bing' not accepted; accepted: none, osm, tianditu, amap", "'bing'", "osm、tianditu、amap")
    with pytest.raises(MapLangError) as e:
        MapOptions(lang="fr")
    _check(e.value, "lang 'fr' not accepted; accepted: zh, en", "'fr'", "zh、en")
    with pytest.raises(MapError) as e:
        MapOptions(tiles="tianditu")
    _check(e.value, "tiles 'tianditu' needs a Tianditu key (tianditu_key / --tianditu-key)", "天地图")
    with pytest.raises(MapError) as e:
        build_map("nope", dataset)
    _check(e.value, "map 'nope' unknown; accepted: parks, enterprises, clusters, suitability, transfers", "'nope'")
    with pytest.raises(MapError) as e:
        build_map("parks", dataset, sector="txtile")
    _check(e.value, "sector 'txtile' not accepted; accepted: information, textiles, light_industry, machinery, "
                    "petrochemical, biopharma, building_materials, metallurgy, new_materials, environmental, logistics",
           "'txtile'", "textiles、light_industry")
    with pytest.raises(MapError) as e:
        build_map("enterprises", dataset, county="999999")
    _check(e.value, "county '999999' not found; give a 6-digit county code of the dataset", "'999999'")
    with pytest.raises(MapError) as e:
        build_map("suitability", dataset)
    _check(e.value, "the suitability map needs an enterprise_id or a profile (sector, land_ha, employees, "
                    "pollution_class, lon, lat)", "enterprise_id")
    with pytest.raises(MapError) as e:
        flows_map(dataset, pd.DataFrame(), width_by="money")
    _check(e.value, "width_by 'money' not accepted; accepted: firms, jobs", "'money'")
    with pytest.raises(MapError) as e:
        parse_weights("distance=60")
    _check(e.value, "weights: 'distance=60' is not criterion:number (e.g. distance:60,sector_fit:5)", "'distance=60'")
    with pytest.raises(MapError) as e:  # the suitability model's own refusal, inside: in Chinese too
        parse_weights("nope:5")
    zh = _check(e.value, "weights: unknown criterion 'nope' in weights; accepted: sector_fit, supply_chain, distance, "
                         "transport, land_price, land_margin, labour, policy, ecology", "'nope'")
    assert zh.startswith("权重 weights：") and "准则" in zh


# ---- ReferenceDataError: a bad sector linkage table


def test_reference_errors_through_the_linkage_table():
    from geodata.reference import sector_linkages, validate_sector_linkages

    with pytest.raises(ReferenceDataError) as e:
        validate_sector_linkages(pd.DataFrame({"upstream": ["textiles"], "weight": [0.5]}))
    _check(e.value, "sector linkage table lacks column(s) downstream; expected: upstream, downstream, weight",
           "downstream", "upstream、downstream、weight")
    table = sector_linkages()[["upstream", "downstream", "weight"]].head(4).copy()
    table.loc[0, "upstream"] = "txtile"
    table["weight"] = table["weight"].astype(object)
    table.loc[1, "weight"] = "heavy"
    table.loc[2, "downstream"] = table.loc[2, "upstream"]
    table.loc[3] = table.loc[1].to_dict() | {"weight": 0.5}  # the pair of row 1 again
    up2, up1, down1 = table.loc[2, "upstream"], table.loc[1, "upstream"], table.loc[1, "downstream"]
    with pytest.raises(ReferenceDataError) as e:
        validate_sector_linkages(table)
    accepted = ("information, textiles, light_industry, machinery, petrochemical, biopharma, building_materials, "
                "metallurgy, new_materials, environmental, logistics")
    zh = _check(e.value, "invalid sector linkage table:\n"
                         f"row 0: upstream 'txtile' is not a sector id; accepted: {accepted}\n"
                         "row 1: weight 'heavy' must be a number in (0, 1]\n"
                         f"row 2: self-link {up2!r} -> itself is not allowed\n"
                         f"row 3: duplicated pair {up1} -> {down1}", "'txtile'", "'heavy'")
    assert [line.split("：")[0] for line in zh.splitlines()[1:]] == ["第 0 行", "第 1 行", "第 2 行", "第 3 行"]
    pairs = list(itertools.permutations(SECTOR_IDS, 2))[:25]  # 25 distinct pairs, each with a weight out of range
    many = pd.DataFrame({"upstream": [u for u, _ in pairs], "downstream": [d for _, d in pairs], "weight": [5] * 25})
    with pytest.raises(ReferenceDataError) as e:
        validate_sector_linkages(many)
    assert str(e.value).endswith("\n... and 5 more") and message(e.value, "zh").endswith("\n……另有 5 处")
    assert str(e.value).count("\nrow ") == 20


# ---- ParquetStoreError: a missing or empty store, a frame that cannot be written


def test_parquet_errors_through_the_store(tmp_path):
    from geodata.parquet import enterprise_parquet_files, write_enterprises_parquet

    with pytest.raises(ParquetStoreError) as e:
        enterprise_parquet_files(tmp_path / "nope")
    _check(e.value, f"GeoParquet store {tmp_path / 'nope'} does not exist (write one with `parkplan export-parquet` "
                    "or geodata.parquet.write_enterprises_parquet)", str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParquetStoreError) as e:
        enterprise_parquet_files(tmp_path / "empty")
    _check(e.value, f"GeoParquet store {tmp_path / 'empty'} holds no .parquet files", ".parquet")
    g = gpd.GeoDataFrame({"enterprise_id": ["E1"]}, geometry=[shapely.Point(120, 30)])
    with pytest.raises(ParquetStoreError) as e:
        write_enterprises_parquet(g, tmp_path / "x")
    _check(e.value, "enterprises have no CRS; stored layers are WGS 84 (EPSG:4326)", "EPSG:4326")
    g = g.set_crs(4326)
    with pytest.raises(ParquetStoreError) as e:
        write_enterprises_parquet(g, tmp_path / "x", partition_rows=0)
    _check(e.value, "partition_rows must be >= 1, got 0", "partition_rows")
    write_enterprises_parquet(g, tmp_path / "x")
    with pytest.raises(ParquetStoreError) as e:
        write_enterprises_parquet(g, tmp_path / "x")
    _check(e.value, f"{tmp_path / 'x'} exists; pass overwrite=True (--overwrite) to replace it", "--overwrite")


# ---- AdminError: the administration of the review database


def test_admin_errors_through_the_token_and_transfer_commands(dataset_path, tmp_path):
    from api.jobs.admin import create_checked_token, revoke, transfer_rows

    url = f"sqlite:///{tmp_path / 'review.sqlite'}"
    with pytest.raises(AdminError) as e:
        create_checked_token(url, dataset_path, "boss", [], "")
    _check(e.value, "unknown role 'boss'; accepted: viewer, analyst, reviewer, admin", "'boss'", "viewer、analyst")
    with pytest.raises(AdminError) as e:
        create_checked_token(url, dataset_path, "reviewer", [], "")
    _check(e.value, "a reviewer token needs at least one office (--office COUNTY_CODE)", "--office")
    with pytest.raises(AdminError) as e:
        create_checked_token(url, dataset_path, "reviewer", ["999999"], "")
    assert re.fullmatch(r"office '999999' is not a county code of the dataset small\.gpkg \(e\.g\. \d{6}, \d{6}, "
                        r"\d{6}\)", str(e.value))
    _check(e.value, str(e.value), "'999999'", "small.gpkg")
    with pytest.raises(AdminError) as e:
        revoke(url, 4242)
    _check(e.value, "no token with id 4242", "4242")
    with pytest.raises(AdminError) as e:
        transfer_rows(url, status="done", county=None, limit=5)
    _check(e.value, "status 'done' is unknown; accepted: pending, approved, rejected, needs_info", "'done'")


def test_the_checks_before_the_database_agree_with_the_authentication_layer():
    """The admin module checks a token request before the database (coded); api.auth refuses the same requests
    with the same English words."""
    from api.auth import AuthError, _check_offices, role_rank
    from api.jobs.admin import _check_token_request

    for role, offices in [("boss", []), ("reviewer", []), ("analyst", ["12345", "abcdef"]), ("reviewer", [" 3301"])]:
        with pytest.raises(AdminError) as ours:
            _check_token_request(role, offices)
        with pytest.raises(AuthError) as theirs:
            role_rank(role)
            _check_offices(role, offices)
        assert str(ours.value) == str(theirs.value)
    _check_token_request("reviewer", ["330102"])  # accepted by both
    role_rank("reviewer")
    _check_offices("reviewer", ["330102"])

