"""The hummingbot-http sb, exercised over real HTTP with a fake clock (no Django, no DB)."""

import base64
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

import sandbox.cli
from sandbox import SandboxConfig, SandboxState, start_sandbox

ROOT = Path(__file__).resolve().parents[1]
VOLUME_TAKER_SOURCE = (ROOT / "bots/controllers/volume_taker.py").read_text(encoding="utf-8")
START = 1_800_000_000.0
ARCHIVE_DELAY = 40.0
LINGER = 5.0
FILL_INTERVAL = 10.0

PMM_V1 = {
    "id": "sharp-spread", "controller_name": "pmm_v1", "controller_type": "generic",
    "connector_name": "bitmart", "trading_pair": "SHARP-USDT", "total_amount_quote": 0,
    "order_amount": 1000, "buy_spreads": [0.01, 0.02], "sell_spreads": [0.01, 0.02],
    "order_refresh_time": 30, "manual_kill_switch": False, "initial_positions": [],
}
PMM_SIMPLE = {
    "id": "sharp-simple", "controller_name": "pmm_simple", "controller_type": "market_making",
    "connector_name": "bitmart", "trading_pair": "SHARP-USDT", "total_amount_quote": 500,
    "buy_spreads": [0.01, 0.02], "sell_spreads": [0.01, 0.02],
    "buy_amounts_pct": [50, 50], "sell_amounts_pct": [50, 50], "leverage": 1,
    "position_mode": "ONEWAY", "skip_rebalance": True,
}
VOLUME_TAKER = {
    "id": "sharp-volume", "controller_name": "volume_taker", "controller_type": "generic",
    "connector_name": "bitmart", "trading_pair": "SHARP-USDT", "total_amount_quote": 2000,
    "order_amount_quote": 20, "order_interval": 120, "min_price": 0.004, "max_price": 0.006,
    "max_book_spread_pct": 0.02, "order_timeout": 30, "max_slippage": 0.01, "max_leg_fraction": 0.05,
    "fee_rate": 0.001, "max_empty_legs": 5,
}


class FakeClock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Overrides the suite-wide autouse fixture of conftest.py, which needs Django: these tests
    must also run with `-p no:django`."""


@pytest.fixture
def clock():
    return FakeClock()


def stop_promptly(box):
    """box.stop(), without waiting out serve_forever's 50 ms poll: a connection wakes it up."""
    stopper = threading.Thread(target=box.stop)
    stopper.start()
    address = urlsplit(box.url)
    while stopper.is_alive():
        try:
            socket.create_connection((address.hostname, address.port), timeout=0.05).close()
        except OSError:  # already closed
            pass
        stopper.join(0.002)


@pytest.fixture
def sb(clock):
    config = SandboxConfig(port=0, seed=42, archive_delay=ARCHIVE_DELAY, mqtt_linger=LINGER,
                           fill_interval=FILL_INTERVAL, log_requests=False)
    with start_sandbox(config) as sb:
        sb.state.clock = clock
        yield sb
        stop_promptly(sb)


@pytest.fixture
def http(sb):
    """requests session whose relative paths hit the sandbox with the right credentials."""
    session = requests.Session()
    session.auth = ("admin", "admin")
    original = session.request

    def request(method, path, **kwargs):
        return original(method, sb.url + path, timeout=5, **kwargs)
    session.request = request
    yield session
    session.close()


def deploy(http, name="sharp", configs=("sharp-spread",), config=PMM_V1):
    http.post(f"/controllers/configs/{config['id']}", json=config)
    response = http.post("/bot-orchestration/deploy-v2-controllers", json={
        "instance_name": name, "credentials_profile": "master_account",
        "controllers_config": list(configs), "headless": True})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True, body
    return body["unique_instance_name"]


def history(http, bot, days=0, **params):
    body = http.get(f"/bot-orchestration/{bot}/history", params={"days": days, **params}).json()
    assert body["status"] == "success"
    return body["response"]


def trade_ids(http, bot, days=0):
    return [trade["trade_id"] for trade in history(http, bot, days)["data"]["data"]["trades"]]


def status_of(http):
    return http.get("/bot-orchestration/status").json()["data"]


# --------------------------------------------------------------------------- transport and auth


def test_root_needs_no_auth_and_says_sandbox(sb):
    response = requests.get(sb.url + "/")
    assert response.json() == {"name": "Hummingbot API", "version": "1.0.1", "status": "running",
                               "sandbox": True}


def test_missing_and_wrong_credentials_are_401_with_basic_challenge(sb):
    missing = requests.get(sb.url + "/bot-orchestration/status")
    wrong = requests.get(sb.url + "/bot-orchestration/status", auth=("admin", "wrong"))
    assert (missing.status_code, missing.json()) == (401, {"detail": "Not authenticated"})
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Incorrect username or password"})
    assert missing.headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"] == "Basic"


def test_trailing_slashes_and_methods_follow_the_real_routes(http):
    assert http.get("/accounts").status_code == 404
    assert http.get("/accounts").json() == {"detail": "Not Found"}
    assert http.get("/bot-orchestration/status/").status_code == 404
    assert http.get("/controllers").status_code == 404
    assert http.get("/accounts/").status_code == 200
    wrong_method = http.delete("/accounts/")
    assert (wrong_method.status_code, wrong_method.json()) == (405, {"detail": "Method Not Allowed"})


def test_invalid_json_body_is_a_422_json_invalid(http):
    response = http.post("/bot-orchestration/stop-bot", data="{nope",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert (error["type"], error["loc"], error["msg"]) == ("json_invalid", ["body", 1],
                                                          "JSON decode error")


# --------------------------------------------------------------------------- accounts and connectors


def test_account_flow_and_errors(http):
    assert http.get("/accounts/").json() == ["master_account"]
    added = http.post("/accounts/add-account", params={"account_name": "client_a"})
    assert (added.status_code, added.json()) == (201, {"message": "Account added successfully."})
    duplicate = http.post("/accounts/add-account", params={"account_name": "client_a"})
    assert (duplicate.status_code, duplicate.json()) == (400, {"detail": "Account already exists."})
    invalid = http.post("/accounts/add-account", params={"account_name": "bad.name"})
    assert invalid.status_code == 400
    assert invalid.json() == {"detail": "Invalid account name: 'bad.name'. Only letters, numbers, "
                                        "underscores and hyphens are allowed."}
    missing = http.post("/accounts/add-account")
    assert missing.status_code == 422
    assert missing.json() == {"detail": [{"type": "missing", "loc": ["query", "account_name"],
                                          "msg": "Field required", "input": None}]}
    assert http.get("/accounts/").json() == ["master_account", "client_a"]
    assert http.get("/accounts/client_a/credentials").json() == []
    unknown = http.get("/accounts/nosuch/credentials")
    assert (unknown.status_code, unknown.json()) == (
        404, {"detail": "Directory 'credentials/nosuch/connectors' not found"})


def test_credentials_need_every_config_map_field_and_are_not_echoed(http, sb):
    fields = http.get("/connectors/bitmart/config-map").json()
    assert list(fields) == ["bitmart_api_key", "bitmart_secret_key", "bitmart_memo"]
    partial = {"bitmart_api_key": "k", "bitmart_secret_key": "s"}
    rejected = http.post("/accounts/add-credential/master_account/bitmart", json=partial)
    assert rejected.status_code == 400 and "bitmart_memo" in rejected.json()["detail"]
    accepted = http.post("/accounts/add-credential/master_account/bitmart",
                        json={**partial, "bitmart_memo": "m"})
    assert (accepted.status_code, accepted.json()) == (
        201, {"message": "Connector credentials added successfully."})
    assert http.get("/accounts/master_account/credentials").json() == ["bitmart"]
    assert "secret" not in repr(sb.state.summary()["accounts"])


def test_connectors_exclude_gateway_and_unknown_config_map_is_500_text(http):
    connectors = http.get("/connectors/").json()
    assert {"bitmart", "binance", "kucoin", "gate_io", "mexc", "okx"} <= set(connectors)
    assert not any("/" in name for name in connectors)
    unknown = http.get("/connectors/nosuchex/config-map")
    assert (unknown.status_code, unknown.text) == (500, "Internal Server Error")
    assert unknown.headers["content-type"].startswith("text/plain")


# --------------------------------------------------------------------------- controllers and validation


def test_configs_round_trip_with_id_and_list(http):
    created = http.post("/controllers/configs/sharp-spread", json=PMM_V1)
    assert (created.status_code, created.json()) == (
        201, {"message": "Configuration 'sharp-spread' saved successfully"})
    assert http.get("/controllers/configs/sharp-spread").json() == {**PMM_V1, "id": "sharp-spread"}
    assert [config["id"] for config in http.get("/controllers/configs/").json()] == ["sharp-spread"]
    missing = http.get("/controllers/configs/nosuch")
    assert (missing.status_code, missing.json()) == (
        404, {"detail": "Configuration 'nosuch' not found"})
    listed = http.get("/controllers/").json()
    assert "pmm_v1" in listed["generic"] and "pmm_simple" in listed["market_making"]


def validate(http, kind, name, config):
    return http.post(f"/controllers/{kind}/{name}/config/validate", json=config)


def test_validate_accepts_the_contract_examples(http):
    assert validate(http, "generic", "pmm_v1", PMM_V1).json() == {"message": "Configuration is valid"}
    assert validate(http, "market_making", "pmm_simple", PMM_SIMPLE).status_code == 200


def test_validate_reports_missing_id_and_extra_keys_like_pydantic(http):
    config = {key: value for key, value in PMM_V1.items() if key != "id"}
    response = validate(http, "generic", "pmm_v1", {**config, "typo_field": 1})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("2 validation errors for PMMV1Config\nid\n  Field required [type=missing")
    assert ("typo_field\n  Extra inputs are not permitted [type=extra_forbidden, input_value=1, "
            "input_type=int]\n    For further information visit "
            "https://errors.pydantic.dev/2.14/v/extra_forbidden") in detail


def test_validate_pmm_simple_matches_the_captured_error(http):
    response = validate(http, "market_making", "pmm_simple", {"connector_name": "binance"})
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "2 validation errors for MarketMakingControllerConfigBase\n"
        "id\n  Field required [type=missing, input_value={'connector_name': 'binance'}, "
        "input_type=dict]\n    For further information visit https://errors.pydantic.dev/2.14/v/missing\n"
        "controller_name\n  Field required [type=missing, input_value={'connector_name': 'binance'}, "
        "input_type=dict]\n    For further information visit https://errors.pydantic.dev/2.14/v/missing")


