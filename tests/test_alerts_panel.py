"""Alerts where staff are: the API (`GET /alerts`, `POST /alerts/{id}/acknowledge`), the panel's inbox with its
counts in the header, Acknowledge as an audited POST, and the open alerts on a bot's page."""
import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from bots.models import Alert, Bot, BotEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot(account):
    return Bot.objects.create(name="sharp_mm", hummingbot_name="sharp_mm-20261125-184210", account=account,
                              strategy="spread", connector="bitmart", trading_pair="SHARP-USDT", status="not_found")


def alert(bot=None, rule="bot_down", subject=None, **fields) -> Alert:
    return Alert.objects.create(rule=rule, subject=subject or (f"bot {bot.name}" if bot else "server default"),
                                severity="critical", message=f"Bot {bot.name if bot else '?'} is not_found.", bot=bot,
                                account=bot.account if bot else None, opened_at=timezone.now(), **fields)


def test_the_api_lists_alerts_by_state_and_bot(api, bot):
    now = timezone.now()
    opened = alert(bot)
    acknowledged = alert(bot, rule="no_fill", acknowledged_at=now, acknowledged_by_name="desk")
    resolved = alert(bot, rule="stopped_unasked", resolved_at=now, resolution="Bot sharp_mm is now running.")
    server = alert(rule="server_down")
    listed = api.get("/alerts").json()["results"]
    assert [row["id"] for row in listed] == [server.pk, resolved.pk, acknowledged.pk, opened.pk]
    assert listed[3] == {**listed[3], "rule": "bot_down", "subject": "bot sharp_mm", "severity": "critical",
                         "state": "open", "bot": "sharp_mm", "account": "client_sharp", "acknowledged_by": ""}
    assert [row["id"] for row in api.get("/alerts?state=open").json()["results"]] == [server.pk, opened.pk]
    assert [row["id"] for row in api.get("/alerts?state=acknowledged").json()["results"]] == [acknowledged.pk]
    assert [row["state"] for row in api.get("/alerts?state=resolved").json()["results"]] == ["resolved"]
    assert len(api.get("/alerts?bot=sharp_mm").json()["results"]) == 3
    refused = api.get("/alerts?state=closed")
    assert refused.status_code == 400 and refused.json()["error"]["message"].startswith("state:")
    assert api.get("/alerts?bot=nobody").status_code == 404


def test_acknowledge_by_post_is_named_audited_and_said_once(api, bot, operator):
    opened = alert(bot)
    answer = api.post(f"/alerts/{opened.pk}/acknowledge")
    assert answer.status_code == 200
    assert answer.json()["state"] == "acknowledged" and answer.json()["acknowledged_by"] == "desk"
    event = BotEvent.objects.get(action="alert")
    assert (event.bot, event.actor, event.detail) == (bot, "desk", "alert acknowledged: Bot in error or not found (bot sharp_mm)")
    again = api.post(f"/alerts/{opened.pk}/acknowledge")
    assert again.status_code == 409 and again.json()["error"]["message"] == f"Alert #{opened.pk} is already acknowledged by desk."
    resolved = alert(bot, rule="no_fill", resolved_at=timezone.now())
    assert api.post(f"/alerts/{resolved.pk}/acknowledge").status_code == 409
    for missing in ("999999", "abc", "-1", "9" * 40):
        response = api.post(f"/alerts/{missing}/acknowledge")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_reading_alerts_needs_view_alert_and_acknowledging_change_alert(django_user_model, bot):
    opened = alert(bot)
    user = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/alerts").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_alert"))
    user = django_user_model.objects.get(pk=user.pk)
    client.force_authenticate(user)
    assert client.get("/alerts").status_code == 200
    assert client.post(f"/alerts/{opened.pk}/acknowledge").status_code == 403
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(user)
    assert session.post(f"/alerts/{opened.pk}/acknowledge").status_code == 403
    assert Alert.objects.get().acknowledged_at is None


