"""Logs: a JSON line format for production, and no secret in any log line or database row, at DEBUG level,
while Hummingbot fails in every way."""
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from tests.conftest import SANDBOX_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"bitmart_api_key": "KEY-leak-canary-123", "bitmart_secret_key": "SEC-leak-canary-456",
        "bitmart_memo": "MEMO-canary"}
FAULT_KINDS = ["500", "401", "nonjson", "error200", "refuse"]


def test_log_format_json_writes_one_json_object_per_line():
    code = "import django, logging; django.setup(); logging.getLogger('bots.sync').warning('bot %s gone', 'sharp_mm')"
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "bridge.settings", "SECRET_KEY": "k",
           "LOG_FORMAT": "json"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "bot sharp_mm gone"
    assert line["levelname"] == "WARNING" and line["name"] == "bots.sync" and "asctime" in line


def every_stored_text():
    """Every row of every table, as text."""
    return "\n".join(repr(list(model.objects.values_list())) for model in apps.get_models())


@pytest.mark.django_db
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_hummingbot_password_and_exchange_keys_never_reach_a_log_line_or_the_database(api, hummingbot, upstream_account,
                                                                                      caplog, kind):
    caplog.set_level(logging.DEBUG)
    hummingbot.state.set_fault("*", ".*", kind)
    api.post(f"/accounts/{upstream_account.name}/credentials/bitmart", {"credentials": KEYS}, format="json")
    api.post("/bots/create", {"name": "sharp_mm", "account": upstream_account.name, "strategy": "spread",
                              "connector": "bitmart", "pair": "SHARP-USDT",
                              "params": {"order_amount": "1000", "budget_quote": "500"}}, format="json")
    api.get("/bots")
    with pytest.raises(CommandError):
        call_command("check_hummingbot")
    hummingbot.state.clear_faults()
    api.post(f"/accounts/{upstream_account.name}/credentials/bitmart", {"credentials": KEYS}, format="json")

    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.__dict__!r}" for r in caplog.records)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    for secret in [SANDBOX_PASSWORD, *KEYS.values()]:
        assert secret not in logged
        assert secret not in every_stored_text()