def test_validate_rejects_amounts_that_do_not_match_the_spreads(http):
    response = validate(http, "market_making", "pmm_simple", {**PMM_SIMPLE, "buy_amounts_pct": [100]})
    assert response.status_code == 400
    assert ("buy_amounts_pct\n  Value error, The number of buy_amounts_pct must match the number "
            "of buy_spreads. [type=value_error") in response.json()["detail"]


def test_validate_checks_types(http):
    response = validate(http, "generic", "pmm_v1", {**PMM_V1, "inventory_skew_enabled": "maybe",
                                                   "order_refresh_time": 1.5})
    detail = response.json()["detail"]
    assert "order_refresh_time\n  Input should be a valid integer, got a number with a fractional" in detail
    assert "inventory_skew_enabled\n  Input should be a valid boolean, unable to interpret input" in detail


def test_volume_taker_is_unknown_until_its_source_is_uploaded(http):
    unknown = validate(http, "generic", "volume_taker", VOLUME_TAKER)
    assert (unknown.status_code, unknown.json()) == (
        404, {"detail": "Controller configuration class for 'volume_taker' not found"})
    assert http.get("/controllers/generic/volume_taker").json() == {
        "detail": "Controller 'volume_taker' not found in 'generic'"}
    mismatch = http.post("/controllers/generic/volume_taker",
                        json={"content": "# source", "type": "market_making"})
    assert mismatch.status_code == 400
    upload_volume_taker(http)
    assert http.get("/controllers/generic/volume_taker").json() == {
        "name": "volume_taker", "type": "generic", "content": VOLUME_TAKER_SOURCE}
    assert "volume_taker" in http.get("/controllers/").json()["generic"]
    assert validate(http, "generic", "volume_taker", VOLUME_TAKER).status_code == 200
    config = {key: value for key, value in VOLUME_TAKER.items() if key != "order_timeout"}
    missing = validate(http, "generic", "volume_taker", config).json()["detail"]
    assert missing.startswith("1 validation error for VolumeTakerConfig\norder_timeout\n  Field required")


def test_an_uploaded_controller_is_its_content_whatever_its_name(http, clock):
    """The API and the bot import controllers.<type>.<name> and take the config class that module defines."""
    upload_volume_taker(http, "volume_taker_ab12cd34")
    versioned = {**VOLUME_TAKER, "controller_name": "volume_taker_ab12cd34"}
    assert validate(http, "generic", "volume_taker_ab12cd34", versioned).status_code == 200
    refused = validate(http, "generic", "volume_taker_ab12cd34", {**versioned, "order_timeout": 1})
    assert refused.json()["detail"].startswith("1 validation error for VolumeTakerConfig\norder_timeout")
    bot = deploy(http, "vol", ["sharp-volume"], versioned)
    http.post("/controllers/generic/no_class", json={"content": "# no config class here\n", "type": "generic"})
    assert validate(http, "generic", "no_class", VOLUME_TAKER).json() == {
        "detail": "Controller configuration class for 'no_class' not found"}
    empty = deploy(http, "empty", ["no-class"], {**VOLUME_TAKER, "id": "no-class", "controller_name": "no_class"})
    clock.advance(60)
    assert bot_errors(http, bot) == []
    assert bot_errors(http, empty) == ["Failed to start strategy: No configuration class found in the module no_class."]


# --------------------------------------------------------------------------- deploy


def test_deploy_name_traps(http):
    body = {"instance_name": "bad/name", "credentials_profile": "master_account",
            "controllers_config": ["x"]}
    bad = http.post("/bot-orchestration/deploy-v2-controllers", json=body)
    assert (bad.status_code, bad.text) == (500, "Internal Server Error")
    assert bad.headers["content-type"].startswith("text/plain")
    bad_config = http.post("/bot-orchestration/deploy-v2-controllers",
                          json={**body, "instance_name": "ok", "controllers_config": ["a.b"]})
    assert bad_config.status_code == 500
    missing = http.post("/bot-orchestration/deploy-v2-controllers", json={"instance_name": "ok"})
    assert missing.status_code == 422
    assert [error["loc"] for error in missing.json()["detail"]] == [
        ["body", "credentials_profile"], ["body", "controllers_config"]]
    no_profile = http.post("/bot-orchestration/deploy-v2-controllers",
                          json={**body, "instance_name": "ok", "credentials_profile": "nosuch"})
    assert (no_profile.status_code, no_profile.json()) == (
        500, {"detail": "[Errno 2] No such file or directory: 'bots/credentials/nosuch'"})


def test_deploy_names_the_bot_with_a_timestamp_and_it_trades(http, clock):
    bot = deploy(http)
    assert bot == "sharp-" + time.strftime("%Y%m%d-%H%M%S", time.localtime(START))
    entry = status_of(http)[bot]
    assert (entry["status"], entry["recently_active"], entry["source"]) == ("running", True, "docker")
    assert entry["performance"]["sharp-spread"]["performance"]["volume_traded"] == 0
    clock.advance(35)
    figures = status_of(http)[bot]["performance"]["sharp-spread"]["performance"]
    assert figures["volume_traded"] > 0
    assert len(trade_ids(http, bot)) == 3
    assert http.get("/docker/active-containers", params={"name_filter": "SHARP"}).json()[0]["name"] == bot


def test_same_second_deploy_is_a_200_docker_conflict(http):
    deploy(http)
    again = http.post("/bot-orchestration/deploy-v2-controllers", json={
        "instance_name": "sharp", "credentials_profile": "master_account",
        "controllers_config": ["sharp-spread"]})
    assert again.status_code == 200
    assert again.json()["success"] is False
    assert "409 Client Error" in again.json()["message"] and "Conflict" in again.json()["message"]


def test_missing_or_invalid_config_deploys_but_the_bot_never_trades(http, clock):
    missing = http.post("/bot-orchestration/deploy-v2-controllers", json={
        "instance_name": "ghost", "credentials_profile": "master_account",
        "controllers_config": ["never-saved"]}).json()
    broken = deploy(http, "broken", ["broken"], {**PMM_V1, "id": "broken", "typo": 1})
    clock.advance(60)
    for bot in (missing["unique_instance_name"], broken):
        entry = status_of(http)[bot]
        assert (entry["status"], entry["performance"]) == ("stopped", {})
        assert entry["error_logs"] and entry["error_logs"][0]["level_name"] == "ERROR"
        assert trade_ids(http, bot, days=1) == []


# --------------------------------------------------------------------------- stop / start


def test_stop_bot_keeps_it_running_with_empty_performance_and_no_fills(http, clock):
    bot = deploy(http)
    clock.advance(25)
    stopped = http.post("/bot-orchestration/stop-bot", json={"bot_name": bot})
    assert stopped.json() == {"status": "success", "response": {"success": True}}
    fills_at_stop = trade_ids(http, bot)
    clock.advance(100)
    entry = status_of(http)[bot]
    assert entry["status"] == "running" and entry["recently_active"] is True
    assert entry["performance"] == {"sharp-spread": {"status": "running", "performance": {},
                                                     "custom_info": {}}}
    assert trade_ids(http, bot) == fills_at_stop
    assert sandbox_bot(http, bot)["stop_requests"][0]["skip_order_cancellation"] is False


