"""`archived` at the first sync that sees the proof: Hummingbot lists the archive and the container is gone (the
status list may still show the bot, blinking, for a while). Absence from the status list, for bots that vanish without
an archive, is judged over time (VANISHED_AFTER_SECONDS), never by the number of calls. The sandbox runs with the real
server's timing (docs/hummingbot-api.md §10: ~45 s, a blink included), on one fake clock for both sides."""
import itertools

import pytest

from bots import services
from bots.models import Bot, BotEvent
from bots.states import ARCHIVING_GRACE
from tests.conftest import started_sandbox

pytestmark = pytest.mark.django_db

SPREAD = {"order_amount": "1000", "budget_quote": "500"}
REAL_ARCHIVE_DELAY = 45.0


@pytest.fixture
def sandbox():
    """The real server's timing: a 45 s archive, MQTT presence lingering 30 s (docs/hummingbot-api.md §10)."""
    sb = started_sandbox(archive_delay=REAL_ARCHIVE_DELAY, mqtt_linger=30.0)
    yield sb
    sb.stop()


@pytest.fixture
def running_bot(api, shared_clock, upstream_account):
    created = api.post("/bots/create", {"name": "sharp_mm", "account": "client_sharp", "strategy": "spread",
                                        "connector": "bitmart", "pair": "SHARP-USDT", "params": SPREAD}, format="json")
    assert created.status_code == 201, created.json()
    assert status_via_list(api) == "running"
    return Bot.objects.get(name="sharp_mm")


def status_via_list(api):
    """After a sync, as the scheduled one runs every BOTS_SYNC_SECONDS (GET /bots alone reads the database)."""
    services.bots_sync()
    return api.get("/bots").json()["bots"][0]["status"]


def archive_listed(sandbox, bot):
    return any(f"/{bot.hummingbot_name}/" in path for path in sandbox.state.archived_paths())


def test_archive_is_confirmed_by_the_first_sync_that_sees_the_archive_listed_and_no_container(api, running_bot,
                                                                                                shared_clock):
    assert api.delete(f"/bots/{running_bot.name}").status_code == 202
    polls = []  # a panel polling twice a second, each poll after a sync: (archive listed, our status)
    while not polls or not polls[-1][0]:
        shared_clock.advance(0.5)
        polls.append((archive_listed(shared_clock, running_bot), status_via_list(api)))
    assert {status for _, status in polls[:-1]} == {"archiving"}
    assert polls[-1][1] == "archived"  # the first sync that sees the listing (the container went with it)
    event = BotEvent.objects.filter(bot=running_bot, action="sync").first()
    assert event.detail == "archived: Hummingbot lists its archive and its container is gone"
    # Hummingbot's status list still shows it for a while (MQTT), blinking out and back: it never flips back.
    upstream_listed = []
    for _ in range(int(REAL_ARCHIVE_DELAY) * 2):
        shared_clock.advance(0.5)
        upstream_listed.append(running_bot.hummingbot_name in shared_clock.state.all_status())
        assert status_via_list(api) == "archived"
    assert [listed for listed, _ in itertools.groupby(upstream_listed)] == [True, False, True, False]


def test_an_archive_listed_while_its_container_remains_is_confirmed_once_the_container_is_gone(
        api, running_bot, shared_clock, monkeypatch):
    assert api.delete(f"/bots/{running_bot.name}").status_code == 202
    shared_clock.advance(REAL_ARCHIVE_DELAY / 2)  # the archiver has copied the instance folder...
    assert archive_listed(shared_clock, running_bot)
    containers = shared_clock.state.containers
    exited = {"id": "c0ffee", "name": running_bot.hummingbot_name, "status": "exited", "image": "hummingbot"}
    monkeypatch.setattr(shared_clock.state, "containers", lambda status, name_filter: (
        [exited] if status == "exited" else containers(status, name_filter)))  # ...and not yet removed it
    assert status_via_list(api) == "archiving"
    monkeypatch.setattr(shared_clock.state, "containers", containers)
    assert status_via_list(api) == "archived"


def test_another_bots_container_whose_name_contains_this_ones_does_not_hold_the_archive_back(
        api, running_bot, shared_clock, monkeypatch):
    assert api.delete(f"/bots/{running_bot.name}").status_code == 202
    shared_clock.advance(REAL_ARCHIVE_DELAY / 2)
    other = {"id": "c0ffee", "name": f"x{running_bot.hummingbot_name}", "status": "exited", "image": "hummingbot"}
    monkeypatch.setattr(shared_clock.state, "containers", lambda status, name_filter: (
        [other] if status == "exited" and name_filter.lower() in other["name"].lower() else []))
    assert status_via_list(api) == "archived"


