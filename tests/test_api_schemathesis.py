"""Schemathesis against the project's own OpenAPI schema, in process (WSGI), with a real token and the
Hummingbot sandbox behind the API: no server error, every status, content type and body as documented.

Deterministic: derandomized Hypothesis, a bounded number of cases per operation, no deadline. Set
SCHEMATHESIS_CASES for a larger run (`SCHEMATHESIS_CASES=200 pytest tests/test_api_schemathesis.py -s`).
"""
import os

import pytest
import schemathesis
from rest_framework.throttling import SimpleRateThrottle
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bots.models import Bot

pytestmark = pytest.mark.django_db

CASES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_CASES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
SPREAD = {"order_amount": "1000", "budget_quote": "500", "buy_spreads_pct": [0.5], "sell_spreads_pct": [0.5]}


@pytest.fixture
def wsgi_app():
    """Django's WSGI app that keeps the test's database connection open between requests, as Django's test
    client does (on PostgreSQL, closing it would end the test transaction)."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    yield get_wsgi_application()
    for signal in signals:
        signal.connect(close_old_connections)


@pytest.fixture
def deployed_bot(api, upstream_account):
    """A real bot in the sandbox, so bot paths also reach existing bots, not only 404s."""
    body = {"name": "sharp_mm", "strategy": "spread", "connector": "bitmart", "pair": "SHARP/USDT",
            "account": upstream_account.name, "config": SPREAD}
    assert api.post("/bots/create", body, format="json").status_code == 201
    return Bot.objects.get(name="sharp_mm")


def test_the_api_answers_every_generated_request_as_its_schema_says(
    operator, deployed_bot, wsgi_app, monkeypatch, capsys
):
    unlimited = "1000000/min"
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": unlimited, "reads": unlimited, "writes": unlimited})
    headers = {"Authorization": f"Token {Token.objects.create(user=operator).key}"}
    # Outside DEBUG the schema itself needs a login (API_DOCS_PUBLIC).
    schema = schemathesis.openapi.from_wsgi("/api/schema?format=json", wsgi_app, headers=headers)
    # Path keys are generated at random (-> 404) or name the deployed bot / its account (-> real answers).
    real_keys = {"key": deployed_bot.name, "name": deployed_bot.account.name}
    ran = {"cases": 0, "by_status": {}}
    for result in schema.get_all_operations():
        operation = result.ok()
        _run(operation, GenerationMode.POSITIVE, headers, real_keys, ran)
        try:
            _run(operation, GenerationMode.NEGATIVE, headers, real_keys, ran)
        except Unsatisfiable:
            pass  # nothing in it can be made schema-invalid (e.g. only free-text path keys)
    with capsys.disabled():
        print(f"\nschemathesis: {ran['cases']} cases, responses by status {dict(sorted(ran['by_status'].items()))}")
    assert ran["by_status"].get(500, 0) == 0
    assert ran["cases"] >= CASES_PER_OPERATION * 10


def _run(operation, mode, headers, real_keys, ran):
    @hypothesis_settings(max_examples=CASES_PER_OPERATION, derandomize=True, deadline=None, database=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), use_real_key=st.booleans())
    def check(case, use_real_key):
        if use_real_key and mode == GenerationMode.POSITIVE:
            for name in case.path_parameters or {}:
                if name in real_keys:
                    case.path_parameters[name] = real_keys[name]
        response = case.call(headers=headers)
        ran["cases"] += 1
        ran["by_status"][response.status_code] = ran["by_status"].get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()