def test_start_bot_answers_success_but_changes_nothing(http, clock):
    bot = deploy(http)
    http.post("/bot-orchestration/stop-bot", json={"bot_name": bot})
    started = http.post("/bot-orchestration/start-bot", json={"bot_name": bot, "log_level": "INFO"})
    assert started.json() == {"status": "success", "response": {"success": True}}
    clock.advance(100)
    assert status_of(http)[bot]["performance"]["sharp-spread"]["performance"] == {}
    unknown = http.post("/bot-orchestration/start-bot", json={"bot_name": "nosuchbot"})
    assert unknown.json() == {"status": "success",
                              "response": {"success": False, "message": "Bot nosuchbot not found"}}


def test_container_restart_trades_again_and_days_zero_only_sees_the_new_process(http, clock):
    bot = deploy(http)
    clock.advance(30)
    http.post("/bot-orchestration/stop-bot", json={"bot_name": bot})
    before_restart = trade_ids(http, bot)
    assert len(before_restart) == 3

    assert http.post(f"/docker/stop-container/{bot}").json() is None
    entry = status_of(http)[bot]
    assert (entry["status"], entry["source"], entry["recently_active"]) == ("stopped", "mqtt", False)
    assert [c["name"] for c in http.get("/docker/exited-containers").json()] == [bot]
    timed_out = history(http, bot, timeout=0.01)
    assert timed_out["success"] is False and timed_out["timeout"] is True
    clock.advance(LINGER)
    assert bot not in status_of(http)
    assert history(http, bot) == {"success": False, "message": f"Bot {bot} not found"}

    assert http.post(f"/docker/start-container/{bot}").json() is None
    assert http.post(f"/docker/start-container/{bot}").json() is None  # already running: no-op
    clock.advance(20)
    entry = status_of(http)[bot]
    assert entry["status"] == "running"
    assert entry["performance"]["sharp-spread"]["performance"]["volume_traded"] > 0
    after_restart = trade_ids(http, bot)
    assert len(after_restart) == 2 and not set(after_restart) & set(before_restart)
    assert trade_ids(http, bot, days=1) == before_restart + after_restart


def test_unknown_container_is_an_error_string_with_200(http):
    response = http.post("/docker/stop-container/nosuch")
    assert response.status_code == 200
    assert isinstance(response.json(), str) and "No such container: nosuch" in response.json()


# --------------------------------------------------------------------------- archive


def sandbox_bot(http, bot):
    return http.get("/_sandbox/state").json()["bots"][bot]


def test_stop_and_archive_goes_through_its_phases(http, clock):
    bot = deploy(http)
    clock.advance(40)
    live = history(http, bot)["data"]["data"]["trades"]
    response = http.post(f"/bot-orchestration/stop-and-archive-bot/{bot}",
                        params={"skip_order_cancellation": "false", "archive_locally": "true"})
    assert response.json()["status"] == "success"
    assert response.json()["message"] == f"Stop and archive process started for bot {bot}"
    assert sandbox_bot(http, bot)["archive"]["skip_order_cancellation"] is False

    clock.advance(1)  # phase 1: stopping, invisible, container still up
    assert bot not in status_of(http)
    assert http.get(f"/bot-orchestration/{bot}/status").json()["data"]["status"] == "not_found"
    assert [c["name"] for c in http.get("/docker/active-containers").json()] == [bot]
    again = http.post(f"/bot-orchestration/stop-and-archive-bot/{bot}").json()
    assert again["status"] == "error"

    clock.advance(ARCHIVE_DELAY / 2)  # phase 2: container gone, MQTT still lists it
    entry = status_of(http)[bot]
    assert (entry["status"], entry["source"], entry["recently_active"]) == ("stopped", "mqtt", False)
    assert http.get("/docker/active-containers").json() == []

    clock.advance(ARCHIVE_DELAY / 2)  # done
    assert bot not in status_of(http)
    assert http.get("/docker/exited-containers").json() == []
    db_path = f"bots/archived/{bot}/data/{bot}.sqlite"
    assert http.get("/archived-bots/").json() == [db_path]
    archived = http.get(f"/archived-bots/{db_path}/trades").json()
    assert archived["pagination"] == {"total": 4, "limit": 100, "offset": 0, "has_more": False}
    assert [(t["exchange_trade_id"], t["price"], t["amount"], t["timestamp"], t["trade_type"])
            for t in archived["trades"]] == [
        (t["trade_id"], float(t["price"]), float(t["quantity"]), t["trade_timestamp"], t["trade_type"])
        for t in live]
    summary = http.get(f"/archived-bots/{db_path}/summary").json()
    assert (summary["total_trades"], summary["trading_pairs"], summary["exchanges"]) == (
        4, ["SHARP-USDT"], ["bitmart"])
    assert http.get(f"/archived-bots/{db_path}/status").json()["status"]["trade_fill"] == "Correct"


def test_archive_of_an_unknown_bot_is_a_200_error_body(http):
    deployed = deploy(http)
    response = http.post("/bot-orchestration/stop-and-archive-bot/nosuchbot")
    assert response.status_code == 200
    assert response.json() == {
        "status": "error",
        "message": f"Bot 'nosuchbot' not found in active bots. Active bots: ['{deployed}']. "
                   "Cannot perform graceful shutdown.",
        "details": {"input_name": "nosuchbot", "actual_bot_name": "nosuchbot",
                    "container_name": "nosuchbot", "active_bots": [deployed],
                    "reason": "Bot must be actively managed via MQTT for graceful shutdown"}}


def test_archived_paths_are_checked(http):
    outside = http.get("/archived-bots/etc/passwd/trades")
    assert (outside.status_code, outside.json()) == (
        400, {"detail": "Path 'etc/passwd' is outside the archived bots directory"})
    missing = http.get("/archived-bots/bots/archived/nope/data/nope.sqlite/trades")
    assert (missing.status_code, missing.json()) == (
        404, {"detail": "Database path 'bots/archived/nope/data/nope.sqlite' not found"})


def test_history_errors(http):
    assert history(http, "nosuchbot") == {"success": False, "message": "Bot nosuchbot not found"}
    bad_days = http.get("/bot-orchestration/nosuchbot/history", params={"days": "x"})
    assert bad_days.status_code == 422
    assert bad_days.json()["detail"][0]["loc"] == ["query", "days"]
    assert http.get("/bot-orchestration/nosuchbot/status").json() == {
        "status": "success", "data": {"status": "not_found", "error": "Bot nosuchbot not found"}}


# --------------------------------------------------------------------------- faults


def test_fault_refuse_closes_the_connection(http, sb):
    sb.state.set_fault("GET", "^/bot-orchestration/status$", "refuse", times=1)
    with pytest.raises(requests.ConnectionError):
        http.get("/bot-orchestration/status")
    assert http.get("/bot-orchestration/status").status_code == 200


def test_fault_replies(http, sb):
    sb.state.set_fault("*", "/status$", "500", times=1)
    error = http.get("/bot-orchestration/status")
    assert (error.status_code, error.text) == (500, "Internal Server Error")
    sb.state.set_fault("GET", "/status$", "401", times=1)
    denied = http.get("/bot-orchestration/status")
    assert (denied.status_code, denied.headers["WWW-Authenticate"]) == (401, "Basic")
    sb.state.set_fault("GET", "/status$", "nonjson", times=1)
    html = http.get("/bot-orchestration/status")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    sb.state.set_fault("GET", "/status$", "error200", times=1)
    assert http.get("/bot-orchestration/status").json() == {"status": "error",
                                                           "message": "Sandbox fault"}
    assert http.get("/bot-orchestration/status").json() == {"status": "success", "data": {}}


def test_fault_delay_and_http_controls(http, sb):
    added = http.post("/_sandbox/faults", json={"method": "GET", "path": "^/accounts/$",
                                               "kind": "delay", "seconds": 0.2})
    assert added.status_code == 201
    started = time.monotonic()
    assert http.get("/accounts/").json() == ["master_account"]
    assert time.monotonic() - started >= 0.2
    assert len(http.get("/_sandbox/state").json()["faults"]) == 1
    assert http.delete("/_sandbox/faults").json()["cleared"] == 1
    assert http.post("/_sandbox/faults", json={"kind": "explode"}).status_code == 422


# --------------------------------------------------------------------------- helpers for benches


def test_inject_fills_and_spawn_bots_at_scale(http, sb):
    names = sb.state.spawn_bots(1000)
    assert len(set(names)) == 1000
    assert len(status_of(http)) == 1000
    total = sum(sb.state.inject_fills(name, 1000) for name in names[:100])
    assert total == 100_000
    assert len(trade_ids(http, names[0])) == 1000


