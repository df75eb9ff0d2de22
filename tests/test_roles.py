"""Desk roles (issue 10 item 9): the panel hides what a role cannot do, and every POST URL refuses it anyway."""
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from bots.models import Bot
from tests.panel import SPREAD, typed_fields

pytestmark = pytest.mark.django_db
CREATE = {"name": "sharp_mm", "account": "client_sharp", "strategy": "spread", "connector": "bitmart",
          "trading_pair": "SHARP-USDT", "deploy": "Deploy", "confirm": "on", **typed_fields("spread", SPREAD)}


def desk_user(django_user_model, role):
    call_command("setup_desk_roles", stdout=open("/dev/null", "w"))
    user = django_user_model.objects.create_user(role.split()[-1], password="pw-role-123", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def stopped_bot(upstream_account):
    return Bot.objects.create(name="b", account=upstream_account, strategy="spread", connector="bitmart",
                              trading_pair="SHARP-USDT", status="stopped", params={"order_amount": "1000",
                                                                                   "budget_quote": "500"})


def test_setup_desk_roles_is_idempotent(db):
    call_command("setup_desk_roles", stdout=open("/dev/null", "w"))
    call_command("setup_desk_roles", stdout=open("/dev/null", "w"))
    operator = Group.objects.get(name="Desk operator")
    assert sorted(operator.permissions.values_list("codename", flat=True)) == [
        "add_bot", "change_alert", "change_bot", "view_account", "view_alert", "view_bot", "view_botevent", "view_dailyreport",
        "view_killswitchrun", "view_trade"]
    assert not Group.objects.get(name="Desk viewer").permissions.exclude(codename__startswith="view_").exists()


def test_viewer_sees_pages_without_buttons(django_user_model, stopped_bot):
    viewer = desk_user(django_user_model, "Desk viewer")
    bot_page = viewer.get(reverse("admin:bots_bot_change", args=[stopped_bot.pk])).content.decode()
    account_page = viewer.get(reverse("admin:bots_account_change", args=[stopped_bot.account.pk])).content.decode()
    assert "data-action=" not in bot_page and "Stop all bots" not in viewer.get(
        reverse("admin:bots_bot_changelist")).content.decode()
    assert "Exchange keys" not in account_page and "deletelink" not in account_page
    assert "Add bot" not in viewer.get(reverse("admin:index")).content.decode()


def test_viewer_is_refused_every_post(django_user_model, stopped_bot):
    from django.utils import timezone

    from bots.models import Alert

    viewer = desk_user(django_user_model, "Desk viewer")
    account = stopped_bot.account
    alert = Alert.objects.create(rule="bot_down", subject="bot b", severity="critical", message="m", bot=stopped_bot,
                                 opened_at=timezone.now())
    assert "Acknowledge" not in viewer.get(reverse("admin:bots_alert_changelist")).content.decode()
    refused = [
        viewer.post(reverse("admin:bots_alert_acknowledge", args=[alert.pk])),
        viewer.post(reverse("admin:bots_bot_add"), CREATE),
        viewer.post(reverse("admin:bots_bot_action", args=[stopped_bot.pk, "start"])),
        viewer.post(reverse("admin:bots_bot_action", args=[stopped_bot.pk, "archive"])),
        viewer.post(reverse("admin:bots_bot_stop_all")),
        viewer.post(reverse("admin:bots_account_credentials", args=[account.pk]) + "?connector=bitmart", {}),
        viewer.post(reverse("admin:bots_account_recreate", args=[account.pk])),
        viewer.post(reverse("admin:bots_account_delete", args=[account.pk]), {"post": "yes"}),
        viewer.post(reverse("admin:bots_account_add"), {"name": "x"}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert Bot.objects.get().status == "stopped" and Alert.objects.get().acknowledged_at is None


def test_operator_creates_starts_and_stops(django_user_model, upstream_account):
    operator = desk_user(django_user_model, "Desk operator")
    assert operator.post(reverse("admin:bots_bot_add"), CREATE).status_code == 302
    bot = Bot.objects.get(name="sharp_mm")
    assert bot.hummingbot_name
    from bots import services

    services.bots_sync()
    assert operator.post(reverse("admin:bots_bot_action", args=[bot.pk, "stop"])).status_code == 302
    assert Bot.objects.get().status == "stopping"
    page = operator.get(reverse("admin:bots_bot_change", args=[bot.pk])).content.decode()
    assert "data-action=" in page


def test_operator_has_no_keys_and_no_deletes(django_user_model, stopped_bot):
    operator = desk_user(django_user_model, "Desk operator")
    account = stopped_bot.account
    account_page = operator.get(reverse("admin:bots_account_change", args=[account.pk])).content.decode()
    assert "Exchange keys" not in account_page and "deletelink" not in account_page
    refused = [
        operator.get(reverse("admin:bots_account_credentials", args=[account.pk])),
        operator.post(reverse("admin:bots_account_credentials", args=[account.pk]) + "?connector=bitmart", {}),
        operator.post(reverse("admin:bots_account_recreate", args=[account.pk])),
        operator.post(reverse("admin:bots_account_delete", args=[account.pk]), {"post": "yes"}),
        operator.post(reverse("admin:bots_bot_delete", args=[stopped_bot.pk]), {"post": "yes"}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)


def test_only_who_may_change_accounts_sees_and_presses_the_balances_refresh(django_user_model, stopped_bot,
                                                                              hummingbot):
    """Refresh makes every Hummingbot server ask every exchange (docs/design.md §5): not a viewer's button."""
    from django.contrib.auth.models import Permission

    from bots import services

    hummingbot.state.portfolio.set_balance("client_sharp", "bitmart", "USDT", units=10, available=10)
    pages = [reverse("admin:index"), reverse("admin:bots_account_change", args=[stopped_bot.account.pk])]
    refresh = reverse("admin:bots_account_balances")
    for role in ("Desk viewer", "Desk operator"):
        desk = desk_user(django_user_model, role)
        assert all(refresh not in desk.get(page).content.decode() for page in pages), role
        hummingbot.state.portfolio.set_balance("client_sharp", "bitmart", "USDT", units=20, available=20)
        assert desk.post(refresh, {"next": pages[0]}).status_code == 403
        assert services.portfolio(server=stopped_bot.server).available(stopped_bot.account, "bitmart", "USDT") == 10
    keeper = django_user_model.objects.get(username="viewer")
    keeper.user_permissions.add(Permission.objects.get(codename="change_account"))
    desk = Client()
    desk.force_login(keeper)
    assert all(refresh in desk.get(page).content.decode() for page in pages)
    assert desk.post(refresh, {"next": pages[0]}).status_code == 302
    assert services.portfolio(server=stopped_bot.server).available(stopped_bot.account, "bitmart", "USDT") == 20
