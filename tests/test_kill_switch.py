"""The kill switch: a django-q2 task that stops every bot that may still trade, saves its progress bot by bot,
and reports per bot whether the next status read confirmed the stop."""
import pytest
import responses
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from bots import services
from bots.hummingbot.client import HummingbotClient, get_client
from bots.models import Account, Bot, BotEvent, KillSwitchRun
from bots.services import killswitch

pytestmark = pytest.mark.django_db

# Finding 8, verbatim: every status in which a bot may still trade.
MAY_TRADE = ["deploying", "starting", "running", "idle", "error", "not_found", "stopping"]


@pytest.fixture(autouse=True)
def waits(monkeypatch):
    """The task waits for the bots' next reports before its confirming read; here no real time passes."""
    waited = []
    monkeypatch.setattr(killswitch.time, "sleep", waited.append)
    return waited


@pytest.fixture
def stop_calls(monkeypatch):
    """Every stop-bot the client sends, by Hummingbot name (the call still goes to the sandbox)."""
    sent, real = [], HummingbotClient.stop_bot

    def spy(client, bot_name):
        sent.append(bot_name)
        return real(client, bot_name)

    monkeypatch.setattr(HummingbotClient, "stop_bot", spy)
    return sent


def deployed(hummingbot, account, name, status="running") -> Bot:
    """A bot of ours whose instance runs (and trades) in the sandbox."""
    hummingbot_name = hummingbot.state.spawn_bots(1, prefix=name, account=account.name)[0]
    return Bot.objects.create(name=name, hummingbot_name=hummingbot_name, account=account, strategy="spread",
                              connector="bitmart", trading_pair="SHARP-USDT", status=status)


def kill(user, account=None) -> KillSwitchRun:
    run = services.stop_all_request(account=account, user=user)  # Q_SYNC: the task runs inline
    run.refresh_from_db()
    return run


@pytest.mark.parametrize("status", MAY_TRADE)
def test_every_status_that_may_trade_gets_a_stop_with_order_cancellation(hummingbot, upstream_account, operator,
                                                                          stop_calls, status):
    bot = deployed(hummingbot, upstream_account, "one", status)
    # The task's first status read fails, so the row keeps the status under test when the stops are chosen.
    hummingbot.state.set_fault("GET", "/bot-orchestration/status$", "500", times=1)  # a 500 is not retried
    run = kill(operator)
    assert stop_calls == [bot.hummingbot_name]
    assert hummingbot.state.summary()["bots"][bot.hummingbot_name]["stop_requests"][0]["skip_order_cancellation"] is False
    assert run.state == "done" and run.results["one"] == {"sent": True, "error": "", "confirmed": True, "status": "stopped"}
    assert run.error.startswith("The status read before the stops failed")


@pytest.mark.parametrize("status", ["stopped", "archived"])
def test_stopped_and_archived_bots_get_no_stop(hummingbot, upstream_account, operator, stop_calls, status):
    bot = deployed(hummingbot, upstream_account, "one", status)
    hummingbot.state.stop_bot(bot.hummingbot_name, False, False)  # stopped upstream too
    run = kill(operator)
    assert stop_calls == []
    assert run.state == "done" and run.results == {}


def test_stopping_bots_the_last_status_read_confirmed_and_the_stop_is_confirmed(hummingbot, upstream_account, operator,
                                                                                 waits):
    bot = deployed(hummingbot, upstream_account, "one")
    run = kill(operator)
    assert run.results == {"one": {"sent": True, "error": "", "confirmed": True, "status": "stopped"}}
    assert Bot.objects.get(pk=bot.pk).status == "stopped"
    assert waits == [killswitch.CONFIRM_AFTER_SECONDS]


def test_a_bot_that_ignores_the_stop_is_reported_unconfirmed(hummingbot, upstream_account, operator, monkeypatch):
    deployed(hummingbot, upstream_account, "obeys")
    deaf = deployed(hummingbot, upstream_account, "deaf")
    halt = hummingbot.state._halt
    # Stop is fire-and-forget over MQTT (docs/hummingbot-api.md §2): the API says success, this bot keeps trading.
    monkeypatch.setattr(hummingbot.state, "_halt", lambda bot, now: bot.name == deaf.hummingbot_name or halt(bot, now))
    run = kill(operator)
    assert run.results["obeys"]["confirmed"] is True
    assert run.results["deaf"] == {"sent": True, "error": "", "confirmed": False, "status": "stopping"}
    assert Bot.objects.get(pk=deaf.pk).status == "stopping"  # later syncs resolve it after the pending grace
    summary = BotEvent.objects.get(action="stop_all")
    assert not summary.ok and "confirmed stopped 1 of 2" in summary.detail


