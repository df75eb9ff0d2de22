from django.conf import settings
from django.core.management.base import BaseCommand
from django_q.models import Schedule

SCHEDULES = {
    "bridge: sync bot statuses": ("bots.tasks.sync_bots", "BOTS_SYNC_MINUTES"),
    "bridge: sync trades": ("bots.tasks.sync_trades", "TRADES_SYNC_MINUTES"),
}


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules for the syncs (idempotent; run by `make demo`)."

    def handle(self, *args, **options):
        for name, (func, setting) in SCHEDULES.items():
            schedule, created = Schedule.objects.update_or_create(
                name=name,
                defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": getattr(settings, setting),
                          "repeats": -1},
            )
            self.stdout.write(f"{'created' if created else 'updated'} {name}: {func} every {schedule.minutes} min")
