"""``POST /suitability``'s fast path (issue 15) answers exactly what FastAPI's general request handling answers.

The reference is the same app with the fast path switched off (``_fast_suitability`` made to decline, so every
request goes through FastAPI's dependencies and body validation as before): for valid bodies, invalid bodies
(each error document), every authentication case and randomly mutated bodies, the status, the headers and the body
bytes must be the same, and the fast path must really have answered the valid ones (not declined them all).
"""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

import api.routes.suitability as suit

PROFILE = {"sector": "textiles", "land_ha": 2.0, "employees": 120, "pollution_class": "light", "lon": 120.6,
           "lat": 29.9}


def _ids(dataset, n=6):
    return dataset.enterprises["enterprise_id"].astype(str).iloc[::131].tolist()[:n]


def _valid_bodies(dataset) -> list:
    ids = _ids(dataset)
    return [
        {"enterprise_id": ids[0]},
        {"enterprise_id": ids[1], "top": 5},
        {"enterprise_id": ids[2], "top": 1, "weights": {"distance": 2, "ecology": 0.5}},
        {"enterprise_id": ids[3], "constraints": {"max_distance_km": 80, "protected_buffer_m": 500,
                                                  "own_city_or_km": 30}, "top": 3},
        {"enterprise_id": ids[4], "weights": None, "constraints": None, "top": None},
        {"enterprise_id": ids[5], "constraints": {"exclude_urban_core_parks": True, "land_margin": 1.2}},
        {"profile": PROFILE, "top": 4},
        {"profile": {**PROFILE, "name": "<b>x</b>", "size": "above", "catalogue_level": "restricted"}},
        {"enterprise_id": ids[0], "top": 5.0},  # lax int, as the general path validates it
        {"enterprise_id": ids[1], "weights": {"labour": 123456789012345678901234567890}},  # a big int weight
        {"top": 2, "enterprise_id": ids[2]},  # keys in another order
    ]


def _invalid_bodies(dataset) -> list:
    eid = _ids(dataset)[0]
    return [
        {},
        {"enterprise_id": eid, "profile": PROFILE},
        {"enterprise_id": ""},
        {"enterprise_id": "x" * 65},
        {"enterprise_id": 12345},
        {"enterprise_id": eid, "top": 0},
        {"enterprise_id": eid, "top": 10_001},
        {"enterprise_id": eid, "top": 2.5},
        {"enterprise_id": eid, "extra": 1},
        {"enterprise_id": eid, "weights": {}},
        {"enterprise_id": eid, "weights": {"distance": -1}},
        {"enterprise_id": eid, "weights": {"nonsense": 1}},
        {"enterprise_id": eid, "constraints": {"max_distance_km": 0}},
        {"enterprise_id": eid, "constraints": {"protected_kinds": ["nope"]}},
        {"profile": {**PROFILE, "sector": "not-a-sector"}},
        {"profile": {**PROFILE, "lat": 91}},
        [eid],
        "enterprise",
        None,
        {"enterprise_id": "no-such-enterprise"},  # a valid body, 404 from the scoring: handed to the general path
    ]


RAW_INVALID = [b"", b"{", b'{"enterprise_id": NaN}', b'{"top": Infinity}', b"\xff\xfe{}", b'{"enterprise_id": "\\ud800"}',
               b"null", b"[]"]


def _call(api, body, headers: dict) -> tuple[int, list, bytes]:
    """Status, headers (but ``date``) and body bytes; ``body`` bytes, or a list of chunks sent without a length."""
    r = api.client.post("/suitability", content=iter(body) if isinstance(body, list) else body, headers=headers)
    hdrs = sorted((k.lower(), v) for k, v in r.headers.items() if k.lower() not in ("date",))
    return r.status_code, hdrs, r.content


@pytest.fixture
def both(api, monkeypatch):
    """``call(body, headers) -> (fast answer, general answer, whether the fast path answered)``.

    The token cache's interval is made an hour long for the test: with the default 5 s, a slow test run crosses
    interval boundaries, where the first request of each token goes the general path (as it should)."""
    state = api.app.state.parkplan
    monkeypatch.setattr(state, "settings", dataclasses.replace(state.settings, auth_ttl_s=3600.0))
    real = suit._fast_suitability

    def call(body: bytes, headers: dict):
        answered = []

        async def spy(scope, receive):
            out = await real(scope, receive)
            answered.append(out[0] is not None)
            return out

        async def decline(scope, receive):
            return None, receive

        monkeypatch.setattr(suit, "_fast_suitability", spy)
        fast = _call(api, body, headers)
        monkeypatch.setattr(suit, "_fast_suitability", decline)
        general = _call(api, body, headers)
        monkeypatch.setattr(suit, "_fast_suitability", real)
        return fast, general, bool(answered and answered[0])

    return call


