"""Each alert rule, evaluated where the truth arrives (status sync, trade sync, kill switch), against the sandbox or
captured Hummingbot answers: opened once per (rule, subject), left alone while it holds, resolved when it clears."""
import copy

import pytest
import responses
from django.conf import settings as django_settings
from django.core.cache import cache

from bots import services, strategies
from bots.hummingbot.errors import HummingbotError
from bots.models import Alert, Bot, BotEvent
from bots.services import killswitch
from tests.contracts.recorded import record

pytestmark = pytest.mark.django_db
SPREAD = {"order_amount": "100", "budget_quote": "500"}


def running_bot(account, name="sharp_mm", **params) -> Bot:
    """A spread bot created here, deployed in the sandbox and seen running by a status sync."""
    bot = services.bot_create(name=name, account=account, strategy="spread", connector="bitmart",
                              trading_pair="SHARP-USDT", params={**SPREAD, **params},
                              confirm=True)  # the pre-trade warnings are another test's concern
    cache.clear()  # nor the balances those checks read and keep: the panel's reads keep them here
    services.bots_sync()
    bot.refresh_from_db()
    assert bot.status == "running"
    return bot


def open_alerts() -> list[tuple[str, str]]:
    return sorted(Alert.objects.filter(resolved_at=None).values_list("rule", "subject"))


def test_a_bot_that_vanishes_raises_one_critical_alert_resolved_when_it_runs_again(shared_clock, upstream_account):
    hummingbot = shared_clock
    bot = running_bot(upstream_account)
    hummingbot.state.stop_container(bot.hummingbot_name)
    hummingbot.advance(10)  # past the MQTT linger: no longer listed
    services.bots_sync()
    assert open_alerts() == []  # absence is judged over time: the list blinks
    hummingbot.advance(61)
    services.bots_sync()
    assert open_alerts() == [("bot_down", "bot sharp_mm")]
    alert = Alert.objects.get()
    assert alert.severity == "critical" and alert.message.startswith("Bot sharp_mm (client_sharp on default) is not_found")
    assert alert.bot == bot and alert.server.name == "default" and alert.account == upstream_account
    services.bots_sync()
    assert Alert.objects.count() == 1
    hummingbot.state.start_container(bot.hummingbot_name)
    services.bots_sync()
    alert.refresh_from_db()
    assert alert.state == "resolved" and alert.resolution == "Bot sharp_mm is now running."
    assert [e.detail.split(":")[0] for e in BotEvent.objects.filter(bot=bot, action="alert").order_by("id")] == [
        "alert opened", "alert resolved"]


def test_a_lost_deploy_warns_then_is_critical_in_error_when_no_instance_appeared(shared_clock, upstream_account):
    hummingbot = shared_clock
    hummingbot.state.set_fault("POST", "/bot-orchestration/deploy-v2-controllers", "nonjson", times=1)
    with pytest.raises(HummingbotError):  # an unreadable answer: the deploy may have happened
        services.bot_create(name="lost", account=upstream_account, strategy="spread", connector="bitmart",
                            trading_pair="SHARP-USDT", params=SPREAD)
    services.bots_sync()
    assert open_alerts() == []  # no longer than a deploy call can last
    hummingbot.advance(django_settings.HUMMINGBOT_TIMEOUT + 1)
    services.bots_sync()
    assert open_alerts() == [("deploy_unknown", "bot lost")]
    assert Alert.objects.get().severity == "warning"
    assert "the answer to its deploy was lost" in Alert.objects.get().message
    hummingbot.advance(120)  # the pending grace: no instance appeared
    services.bots_sync()
    assert open_alerts() == [("bot_down", "bot lost")]
    assert "deploy did not happen" in Alert.objects.get(rule="bot_down").message
    assert Alert.objects.get(rule="deploy_unknown").resolution == "Bot lost is now error."


def test_a_lost_deploy_whose_instance_is_found_resolves(shared_clock, upstream_account):
    hummingbot = shared_clock
    hummingbot.state.set_fault("POST", "/bot-orchestration/deploy-v2-controllers", "nonjson", times=1)
    with pytest.raises(HummingbotError):
        services.bot_create(name="lost", account=upstream_account, strategy="spread", connector="bitmart",
                            trading_pair="SHARP-USDT", params=SPREAD)
    hummingbot.advance(django_settings.HUMMINGBOT_TIMEOUT + 1)
    services.bots_sync()
    assert open_alerts() == [("deploy_unknown", "bot lost")]
    hummingbot.state.deploy("lost", "client_sharp", ["lost"], "hummingbot/hummingbot:version-2.16.0", True, {})
    services.bots_sync()
    assert open_alerts() == []
    assert Alert.objects.get().resolution.startswith("Bot lost is now")


