"""The OpenAPI document matches what the code does: schemathesis generates requests (valid and invalid)
from /api/v1/openapi.json, calls the real app over WSGI and checks every answer against the document
(status codes, content types, headers, response schemas, no server errors, invalid input refused, valid
input accepted, 405 with Allow for unsupported methods: every built-in check).

Schemathesis' pytest plugin does not run under the installed pytest, so the operations are driven
through its Python API with Hypothesis directly; a bounded number of examples keeps this well under a minute.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from tests.procurement.conftest import build_register

EXAMPLES_PER_OPERATION_AND_MODE = 15
load_all_checks()
# Every built-in check, not only the default set (which leaves out, e.g., unsupported_method and the
# Allow header of a 405, negative and positive data handling).
ALL_CHECKS = CHECKS.get_all()


@pytest.fixture
def api_schema(app):
    build_register(app)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_document_lists_every_api_route(app, api_schema):
    documented = {(op.ok().method.upper(), "/api/v1" + op.ok().path) for op in api_schema.get_all_operations()}
    routes = {(method, rule.rule.replace("<", "{").replace(">", "}"))
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi_json"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_answers_match_the_openapi_document(api_schema, mode):
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES_PER_OPERATION_AND_MODE, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(checks=ALL_CHECKS)

        try:
            check()
        except Unsatisfiable:
            # An operation without parameters or body (GET /schemes) has no invalid request to make.
            assert mode is GenerationMode.NEGATIVE and operation.path == "/schemes", operation.path
