"""The same client cases against the replayed captures of the real server and against the sandbox.

If both pass, the sandbox answers like the real hummingbot-api for everything the bridge uses.
"""
import re
from decimal import Decimal

import pytest
import responses

from bots.hummingbot.client import HummingbotClient
from bots.hummingbot.errors import (
    HummingbotAuthError,
    HummingbotNotFound,
    HummingbotRejected,
    HummingbotServerError,
)
from tests.conftest import SANDBOX_PASSWORD
from tests.contracts.recorded import record, replay

RECORDED_BASE = "http://recorded.test:8000"
CAPTURED_BOT = "my-pmm-bot-20261125-184922"
CONFIG = record("controllers-config-create")["request"]["json"]  # the captured pmm_simple config


class Recorded:
    """Answers from contracts/captured, one registration per case."""

    def __init__(self, mock):
        self.mock = mock
        self.client = HummingbotClient(RECORDED_BASE, "admin", "admin", retries=0)

    def with_password(self, password):
        return HummingbotClient(RECORDED_BASE, "admin", password, retries=0)

    def replay(self, name, **kwargs):
        return replay(self.mock, RECORDED_BASE, name, **kwargs)

    def deployed_bot(self):
        self.replay("deploy-v2-controllers")
        self.replay("bot-orchestration-status_running")
        self.replay("bot-status_running")
        return self.client.deploy_controllers(
            instance_name="my-pmm-bot", credentials_profile="master_account", controllers=["pmm_btc_1"], image="i"
        )

    def bot_with_fills(self):
        self.replay("bot-history", url=f"/bot-orchestration/{CAPTURED_BOT}/history")
        return CAPTURED_BOT

    def archived_bot_db(self):
        rec = self.replay("archived-bots-list")
        db = rec["body"][0]
        self.replay("archived-bots-trades")
        return db


class Sandboxed:
    """The sandbox over real HTTP, brought into the same state by real calls."""

    def __init__(self, sandbox):
        self.sb = sandbox
        self.client = HummingbotClient(sandbox.url, "admin", SANDBOX_PASSWORD, retries=0)

    def with_password(self, password):
        return HummingbotClient(self.sb.url, "admin", password, retries=0)

    def replay(self, name, **kwargs):
        return record(name)

    def deployed_bot(self):
        self.client.save_controller_config("pmm_btc_1", CONFIG)
        return self.client.deploy_controllers(
            instance_name="my-pmm-bot", credentials_profile="master_account", controllers=["pmm_btc_1"], image="i"
        )

    def bot_with_fills(self):
        name = self.deployed_bot().unique_instance_name
        self.sb.state.inject_fills(name, 3)
        return name

    def archived_bot_db(self):
        name = self.bot_with_fills()
        self.client.stop_and_archive_bot(name)
        self.sb.advance(41)
        return self.client.archived_bots()[0]


@pytest.fixture(params=["recorded", "sandbox"])
def upstream(request):
    if request.param == "recorded":
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            yield Recorded(mock)
    else:
        yield Sandboxed(request.getfixturevalue("sandbox"))


def test_root_identifies_the_server(upstream):
    upstream.replay("root")
    info = upstream.client.server_info()
    assert (info.name, info.version) == ("Hummingbot API", "1.0.1")


def test_accounts_list_has_master_account(upstream):
    upstream.replay("accounts-list")
    assert "master_account" in upstream.client.list_accounts()


def test_wrong_password_is_an_auth_error(upstream):
    upstream.replay("auth-wrong_bot-orchestration-status")
    with pytest.raises(HummingbotAuthError):
        upstream.with_password("wrong").bots_status()


def test_adding_an_account_twice_is_rejected_the_second_time(upstream):
    upstream.replay("accounts-add-account")
    upstream.replay("accounts-add-account_duplicate")
    upstream.client.add_account("test_account")
    with pytest.raises(HummingbotRejected, match="Account already exists."):
        upstream.client.add_account("test_account")


def test_invalid_account_name_is_rejected_with_the_rule(upstream):
    upstream.replay("accounts-add-account_invalid-name")
    with pytest.raises(HummingbotRejected, match="Only letters, numbers, underscores and hyphens are allowed"):
        upstream.client.add_account("bad.name")


def test_deploy_renames_the_bot_with_a_timestamp(upstream):
    deployment = upstream.deployed_bot()
    assert re.fullmatch(r"my-pmm-bot-\d{8}-\d{6}", deployment.unique_instance_name)
    assert deployment.script_config == f"{deployment.unique_instance_name}.yml"


