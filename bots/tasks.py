"""django-q2 entry points (scheduled by `manage.py setup_schedules`). A raised error marks the run
failed in the admin's task views; the next scheduled run happens regardless.

The scheduled syncs fan out one task per Hummingbot server, so a server that is down or slow delays only its
own task, and the worker runs the servers in parallel (docs/design.md §10)."""
import time

from django.conf import settings
from django.utils import timezone
from django_q.tasks import async_task

from bots import services
from bots.api import throttles
from bots.hummingbot.errors import HummingbotError
from bots.models import HummingbotServer


def sync_bots() -> list[str]:
    """Scheduled every minute: queues each server's status sync."""
    return _per_server("bots.tasks.sync_server_bots")


def sync_server_bots(server_name: str) -> dict:
    """One server's statuses every BOTS_SYNC_SECONDS within the minute (django-q2's smallest step). A failed read
    does not end the minute: the sync records it (and the server's alert counts its duration), the next round asks
    again, so a server that answers again is seen within one interval. The run fails when its last read did."""
    server = HummingbotServer.objects.get(name=server_name)
    rounds = max(1, 60 // settings.BOTS_SYNC_SECONDS)
    for round_number in range(rounds):
        if round_number:
            time.sleep(settings.BOTS_SYNC_SECONDS)
        try:
            report, failure = services.bots_sync(server=server), None
        except HummingbotError as exc:
            failure = exc
    if failure is not None:
        raise failure
    return report


def purge_throttle_counts() -> int:
    """Scheduled hourly: the API throttles' ended windows (bots/api/throttles.py)."""
    return throttles.purge_expired_counts(time.time())


def thin_performance_samples() -> int:
    """Scheduled hourly: every sync's performance sample for two days, then one per hour (services/performance.py)."""
    return services.performance_samples_thin(now=timezone.now())


def sync_trades() -> list[str]:
    """Scheduled every TRADES_SYNC_MINUTES: queues each server's trade sync."""
    return _per_server("bots.tasks.sync_server_trades")


def sync_server_trades(server_name: str) -> dict:
    report = services.trades_sync(server=HummingbotServer.objects.get(name=server_name))
    if report["failed"]:
        # Fail the run so it shows in the admin; the bots that worked are already stored.
        raise RuntimeError(f"trades of {len(report['failed'])} bot(s) not synced: {report['failed']}")
    return report


def _per_server(func: str) -> list[str]:
    names = [server.name for server in HummingbotServer.every()]
    for name in names:
        async_task(func, name, task_name=f"{func.rsplit('.', 1)[1]} {name}")
    return names


def kill_switch(run_id: int) -> dict:
    """Queued by the kill-switch buttons; progress and outcome are on the run (services.stop_all_run)."""
    return services.stop_all_run(run_id)


def deliver_alert(alert_id: int) -> dict:
    """Queued when an alert opens, resolves or is due again: its notice to the channels (services.alert_deliver).
    A channel that failed fails the run, so it shows here too; the schedule below retries it."""
    return services.alert_deliver(alert_id)


def alert_notices() -> int:
    """Scheduled every minute: reminders of unacknowledged alerts, and retries of notices not delivered yet."""
    return services.alert_notices_due(now=timezone.now())


def send_daily_report() -> dict:
    """Scheduled daily at DAILY_REPORT_HOUR UTC: yesterday's desk report to the alert channels, once per day."""
    return services.daily_report_send(now=timezone.now())