def test_the_schema_documents_the_alert_endpoints(admin_client):
    schema = admin_client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    assert {"/alerts", "/alerts/{alert_id}/acknowledge"} <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/alerts"]["get"]["parameters"]}
    assert {"state", "bot", "cursor"} <= parameters
    assert "409" in schema["paths"]["/alerts/{alert_id}/acknowledge"]["post"]["responses"]


def test_the_header_counts_unresolved_alerts_and_opens_the_inbox(panel, bot):
    alert(bot)
    alert(bot, rule="no_fill", acknowledged_at=timezone.now(), acknowledged_by_name="desk")
    alert(bot, rule="stopped_unasked", resolved_at=timezone.now())
    page = panel.get(reverse("admin:index")).content.decode()
    assert '<a href="/admin/bots/alert/?state=open" id="alert-counts">Alerts: 1 open, 1 acknowledged</a>' in page
    inbox = panel.get("/admin/bots/alert/?state=open").content.decode()
    assert "Bot sharp_mm is not_found." in inbox and inbox.count('class="status-badge alert-critical"') == 1


def test_acknowledge_in_the_inbox_is_a_post_that_names_the_user(panel, bot, operator):
    opened = alert(bot)
    inbox = panel.get("/admin/bots/alert/").content.decode()
    url = reverse("admin:bots_alert_acknowledge", args=[opened.pk])
    assert f'formaction="{url}"' in inbox
    assert panel.get(url).status_code == 405
    csrf_checked = Client(enforce_csrf_checks=True)
    csrf_checked.force_login(operator)
    assert csrf_checked.post(url).status_code == 403
    answer = panel.post(url, {"next": "/admin/bots/alert/"}, follow=True)
    assert answer.redirect_chain == [("/admin/bots/alert/", 302)]
    assert f"Alert #{opened.pk} acknowledged by desk" in answer.content.decode()
    opened.refresh_from_db()
    assert opened.state == "acknowledged" and opened.acknowledged_by == operator
    assert panel.post(url, {"next": "https://elsewhere.example/"}).url == reverse("admin:bots_alert_change",
                                                                                 args=[opened.pk])
    assert "already acknowledged by desk" in panel.post(url, follow=True).content.decode()


def test_a_bots_page_shows_its_open_alerts_with_acknowledge(panel, bot):
    opened = alert(bot)
    alert(bot, rule="no_fill", resolved_at=timezone.now())
    page = panel.get(reverse("admin:bots_bot_change", args=[bot.pk])).content.decode()
    assert "Open alerts" in page and "Bot sharp_mm is not_found." in page
    assert reverse("admin:bots_alert_acknowledge", args=[opened.pk]) in page
    assert "No fill" not in page
    quiet = Bot.objects.create(name="quiet", account=bot.account, strategy="spread", connector="bitmart",
                               trading_pair="SHARP-USDT", status="running")
    assert "Open alerts" not in panel.get(reverse("admin:bots_bot_change", args=[quiet.pk])).content.decode()


def test_an_alerts_page_acknowledges_and_is_read_only(panel, bot):
    opened = alert(bot)
    url = reverse("admin:bots_alert_change", args=[opened.pk])
    page = panel.get(url).content.decode()
    assert "Acknowledge</button>" in page and 'name="_save"' not in page
    panel.post(reverse("admin:bots_alert_acknowledge", args=[opened.pk]), {"next": url})
    assert "Acknowledge</button>" not in panel.get(url).content.decode()
    panel.post(url, {"message": "changed"})  # every field is read-only
    assert Alert.objects.get().message == "Bot sharp_mm is not_found."


@pytest.mark.parametrize("count", [2, 200])
def test_the_alert_list_takes_the_same_queries_however_many_alerts(api, bot, count, django_assert_max_num_queries):
    Alert.objects.bulk_create(Alert(rule="no_fill", subject=f"bot b{i}", severity="warning", message="m", bot=bot,
                                    account=bot.account, opened_at=timezone.now()) for i in range(count))
    with django_assert_max_num_queries(2 + 1 + 1):  # permissions (2), the page, the read throttle's count
        assert len(api.get("/alerts").json()["results"]) == min(count, 100)
