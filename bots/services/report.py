"""The daily desk report (issue 18): per account, yesterday's (UTC) net PnL, fills, volume and fees per quote asset,
and what needs attention now. Sent once a day at DAILY_REPORT_HOUR to the alert channels (bots/channels.py), and
downloaded from the panel as CSV. The figures come from selectors.daily_report; this module only words them."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction

from bots import channels, selectors
from bots.models import DailyReport
from bots.money import plain_decimal

NOT_REPORTED = "not reported"
CSV_HEADER = ["day", "account", "net_pnl", "quote", "fills", "volume_quote", "fees_quote", "needs_attention"]


class ReportNotDelivered(Exception):
    """A channel did not take the report: recorded on the day's DailyReport, and fails the task run."""


def report_day(now: datetime) -> date:
    """The day a report sent now is about: yesterday, UTC (timezone.now() is UTC)."""
    return now.date() - timedelta(days=1)


def _pnl(account: dict, quote: str | None = None) -> str:
    """Hummingbot's net PnL of the day: in one quote asset (a CSV row), or in each (the text)."""
    pnl = account["pnl"] or {}
    if quote is not None:
        return plain_decimal(pnl[quote]) if quote in pnl else NOT_REPORTED
    return ", ".join(f"{plain_decimal(value)} {name}" for name, value in sorted(pnl.items())) or NOT_REPORTED


def report_text(day: date, accounts: list[dict]) -> tuple[str, str]:
    """The notification: a title and a short paragraph per account."""
    paragraphs = []
    for account in accounts:
        lines = [account["account"], f"  PnL: {_pnl(account)}"]
        lines += [f"  {row['quote']}: volume {plain_decimal(row['volume_quote'])}, fees {plain_decimal(row['fees_quote'])},"
                  f" {row['fills']} fill{'s' if row['fills'] != 1 else ''}" for row in account["quotes"]] or ["  no fills"]
        lines.append("  Needs attention: " + ("; ".join(account["attention"]) or "nothing"))
        paragraphs.append("\n".join(lines))
    return f"Daily report {day:%Y-%m-%d} (UTC)", "\n\n".join(paragraphs) or "No accounts yet."


def report_rows(day: date, accounts: list[dict]) -> list[list]:
    """The CSV's rows after its header (CSV_HEADER): one per account and quote asset (an account without fills:
    one row with no quote), money as plain decimals."""
    rows = []
    for account in accounts:
        attention = "; ".join(account["attention"])
        rows += [[day.isoformat(), account["account"], _pnl(account, row["quote"]), row["quote"], row["fills"],
                  plain_decimal(row["volume_quote"]), plain_decimal(row["fees_quote"]), attention]
                 for row in account["quotes"]] or [[day.isoformat(), account["account"], _pnl(account), "", 0, "0", "0",
                                                    attention]]
    return rows


def daily_report_send(*, now: datetime) -> dict:
    """The task: yesterday's report to every alert channel that takes all alerts (a `critical=` channel is for
    emergencies only), once per day: the day's DailyReport row is the claim, so a second run of the task (or a
    second worker) finds it and sends nothing. A channel that fails is recorded on the row and fails the run; the
    day is not sent again (at most once), the panel's CSV still has it."""
    day = report_day(now)
    try:
        targets = [channel for channel in channels.configured() if channel.only is None]
    except channels.ConfigError as exc:
        raise ReportNotDelivered(str(exc)) from None
    if not targets:
        return {"day": day.isoformat(), "sent": 0}
    title, body = report_text(day, selectors.daily_report(day))
    try:
        with transaction.atomic():
            report = DailyReport.objects.create(day=day, sent_at=now, channels=len(targets))
    except IntegrityError:  # already claimed: sent, or being sent, by another run
        return {"day": day.isoformat(), "sent": 0, "already": True}
    failed = {channel: error for channel in targets
              if (error := channels.send(channel, title=title, body=body, failure=False))}
    if failed:
        reason = "; ".join(f"{channel.shown}: {error}" for channel, error in failed.items())
        DailyReport.objects.filter(pk=report.pk).update(delivery_error=reason[:2000])
        raise ReportNotDelivered(f"daily report {day}: {reason}")
    return {"day": day.isoformat(), "sent": len(targets)}
