"""GET /bots is served from the database, refreshed inline at most once per BOTS_SYNC_SECONDS whatever the
number of pollers, says how old it is, and answers 304 to an unchanged ETag."""
import json
from datetime import datetime, timedelta
from decimal import Decimal
from datetime import timezone as tz

import orjson
import pytest
import requests
import responses
from django.conf import settings
from rest_framework.test import APIClient

from bots import selectors
from bots.api.serializers import BotSerializer
from bots.models import Bot, SyncState
from tests.concurrency import at_once

STATUS_URL = "/bot-orchestration/status"
INTERVAL = 10


class Clock:
    """The bridge's clock (django.utils.timezone.now), moved by the test."""

    def __init__(self):
        self.now = datetime(2026, 11, 1, 12, 0, tzinfo=tz.utc)

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch, settings):
    settings.BOTS_SYNC_SECONDS = INTERVAL
    clock = Clock()
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock.now)
    return clock


@pytest.fixture
def upstream():
    """Hummingbot's status list with the seeded bots running; `upstream.calls` counts the status calls."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def seed_bots(account, count, **fields):
    Bot.objects.bulk_create(
        Bot(name=f"bot{i:04}", hummingbot_name=f"bot{i:04}-20260101-000000", account=account, strategy="spread",
            connector="bitmart", trading_pair="SHARP-USDT", status="running", **fields) for i in range(count)
    )
    return [f"bot{i:04}-20260101-000000" for i in range(count)]


def serve_statuses(mock, names):
    data = {n: {"status": "running", "performance": {"c": {"status": "running", "performance": {"volume_traded": 1}}},
                "error_logs": [], "general_logs": [], "recently_active": True, "source": "docker"} for n in names}
    mock.add("GET", f"{settings.HUMMINGBOT_API_URL}{STATUS_URL}", json={"status": "success", "data": data})


def status_calls(mock):
    return sum(STATUS_URL in call.request.url for call in mock.calls)


@pytest.mark.django_db
def test_pollers_within_the_interval_are_served_from_the_database_without_an_upstream_call(
        api, account, clock, upstream):
    serve_statuses(upstream, seed_bots(account, 3))
    for _ in range(5):
        assert api.get("/bots").status_code == 200
    assert status_calls(upstream) == 1
    clock.advance(INTERVAL - 1)
    api.get("/bots")
    assert status_calls(upstream) == 1
    clock.advance(1)
    api.get("/bots")
    assert status_calls(upstream) == 2


@pytest.mark.django_db
def test_a_recent_scheduled_sync_spares_the_list_its_upstream_call(api, account, clock, upstream):
    from bots import services

    serve_statuses(upstream, seed_bots(account, 3))
    services.bots_sync()
    clock.advance(INTERVAL - 1)
    api.get("/bots")
    assert status_calls(upstream) == 1


@pytest.mark.django_db
def test_list_says_how_old_it_is(api, account, clock, upstream):
    serve_statuses(upstream, seed_bots(account, 2))
    synced = clock.now
    api.get("/bots")
    clock.advance(4)
    listing = api.get("/bots").json()
    assert listing["synced_at"] == synced.isoformat().replace("+00:00", "Z")
    assert listing["age_seconds"] == 4
    assert {bot["synced_at"] for bot in listing["bots"]} == {listing["synced_at"]}
    assert "upstream" not in listing and not any(bot["stale"] for bot in listing["bots"])


@pytest.mark.django_db
def test_hummingbot_down_answers_200_stale_from_the_database_and_is_asked_once_per_interval(
        api, account, clock, upstream):
    seed_bots(account, 2)
    upstream.add("GET", f"{settings.HUMMINGBOT_API_URL}{STATUS_URL}", body=requests.ConnectionError("refused"))
    answers = [api.get("/bots")]
    one_attempt = status_calls(upstream)  # the client's own retries included
    answers += [api.get("/bots") for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert status_calls(upstream) == one_attempt
    for answer in answers:
        listing = answer.json()
        assert listing["upstream"]["ok"] is False and listing["upstream"]["code"] == "hummingbot_unreachable"
        assert [bot["status"] for bot in listing["bots"]] == ["running", "running"]  # the last known state
        assert all(bot["stale"] for bot in listing["bots"])
    clock.advance(INTERVAL)
    api.get("/bots")
    assert status_calls(upstream) == 2 * one_attempt


@pytest.mark.django_db
def test_unchanged_list_answers_304_to_its_etag_and_a_change_gives_a_new_one(api, account, clock, upstream):
    serve_statuses(upstream, seed_bots(account, 2))
    first = api.get("/bots")
    etag = first["ETag"]
    assert set(first["Cache-Control"].split(", ")) == {"private", "no-cache"}  # browsers revalidate every poll
    clock.advance(1)  # only the age moved
    again = api.get("/bots", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    Bot.objects.filter(name="bot0000").update(last_error="changed")
    changed = api.get("/bots", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["bots"][0]["last_error"] == "changed"


@pytest.mark.django_db
def test_a_new_sync_changes_the_etag(api, account, clock, upstream):
    serve_statuses(upstream, seed_bots(account, 2))
    etag = api.get("/bots")["ETag"]
    clock.advance(INTERVAL)
    assert api.get("/bots", HTTP_IF_NONE_MATCH=etag).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("count", [10, 1000])
def test_list_served_from_the_database_takes_at_most_three_queries_with_token_auth(
        account, clock, upstream, count, django_user_model, django_assert_max_num_queries):
    """Token (1 query), sync state (1), bots with their accounts (1); besides them the read throttle's one
    statement counting the request. A superuser: a permission check of a plain
    user adds Django's two permission queries (users and groups), which this view does not control."""
    from rest_framework.authtoken.models import Token

    serve_statuses(upstream, seed_bots(account, count))
    user = django_user_model.objects.create_superuser("frontend", password="pw-frontend-123")
    client = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    client.get("/bots")  # the inline refresh
    with django_assert_max_num_queries(3 + 1):
        listing = client.get("/bots").json()
    assert len(listing["bots"]) == count
    assert status_calls(upstream) == 1