def _json_headers(api, role="analyst", ctype="application/json") -> dict:
    return {"Authorization": f"Bearer {api.tokens[role]}", "Content-Type": ctype}


def test_valid_bodies_same_bytes_and_answered_by_the_fast_path(api, dataset, both):
    h = _json_headers(api)
    api.client.post("/suitability", json={"enterprise_id": _ids(dataset)[0]}, headers=h)  # token into the cache
    ids = _ids(dataset)
    raw = [f'{{"enterprise_id": "{ids[3]}", "enterprise_id": "{ids[4]}"}}'.encode(),  # a duplicate key: the last
           f' \n{{ "enterprise_id" : "{ids[5]}" ,"top":3 }}\n '.encode()]  # white space
    for body in [json.dumps(b).encode() for b in _valid_bodies(dataset)] + raw:
        fast, general, answered = both(body, h)
        assert fast[0] == 200, (body, fast[2][:300])
        assert fast == general, body
        assert answered, f"the fast path declined a valid body: {body}"
    # a reviewer and an admin have the analyst's rights: answered by the fast path too
    for role in ("reviewer_a", "admin"):
        hr = _json_headers(api, role)
        api.client.post("/suitability", json={"enterprise_id": _ids(dataset)[0]}, headers=hr)
        fast, general, answered = both(json.dumps({"enterprise_id": _ids(dataset)[1]}).encode(), hr)
        assert fast == general and fast[0] == 200 and answered


def test_invalid_bodies_same_error_documents(api, dataset, both):
    h = _json_headers(api)
    api.client.post("/suitability", json={"enterprise_id": _ids(dataset)[0]}, headers=h)
    bodies = [json.dumps(b).encode() for b in _invalid_bodies(dataset)] + RAW_INVALID
    for body in bodies:
        fast, general, answered = both(body, h)
        assert fast[0] in (400, 404, 422), (body, fast)
        assert fast == general, body
        if fast[0] == 422:
            assert not answered and fast[1] and b"invalid request" in fast[2], body


def test_authentication_and_content_type_cases_same_answers(api, dataset, both):
    body = json.dumps({"enterprise_id": _ids(dataset)[0], "top": 2}).encode()
    ctype = {"Content-Type": "application/json"}
    cases = {
        "no token": ctype,
        "unknown token": {**ctype, "Authorization": "Bearer ppt_000000000000_" + "a" * 40},
        "not bearer": {**ctype, "Authorization": f"Basic {api.tokens['analyst']}"},
        "empty bearer": {**ctype, "Authorization": "Bearer   "},
        "viewer": _json_headers(api, "viewer"),
        "no content type": {"Authorization": f"Bearer {api.tokens['analyst']}"},
        "text/plain": _json_headers(api, ctype="text/plain"),
        "json with charset": _json_headers(api, ctype="application/json; charset=utf-8"),
        "problem+json": _json_headers(api, ctype="application/problem+json"),
        "cookie only": {**ctype, "Cookie": "parkplan_session=abc.def"},
    }
    for name, headers in cases.items():
        for _ in range(2):  # the second time the token (if valid) is in the cache
            fast, general, answered = both(body, headers)
            assert fast == general, name
        if name in ("no token", "unknown token", "not bearer", "empty bearer", "cookie only"):
            assert fast[0] == 401, name
        elif name == "viewer":
            assert fast[0] == 403 and not answered
        elif name in ("no content type", "text/plain"):
            assert fast[0] == 422 and not answered, name
        else:  # other JSON content types: the general path answers them, as before
            assert fast[0] == 200 and not answered, name


