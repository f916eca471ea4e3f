"""The suitability page's enterprise search over the kept index equals a plain scan of every enterprise."""

from __future__ import annotations

import pytest

from api.web.pages_suitability import search_enterprises, search_index


def _plain(ds, q: str, limit: int) -> list[str]:
    needle = q.strip().lower()
    ent = ds.enterprises
    hits = [(str(i).lower() != needle, str(i)) for i, n in zip(ent["enterprise_id"], ent["name"])
            if needle in str(i).lower() or needle in str(n).lower()]
    return [i for _, i in sorted(hits)][:limit]


@pytest.mark.parametrize("q", ["有限", "公司", "E0000", "e0000", "<img", "  纺织 ", "没有这个名字的企业"])
def test_search_equals_a_plain_scan(dataset, q):
    index = search_index(dataset)
    got = [r["enterprise_id"] for r in search_enterprises(dataset, q, limit=20, index=index)]
    assert got == _plain(dataset, q, 20)
    assert got == [r["enterprise_id"] for r in search_enterprises(dataset, q, limit=20)]  # index built here


def test_exact_id_comes_first(dataset):
    eid = str(dataset.enterprises["enterprise_id"].iloc[7])
    got = search_enterprises(dataset, eid.lower(), limit=5, index=search_index(dataset))
    assert got[0]["enterprise_id"] == eid
