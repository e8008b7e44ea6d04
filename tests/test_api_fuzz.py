"""Requests drawn from the OpenAPI document never get a server error, on either database.

Schemathesis draws requests for every documented operation, ones that fit the schema and
ones that break it, and sends them to the app in process (WSGI) as an admin and as a maker,
on a fresh database with the test world in it (deleting what it finds there is fine). Each
answer must be no 5xx, and must match the document: a documented status and media type,
and a body that fits the documented schema.

Bounded for CI: a few examples per operation and mode, drawn the same way every run. For a
longer hunt: SMARTFAB_FUZZ_EXAMPLES=200 SMARTFAB_FUZZ_RANDOM=1 pytest tests/test_api_fuzz.py
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("SMARTFAB_FUZZ_EXAMPLES", "6"))
RANDOM = os.environ.get("SMARTFAB_FUZZ_RANDOM") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The test world holds a few records of each kind: valid ids are drawn among theirs.
KNOWN_IDS = 16


def _near_the_records(case: Case) -> None:
    """Point ids in the path and the body at records that exist, so the rules behind run."""
    for name, value in (case.path_parameters or {}).items():
        if isinstance(value, int):
            case.path_parameters[name] = value % KNOWN_IDS + 1
    if isinstance(case.body, dict):
        for name, value in case.body.items():
            if name.endswith("_id") and isinstance(value, int) and value > 0:
                case.body[name] = value % KNOWN_IDS + 1


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> Callable[[], None]:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        phases=[Phase.generate, Phase.shrink] if RANDOM else [Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Case) -> None:
        if mode is GenerationMode.POSITIVE:
            _near_the_records(case)
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    return send


@pytest.mark.parametrize("who", ["admin", "maker"])
def test_generated_requests_get_no_server_error_and_match_the_document(app, world, who):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = world.headers(who)
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, headers)()
            except (Exception, BaseExceptionGroup) as found:  # noqa: BLE001 - every operation runs
                failures[f"{operation.label} ({mode.value})"] = str(found)
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
