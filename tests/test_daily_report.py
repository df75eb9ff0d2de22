"""The daily desk report (issue 18): yesterday's (UTC) PnL, volume, fees and what needs attention per account,
delivered for real through Apprise to the alert channels by the django-q2 task (ORM broker, worker, monitor) once
per day, and the same figures as a CSV from the panel, money as plain decimals."""
import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import Failure, Schedule
from django_q.tasks import async_task

from bots import ledger
from bots.hummingbot.client import Fill
from bots.management.commands.setup_schedules import DAILY_REPORT
from bots.models import Account, Alert, Bot, DailyReport
from tests.alert_receiver import JsonReceiver

pytestmark = pytest.mark.django_db
CSV_URL = reverse("admin:bots_account_daily_report")


def yesterday_at(hour: int) -> datetime:
    return datetime.combine(timezone.now().date() - timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


def fill(bot, trade_id, at, side="buy", price="0.005", amount="1000", fee="0.005000000000000000"):
    """Stored as a sync stores fills, with the daily rollups."""
    ledger.insert_fills([(bot, [Fill(trade_id=trade_id, timestamp=at, trading_pair=bot.trading_pair, side=side,
                                     price=Decimal(price), amount=Decimal(amount), fee_quote=Decimal(fee), raw={})])])


@pytest.fixture
def desk(account):
    """client_sharp: mm filled twice yesterday and once today (not in yesterday's report); broken is in error with
    an open alert; client_quiet has no fills and nothing to look at."""
    def bot(name, status="running"):
        return Bot.objects.create(name=name, account=account, strategy="spread", connector="bitmart",
                                  trading_pair="SHARP-USDT", status=status)
    mm = bot("mm")
    bot("broken", status="error")
    fill(mm, "T1", yesterday_at(9))
    fill(mm, "T2", yesterday_at(10), side="sell", price="0.006", amount="500", fee="0.003")
    fill(mm, "T3", yesterday_at(25))
    Alert.objects.create(rule=Alert.Rule.NO_FILL, subject="bot mm", severity="warning", message="No fill for 2 h.",
                         bot=mm, opened_at=timezone.now())
    Account.objects.create(name="client_quiet")
    return account


@pytest.fixture
def receiver(receiver, settings):
    """The shared receiver (conftest), as the desk's only alert channel."""
    settings.ALERT_URLS = receiver.url("desk")
    return receiver


@pytest.fixture(autouse=True)
def through_the_orm_queue(orm_queue):
    """Tasks go through the real ORM broker, worker and monitor (as in qcluster), in this process."""


def test_the_daily_report_reaches_the_alert_channel_once_per_day(desk, receiver, orm_queue):
    async_task("bots.tasks.send_daily_report")
    orm_queue()
    [report] = receiver.wait_for(1)
    day = f"{timezone.now().date() - timedelta(days=1):%Y-%m-%d}"
    assert report["title"] == f"Daily report {day} (UTC)" and report["path"] == "/desk"
    assert report["message"] == (
        "client_quiet\n  PnL: not reported\n  no fills\n  Needs attention: nothing\n\n"
        "client_sharp\n  PnL: not reported\n  USDT: volume 8, fees 0.008, 2 fills\n"
        "  Needs attention: bot broken: Error; warning alert: No fill: bot mm")
    assert DailyReport.objects.get().day.isoformat() == day
    async_task("bots.tasks.send_daily_report")  # the schedule ran twice, or a second worker took it
    orm_queue()
    assert len(receiver.items) == 1 and DailyReport.objects.count() == 1
    assert not Failure.objects.exists()  # the second run found the day sent: nothing to do, nothing failed


def test_a_channel_that_fails_the_report_is_recorded_and_the_run_fails(desk, settings, orm_queue):
    settings.ALERT_URLS = "json://127.0.0.1:9/desk"  # nothing listens on port 9
    async_task("bots.tasks.send_daily_report")
    orm_queue()
    report = DailyReport.objects.get()
    assert report.delivery_error.startswith("json://127.0.0.1:9: ")
    assert report.delivery_error in Failure.objects.get(func="bots.tasks.send_daily_report").result
    async_task("bots.tasks.send_daily_report")  # at most once per day, failed or not
    orm_queue()
    assert Failure.objects.count() == 1 and DailyReport.objects.count() == 1


def test_a_critical_only_channel_does_not_get_the_daily_report(desk, receiver, settings, orm_queue):
    critical = JsonReceiver()
    try:
        settings.ALERT_URLS = f"{receiver.url('desk')} critical={critical.url('pager')}"
        async_task("bots.tasks.send_daily_report")
        orm_queue()
        receiver.wait_for(1)
        assert critical.items == [] and DailyReport.objects.get().channels == 1
    finally:
        critical.stop()


def test_setup_schedules_sends_the_report_daily_at_the_report_hour(settings):
    settings.DAILY_REPORT_HOUR = 5
    call_command("setup_schedules")
    call_command("setup_schedules")
    schedule = Schedule.objects.get(name=DAILY_REPORT)
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == ("bots.tasks.send_daily_report", Schedule.DAILY, -1)
    now = timezone.now()
    assert (schedule.next_run.hour, schedule.next_run.minute) == (5, 0)
    assert now < schedule.next_run <= now + timedelta(days=1)


def rows(response) -> list[dict]:
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_has_a_row_per_account_and_quote_with_plain_money(desk, panel):
    day = f"{timezone.now().date() - timedelta(days=1):%Y-%m-%d}"
    response = panel.get(CSV_URL)
    assert response["Content-Disposition"] == f'attachment; filename="daily-report-{day}.csv"'
    assert rows(response) == [
        {"day": day, "account": "client_quiet", "net_pnl": "not reported", "quote": "", "fills": "0",
         "volume_quote": "0", "fees_quote": "0", "needs_attention": ""},
        {"day": day, "account": "client_sharp", "net_pnl": "not reported", "quote": "USDT", "fills": "2",
         "volume_quote": "8", "fees_quote": "0.008",
         "needs_attention": "bot broken: Error; warning alert: No fill: bot mm"}]
    today = rows(panel.get(CSV_URL, {"day": f"{timezone.now():%Y-%m-%d}"}))
    assert [(row["account"], row["fills"], row["volume_quote"], row["fees_quote"]) for row in today] == [
        ("client_quiet", "0", "0", "0"), ("client_sharp", "1", "5", "0.005")]


def test_a_bad_day_is_a_400_that_says_how_to_write_it(desk, panel):
    response = panel.get(CSV_URL, {"day": "06/12/2026"})
    assert response.status_code == 400
    assert "day: '06/12/2026' is not a date; give it as YYYY-MM-DD" in response.content.decode()


def test_csv_cells_that_could_run_as_formulas_are_escaped(panel, account):
    Account.objects.create(name="=cmd")  # names are validated by forms; the CSV does not rely on it
    assert [row["account"] for row in rows(panel.get(CSV_URL))] == ["'=cmd", "client_sharp"]


def test_only_users_who_may_view_accounts_get_the_csv_and_its_link(desk, django_user_model):
    user = django_user_model.objects.create_user("bots_only", password="pw-bots-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_bot"))
    client = Client()
    client.force_login(user)
    assert client.get(CSV_URL).status_code == 403
    assert "Daily report (CSV)" not in client.get(reverse("admin:index")).content.decode()
    user.user_permissions.add(Permission.objects.get(codename="view_account"))
    client = Client()
    client.force_login(django_user_model.objects.get(pk=user.pk))
    assert client.get(CSV_URL).status_code == 200
    assert "Daily report (CSV)" in client.get(reverse("admin:index")).content.decode()


