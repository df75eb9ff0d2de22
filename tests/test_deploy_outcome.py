"""A deploy whose answer never arrived (timeout, dropped connection, killed process) is *unknown*, not
failed: the intent is recorded before the call, nothing deploys twice while an instance
"<name>-YYYYmmdd-HHMMSS" stamped at/after that intent exists upstream, and sync or start reattaches it
to its row instead of adopting it as external. Faults are held by the sandbox until the test releases
them (events, no sleeps); the client's own timeout is the only wall-clock wait."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from datetime import datetime

import pytest

from bots import services
from bots.models import Bot, BotEvent
from bots.services.lifecycle import deployed_instance
from bots.states import PENDING_GRACE
from tests.conftest import SANDBOX_PASSWORD, give_keys

pytestmark = pytest.mark.django_db

DEPLOY = "/bot-orchestration/deploy-v2-controllers"
SPREAD = {"order_amount": "1000", "budget_quote": "500"}
HOLD = 60.0  # a held request waits at most this long for the test to release it
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def upstream(shared_clock, upstream_account, settings):
    settings.HUMMINGBOT_TIMEOUT = 0.5  # the client gives up long before the held deploy is released
    return shared_clock


def create(api, name="dupbot"):
    return api.post("/bots/create", {"name": name, "account": "client_sharp", "strategy": "spread",
                                     "connector": "bitmart", "pair": "SHARP-USDT", "params": SPREAD}, format="json")


def instances(sandbox, name="dupbot"):
    return sorted(n for n in sandbox.state.bots if n.startswith(f"{name}-"))


def deploy_that_completes_after_the_client_gave_up(api, sandbox):
    held = sandbox.state.set_fault("POST", DEPLOY, "delay", seconds=HOLD, times=1)
    response = create(api)
    assert response.status_code == 504
    held.released.set()
    assert held.handled.wait(HOLD)
    assert len(instances(sandbox)) == 1  # the upstream did deploy, like the real server
    return response


def test_deploy_that_times_out_is_reattached_not_redeployed(api, upstream):
    deploy_that_completes_after_the_client_gave_up(api, upstream)
    bot = Bot.objects.get(name="dupbot")
    assert (bot.status, bot.hummingbot_name) == ("deploying", None)
    assert bot.last_error.startswith("outcome unknown: checking Hummingbot")
    listed = api.get("/bots").json()["bots"]
    assert [(b["name"], b["status"], b["hummingbot_name"]) for b in listed] == [
        ("dupbot", "running", instances(upstream)[0])
    ]
    assert BotEvent.objects.filter(bot=bot, action="reattach").exists()
    assert api.post(f"/bots/{bot.name}/start").status_code == 409
    assert len(instances(upstream)) == 1


def test_start_looks_for_the_instance_before_deploying_again(api, upstream):
    held = upstream.state.set_fault("POST", DEPLOY, "delay", seconds=HOLD, times=1)
    assert create(api).status_code == 504
    upstream.advance(PENDING_GRACE.total_seconds() + 1)
    services.bots_sync()  # nothing upstream after the grace period: the row says so
    bot = Bot.objects.get(name="dupbot")
    assert (bot.status, bot.last_error) == ("error", "deploy did not happen; safe to start again")
    held.released.set()  # ... and then the slow deploy lands after all
    assert held.handled.wait(HOLD)
    assert api.post(f"/bots/{bot.name}/start").status_code == 202
    bot.refresh_from_db()
    assert instances(upstream) == [bot.hummingbot_name]
    services.bots_sync()
    assert api.get("/bots").json()["bots"][0]["status"] == "running"


def test_archiving_a_row_whose_deploy_went_unanswered_archives_the_instance_it_created(api, upstream):
    deploy_that_completes_after_the_client_gave_up(api, upstream)
    upstream.advance(PENDING_GRACE.total_seconds() + 1)  # a stuck `deploying` row may be archived now
    bot = Bot.objects.get(name="dupbot")
    assert api.delete(f"/bots/{bot.name}").status_code == 202
    bot.refresh_from_db()
    assert (bot.status, bot.hummingbot_name) == ("archiving", instances(upstream)[0])
    assert upstream.state.bots[bot.hummingbot_name].archive is not None  # stopped upstream, not left running


def test_deploy_that_did_not_happen_is_error_after_the_grace_period_and_can_start(api, upstream):
    # The connection closes after the request was read and nothing is deployed: the client cannot tell.
    upstream.state.set_fault("POST", DEPLOY, "refuse", times=1)
    assert create(api).status_code == 503
    assert api.get("/bots").json()["bots"][0]["status"] == "deploying"  # within the grace period
    upstream.advance(PENDING_GRACE.total_seconds() + 1)
    assert api.get("/bots").json()["bots"][0]["status"] == "error"
    bot = Bot.objects.get(name="dupbot")
    assert api.post(f"/bots/{bot.name}/start").status_code == 202
    assert len(instances(upstream)) == 1


def unanswered(name, intent):
    return Bot(name=name, deploy_intent_at=datetime.fromisoformat(intent))


@pytest.mark.parametrize("upstream_name, ours", [
    ("dupbot-20261125-184005", True),  # stamped after the intent
    ("dupbot-20261125-183930", True),  # within the clock-skew allowance
    ("dupbot-20261125-180000", False),  # an older instance of the same name
    ("dupbot-1-20261125-184005", False),  # another bot's name
    ("dupbot-20261125-184005x", False),
])
def test_only_an_instance_stamped_at_or_after_the_intent_is_taken_for_it(settings, upstream_name, ours):
    settings.HUMMINGBOT_TIME_ZONE = "UTC"
    bot = unanswered("dupbot", "2026-11-25T18:40:00+00:00")
    assert (deployed_instance(bot, [upstream_name]) == upstream_name) is ours


def test_instance_stamps_are_read_in_the_servers_time_zone(settings):
    settings.HUMMINGBOT_TIME_ZONE = "Asia/Tokyo"  # UTC+9: 03:40 local on the 26th is 18:40 UTC on the 25th
    bot = unanswered("dupbot", "2026-11-25T18:40:00+00:00")
    assert deployed_instance(bot, ["dupbot-20261126-034005"]) == "dupbot-20261126-034005"
    assert deployed_instance(bot, ["dupbot-20261125-184005"]) is None  # 18:40 Tokyo was 09:40 UTC


def run_child(code, env):
    return subprocess.Popen([sys.executable, "manage.py", "shell", "-c", code], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_create_killed_while_deploying_is_reattached_by_the_next_sync(hummingbot, tmp_path):
    """A real process runs the create and is SIGKILLed while its deploy is in flight upstream."""
    hummingbot.state.clock = time.time  # the child processes read the real clock
    hummingbot.state.add_account("client_sharp")
    give_keys(hummingbot, "client_sharp", "bitmart")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bridge.settings", "DATABASE_URL": f"sqlite:///{tmp_path / 'bridge.sqlite3'}", "SECRET_KEY": "test-only",
           "DEBUG": "false", "HUMMINGBOT_API_URL": hummingbot.url, "HUMMINGBOT_API_USERNAME": "admin",
           "HUMMINGBOT_API_PASSWORD": SANDBOX_PASSWORD, "HUMMINGBOT_TIMEOUT": str(HOLD), "HUMMINGBOT_TIME_ZONE": "UTC",
           "LOG_LEVEL": "WARNING"}
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env,
                             capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr
    held = hummingbot.state.set_fault("POST", DEPLOY, "delay", seconds=HOLD, times=1)
    child = run_child(
        "from bots import services; from bots.models import Account\n"
        "services.bot_create(name='dupbot', account=Account.objects.create(name='client_sharp'), strategy='spread',"
        f" connector='bitmart', trading_pair='SHARP-USDT', params={SPREAD!r})", env)
    try:
        assert held.arrived.wait(HOLD), child.communicate()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    held.released.set()  # the deploy the dead process sent still happens upstream
    assert held.handled.wait(HOLD)
    sync = run_child(
        "import json; from bots import services; from bots.models import Bot\n"
        "services.bots_sync()\n"
        "print(json.dumps(list(Bot.objects.values_list('name', 'strategy', 'status', 'hummingbot_name'))))", env)
    out, err = sync.communicate()
    assert sync.returncode == 0, err
    (upstream_name,) = instances(hummingbot)
    assert json.loads(out.strip().splitlines()[-1]) == [["dupbot", "spread", "running", upstream_name]]


def test_the_client_tells_a_refused_connection_from_a_request_left_unanswered(hummingbot):
    import socket

    from bots.hummingbot.client import HummingbotClient
    from bots.hummingbot.errors import HummingbotError

    def error_of(client):
        with pytest.raises(HummingbotError) as caught:
            client.deploy_controllers(instance_name="x", credentials_profile="client_sharp", controllers=[], image="i")
        return caught.value

    with socket.socket() as closed:  # a port nobody listens on: the request never left
        closed.bind(("127.0.0.1", 0))
        refused_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    assert error_of(HummingbotClient(refused_url, "admin", SANDBOX_PASSWORD, timeout=0.5)).outcome_unknown is False
    client = HummingbotClient(hummingbot.url, "admin", SANDBOX_PASSWORD, timeout=0.5)
    hummingbot.state.set_fault("POST", DEPLOY, "refuse", times=1)  # read, then the connection is dropped
    assert error_of(client).outcome_unknown is True
    held = hummingbot.state.set_fault("POST", DEPLOY, "delay", seconds=HOLD, times=1)
    assert error_of(client).outcome_unknown is True
    held.released.set()
