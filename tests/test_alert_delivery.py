"""Alert notices delivered for real through Apprise (bots/channels.py), by the delivery task run through django-q2's
ORM broker, worker and monitor: json:// to an HTTP receiver and mailto:// to an SMTP server, both on 127.0.0.1."""
import pytest
from django.utils import timezone
from django_q.models import Failure
from django_q.tasks import async_task

from bots import channels, services
from bots.models import Alert, Bot
from tests.alert_receiver import JsonReceiver, SmtpReceiver

pytestmark = pytest.mark.django_db
SPREAD = {"order_amount": "100", "budget_quote": "500"}


@pytest.fixture
def second_receiver():
    received = JsonReceiver()
    yield received
    received.stop()


@pytest.fixture(autouse=True)
def through_the_orm_queue(orm_queue):
    """Tasks go through the real ORM broker, worker and monitor (as in qcluster), in this process."""


def stopped_behind_our_back(hummingbot, account, name="sharp_mm") -> Bot:
    """A running bot of ours that Hummingbot then stops on its own: the status sync opens a critical alert."""
    bot = services.bot_create(name=name, account=account, strategy="spread", connector="bitmart",
                              trading_pair="SHARP-USDT", params=SPREAD)
    services.bots_sync()
    hummingbot.state.stop_bot(bot.hummingbot_name, False, False)
    services.bots_sync()
    return bot


