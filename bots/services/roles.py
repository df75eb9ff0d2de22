"""The desk's roles as Django groups (issue 10 item 9). The panel and its POST URLs check model permissions, so a
group is exactly its permissions: view_* to see; add_bot + change_bot to create, start and stop bots, change_alert to
acknowledge alerts;
change_account (exchange keys, recreate in Hummingbot) and every delete_* stay with the superusers."""
from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

SEEN = ["view_account", "view_bot", "view_trade", "view_botevent", "view_killswitchrun", "view_alert", "view_dailyreport"]
DESK_ROLES: dict[str, list[str]] = {
    "Desk viewer": SEEN,
    "Desk operator": SEEN + ["add_bot", "change_bot", "change_alert"],
}


@transaction.atomic
def desk_roles_setup() -> dict[str, list[str]]:
    """Create or reset the groups to exactly DESK_ROLES' permissions (idempotent); returns what each group holds."""
    for name, codenames in DESK_ROLES.items():
        permissions = Permission.objects.filter(content_type__app_label="bots", codename__in=codenames)
        missing = set(codenames) - {p.codename for p in permissions}
        if missing:
            raise LookupError(f"Permissions not found (migrations not applied?): {', '.join(sorted(missing))}")
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)
    return {name: sorted(codenames) for name, codenames in DESK_ROLES.items()}