def test_http_spawn_and_fills(http):
    bots = http.post("/_sandbox/spawn", json={"count": 2, "prefix": "demo"}).json()["bots"]
    added = http.post(f"/_sandbox/bots/{bots[0]}/fills", json={"count": 5})
    assert added.json() == {"bot_name": bots[0], "added": 5}
    assert len(trade_ids(http, bots[0])) == 5
    assert http.post("/_sandbox/bots/nosuch/fills", json={"count": 1}).status_code == 404


def test_fills_are_deterministic_for_a_seed(clock):
    def fills(seed):
        state = SandboxState(SandboxConfig(seed=seed), clock=clock)
        [bot] = state.spawn_bots(1)
        state.inject_fills(bot, 5)
        return state.bots[bot].fills
    assert fills(42) == fills(42) != fills(7)


# --------------------------------------------------------------------------- config validation in depth
# Expected texts are what pydantic 2.14 prints for hummingbot's config classes (checked against the
# real classes of hummingbot 2bfaccc and bots/controllers/volume_taker.py).

PYDANTIC_URL = "https://errors.pydantic.dev/2.14/v/"


def line_error(loc, msg, kind, value):
    """One error of str(ValidationError): `value` is the input as sent."""
    shown = repr(value)
    shown = shown if len(shown) <= 50 else f"{shown[:25]}...{shown[-24:]}"
    return (f"{loc}\n  {msg} [type={kind}, input_value={shown}, input_type={type(value).__name__}]\n"
            f"    For further information visit {PYDANTIC_URL}{kind}")


def errors_text(title, *errors):
    return "\n".join([f"{len(errors)} validation error{'' if len(errors) == 1 else 's'} for {title}",
                      *errors])


def validate_raw(http, kind, name, config):
    """POST a body the way a JSON encoder that allows NaN/Infinity writes it (as FastAPI parses it)."""
    return http.post(f"/controllers/{kind}/{name}/config/validate", data=json.dumps(config),
                     headers={"Content-Type": "application/json"})


def test_pmm_v1_reports_every_wrong_type_in_field_order(http):
    config = {**PMM_V1, "id": 5, "manual_kill_switch": [True], "inventory_skew_enabled": 0.5,
              "order_refresh_time": float("inf"), "filled_order_delay": "soon",
              "total_amount_quote": [1], "order_amount": "lots", "target_base_pct": "NaN"}
    response = validate_raw(http, "generic", "pmm_v1", config)
    assert response.status_code == 400
    assert response.json() == {"detail": errors_text(
        "PMMV1Config",
        line_error("id", "Input should be a valid string", "string_type", 5),
        line_error("total_amount_quote", "Decimal input should be an integer, float, string or "
                   "Decimal object", "decimal_type", [1]),
        line_error("manual_kill_switch", "Input should be a valid boolean", "bool_type", [True]),
        line_error("order_amount", "Input should be a valid decimal", "decimal_parsing", "lots"),
        line_error("order_refresh_time", "Input should be a finite number", "finite_number",
                   float("inf")),
        line_error("filled_order_delay", "Input should be a valid integer, unable to parse string "
                   "as an integer", "int_parsing", "soon"),
        line_error("inventory_skew_enabled", "Input should be a valid boolean", "bool_type", 0.5),
        line_error("target_base_pct", "Input should be a finite number", "finite_number", "NaN"))}


def test_pmm_v1_accepts_the_lax_inputs_pydantic_coerces(http):
    config = {**PMM_V1, "manual_kill_switch": 1, "inventory_skew_enabled": "yes",
              "order_refresh_time": 30.0, "filled_order_delay": "1_0",
              "order_refresh_tolerance_pct": "0.002", "price_floor": " -1 ",
              "buy_spreads": "0.01, 0.02", "sell_spreads": ""}
    assert validate(http, "generic", "pmm_v1", config).json() == {"message": "Configuration is valid"}
    assert validate(http, "generic", "pmm_v1", {**PMM_V1, "order_refresh_time": "30.0"}).status_code == 200
    half = validate(http, "generic", "pmm_v1", {**PMM_V1, "order_refresh_time": "30.5"}).json()["detail"]
    assert "order_refresh_time\n  Input should be a valid integer, unable to parse string" in half


def test_pmm_v1_spreads_with_non_numbers_are_value_errors(http):
    config = {**PMM_V1, "buy_spreads": ["0.01", "x"], "sell_spreads": {"level": 0.01}}
    response = validate(http, "generic", "pmm_v1", config)
    assert response.status_code == 400
    assert response.json()["detail"] == errors_text(
        "PMMV1Config",
        line_error("buy_spreads", "Value error, could not convert string to float: 'x'",
                   "value_error", ["0.01", "x"]),
        line_error("sell_spreads", "Value error, could not convert string to float: 'level'",
                   "value_error", {"level": 0.01}))


@pytest.mark.parametrize("spreads, detail", [
    (5, "'int' object is not iterable"),
    ([0.01, None], "float() argument must be a string or a real number, not 'NoneType'"),
])
def test_pmm_v1_spreads_float_cannot_take_escape_pydantic_as_a_bare_400(http, spreads, detail):
    """parse_spreads raises TypeError, which pydantic does not wrap: the router answers str(exc)."""
    response = validate(http, "generic", "pmm_v1", {**PMM_V1, "buy_spreads": spreads})
    assert (response.status_code, response.json()) == (400, {"detail": detail})


def without(config, *keys):
    return {key: value for key, value in config.items() if key not in keys}


def test_pmm_simple_rejects_comma_spreads_with_non_numbers(http):
    config = {**without(PMM_SIMPLE, "buy_amounts_pct", "sell_amounts_pct"), "buy_spreads": "0.01,abc"}
    response = validate(http, "market_making", "pmm_simple", config)
    assert response.status_code == 400
    assert response.json()["detail"] == errors_text(
        "MarketMakingControllerConfigBase",
        line_error("buy_spreads", "Value error, could not convert string to float: 'abc'",
                   "value_error", "0.01,abc"))


def test_pmm_simple_bad_spreads_with_amounts_fail_with_the_bare_key_error(http):
    """parse_and_validate_amounts reads data['buy_spreads'], absent once the spreads failed."""
    for amounts in ([50, 50], None):  # None is "one per spread", read from the same data
        response = validate(http, "market_making", "pmm_simple",
                            {**PMM_SIMPLE, "buy_spreads": "0.01,abc", "buy_amounts_pct": amounts})
        assert (response.status_code, response.json()) == (400, {"detail": "'buy_spreads'"})


def test_pmm_simple_spread_items_are_checked_one_by_one(http):
    config = {**without(PMM_SIMPLE, "buy_amounts_pct", "sell_amounts_pct"),
              "buy_spreads": ["abc", None], "sell_spreads": {"level": 0.01}}
    assert validate(http, "market_making", "pmm_simple", config).json()["detail"] == errors_text(
        "MarketMakingControllerConfigBase",
        line_error("buy_spreads.0", "Input should be a valid number, unable to parse string as a "
                   "number", "float_parsing", "abc"),
        line_error("buy_spreads.1", "Input should be a valid number", "float_type", None),
        line_error("sell_spreads", "Input should be a valid list", "list_type", {"level": 0.01}))
    amounts = validate(http, "market_making", "pmm_simple",
                       {**PMM_SIMPLE, "buy_amounts_pct": [1, "x"], "sell_amounts_pct": "60, 40"})
    assert amounts.json()["detail"] == errors_text(
        "MarketMakingControllerConfigBase",
        line_error("buy_amounts_pct.1", "Input should be a valid decimal", "decimal_parsing", "x"))


def test_pmm_simple_accepts_comma_scalar_and_empty_spreads_with_matching_amounts(http):
    for config in (
        {**PMM_SIMPLE, "buy_spreads": "0.01, 0.02", "sell_spreads": 0.01, "sell_amounts_pct": [100]},
        {**PMM_SIMPLE, "buy_spreads": "", "buy_amounts_pct": "", "sell_amounts_pct": None},
    ):
        assert validate(http, "market_making", "pmm_simple", config).json() == {
            "message": "Configuration is valid"}
    mismatch = validate(http, "market_making", "pmm_simple",
                        {**PMM_SIMPLE, "sell_spreads": 0.01, "sell_amounts_pct": [50, 50]})
    assert "sell_amounts_pct\n  Value error, The number of sell_amounts_pct must match the number " \
           "of sell_spreads." in mismatch.json()["detail"]