def test_archive_not_confirmed_after_its_grace_period_says_what_remains(api, running_bot, shared_clock, monkeypatch):
    assert api.delete(f"/bots/{running_bot.name}").status_code == 202
    monkeypatch.setattr(shared_clock.state, "archived_paths", lambda: [])  # the archiver failed: nothing listed
    shared_clock.advance(REAL_ARCHIVE_DELAY + 1)  # gone from the status list
    assert status_via_list(api) == "archiving"
    shared_clock.advance(ARCHIVING_GRACE.total_seconds())
    assert status_via_list(api) == "not_found"
    running_bot.refresh_from_db()
    assert running_bot.last_error == "Stop-and-archive did not finish: Hummingbot shows no archive of it."


def test_the_sandbox_blinks_the_bot_out_of_the_list_while_it_lingers(shared_clock, running_bot):
    services.bot_archive(bot=running_bot)
    listed = []
    for _ in range(int(REAL_ARCHIVE_DELAY) * 4):
        shared_clock.advance(0.25)
        listed.append(running_bot.hummingbot_name in shared_clock.state.all_status())
    changes = sum(1 for before, after in zip(listed, listed[1:]) if before != after)
    assert changes == 4  # vanishes while stopping, back as stopped (MQTT), blinks out for ~1 s, back, gone


def removed_behind_our_back(sandbox, name):
    with sandbox.state.lock:
        return sandbox.state.bots.pop(name)


def put_back(sandbox, upstream):
    with sandbox.state.lock:
        sandbox.state.bots[upstream.name] = upstream


def test_rapid_syncs_within_the_window_do_not_mark_a_running_bot_not_found(api, running_bot, shared_clock, settings):
    removed_behind_our_back(shared_clock, running_bot.hummingbot_name)
    for _ in range(50):  # fifty polls in half the window: many calls, little time
        shared_clock.advance(0.5)
        assert status_via_list(api) == "running"
    shared_clock.advance(settings.VANISHED_AFTER_SECONDS)
    assert status_via_list(api) == "not_found"


def test_a_bot_that_comes_back_within_the_window_stays_running(api, running_bot, shared_clock, settings):
    upstream = removed_behind_our_back(shared_clock, running_bot.hummingbot_name)
    shared_clock.advance(settings.VANISHED_AFTER_SECONDS - 1)
    assert status_via_list(api) == "running"
    put_back(shared_clock, upstream)
    assert status_via_list(api) == "running"
    removed_behind_our_back(shared_clock, running_bot.hummingbot_name)
    shared_clock.advance(settings.VANISHED_AFTER_SECONDS - 1)  # a new absence starts its own window
    assert status_via_list(api) == "running"


@pytest.mark.parametrize("count", [10, 300])
def test_list_with_absent_bots_and_unanswered_deploys_takes_constant_queries(api, account, settings, count,
                                                                             django_assert_max_num_queries):
    import responses
    from django.utils import timezone

    Bot.objects.bulk_create(
        [Bot(name=f"gone{i}", hummingbot_name=f"gone{i}-20260101-000000", account=account, strategy="spread",
             connector="bitmart", trading_pair="SHARP-USDT", status="running") for i in range(count)]
        + [Bot(name=f"unanswered{i}", account=account, strategy="spread", connector="bitmart",
               trading_pair="SHARP-USDT", status="deploying", deploy_intent_at=timezone.now()) for i in range(count)]
    )
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/status", json={"status": "success", "data": {}})
        with django_assert_max_num_queries(14):  # an inline refresh, counted in tests/test_api.py
            bots = api.get("/bots").json()["bots"]
    assert {b["status"] for b in bots} == {"running", "deploying"}


def test_the_archive_is_asked_for_only_while_a_bot_is_archiving(api, running_bot, shared_clock, monkeypatch):
    from bots.hummingbot.client import HummingbotClient

    calls = []
    for method in ("archived_bots", "exited_containers", "active_containers"):
        real = getattr(HummingbotClient, method)
        monkeypatch.setattr(HummingbotClient, method, lambda client, *a, _real=real, _name=method, **k: (
            calls.append(_name), _real(client, *a, **k))[1])
    services.bots_sync()
    assert calls == []  # nothing archiving: the status list is the only call
    assert api.delete(f"/bots/{running_bot.name}").status_code == 202
    services.bots_sync()
    assert calls == ["archived_bots"]  # not listed yet: no container asked for
    shared_clock.advance(REAL_ARCHIVE_DELAY / 2)
    services.bots_sync()
    assert calls == ["archived_bots", "archived_bots", "exited_containers"]
    services.bots_sync()
    assert len(calls) == 3 and status_via_list(api) == "archived"
