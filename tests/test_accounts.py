"""Accounts in the panel: keys per connector, an account Hummingbot lost, deleting, balances (issue 10 items 7, 8)."""
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from bots import services
from bots.hummingbot.client import get_client
from bots.hummingbot import errors
from bots.models import Account, Bot
from tests.panel import create

pytestmark = pytest.mark.django_db
SPREAD = {"order_amount": "1000", "budget_quote": "500"}


def shown(response) -> str:
    return " | ".join(str(m) for m in get_messages(response.wsgi_request))


def keys_url(account, connector=""):
    return reverse("admin:bots_account_credentials", args=[account.pk]) + (f"?connector={connector}" if connector else "")


# --- keys ---------------------------------------------------------------------------------------------------------


def test_keys_form_offers_hummingbots_connectors_as_a_choice(panel, upstream_account):
    page = panel.get(keys_url(upstream_account))
    choices = dict(page.context["choice"].fields["connector"].choices)
    assert "bitmart" in choices and "binance" in choices and "jupiter" not in choices


def test_keys_for_a_connector_hummingbot_does_not_know_are_refused_naming_it(panel, upstream_account):
    response = panel.get(keys_url(upstream_account, "notanexchange"))
    assert response.status_code == 200
    assert "'notanexchange' is not one of Hummingbot's connectors" in shown(response)
    assert "500" not in shown(response)
    assert "choice" in response.context  # the connector list is offered again, not an empty box


def test_keys_for_a_gateway_connector_say_its_wallet_is_added_in_gateway(panel, upstream_account):
    response = panel.get(keys_url(upstream_account, "jupiter"))
    assert "jupiter is a Gateway connector: its wallet is added in Gateway" in shown(response)
    posted = panel.post(keys_url(upstream_account, "jupiter"), {"jupiter_key": "x"})
    assert "Gateway connector" in shown(posted) and "500" not in shown(posted)


def test_account_page_lists_the_connectors_that_have_keys(panel, upstream_account):
    panel.post(keys_url(upstream_account, "bitmart"),
               {"bitmart_api_key": "k-123", "bitmart_secret_key": "s-456", "bitmart_memo": "m"})
    page = panel.get(reverse("admin:bots_account_change", args=[upstream_account.pk]))
    assert page.context["upstream"].connectors == ["bitmart"]
    assert "<b>Keys for:</b> bitmart" in page.content.decode()


# --- an account Hummingbot lost (a restarted sandbox or a reset server) ---------------------------------------------


def test_create_for_an_account_hummingbot_lost_is_refused_with_the_recreate_hint_and_no_row(panel, upstream_account):
    get_client()._call("POST", "/accounts/delete-account", params={"account_name": upstream_account.name})
    with pytest.raises(services.Refused) as caught:
        services.bot_create(name="sharp_mm", account=upstream_account, strategy="spread", connector="bitmart",
                            trading_pair="SHARP-USDT", params=SPREAD)
    assert caught.value.message_dict["account"] == [
        "Hummingbot no longer has account client_sharp (its server was reset or the account deleted there): open the "
        "account's page, press \"Recreate in Hummingbot\" and enter its keys again."]
    assert not Bot.objects.exists()


def test_a_deploy_that_finds_the_account_gone_says_to_recreate_it_not_upstream_500(panel, upstream_account, hummingbot):
    """Lost between the pre-trade check and the deploy: Hummingbot's own answer is still read as the typed error."""
    deploy = hummingbot.state.deploy

    def lost_meanwhile(*args, **kwargs):
        hummingbot.state.accounts.pop("client_sharp")
        return deploy(*args, **kwargs)

    hummingbot.state.deploy = lost_meanwhile
    with pytest.raises(errors.HummingbotError) as caught:
        services.bot_create(name="sharp_mm", account=upstream_account, strategy="spread", connector="bitmart",
                            trading_pair="SHARP-USDT", params=SPREAD)
    assert str(caught.value) == ("Hummingbot no longer has account client_sharp: Recreate it in Hummingbot "
                                 "(keys must be entered again).")
    assert caught.value.code == "hummingbot_account_missing" and caught.value.permanent
    assert not caught.value.outcome_unknown
    assert Bot.objects.get().last_error.endswith("Recreate it in Hummingbot (keys must be entered again).")


def test_start_after_hummingbot_was_reset_says_to_recreate_the_account_and_keeps_the_bot(panel, upstream_account,
                                                                                       hummingbot):
    bot = Bot.objects.create(name="sharp_mm", account=upstream_account, strategy="spread", connector="bitmart",
                             trading_pair="SHARP-USDT", status="stopped", params=SPREAD,
                             hummingbot_name="sharp_mm-20260101-000000")
    hummingbot.state.accounts.pop("client_sharp")  # a restarted sandbox: no account folder, no container
    hummingbot.state.bots.clear()
    response = panel.post(reverse("admin:bots_bot_action", args=[bot.pk, "start"]))
    assert "Hummingbot no longer has account client_sharp" in shown(response)
    assert "Recreate in Hummingbot" in shown(response)
    assert "No such file" not in shown(response) and Bot.objects.get().status == "stopped"


