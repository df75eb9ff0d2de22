"""The sandbox remembers across restarts (`--state-file`, what `make demo` uses): a new sandbox process on the same
file knows the accounts, credentials, configs and bots the bridge's database refers to."""
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import types
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from sandbox import SandboxConfig, SandboxState, start_sandbox
from sandbox.persistence import VERSION, StateFile, encode, restore, state_document
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[1]
PMM_V1 = {
    "id": "sharp-spread", "controller_name": "pmm_v1", "controller_type": "generic",
    "connector_name": "bitmart", "trading_pair": "SHARP-USDT", "total_amount_quote": 0,
    "order_amount": 1000, "buy_spreads": [0.01, 0.02], "sell_spreads": [0.01, 0.02],
    "order_refresh_time": 30, "manual_kill_switch": False, "initial_positions": [],
}


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Overrides conftest's autouse fixture, which needs the database: the bridge test below clears the counts."""


def config(**overrides) -> SandboxConfig:
    return SandboxConfig(**{"port": 0, "password": "pw-persist", "seed": 5, "archive_delay": 40.0,
                            "mqtt_linger": 5.0, "fill_interval": 10.0, "log_requests": False, "time_zone": "UTC",
                            **overrides})


class Restartable:
    """A sandbox on a state file and a fake clock; restart() replaces it with a new server loaded from that file."""

    def __init__(self, path: Path):
        self.file = StateFile(path)
        self.clock = FakeClock()
        self.box = None
        self.start()

    def start(self):
        state = self.file.load(config(), self.clock)
        self.box = start_sandbox(config(), state=state, after_write=lambda: self.file.save(state))

    def restart(self):
        self.box.stop()  # no shutdown save: every write was saved before its reply
        self.start()

    def http(self, method, path, **kwargs):
        return requests.request(method, self.box.url + path, auth=("admin", "pw-persist"), timeout=30, **kwargs)

    def get(self, path):
        return self.http("GET", path).json()


@pytest.fixture
def sandbox_on_file(tmp_path):
    restartable = Restartable(tmp_path / "var" / "sandbox-state.json")
    yield restartable
    restartable.box.stop()


def deploy(sb, name):
    body = sb.http("POST", "/bot-orchestration/deploy-v2-controllers", json={
        "instance_name": name, "credentials_profile": "client_sharp", "controllers_config": ["sharp-spread"],
        "headless": True}).json()
    assert body["success"] is True, body
    return body["unique_instance_name"]


def everything_the_bridge_reads(sb) -> dict:
    bots = sb.get("/bot-orchestration/status")["data"]
    archived = sb.get("/archived-bots/")
    return {
        "accounts": sb.get("/accounts/"),
        "credentials": sb.get("/accounts/client_sharp/credentials"),
        "configs": sb.get("/controllers/configs/"),
        "status": bots,
        "mqtt": sb.get("/bot-orchestration/mqtt")["data"],
        "history": {name: sb.get(f"/bot-orchestration/{name}/history?days=1")["response"]["data"]["data"]["trades"]
                    for name in bots if bots[name]["status"] == "running"},
        "exited": sb.get("/docker/exited-containers"),
        "archived": archived,
        "archived_trades": [sb.get(f"/archived-bots/{path}/trades")["trades"] for path in archived],
        "bot_configs": {name: sb.get(f"/controllers/bots/{name}/configs") for name in bots},
    }


