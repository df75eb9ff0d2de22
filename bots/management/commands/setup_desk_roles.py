from django.core.management.base import BaseCommand

from bots import services


class Command(BaseCommand):
    help = 'Create or reset the groups "Desk viewer" (view only) and "Desk operator" (create/start/stop bots; ' \
           'no keys, no deletes). Idempotent; add users to a group in the admin.'

    def handle(self, *args, **options):
        for group, permissions in services.desk_roles_setup().items():
            self.stdout.write(f"{group}: {', '.join(permissions)}")
