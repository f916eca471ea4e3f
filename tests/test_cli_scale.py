"""``parkplan export-parquet``, ``join`` and ``batch``: the in-memory and the Dask engines write the same rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


def _flat(text: str) -> str:
    """Rich wraps long messages to the terminal width."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def stores(dataset_path, tmp_path_factory):
    """Export the session dataset, then join it with both engines (the dask one on a 2-process cluster)."""
    d = tmp_path_factory.mktemp("cli-scale")
    r = runner.invoke(app, ["export-parquet", "--data", str(dataset_path), "-o", str(d / "ent"), "--partition-rows", "1000"])
    assert r.exit_code == 0, r.output
    out = {}
    for engine in ("memory", "dask"):
        r = runner.invoke(app, ["join", "--data", str(dataset_path), "--enterprises-parquet", str(d / "ent"),
                                "-o", str(d / f"joined-{engine}"), "--engine", engine, "--json"])
        assert r.exit_code == 0, r.output
        out[engine] = json.loads(r.stdout)
    return d, out


def test_join_engines_write_the_same_rows(stores, dataset):
    from geodata.parquet import read_enterprises_parquet_frame

    d, res = stores
    assert res["memory"]["enterprises"] == res["dask"]["enterprises"] == len(dataset.enterprises)
    assert res["dask"]["partitions"] == 3
    mem = read_enterprises_parquet_frame(d / "joined-memory")
    dsk = read_enterprises_parquet_frame(d / "joined-dask")
    pd.testing.assert_frame_equal(mem, dsk)
    assert mem["park_id"].fillna("-").tolist() == dataset.enterprises["park_id"].fillna("-").tolist()


def test_batch_engines_write_the_same_rows(stores, dataset_path):
    from geodata.parquet import read_table_parquet

    d, _ = stores
    for engine in ("memory", "dask"):
        r = runner.invoke(app, ["batch", "--data", str(dataset_path), "--enterprises-parquet", str(d / f"joined-{engine}"),
                                "-o", str(d / f"batch-{engine}"), "--engine", engine, "--top", "2", "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["enterprises"] == 3000
    for part in ("top", "summary"):
        mem = read_table_parquet(d / "batch-memory" / part)
        dsk = read_table_parquet(d / "batch-dask" / part)
        pd.testing.assert_frame_equal(mem, dsk, check_exact=False, rtol=1e-9, check_dtype=False)
    for by in ("sector", "county_code", "all"):
        mem = pd.read_csv(d / "batch-memory" / f"capture_{by}.csv")
        dsk = pd.read_csv(d / "batch-dask" / f"capture_{by}.csv")
        pd.testing.assert_frame_equal(mem, dsk, check_exact=False, rtol=1e-12)


def test_errors_are_messages_not_tracebacks(stores, dataset_path, tmp_path):
    d, _ = stores
    r = runner.invoke(app, ["join", "--data", str(dataset_path), "--enterprises-parquet", str(tmp_path / "nope"),
                            "-o", str(tmp_path / "o"), "--engine", "memory", "--lang", "en"])
    assert r.exit_code == 2 and "does not exist" in _flat(r.output)
    r = runner.invoke(app, ["join", "--data", str(dataset_path), "--enterprises-parquet", str(d / "ent"),
                            "-o", str(tmp_path / "o"), "--engine", "spark", "--lang", "en"])
    assert r.exit_code == 2 and "accepted: memory, dask" in _flat(r.output)
    r = runner.invoke(app, ["join", "--data", str(dataset_path), "--enterprises-parquet", str(d / "ent"),
                            "-o", str(d / "joined-memory"), "--engine", "memory", "--lang", "en"])
    assert r.exit_code == 2 and "exists; pass --overwrite" in _flat(r.output)