def test_api_create_for_a_lost_account_is_a_400_naming_the_account(api, upstream_account):
    get_client()._call("POST", "/accounts/delete-account", params={"account_name": upstream_account.name})
    response = api.post("/bots/create", {"name": "sharp_mm", "account": "client_sharp", "strategy": "spread",
                                         "connector": "bitmart", "pair": "SHARP-USDT", "params": SPREAD},
                        format="json")
    assert response.status_code == 400
    assert "Recreate in Hummingbot" in response.json()["error"]["details"]["account"][0]
    assert not Bot.objects.exists()


def test_account_page_says_hummingbot_lost_it_and_recreate_brings_it_back(panel, upstream_account):
    get_client()._call("POST", "/accounts/delete-account", params={"account_name": upstream_account.name})
    url = reverse("admin:bots_account_change", args=[upstream_account.pk])
    page = panel.get(url).content.decode()
    assert "Hummingbot no longer has account client_sharp" in page and "Recreate in Hummingbot" in page
    done = panel.post(reverse("admin:bots_account_recreate", args=[upstream_account.pk]))
    assert done.status_code == 302 and "enter its keys again" in shown(done)
    assert "client_sharp" in get_client().list_accounts()
    assert "Recreate in Hummingbot" not in panel.get(url).content.decode()


# --- delete ---------------------------------------------------------------------------------------------------------


def test_deleting_an_account_with_bots_says_it_still_has_bots(db, upstream_account):
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123")
    client = Client()
    client.force_login(admin)
    Bot.objects.create(name="b", account=upstream_account, strategy="spread", connector="bitmart",
                       trading_pair="SHARP-USDT", status="stopped")
    url = reverse("admin:bots_account_delete", args=[upstream_account.pk])
    for response in (client.get(url), client.post(url, {"post": "yes"})):
        assert response.status_code == 302
        assert "still has 1 bot(s)" in shown(response) and "permission" not in shown(response)
    assert Account.objects.filter(pk=upstream_account.pk).exists()


# --- balances -------------------------------------------------------------------------------------------------------


def test_account_page_shows_balances_per_connector_with_the_time_read(panel, upstream_account, hummingbot):
    hummingbot.state.portfolio.set_balance("client_sharp", "bitmart", "USDT", units=1234.5, available=1000.25)
    page = panel.get(reverse("admin:bots_account_change", args=[upstream_account.pk]))
    (connector, rows), = page.context["balances"]
    assert connector == "bitmart"
    usdt = next(row for row in rows if row.token == "USDT")
    assert (usdt.total, usdt.available, usdt.value) == (Decimal("1234.5"), Decimal("1000.25"), Decimal("1234.5"))
    assert page.context["balances_read_at"] is not None and "Refresh" in page.content.decode()


def test_refresh_reads_the_balances_again(panel, upstream_account, hummingbot):
    hummingbot.state.portfolio.set_balance("client_sharp", "bitmart", "USDT", units=10, available=10)
    url = reverse("admin:bots_account_change", args=[upstream_account.pk])
    panel.get(url)
    hummingbot.state.portfolio.set_balance("client_sharp", "bitmart", "USDT", units=20, available=5)
    assert usdt(panel.get(url)).total == Decimal("10")  # kept, not re-read per page
    refreshed = panel.post(reverse("admin:bots_account_balances"), {"next": url})
    assert refreshed["Location"] == url
    assert usdt(panel.get(url)).total == Decimal("20")


def usdt(page):
    (_, rows), = page.context["balances"]
    return next(row for row in rows if row.token == "USDT")


def test_available_balance_of_a_token_on_a_connector(upstream_account, hummingbot):
    hummingbot.state.portfolio.set_balance("client_sharp", "bitmart", "USDT", units=800, available=300)
    assert services.account_available(upstream_account, "bitmart", "USDT") == Decimal("300")
    assert services.account_available(upstream_account, "kucoin", "USDT") is None


def test_create_form_warns_when_the_budget_exceeds_what_the_account_has_available(panel, upstream_account, hummingbot):
    get_client().add_credentials("client_sharp", "bitmart", {"bitmart_api_key": "k", "bitmart_secret_key": "s",
                                                             "bitmart_memo": "m"})
    hummingbot.state.portfolio.set_balance("client_sharp", "bitmart", "USDT", units=800, available=300)
    warning = "The budget 500 USDT exceeds what client_sharp has available on bitmart: 300 USDT."
    asked = create(panel, confirm="")
    assert asked.status_code == 200 and warning in asked.content.decode() and not Bot.objects.exists()
    response = create(panel)  # confirmed: warned, never refused
    assert response.status_code == 302 and Bot.objects.filter(name="sharp_mm").exists()


@pytest.mark.parametrize("connector, reason", [("notanexchange", "is not one of Hummingbot's connectors"),
                                               ("jupiter", "its wallet is added in Gateway")])
def test_api_keys_for_a_connector_that_takes_none_are_a_400_naming_the_connector(api, upstream_account, connector,
                                                                                   reason):
    response = api.post(f"/accounts/client_sharp/credentials/{connector}", {"credentials": {"key": "k-1"}},
                        format="json")
    assert response.status_code == 400
    assert reason in str(response.json()["error"]["details"]["connector"])