def test_mutated_bodies_same_answers(api, dataset, both):
    """Random mutations of valid bodies (values of other types, out of range, removed or added keys): whatever the
    general path answers, the fast path answers the same bytes."""
    h = _json_headers(api)
    api.client.post("/suitability", json={"enterprise_id": _ids(dataset)[0]}, headers=h)
    rng = random.Random(15)
    values = [None, True, 0, -1, 1, 2.5, 1e308, 10_001, "", "x", "textiles", "light", [], {}, [1], {"a": 1},
              _ids(dataset)[2], 120.6, 29.9, 2**70]
    keys = ["enterprise_id", "profile", "top", "weights", "constraints", "extra", "sector", "lon", "distance",
            "max_distance_km", "protected_kinds"]
    valid = _valid_bodies(dataset)
    answered_any = 0
    for i in range(60):
        body = json.loads(json.dumps(rng.choice(valid)))
        target = body
        if "profile" in body and rng.random() < 0.5:
            target = body["profile"]
        elif isinstance(body.get("constraints"), dict) and rng.random() < 0.5:
            target = body["constraints"]
        op = rng.random()
        if op < 0.5 and target:
            target[rng.choice(sorted(target))] = rng.choice(values)
        elif op < 0.75 and target:
            del target[rng.choice(sorted(target))]
        else:
            target[rng.choice(keys)] = rng.choice(values)
        fast, general, answered = both(json.dumps(body).encode(), h)
        assert fast == general, body
        answered_any += answered
    assert answered_any > 0  # some mutations stay valid and the fast path answers them


def test_scored_on_the_event_loop_or_a_thread_same_bytes(api, dataset, both, monkeypatch):
    """An enterprise given by id is scored on the event loop once the context is built (``INLINE_SCORING``); on
    the route's scoring threads the answer is the same, byte for byte."""
    h = _json_headers(api)
    bodies = [json.dumps(b).encode() for b in _valid_bodies(dataset)] + [json.dumps(b).encode() for b in
                                                                         _invalid_bodies(dataset)[-3:]]
    inline = [_call(api, b, h) for b in bodies]
    monkeypatch.setattr(suit, "INLINE_SCORING", False)
    threaded = [_call(api, b, h) for b in bodies]
    assert inline == threaded
    assert sum(a[0] == 200 for a in inline) == len(_valid_bodies(dataset))


def test_streamed_and_too_large_bodies_same_answers(api, dataset, both):
    """A body in several chunks (no Content-Length) is read whole by the fast path; a streamed body over the
    server's limit fails while it is read, and the general path, reading the replayed chunks, meets the same error
    (413, the same document) at the same point."""
    h = _json_headers(api)
    api.client.post("/suitability", json={"enterprise_id": _ids(dataset)[0]}, headers=h)
    body = json.dumps({"enterprise_id": _ids(dataset)[1], "top": 4}).encode()
    fast, general, answered = both([body[:7], body[7:20], body[20:]], h)
    assert fast == general and fast[0] == 200 and answered
    limit = api.app.state.parkplan.settings.max_body_bytes
    chunk = b" " * 65536
    big = [b'{"enterprise_id": "' + _ids(dataset)[0].encode() + b'"'] + [chunk] * (limit // len(chunk) + 2) + [b"}"]
    fast, general, answered = both(big, h)
    assert fast == general and fast[0] == 413 and not answered, fast[:2]


def test_first_scoring_by_id_on_a_thread_then_inline(api, dataset, monkeypatch):
    """Until a scoring by id has completed on the context (on a scoring thread: it builds the context's lookups
    under a lock), requests by id are not scored on the event loop; after it, they are, with the same bytes."""
    h = _json_headers(api)
    threaded: list = []
    real = suit._score

    def spy(state, body):
        threaded.append(body.enterprise_id)
        return real(state, body)

    monkeypatch.setattr(suit, "_score", spy)
    monkeypatch.delattr(api.app.state, "suitability_inline_ready", raising=False)
    ids = _ids(dataset)
    first = _call(api, json.dumps({"enterprise_id": ids[0]}).encode(), h)
    assert threaded == [ids[0]] and api.app.state.suitability_inline_ready() is \
        api.app.state.parkplan.suitability_context()
    second = _call(api, json.dumps({"enterprise_id": ids[0]}).encode(), h)
    assert threaded == [ids[0]] and first == second and first[0] == 200  # inline now, same answer
    _call(api, json.dumps({"profile": PROFILE}).encode(), h)
    assert len(threaded) == 2  # a typed-in profile always on a thread