def test_a_restarted_sandbox_on_the_same_state_file_shows_the_same_accounts_configs_bots_and_fills(sandbox_on_file):
    sb = sandbox_on_file
    assert sb.http("POST", "/accounts/add-account?account_name=client_sharp").status_code == 201
    assert sb.http("POST", "/accounts/add-credential/client_sharp/bitmart", json={
        "bitmart_api_key": "k", "bitmart_secret_key": "s", "bitmart_memo": "m"}).status_code == 201
    assert sb.http("POST", "/controllers/configs/sharp-spread", json=PMM_V1).status_code == 201
    running = deploy(sb, "running")
    sb.clock.now += 1
    stopped = deploy(sb, "stopped")
    sb.clock.now += 1
    archived = deploy(sb, "archived")
    sb.clock.now += 1
    exited = deploy(sb, "exited")
    sb.clock.now += 35  # fills for everyone
    assert sb.http("POST", "/bot-orchestration/stop-bot", json={"bot_name": stopped}).json()["status"] == "success"
    assert sb.http("POST", f"/docker/stop-container/{exited}").status_code == 200
    assert sb.http("POST", f"/bot-orchestration/stop-and-archive-bot/{archived}").json()["status"] == "success"
    sb.clock.now += 41  # the archive is done
    assert sb.http("POST", f"/controllers/bots/{running}/sharp-spread/config",
                   json={"order_amount": 500}).status_code == 200
    before = everything_the_bridge_reads(sb)
    assert set(before["status"]) == {running, stopped}
    assert before["archived"] == [f"bots/archived/{archived}/data/{archived}.sqlite"]
    assert before["exited"] == [{"id": before["exited"][0]["id"], "name": exited, "status": "exited",
                                 "image": "hummingbot/hummingbot:latest"}]
    assert before["history"][running] and before["archived_trades"][0]

    sb.restart()

    assert everything_the_bridge_reads(sb) == before


def test_bots_keep_trading_on_the_saved_clock_across_a_restart(sandbox_on_file):
    sb = sandbox_on_file
    assert sb.http("POST", "/controllers/configs/sharp-spread", json=PMM_V1).status_code == 201
    body = sb.http("POST", "/bot-orchestration/deploy-v2-controllers", json={
        "instance_name": "sharp", "credentials_profile": "master_account", "controllers_config": ["sharp-spread"],
        "headless": True}).json()
    name = body["unique_instance_name"]
    sb.clock.now += 30
    trades_before = sb.get(f"/bot-orchestration/{name}/history?days=1")["response"]["data"]["data"]["trades"]

    sb.restart()
    sb.clock.now += 30  # the bot ran on while the API was down and restarting

    trades_after = sb.get(f"/bot-orchestration/{name}/history?days=1")["response"]["data"]["data"]["trades"]
    assert len(trades_before) == 3 and len(trades_after) == 6
    assert trades_after[:3] == trades_before
    assert sb.get("/bot-orchestration/status")["data"][name]["status"] == "running"


def test_faults_are_not_persisted(sandbox_on_file):
    sb = sandbox_on_file
    assert sb.http("POST", "/_sandbox/faults", json={"method": "GET", "path": "^/accounts/$",
                                                     "kind": "500"}).status_code == 201
    assert sb.http("GET", "/accounts/").status_code == 500

    sb.restart()

    assert sb.get("/_sandbox/state")["faults"] == []
    assert sb.get("/accounts/") == ["master_account"]


def populated_state() -> SandboxState:
    state = SandboxState(config(), FakeClock())
    state.add_account("client_sharp")
    state.add_credential("client_sharp", "bitmart", {"bitmart_api_key": "k", "bitmart_secret_key": "s",
                                                     "bitmart_memo": "m"})
    state.save_config("sharp-spread", PMM_V1)
    state.save_controller("generic", "volume_taker", "# source\n")
    state.deploy("sharp", "client_sharp", ["sharp-spread"], "hummingbot/hummingbot:latest", True, {})
    state.clock.now += 25
    state.inject_fills(next(iter(state.bots)), 3)
    return state


def test_every_attribute_of_the_state_is_persisted_or_declared_not_to_be():
    """A data attribute someone adds to SandboxState is saved unless SandboxState.NOT_PERSISTED names it."""
    state = populated_state()
    assert SandboxState.NOT_PERSISTED <= set(vars(state)), "NOT_PERSISTED names an attribute that is gone"
    document = json.loads(json.dumps(state_document(state)))
    assert set(document["state"]) == set(vars(state)) - SandboxState.NOT_PERSISTED
    again = restore(document, config(), state.clock)
    assert state_document(again) == state_document(state)


@dataclass
class _LaterRecord:
    units: Decimal
    tags: frozenset


