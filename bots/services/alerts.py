"""Alerts: what a person should hear of now, told where staff already are (docs/design.md §13).

Rules are evaluated where the truth arrives, from what that code already holds; they make no upstream call:
- the status sync (services.sync): a bot in `error` or `not_found`; a bot the sync found stopped or archived while
  it was trading or starting, which nobody here asked for (every stop and archive from here passes through
  `stopping` / `archiving` first: Hummingbot's max-loss limit, the controller's own stop or a dead container are
  what is left); a deploy whose answer was lost and is not resolved yet; its Hummingbot server unreachable for
  ALERT_SERVER_DOWN_MINUTES (one alert for the server: its bots' statuses are not read meanwhile, so nothing is
  said of them); net PnL past ALERT_LOSS_SHARE_PCT of the bot's max loss; an account's live bots' budgets above
  its available balance (the balances the panel keeps: services.accounts.kept_portfolio);
- the trade sync (services.trades): a running bot with no fill for its `no_fill_alert_minutes` (bots/strategies.py);
- the kill switch (services.killswitch): a run that left bots unconfirmed, resolved by a status sync once they all
  show stopped.

One open alert per (rule, subject) (a conditional unique constraint): a condition that still holds leaves its alert
as it is, one that cleared resolves it. Opening, resolving and reminding set the alert's `notice_due` and queue the
delivery task (`alert_deliver`), which sends it through Apprise (bots/channels.py): a slow channel never slows a
sync.
On the ORM broker the queued task is a row in the same database, so it commits, or not, with the alert.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django_q.tasks import async_task

from bots import channels, selectors
from bots.hummingbot.client import BotStatus
from bots.hummingbot.errors import HummingbotError
from bots.models import Account, Alert, Bot, BotEvent, HummingbotServer, KillSwitchRun, SyncState, Trade
from bots.services.accounts import kept_portfolio
from bots.services.pretrade import BUDGET_PARAMS
from bots.services.common import StateConflict, actor, stored_params
from bots.states import LIVE_CHANGEABLE, MAY_TRADE

Rule, Severity, Notice, Status = Alert.Rule, Alert.Severity, Alert.Notice, Bot.Status
Key = tuple[str, str]  # (rule, subject)

# Trading or about to: a stop from here would have made it `stopping` first.
UNASKED_FROM = (Status.RUNNING, Status.IDLE, Status.STARTING, Status.DEPLOYING)
STOPPED_STATES = (Status.STOPPED, Status.ARCHIVING, Status.ARCHIVED)
# Bots whose budgets the account's balance must cover.
FUNDED = (Status.DEPLOYING, Status.STARTING, Status.RUNNING, Status.IDLE)
SEVERITY = {Rule.BOT_DOWN: Severity.CRITICAL, Rule.STOPPED_UNASKED: Severity.CRITICAL,
            Rule.DEPLOY_UNKNOWN: Severity.WARNING, Rule.SERVER_DOWN: Severity.CRITICAL, Rule.NO_FILL: Severity.WARNING,
            Rule.LOSS: Severity.CRITICAL, Rule.LOW_BALANCE: Severity.WARNING, Rule.KILL_SWITCH: Severity.CRITICAL}


class AlertNotDelivered(Exception):
    """A notice did not reach every channel: the task fails visibly, the alert says which and why, and the
    schedule sends it again (to those channels only)."""


@dataclass(frozen=True)
class Finding:
    """A rule's condition holding for a subject: what an alert is opened with."""

    rule: str
    subject: str
    message: str
    details: dict = field(default_factory=dict)
    bot: Bot | None = None
    server: HummingbotServer | None = None
    account_id: int | None = None

    @property
    def key(self) -> Key:
        return self.rule, self.subject


def bot_subject(bot: Bot) -> str:
    return f"bot {bot.name}"


def server_subject(server: HummingbotServer) -> str:
    return f"server {server.name}"


def account_subject(name: str) -> str:
    return f"account {name}"


# --- the rules: pure functions of what the caller holds --------------------------------------------------------


def bot_down(bot: Bot) -> dict | None:
    return {"status": bot.status} if bot.status in (Status.ERROR, Status.NOT_FOUND) else None


