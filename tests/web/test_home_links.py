"""The home page links to every map and page the role may open, and to none it may not."""

from __future__ import annotations

import re

import pytest

from .conftest import login_client

EXPECTED = {
    "viewer": {"/maps/parks", "/ui/parks"},
    "analyst": {"/maps/parks", "/maps/enterprises", "/maps/clusters", "/scenarios/all/map", "/ui/parks",
                "/ui/suitability", "/ui/metrics", "/ui/plan", "/ui/scenarios"},
    "reviewer_a": {"/maps/parks", "/maps/enterprises", "/maps/clusters", "/maps/transfers", "/scenarios/all/map",
                   "/ui/parks", "/ui/suitability", "/ui/review", "/ui/metrics", "/ui/plan", "/ui/scenarios"},
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_home_links_every_page_the_role_may_open(web, role):
    client = login_client(web.app, web.tokens[role])
    home = client.get("/", headers={"accept": "text/html"}).text
    links = set(re.findall(r'<a href="(/(?:maps|ui|scenarios)[^"?]*)', home))
    assert links == EXPECTED[role]
    for path in sorted(links - {"/maps/clusters", "/maps/enterprises"}):  # the two slow maps: role checked below
        r = client.get(path)
        assert r.status_code == 200 or (path.startswith("/scenarios/") and r.status_code == 503), (path, r.status_code)
    # what the role may not open is not linked, and is refused
    for path in sorted(EXPECTED["reviewer_a"] - links):
        if path.startswith("/ui/"):
            assert client.get(path).status_code == 403, path