def test_a_deployed_bot_is_listed_running_with_figures(upstream):
    name = upstream.deployed_bot().unique_instance_name
    status = upstream.client.bots_status()[name]
    assert status.status == "running" and status.is_trading and status.recently_active
    assert upstream.client.bot_status(name).is_trading


def test_bad_instance_name_gets_the_upstream_500_as_server_error(upstream):
    upstream.replay("deploy-v2-script_invalid-instance-name", url="/bot-orchestration/deploy-v2-controllers")
    with pytest.raises(HummingbotServerError) as err:
        upstream.client.deploy_controllers(
            instance_name="bad/name", credentials_profile="master_account", controllers=["x"], image="i"
        )
    assert err.value.status == 500


@pytest.mark.parametrize(
    "capture, call",
    [
        ("stop-bot_unknown", lambda c: c.stop_bot("nosuchbot")),
        ("start-bot_unknown", lambda c: c.start_bot("nosuchbot")),
        ("bot-orchestration-unknown-bot-status", lambda c: c.bot_status("nosuchbot")),
        ("bot-history_unknown", lambda c: c.bot_history("nosuchbot", days=1)),
    ],
)
def test_unknown_bot_inside_http_200_is_not_found(upstream, capture, call):
    upstream.replay(capture, url=record(capture)["request"]["url"])
    with pytest.raises(HummingbotNotFound, match="nosuchbot"):
        call(upstream.client)


def test_archiving_an_inactive_bot_is_rejected(upstream):
    upstream.replay("stop-and-archive-bot_unknown")
    with pytest.raises(HummingbotRejected, match="not found in active bots"):
        upstream.client.stop_and_archive_bot("nosuchbot")


def test_history_gives_typed_fills(upstream):
    name = upstream.bot_with_fills()
    fills = upstream.client.bot_history(name, days=1)
    assert fills
    fill = fills[0]
    assert fill.side in ("buy", "sell") and isinstance(fill.price, Decimal) and fill.amount > 0
    assert fill.timestamp.tzinfo is not None and fill.trade_id
    assert fill.fee_quote == Decimal(fill.raw["raw_json"]["trade_fee"]["percent"]) * fill.price * fill.amount


def test_archived_trades_are_typed_and_paginated(upstream):
    db = upstream.archived_bot_db()
    assert db.startswith("bots/archived/") and db.endswith(".sqlite")
    page = upstream.client.archived_trades(db)
    assert page.total == len(page.fills) > 0 and page.has_more is False
    assert all(isinstance(f.price, Decimal) and f.side in ("buy", "sell") for f in page.fills)


def test_missing_archived_db_is_not_found(upstream):
    upstream.replay("archived-bots-trades_missing-db")
    with pytest.raises(HummingbotNotFound, match="not found"):
        upstream.client.archived_trades("bots/archived/nope/data/nope.sqlite")


def test_saved_config_can_be_validated(upstream):
    upstream.replay("controllers-config-create")
    upstream.replay("controllers-config-validate_ok")
    upstream.client.save_controller_config("pmm_btc_1", CONFIG)
    upstream.client.validate_controller_config("market_making", "pmm_simple", CONFIG)


def test_validation_refusal_carries_the_pydantic_text(upstream):
    upstream.replay("controllers-config-validate_bad")
    with pytest.raises(HummingbotRejected) as err:
        upstream.client.validate_controller_config("market_making", "pmm_simple", {"connector_name": "binance"})
    assert "validation errors for" in err.value.message and "id\n  Field required" in err.value.message


def test_an_uploaded_controller_is_read_back_verbatim_and_a_missing_one_is_not_found(sandbox):
    """GET /controllers/{type}/{name} answers {name, type, content} or 404 (docs/hummingbot-api.md §4; not captured:
    the sandbox follows api:routers/controllers.py get_controller)."""
    client = Sandboxed(sandbox).client
    source = "# a controller\r\n\ttabs, unicode: \u00e9\n"
    client.upload_controller("generic", "volume_taker_ab12cd34", source)
    assert client.controller_source("generic", "volume_taker_ab12cd34") == source
    with pytest.raises(HummingbotNotFound, match="Controller 'nope' not found in 'generic'"):
        client.controller_source("generic", "nope")


def test_connector_config_map_and_unknown_connector(upstream):
    upstream.replay("connectors-binance-config-map")
    upstream.replay("connectors-unknown-config-map")
    assert set(upstream.client.connector_config_map("binance")) == {"binance_api_key", "binance_api_secret"}
    with pytest.raises(HummingbotServerError):
        upstream.client.connector_config_map("nosuchex")
