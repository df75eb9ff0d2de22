"""Many Hummingbot servers behind one panel: every call goes to the bot's (or account's) server, statuses sync per
server, one server down marks only its bots stale while the other's actions still work. Two sandboxes."""
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bots import services
from bots.hummingbot.errors import HummingbotError
from bots.models import Account, Bot, HummingbotServer
from tests.conftest import SANDBOX_PASSWORD

pytestmark = pytest.mark.django_db

SPREAD = {"order_amount": "1000", "budget_quote": "500", "buy_spreads_pct": [0.5], "sell_spreads_pct": [0.5]}


def account_on(server, name):
    return services.account_create(name=name, server=server)


def spread_bot(account, name):
    services.account_add_credentials(account=account, connector="bitmart", fields={
        "bitmart_api_key": "k", "bitmart_secret_key": "s", "bitmart_memo": "m"})
    return services.bot_create(name=name, account=account, strategy="spread", connector="bitmart",
                               trading_pair="SHARP-USDT", params=SPREAD)


def upstream_names(sandbox):
    with sandbox.state.lock:
        return {name.rsplit("-", 2)[0] for name in sandbox.state.bots}


def strategy_state(sandbox, bot):
    with sandbox.state.lock:
        return sandbox.state.bots[bot.hummingbot_name].strategy


def kill(sandbox):
    """Every request refused, as by a killed server (the sandbox's stop() would leave the open keep-alive
    connections of the bridge's session served)."""
    sandbox.state.set_fault("*", "", "refuse")


@pytest.fixture
def bots_on_both(two_servers, hummingbot, hummingbot_b):
    default, b = two_servers
    on_a = spread_bot(account_on(default, "client_a"), "bot_a")
    on_b = spread_bot(account_on(b, "client_b"), "bot_b")
    services.bots_sync_all()
    return on_a, on_b


def test_an_account_and_its_bot_on_server_b_exist_only_in_sandbox_b(two_servers, hummingbot, hummingbot_b):
    _, b = two_servers
    bot = spread_bot(account_on(b, "client_b"), "bot_b")
    assert "client_b" in hummingbot_b.state.accounts and "client_b" not in hummingbot.state.accounts
    assert upstream_names(hummingbot_b) == {"bot_b"} and upstream_names(hummingbot) == set()
    assert bot.server == b

    services.bot_stop(bot=bot)
    assert strategy_state(hummingbot_b, bot) == "stopped"
    services.bots_sync(server=b)
    bot.refresh_from_db()
    services.bot_start(bot=bot)  # a container restart, in sandbox B
    assert strategy_state(hummingbot_b, bot) == "running"
    assert upstream_names(hummingbot) == set()


def test_the_api_creates_an_account_on_the_server_it_names(two_servers, api, hummingbot, hummingbot_b):
    response = api.post("/accounts", {"name": "client_b", "server": "b"}, format="json")
    assert response.status_code == 201 and response.json()["server"] == "b"
    assert "client_b" in hummingbot_b.state.accounts and "client_b" not in hummingbot.state.accounts
    refused = api.post("/accounts", {"name": "client_c", "server": "nope"}, format="json")
    assert refused.status_code == 400 and "server" in refused.json()["error"]["details"]


def test_server_b_down_marks_only_its_bots_stale_and_server_a_still_starts_and_stops(
        bots_on_both, api, hummingbot, hummingbot_b, settings):
    on_a, on_b = bots_on_both
    settings.BOTS_SYNC_SECONDS = 0  # every GET refreshes: the list reads both servers now
    kill(hummingbot_b)

    body = api.get("/bots").json()
    stale = {row["id"]: row["stale"] for row in body["bots"]}
    assert stale == {"bot_a": False, "bot_b": True}
    assert {row["id"]: row["server"] for row in body["bots"]} == {"bot_a": "default", "bot_b": "b"}
    assert body["upstream"]["ok"] is False and body["upstream"]["server"] == "b"
    assert body["servers"]["default"]["ok"] is True
    assert body["servers"]["b"]["ok"] is False and body["servers"]["b"]["code"] == "hummingbot_unreachable"

    assert api.post("/bots/bot_a/stop").status_code == 202
    assert strategy_state(hummingbot, on_a) == "stopped"
    services.bots_sync(server=on_a.server)
    assert api.post("/bots/bot_a/start").status_code == 202
    assert api.post("/bots/bot_b/stop").status_code == 503


