"""The frontend API: shapes, bad input, permissions, upstream faults and query counts."""
import json

import pytest
import responses
from django.conf import settings
from django.http import HttpRequest
from rest_framework.test import APIClient

from bots import services
from bots.models import Bot, BotEvent

pytestmark = pytest.mark.django_db

SPREAD = {"order_amount": "1000", "budget_quote": "500", "buy_spreads_pct": [0.5], "sell_spreads_pct": [0.5]}
SEED_KEYS = {"id", "name", "status", "strategy", "connector", "pair", "chain"}


@pytest.fixture
def no_upstream():
    """Any HTTP call to Hummingbot fails the test: bad input must be refused before it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    assert not mock.calls, [c.request.url for c in mock.calls]


def body(name="sharp_mm", **overrides):
    return {"name": name, "account": "client_sharp", "strategy": "spread", "connector": "bitmart",
            "pair": "SHARP-USDT", "params": dict(SPREAD), **overrides}


BAD_INPUT = [
    ("name", {"name": "bad.name"}),
    ("name", {"name": "has space"}),
    ("name", {"name": "a/b"}),
    ("name", {"name": ".."}),
    ("name", {"name": "quo'te\""}),
    ("name", {"name": "new\nline"}),
    ("name", {"name": "__import__('os').system('id')"}),
    ("name", {"name": "!!python/object:os.system"}),
    ("name", {"name": "x" * 65}),
    ("pair", {"pair": "SHARPUSDT"}),
    ("pair", {"pair": "SHARP-"}),
    ("pair", {"pair": "sharp usdt"}),
    ("params.buy_spreads_pct", {"params": {**SPREAD, "buy_spreads_pct": [-1]}}),
    ("params.buy_spreads_pct", {"params": {**SPREAD, "buy_spreads_pct": [0]}}),
    ("params.buy_spreads_pct", {"params": {**SPREAD, "buy_spreads_pct": [25]}}),
    ("params.buy_spreads_pct", {"params": {**SPREAD, "buy_spreads_pct": ["NaN"]}}),
    ("params.buy_spreads_pct", {"params": {**SPREAD, "buy_spreads_pct": ["1e309"]}}),
    ("params.budget_quote", {"params": {**SPREAD, "budget_quote": "0"}}),
    ("params.budget_quote", {"params": {**SPREAD, "budget_quote": "-5"}}),
    ("strategy", {"strategy": "arbitrage"}),
    ("account", {"account": "nobody"}),
]


@pytest.mark.parametrize("field, change", BAD_INPUT, ids=[repr(c) for _, c in BAD_INPUT])
def test_bad_create_input_is_400_with_field_message_and_nothing_written(api, account, no_upstream, field, change):
    response = api.post("/bots/create", body(**change), format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["details"], error  # named as the request names it
    assert error["message"]
    assert not Bot.objects.exists()


def test_duplicate_name_is_400(api, account, no_upstream):
    Bot.objects.create(name="sharp_mm", account=account, strategy="spread", connector="bitmart", trading_pair="SHARP-USDT")
    response = api.post("/bots/create", body(), format="json")
    assert response.status_code == 400
    assert "already exists" in response.json()["error"]["details"]["name"][0]


def test_unknown_bot_is_404_in_the_error_shape(api, db):
    for method, path in [("get", "/bots/999"), ("post", "/bots/999/start"), ("post", "/bots/nope/stop"), ("delete", "/bots/9")]:
        response = getattr(api, method)(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_anonymous_gets_401_and_view_only_user_cannot_start(db, django_user_model, account):
    assert APIClient().get("/bots").status_code in (401, 403)
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-123")
    viewer.user_permissions.set(Permission.objects.filter(codename="view_bot"))
    client = APIClient()
    client.force_authenticate(viewer)
    bot = Bot.objects.create(name="b", account=account, strategy="spread", connector="bitmart", trading_pair="A-B", status="stopped")
    response = client.post(f"/bots/{bot.name}/start")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_token_auth_works_for_the_frontend_service_user(operator, no_upstream):
    from rest_framework.authtoken.models import Token

    no_upstream.add("GET", f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/status", json={"status": "success", "data": {}})
    token = Token.objects.create(user=operator)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/bots").json()["bots"] == []
    no_upstream.calls.reset()


def test_session_auth_writes_need_csrf(operator, account):
    client = APIClient(enforce_csrf_checks=True)
    client.login(request=HttpRequest(), username="desk", password="pw-desk-123")  # django-axes needs the request
    response = client.post("/bots/create", body(), format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def status_payload(names, trading=True):
    perf = {"c": {"status": "running", "performance": {"volume_traded": 1}}} if trading else {"c": {}}
    return {"status": "success", "data": {n: {"status": "running", "performance": perf, "error_logs": [],
                                              "general_logs": [], "recently_active": True, "source": "docker"} for n in names}}


def status_after_sync(api):
    """GET /bots reads the database; the scheduled sync (every BOTS_SYNC_SECONDS) is what asks Hummingbot."""
    services.bots_sync()
    return api.get("/bots").json()["bots"][0]["status"]


def seed_bots(account, count):
    Bot.objects.bulk_create(
        Bot(name=f"bot{i}", hummingbot_name=f"bot{i}-20260101-000000", account=account, strategy="spread",
            connector="bitmart", trading_pair="SHARP-USDT", status="running") for i in range(count)
    )
    return [f"bot{i}-20260101-000000" for i in range(count)]


@pytest.mark.parametrize("count", [10, 500])
def test_list_makes_one_upstream_call_and_constant_queries(api, account, count, django_assert_max_num_queries):
    names = seed_bots(account, count)
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/status", json=status_payload(names))
        # The inline refresh: 2 permission queries, the sync (5: 4, and the performance samples of every bot whose
        # report changed), the list (1) and its SyncState (5: read, claim by inserting its first row in a savepoint,
        # record, read back), the throttle's count (1), the server's open alerts the sync's rules settle (1). From the
        # database alone: test_bots_list.py.
        with django_assert_max_num_queries(15):
            response = api.get("/bots")
        assert len(mock.calls) == 1
    bots = response.json()["bots"]
    assert len(bots) == count
    assert SEED_KEYS <= set(bots[0]) and "upstream" not in response.json()
    assert {b["status"] for b in bots} == {"running"}


def test_list_shape_keeps_the_seed_keys_exactly(api, account):
    names = seed_bots(account, 1)
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/status", json=status_payload(names))
        bot = api.get("/bots").json()["bots"][0]
    assert {k: bot[k] for k in SEED_KEYS} == {
        "id": "bot0", "name": "bot0", "status": "running", "strategy": "spread", "connector": "bitmart",
        "pair": "SHARP/USDT", "chain": "evm"}


def test_active_bot_with_empty_reports_is_shown_stopped(api, account):
    names = seed_bots(account, 1)
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/status", json=status_payload(names, trading=False))
        assert api.get("/bots").json()["bots"][0]["status"] == "stopped"


def test_schema_documents_every_action(api):
    response = api.get("/api/schema?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    for path in ["/bots", "/bots/create", "/bots/{key}", "/bots/{key}/start", "/bots/{key}/stop", "/accounts", "/health"]:
        assert path in paths, path
    assert "requestBody" in paths["/bots/create"]["post"]
    assert "202" in paths["/bots/{key}/start"]["post"]["responses"]


def test_writes_are_throttled_with_the_error_shape_but_reads_are_not(api, account, monkeypatch, no_upstream):
    from bots.api.throttles import WriteThrottle

    monkeypatch.setattr(WriteThrottle, "THROTTLE_RATES", {"writes": "2/min"})
    statuses = [api.post("/bots/create", body(name="bad.name"), format="json").status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    refused = api.post("/bots/create", body(), format="json")
    assert refused.json()["error"]["code"] == "throttled"
    no_upstream.add("GET", f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/status", json={"status": "success", "data": {}})
    assert api.get("/bots").status_code == 200
    no_upstream.calls.reset()


def pretrade_answers(mock, base):
    """The pre-trade reads of a bitmart SHARP-USDT bot of client_sharp, shaped as docs/hummingbot-api.md §5, §12, §13."""
    mock.add("GET", f"{base}/connectors/", json=["binance", "bitmart"])
    mock.add("GET", f"{base}/accounts/client_sharp/credentials", json=["bitmart"])
    mock.add("POST", f"{base}/market-data/prices", json={"connector": "bitmart", "prices": {"SHARP-USDT": 0.005},
                                                          "timestamp": 1.0})
    mock.add("GET", f"{base}/connectors/bitmart/trading-rules", json={"SHARP-USDT": {
        "min_order_size": 10.0, "max_order_size": None, "min_price_increment": 0.000001,
        "min_base_amount_increment": 1.0, "min_quote_amount_increment": 0.000001, "min_notional_size": 0.1,
        "min_order_value": 0.1, "max_price_significant_digits": 8.0, "supports_limit_orders": True,
        "supports_market_orders": True, "buy_order_collateral_token": "USDT", "sell_order_collateral_token": "SHARP"}})
    mock.add("POST", f"{base}/portfolio/state", json={"client_sharp": {"bitmart": [
        {"token": "USDT", "units": 1000.0, "price": 1.0, "value": 1000.0, "available_units": 1000.0}]}})


def test_hummingbot_validation_refusal_is_shown_verbatim_and_nothing_is_deployed(api, account):
    from tests.contracts.recorded import record

    refusal = record("controllers-config-validate_bad")["body"]
    base = settings.HUMMINGBOT_API_URL
    with responses.RequestsMock() as mock:
        pretrade_answers(mock, base)
        mock.add("GET", f"{base}/bot-orchestration/status", json={"status": "success", "data": {}})
        mock.add("POST", f"{base}/controllers/configs/sharp_mm", status=201, json={"message": "saved"})
        mock.add("POST", f"{base}/controllers/generic/pmm_v1/config/validate", status=400, json=refusal)
        response = api.post("/bots/create", body(), format="json")
        paths = [c.request.url.split(base)[1] for c in mock.calls]
        assert paths[-1] == "/controllers/generic/pmm_v1/config/validate"
        sent = json.loads(mock.calls[paths.index("/controllers/configs/sharp_mm")].request.body)
    assert response.status_code == 502
    assert refusal["detail"] in response.json()["error"]["message"]
    bot = Bot.objects.get()
    assert bot.status == "error" and refusal["detail"] in bot.last_error and bot.hummingbot_name is None
    assert sent["controller_name"] == "pmm_v1" and sent["buy_spreads"] == ["0.005"]
    assert BotEvent.objects.get(action="create").ok is False


def test_accounts_are_created_upstream_and_listed(api, hummingbot):
    created = api.post("/accounts", {"name": "client_sharp", "label": "Sharp"}, format="json")
    assert created.status_code == 201 and created.json()["name"] == "client_sharp"
    assert "client_sharp" in hummingbot_accounts()
    assert [a["name"] for a in api.get("/accounts").json()["accounts"]] == ["client_sharp"]
    assert api.post("/accounts", {"name": "bad.name"}, format="json").status_code == 400


def hummingbot_accounts():
    from bots.hummingbot.client import get_client

    return get_client().list_accounts()


def test_credentials_are_forwarded_and_never_echoed(api, hummingbot, account):
    from bots.hummingbot.client import get_client

    get_client().add_account(account.name)
    keys = {"bitmart_api_key": "KEY-zzz-123", "bitmart_secret_key": "SEC-zzz-456", "bitmart_memo": "m"}
    response = api.post(f"/accounts/{account.name}/credentials/bitmart", {"credentials": keys}, format="json")
    assert response.status_code == 204 and response.content == b""
    assert "bitmart" in get_client()._call("GET", f"/accounts/{account.name}/credentials")
    missing = api.post(f"/accounts/{account.name}/credentials/bitmart", {"credentials": {"bitmart_api_key": "KEY-zzz-123"}},
                       format="json")
    assert missing.status_code == 502 and "KEY-zzz-123" not in missing.content.decode()
    assert not any("zzz" in e.detail for e in BotEvent.objects.all())


def test_a_bot_absent_within_the_window_is_kept_and_longer_is_not_found(api, account, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.VANISHED_AFTER_SECONDS = 60
    seed_bots(account, 1)
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/status", json={"status": "success", "data": {}})
        statuses = [status_after_sync(api) for _ in range(3)]  # many calls, no time
        Bot.objects.update(absent_since=timezone.now() - timedelta(seconds=61))
        statuses.append(status_after_sync(api))
    assert statuses == ["running", "running", "running", "not_found"]
    assert BotEvent.objects.filter(action="sync", bot__isnull=False).get().detail.endswith("now not_found")


def test_a_stop_hummingbot_never_confirms_ends_as_running_with_the_reason(api, account):
    from datetime import timedelta

    from django.utils import timezone

    names = seed_bots(account, 1)
    Bot.objects.update(status="stopping", updated_at=timezone.now() - timedelta(seconds=30))
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/status", json=status_payload(names))
        assert status_after_sync(api) == "stopping"  # still within the grace period
        Bot.objects.update(updated_at=timezone.now() - timedelta(minutes=3))
        services.bots_sync()
        bot = api.get("/bots").json()["bots"][0]
    assert bot["status"] == "running"
    assert bot["last_error"] == "Hummingbot did not confirm 'stopping' in time; it reports the bot running."
