"""django-q2 entry points (scheduled by `manage.py setup_schedules`). A raised error marks the run
failed in the admin's task views; the next scheduled run happens regardless."""
from bots import services


def sync_bots() -> dict:
    return services.bots_sync()


def sync_trades() -> dict:
    report = services.trades_sync()
    if report["failed"]:
        # Fail the run so it shows in the admin; the bots that worked are already stored.
        raise RuntimeError(f"trades of {len(report['failed'])} bot(s) not synced: {report['failed']}")
    return report