def test_the_reports_figures_take_the_same_queries_for_one_account_or_many(desk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bots import selectors

    day = timezone.now().date() - timedelta(days=1)
    with CaptureQueriesContext(connection) as few:
        selectors.daily_report(day)
    for n in range(5):
        account = Account.objects.create(name=f"client_{n}")
        bot = Bot.objects.create(name=f"mm_{n}", account=account, strategy="spread", connector="bitmart",
                                 trading_pair="SHARP-USDT", status="not_found")
        fill(bot, f"N{n}", yesterday_at(8))
    with CaptureQueriesContext(connection) as many:
        assert len(selectors.daily_report(day)) == 7
    assert len(few.captured_queries) == len(many.captured_queries) == 7  # 2 of them: the PnL at the day's two ends


def sample(bot, at, net):
    from bots.models import PerformanceSample

    PerformanceSample.objects.create(bot=bot, read_at=at, realized_pnl_quote=net, unrealized_pnl_quote=0,
                                     net_pnl_quote=net, volume_quote=0)


def test_the_reports_pnl_is_hummingbots_over_the_day_per_quote_asset(desk):
    """Hummingbot's reported net PnL at the day's end less at its start (the performance samples), never the
    ledger's; a bot that started during the day counts from 0; quote assets are never added together."""
    from bots import selectors
    from bots.services import report

    mm = Bot.objects.get(name="mm")
    sample(mm, yesterday_at(-3), Decimal("1.25"))  # the day before: where yesterday started
    sample(mm, yesterday_at(12), Decimal("2"))
    sample(mm, yesterday_at(26), Decimal("9"))  # today: not yesterday's
    sol = Bot.objects.create(name="sol_mm", account=mm.account, strategy="spread", connector="bitmart",
                             trading_pair="SOL-SOLX", status="running")
    sample(sol, yesterday_at(8), Decimal("-0.5"))
    day = timezone.now().date() - timedelta(days=1)
    [quiet, sharp] = selectors.daily_report(day)
    assert quiet["pnl"] is None and sharp["pnl"] == {"USDT": Decimal("0.75"), "SOLX": Decimal("-0.5")}
    title, text = report.report_text(day, [quiet, sharp])
    assert "client_quiet\n  PnL: not reported" in text and "client_sharp\n  PnL: -0.5 SOLX, 0.75 USDT" in text
    rows = report.report_rows(day, [sharp])
    assert rows[0][2:4] == ["0.75", "USDT"]