def stopped_unasked(bot: Bot, *, was: str | None, alert: Alert | None) -> dict | None:
    """Opened on the sync's own move from trading (or starting) to stopped/archiving/archived; holds while the bot
    stays where it stopped (an unasked archive may complete)."""
    if alert is not None:
        kept = alert.details.get("status")
        completing = kept == Status.ARCHIVING and bot.status == Status.ARCHIVED
        return alert.details if bot.status == kept or completing else None
    if was in UNASKED_FROM and bot.status in STOPPED_STATES:
        return {"status": bot.status, "was": was}
    return None


def deploy_unknown(bot: Bot, *, now: datetime) -> dict | None:
    """A deploy intent older than the deploy call can last: its answer was lost (services.lifecycle)."""
    if bot.deploy_intent_at is None or bot.status not in (Status.DEPLOYING, Status.STARTING):
        return None
    if now - bot.deploy_intent_at <= timedelta(seconds=settings.HUMMINGBOT_TIMEOUT):
        return None
    return {"deploy_sent_at": bot.deploy_intent_at.isoformat()}


def server_down(*, since: datetime, now: datetime, error: str) -> dict | None:
    if now - since < timedelta(minutes=settings.ALERT_SERVER_DOWN_MINUTES):
        return None
    return {"since": since.isoformat(), "minutes": int((now - since).total_seconds() // 60), "error": error}


def net_pnl(performance: dict) -> Decimal | None:
    """Hummingbot's net PnL (`global_pnl_quote`) summed over the bot's controller reports; None without figures
    (docs/hummingbot-api.md §2)."""
    figures = [report["performance"] for report in (performance or {}).values()
               if isinstance(report, dict) and isinstance(report.get("performance"), dict) and report["performance"]]
    if not figures:
        return None
    try:
        return sum((Decimal(str(f.get("global_pnl_quote") or 0)) for f in figures), Decimal(0))
    except InvalidOperation:
        return None


def loss(bot: Bot, upstream: BotStatus | None) -> dict | None:
    """Net PnL at or below minus ALERT_LOSS_SHARE_PCT of max_loss_quote (Hummingbot's drawdown stop), while trading."""
    params = _params(bot)
    max_loss = getattr(params, "max_loss_quote", None)
    if max_loss is None or upstream is None or bot.status not in LIVE_CHANGEABLE:
        return None
    net = net_pnl(upstream.performance)
    limit = -max_loss * settings.ALERT_LOSS_SHARE_PCT / 100
    if net is None or net > limit:
        return None
    return {"net_pnl_quote": format(net, "f"), "max_loss_quote": bot.params["max_loss_quote"],
            "share_pct": settings.ALERT_LOSS_SHARE_PCT}


def low_balance(bots: list[Bot], balances: dict) -> dict | None:
    """Per connector and quote token, the budgets of an account's funded bots against what Hummingbot reports
    available there (`balances`: {connector: [Balance]}); a token it does not report is not judged."""
    needs: dict[tuple[str, str], Decimal] = {}
    for bot in bots:
        params = _params(bot)
        budget = getattr(params, BUDGET_PARAMS.get(bot.strategy, ), None)
        if budget is not None and "-" in bot.trading_pair:
            where = (bot.connector, bot.trading_pair.rsplit("-", 1)[1].upper())
            needs[where] = needs.get(where, Decimal(0)) + budget
    short = []
    for (connector, token), need in sorted(needs.items()):
        available = next((b.available for b in balances.get(connector, []) if b.token.upper() == token), None)
        if available is not None and available < need:
            short.append({"connector": connector, "token": token, "available": str(available), "needed": str(need)})
    return {"short": short} if short else None


def no_fill(bot: Bot, *, last_fill: datetime | None, now: datetime) -> dict | None:
    """Running (or idle) for the bot's no_fill_alert_minutes with no fill since it started or since its last one."""
    minutes = getattr(_params(bot), "no_fill_alert_minutes", 0)
    if bot.status not in LIVE_CHANGEABLE or not minutes:
        return None
    since = max(filter(None, [last_fill, bot.updated_at]))
    if now - since < timedelta(minutes=minutes):
        return None
    return {"minutes": minutes, "last_fill": last_fill and last_fill.isoformat(), "since": since.isoformat()}


def _params(bot: Bot):
    try:
        return stored_params(bot)
    except StateConflict:  # parameters no longer accepted: nothing to judge them by
        return None


# --- where the truth arrives ------------------------------------------------------------------------------------


def status_sync_failed(*, server: HummingbotServer, error: HummingbotError, now: datetime) -> None:
    """A failed status read: the server's alert once it has been unreachable long enough (its bots say nothing)."""
    state = SyncState.objects.filter(scope=server.name).only("last_ok_at").first()
    since = state.last_ok_at if state is not None and state.last_ok_at is not None else _first_failure(server, now)
    details = server_down(since=since, now=now, error=error.message)
    if details is None or Alert.objects.filter(rule=Rule.SERVER_DOWN, subject=server_subject(server),
                                               resolved_at=None).exists():
        return
    unread = Bot.objects.filter(server=server).exclude(status=Status.ARCHIVED).count()
    _open(Finding(Rule.SERVER_DOWN, server_subject(server), server=server, details={**details, "bots": unread},
                  message=f"Hummingbot server {server.name} unreachable: no status read since "
                          f"{since:%Y-%m-%d %H:%M:%S} UTC ({details['minutes']} min): {error.message} "
                          f"The statuses of its {unread} bot(s) are not read meanwhile."), now)


def _first_failure(server: HummingbotServer, now: datetime) -> datetime:
    outage = selectors.hummingbot_outage(server.name)
    return outage.at if outage is not None else now


def status_synced(*, server: HummingbotServer, bots: list[Bot], before: dict[int, str],
                  statuses: dict[str, BotStatus], now: datetime, full: bool) -> None:
    """After a good status read of `server`: `bots` as the sync left them, `before` their statuses when it began.
    `full` is False for the list's inline refresh, whose rows lack params (the next scheduled sync judges those)."""
    open_alerts = {(alert.rule, alert.subject): alert for alert in
                   Alert.objects.filter(Q(server=server) | Q(rule=Rule.KILL_SWITCH), resolved_at=None)}
    found: list[Finding] = []
    cleared: dict[Key, str] = {
        (Rule.SERVER_DOWN, server_subject(server)): f"Hummingbot server {server.name} answers again."}
    for bot in bots:
        subject = bot_subject(bot)
        verdicts = {Rule.BOT_DOWN: bot_down(bot),
                    Rule.STOPPED_UNASKED: stopped_unasked(bot, was=before.get(bot.pk),
                                                          alert=open_alerts.get((Rule.STOPPED_UNASKED, subject))),
                    Rule.DEPLOY_UNKNOWN: deploy_unknown(bot, now=now)}
        if full:
            verdicts[Rule.LOSS] = loss(bot, statuses.get(bot.hummingbot_name) if bot.hummingbot_name else None)
        for rule, details in verdicts.items():
            if details is not None:
                found.append(Finding(rule, subject, "", details, bot=bot, server=server, account_id=bot.account_id))
            elif (rule, subject) in open_alerts:
                cleared[rule, subject] = f"Bot {bot.name} is now {bot.status}."
    if full:
        _judge_balances(server, bots, open_alerts, found, cleared)
    _judge_kill_switches(open_alerts, cleared)
    _settle(open_alerts, found, cleared, now)


def _judge_balances(server, bots, open_alerts, found, cleared) -> None:
    """Only while the panel keeps the server's balances (read at most 5 minutes ago): never an upstream call."""
    portfolio = kept_portfolio(server)
    if portfolio is None:
        return
    funded: dict[int, list[Bot]] = {}
    for bot in bots:
        if bot.account_id is not None and bot.status in FUNDED:
            funded.setdefault(bot.account_id, []).append(bot)
    watched = set(funded) | {alert.account_id for (rule, _), alert in open_alerts.items() if rule == Rule.LOW_BALANCE}
    for account in Account.objects.filter(pk__in=watched).only("name") if watched else []:
        subject = account_subject(account.name)
        details = low_balance(funded.get(account.pk, []), portfolio.balances.get(account.name, {}))
        if details is not None:
            short = "; ".join(f"{s['connector']} {s['token']}: {s['available']} available, budgets {s['needed']}"
                              for s in details["short"])
            found.append(Finding(Rule.LOW_BALANCE, subject, server=server, account_id=account.pk,
                                 details={**details, "read_at": portfolio.read_at.isoformat()},
                                 message=f"Account {account.name}: available balance below what its live bots need "
                                         f"({short}; balances read {portfolio.read_at:%Y-%m-%d %H:%M:%S} UTC)."))
        elif (Rule.LOW_BALANCE, subject) in open_alerts:
            cleared[Rule.LOW_BALANCE, subject] = (f"Account {account.name}'s available balances cover its live bots' "
                                                  "budgets.")


def _judge_kill_switches(open_alerts, cleared) -> None:
    for (rule, subject), alert in open_alerts.items():
        ids = alert.details.get("bot_ids") if rule == Rule.KILL_SWITCH else None
        if ids and not Bot.objects.filter(pk__in=ids, status__in=MAY_TRADE).exists():
            cleared[rule, subject] = "Every bot it left unconfirmed now shows stopped or archived."


def trades_synced(*, bots: list[Bot], failed: dict[str, str], now: datetime) -> None:
    """After the trade sync read `bots` (those named in `failed` could not be read: nothing is judged for them)."""
    read = [bot for bot in bots if bot.name not in failed]
    if not read:
        return
    open_alerts = {(alert.rule, alert.subject): alert
                   for alert in Alert.objects.filter(rule=Rule.NO_FILL, bot__in=read, resolved_at=None)}
    watched = [bot for bot in read if bot.status in LIVE_CHANGEABLE]
    newest = Trade.objects.filter(bot=OuterRef("pk")).order_by("-timestamp").values("timestamp")[:1]
    last_fills = dict(Bot.objects.filter(pk__in=[bot.pk for bot in watched]).annotate(last=Subquery(newest))
                      .values_list("pk", "last")) if watched else {}
    found, cleared = [], {}
    for bot in read:
        key = (Rule.NO_FILL, bot_subject(bot))
        details = no_fill(bot, last_fill=last_fills.get(bot.pk), now=now)
        if details is not None:
            found.append(Finding(*key, "", details, bot=bot, server=bot.server, account_id=bot.account_id))
        elif key in open_alerts:
            last = last_fills.get(bot.pk)
            filled = last is not None and bot.status in LIVE_CHANGEABLE
            cleared[key] = (f"Bot {bot.name} filled at {last:%Y-%m-%d %H:%M:%S} UTC." if filled
                            else f"Bot {bot.name} is now {bot.status}.")
    _settle(open_alerts, found, cleared, now)


def kill_switch_finished(run: KillSwitchRun) -> None:
    """A run that did not confirm every bot stopped (or failed) stays in sight until they show stopped."""
    unconfirmed = sorted(name for name, result in run.results.items() if not result["confirmed"])
    if not unconfirmed and run.state == KillSwitchRun.State.DONE:
        return
    scope = f"account {run.account.name}" if run.account else "all accounts"
    what = f"left {len(unconfirmed)} of {run.total} bot(s) unconfirmed: {', '.join(unconfirmed)}" if unconfirmed \
        else f"failed before reaching a bot: {run.error}"
    ids = list(Bot.objects.filter(name__in=unconfirmed).values_list("pk", flat=True))
    now = timezone.now()
    _open(Finding(Rule.KILL_SWITCH, f"kill switch #{run.pk}", account_id=run.account_id,
                  details={"run": run.pk, "bots": unconfirmed, "bot_ids": ids},
                  message=f"Kill switch #{run.pk} ({scope}, pressed by {run.actor}) {what}. "
                          "Check those bots in Hummingbot."), now)


# --- opening, resolving, acknowledging ---------------------------------------------------------------------------


def _settle(open_alerts: dict[Key, Alert], found: list[Finding], cleared: dict[Key, str], now: datetime) -> None:
    for finding in found:
        if finding.key not in open_alerts:
            _open(finding, now)
    for key, reason in cleared.items():
        if key in open_alerts:
            _resolve(open_alerts[key], reason, now)


def _open(finding: Finding, now: datetime) -> Alert | None:
    """None when a concurrent sync opened it first (the constraint allows one open alert per rule and subject)."""
    message = finding.message or _describe(finding)
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=finding.rule, subject=finding.subject, severity=SEVERITY[finding.rule], message=message,
                details=finding.details, bot=finding.bot, server=finding.server, account_id=finding.account_id,
                opened_at=now, notice_due=Notice.OPENED)
    except IntegrityError:
        return None
    _audit(alert, ok=False, detail=f"alert opened: {message}")
    _queue(alert)
    return alert


def _resolve(alert: Alert, reason: str, now: datetime) -> None:
    resolved = Alert.objects.filter(pk=alert.pk, resolved_at=None).update(
        resolved_at=now, resolution=reason[:500], notice_due=Notice.RESOLVED, pending_channels=[])
    if resolved:
        _audit(alert, ok=True, detail=f"alert resolved: {alert.get_rule_display()} ({alert.subject}). {reason}")
        _queue(alert)


def alert_acknowledge(*, alert: Alert, user) -> Alert:
    """A named person has it: no more reminders (the resolved notice still goes out). Raises StateConflict when it
    is already acknowledged or resolved."""
    now = timezone.now()
    acknowledged = Alert.objects.filter(pk=alert.pk, acknowledged_at=None, resolved_at=None).update(
        acknowledged_at=now, acknowledged_by=user, acknowledged_by_name=actor(user))
    alert.refresh_from_db()
    if not acknowledged:
        by = f" by {alert.acknowledged_by_name}" if alert.state == "acknowledged" else ""
        raise StateConflict(f"Alert #{alert.pk} is already {alert.state}{by}.")
    Alert.objects.filter(pk=alert.pk, notice_due=Notice.REMINDER).update(notice_due=Notice.NONE)
    _audit(alert, ok=True, user=user, detail=f"alert acknowledged: {alert.get_rule_display()} ({alert.subject})")
    return alert


def _audit(alert: Alert, *, ok: bool, detail: str, user=None) -> None:
    """On the bot's (or account's) audit trail; a server's or a fleet kill switch's alert on the general one."""
    BotEvent.objects.create(bot_id=alert.bot_id, account_id=alert.account_id, actor=actor(user), action="alert", ok=ok,
                            detail=detail[:2000])


def _describe(finding: Finding) -> str:
    """The notification's text, from the rows as they are now (one read per alert opened, none per sync)."""
    d = finding.details
    bot = Bot.objects.select_related("account", "server").get(pk=finding.bot.pk)
    where = f"Bot {bot.name} ({bot.account.name if bot.account else 'adopted'} on {bot.server.name})"
    error = f": {bot.last_error}" if bot.last_error else ""
    if finding.rule == Rule.BOT_DOWN:
        return f"{where} is {bot.status}{error}."
    if finding.rule == Rule.STOPPED_UNASKED:
        return (f"{where} was {d['was']} and Hummingbot now reports it {d['status']}; nobody here asked to stop it "
                f"(Hummingbot's max-loss stop, the controller's own stop, or its container stopped){error}.")
    if finding.rule == Rule.DEPLOY_UNKNOWN:
        return (f"{where}: the answer to its deploy was lost{error}. The syncs look for the instance it may have "
                "created; do not deploy it again by hand.")
    if finding.rule == Rule.LOSS:
        quote = bot.trading_pair.rsplit("-", 1)[-1]
        return (f"{where}: net PnL {d['net_pnl_quote']} {quote} is past {d['share_pct']}% of its max loss "
                f"{d['max_loss_quote']} {quote}; Hummingbot stops it at the max loss.")
    last = (f"its last fill was at {d['last_fill'][:19].replace('T', ' ')} UTC" if d["last_fill"]
            else "no fill since it started")
    return f"{where} has had no fill for {d['minutes']} minutes ({last})."


# --- delivery -----------------------------------------------------------------------------------------------------


def _queue(alert: Alert) -> None:
    if settings.ALERT_URLS.strip():
        async_task("bots.tasks.deliver_alert", alert.pk, task_name=f"alert {alert.pk}")


def alert_deliver(alert_id: int) -> dict:
    """The task: send the alert's due notice to each channel that takes its severity (and still lacks it)."""
    alert = Alert.objects.filter(pk=alert_id).first()
    kind = alert.notice_due if alert is not None else Notice.NONE
    # Compare-and-set: a task handed out twice, or queued again by the schedule, sends once.
    if not kind or not Alert.objects.filter(pk=alert_id, notice_due=kind).update(notice_due=Notice.NONE):
        return {"alert": alert_id, "sent": 0}
    try:
        targets = [channel for channel in channels.configured() if channel.takes(alert.severity)
                   and (not alert.pending_channels or channel.key in alert.pending_channels)]
    except channels.ConfigError as exc:
        _not_delivered(alert, kind, [], str(exc))
    if not targets:  # no channel takes this severity: shown in the panel only
        return {"alert": alert_id, "notice": kind, "sent": 0}
    title, body = _notice(alert, kind)
    failed = {}
    for channel in targets:
        error = channels.send(channel, title=title, body=body, failure=kind != Notice.RESOLVED)
        if error:
            failed[channel] = error
    if failed:
        _not_delivered(alert, kind, [channel.key for channel in failed],
                       "; ".join(f"{channel.shown}: {error}" for channel, error in failed.items()))
    Alert.objects.filter(pk=alert_id).update(notified_at=timezone.now(), notifications=F("notifications") + 1,
                                             delivery_error="", pending_channels=[])
    return {"alert": alert_id, "notice": kind, "sent": len(targets)}


def _not_delivered(alert: Alert, kind: str, keys: list[str], reason: str):
    now = timezone.now()
    Alert.objects.filter(pk=alert.pk).update(delivery_error=f"{kind} notice not delivered: {reason}"[:2000],
                                             delivery_failed_at=now)
    # Due again unless a newer notice (e.g. resolved) took its place meanwhile: that one goes to every channel.
    Alert.objects.filter(pk=alert.pk, notice_due=Notice.NONE).update(notice_due=kind, pending_channels=keys)
    raise AlertNotDelivered(f"alert {alert.pk}: {reason}")


def _notice(alert: Alert, kind: str) -> tuple[str, str]:
    opened = f"Opened {alert.opened_at:%Y-%m-%d %H:%M:%S} UTC."
    if kind == Notice.RESOLVED:
        return (f"[resolved] {alert.get_rule_display()}: {alert.subject}",
                f"{alert.resolution}\nIt was: {alert.message}\n"
                f"{opened} Resolved {alert.resolved_at:%Y-%m-%d %H:%M:%S} UTC.")
    still = "Still unacknowledged: " if kind == Notice.REMINDER else ""
    return (f"[{alert.severity}] {still}{alert.get_rule_display()}: {alert.subject}",
            f"{alert.message}\n{opened} Acknowledge it in the panel (Alerts) or with "
            f"POST /alerts/{alert.pk}/acknowledge.")


def alert_notices_due(*, now: datetime) -> int:
    """The schedule (every minute): reminders for open alerts nobody acknowledged, notified ALERT_RENOTIFY_MINUTES
    ago or longer, then a delivery task for every notice still due (new, or not delivered yet: the retries)."""
    if not settings.ALERT_URLS.strip():
        return 0
    Alert.objects.filter(resolved_at=None, acknowledged_at=None, notice_due=Notice.NONE,
                         notified_at__lte=now - timedelta(minutes=settings.ALERT_RENOTIFY_MINUTES)
                         ).update(notice_due=Notice.REMINDER)
    due = list(Alert.objects.exclude(notice_due=Notice.NONE).values_list("pk", flat=True))
    for alert_id in due:
        async_task("bots.tasks.deliver_alert", alert_id, task_name=f"alert {alert_id}")
    return len(due)
