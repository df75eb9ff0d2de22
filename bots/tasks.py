"""django-q2 entry points (scheduled by `manage.py setup_schedules`). A raised error marks the run
failed in the admin's task views; the next scheduled run happens regardless."""
import time

from django.conf import settings

from bots import services


def sync_bots() -> dict:
    """Scheduled every minute, django-q2's smallest step; syncs every BOTS_SYNC_SECONDS within it."""
    rounds = max(1, 60 // settings.BOTS_SYNC_SECONDS)
    for round_number in range(rounds):
        if round_number:
            time.sleep(settings.BOTS_SYNC_SECONDS)
        report = services.bots_sync()
    return report


def sync_trades() -> dict:
    report = services.trades_sync()
    if report["failed"]:
        # Fail the run so it shows in the admin; the bots that worked are already stored.
        raise RuntimeError(f"trades of {len(report['failed'])} bot(s) not synced: {report['failed']}")
    return report


def kill_switch(run_id: int) -> dict:
    """Queued by the kill-switch buttons; progress and outcome are on the run (services.stop_all_run)."""
    return services.stop_all_run(run_id)
