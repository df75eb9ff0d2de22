"""The bot page a desk reads without training (issue 10): a titled page, a status badge with its meaning,
performance cards and charts, parameters as a table, raw JSON only behind a toggle."""
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import responses
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from bots import services
from bots.admin.bots import _buttons_for
from bots.models import Bot, PerformanceSample
from bots.states import ARCHIVABLE
from bots.templatetags.bots_charts import MAX_POINTS, line_chart

pytestmark = pytest.mark.django_db

REPORT = {  # docs/hummingbot-api.md §2, tests/contracts/captured/bot-status_running.json
    "status": "running", "recently_active": True, "source": "mqtt",
    "performance": {"sharp_mm": {"status": "running", "custom_info": {}, "performance": {
        "realized_pnl_quote": 1.25, "unrealized_pnl_quote": -0.4, "global_pnl_quote": 0.85, "volume_traded": 1520.5}}},
    "error_logs": [{"level_name": "ERROR", "msg": "Order failed: insufficient balance", "timestamp": 1795632565.3}],
}


@pytest.fixture
def sharp_mm(account):
    return Bot.objects.create(
        name="sharp_mm", account=account, strategy="spread", connector="binance", trading_pair="BTC-USDT",
        status="stopped", hummingbot_name="sharp_mm-20260101-000000", status_synced_at=timezone.now(),
        upstream_status={**REPORT, "performance": {"sharp_mm": {"status": "running", "performance": {}}}},
        params={"order_amount": "0.01", "buy_spreads_pct": ["0.5", "1"], "sell_spreads_pct": ["0.5"],
                "budget_quote": "500", "inventory_skew_enabled": True, "price_floor": None},
    )


def page(panel, bot) -> str:
    return panel.get(reverse("admin:bots_bot_change", args=[bot.pk])).content.decode()


def test_bot_page_is_titled_with_the_bot_not_change_bot(panel, sharp_mm):
    html = page(panel, sharp_mm)
    assert "<title>Bot sharp_mm |" in html and "<h1>Bot sharp_mm</h1>" in html and "Change bot" not in html


def test_view_site_link_is_gone(panel, sharp_mm):
    assert "View site" not in page(panel, sharp_mm)


def test_stopped_bot_shows_what_stopped_means_and_no_raw_json_outside_the_toggle(panel, sharp_mm):
    html = page(panel, sharp_mm)
    assert 'data-bot-status="sharp_mm"' in html and "Not trading: the controller reports no figures" in html
    before_toggle = html.split('<details class="raw">')[0]
    assert '"status": "running"' not in before_toggle and "{&quot;" not in before_toggle
    assert "Network: None" not in html and "evm" not in before_toggle


def test_parameters_are_a_table_with_units_and_what_may_change_live(panel, sharp_mm):
    html = page(panel, sharp_mm)
    assert "<td>order amount <small>(order_amount)</small></td><td>0.01</td><td>base</td><td>yes</td>" in html
    assert "<td>budget <small>(budget_quote)</small></td><td>500</td><td>quote</td><td>no: stop first</td>" in html
    assert "<td>0.5, 1</td><td>%</td>" in html


def test_performance_cards_come_from_the_report_with_the_time_it_was_read(panel, sharp_mm):
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/status",
                 json={"status": "success", "data": {sharp_mm.hummingbot_name: REPORT}})
        services.bots_sync()
    html = page(panel, sharp_mm)
    for label, value in [("Realized PnL", "1.25"), ("Unrealized PnL", "-0.4"), ("Net PnL", "0.85"),
                         ("Volume traded", "1520.5")]:
        assert f'<span class="card-label">{label}</span><b>{value}</b>' in html
    assert "Hummingbot&#x27;s report, read <time" in html or "Hummingbot's report, read <time" in html
    assert "Order failed: insufficient balance" in html


def test_charts_of_net_pnl_and_volume_are_drawn_from_the_performance_samples(panel, sharp_mm):
    start = timezone.now() - timedelta(hours=2)
    PerformanceSample.objects.bulk_create(
        PerformanceSample(bot=sharp_mm, read_at=start + timedelta(hours=hour), realized_pnl_quote=0,
                          unrealized_pnl_quote=Decimal(net), net_pnl_quote=Decimal(net), volume_quote=Decimal(volume))
        for hour, net, volume in [(0, "-1.5", "200"), (1, "19.6", "420")])
    Bot.objects.filter(pk=sharp_mm.pk).update(perf_read_at=start + timedelta(hours=2),
                                              perf_net_pnl_quote=Decimal("19.6"), perf_volume_quote=Decimal("420"))
    html = page(panel, sharp_mm)
    assert html.count('<figure class="bot-chart"') == 2
    assert 'data-chart="volume-traded" data-last-value="420"' in html and "range 0 to 420 " in html
    assert 'data-chart="net-pnl" data-last-value="19.6"' in html and "range -1.5 to 19.6 " in html
    assert html.count("<circle") == 6  # two samples and the latest read of each figure


def test_bot_page_loads_the_live_status_script_from_static_files(panel, sharp_mm):
    html = page(panel, sharp_mm)
    assert 'src="/static/bots/live_status.js"' in html and 'data-live-status-url="/bots"' in html
    assert '<script id="status-meanings" type="application/json">' in html