def test_pmm_simple_barriers_take_text_and_must_be_positive(http):
    text = {**PMM_SIMPLE, "stop_loss": "0.05", "take_profit": "", "time_limit": "3600",
            "position_rebalance_threshold_pct": "0.1"}
    assert validate(http, "market_making", "pmm_simple", text).status_code == 200
    response = validate(http, "market_making", "pmm_simple", {**PMM_SIMPLE, "stop_loss": 0,
                                                               "time_limit": -5})
    assert response.json()["detail"] == errors_text(
        "MarketMakingControllerConfigBase",
        line_error("stop_loss", "Input should be greater than 0", "greater_than", 0),
        line_error("time_limit", "Input should be greater than 0", "greater_than", -5))


def test_pmm_simple_integers_refuse_lists_and_fractions(http):
    lax = {**PMM_SIMPLE, "leverage": "2", "cooldown_time": 15.0, "skip_rebalance": "off"}
    assert validate(http, "market_making", "pmm_simple", lax).status_code == 200
    response = validate(http, "market_making", "pmm_simple",
                        {**PMM_SIMPLE, "executor_refresh_time": [60], "cooldown_time": 1.5})
    assert response.json()["detail"] == errors_text(
        "MarketMakingControllerConfigBase",
        line_error("executor_refresh_time", "Input should be a valid integer", "int_type", [60]),
        line_error("cooldown_time", "Input should be a valid integer, got a number with a fractional "
                   "part", "int_from_float", 1.5))


@pytest.mark.parametrize("field, value", [("stop_loss", "abc"), ("time_limit", "1h"),
                                          ("position_rebalance_threshold_pct", "5%"),
                                          ("trailing_stop", "a,0.003")])
def test_pmm_simple_non_numeric_text_escapes_pydantic_as_a_decimal_error(http, field, value):
    """validate_target / parse_trailing_stop call Decimal(text): InvalidOperation is not wrapped."""
    response = validate(http, "market_making", "pmm_simple", {**PMM_SIMPLE, field: value})
    assert (response.status_code, response.json()) == (
        400, {"detail": "[<class 'decimal.ConversionSyntax'>]"})


def test_pmm_simple_order_type_and_position_mode_by_member_name_or_value(http):
    for accepted in ({"take_profit_order_type": "OrderType.MARKET", "position_mode": "hedge"},
                     {"take_profit_order_type": None}, {"take_profit_order_type": 3},
                     {"take_profit_order_type": "limit_maker", "position_mode": "ONEWAY"}):
        assert validate(http, "market_making", "pmm_simple", {**PMM_SIMPLE, **accepted}).status_code == 200
    by_name = validate(http, "market_making", "pmm_simple",
                       {**PMM_SIMPLE, "take_profit_order_type": "FOK", "position_mode": 5})
    assert by_name.json()["detail"] == errors_text(
        "MarketMakingControllerConfigBase",
        line_error("position_mode", "Input should be 'HEDGE' or 'ONEWAY'", "enum", 5),
        line_error("take_profit_order_type", "Value error, Invalid take_profit_order_type: 'FOK'. "
                   "Expected one of: ['MARKET', 'LIMIT', 'LIMIT_MAKER', 'AMM_SWAP', 'AMM_ADD', "
                   "'AMM_REMOVE']", "value_error", "FOK"))
    by_value = validate(http, "market_making", "pmm_simple",
                        {**PMM_SIMPLE, "take_profit_order_type": 9, "position_mode": "cross"})
    assert by_value.json()["detail"] == errors_text(
        "MarketMakingControllerConfigBase",
        line_error("position_mode", "Value error, Invalid position_mode: 'cross'. Expected one of: "
                   "['HEDGE', 'ONEWAY']", "value_error", "cross"),
        line_error("take_profit_order_type", "Input should be 1, 2, 3, 4, 5 or 6", "enum", 9))


@pytest.mark.parametrize("trailing_stop, error", [
    ("0.01,0.003", None),
    ({"activation_price": 0.01, "trailing_delta": "0.003"}, None),
    ("", None),
    ("0.01", line_error("trailing_stop", "Value error, not enough values to unpack (expected 2, "
                        "got 1)", "value_error", "0.01")),
    ("1,2,3", line_error("trailing_stop", "Value error, too many values to unpack (expected 2)",
                         "value_error", "1,2,3")),
    (5, line_error("trailing_stop", "Input should be a valid dictionary or instance of TrailingStop",
                   "model_type", 5)),
])
def test_pmm_simple_trailing_stop_is_a_pair_or_a_mapping(http, trailing_stop, error):
    response = validate(http, "market_making", "pmm_simple", {**PMM_SIMPLE, "trailing_stop": trailing_stop})
    if error is None:
        assert response.json() == {"message": "Configuration is valid"}
    else:
        assert response.json() == {"detail": errors_text("MarketMakingControllerConfigBase", error)}


def test_pmm_simple_trailing_stop_mapping_is_validated_field_by_field(http):
    response = validate(http, "market_making", "pmm_simple",
                        {**PMM_SIMPLE, "trailing_stop": {"activation_price": "x"}})
    assert response.json()["detail"] == errors_text(
        "MarketMakingControllerConfigBase",
        line_error("trailing_stop.activation_price", "Input should be a valid decimal",
                   "decimal_parsing", "x"),
        line_error("trailing_stop.trailing_delta", "Field required", "missing", {"activation_price": "x"}))


def test_initial_positions_must_be_a_list(http):
    response = validate(http, "generic", "pmm_v1", {**PMM_V1, "initial_positions": {}})
    assert response.json()["detail"] == errors_text("PMMV1Config", line_error(
        "initial_positions", "Value error, Invalid type for initial_positions. Expected "
        "List[InitialPositionConfig]", "value_error", {}))


def upload_volume_taker(http, name="volume_taker"):
    """As the bridge does: the reviewed controller file, verbatim."""
    response = http.post(f"/controllers/generic/{name}", json={"content": VOLUME_TAKER_SOURCE, "type": "generic"})
    assert response.status_code == 201


def test_volume_taker_fields_follow_the_uploaded_controller(http):
    upload_volume_taker(http)
    config = {**VOLUME_TAKER, "total_amount_quote": 0, "trading_pair": "SHARPUSDT",
              "order_amount_quote": 0, "order_interval": 2, "min_price": 0,
              "max_book_spread_pct": 1.5, "max_slippage": 0.2, "max_leg_fraction": 0, "fee_rate": -0.01,
              "max_empty_legs": 101, "candles_config": []}
    response = validate(http, "generic", "volume_taker", config)
    assert response.status_code == 400
    assert response.json()["detail"] == errors_text(
        "VolumeTakerConfig",
        line_error("total_amount_quote", "Input should be greater than 0", "greater_than", 0),
        line_error("trading_pair", "Value error, trading_pair must look like BASE-QUOTE",
                   "value_error", "SHARPUSDT"),
        line_error("order_amount_quote", "Input should be greater than 0", "greater_than", 0),
        line_error("order_interval", "Input should be greater than or equal to 5",
                   "greater_than_equal", 2),
        line_error("min_price", "Input should be greater than 0", "greater_than", 0),
        line_error("max_book_spread_pct", "Input should be less than or equal to 1",
                   "less_than_equal", 1.5),
        line_error("max_slippage", "Input should be less than or equal to 0.1", "less_than_equal", 0.2),
        line_error("max_leg_fraction", "Input should be greater than 0", "greater_than", 0),
        line_error("fee_rate", "Input should be greater than or equal to 0", "greater_than_equal", -0.01),
        line_error("max_empty_legs", "Input should be less than or equal to 100", "less_than_equal", 101),
        line_error("candles_config", "Extra inputs are not permitted", "extra_forbidden", []))


def test_volume_taker_limits_report_the_leg_share_before_the_price_band(http):
    upload_volume_taker(http)
    both = validate(http, "generic", "volume_taker",
                    {**VOLUME_TAKER, "order_amount_quote": 101, "min_price": 0.007})  # over 5% of 2000
    band = validate(http, "generic", "volume_taker", {**VOLUME_TAKER, "min_price": 0.006})
    model = "{'id': 'sharp-volume', 'c...01, 'max_empty_legs': 5}"
    assert both.json()["detail"] == (
        "1 validation error for VolumeTakerConfig\n  Value error, order_amount_quote must not exceed "
        f"total_amount_quote * max_leg_fraction [type=value_error, input_value={model}, input_type=dict]\n"
        f"    For further information visit {PYDANTIC_URL}value_error")
    assert band.json()["detail"] == (
        "1 validation error for VolumeTakerConfig\n  Value error, min_price must be below max_price "
        f"[type=value_error, input_value={model}, input_type=dict]\n"
        f"    For further information visit {PYDANTIC_URL}value_error")
    assert validate(http, "generic", "volume_taker", {**VOLUME_TAKER, "order_amount_quote": 100}).status_code == 200


# --------------------------------------------------------------------------- what a bot does with its configs