def test_when_the_confirming_read_fails_no_stop_is_reported_confirmed(hummingbot, upstream_account, operator,
                                                                      monkeypatch):
    deployed(hummingbot, upstream_account, "one")
    monkeypatch.setattr(killswitch.time, "sleep",
                        lambda seconds: hummingbot.state.set_fault("GET", "/bot-orchestration/status$", "500"))
    run = kill(operator)
    assert run.results["one"]["sent"] is True and run.results["one"]["confirmed"] is None
    assert run.state == "done" and "The confirming status read failed" in run.error
    assert BotEvent.objects.get(action="stop_all").ok is False


def test_a_failing_stop_is_reported_and_the_other_bots_still_stop(hummingbot, upstream_account, operator):
    for name in ("a", "b", "c"):
        deployed(hummingbot, upstream_account, name)
    hummingbot.state.set_fault("POST", "/bot-orchestration/stop-bot$", "500", times=1)  # the first stop: bot a
    run = kill(operator)
    assert run.results["a"]["sent"] is False and "Hummingbot API failed" in run.results["a"]["error"]
    assert run.results["a"]["confirmed"] is False and run.results["a"]["status"] == "running"
    assert [run.results[name]["confirmed"] for name in "bc"] == [True, True]
    assert run.sent == 2 and run.confirmed == 2 and run.total == 3
    assert [(e.bot.name, e.ok) for e in BotEvent.objects.filter(action="stop").order_by("id")] == [
        ("a", False), ("b", True), ("c", True)]
    assert "stop sent to 2 of 3 bot(s)" in BotEvent.objects.get(action="stop_all").detail


def test_progress_is_saved_after_each_bot(hummingbot, upstream_account, operator, monkeypatch):
    for name in ("a", "b"):
        deployed(hummingbot, upstream_account, name)
    seen, real = [], HummingbotClient.stop_bot

    def stop_and_look(client, bot_name):
        seen.append({name: r["sent"] for name, r in KillSwitchRun.objects.get().results.items()})
        return real(client, bot_name)

    monkeypatch.setattr(HummingbotClient, "stop_bot", stop_and_look)
    kill(operator)
    assert seen == [{"a": None, "b": None}, {"a": True, "b": None}]


def test_an_instance_a_deploy_left_upstream_is_found_and_stopped(hummingbot, upstream_account, operator, stop_calls):
    Bot.objects.create(name="fresh", account=upstream_account, strategy="spread", connector="bitmart",
                       trading_pair="SHARP-USDT", status="deploying")
    instance = hummingbot.state.spawn_bots(1, prefix="fresh", account=upstream_account.name)[0]  # its deploy did land
    run = kill(operator)
    assert stop_calls == [instance]
    holder = Bot.objects.get(hummingbot_name=instance)
    assert run.results[holder.name]["confirmed"] is True
    for name, result in run.results.items():
        if Bot.objects.get(name=name).hummingbot_name is None:  # nothing to send a stop to: never reported as stopped
            assert result["sent"] is False and "No Hummingbot instance" in result["error"]
            assert BotEvent.objects.get(bot__name=name, action="stop").ok is False


def test_the_account_kill_switch_stops_only_that_accounts_bots(hummingbot, upstream_account, operator, stop_calls):
    mine = deployed(hummingbot, upstream_account, "mine")
    get_client().add_account("client_other")
    theirs = deployed(hummingbot, Account.objects.create(name="client_other"), "theirs")
    run = kill(operator, account=upstream_account)
    assert stop_calls == [mine.hummingbot_name]
    assert list(run.results) == ["mine"] and run.account == upstream_account
    assert Bot.objects.get(pk=theirs.pk).status == "running"


def test_a_run_cut_off_by_the_worker_timeout_says_so(panel, hummingbot, upstream_account, operator, monkeypatch):
    from django_q.exceptions import TimeoutException

    deployed(hummingbot, upstream_account, "one")

    def timed_out(**kwargs):
        raise TimeoutException("Task exceeded maximum timeout value (120 seconds)")

    monkeypatch.setattr(killswitch, "bot_stop", timed_out)
    run = KillSwitchRun.objects.create(actor="desk")
    with pytest.raises(TimeoutException):
        services.stop_all_run(run.pk)
    run.refresh_from_db()
    assert run.state == "failed" and "timeout" in run.error
    assert run.results["one"]["sent"] is None
    assert BotEvent.objects.get(action="stop_all").ok is False
    page = panel.get(reverse("admin:bots_killswitchrun_change", args=[run.pk])).content.decode()
    assert "not reached" in page and 'http-equiv="refresh"' not in page


