"""Desk limits per account (issue 16): set by users with bots.change_desk_limits only, shown on the account's page,
audited; the pre-trade checks enforce them (tests/test_pretrade_api.py, tests/test_pretrade_admin.py)."""
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from bots import services
from bots.models import Account, BotEvent

pytestmark = pytest.mark.django_db


def test_the_account_page_shows_the_limits_and_a_user_with_the_permission_changes_them(panel, account):
    page = panel.get(reverse("admin:bots_account_change", args=[account.pk])).content.decode()
    assert "Max budget per bot:</b> no limit" in page and "Change desk limits…" in page
    url = reverse("admin:bots_account_desk_limits", args=[account.pk])
    response = panel.post(url, {"max_bot_budget": "500", "max_live_budget": "2000", "max_order_notional": ""})
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.max_bot_budget, account.max_live_budget, account.max_order_notional) == (
        Decimal(500), Decimal(2000), None)
    event = BotEvent.objects.get(action="desk_limits")
    assert (event.actor, event.account, event.detail) == (
        "desk", account, "max_bot_budget none -> 500; max_live_budget none -> 2000")
    page = panel.get(reverse("admin:bots_account_change", args=[account.pk])).content.decode()
    assert "Max budget per bot:</b> 500" in page


def test_a_negative_limit_is_refused_on_its_field(panel, account):
    url = reverse("admin:bots_account_desk_limits", args=[account.pk])
    response = panel.post(url, {"max_bot_budget": "-1"})
    assert response.status_code == 200 and response.context["form"].errors["max_bot_budget"]
    assert not BotEvent.objects.filter(action="desk_limits").exists()


def test_without_the_permission_the_limits_are_shown_but_cannot_be_changed(panel, operator, account):
    operator.user_permissions.remove(Permission.objects.get(codename="change_desk_limits"))
    page = panel.get(reverse("admin:bots_account_change", args=[account.pk])).content.decode()
    assert "Desk limits" in page and "Change desk limits…" not in page
    url = reverse("admin:bots_account_desk_limits", args=[account.pk])
    assert panel.get(url).status_code == 403
    assert panel.post(url, {"max_bot_budget": "1"}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.account_set_desk_limits(account=account, limits={"max_bot_budget": Decimal(1)}, user=operator)
    assert Account.objects.get(pk=account.pk).max_bot_budget is None


def test_the_account_form_cannot_change_the_limits_around_the_audit(panel, account):
    url = reverse("admin:bots_account_change", args=[account.pk])
    panel.post(url, {"label": "Sharp", "max_bot_budget": "1"})
    assert Account.objects.get(pk=account.pk).max_bot_budget is None