@pytest.fixture
def broker_on_real_time(monkeypatch):
    """With the shared fake clock the ORM broker would never hand out a task (it takes those queued before now, and
    now stands still): it keeps the real time; the bridge's code stays on the fake one."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    monkeypatch.setattr("django_q.brokers.orm.timezone", SimpleNamespace(now=lambda: datetime.now(UTC)))


def test_one_notice_reminders_while_unacknowledged_and_a_resolved_notice(
        shared_clock, broker_on_real_time, upstream_account, receiver, settings, operator, orm_queue):
    hummingbot = shared_clock
    settings.ALERT_URLS = receiver.url()
    settings.ALERT_RENOTIFY_MINUTES = 30
    bot = stopped_behind_our_back(hummingbot, upstream_account)
    orm_queue()
    [notice] = receiver.wait_for(1)
    assert notice["title"] == "[critical] Bot stopped without a request here: bot sharp_mm"
    assert notice["message"].startswith("Bot sharp_mm (client_sharp on default) was running") and notice["type"] == "failure"
    alert = Alert.objects.get()
    assert alert.notifications == 1 and alert.notified_at is not None and alert.notice_due == ""
    for _ in range(3):
        services.bots_sync()
        async_task("bots.tasks.alert_notices")
        orm_queue()
    assert len(receiver.items) == 1  # the condition holds: nothing new
    hummingbot.advance(30 * 60)
    async_task("bots.tasks.alert_notices")
    orm_queue()
    assert receiver.wait_for(2)[1]["title"] == "[critical] Still unacknowledged: Bot stopped without a request here: bot sharp_mm"
    services.alert_acknowledge(alert=alert, user=operator)
    hummingbot.advance(30 * 60)
    async_task("bots.tasks.alert_notices")
    orm_queue()
    assert len(receiver.items) == 2  # acknowledged: no more reminders
    services.bot_start(bot=Bot.objects.get(pk=bot.pk))
    services.bots_sync()
    orm_queue()
    resolved = receiver.wait_for(3)[2]
    assert resolved["title"] == "[resolved] Bot stopped without a request here: bot sharp_mm"
    assert resolved["message"].startswith("Bot sharp_mm is now running.") and resolved["type"] == "success"
    assert Alert.objects.get().notifications == 3


def test_a_failing_channel_is_recorded_shown_and_retried_to_that_channel_only(
        hummingbot, upstream_account, receiver, second_receiver, settings, orm_queue, admin_client):
    settings.ALERT_URLS = f"{receiver.url()}, {second_receiver.url('down')}"
    second_receiver.answer = 500
    stopped_behind_our_back(hummingbot, upstream_account)
    orm_queue()
    assert len(receiver.wait_for(1)) == 1
    alert = Alert.objects.get()
    shown = f"json://127.0.0.1:{second_receiver.port}"
    assert alert.delivery_error.startswith(f"opened notice not delivered: {shown}: ")
    assert "500" in alert.delivery_error and alert.delivery_failed_at is not None
    assert alert.notice_due == "opened" and alert.notifications == 0
    assert shown in Failure.objects.get(func="bots.tasks.deliver_alert").result  # the task's page shows it too
    page = admin_client.get("/admin/bots/alert/").content.decode()
    assert "Delivery failed" in page and shown in page
    second_receiver.answer = 200
    async_task("bots.tasks.alert_notices")  # the minute's schedule retries what is still due
    orm_queue()
    assert [item["path"] for item in second_receiver.wait_for(1)] == ["/down"]
    assert len(receiver.items) == 1  # the channel that had it does not get it twice
    alert.refresh_from_db()
    assert alert.delivery_error == "" and alert.notice_due == "" and alert.notifications == 1


def test_critical_only_channels_get_no_warning(shared_clock, broker_on_real_time, upstream_account, receiver, second_receiver, settings,
                                                orm_queue):
    hummingbot = shared_clock
    settings.ALERT_URLS = f"{receiver.url('all')} critical={second_receiver.url('critical')}"
    services.bot_create(name="quiet", account=upstream_account, strategy="spread", connector="bitmart",
                        trading_pair="SHARP-USDT", params={**SPREAD, "no_fill_alert_minutes": 5})
    services.bots_sync()
    hummingbot.advance(6 * 60)
    services.trades_sync()  # a warning: no fill
    stopped_behind_our_back(hummingbot, upstream_account, "stopped")  # a critical one
    orm_queue()
    assert sorted(item["title"] for item in receiver.wait_for(2)) == [
        "[critical] Bot stopped without a request here: bot stopped", "[warning] No fill: bot quiet"]
    assert [item["title"] for item in second_receiver.wait_for(1)] == [
        "[critical] Bot stopped without a request here: bot stopped"]
    assert len(second_receiver.items) == 1


def test_an_e_mail_reaches_a_local_smtp_server(hummingbot, upstream_account, settings, orm_queue):
    smtp = SmtpReceiver()
    try:
        settings.ALERT_URLS = f"mailto://127.0.0.1:{smtp.port}?from=bridge@example.com&to=desk@example.com&mode=insecure"
        stopped_behind_our_back(hummingbot, upstream_account)
        orm_queue()
        [mail] = smtp.wait_for(1)
    finally:
        smtp.stop()
    assert mail["to"] == ["desk@example.com"]
    assert mail["subject"] == "[critical] Bot stopped without a request here: bot sharp_mm"
    assert "Bot sharp_mm (client_sharp on default) was running" in mail["body"]


def test_without_channels_nothing_is_queued_and_the_notice_waits(hummingbot, upstream_account, settings, orm_queue):
    from django_q.brokers import get_broker

    settings.ALERT_URLS = ""
    stopped_behind_our_back(hummingbot, upstream_account)
    assert get_broker().queue_size() == 0
    assert Alert.objects.get().notice_due == "opened"  # sent once ALERT_URLS names a channel


def test_a_notice_handed_out_twice_is_sent_once(hummingbot, upstream_account, receiver, settings, orm_queue):
    settings.ALERT_URLS = receiver.url()
    stopped_behind_our_back(hummingbot, upstream_account)
    alert = Alert.objects.get()
    async_task("bots.tasks.deliver_alert", alert.pk)  # a second task for the same notice
    orm_queue()
    receiver.wait_for(1)
    assert len(receiver.items) == 1


def test_alert_urls_split_on_spaces_and_commas_and_keep_a_urls_own_commas(settings):
    settings.ALERT_URLS = ("json://127.0.0.1:9001/a, json://127.0.0.1:9002/b\n"
                           "mailto://127.0.0.1:25?from=bridge@example.com&to=a@example.com,b@example.com critical=tgram://123456:ABC/42")
    found = channels.configured()
    assert [channel.shown for channel in found] == [
        "json://127.0.0.1:9001", "json://127.0.0.1:9002", "mailto://127.0.0.1:25", "tgram://123456 (critical only)"]
    assert found[2].url.endswith("to=a@example.com,b@example.com")
    assert [channel.takes("warning") for channel in found] == [True, True, True, False]


def test_a_routing_prefix_that_is_no_severity_is_named_without_the_url(settings):
    settings.ALERT_URLS = "json://127.0.0.1:9/a loud=json://user:s3cret@127.0.0.1:9/b"
    with pytest.raises(channels.ConfigError) as raised:
        channels.configured()
    assert "entry 2" in str(raised.value) and "s3cret" not in str(raised.value)


def test_channels_are_shown_masked_and_their_tokens_stored_nowhere(hummingbot, upstream_account, settings, orm_queue,
                                                                    admin_client):
    from django.db import connection

    settings.ALERT_URLS = ("json://desk:s3cret-pass@127.0.0.1:9/hooks/tok3n-in-path "
                           "mailto://bridge:m4il-pass@127.0.0.1:9?from=bridge@example.com&to=desk@example.com&mode=insecure")
    stopped_behind_our_back(hummingbot, upstream_account)
    orm_queue()  # both fail: nothing listens on port 9
    page = admin_client.get("/admin/bots/alert/").content.decode()
    assert "json://127.0.0.1:9" in page and "mailto://127.0.0.1:9" in page
    secrets = ("s3cret-pass", "tok3n-in-path", "m4il-pass")
    stored = " ".join(str(row) for row in Alert.objects.values_list())
    with connection.cursor() as cursor:
        cursor.execute("SELECT result FROM django_q_task")
        stored += " ".join(str(row) for row in cursor.fetchall())
    assert "not delivered" in stored
    for secret in secrets:
        assert secret not in page and secret not in stored


def test_the_delivery_records_when_it_reached_the_channels(hummingbot, upstream_account, receiver, settings, orm_queue):
    settings.ALERT_URLS = receiver.url()
    before = timezone.now()
    stopped_behind_our_back(hummingbot, upstream_account)
    orm_queue()
    receiver.wait_for(1)
    alert = Alert.objects.get()
    assert before <= alert.opened_at <= alert.notified_at <= timezone.now()