def test_a_part_added_later_is_persisted_without_touching_the_persistence_code(tmp_path, monkeypatch):
    """Like the portfolio being added to the sandbox: its own lock, (account, connector) keys, records, decimals."""
    module = types.ModuleType("sandbox.later_part")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(_LaterRecord, "__module__", module.__name__)
    module._LaterRecord = _LaterRecord

    class Portfolio:
        def __init__(self):
            self.lock = threading.Lock()
            self.balances = {("client_sharp", "bitmart"): {"USDT": [10_000.0, 9_000.5, 1.0]}}
            self.records = [_LaterRecord(Decimal("0.000001"), frozenset({"a", "b"}))]
    Portfolio.__module__ = module.__name__
    module.Portfolio = Portfolio
    state = populated_state()
    state.portfolio = Portfolio()
    monkeypatch.setattr(SandboxState, "__init__", _with_portfolio(SandboxState.__init__, Portfolio))
    file = StateFile(tmp_path / "state.json")
    file.save(state)

    loaded = file.load(config(), state.clock).portfolio

    assert loaded.balances == state.portfolio.balances
    assert loaded.records == state.portfolio.records
    assert isinstance(loaded.lock, type(threading.Lock())) and loaded.lock.acquire(blocking=False)


def _with_portfolio(init, portfolio_class):
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.portfolio = portfolio_class()
    return __init__


def test_what_cannot_be_saved_is_named_not_silently_dropped():
    state = populated_state()
    state.callback = print
    with pytest.raises(TypeError, match="callback: cannot persist a builtins.builtin_function_or_method"):
        state_document(state)
    with pytest.raises(TypeError, match=r"x\[0\]\['k'\]: cannot persist a builtins.object"):
        encode([{"k": object()}], "x")


@pytest.mark.parametrize("content, reason", [
    ("{not json", "not JSON"),
    (json.dumps({"format": "hummingbot-api-sandbox-state", "version": VERSION - 1, "state": {}}),
     f"version {VERSION - 1}; this sandbox reads version {VERSION}"),
    (json.dumps({"accounts": ["client_sharp"]}), "not a sandbox state file"),
    (json.dumps({"format": "hummingbot-api-sandbox-state", "version": VERSION, "state": {"bots": {"x": {
        "$object": "os:system", "$fields": {}}}}}), "is not a class of the sandbox package"),
], ids=["corrupt", "older-version", "other-format", "foreign-class"])
def test_a_state_file_it_cannot_read_is_moved_aside_never_wiped_and_the_sandbox_starts_empty(tmp_path, content,
                                                                                              reason):
    path = tmp_path / "sandbox-state.json"
    path.write_text(content)
    warnings = []

    state = StateFile(path).load(config(), FakeClock(), warn=warnings.append)

    assert state.accounts == {"master_account": set()} and state.bots == {}
    [aside] = tmp_path.glob("sandbox-state.json.refused-*")
    assert aside.read_text() == content and not path.exists()
    [warning] = warnings
    assert warning.startswith(f"sandbox: refused the state file {path}: ") and reason in warning
    assert f"moved it to {aside} and started empty" in warning