@pytest.mark.django_db
def test_list_is_exactly_what_the_bot_serializer_renders(api, account, clock, upstream):
    from rest_framework.renderers import JSONRenderer

    seed_bots(account, 2, params={"order_amount": "1000", "buy_spreads_pct": [0.5, 1], "nested": {"é": None}},
              status_synced_at=clock.now, last_error="x")
    Bot.objects.create(name="adopted", hummingbot_name="adopted-1", strategy="external", status="stopped")
    Bot.objects.create(name="gone", account=account, strategy="volume", connector="jupiter/router",
                       trading_pair="SOL-USDC", status="archived")
    Bot.objects.filter(name="bot0001").update(status_synced_at=clock.now.replace(microsecond=123456),
                                              trades_synced_at=clock.now.replace(microsecond=120000),
                                              perf_net_pnl_quote=Decimal("-3.5350"), perf_volume_quote=Decimal("1E+3"),
                                              perf_read_at=clock.now.replace(microsecond=5))
    # Beyond SQLite's 15 significant digits and the columns' 18 places: the list reads them as Django does.
    Bot.objects.filter(name="bot0002").update(perf_net_pnl_quote=Decimal("0.000000000123456789012345"),
                                              perf_volume_quote=Decimal("12345678901234567.25"),
                                              perf_read_at=clock.now)
    upstream.add("GET", f"{settings.HUMMINGBOT_API_URL}{STATUS_URL}", status=500)
    for failed in (set(), {"default"}):
        expected = BotSerializer(selectors.bot_list(), many=True, context={"failed_servers": failed}).data
        rows = selectors.bot_list_rows(failed_servers=failed)
        assert json.loads(orjson.dumps(rows, option=orjson.OPT_UTC_Z)) == json.loads(JSONRenderer().render(expected))
    listed = api.get("/bots").json()["bots"]  # as rendered for the client (Hummingbot failing: its server failed)
    assert listed == json.loads(JSONRenderer().render(expected))


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_pollers_cause_one_status_call_per_interval(shared_clock, operator, monkeypatch, settings):
    settings.BOTS_SYNC_SECONDS = INTERVAL
    shared_clock.state.spawn_bots(5, prefix="poll")
    calls = []
    all_status = shared_clock.state.all_status
    monkeypatch.setattr(shared_clock.state, "all_status", lambda: calls.append(1) or all_status())

    def poll():
        client = APIClient(raise_request_exception=False)  # a crash is a 500 answer, as a browser sees it
        client.force_authenticate(operator)
        response = client.get("/bots")
        return response.status_code, len(response.json()["bots"])

    per_round = []
    for round_number in range(4):
        if round_number:
            shared_clock.advance(INTERVAL)
        before = len(calls)
        answers, errors = at_once(20, poll)
        assert not errors, errors
        assert {status for status, _ in answers} == {200}
        per_round.append(len(calls) - before)
    answers, errors = at_once(20, poll)  # no time passed: served from the database
    assert not errors and {answer for answer in answers} == {(200, 5)}
    assert per_round + [len(calls) - sum(per_round)] == [1, 1, 1, 1, 0]
    assert SyncState.objects.get().last_ok_at == datetime.fromtimestamp(shared_clock.state.now(), tz=tz.utc)


@pytest.mark.django_db(transaction=True)
def test_status_syncs_rewrite_bot_rows_in_place_on_postgresql(account, upstream):
    """Each sync writes every bot's row; on full pages every version would move, be indexed again and bloat the
    table the list reads until autovacuum comes (bots/migrations/0012). Syncs commit apart, as scheduled."""
    from django.db import connection

    from bots import services

    if connection.vendor != "postgresql":
        pytest.skip("SQLite rewrites a row in its page")
    serve_statuses(upstream, seed_bots(account, 200))

    def table_bytes():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_relation_size(%s::regclass)", [Bot._meta.db_table])
            return cursor.fetchone()[0]

    services.bots_sync()
    after_one = table_bytes()
    for _ in range(20):
        services.bots_sync()
    assert table_bytes() <= 1.5 * after_one