def bot_errors(http, bot):
    return [log["msg"] for log in http.get(f"/bot-orchestration/{bot}/status").json()["data"]["error_logs"]]


def test_configs_the_bot_cannot_load_leave_it_stopped_with_the_loader_error(http, clock):
    no_type = deploy(http, "notype", ["no-type"], without({**PMM_V1, "id": "no-type"}, "controller_type"))
    unknown = deploy(http, "unknown", ["unknown"], {**PMM_V1, "id": "unknown", "controller_name": "nosuch"})
    bad_text = deploy(http, "badtext", ["bad-text"], {**PMM_SIMPLE, "id": "bad-text", "stop_loss": "abc"})
    clock.advance(60)
    assert bot_errors(http, no_type) == [
        "Failed to start strategy: Missing controller_type or controller_name in no-type.yml"]
    assert bot_errors(http, unknown) == [
        "Failed to start strategy: No module named 'controllers.generic.nosuch'"]
    assert bot_errors(http, bad_text) == [
        "Failed to start strategy: [<class 'decimal.ConversionSyntax'>]"]
    for bot in (no_type, unknown, bad_text):
        assert status_of(http)[bot]["performance"] == {} and trade_ids(http, bot, days=1) == []


def test_a_stock_controller_config_trades_on_its_own_market(http, clock):
    grid = {"id": "grid-eth", "controller_name": "grid_strike", "controller_type": "generic",
            "connector_name": "binance", "trading_pair": "ETH-USDT", "total_amount_quote": 300}
    bot = deploy(http, "grid", ["grid-eth"], grid)
    clock.advance(25)
    trades = history(http, bot)["data"]["data"]["trades"]
    assert len(trades) == 2
    assert {(t["market"], t["symbol"], t["base_asset"], t["quote_asset"]) for t in trades} == {
        ("binance", "ETH-USDT", "ETH", "USDT")}
    assert all(2900 < float(t["price"]) < 3100 for t in trades)


def test_bot_controller_configs_are_the_copies_taken_at_deploy(http, clock):
    bot = deploy(http)
    http.post("/controllers/configs/sharp-spread", json={**PMM_V1, "order_amount": 5})
    configs = http.get(f"/controllers/bots/{bot}/configs")
    assert configs.status_code == 200
    assert configs.json() == [{**PMM_V1, "_config_name": "sharp-spread"}]
    assert list(configs.json()[0]) == sorted(PMM_V1) + ["_config_name"]  # yaml.dump sorts the keys
    missing = http.get("/controllers/bots/nosuchbot/configs")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Bot 'nosuchbot' not found"})
    http.post(f"/bot-orchestration/stop-and-archive-bot/{bot}")
    clock.advance(ARCHIVE_DELAY / 2)  # the instance folder has been moved to bots/archived/
    assert http.get(f"/controllers/bots/{bot}/configs").status_code == 404


def test_bot_controller_config_post_merges_into_the_bot_copy_without_validating(http, clock):
    """docs/hummingbot-api.md §4.1: dict.update into the instance's YAML; the shared config is untouched."""
    bot = deploy(http)
    response = http.post(f"/controllers/bots/{bot}/sharp-spread/config",
                         json={"buy_spreads": ["0.003"], "connector_name": "kucoin", "junk": "x"})
    assert (response.status_code, response.json()) == (
        200, {"message": f"Controller configuration for bot '{bot}' updated successfully"})
    held = http.get(f"/controllers/bots/{bot}/configs").json()
    assert held == [{**PMM_V1, "buy_spreads": ["0.003"], "connector_name": "kucoin", "junk": "x",
                     "_config_name": "sharp-spread"}]
    assert list(held[0]) == sorted(set(held[0]) - {"_config_name"}) + ["_config_name"]  # yaml.dump sorts the keys
    assert http.get("/controllers/configs/sharp-spread").json() == {**PMM_V1, "id": "sharp-spread"}


def test_bot_controller_config_post_errors_are_the_real_ones(http, clock):
    bot = deploy(http)
    no_bot = http.post("/controllers/bots/nosuchbot/sharp-spread/config", json={"order_amount": 2})
    assert (no_bot.status_code, no_bot.json()) == (404, {"detail": "Bot 'nosuchbot' not found"})
    no_file = http.post(f"/controllers/bots/{bot}/other/config", json={"order_amount": 2})
    assert (no_file.status_code, no_file.json()) == (
        404, {"detail": f"Controller configuration 'other' not found for bot '{bot}'"})
    not_a_dict = http.post(f"/controllers/bots/{bot}/sharp-spread/config", json=[1])
    assert not_a_dict.status_code == 422
    assert not_a_dict.json()["detail"][0]["type"] == "dict_type"
    http.post(f"/bot-orchestration/stop-and-archive-bot/{bot}")
    clock.advance(ARCHIVE_DELAY / 2)
    archived = http.post(f"/controllers/bots/{bot}/sharp-spread/config", json={"order_amount": 2})
    assert archived.status_code == 404


# --------------------------------------------------------------------------- accounts and controllers


def test_delete_account_refuses_master_and_unknown_names(http):
    http.post("/accounts/add-account", params={"account_name": "client_a"})
    master = http.post("/accounts/delete-account", params={"account_name": "master_account"})
    assert (master.status_code, master.json()) == (400, {"detail": "Cannot delete master account."})
    bad = http.post("/accounts/delete-account", params={"account_name": "../etc"})
    assert (bad.status_code, bad.json()) == (400, {"detail": (
        "Invalid account name: '../etc'. Only letters, numbers, underscores and hyphens are allowed.")})
    unknown = http.post("/accounts/delete-account", params={"account_name": "nosuch"})
    assert (unknown.status_code, unknown.json()) == (
        404, {"detail": "Folder 'nosuch' not found in 'credentials'"})
    missing = http.post("/accounts/delete-account")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "account_name"]
    deleted = http.post("/accounts/delete-account", params={"account_name": "client_a"})
    assert (deleted.status_code, deleted.json()) == (200, {"message": "Account deleted successfully."})
    assert http.get("/accounts/").json() == ["master_account"]


def test_delete_credential_is_idempotent_and_checks_names(http):
    http.post("/accounts/add-credential/master_account/binance",
              json={"binance_api_key": "k", "binance_api_secret": "s"})
    assert http.get("/accounts/master_account/credentials").json() == ["binance"]
    for _ in range(2):  # a missing file is not an error: the cleanup always runs
        deleted = http.post("/accounts/delete-credential/master_account/binance")
        assert (deleted.status_code, deleted.json()) == (200, {"message": "Credential deleted successfully."})
    assert http.get("/accounts/master_account/credentials").json() == []
    bad = http.post("/accounts/delete-credential/master_account/bin.ance")
    assert (bad.status_code, bad.json()) == (400, {"detail": (
        "Invalid connector name: 'bin.ance'. Only letters, numbers, underscores and hyphens are allowed.")})


def test_add_credential_failures_keep_nothing(http):
    unknown_connector = http.post("/accounts/add-credential/master_account/nosuchex", json={"k": "v"})
    assert unknown_connector.status_code == 400 and isinstance(unknown_connector.json()["detail"], str)
    unknown_account = http.post("/accounts/add-credential/nosuch/binance",
                                json={"binance_api_key": "k", "binance_api_secret": "s"})
    assert unknown_account.status_code == 400 and isinstance(unknown_account.json()["detail"], str)
    assert http.get("/accounts/").json() == ["master_account"]
    assert http.get("/accounts/master_account/credentials").json() == []


def test_dict_bodies_must_be_json_objects(http):
    listed = http.post("/accounts/add-credential/master_account/binance", json=["k", "s"])
    assert (listed.status_code, listed.json()) == (422, {"detail": [
        {"type": "dict_type", "loc": ["body"], "msg": "Input should be a valid dictionary",
         "input": ["k", "s"]}]})
    empty = http.post("/controllers/configs/sharp-spread")
    assert (empty.status_code, empty.json()) == (422, {"detail": [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]})
    null = http.post("/controllers/configs/sharp-spread", data="null",
                     headers={"Content-Type": "application/json"})
    assert null.status_code == 422 and null.json()["detail"][0]["type"] == "missing"


def test_model_bodies_must_be_json_objects(http):
    missing = http.post("/bot-orchestration/stop-bot")
    assert (missing.status_code, missing.json()) == (422, {"detail": [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]})
    listed = http.post("/bot-orchestration/stop-bot", json=["sharp"])
    assert (listed.status_code, listed.json()) == (422, {"detail": [
        {"type": "model_attributes_type", "loc": ["body"],
         "msg": "Input should be a valid dictionary or object to extract fields from",
         "input": ["sharp"]}]})