def test_a_stop_nobody_asked_for_raises_an_alert_and_a_stop_from_here_does_not(hummingbot, upstream_account):
    asked = running_bot(upstream_account, "asked")
    unasked = running_bot(upstream_account, "unasked")
    services.bot_stop(bot=asked)
    services.bot_archive(bot=running_bot(upstream_account, "archived_here"))
    # What Hummingbot's max-loss limit does: the bot stops on its own (docs/hummingbot-api.md §2).
    hummingbot.state.stop_bot(unasked.hummingbot_name, False, False)
    services.bots_sync()
    assert Bot.objects.get(name="asked").status == "stopped"
    assert open_alerts() == [("stopped_unasked", "bot unasked")]
    alert = Alert.objects.get()
    assert alert.severity == "critical" and "was running and Hummingbot now reports it stopped" in alert.message
    services.bots_sync()
    assert open_alerts() == [("stopped_unasked", "bot unasked")]  # still stopped: nothing new
    services.bot_start(bot=Bot.objects.get(name="unasked"))
    services.bots_sync()
    assert open_alerts() == []
    assert Alert.objects.get().resolution == "Bot unasked is now running."


def test_an_unreachable_server_raises_one_alert_for_all_its_bots_after_the_configured_minutes(shared_clock, settings):
    hummingbot = shared_clock
    settings.ALERT_SERVER_DOWN_MINUTES = 3
    hummingbot.state.spawn_bots(3, prefix="fleet")
    services.bots_sync()
    hummingbot.state.set_fault("GET", "/bot-orchestration/status", "refuse")
    for minutes in (0, 1, 2):
        hummingbot.advance(59)
        with pytest.raises(HummingbotError):
            services.bots_sync()
    assert open_alerts() == []  # 2 min 57 s without a good read
    hummingbot.advance(3)
    for _ in range(3):
        with pytest.raises(HummingbotError):
            services.bots_sync()
    assert open_alerts() == [("server_down", "server default")]
    alert = Alert.objects.get()
    assert alert.bot is None and alert.severity == "critical"
    assert alert.message.startswith("Hummingbot server default unreachable") and "its 3 bot(s)" in alert.message
    hummingbot.state.clear_faults()
    services.bots_sync()
    alert.refresh_from_db()
    assert alert.state == "resolved" and alert.resolution == "Hummingbot server default answers again."
    assert Alert.objects.count() == 1  # nothing said of the bots themselves


def test_a_running_bot_without_fills_for_its_minutes_raises_an_alert(shared_clock, upstream_account):
    hummingbot = shared_clock
    default = running_bot(upstream_account, "default_60")
    watched = running_bot(upstream_account, "watched_5", no_fill_alert_minutes=5)
    running_bot(upstream_account, "unwatched", no_fill_alert_minutes=0)
    hummingbot.advance(4 * 60)
    services.trades_sync()
    assert open_alerts() == []
    hummingbot.advance(2 * 60)
    services.trades_sync()
    assert open_alerts() == [("no_fill", "bot watched_5")]
    assert Alert.objects.get().severity == "warning"
    assert "no fill for 5 minutes (no fill since it started)" in Alert.objects.get().message
    hummingbot.state.inject_fills(watched.hummingbot_name, 1)
    services.trades_sync()
    assert open_alerts() == []
    assert Alert.objects.get().resolution.startswith("Bot watched_5 filled at ")
    hummingbot.advance(55 * 60)  # 61 minutes since the bots started, 55 since watched_5's fill
    services.trades_sync()
    assert open_alerts() == [("no_fill", f"bot {default.name}"), ("no_fill", "bot watched_5")]
    assert "its last fill was at " in Alert.objects.get(subject="bot watched_5", resolved_at=None).message
    hummingbot.state.set_fault("GET", f"/bot-orchestration/{default.hummingbot_name}/history", "500")
    services.bot_stop(bot=default)
    services.trades_sync()  # its fills could not be read: nothing is judged
    assert ("no_fill", "bot default_60") in open_alerts()
    hummingbot.state.clear_faults()
    services.trades_sync()
    assert ("no_fill", "bot default_60") not in open_alerts()


def test_the_no_fill_minutes_default_per_strategy_and_change_live_without_a_call_to_hummingbot(
        hummingbot, upstream_account):
    assert strategies.parse_params("spread", SPREAD).no_fill_alert_minutes == 60
    volume = {"total_amount_quote": "2000", "order_amount_quote": "20", "min_price": "0.004", "max_price": "0.006"}
    assert strategies.parse_params("volume", volume).no_fill_alert_minutes == 15
    bot = running_bot(upstream_account)
    calls = len(hummingbot.state.summary()["controller_configs"])
    services.bot_update_params(bot=bot, changes={"no_fill_alert_minutes": 10})
    assert Bot.objects.get(pk=bot.pk).params["no_fill_alert_minutes"] == 10
    assert BotEvent.objects.filter(action="params").get().detail.endswith("kept here (not a Hummingbot setting)")
    assert len(hummingbot.state.summary()["controller_configs"]) == calls


def pnl_status(net_pnl: float) -> dict:
    """The captured status answer of a running pmm bot, with its net PnL set (docs/hummingbot-api.md §2)."""
    body = copy.deepcopy(record("bot-orchestration-status_running")["body"])
    body["data"]["my-pmm-bot-20261125-184922"]["performance"]["pmm_btc_1"]["performance"]["global_pnl_quote"] = net_pnl
    return body


