"""The built-in dataset: real boundaries and facts, synthetic layers that keep their promises."""

import hashlib

import numpy as np
import pytest
import shapely

from geodata.builtin import build_builtin_dataset, read_data_csv
from geodata.dataset import load_dataset, save_dataset
from geodata.schema import LAYERS, PARK_KINDS, POLLUTION_CLASSES, SECTOR_IDS

MOUNTAIN_26 = set("淳安县 永嘉县 平阳县 苍南县 文成县 泰顺县 武义县 磐安县 柯城区 衢江区 江山市 常山县 开化县 龙游县 "
                  "三门县 天台县 仙居县 莲都区 龙泉市 青田县 云和县 庆元县 缙云县 遂昌县 松阳县 景宁畲族自治县".split())


def test_real_boundaries(raw_dataset):
    assert len(raw_dataset.cities) == 11
    assert len(raw_dataset.counties) == 90
    assert raw_dataset.counties["code"].str.match(r"^33\d{4}$").all()
    assert raw_dataset.counties.geometry.is_valid.all()
    # converted from GCJ-02: Hangzhou's 上城区 contains the WGS 84 West Lake east shore, about (120.165, 30.25)
    west_lake_area = raw_dataset.counties.set_index("name").geometry
    assert west_lake_area["上城区"].distance(shapely.Point(120.165, 30.25)) < 0.02


def test_exactly_the_26_mountain_counties_are_less_developed(raw_dataset):
    c = raw_dataset.counties
    assert set(c.loc[c["less_developed"], "name"]) == MOUNTAIN_26
    assert len(read_data_csv("less_developed_zhejiang.csv")) == 26


def test_coastal_counties_are_on_the_sea_side(raw_dataset):
    c = raw_dataset.counties.set_index("name")
    for name in ["定海区", "普陀区", "岱山县", "嵊泗县", "象山县", "温岭市", "玉环市", "洞头区", "苍南县"]:
        assert c.loc[name, "coastal"], name
    for name in ["淳安县", "开化县", "义乌市", "安吉县", "磐安县", "龙泉市", "上城区"]:
        assert not c.loc[name, "coastal"], name
    # the sea is to the east: coastal counties lie well east of inland ones, all east of 120 E
    lon = c.geometry.representative_point().x
    assert lon[c["coastal"]].mean() > lon[~c["coastal"]].mean() + 0.5
    assert (lon[c["coastal"]] > 120.0).all()


def test_parks_200_valid_non_overlapping_inside_county_outside_protected(raw_dataset):
    ds = raw_dataset
    crs = ds.metric_crs
    parks = ds.parks.to_crs(crs)
    assert parks["kind"].value_counts().to_dict() == {"specialty_park": 100, "township_zone": 100}
    assert parks["park_id"].is_unique
    assert parks.geometry.is_valid.all()
    tree = shapely.STRtree(parks.geometry.to_numpy())
    a, b = tree.query(parks.geometry.to_numpy(), predicate="intersects")
    assert (a == b).all(), "parks overlap"
    county = ds.counties.to_crs(crs).set_index("code").geometry
    for code, geom in zip(parks["county_code"], parks.geometry):
        assert county[code].buffer(1.0).contains(geom)
    protected = shapely.union_all(ds.protected_areas.to_crs(crs).geometry.to_numpy())
    assert not parks.intersects(protected).any()
    area = parks.geometry.area / 1e4
    assert np.allclose(area, parks["area_ha"], rtol=0.01)
    tz = parks[parks["kind"] == "township_zone"]["area_ha"]
    sp = parks[parks["kind"] == "specialty_park"]["area_ha"]
    assert tz.between(5, 400).all() and sp.median() > 2 * tz.median()
    assert (parks["free_land_ha"] <= parks["area_ha"]).all()
    assert set(parks["max_pollution_class"]) <= set(POLLUTION_CLASSES)


