"""GET /bots names its content by a version the database keeps (bots/list_version.py): an unchanged list answers
304 after reading that number, without building a row, and every write to what the list shows moves it, whichever
path makes the write (issue 18)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from bots import selectors, services
from bots.hummingbot.errors import HummingbotError
from bots.models import (
    Account,
    Bot,
    BotEvent,
    BotListVersion,
    HummingbotServer,
    SyncState,
    ThrottleCount,
    Trade,
)
from tests.test_bots_list import clock, seed_bots, serve_statuses, upstream  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

SPREAD = {"order_amount": "1000", "budget_quote": "500", "buy_spreads_pct": [0.5, 1], "sell_spreads_pct": [0.5, 1]}


def list_queries(queries) -> list[str]:
    """The list's own statements: the read throttle's count (bots/api/throttles.py) is every API read's."""
    return [query["sql"] for query in queries if ThrottleCount._meta.db_table not in query["sql"]]


@pytest.mark.parametrize("count", [10, 1000])
def test_an_unchanged_list_answers_304_after_one_query_without_building_rows(
        account, clock, upstream, count, django_user_model, monkeypatch):  # noqa: F811
    from rest_framework.authtoken.models import Token

    serve_statuses(upstream, seed_bots(account, count))
    user = django_user_model.objects.create_superuser("frontend", password="pw-frontend-123")
    client = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    etag = client.get("/bots")["ETag"]  # the inline refresh
    clock.advance(1)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a 304 builds no rows")

    monkeypatch.setattr(selectors, "bot_list_rows", must_not_run)
    monkeypatch.setattr(selectors, "bots_listing", must_not_run)
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/bots", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    # The token, then the servers with their sync states and the list's version, in one query.
    assert len(list_queries(queries)) == 2, list_queries(queries)


def test_a_version_this_process_rendered_is_answered_without_building_rows_again(
        api, account, clock, upstream, monkeypatch):  # noqa: F811
    """A client without the ETag (a new one, a page's first load) between two syncs gets the same bytes, its age
    brought up to date."""
    serve_statuses(upstream, seed_bots(account, 3))
    first = api.get("/bots")
    clock.advance(5)

    def must_not_run(*args, **kwargs):
        raise AssertionError("this version was rendered already")

    monkeypatch.setattr(selectors, "bot_list_rows", must_not_run)
    again = api.get("/bots")
    assert again.status_code == 200 and again["ETag"] == first["ETag"]
    assert again.json() == {**first.json(), "age_seconds": first.json()["age_seconds"] + 5}


def test_a_version_is_never_named_twice_not_even_after_a_rolled_back_write(api, account, clock, upstream):  # noqa: F811
    """A count would go back with the rollback and name the next write's list as it named the rolled-back one's: the
    ETag and the rendered list of a content that never was."""
    from django.db import transaction

    serve_statuses(upstream, seed_bots(account, 1))
    api.get("/bots")

    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        Bot.objects.create(name="ghost", account=account, strategy="spread", status="stopped")
        ghost = api.get("/bots")
        raise RolledBack
    Bot.objects.create(name="real", account=account, strategy="spread", status="stopped")
    real = api.get("/bots")
    assert real["ETag"] != ghost["ETag"]
    assert [bot["name"] for bot in real.json()["bots"]] == ["bot0000", "real"]