@pytest.mark.parametrize("net_pnl, alerted", [(-7.99, False), (-8.0, True), (-12.5, True), (3.0, False)])
def test_net_pnl_past_the_share_of_the_max_loss_raises_an_alert(account, settings, net_pnl, alerted):
    settings.ALERT_LOSS_SHARE_PCT = 80
    Bot.objects.create(name="pmm", hummingbot_name="my-pmm-bot-20261125-184922", account=account, strategy="spread",
                       connector="bitmart", trading_pair="BTC-USDT", status="running",
                       params=strategies.parse_params("spread", {**SPREAD, "max_loss_quote": "10"}).to_json())
    url = f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/status"
    with responses.RequestsMock() as mock:
        mock.add("GET", url, json=pnl_status(net_pnl))
        services.bots_sync()
        assert (("loss", "bot pmm") in open_alerts()) is alerted
        if alerted:
            assert f"net PnL {net_pnl} USDT is past 80% of its max loss 10 USDT" in Alert.objects.get(rule="loss").message
            mock.replace("GET", url, json=pnl_status(-5))
            services.bots_sync()
            assert Alert.objects.get(rule="loss").state == "resolved"


def test_the_list_refresh_leaves_the_pnl_rule_to_the_scheduled_sync(account, settings):
    """GET /bots syncs without loading params (its query budget): the loss rule is neither opened nor resolved."""
    Bot.objects.create(name="pmm", hummingbot_name="my-pmm-bot-20261125-184922", account=account, strategy="spread",
                       connector="bitmart", trading_pair="BTC-USDT", status="running",
                       params=strategies.parse_params("spread", {**SPREAD, "max_loss_quote": "10"}).to_json())
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/status", json=pnl_status(-9))
        services.bots_sync(store_details=False)
        assert open_alerts() == []
        services.bots_sync()
        assert open_alerts() == [("loss", "bot pmm")]
        services.bots_sync(store_details=False)
        assert open_alerts() == [("loss", "bot pmm")]


def test_live_budgets_above_the_available_balance_raise_an_alert_while_balances_are_kept(hummingbot, upstream_account):
    hummingbot.state.portfolio.set_balance("client_sharp", "bitmart", "USDT", units=1000, available=450)
    bot = running_bot(upstream_account, budget_quote="500")
    services.bots_sync()
    assert open_alerts() == []  # no balances kept: the sync never asks for them
    services.portfolio(server=bot.server)  # the panel reads them (account page, overview, bot form)
    services.bots_sync()
    assert open_alerts() == [("low_balance", "account client_sharp")]
    alert = Alert.objects.get()
    assert alert.account == upstream_account and alert.bot is None
    assert "bitmart USDT: 450 available, budgets 500" in alert.message
    services.bot_stop(bot=bot)
    services.bots_sync()
    assert Alert.objects.get().resolution == "Account client_sharp's available balances cover its live bots' budgets."


def test_a_kill_switch_run_that_left_bots_unconfirmed_stays_open_until_they_show_stopped(
        hummingbot, upstream_account, operator, monkeypatch):
    monkeypatch.setattr(killswitch.time, "sleep", lambda seconds: None)
    running_bot(upstream_account, "obeys")
    deaf = running_bot(upstream_account, "deaf")
    halt = hummingbot.state._halt
    # Stop is fire-and-forget over MQTT (docs/hummingbot-api.md §2): the API says success, this bot keeps trading.
    monkeypatch.setattr(hummingbot.state, "_halt", lambda bot, now: bot.name == deaf.hummingbot_name or halt(bot, now))
    run = services.stop_all_request(user=operator)
    assert open_alerts() == [("kill_switch", f"kill switch #{run.pk}")]
    alert = Alert.objects.get()
    assert alert.message == (f"Kill switch #{run.pk} (all accounts, pressed by desk) left 1 of 2 bot(s) unconfirmed: "
                             "deaf. Check those bots in Hummingbot.")
    services.bots_sync()
    assert open_alerts() == [("kill_switch", f"kill switch #{run.pk}")]
    monkeypatch.setattr(hummingbot.state, "_halt", halt)
    hummingbot.state.stop_bot(deaf.hummingbot_name, False, False)
    services.bots_sync()
    assert open_alerts() == []
    assert Alert.objects.get().resolution == "Every bot it left unconfirmed now shows stopped or archived."


def test_a_kill_switch_run_that_confirmed_every_bot_raises_nothing(hummingbot, upstream_account, operator, monkeypatch):
    monkeypatch.setattr(killswitch.time, "sleep", lambda seconds: None)
    running_bot(upstream_account, "obeys")
    services.stop_all_request(user=operator)
    assert open_alerts() == []


def test_one_open_alert_per_rule_and_subject_is_a_database_constraint(account):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    fields = {"rule": "bot_down", "subject": "bot x", "severity": "critical", "message": "m", "opened_at": timezone.now()}
    Alert.objects.create(**fields, resolved_at=timezone.now())
    Alert.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(**fields)
