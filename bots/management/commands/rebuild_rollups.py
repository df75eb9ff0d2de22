from django.core.management.base import BaseCommand

from bots import services


class Command(BaseCommand):
    help = ("Make the daily rollups (per bot, UTC day and pair) again from the trade ledger, in one transaction; "
            "trade syncs wait meanwhile.")

    def handle(self, *args, **options):
        report = services.rollups_rebuild()
        self.stdout.write(f"{report['rollups']} daily rollups of {report['fills']} fills rebuilt from the ledger")
