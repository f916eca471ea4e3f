"""schemathesis against the app's own OpenAPI schema: no 5xx, status codes, content types and bodies
as documented. A bounded number of examples per operation (PARKPLAN_SCHEMATHESIS_EXAMPLES, default 15),
derandomised so that a run is reproducible.

Left out: ``/metrics`` (each uncached call computes Ripley envelopes for seconds; tested in
test_analyses_api), the PDF sheet (tested in test_reviews), and the maps and web pages (their own
helpers' tests)."""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                                status_code_conformance)

EXAMPLES = int(os.environ.get("PARKPLAN_SCHEMATHESIS_EXAMPLES", "15"))
EXCLUDE = r"^/(metrics|maps|ui|login|logout|static)|sheet\.pdf$"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_api_conforms_to_its_schema(api):
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app).exclude(path_regex=EXCLUDE)
    headers = {"Authorization": f"Bearer {api.tokens['admin']}"}
    failures, tested = [], []
    for result in schema.get_all_operations():
        op = result.ok()
        tested.append(op.label)

        @given(op.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collected, reported together below
            failures.append(f"{op.label}: {str(exc)[:1500]}")
    assert {"GET /collections/{collection_id}/items", "POST /suitability",
            "POST /transfer-candidates/{candidate_id}/reviews"} <= set(tested)
    assert not failures, "\n\n".join(failures)
