"""The kill switch: stop every bot that may still trade, of one account or of all (docs/hummingbot-api.md §2, §10).

The admin request only records a run and queues its django-q2 task, so the web worker's timeout can't cut it
off halfway. The task sends the stops one by one, saving each outcome as it goes, then reads the statuses once
and records per bot whether Hummingbot now shows it stopped.
"""
from __future__ import annotations

import time

from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from bots.hummingbot.errors import HummingbotError
from bots.models import Account, Bot, KillSwitchRun
from bots.services import alerts
from bots.services.common import StateConflict, actor, record
from bots.services.lifecycle import bot_stop
from bots.services.sync import bots_sync_all
from bots.states import MAY_TRADE

Status = Bot.Status
State = KillSwitchRun.State
# `stop-bot` clears a bot's cached reports once; a bot that did not obey sends figures again with its next
# report, every second (docs/hummingbot-api.md §2, §9). Confirm after a few reports, not right after the stop.
CONFIRM_AFTER_SECONDS = 5
NO_INSTANCE = "No Hummingbot instance is known for this deploy yet: nothing to stop. Press again once it resolves."


def stop_all_request(*, account: Account | None = None, user) -> KillSwitchRun:
    """Record the run and queue its task. No upstream call: the request returns at once.

    On the ORM broker the queued task is a row in the same database, so it commits with the run.
    """
    run = KillSwitchRun.objects.create(requested_by=user, actor=actor(user), account=account)
    task_id = async_task("bots.tasks.kill_switch", run.pk)
    KillSwitchRun.objects.filter(pk=run.pk).update(task_id=task_id)
    run.task_id = task_id
    return run


def stop_all_run(run_id: int) -> dict:
    """The task: stop every bot of the run's scope that may trade, then confirm each stop with one status read."""
    # Compare-and-set: a task the broker hands out twice runs once.
    if not KillSwitchRun.objects.filter(pk=run_id, state=State.QUEUED).update(state=State.RUNNING,
                                                                                started_at=timezone.now()):
        return {"skipped": f"kill switch #{run_id} is not queued"}
    run = KillSwitchRun.objects.select_related("account", "requested_by").get(pk=run_id)
    try:
        before = _read_statuses()  # first, so instances of deploys in flight are attached to a row and get stopped too
        bots = _may_trade(run.account)
        run.results = {bot.name: {"sent": None, "error": "", "confirmed": None, "status": bot.status} for bot in bots}
        _save_progress(run)
        for bot in bots:
            run.results[bot.name].update(_stop(bot, user=run.requested_by))
            _save_progress(run)
        time.sleep(CONFIRM_AFTER_SECONDS)
        after = _confirm(run, bots)
        run.error = " ".join(filter(None, [
            before and f"The status read before the stops failed ({before}): a deploy in flight may have been missed.",
            after and f"The confirming status read failed ({after}): no stop could be confirmed.",
        ]))
    except BaseException as exc:  # django-q's timeout is a SystemExit: the desk must still see the run failed
        _finish(run, State.FAILED, error=str(exc) or type(exc).__name__)
        raise
    _finish(run, State.DONE, error=run.error)
    return {"run": run.pk, "bots": run.total, "sent": run.sent, "confirmed": run.confirmed}


def _read_statuses() -> str:
    """One status sync per server; failures are recorded by the sync and returned, never a reason to skip the stops."""
    reports = bots_sync_all()
    return "; ".join(f"{name}: {report.message}" for name, report in reports.items()
                     if isinstance(report, HummingbotError))


def _may_trade(account: Account | None) -> list[Bot]:
    # A `deploying` row without an instance is listed so the desk sees it: its deploy may still land.
    bots = Bot.objects.filter(Q(hummingbot_name__isnull=False) | Q(status=Status.DEPLOYING), status__in=MAY_TRADE)
    if account is not None:
        bots = bots.filter(account=account)
    return list(bots.select_related("account").order_by("name"))


def _stop(bot: Bot, *, user) -> dict:
    """Send the stop; every outcome leaves a BotEvent on the bot (bot_stop records its own)."""
    if not bot.hummingbot_name:
        return _not_sent(bot, user, NO_INSTANCE)
    try:
        bot_stop(bot=bot, user=user, kill_switch=True)
    except HummingbotError as exc:
        return {"sent": False, "error": exc.message}
    except StateConflict as exc:  # moved on since it was listed (e.g. archived meanwhile)
        return _not_sent(bot, user, str(exc))
    return {"sent": True}


def _not_sent(bot: Bot, user, reason: str) -> dict:
    record(action="stop", ok=False, user=user, bot=bot, detail=f"kill switch: {reason}")
    return {"sent": False, "error": reason}


def _confirm(run: KillSwitchRun, bots: list[Bot]) -> str:
    """Mark each bot confirmed when the status read shows it stopped; None when the read did not list it."""
    failure = _read_statuses()
    rows = Bot.objects.filter(pk__in=[bot.pk for bot in bots]).only("name", "hummingbot_name", "status", "absent_since")
    for row in rows:
        listed = not failure and row.hummingbot_name is not None and row.absent_since is None
        run.results[row.name].update(status=row.status, confirmed=row.status == Status.STOPPED if listed else None)
    return failure


def _save_progress(run: KillSwitchRun) -> None:
    KillSwitchRun.objects.filter(pk=run.pk).update(results=run.results)


def _finish(run: KillSwitchRun, state: str, *, error: str) -> None:
    run.state, run.error, run.finished_at = state, error, timezone.now()
    KillSwitchRun.objects.filter(pk=run.pk).update(state=state, error=error, finished_at=run.finished_at,
                                                  results=run.results)
    record(
        action="stop_all", ok=state == State.DONE and run.confirmed == run.total, user=run.requested_by,
        account=run.account,
        detail=f"kill switch #{run.pk} {state}: stop sent to {run.sent} of {run.total} bot(s), "
               f"confirmed stopped {run.confirmed} of {run.total}" + (f". {error}" if error else ""),
    )
    alerts.kill_switch_finished(run)