def test_the_etag_names_the_server_asked_for(api, account, clock, upstream):  # noqa: F811
    serve_statuses(upstream, seed_bots(account, 2))
    etag = api.get("/bots")["ETag"]
    assert api.get("/bots?server=default", HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert api.get("/bots", HTTP_IF_NONE_MATCH=etag).status_code == 304


def etag_moved_by(api, write) -> bool:
    """Whether `write` moves the list's ETag. Checks first that nothing else moves it meanwhile (no inline refresh
    is due: the clock stands still unless the write moves it and syncs itself)."""
    etag = api.get("/bots")["ETag"]
    assert api.get("/bots", HTTP_IF_NONE_MATCH=etag).status_code == 304
    write()
    answer = api.get("/bots", HTTP_IF_NONE_MATCH=etag)
    assert answer.status_code in (200, 304)
    return answer.status_code == 200


def test_every_write_to_what_the_list_shows_moves_its_etag(api, shared_clock, upstream_account, operator):
    """Through the API and the services against the sandbox, and through the ORM paths that skip `updated_at`."""
    from django.conf import settings

    hummingbot = shared_clock
    name = "sharp_bot"

    def create():
        created = api.post("/bots/create", {"name": name, "account": "client_sharp", "strategy": "spread",
                                            "connector": "bitmart", "pair": "SHARP-USDT", "params": SPREAD},
                           format="json")
        assert created.status_code == 201, created.json()

    def sync():
        services.bots_sync()

    def sync_after(seconds):
        def moved_then_synced():
            hummingbot.advance(seconds)
            services.bots_sync()
        return moved_then_synced

    def stop():
        assert api.post(f"/bots/{name}/stop").status_code == 202

    def start():
        assert api.post(f"/bots/{name}/start").status_code == 202

    def change_params():
        response = api.patch(f"/bots/{name}", {"config": {"buy_spreads_pct": [0.3]}}, format="json")
        assert response.status_code == 200, response.json()

    def read_trades():
        hummingbot.advance(1)  # the start read them at this very time: a later read writes a later time
        services.trades_sync(bot_names=[name])

    def adopt():
        hummingbot.state.spawn_bots(1, prefix="stranger")
        assert services.bots_sync()["adopted"] == 1

    def server_fails():
        hummingbot.state.set_fault("GET", "/bot-orchestration/status", "500")
        with pytest.raises(HummingbotError):
            services.bots_sync()
        hummingbot.state.clear_faults()

    def kill_switch():
        services.stop_all_request(account=upstream_account, user=operator)  # Q_SYNC: the run is done inline

    def archive():
        assert api.delete(f"/bots/{name}").status_code == 202

    steps = [
        ("create", create), ("sync: running", sync), ("stop", stop), ("sync: stopped", sync), ("start", start),
        ("sync: running again", sync), ("params change", change_params), ("trades read", read_trades),
        ("adoption", adopt), ("a server's sync fails", server_fails), ("sync: recovered", sync),
        ("kill switch", kill_switch), ("archive", archive),
        ("sync: archive done upstream", sync_after(60)),
        ("sync: archived", sync_after(settings.VANISHED_AFTER_SECONDS)),
        # Writes no service makes, or that skip the auto_now `updated_at`: the database sees them all the same.
        ("bulk update without updated_at", lambda: Bot.objects.filter(name=name).update(last_error="noted")),
        ("account renamed", lambda: Account.objects.filter(pk=upstream_account.pk).update(name="client_renamed")),
        ("server edited", lambda: HummingbotServer.objects.filter(name="default").update(username="admin")),
        ("sync state written", lambda: SyncState.objects.update(last_error_code="x")),
        ("bot deleted", lambda: Bot.objects.filter(strategy="external").delete()),
    ]
    unmoved = [label for label, write in steps if not etag_moved_by(api, write)]
    assert unmoved == [], unmoved
    assert Bot.objects.get(name=name).status == "archived"


def test_writes_the_list_does_not_show_keep_its_304(api, account, clock, upstream):  # noqa: F811
    serve_statuses(upstream, seed_bots(account, 2))
    bot = Bot.objects.first()

    def audit_and_ledger():
        BotEvent.objects.create(bot=bot, actor="desk", action="note", ok=True)
        Trade.objects.create(bot=bot, trade_id="T1", timestamp=clock.now, trading_pair="SHARP-USDT", side="buy",
                             price=1, amount=1)

    assert not etag_moved_by(api, audit_and_ledger)


def triggers_on(table: str) -> list[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table])
        return sorted(name for name, in cursor.fetchall())


def test_every_table_the_list_reads_keeps_its_version():
    """A table the list comes to read (a join, a subquery) needs the triggers of bots/list_version.py in a migration,
    and on SQLite a migration that rebuilds a table drops its triggers: either shows here."""
    from django.apps import apps

    from bots.services.sync import _servers_and_states

    sql = " ".join(str(query.query) for query in (selectors._bot_rows(None), _servers_and_states(None)))
    read = {model._meta.db_table for model in apps.get_models() if f'"{model._meta.db_table}"' in sql}
    read.discard(BotListVersion._meta.db_table)
    assert read == {"bots_bot", "bots_account", "bots_hummingbotserver", "bots_syncstate"}
    expected = 3 if connection.vendor == "sqlite" else 1  # SQLite: one per event, for each row; PostgreSQL: one
    assert {table: len(triggers_on(table)) for table in read} == {table: expected for table in read}
