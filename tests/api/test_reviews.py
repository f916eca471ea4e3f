"""Transfer review over SQLite and PostgreSQL: office scope, ETag / If-Match, 412, 428, audit, exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pypdf
import pytest

from api.db import integrity_check

PROBLEM = "application/problem+json"


def _mine(api, office_key="reviewer_a"):
    office = api.offices[0] if office_key == "reviewer_a" else api.offices[1]
    r = api.get("/transfer-candidates?limit=1000", as_=office_key)
    assert r.status_code == 200
    items = r.json()["items"]
    assert items, "each office has candidates"
    assert all(office in (c["origin_county_code"], c["destination_county_code"]) for c in items)
    return items


def _foreign(api):
    """A candidate of office B that office A may not see."""
    a = api.offices[0]
    for c in _mine(api, "reviewer_b"):
        if a not in (c["origin_county_code"], c["destination_county_code"]):
            return c
    pytest.fail("the small dataset gives office B a candidate outside office A; none has one now")


def test_office_scope_lists_only_own_candidates(fresh_api, candidate_rows):
    api = fresh_api
    everything = api.get("/transfer-candidates?limit=1000", as_="admin").json()
    assert everything["numberMatched"] == len(candidate_rows)
    mine = _mine(api)
    expected = [c for c in candidate_rows if api.offices[0] in (c["origin_county_code"], c["destination_county_code"])]
    assert sorted(c["candidate_id"] for c in mine) == sorted(c["candidate_id"] for c in expected)
    assert api.get("/transfer-candidates", as_="reviewer_other").json()["numberMatched"] == 0


def test_other_offices_candidate_is_404_everywhere(fresh_api):
    api = fresh_api
    c = _foreign(api)
    cid = c["candidate_id"]
    unknown = api.get("/transfer-candidates/NO-SUCH", as_="reviewer_a")
    for path in (f"/transfer-candidates/{cid}", f"/transfer-candidates/{cid}/reviews",
                 f"/transfer-candidates/{cid}/sheet.pdf"):
        r = api.get(path, as_="reviewer_a")
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
        assert r.json()["detail"].replace(cid, "X") == unknown.json()["detail"].replace("NO-SUCH", "X")
    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a", json={"decision": "approved", "version": 1})
    assert r.status_code == 404
    after = api.get(f"/transfer-candidates/{cid}", as_="admin").json()
    assert after["status"] == "pending" and after["version"] == 1 and after["reviews"] == []


def test_roles_below_reviewer_are_403(fresh_api):
    for role in ("viewer", "analyst"):
        r = fresh_api.get("/transfer-candidates", as_=role)
        assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    assert fresh_api.get("/transfer-candidates", as_=None).status_code == 401


def test_review_with_etag_then_stale_etag_is_412_and_changes_nothing(fresh_api):
    api = fresh_api
    cid = _mine(api)[0]["candidate_id"]
    r = api.get(f"/transfer-candidates/{cid}", as_="reviewer_a")
    etag = r.headers["ETag"]
    assert r.json()["version"] == 1 and r.json()["snapshot"]["criteria"]
    assert "/" not in r.json()["snapshot"]["context"]["dataset"]  # no server path in a response
    ok = api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a", headers={"If-Match": etag},
                  json={"decision": "needs_info", "comment": "请补充环评材料"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["candidate"]["status"] == "needs_info" and ok.json()["candidate"]["version"] == 2
    assert ok.headers["ETag"] != etag
    stale = api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a", headers={"If-Match": etag},
                     json={"decision": "approved", "comment": "overwrite?"})
    assert stale.status_code == 412 and stale.headers["content-type"] == PROBLEM
    assert stale.json()["current"]["status"] == "needs_info"
    now = api.get(f"/transfer-candidates/{cid}", as_="reviewer_a").json()
    assert now["status"] == "needs_info" and now["version"] == 2 and len(now["reviews"]) == 1
    assert now["reviews"][0]["comment"] == "请补充环评材料"


def test_review_with_version_field(fresh_api):
    api = fresh_api
    cid = _mine(api)[0]["candidate_id"]
    assert api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a",
                    json={"decision": "approved", "version": 1}).status_code == 201
    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a", json={"decision": "rejected", "version": 1})
    assert r.status_code == 412
    assert api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a",
                    json={"decision": "rejected", "version": 2}).status_code == 201


@pytest.mark.parametrize("headers,body", [({}, {"decision": "approved"}), ({"If-Match": "*"}, {"decision": "approved"})])
def test_review_without_a_version_is_428(fresh_api, headers, body):
    api = fresh_api
    cid = _mine(api)[0]["candidate_id"]
    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a", headers=headers, json=body)
    assert r.status_code == 428 and "If-Match" in r.json()["detail"]
    assert api.get(f"/transfer-candidates/{cid}", as_="admin").json()["version"] == 1


def test_bad_decision_is_refused_with_the_accepted_values(fresh_api):
    api = fresh_api
    cid = _mine(api)[0]["candidate_id"]
    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a", json={"decision": "maybe", "version": 1})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert "approved" in r.json()["detail"]


def test_sql_looking_comment_is_stored_as_text(fresh_api):
    api = fresh_api
    cid = _mine(api)[0]["candidate_id"]
    evil = "'; DROP TABLE reviews; -- \" OR 1=1 <script>alert(1)</script>"
    r = api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a", json={"decision": "rejected", "comment": evil,
                                                                              "version": 1})
    assert r.status_code == 201
    got = api.get(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a").json()
    assert got[-1]["comment"] == evil
    assert api.get(f"/transfer-candidates?status=rejected&enterprise_id={evil}", as_="admin").json()["numberMatched"] == 0
    assert integrity_check(api.app.state.engine)["ok"]


def test_audit_log_records_who_when_before_after_and_is_scoped(fresh_api):
    api = fresh_api
    mine = _mine(api)[0]["candidate_id"]
    theirs = _foreign(api)["candidate_id"]
    assert api.post(f"/transfer-candidates/{mine}/reviews", as_="reviewer_a",
                    json={"decision": "approved", "version": 1}).status_code == 201
    assert api.post(f"/transfer-candidates/{theirs}/reviews", as_="reviewer_b",
                    json={"decision": "rejected", "version": 1}).status_code == 201
    a = api.get(f"/audit-log?candidate_id={mine}", as_="reviewer_a").json()["items"]
    review = [e for e in a if e["action"] == "review"]
    assert len(review) == 1
    e = review[0]
    assert e["actor"].endswith("(office A)") and e["role"] == "reviewer" and e["at"]
    assert e["before"]["status"] == "pending" and e["after"]["status"] == "approved"
    assert e["before"]["version"] == 1 and e["after"]["version"] == 2
    # office A sees nothing of office B's candidate; the admin sees both reviews
    assert api.get(f"/audit-log?candidate_id={theirs}", as_="reviewer_a").json()["numberMatched"] == 0
    all_reviews = [x for x in api.get("/audit-log?limit=1000", as_="admin").json()["items"] if x["action"] == "review"]
    assert {x["object_id"] for x in all_reviews} == {mine, theirs}
    assert api.get("/audit-log", as_="analyst").status_code == 403


def test_exports_csv_and_excel_hold_the_offices_decisions(fresh_api):
    from openpyxl import load_workbook

    api = fresh_api
    mine = _mine(api)[:2]
    for c, d in zip(mine, ("approved", "rejected")):
        assert api.post(f"/transfer-candidates/{c['candidate_id']}/reviews", as_="reviewer_a",
                        json={"decision": d, "comment": "=HYPERLINK(\"x\")", "version": 1}).status_code == 201
    theirs = _foreign(api)["candidate_id"]
    api.post(f"/transfer-candidates/{theirs}/reviews", as_="reviewer_b", json={"decision": "approved", "version": 1})

    r = api.get(f"/transfer-candidates/decisions.csv?office={api.offices[0]}", as_="reviewer_a")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))[1:]  # row 1: Chinese headers
    assert sorted(x["candidate_id"] for x in rows) == sorted(c["candidate_id"] for c in mine)
    assert theirs not in {x["candidate_id"] for x in rows}
    assert all(x["comment"].startswith("'=") for x in rows)  # no formula injection

    x = api.get("/transfer-candidates/decisions.xlsx", as_="reviewer_a")
    assert x.status_code == 200
    ws = load_workbook(io.BytesIO(x.content)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][0] == "候选编号" and len(values) == 1 + len(rows)
    decision = values[0].index("审核决定")
    assert {v[decision] for v in values[1:]} == {"已批准", "已驳回"}  # the glossary's statuses
    # named after the office (its county's name) and the day in Beijing, Unicode in RFC 5987 filename*
    counties = api.app.state.dataset.counties
    office_name = dict(zip(counties["code"].astype(str), counties["name"].astype(str)))[api.offices[0]]
    beijing_day = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    disposition = x.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote(f'{office_name}-审核决定-')}" in disposition, disposition
    assert f"{beijing_day}.xlsx" in disposition, disposition
    assert r.headers["content-disposition"].endswith(".csv")
    assert office_name in {str(v) for row in values[1:] for v in row}  # county names beside the codes
    assert api.get(f"/transfer-candidates/decisions.csv?office={api.offices[1]}", as_="reviewer_a").status_code == 404


def test_review_sheet_pdf_is_chinese_with_breakdown_and_history(fresh_api):
    api = fresh_api
    c = _mine(api)[0]
    cid = c["candidate_id"]
    api.post(f"/transfer-candidates/{cid}/reviews", as_="reviewer_a", json={"decision": "approved", "comment": "同意转移",
                                                                        "version": 1})
    r = api.get(f"/transfer-candidates/{cid}/sheet.pdf", as_="reviewer_a")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content[:5] == b"%PDF-"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(r.content)).pages)
    compact = text.replace("\x00", "").replace(" ", "").replace("\n", "")
    for needle in ("企业转移候选审核表", "评分明细", "排除的园区及原因", "审核记录", "同意转移", c["enterprise_id"], c["park_id"]):
        assert needle in compact, needle


def test_integrity_check_passes_after_reviews(fresh_api):
    api = fresh_api
    for c in _mine(api):
        api.post(f"/transfer-candidates/{c['candidate_id']}/reviews", as_="reviewer_a",
                 json={"decision": "approved", "version": 1})
    res = integrity_check(api.app.state.engine)
    assert res == {"ok": True, "backend": res["backend"], "detail": []}


def test_paging_links_walk_every_candidate(fresh_api, candidate_rows):
    api = fresh_api
    seen, url = [], "/transfer-candidates?limit=3"
    while url:
        page = api.get(url, as_="admin").json()
        seen += [c["candidate_id"] for c in page["items"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
    assert sorted(seen) == sorted(c["candidate_id"] for c in candidate_rows)