# --- the admin: the request only queues the run; a django-q2 worker does the stopping ---


def test_admin_kill_switch_queues_a_run_and_shows_its_progress_without_calling_hummingbot(
        panel, hummingbot, upstream_account, orm_queue, stop_calls):
    deployed(hummingbot, upstream_account, "one")
    url = reverse("admin:bots_bot_stop_all")
    assert "Stop EVERY bot that may trade" in panel.get(url).content.decode()
    with responses.RequestsMock() as upstream:  # records any HTTP call the request would make
        response = panel.post(url)
        assert len(upstream.calls) == 0
    run = KillSwitchRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:bots_killswitchrun_change", args=[run.pk])
    assert run.state == "queued" and run.actor == "desk" and run.task_id
    queued = panel.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in queued and "waiting for a django-q2 worker" in queued

    orm_queue()  # a django-q2 worker picks the run up
    run.refresh_from_db()
    assert stop_calls == [Bot.objects.get(name="one").hummingbot_name]
    assert run.state == "done" and run.results["one"]["confirmed"] is True
    page = panel.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in page and "confirmed stopped" in page


def test_admin_account_kill_switch_asks_first_then_queues_a_run_for_that_account(panel, hummingbot, upstream_account,
                                                                                stop_calls):
    deployed(hummingbot, upstream_account, "one")
    changelist = reverse("admin:bots_account_changelist")
    data = {"action": "stop_all_bots", "_selected_action": [upstream_account.pk]}
    asked = panel.post(changelist, data).content.decode()
    assert "Stop every bot that may trade, of 1 account(s)?" in asked and "<li>client_sharp</li>" in asked
    assert stop_calls == [] and not KillSwitchRun.objects.exists()
    response = panel.post(changelist, {**data, "confirmed": "yes"})
    run = KillSwitchRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:bots_killswitchrun_change", args=[run.pk])
    assert run.account == upstream_account and run.results["one"]["confirmed"] is True


def test_the_kill_switch_needs_csrf_and_the_change_permission(django_user_model, operator, account):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(operator)
    assert strict.post(reverse("admin:bots_bot_stop_all")).status_code == 403
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__in=["view_bot", "view_killswitchrun"]))
    client = Client()
    client.force_login(viewer)
    assert client.post(reverse("admin:bots_bot_stop_all")).status_code == 403
    assert not KillSwitchRun.objects.exists()


def test_a_run_handed_out_twice_stops_once(hummingbot, upstream_account, operator, stop_calls):
    deployed(hummingbot, upstream_account, "one")
    run = kill(operator)
    assert services.stop_all_run(run.pk) == {"skipped": f"kill switch #{run.pk} is not queued"}
    assert len(stop_calls) == 1 and BotEvent.objects.filter(action="stop_all").count() == 1


# --- in sight: on the bot list, for whoever may stop bots, with its last run ---


def test_the_bot_list_shows_the_kill_switch_and_its_last_run_to_who_may_stop_bots(panel, operator, account):
    changelist = reverse("admin:bots_bot_changelist")
    page = panel.get(changelist).content.decode()
    assert f'<a href="{reverse("admin:bots_bot_stop_all")}"' in page and "Stop all bots…" in page
    assert "Kill switch: never pressed" in page
    run = KillSwitchRun.objects.create(requested_by=operator, actor="desk", state="done", results={
        "one": {"sent": True, "error": "", "confirmed": True, "status": "stopped"},
        "two": {"sent": True, "error": "", "confirmed": False, "status": "stopping"}})
    page = panel.get(changelist).content.decode()
    last_run = page.split("data-kill-switch-last-run")[1].split("</p>")[0]
    assert reverse("admin:bots_killswitchrun_change", args=[run.pk]) in last_run
    assert "by desk" in last_run and "done: stop sent to 2 of 2 bot(s), confirmed stopped 1 of 2" in last_run


def test_the_bot_list_shows_no_kill_switch_to_who_may_not_stop_bots(django_user_model, account):
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__in=["view_bot", "view_killswitchrun"]))
    client = Client()
    client.force_login(viewer)
    page = client.get(reverse("admin:bots_bot_changelist")).content.decode()
    assert "Stop all bots" not in page and "Kill switch" not in page and reverse("admin:bots_bot_stop_all") not in page