def test_saving_replaces_the_file_whole(tmp_path):
    """Temp file + rename: a reader (or a crash) sees the old file or the new one, never half of one."""
    path = tmp_path / "state.json"
    file = StateFile(path)
    state = populated_state()
    file.save(state)
    replaced = []
    real_replace = os.replace
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "replace", lambda source, target: replaced.append((Path(source).parent, Path(target)))
                      or real_replace(source, target))
        state.add_account("client_two")
        file.save(state)
    assert replaced == [(tmp_path, path)]
    assert "client_two" in json.loads(path.read_text())["state"]["accounts"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def start_cli(path: Path, extra_env=None):
    env = {**os.environ, "HUMMINGBOT_API_USERNAME": "admin", "HUMMINGBOT_API_PASSWORD": "cli-pw-persist",
           **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", "0", "--quiet", "--state-file", str(path)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 120)  # a hang guard, not a speed check
    assert ready, "no banner"
    banner = proc.stdout.readline()
    return proc, re.search(r" on (http://127\.0\.0\.1:\d+)", banner)[1], banner


def test_the_command_line_sandbox_keeps_what_it_acknowledged_even_when_killed(tmp_path):
    path = tmp_path / "var" / "sandbox-state.json"
    auth = ("admin", "cli-pw-persist")
    proc, url, _ = start_cli(path)
    try:
        assert requests.post(url + "/accounts/add-account", params={"account_name": "client_sharp"}, auth=auth,
                             timeout=60).status_code == 201
        proc.kill()  # no chance to save at shutdown: the write was saved before its reply
        proc.wait(timeout=120)
        proc, url, banner = start_cli(path, {"HUMMINGBOT_API_PASSWORD": "another-run-pw"})
        assert f"state in {path} (0 bots)" in banner
        accounts = requests.get(url + "/accounts/", auth=("admin", "another-run-pw"), timeout=60).json()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert accounts == ["master_account", "client_sharp"]
    assert proc.returncode == 0, err
    assert "pw" not in path.read_text()  # the password of a run is never saved


# --------------------------------------------------------------------------- the bridge against a restarted sandbox


@pytest.mark.django_db
def test_the_bridge_stops_and_starts_its_bots_against_a_new_sandbox_process_on_the_same_state_file(
        sandbox_on_file, settings, monkeypatch, operator):
    from datetime import UTC, datetime

    from rest_framework.test import APIClient

    from bots import services
    from bots.hummingbot.client import get_client
    from django.core.cache import cache

    from bots.models import Account

    cache.clear()  # fresh throttle counts
    sb = sandbox_on_file

    def point_the_bridge_at_the_sandbox():
        settings.HUMMINGBOT_API_URL = sb.box.url
    point_the_bridge_at_the_sandbox()
    settings.HUMMINGBOT_API_USERNAME, settings.HUMMINGBOT_API_PASSWORD = "admin", "pw-persist"
    settings.HUMMINGBOT_TIME_ZONE, settings.VANISHED_AFTER_SECONDS = "UTC", 60
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime.fromtimestamp(sb.clock(), tz=UTC))
    api = APIClient()
    api.force_authenticate(operator)
    Account.objects.create(name="client_sharp", label="Sharp")
    get_client().add_account("client_sharp")
    get_client().add_credentials("client_sharp", "bitmart", {"bitmart_api_key": "k", "bitmart_secret_key": "s",
                                                             "bitmart_memo": "m"})

    def status(bot_id):
        services.bots_sync()
        return next(bot for bot in api.get("/bots").json()["bots"] if bot["id"] == bot_id)["status"]

    created = api.post("/bots/create", {"name": "sharp_bot", "account": "client_sharp", "strategy": "spread",
                                        "connector": "bitmart", "pair": "SHARP-USDT", "params": {
                                            "order_amount": "1000", "budget_quote": "500",
                                            "buy_spreads_pct": [0.5, 1], "sell_spreads_pct": [0.5, 1]}},
                       format="json")
    assert created.status_code == 201, created.json()
    bot_id = created.json()["id"]
    assert status(bot_id) == "running"

    sb.restart()
    point_the_bridge_at_the_sandbox()

    assert status(bot_id) == "running"
    assert api.post(f"/bots/{bot_id}/stop").status_code == 202
    assert status(bot_id) == "stopped"
    sb.restart()
    point_the_bridge_at_the_sandbox()
    assert status(bot_id) == "stopped"
    assert api.post(f"/bots/{bot_id}/start").status_code == 202
    assert status(bot_id) == "running"
    again = api.post("/bots/create", {"name": "second_bot", "account": "client_sharp", "strategy": "spread",
                                      "connector": "bitmart", "pair": "BTC-USDT", "params": {
                                          "order_amount": "0.001", "budget_quote": "500",
                                          "buy_spreads_pct": [0.5], "sell_spreads_pct": [0.5]}}, format="json")
    assert again.status_code == 201, again.json()