def test_a_long_history_is_thinned_to_a_bounded_chart_that_ends_at_the_latest_value():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    points = [(start + timedelta(hours=i), Decimal(i)) for i in range(5000)]
    svg = line_chart(points, "Volume traded")
    assert svg.count("<circle") <= MAX_POINTS and "now 4999" in svg and 'data-last-value="4999"' in svg


def test_bot_page_names_the_controller_a_spread_bot_runs(panel, sharp_mm):
    row = page(panel, sharp_mm).split("<th>controller</th>")[1].split("</tr>")[0]
    assert "generic/pmm_v1" in row and "sha256" not in row


# --- Clone… -----------------------------------------------------------------------------------------------------


def clone_link(html: str) -> str | None:
    import re
    from html import unescape

    found = re.search(r'<a href="([^"]+)" class="button">Clone…</a>', html)
    return unescape(found.group(1)) if found else None


def ticked(form: str, name: str) -> bool:
    import re

    return re.search(f'<input type="checkbox" name="{name}"[^>]*>', form).group(0).endswith(" checked>")


def test_clone_opens_the_create_form_filled_with_the_bots_parameters_and_no_name(panel, sharp_mm, monkeypatch):
    from bots import services

    monkeypatch.setattr(services, "key_connectors", lambda: ["binance", "bitmart"])  # GET /connectors/, cached
    form = panel.get(clone_link(page(panel, sharp_mm))).content.decode()
    assert 'name="name" value=' not in form and '<input type="text" name="name"' in form  # a new name, required
    assert '<option value="client_sharp" selected>' in form
    assert '<option value="spread" selected>' in form and '<option value="binance" selected>' in form
    assert 'name="trading_pair" value="BTC-USDT"' in form
    assert 'name="spread-order_amount" value="0.01"' in form
    assert 'name="spread-buy_spreads_pct" value="0.5, 1"' in form
    assert 'name="spread-sell_spreads_pct" value="0.5"' in form
    assert 'name="spread-budget_quote" value="500"' in form
    assert ticked(form, "spread-inventory_skew_enabled")
    assert 'name="spread-price_floor" value=' not in form  # off stays blank


def test_clone_keeps_a_switched_off_option_off(panel, sharp_mm, monkeypatch):
    from bots import services

    monkeypatch.setattr(services, "key_connectors", lambda: ["binance"])
    Bot.objects.filter(pk=sharp_mm.pk).update(params={**sharp_mm.params, "inventory_skew_enabled": False})
    form = panel.get(clone_link(page(panel, sharp_mm))).content.decode()
    assert not ticked(form, "spread-inventory_skew_enabled")


def test_clone_is_offered_only_to_who_may_create_and_for_bots_made_here(client, django_user_model, sharp_mm, panel):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", password="pw-view-123", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__in=["view_bot", "change_bot"]))
    client.force_login(viewer)
    assert clone_link(page(client, sharp_mm)) is None
    adopted = Bot.objects.create(name="legacy", strategy="external", connector="binance", trading_pair="BTC-USDT",
                                 hummingbot_name="legacy-20260101-000000", status="running")
    assert clone_link(page(panel, adopted)) is None
    assert clone_link(page(panel, sharp_mm)) is not None


BUTTON = re.compile(r'<li data-buttons-of="sharp_mm" data-shown-for="([a-z_ ]*)"( hidden)?>.*?data-action="(\w+)"',
                    re.DOTALL)


@pytest.mark.parametrize("status", Bot.Status.values)
def test_the_page_draws_every_button_with_the_statuses_it_is_for_and_shows_those_of_the_bots_status(
        panel, sharp_mm, status):
    """The live status shows and hides them (bots/static/bots/live_status.js); which status gets which button is
    decided once, by _buttons_for."""
    Bot.objects.filter(pk=sharp_mm.pk).update(status=status)
    buttons = BUTTON.findall(page(panel, sharp_mm))
    shown_for = {action: statuses.split() for statuses, _, action in buttons}
    assert list(shown_for) == ["start", "stop", "archive", "sync"]
    for each in Bot.Status.values:
        drawn = [action for action, statuses in shown_for.items() if each in statuses]
        assert drawn == _buttons_for(each, archivable=each in ARCHIVABLE), each
    visible = [action for _, hidden, action in buttons if not hidden]
    assert visible == _buttons_for(status, archivable=status in ARCHIVABLE)


def test_a_deploy_past_its_grace_period_shows_archive_as_the_rule_says(panel, sharp_mm):
    Bot.objects.filter(pk=sharp_mm.pk).update(status="deploying", updated_at=timezone.now() - timedelta(hours=1))
    visible = [action for _, hidden, action in BUTTON.findall(page(panel, sharp_mm)) if not hidden]
    assert visible == ["archive", "sync"]


def test_change_parameters_is_drawn_for_the_statuses_that_take_live_changes(panel, sharp_mm):
    html = page(panel, sharp_mm)
    assert re.search(r'<li data-buttons-of="sharp_mm" data-shown-for="running idle" hidden>\s*<a href="[^"]+/params/"',
                     html)


def test_a_viewer_gets_no_button_even_hidden(django_user_model, sharp_mm):
    from django.contrib.auth.models import Permission
    from django.test import Client

    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_bot"))
    client = Client()
    client.force_login(viewer)
    Bot.objects.filter(pk=sharp_mm.pk).update(status="running")
    html = page(client, sharp_mm)
    assert "data-buttons-of" not in html and "Change parameters" not in html