def test_the_list_filters_by_server_in_three_queries(bots_on_both, settings, django_user_model):
    """Token (1), the servers with their sync states (1), the bots (1), besides the read throttle's one statement;
    a superuser, as in test_bots_list."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    settings.BOTS_SYNC_SECONDS = 3600
    user = django_user_model.objects.create_superuser("frontend", password="pw-frontend-123")
    api = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    with CaptureQueriesContext(connection) as queries:
        body = api.get("/bots?server=b").json()
    assert [row["id"] for row in body["bots"]] == ["bot_b"]
    assert len(queries) <= 3 + 1, [q["sql"] for q in queries]
    assert api.get("/bots?server=nope").status_code == 400


@pytest.mark.parametrize("name", ["%00", "b%00", "b.c", "%C2%B2"])
def test_a_server_filter_no_server_could_be_named_is_a_400(api, name):
    response = api.get(f"/bots?server={name}")
    assert response.status_code == 400 and "Unknown Hummingbot server" in response.json()["error"]["message"]


def test_bots_nobody_created_are_adopted_on_the_server_that_runs_them(two_servers, hummingbot, hummingbot_b):
    hummingbot.state.spawn_bots(1, prefix="stray_a")
    hummingbot_b.state.spawn_bots(2, prefix="stray_b")
    services.bots_sync_all()
    adopted = dict(Bot.objects.filter(strategy="external").values_list("name", "server__name"))
    assert sorted(adopted.values()) == ["b", "b", "default"]
    assert all(name.startswith("stray_b") for name, server in adopted.items() if server == "b")


def test_the_status_sync_of_one_server_leaves_the_other_servers_bots_alone(bots_on_both, hummingbot_b):
    on_a, on_b = bots_on_both
    kill(hummingbot_b)
    with pytest.raises(HummingbotError):
        services.bots_sync(server=on_b.server)
    services.bots_sync(server=on_a.server)
    assert Bot.objects.get(name="bot_b").absent_since is None  # not judged vanished from A's list


def test_the_scheduled_sync_runs_one_task_per_server(two_servers, orm_queue, hummingbot_b):
    from bots import tasks
    from django_q.models import OrmQ

    kill(hummingbot_b)
    tasks.sync_bots()
    queued = sorted(task.task["args"] for task in OrmQ.objects.all())
    assert queued == [("b",), ("default",)]
    orm_queue()
    from bots.models import SyncState

    states = {state.scope: bool(state.last_error) for state in SyncState.objects.all()}
    assert states == {"default": False, "b": True}


def test_trades_are_read_from_each_bots_own_server(bots_on_both, hummingbot, hummingbot_b):
    on_a, on_b = bots_on_both
    hummingbot.advance(120)
    hummingbot_b.advance(120)
    report = services.trades_sync()
    assert not report["failed"]
    with hummingbot_b.state.lock:
        assert hummingbot_b.state.bots[on_b.hummingbot_name].history_requests >= 1
    with hummingbot.state.lock:
        assert hummingbot.state.bots[on_a.hummingbot_name].history_requests >= 1


def test_check_hummingbot_prints_one_line_per_server_and_fails_when_one_is_down(two_servers, hummingbot_b, capsys):
    call_command("check_hummingbot")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0] for line in lines] == ["b", "default"]
    assert all("): OK: reachable, auth ok as admin" in line for line in lines)
    kill(hummingbot_b)
    with pytest.raises(CommandError) as err:
        call_command("check_hummingbot")
    b, default = capsys.readouterr().out.splitlines()
    assert "): NOT OK: Cannot reach" in b and "): OK" in default
    assert str(err.value).startswith("NOT OK: b: Cannot reach")
    assert SANDBOX_PASSWORD not in b + default


def test_check_names_the_missing_password_variable(two_servers, monkeypatch, capsys):
    monkeypatch.delenv("HUMMINGBOT_SERVER_B_PASSWORD")
    with pytest.raises(CommandError):
        call_command("check_hummingbot")
    assert "HUMMINGBOT_SERVER_B_PASSWORD" in capsys.readouterr().out


def test_health_reports_each_server(two_servers, hummingbot_b, admin_client):
    body = admin_client.get("/health").json()
    assert body["hummingbot"]["ok"] is True
    assert set(body["hummingbot"]["servers"]) == {"default", "b"}
    kill(hummingbot_b)
    from django.core.cache import cache

    cache.clear()
    response = admin_client.get("/health")
    assert response.status_code == 503
    assert response.json()["hummingbot"]["servers"]["b"]["ok"] is False
    assert response.json()["hummingbot"]["servers"]["default"]["ok"] is True


def test_the_password_is_never_stored_nor_shown(bots_on_both, two_servers, api, admin_client, capsys):
    _, b = two_servers
    call_command("dumpdata", "bots")
    assert SANDBOX_PASSWORD not in capsys.readouterr().out
    page = admin_client.get(f"/admin/bots/hummingbotserver/{b.pk}/change/").content.decode()
    assert "HUMMINGBOT_SERVER_B_PASSWORD" in page and SANDBOX_PASSWORD not in page
    assert SANDBOX_PASSWORD not in admin_client.get("/admin/bots/hummingbotserver/").content.decode()
    accounts = api.get("/accounts").json()["accounts"]
    assert {a["name"]: a["server"] for a in accounts} == {"client_a": "default", "client_b": "b"}


def test_accounts_made_without_a_server_belong_to_the_default_one(db):
    account = Account.objects.create(name="plain")
    assert account.server.name == "default" and account.server.url == ""


@pytest.mark.django_db(transaction=True)
def test_the_migration_attaches_existing_accounts_bots_and_sync_state_to_the_default_server():
    from django.db.migrations.executor import MigrationExecutor

    from bots.models import SyncState

    before = [("bots", "0008_sync_state")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    account = old.get_model("bots", "Account").objects.create(name="old_client")
    old.get_model("bots", "Bot").objects.create(name="old_bot", account_id=account.pk, strategy="spread")
    old.get_model("bots", "SyncState").objects.create(scope="statuses")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    default = HummingbotServer.objects.get(name="default")
    assert (default.url, default.password_variable) == ("", "HUMMINGBOT_API_PASSWORD")
    assert Account.objects.get(name="old_client").server == default
    assert Bot.objects.get(name="old_bot").server == default
    assert SyncState.objects.filter(scope="default").exists()


def test_the_sync_button_of_a_bot_on_server_b_reads_sandbox_b(bots_on_both, panel, hummingbot_b):
    from django.urls import reverse

    _, on_b = bots_on_both
    services.bot_stop(bot=on_b)
    panel.post(reverse("admin:bots_bot_action", args=[on_b.pk, "sync"]))
    on_b.refresh_from_db()
    assert on_b.status == "stopped"


def test_errors_of_a_server_name_its_own_settings_and_never_the_credentials_in_its_url(monkeypatch):
    import socket

    from bots.hummingbot.client import get_client

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("HUMMINGBOT_SERVER_C_PASSWORD", "pw-of-c")
    server = HummingbotServer.objects.create(name="c", url=f"http://admin:url-secret@127.0.0.1:{port}",
                                             username="admin")
    with pytest.raises(HummingbotError) as refused:
        get_client(server).bots_status()
    message = refused.value.message
    assert "the URL of Hummingbot server 'c'" in message and f"127.0.0.1:{port}" in message
    assert "HUMMINGBOT_API_URL" not in message and "url-secret" not in message and "pw-of-c" not in message


def test_the_banner_shows_each_server_down_until_that_one_recovers(two_servers, hummingbot, hummingbot_b, panel,
                                                                   settings):
    from django.urls import reverse

    def banner():
        return [line for line in panel.get(reverse("admin:index")).content.decode().splitlines()
                if "unreachable since" in line]

    kill(hummingbot_b)
    attempts = settings.HUMMINGBOT_RETRIES + 1  # one sync's worth of refusals
    hummingbot.state.set_fault("GET", "/bot-orchestration/status", "refuse", times=attempts)
    assert all(isinstance(report, HummingbotError) for report in services.bots_sync_all().values())
    shown = "".join(banner())
    assert "default: " in shown and "b: " in shown
    services.bots_sync_all()  # default answers again, b is still down
    shown = "".join(banner())
    assert "b: " in shown and "default: " not in shown


def test_the_overview_shows_every_server_and_the_balances_of_those_that_answer(two_servers, hummingbot, hummingbot_b,
                                                                             panel, settings):
    from django.urls import reverse

    settings.HUMMINGBOT_RETRIES = 0
    default, b = two_servers
    account_on(default, "client_a")
    account_on(b, "client_b")
    hummingbot.state.portfolio.set_balance("client_a", "bitmart", "USDT", units=50, available=40)
    hummingbot_b.state.portfolio.set_balance("client_b", "bitmart", "USDT", units=70, available=70)
    page = panel.get(reverse("admin:index"))
    assert [(server.name, reachable["ok"]) for server, reachable in page.context["hummingbots"]] == [
        ("b", True), ("default", True)]
    assert [account for account, _ in page.context["balances"]] == ["client_a", "client_b"]

    kill(hummingbot_b)
    from django.core.cache import cache

    cache.clear()  # the reachability and the portfolio are kept for a while
    page = panel.get(reverse("admin:index"))
    assert [(server.name, reachable["ok"]) for server, reachable in page.context["hummingbots"]] == [
        ("b", False), ("default", True)]
    assert [account for account, _ in page.context["balances"]] == ["client_a"]
    assert "Balances not read from b: Hummingbot is unreachable." in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_migration_drops_chosen_password_variables_and_names_each_rename(capsys):
    """Issue 15: the password variable is derived from the name; an operator is told which variable to rename."""
    from django.db.migrations.executor import MigrationExecutor

    before = [("bots", "0012_bot_rows_updated_in_place")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("bots", "HummingbotServer")
    old.objects.get_or_create(name="default")
    old.objects.create(name="eu-2", url="http://10.0.0.2:8000", username="admin", password_env="HB_EU2_PASSWORD")
    old.objects.create(name="asia", url="http://10.0.0.3:8000", username="admin",
                       password_env="HUMMINGBOT_SERVER_ASIA_PASSWORD")
    clash = old.objects.create(name="EU_2", url="http://10.0.0.4:8000", username="admin", password_env="HB_EU2_B")
    executor = MigrationExecutor(connection)
    with pytest.raises(RuntimeError, match=r"rename all but one of each .*\['EU_2', 'eu-2'\]"):
        executor.migrate(executor.loader.graph.leaf_nodes())
    clash.delete()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    out = capsys.readouterr().out
    assert "Hummingbot server 'eu-2': rename HB_EU2_PASSWORD to HUMMINGBOT_SERVER_EU_2_PASSWORD" in out
    assert "asia" not in out and "'default'" not in out  # already the derived name / HUMMINGBOT_API_PASSWORD
    assert [f.name for f in HummingbotServer._meta.concrete_fields] == ["id", "name", "url", "username"]
    assert HummingbotServer.objects.get(name="eu-2").password_variable == "HUMMINGBOT_SERVER_EU_2_PASSWORD"


@pytest.mark.django_db(transaction=True)
def test_check_hummingbot_before_migrate_checks_the_environments_server(hummingbot, capsys):
    """README order: `check_hummingbot` (step 3) before `migrate` (step 4) works from HUMMINGBOT_API_* alone."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("bots", None)])
    try:
        call_command("check_hummingbot")
        lines = capsys.readouterr().out.splitlines()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert len(lines) == 2
    assert "run `python manage.py migrate`" in lines[0] and "HUMMINGBOT_API_*" in lines[0]
    assert lines[1].startswith(f"default ({hummingbot.url}): OK: reachable, auth ok as admin")