def test_controller_source_of_stock_and_unknown_controllers(http):
    stock = http.get("/controllers/generic/pmm_v1")
    assert stock.status_code == 200
    assert {key: stock.json()[key] for key in ("name", "type")} == {"name": "pmm_v1", "type": "generic"}
    assert isinstance(stock.json()["content"], str) and stock.json()["content"]
    unknown = http.get("/controllers/generic/nosuch")
    assert (unknown.status_code, unknown.json()) == (
        404, {"detail": "Controller 'nosuch' not found in 'generic'"})


def test_controller_type_in_the_path_is_an_enum(http):
    expected = "'directional_trading', 'market_making' or 'generic'"
    error = {"type": "enum", "loc": ["path", "controller_type"], "msg": f"Input should be {expected}",
             "input": "spot", "ctx": {"expected": expected}}
    for response in (http.get("/controllers/spot/pmm_v1"),
                     http.post("/controllers/spot/pmm_v1/config/validate", json=PMM_V1)):
        assert (response.status_code, response.json()) == (422, {"detail": [error]})
    upload = http.post("/controllers/spot/pmm_v1", json={"content": "# x", "type": "perp"})
    assert upload.status_code == 422
    assert [(e["loc"], e["type"]) for e in upload.json()["detail"]] == [
        (["path", "controller_type"], "enum"), (["body", "type"], "enum")]


def test_config_delete_and_file_name_rules(http):
    http.post("/controllers/configs/sharp-spread", json=PMM_V1)
    deleted = http.delete("/controllers/configs/sharp-spread")
    assert (deleted.status_code, deleted.json()) == (
        200, {"message": "Configuration 'sharp-spread' deleted successfully"})
    again = http.delete("/controllers/configs/sharp-spread")
    assert (again.status_code, again.json()) == (404, {"detail": "Configuration 'sharp-spread' not found"})
    assert http.get("/controllers/configs/").json() == []
    backslash = http.post("/controllers/configs/a%5Cb", json=PMM_V1)
    assert (backslash.status_code, backslash.json()) == (400, {"detail": "Invalid file name: 'a\\b.yml'"})


# --------------------------------------------------------------------------- orchestration, docker, mqtt


def test_per_bot_status_of_a_running_bot_is_its_status_entry_without_source(http, clock):
    bot = deploy(http)
    clock.advance(25)
    entry = status_of(http)[bot]
    single = http.get(f"/bot-orchestration/{bot}/status").json()
    assert single == {"status": "success", "data": without(entry, "source")}
    assert set(single["data"]) == {"status", "performance", "error_logs", "general_logs",
                                   "recently_active"}


def test_stop_bot_for_an_unknown_bot_is_a_200_not_found(http):
    response = http.post("/bot-orchestration/stop-bot", json={"bot_name": "nosuchbot"})
    assert (response.status_code, response.json()) == (
        200, {"status": "success", "response": {"success": False, "message": "Bot nosuchbot not found"}})


def test_mqtt_lists_bots_until_their_heartbeat_goes_stale(http, clock):
    broker = {"mqtt_connected": True, "broker_host": "127.0.0.1", "broker_port": 1883,
              "broker_username": "admin", "client_state": "connected"}
    assert http.get("/bot-orchestration/mqtt").json() == {
        "status": "success", "data": {**broker, "discovered_bots": [], "active_bots": []}}
    bot = deploy(http)
    data = http.get("/bot-orchestration/mqtt").json()["data"]
    assert (data["discovered_bots"], data["active_bots"]) == ([bot], [bot])
    http.post(f"/docker/stop-container/{bot}")
    data = http.get("/bot-orchestration/mqtt").json()["data"]
    assert (data["discovered_bots"], data["active_bots"]) == ([bot], [bot])
    clock.advance(LINGER)
    data = http.get("/bot-orchestration/mqtt").json()["data"]
    assert (data["discovered_bots"], data["active_bots"]) == ([], [])


def test_docker_running_is_a_bare_true(http):
    response = http.get("/docker/running")
    assert (response.status_code, response.text) == (200, "true")


def test_container_lists_filter_by_name_case_insensitively(http):
    sharp, other = deploy(http), deploy(http, "other")
    active = http.get("/docker/active-containers", params={"name_filter": "ShArP"}).json()
    assert [(c["name"], c["status"], c["image"]) for c in active] == [
        (sharp, "running", "hummingbot/hummingbot:latest")]
    assert re.fullmatch(r"[0-9a-f]{64}", active[0]["id"])
    assert http.get("/docker/active-containers", params={"name_filter": "zzz"}).json() == []
    http.post(f"/docker/stop-container/{other}")
    assert [c["name"] for c in http.get("/docker/exited-containers",
                                        params={"name_filter": "OTHER"}).json()] == [other]
    assert http.get("/docker/exited-containers", params={"name_filter": "sharp"}).json() == []
    unknown = http.post("/docker/start-container/nosuch")
    assert unknown.status_code == 200 and "No such container: nosuch" in unknown.json()


# --------------------------------------------------------------------------- archive


def archive(http, clock, bot):
    assert http.post(f"/bot-orchestration/stop-and-archive-bot/{bot}").json()["status"] == "success"
    clock.advance(ARCHIVE_DELAY)
    return f"bots/archived/{bot}/data/{bot}.sqlite"


def test_volume_taker_legs_are_recorded_as_limit_orders(http, clock):
    upload_volume_taker(http)  # its legs are capped LIMIT orders (bots/controllers/volume_taker.py)
    bot = deploy(http, "vol", ["sharp-volume"], VOLUME_TAKER)
    clock.advance(40)
    orders = http.get(f"/archived-bots/{archive(http, clock, bot)}/orders").json()["orders"]
    assert orders and {order["order_type"] for order in orders} == {"LIMIT"}


