"""Hummingbot failing in each way during create, start, stop and list: the documented HTTP answer,
an audit event with ok=False, and a database that tells the truth. Faults are injected in the sandbox."""
import pytest

from bots import services
from bots.models import Bot, BotEvent

pytestmark = pytest.mark.django_db

SPREAD = {"order_amount": "1000", "budget_quote": "500"}
FAULTS = [  # sandbox fault kind, expected HTTP status, expected error code
    ("refuse", 503, "hummingbot_unreachable"),
    ("delay", 504, "hummingbot_timeout"),
    ("401", 502, "hummingbot_auth"),
    ("500", 502, "hummingbot_server_error"),
    ("nonjson", 502, "hummingbot_bad_response"),
    ("error200", 502, "hummingbot_rejected"),
]
IDS = [f[0] for f in FAULTS]
# No answer was read, so the deploy may have happened upstream (tests/test_deploy_outcome.py covers the rest).
UNANSWERED = ("refuse", "delay", "nonjson")


@pytest.fixture
def upstream(hummingbot, upstream_account):
    """The suite's HUMMINGBOT_TIMEOUT stays: a shorter one would also cut the calls that must succeed
    when a loaded machine answers them slowly."""
    return hummingbot


def fault(upstream, method, path, kind):
    # A delayed answer comes long after any client timeout of the suite.
    upstream.state.set_fault(method, path, kind, seconds=60.0 if kind == "delay" else 0.0)


def create(api, name="sharp_mm"):
    return api.post("/bots/create", {"name": name, "account": "client_sharp", "strategy": "spread",
                                     "connector": "bitmart", "pair": "SHARP-USDT", "params": SPREAD}, format="json")


def running_bot(api, upstream):
    bot_id = create(api).json()["id"]
    services.bots_sync()
    assert Bot.objects.get(name=bot_id).status == "running"
    return bot_id


def last_event(action):
    return BotEvent.objects.filter(action=action).order_by("-id").first()


@pytest.mark.parametrize("kind, status, code", [f for f in FAULTS if f[0] not in UNANSWERED],
                         ids=[i for i in IDS if i not in UNANSWERED])
def test_create_when_deploy_fails_keeps_an_error_row(api, upstream, kind, status, code):
    fault(upstream, "POST", "/bot-orchestration/deploy-v2-controllers", kind)
    response = create(api)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]
    bot = Bot.objects.get(name="sharp_mm")
    assert bot.status == "error" and bot.last_error == response.json()["error"]["message"]
    assert bot.hummingbot_name is None and bot.deploy_intent_at is None
    assert last_event("create").ok is False


@pytest.mark.parametrize("kind, status, code", [f for f in FAULTS if f[0] in UNANSWERED], ids=UNANSWERED)
def test_create_whose_deploy_went_unanswered_stays_deploying_and_says_so(api, upstream, kind, status, code):
    fault(upstream, "POST", "/bot-orchestration/deploy-v2-controllers", kind)
    response = create(api)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    bot = Bot.objects.get(name="sharp_mm")
    assert bot.status == "deploying" and bot.deploy_intent_at is not None
    assert bot.last_error == f"outcome unknown: checking Hummingbot ({response.json()['error']['message']})"
    assert last_event("create").ok is False


@pytest.mark.parametrize("kind, status, code", FAULTS, ids=IDS)
def test_stop_when_hummingbot_fails_keeps_status_and_reports_error(api, upstream, kind, status, code):
    bot_id = running_bot(api, upstream)
    fault(upstream, "POST", "/bot-orchestration/stop-bot", kind)
    response = api.post(f"/bots/{bot_id}/stop")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    bot = Bot.objects.get(name=bot_id)
    assert bot.status == "running" and bot.last_error
    assert last_event("stop").ok is False


@pytest.mark.parametrize("kind, status, code", FAULTS, ids=IDS)
def test_start_when_hummingbot_fails_keeps_the_bot_stopped(api, upstream, kind, status, code):
    bot_id = running_bot(api, upstream)
    api.post(f"/bots/{bot_id}/stop")
    services.bots_sync()
    assert Bot.objects.get(name=bot_id).status == "stopped"
    fault(upstream, "POST", "/docker/stop-container/.*", kind)
    response = api.post(f"/bots/{bot_id}/start")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert Bot.objects.get(name=bot_id).status == "stopped"
    assert last_event("start").ok is False


@pytest.mark.parametrize("kind, status, code", FAULTS, ids=IDS)
def test_list_when_hummingbot_fails_shows_last_known_state_as_stale(api, upstream, shared_clock, settings, kind, status,
                                                                    code):
    bot_id = running_bot(api, upstream)
    fault(upstream, "GET", "/bot-orchestration/status", kind)
    shared_clock.advance(settings.BOTS_SYNC_SECONDS)  # the list is due a refresh
    response = api.get("/bots")
    assert response.status_code == 200
    body = response.json()
    assert body["upstream"]["ok"] is False and body["upstream"]["code"] == code
    assert body["bots"][0]["id"] == bot_id and body["bots"][0]["status"] == "running" and body["bots"][0]["stale"]
    shared_clock.advance(settings.BOTS_SYNC_SECONDS)
    api.get("/bots")  # the same outage is recorded once, not once per attempt
    failures = BotEvent.objects.filter(action="sync", ok=False)
    assert failures.count() == 1 and failures.get().detail == body["upstream"]["error"]


def test_double_click_on_stop_makes_one_upstream_call(api, upstream):
    bot_id = running_bot(api, upstream)
    assert api.post(f"/bots/{bot_id}/stop").status_code == 202
    assert api.post(f"/bots/{bot_id}/stop").status_code == 409
    assert BotEvent.objects.filter(action="stop").count() == 1
