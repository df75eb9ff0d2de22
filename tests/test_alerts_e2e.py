"""End to end, as deployed: the real django-q2 cluster (`manage.py qcluster`, production settings, its own process)
runs the scheduled status sync every BOTS_SYNC_SECONDS against the sandbox, opens alerts and delivers them through
Apprise to an HTTP receiver on 127.0.0.1. Things happen behind the bridge's back, over the sandbox's own HTTP API.

The latency from Hummingbot's change to the notification at the receiver is measured and printed (run with -s to
see it); it is bounded by one sync interval plus the queue's pickup and the send, never asserted on the clock."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.urls import reverse

from bots import services
from bots.models import Account, Alert, Bot, SyncState
from tests.alert_receiver import HANG_GUARD_SECONDS
from tests.conftest import give_keys
from tests.conftest import SANDBOX_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent
SYNC_SECONDS = 1


def database_url() -> str:
    """The test database, for another process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def cluster(hummingbot, receiver, tmp_path, monkeypatch, settings):
    """`python manage.py qcluster` with the production settings, on the test database and the sandbox."""
    from django_q.conf import Conf

    from django.core.management import call_command

    monkeypatch.setattr(Conf, "SYNC", False)  # this process queues for the cluster instead of running inline
    # The production settings cache in the database (the test settings do not, so its migration made no table).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "bridge_cache"}}
    call_command("createcachetable")
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "bridge.settings", "DATABASE_URL": database_url(),
           "SECRET_KEY": settings.SECRET_KEY,  # django-q2 signs the tasks queued here with it
           "HUMMINGBOT_API_URL": hummingbot.url, "HUMMINGBOT_API_USERNAME": "admin",
           "HUMMINGBOT_API_PASSWORD": SANDBOX_PASSWORD, "HUMMINGBOT_TIMEOUT": "2", "HUMMINGBOT_RETRIES": "0",
           "BOTS_SYNC_SECONDS": str(SYNC_SECONDS), "ALERT_URLS": receiver.url(), "ALERT_SERVER_DOWN_MINUTES": "0",
           "Q_WORKERS": "3", "LOG_LEVEL": "INFO"}
    log = tmp_path / "qcluster.log"
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    yield log
    # Its sync task loops for a minute: the cluster would wait for it to end. Nothing it does now matters.
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    print(f"\n--- the cluster's log ---\n{log.read_text()}")


def wait_until(condition, what: str):
    """Poll the database (written by the cluster's processes); an AssertionError after the hang guard."""
    guard = time.monotonic() + HANG_GUARD_SECONDS
    while not condition():
        if time.monotonic() > guard:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.05)


def syncs_seen(count: int):
    """Until the cluster's status sync has run `count` more times (each records its attempt)."""
    for _ in range(count):
        last = SyncState.objects.filter(scope="default").values_list("last_attempt_at", flat=True).first()
        wait_until(lambda: SyncState.objects.filter(scope="default").values_list("last_attempt_at", flat=True).first()
                   != last, "the next status sync")


def behind_the_bridges_back(hummingbot, path: str):
    """A call to the Hummingbot API that the bridge does not make (docker, another tool, a person)."""
    answer = requests.post(f"{hummingbot.url}{path}", auth=("admin", SANDBOX_PASSWORD), timeout=10)
    assert answer.status_code == 200 and answer.json() is None, answer.text
    return time.monotonic()


def report(label: str, seconds: float):
    print(f"\nALERT LATENCY {label}: {seconds:.3f} s (status sync every {SYNC_SECONDS} s)")


def test_a_killed_container_and_a_server_outage_each_reach_the_channel_once_and_resolve(
        hummingbot, receiver, cluster, panel, operator):
    from django_q.tasks import async_task

    account = Account.objects.create(name="client_sharp")
    hummingbot.state.add_account("client_sharp")
    give_keys(hummingbot, "client_sharp", "bitmart")
    bot = services.bot_create(name="sharp_mm", account=account, strategy="spread", connector="bitmart",
                              trading_pair="SHARP-USDT", params={"order_amount": "100", "budget_quote": "500"}, confirm=True)
    hummingbot.state.spawn_bots(2, prefix="fleet")
    async_task("bots.tasks.sync_bots")  # what the minute's schedule queues
    wait_until(lambda: Bot.objects.get(pk=bot.pk).status == "running", "the cluster's first status sync")

    killed = behind_the_bridges_back(hummingbot, f"/docker/stop-container/{bot.hummingbot_name}")
    [notice] = receiver.wait_for(1)
    report("container killed -> notification", notice["at"] - killed)
    assert notice["title"] == "[critical] Bot stopped without a request here: bot sharp_mm"
    assert "Bot sharp_mm (client_sharp on default) was running and Hummingbot now reports it stopped" in notice["message"]
    wait_until(lambda: Alert.objects.get().notified_at is not None, "the delivery task to record its notice")
    alert = Alert.objects.get()
    report("alert opened -> notified (queue pickup and send)", (alert.notified_at - alert.opened_at).total_seconds())
    syncs_seen(3)
    assert len(receiver.items) == 1  # no repeat on the next syncs

    acknowledged = panel.post(reverse("admin:bots_alert_acknowledge", args=[alert.pk]), {"next": "/admin/bots/alert/"})
    assert acknowledged.status_code == 302
    alert.refresh_from_db()
    assert alert.state == "acknowledged" and alert.acknowledged_by_name == "desk"

    restarted = behind_the_bridges_back(hummingbot, f"/docker/start-container/{bot.hummingbot_name}")
    resolved = receiver.wait_for(2)[1]
    report("container running again -> resolved notification", resolved["at"] - restarted)
    assert resolved["title"] == "[resolved] Bot stopped without a request here: bot sharp_mm"
    assert resolved["message"].startswith("Bot sharp_mm is now running.")

    hummingbot.state.set_fault("GET", "/bot-orchestration/status", "refuse")
    refused = time.monotonic()
    outage = receiver.wait_for(3)[2]
    report("server refusing -> notification", outage["at"] - refused)
    assert outage["title"] == "[critical] Hummingbot server unreachable: server default"
    assert "The statuses of its 3 bot(s) are not read meanwhile." in outage["message"]
    syncs_seen(3)
    assert len(receiver.items) == 3  # one alert for the server, none for its bots, no repeat
    hummingbot.state.clear_faults()
    back = time.monotonic()
    answers = receiver.wait_for(4)[3]
    report("server answering again -> resolved notification", answers["at"] - back)
    assert answers["title"] == "[resolved] Hummingbot server unreachable: server default"
    assert Alert.objects.count() == 2 and not Alert.objects.filter(resolved_at=None).exists()
