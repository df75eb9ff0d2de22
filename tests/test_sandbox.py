"""The hummingbot-http sb, exercised over real HTTP with a fake clock (no Django, no DB)."""

import time

import pytest
import requests

from bots.hummingbot.sandbox import SandboxConfig, SandboxState, start_sandbox

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
    "max_book_spread_pct": 0.02, "order_timeout": 30,
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


@pytest.fixture
def sb(clock):
    config = SandboxConfig(port=0, seed=42, archive_delay=ARCHIVE_DELAY, mqtt_linger=LINGER,
                           fill_interval=FILL_INTERVAL, log_requests=False)
    with start_sandbox(config) as sb:
        sb.state.clock = clock
        yield sb


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
    mismatch = http.post("/controllers/generic/volume_taker",
                        json={"content": "# source", "type": "market_making"})
    assert mismatch.status_code == 400
    uploaded = http.post("/controllers/generic/volume_taker",
                        json={"content": "# reviewed source", "type": "generic"})
    assert uploaded.status_code == 201
    assert http.get("/controllers/generic/volume_taker").json()["content"] == "# reviewed source"
    assert "volume_taker" in http.get("/controllers/").json()["generic"]
    assert validate(http, "generic", "volume_taker", VOLUME_TAKER).status_code == 200
    config = {key: value for key, value in VOLUME_TAKER.items() if key != "order_timeout"}
    missing = validate(http, "generic", "volume_taker", config).json()["detail"]
    assert missing.startswith("1 validation error for VolumeTakerConfig\norder_timeout\n  Field required")


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
