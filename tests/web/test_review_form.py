"""The review form a person uses: nothing preselected, the typed comment kept when the decision was not
stored, confirmation before replacing a decision, the county filter by name."""

from __future__ import annotations

import re

from api.web.pages_review import resolve_county

from .conftest import csrf_of, login_client


def _checked(html: str) -> list[str]:
    return re.findall(r'<input type="radio" name="decision" value="(\w+)"[^>]*\bchecked\b', html)


def _textarea(html: str) -> str:
    return re.search(r'<textarea name="comment" id="comment"[^>]*>(.*?)</textarea>', html, re.S).group(1)


def _version(html: str) -> int:
    return int(re.search(r'name="version" value="(\d+)"', html).group(1))


def test_no_decision_preselected_and_a_missing_choice_keeps_the_comment(web):
    client = login_client(web.app, web.tokens["reviewer_b"])
    cid = web.candidates["b"][2]
    page = client.get(f"/ui/review/{cid}").text
    assert _checked(page) == [] and 'required' in re.search(r'<input type="radio"[^>]*>', page).group(0)
    r = client.post(f"/ui/review/{cid}", data={"csrf_token": csrf_of(page), "version": _version(page),
                                               "comment": "材料 <b>不全</b>"})
    assert r.status_code == 400 and "请选择一项决定。" in r.text
    assert _textarea(r.text) == "材料 &lt;b&gt;不全&lt;/b&gt;"  # kept, escaped


def test_a_lost_conflict_keeps_the_typed_comment_and_replacing_needs_confirmation(web):
    from api import reviews

    cid = web.candidates["b"][1]
    first = login_client(web.app, web.tokens["reviewer_b"])
    second = login_client(web.app, web.tokens["reviewer_b"])
    page1, page2 = first.get(f"/ui/review/{cid}").text, second.get(f"/ui/review/{cid}").text
    ok = first.post(f"/ui/review/{cid}", data={"csrf_token": csrf_of(page1), "version": _version(page1),
                                               "decision": "approved", "comment": "同意迁入"}, follow_redirects=False)
    assert ok.status_code == 303
    lost = second.post(f"/ui/review/{cid}", data={"csrf_token": csrf_of(page2), "version": _version(page2),
                                                  "seen_status": "pending", "decision": "rejected",
                                                  "comment": "用地不足，建议驳回"})
    assert 'id="conflict"' in lost.text and _textarea(lost.text) == "用地不足，建议驳回"
    assert _checked(lost.text) == ["rejected"] and 'id="comment-kept"' in lost.text

    # the page now shows a decided candidate: a new decision must be confirmed, and says what it replaces
    page = second.get(f"/ui/review/{cid}").text
    assert 'id="confirm-replace"' in page and "已有决定“已批准”" in page
    data = {"csrf_token": csrf_of(page), "version": _version(page), "seen_status": "approved",
            "decision": "needs_info", "comment": "请补充环评"}
    refused = second.post(f"/ui/review/{cid}", data=data)
    assert refused.status_code == 400 and "已有决定“已批准”" in refused.text and _textarea(refused.text) == "请补充环评"
    with web.app.state.sessions() as db:
        assert [h.decision for h in reviews.candidate_reviews(db, cid)] == ["approved"]
    done = second.post(f"/ui/review/{cid}", data={**data, "confirm_replace": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    with web.app.state.sessions() as db:
        assert [h.decision for h in reviews.candidate_reviews(db, cid)] == ["approved", "needs_info"]


def test_county_filter_takes_a_name(web):
    ds = web.app.state.dataset
    names = dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))
    code = web.offices["b"]
    name = names[code]
    assert resolve_county(name, names) == (code, False)
    assert resolve_county(code, names) == (code, False)
    assert resolve_county("不存在县", names) == (None, True)
    client = login_client(web.app, web.tokens["reviewer_b"])

    def rows(q):
        html = client.get("/ui/review", params={"county": q}).text
        return sorted(re.findall(r'<tr data-candidate="([^"]+)"', html)), html

    by_code, _ = rows(code)
    by_name, html = rows(name)
    assert by_name == by_code and by_code and f'<option value="{name}">' in html
    none, html = rows("不存在县")
    assert none == [] and "未找到县“不存在县”" in html