def test_specialty_parks_sit_in_block_economy_counties_or_receive_transfers(raw_dataset):
    """A specialty park is a block economy's (its county and sectors) or the receiving park (山海协作产业园) of
    a less-developed county with a mountain-sea partner, one each, named after the partners."""
    from geodata.builtin import RECEIVING_PARK_NAME, _county_short

    blocks = {r["county"]: set(r["sectors"].split(",")) for r in read_data_csv("block_economies_zhejiang.csv")}
    pairs = read_data_csv("shanhai_pairs_zhejiang.csv")
    names = raw_dataset.counties.set_index("code")["name"]
    sp = raw_dataset.parks[raw_dataset.parks["kind"] == "specialty_park"]
    receiving = sp["name"].str.endswith(RECEIVING_PARK_NAME)
    for code, sectors in zip(sp.loc[~receiving, "county_code"], sp.loc[~receiving, "leading_sectors"]):
        assert names[code] in blocks
        assert set(sectors.split(",")) == blocks[names[code]]
    rec = sp[receiving]
    assert sorted(rec["county_code"]) == sorted({r["less_developed_county_code"] for r in pairs})
    assert set(names[rec["county_code"]]) <= MOUNTAIN_26
    for code, name in zip(rec["county_code"], rec["name"]):
        partners = [_county_short(r["developed_county"]) for r in pairs if r["less_developed_county_code"] == code]
        assert name == f"{_county_short(names[code])}—{'、'.join(partners)}{RECEIVING_PARK_NAME}"
    haining = sp[sp["county_code"] == names[names == "海宁市"].index[0]]
    assert haining["name"].str.contains("皮革").all()


def test_enterprise_attributes_are_plausible(raw_dataset):
    e = raw_dataset.enterprises
    assert len(e) == 3000 and e["enterprise_id"].is_unique
    assert set(e["sector"]) == set(SECTOR_IDS)
    assert ((e["revenue"] >= 5e6) == (e["size"] == "above")).all()
    assert (e["employees"] > 0).all() and (e["land_ha"] > 0).all()
    heavy_share = e.groupby("sector")["pollution_class"].apply(lambda s: (s == "heavy").mean())
    assert heavy_share["petrochemical"] > heavy_share["information"]
    assert e["chain_leader"].sum() > 10 and (e.loc[e["chain_leader"], "size"] == "above").all()
    for name, schema in LAYERS.items():
        frame = getattr(raw_dataset, name)
        missing = [f for f in schema.required if f not in frame.columns]
        assert not missing, (name, missing)


def test_enterprises_cluster_in_parks(dataset):
    inside = dataset.enterprises["park_id"].notna().mean()
    parks_area = dataset.parks.to_crs(dataset.metric_crs).area.sum()
    province_area = dataset.province.to_crs(dataset.metric_crs).area.sum()
    assert 0.35 < inside < 0.6  # a realistic share scattered outside parks
    assert inside > 20 * parks_area / province_area  # far denser in parks than at random


def test_projects_reference_enterprises(raw_dataset):
    p = raw_dataset.projects
    assert len(p) == 400 and p["project_id"].is_unique
    assert p["enterprise_id"].isin(raw_dataset.enterprises["enterprise_id"]).all()
    assert (p.loc[p["funding"] == "own", "subsidy"] == 0).all()


def test_synthetic_layers_are_labelled(dataset_path):
    import pyogrio

    desc = pyogrio.read_info(dataset_path, layer="enterprises")["layer_metadata"]["DESCRIPTION"]
    assert desc.startswith("SYNTHETIC")
    assert pyogrio.read_info(dataset_path, layer="counties")["layer_metadata"]["DESCRIPTION"].startswith("REAL")


def test_same_seed_same_bytes(tmp_path):
    paths = []
    for i in range(2):
        ds = build_builtin_dataset(enterprises=300, projects=30, seed=7)
        paths.append(save_dataset(ds, tmp_path / f"d{i}.gpkg"))
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    assert len(digests) == 1
    other = save_dataset(build_builtin_dataset(enterprises=300, projects=30, seed=8), tmp_path / "d8.gpkg")
    assert hashlib.sha256(other.read_bytes()).hexdigest() not in digests


def test_round_trip_through_geopackage(raw_dataset, dataset_path):
    back = load_dataset(dataset_path)
    assert back.parks["park_id"].tolist() == raw_dataset.parks["park_id"].tolist()
    assert back.enterprises.crs.to_epsg() == 4326
    assert np.allclose(back.enterprises.geometry.x, raw_dataset.enterprises.geometry.x)
    assert back.metadata["provenance"]["seed"] == 20031


def test_other_province(tmp_path):
    ds = build_builtin_dataset(province="江苏省", enterprises=200, projects=10, seed=1)
    assert len(ds.parks) == 200 and not ds.counties["less_developed"].any()
    assert ds.metric_crs.to_epsg() in (4549, 4550)


def test_unknown_province_suggests():
    from geodata.boundaries import BoundaryError

    with pytest.raises(BoundaryError, match="did you mean 浙江省"):
        build_builtin_dataset(province="浙江")