def test_archived_orders_page_and_filter_by_status(http, clock):
    bot = deploy(http)
    clock.advance(40)
    db_path = archive(http, clock, bot)
    trades = http.get(f"/archived-bots/{db_path}/trades").json()["trades"]
    orders = http.get(f"/archived-bots/{db_path}/orders").json()
    assert orders["pagination"] == {"total": 4, "limit": 100, "offset": 0, "has_more": False}
    assert [o["id"] for o in orders["orders"]] == [t["order_id"] for t in trades]
    assert set(orders["orders"][0]) == {
        "id", "config_file_path", "strategy", "connector_name", "trading_pair", "base_asset",
        "quote_asset", "creation_timestamp", "order_type", "amount", "leverage", "price",
        "last_status", "last_update_timestamp", "exchange_order_id", "position"}
    assert {o["last_status"] for o in orders["orders"]} == {"FILLED"}
    assert all(o["creation_timestamp"] < o["last_update_timestamp"] for o in orders["orders"])
    page = http.get(f"/archived-bots/{db_path}/orders", params={"limit": 2, "offset": 1}).json()
    assert page["orders"] == orders["orders"][1:3]
    assert page["pagination"] == {"total": 4, "limit": 2, "offset": 1, "has_more": True}
    filled = http.get(f"/archived-bots/{db_path}/orders", params={"status": "FILLED"}).json()
    assert filled["pagination"]["total"] == 4
    canceled = http.get(f"/archived-bots/{db_path}/orders", params={"status": "CANCELED"}).json()
    assert (canceled["orders"], canceled["pagination"]["total"]) == ([], 0)
    bad = http.get(f"/archived-bots/{db_path}/orders", params={"limit": "all"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "limit"]


def test_a_container_restarted_during_the_archive_stops_trading_with_it(http, clock):
    bot = deploy(http)
    clock.advance(25)  # fills at +10 and +20
    http.post(f"/docker/stop-container/{bot}")
    archive_at = clock.now
    assert http.post(f"/bot-orchestration/stop-and-archive-bot/{bot}").json()["status"] == "success"
    clock.advance(5)
    assert http.post(f"/docker/start-container/{bot}").json() is None  # boots at +30
    clock.advance(100)  # the archive stopped the container at archive_at + ARCHIVE_DELAY / 2
    db_path = f"bots/archived/{bot}/data/{bot}.sqlite"
    stamps = [t["timestamp"] for t in http.get(f"/archived-bots/{db_path}/trades").json()["trades"]]
    assert stamps == [int((START + offset) * 1000) for offset in (10, 20, 40)]
    assert max(stamps) <= (archive_at + ARCHIVE_DELAY / 2) * 1000


# --------------------------------------------------------------------------- transport details


def test_other_methods_on_known_paths_are_405_with_allow(http):
    put = http.put("/accounts/")
    assert (put.status_code, put.json(), put.headers["Allow"]) == (
        405, {"detail": "Method Not Allowed"}, "GET")
    patch = http.patch("/controllers/configs/sharp-spread")
    assert patch.status_code == 405
    assert set(patch.headers["Allow"].split(", ")) == {"GET", "POST", "DELETE"}


@pytest.mark.parametrize("header, detail", [
    ("Basic abc", "Invalid authentication credentials"),  # not base64
    ("Basic " + base64.b64encode(b"adminadmin").decode(), "Invalid authentication credentials"),
    ("Basic " + base64.b64encode("admin:\u00e9".encode()).decode(), "Invalid authentication credentials"),
    ("Bearer token", "Not authenticated"),
])
def test_malformed_authorization_is_a_401_with_basic_challenge(sb, header, detail):
    response = requests.get(sb.url + "/accounts/", headers={"Authorization": header}, timeout=5)
    assert (response.status_code, response.json()) == (401, {"detail": detail})
    assert response.headers["WWW-Authenticate"] == "Basic"


def test_an_unexpected_handler_error_is_a_plain_500(http, sb, monkeypatch, capsys):
    def broken():
        raise RuntimeError("mqtt manager exploded")
    monkeypatch.setattr(sb.state, "mqtt", broken)
    response = http.get("/bot-orchestration/mqtt")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert response.headers["content-type"].startswith("text/plain")
    assert "RuntimeError: mqtt manager exploded" in capsys.readouterr().err
    assert http.get("/bot-orchestration/status").status_code == 200


def wait_for_stderr(capsys, needle, seen=""):
    """The log line is written just after the reply is sent. The deadline only guards against a hang."""
    deadline = time.monotonic() + 60
    while needle not in seen and time.monotonic() < deadline:
        time.sleep(0.005)
        seen += capsys.readouterr().err
    return seen


def test_request_log_shows_method_path_and_outcome_only(capsys):
    config = SandboxConfig(port=0, password="pw-never-logged", log_requests=True)
    with start_sandbox(config) as logged:
        auth = ("admin", "pw-never-logged")
        requests.post(logged.url + "/accounts/add-account", params={"account_name": "client_q"},
                      auth=auth, timeout=5)
        logged.state.set_fault("GET", "^/accounts/$", "refuse", times=1)
        with pytest.raises(requests.ConnectionError):
            requests.get(logged.url + "/accounts/", auth=auth, timeout=5)
        err = wait_for_stderr(capsys, "[sandbox] GET /accounts/ refused")
        err = wait_for_stderr(capsys, "[sandbox] POST /accounts/add-account 201", err)
    assert "[sandbox] POST /accounts/add-account 201\n" in err
    assert "[sandbox] GET /accounts/ refused\n" in err
    assert "client_q" not in err and "pw-never-logged" not in err


def test_a_client_that_hangs_up_before_the_reply_is_a_log_line_not_a_traceback(capsys, monkeypatch):
    """A bridge call that timed out closes its socket; the late reply must not print a traceback."""
    config = SandboxConfig(port=0, password="pw-hangup", log_requests=True)
    with start_sandbox(config) as box:
        hung_up = threading.Event()
        list_accounts = box.state.list_accounts

        def after_the_hang_up():
            assert hung_up.wait(60)  # only a hang guard
            return list_accounts()
        monkeypatch.setattr(box.state, "list_accounts", after_the_hang_up)
        address = urlsplit(box.url)
        client = socket.create_connection((address.hostname, address.port))
        auth = base64.b64encode(b"admin:pw-hangup").decode()
        client.sendall(f"GET /accounts/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\r\n".encode())
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        client.close()
        hung_up.set()
        err = wait_for_stderr(capsys, "[sandbox] GET /accounts/ client gone")
    assert "[sandbox] GET /accounts/ client gone\n" in err
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_stopping_a_stopped_sandbox_is_harmless():
    with start_sandbox(SandboxConfig(port=0, log_requests=False)) as box:
        assert requests.get(box.url + "/", timeout=5).status_code == 200
        box.stop()
        box.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(box.url + "/", timeout=1)


# --------------------------------------------------------------------------- sandbox controls


def test_fault_controls_reject_what_they_cannot_apply(http, sb):
    with pytest.raises(ValueError, match="Unknown fault kind 'explode'"):
        sb.state.set_fault("GET", ".*", "explode")
    with pytest.raises(ValueError, match="times must be None or >= 1"):
        sb.state.set_fault("GET", ".*", "500", times=0)
    with pytest.raises(ValueError, match="seconds must be a finite number >= 0"):
        sb.state.set_fault("GET", ".*", "delay", seconds=float("inf"))
    endless = http.post("/_sandbox/faults", data='{"kind": "delay", "seconds": Infinity}',
                        headers={"Content-Type": "application/json"})
    assert (endless.status_code, endless.json()) == (400, {"detail": "seconds must be a finite number >= 0"})
    bad_regex = http.post("/_sandbox/faults", json={"kind": "500", "path": "("})
    assert (bad_regex.status_code, bad_regex.json()) == (
        400, {"detail": "Invalid path regex: missing ), unterminated subpattern at position 0"})
    times = http.post("/_sandbox/faults", json={"kind": "500", "times": 0})
    assert times.status_code == 422 and times.json()["detail"][0]["type"] == "greater_than_equal"
    assert http.get("/_sandbox/state").json()["faults"] == []


def test_a_negative_delay_is_refused_instead_of_breaking_the_requests_it_matches(http):
    refused = http.post("/_sandbox/faults", json={"kind": "delay", "seconds": -1, "path": "^/accounts/$"})
    assert refused.status_code == 422
    assert refused.json()["detail"] == [{
        "type": "greater_than_equal", "loc": ["body", "seconds"],
        "msg": "Input should be greater than or equal to 0", "input": -1, "ctx": {"ge": 0}}]
    assert http.get("/accounts/").json() == ["master_account"]


def test_spawned_bots_skip_names_already_taken(http, sb):
    taken = deploy(http, "bench-1")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(START))
    assert taken == f"bench-1-{stamp}"
    assert sb.state.spawn_bots(1) == [f"bench-2-{stamp}"]
    assert sandbox_bot(http, taken)["controllers"] == ["sharp-spread.yml"]


# --------------------------------------------------------------------------- command line


class _InterruptingTime:
    """The sandbox CLI's `time`, whose first long sleep runs `probe` then acts as Ctrl-C."""

    def __init__(self, probe):
        self.probe = probe

    def __getattr__(self, name):
        return getattr(time, name)

    def sleep(self, seconds):
        self.probe()
        raise KeyboardInterrupt


def test_cli_serves_until_interrupted_and_never_prints_the_password(monkeypatch, capsys):
    seen = {}

    def probe():
        seen["out"] = capsys.readouterr().out
        seen["url"] = re.search(r" on (http://127\.0\.0\.1:\d+) ", seen["out"])[1]
        seen["root"] = requests.get(seen["url"] + "/", timeout=5).json()
        seen["accounts"] = requests.get(seen["url"] + "/accounts/", auth=("desk", "cli-pw-55"),
                                        timeout=5).json()
        seen["wrong"] = requests.get(seen["url"] + "/accounts/", auth=("admin", "admin"),
                                     timeout=5).status_code

    handlers_before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(sandbox.cli, "time", _InterruptingTime(probe))
    sandbox.cli.main(["--port", "0", "--username", "desk", "--password", "cli-pw-55", "--seed", "9",
                         "--archive-delay", "12", "--fill-interval", "3", "--quiet"])
    banner = seen["out"]
    assert banner.startswith("hummingbot-api SANDBOX (emulator, no real bots or exchanges) on http://")
    assert "user 'desk', seed 9, archive delay 12.0s, fill interval 3.0s" in banner
    assert "cli-pw-55" not in banner + capsys.readouterr().err
    assert seen["root"]["sandbox"] is True
    assert (seen["accounts"], seen["wrong"]) == (["master_account"], 401)
    with pytest.raises(requests.ConnectionError):  # Ctrl-C stopped the server
        requests.get(seen["url"] + "/", timeout=1)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers_before


def ignore_stop_signals():
    """Runs in the child before exec: what a background job of a non-interactive shell
    (`make test &`, a job runner) hands down, whatever this test process inherited. SIGHUP is set to its
    default, as such a job has it: only `nohup` ignores it, and then the sandbox rightly keeps running."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_module_entry_point_stops_gracefully_on_signal_even_when_started_with_it_ignored(stop_signal):
    env = {**os.environ, "HUMMINGBOT_API_USERNAME": "admin", "HUMMINGBOT_API_PASSWORD": "env-pw-71"}
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", "0", "--quiet"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ignore_stop_signals)
    try:
        # The timeouts only guard against a hang; nothing here measures speed.
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "no banner at all"
        banner = proc.stdout.readline()
        url = re.search(r" on (http://127\.0\.0\.1:\d+) ", banner)[1]
        assert requests.get(url + "/accounts/", auth=("admin", "env-pw-71"), timeout=60).status_code == 200
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "SANDBOX" in banner and "env-pw-71" not in banner + out + err
