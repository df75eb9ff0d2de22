"""`archived` only when Hummingbot shows the archive and the container is gone; absence from the status
list is judged over time (VANISHED_AFTER_SECONDS), never by the number of calls. The sandbox runs with the
real server's timing (docs/hummingbot-api.md §10: ~45 s, a blink included), on one fake clock for both sides."""
import pytest

from bots import services
from bots.models import Bot, BotEvent
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


def test_archive_with_the_upstreams_real_timing_is_archived_only_after_the_archive_shows(api, running_bot, shared_clock):
    assert api.delete(f"/bots/{running_bot.name}").status_code == 202
    seen, upstream_listed = [], []
    for _ in range(int(REAL_ARCHIVE_DELAY) * 2):  # a panel polling twice a second through the whole archive
        shared_clock.advance(0.5)
        seen.append(status_via_list(api))
        upstream_listed.append(running_bot.hummingbot_name in shared_clock.state.all_status())
    assert set(seen) == {"archiving"}
    assert upstream_listed.count(False) > upstream_listed.count(True) > 0  # gone, back (blinking), gone again
    shared_clock.advance(60)  # absent for VANISHED_AFTER_SECONDS, archive present, container gone
    assert status_via_list(api) == "archived"
    assert BotEvent.objects.filter(bot=running_bot, action="sync").first().detail.startswith("archived:")


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
